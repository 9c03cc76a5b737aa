package studio

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/cairn-ledger/cairn/ledger"
	"github.com/cairn-ledger/cairn/ledger/witness"
)

// A Sighting is one entry of a studio log: a checkpoint of one ledger (or any
// log the witness follows) that the witness cosigned or, as evidence, refused.
type Sighting struct {
	Index int64     `json:"index"` // the entry's index in the studio log
	Size  int64     `json:"size"`
	Root  tlog.Hash `json:"root"`
	// Cosigned: the entry carries a witness's cosignature. Checked: it was
	// verified with a witness key the reader trusts (Witness, Time); without
	// such keys, any signature not by the ledger's own key name counts, as
	// unchecked.
	Cosigned bool      `json:"cosigned"`
	Checked  bool      `json:"checked"`
	Witness  string    `json:"witness,omitempty"`
	Time     time.Time `json:"time,omitzero"`
}

// An Alert is evidence in the studio log that a ledger's owner showed two
// histories: two roots at one size (a fork), or a checkpoint smaller than one
// the witness had already cosigned (a size going back).
type Alert struct {
	Origin string `json:"origin"`
	Kind   string `json:"kind"` // "fork" or "rollback"
	// The entry that contradicts an earlier one, and that earlier one.
	Entry Sighting `json:"entry"`
	Prior Sighting `json:"prior"`
}

// A BadEntry is an entry that is not a checkpoint note.
type BadEntry struct {
	Index   int64  `json:"index"`
	Problem string `json:"problem"`
}

// A View is what a studio log says, read whole and checked.
type View struct {
	Log        string             `json:"log"`
	Checkpoint *ledger.Checkpoint `json:"-"`
	Size       int64              `json:"size"`
	Root       tlog.Hash          `json:"root"`
	// Signed: the log's checkpoint is signed by the studio key the reader
	// gave; false when none was given (its signature is then unchecked).
	Signed bool `json:"signed"`
	// Cosigners are the witnesses, among those the reader trusts, that
	// cosigned the log's checkpoint, with the times they state.
	Cosigners map[string]time.Time `json:"cosigners,omitempty"`
	// Timestamped is the newest timestamped checkpoint of the log, proven a
	// prefix of the whole (its root is the root of that many entries).
	Timestamped *Timestamped `json:"-"`
	// Ledgers are the sightings of each log, in studio log order; Origins
	// the logs in the order they first appear.
	Ledgers map[string][]Sighting `json:"ledgers"`
	Origins []string              `json:"origins"`
	Alerts  []Alert               `json:"alerts,omitempty"`
	Bad     []BadEntry            `json:"bad_entries,omitempty"`
}

// ErrBadLog is wrapped when the log's files contradict its own checkpoint.
var ErrBadLog = errors.New("the studio log does not verify")

// Read reads the whole studio log from src and checks it: its checkpoint is
// signed by studioKey (if given), the root of its entries is the checkpoint's,
// the newest timestamped checkpoint is a prefix of it, and each entry's
// cosignature verifies with one of witnesses (if given). Then it sorts the
// entries by ledger and flags forks and sizes going back. progress, if set, is
// told how many entries were read.
func Read(ctx context.Context, src *Source, studioKey note.Verifier, witnesses []note.Verifier, progress func(int64)) (*View, error) {
	ts, err := src.Timestamped(ctx)
	if err != nil {
		return nil, err
	}
	if ts != nil && ts.Checkpoint == nil {
		ts = nil // timestamped, but no token yet
	}
	cp, err := src.Checkpoint(ctx)
	if err != nil {
		return nil, err
	}
	v := &View{Log: cp.Origin, Checkpoint: cp, Size: cp.Size, Root: cp.Root, Ledgers: map[string][]Sighting{}}
	ws := note.VerifierList(witnesses...)
	open := func(text []byte, what string) error {
		vs := append([]note.Verifier{studioKey}, witnesses...)
		if studioKey == nil {
			vs = witnesses
		}
		n, err := note.Open(text, note.VerifierList(vs...))
		var unverified *note.UnverifiedNoteError
		switch {
		case errors.As(err, &unverified) && studioKey == nil:
			return nil
		case err != nil:
			return fmt.Errorf("%w: %s: %v", ErrBadLog, what, err)
		}
		if studioKey == nil {
			return nil
		}
		for _, s := range n.Sigs {
			if s.Name == studioKey.Name() && s.Hash == studioKey.KeyHash() {
				return nil
			}
		}
		return fmt.Errorf("%w: %s is not signed by the studio key", ErrBadLog, what)
	}
	if studioKey != nil && cp.Origin != studioKey.Name() {
		return nil, fmt.Errorf("%w: the log at %s is %q, the studio key is for %q", ErrBadLog, src.Where, cp.Origin, studioKey.Name())
	}
	if err := open(cp.Note, "its checkpoint"); err != nil {
		return nil, err
	}
	v.Signed = studioKey != nil
	for _, w := range witnesses {
		if t, err := witness.CosignedAt(cp.Note, w); err == nil {
			if v.Cosigners == nil {
				v.Cosigners = map[string]time.Time{}
			}
			v.Cosigners[w.Name()] = t
		}
	}
	if ts != nil {
		if ts.Checkpoint.Origin != cp.Origin || ts.Checkpoint.Size > cp.Size {
			return nil, fmt.Errorf("%w: its timestamped checkpoint (%q, %d entries) is not of this log of %d", ErrBadLog, ts.Checkpoint.Origin, ts.Checkpoint.Size, cp.Size)
		}
		if err := open(ts.Checkpoint.Note, fmt.Sprintf("its timestamped checkpoint of %d entries", ts.Checkpoint.Size)); err != nil {
			return nil, err
		}
		v.Timestamped = ts
	}

	type seen struct {
		root  tlog.Hash
		first Sighting
	}
	bySize := map[string]map[int64]seen{}
	maxCosigned := map[string]Sighting{}
	forks := map[string]bool{}
	var tree ledger.TreeBuilder
	err = src.Entries(ctx, cp.Size, func(index int64, entry []byte) error {
		tree.Add(entry)
		if ts != nil && tree.Size() == ts.Checkpoint.Size && tree.Root() != ts.Checkpoint.Root {
			return fmt.Errorf("%w: the root of its first %d entries is not its timestamped checkpoint's", ErrBadLog, ts.Checkpoint.Size)
		}
		if progress != nil && index%256 == 255 {
			progress(index + 1)
		}
		c, err := ledger.ParseCheckpoint(entry)
		if err != nil {
			v.Bad = append(v.Bad, BadEntry{Index: index, Problem: err.Error()})
			return nil
		}
		s := Sighting{Index: index, Size: c.Size, Root: c.Root}
		if len(witnesses) > 0 {
			if n, err := note.Open(entry, ws); err == nil && len(n.Sigs) > 0 {
				s.Cosigned, s.Checked, s.Witness = true, true, n.Sigs[0].Name
				for _, w := range witnesses {
					if w.Name() == s.Witness {
						s.Time, _ = witness.CosignedAt(entry, w)
					}
				}
			}
		} else {
			_, err := note.Open(entry, note.VerifierList())
			for _, sig := range unverifiedSigs(err) {
				if sig.Name != c.Origin {
					s.Cosigned, s.Witness = true, sig.Name
				}
			}
		}
		o := c.Origin
		if _, ok := v.Ledgers[o]; !ok {
			v.Origins = append(v.Origins, o)
			bySize[o] = map[int64]seen{}
		}
		v.Ledgers[o] = append(v.Ledgers[o], s)
		if prior, ok := bySize[o][c.Size]; ok && prior.root != c.Root {
			key := fmt.Sprintf("%s %d %x", o, c.Size, c.Root)
			if !forks[key] {
				forks[key] = true
				v.Alerts = append(v.Alerts, Alert{Origin: o, Kind: "fork", Entry: s, Prior: prior.first})
			}
		} else if !ok {
			bySize[o][c.Size] = seen{root: c.Root, first: s}
		}
		m, ok := maxCosigned[o]
		if ok && c.Size < m.Size {
			v.Alerts = append(v.Alerts, Alert{Origin: o, Kind: "rollback", Entry: s, Prior: m})
		}
		if s.Cosigned && (!ok || c.Size > m.Size) {
			maxCosigned[o] = s
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if progress != nil {
		progress(cp.Size)
	}
	if tree.Root() != cp.Root {
		return nil, fmt.Errorf("%w: the root of its %d entries is not the root its checkpoint states", ErrBadLog, cp.Size)
	}
	return v, nil
}

// unverifiedSigs returns the signatures of a note none of whose signers is
// known, from note.Open's error.
func unverifiedSigs(err error) []note.Signature {
	var u *note.UnverifiedNoteError
	if errors.As(err, &u) {
		return u.Note.UnverifiedSigs
	}
	return nil
}
