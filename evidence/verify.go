package evidence

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/cairn-ledger/cairn/ledger"
	"github.com/cairn-ledger/cairn/ledger/witness"
)

// VerifyOptions controls Book.Verify.
type VerifyOptions struct {
	Since    []byte           // an earlier checkpoint note the ledger must extend
	Progress func(done int64) // records read so far
	FileDone func(done, total int)
	// Trust is what the verifier trusts (LoadTrust); nil trusts nothing:
	// tokens and cosignatures are checked but reported as unchecked.
	Trust *Trust
	// All goes on after a problem and reports every one (cairn verify --all).
	All bool
}

// VerifyReport describes a book that verified.
type VerifyReport struct {
	Ledger *ledger.VerifyReport
	Rules  *RuleBook // what the signed records say: keys, their holders, assets
	Assets int
	Files  int   // distinct stored files re-hashed
	Bytes  int64 // their total size
	Steps  map[string]int

	Times        []TrustedTime // from the stored timestamp tokens, by checkpoint size
	Cosignatures []CheckedCosignature
	Studio       []CheckedStudioProof // studio log proofs of the cosignatures
	Pending      []int64              // checkpoints still waiting for a timestamp (an unreachable TSA)
	// PendingProofs are cosignatures whose studio log proof is still to fetch.
	PendingProofs []PendingProof
	// Pinned says whether the ledger's checkpoints are signed by keys the
	// verifier pinned (Trust.Keys) or rotated from them; false when none is
	// pinned for this ledger.
	Pinned bool
	// Retracted maps each retracted record to the retraction that names it.
	Retracted map[int64]int64
}

// CheckedCosignature is a stored witness cosignature and what verification found.
type CheckedCosignature struct {
	Size    int64
	Witness string
	Time    time.Time // the time the witness states, if checked
	Checked bool      // false: the verifier trusts no key of this witness
	Anchor  Anchor    // where the witness key came from, if checked
}

// Verify checks the ledger (every record, the tree, the checkpoints and
// opts.Since), and feeds every record through a rule book (the domain's rules:
// strict steps, keys introduced and not retired, assets created before use).
// Then it checks the attestations against the verifier's trust, re-hashes every
// stored file a step names, and compares the cache with the signed records. The
// first problem is returned as a *ledger.VerifyError.
func (b *Book) Verify(opts VerifyOptions) (*VerifyReport, error) {
	trust := opts.Trust
	if trust == nil {
		trust = &Trust{}
	}
	rb := NewRuleBook(b.ReadRecord)
	rep := &VerifyReport{Rules: rb, Steps: map[string]int{}}
	stamps, err := b.attestedSizes()
	if err != nil {
		return nil, err
	}
	lastTime := map[int64]time.Time{} // the time of the last record below each attested size
	check := func(r *ledger.Record) error {
		s, err := rb.Apply(r)
		if err != nil {
			return err
		}
		if stamps[r.Seq+1] {
			lastTime[r.Seq+1] = r.Time
		}
		rep.Steps[s.Kind]++
		return nil
	}
	probs := ledger.NewProblems(opts.All)
	lr, err := b.Ledger.Verify(ledger.VerifyOptions{Since: opts.Since, Progress: opts.Progress, CheckRecord: check,
		CheckpointSigners: rb.CheckpointSigners, KnownKeys: rb.AllKeys, All: opts.All})
	if ve, ok := err.(*ledger.VerifyError); ok {
		for _, e := range ve.All() {
			if e.Checkpoint != nil {
				e.Problem += rb.whyNotSigner(e.Checkpoint)
			}
		}
		if probs.Add(ve) || lr == nil {
			return nil, probs.Err()
		}
	} else if err != nil {
		return nil, err
	}
	rep.Ledger = lr
	rep.Retracted = rb.Retracted()
	rep.Assets = len(rb.Assets())
	var perr error
	if rep.Pinned, perr = checkPinned(rb, trust, lr); perr != nil && probs.Add(perr) {
		return nil, probs.Err()
	}
	if rep.Times, err = b.verifyTimestamps(trust.TSA, lastTime, probs); err != nil || probs.Err() != nil && !opts.All {
		return nil, errors.Join(err, probs.Err())
	}
	if rep.Cosignatures, err = b.verifyCosignatures(trust, lastTime, probs); err != nil || probs.Err() != nil && !opts.All {
		return nil, errors.Join(err, probs.Err())
	}
	if rep.Studio, err = b.verifyStudioProofs(trust, lastTime); err != nil {
		return nil, err
	}
	if rep.PendingProofs, err = b.PendingProofs(); err != nil {
		return nil, err
	}
	// Checkpoints wait for a timestamp only where a TSA is set to give one.
	if cfg, err := ReadConfig(b.Dir); err == nil && cfg.TSA != nil && cfg.TSA.URL != "" {
		if rep.Pending, err = b.PendingTimestamps(); err != nil {
			return nil, err
		}
	}
	uses := rb.Files()
	for i, u := range uses {
		if err := b.Files.Check(u.Ref); err != nil {
			if probs.Add(&ledger.VerifyError{Seq: u.Seq, Problem: err.Error()}) {
				return nil, probs.Err()
			}
			continue
		}
		rep.Files++
		rep.Bytes += u.Ref.Size
		if opts.FileDone != nil {
			opts.FileDone(i+1, len(uses))
		}
	}
	// The cache is compared only with a ledger that verified: one that could
	// not be read to its end cannot agree with it, and says nothing more.
	if probs.Err() == nil {
		if err := b.checkCache(rb, lr.Size); err != nil {
			return nil, err
		}
	}
	if err := probs.Err(); err != nil {
		return rep, err
	}
	return rep, nil
}

// checkPinned checks, when the verifier pinned keys for this ledger, that every
// stored checkpoint is signed by a pinned key or one rotated from it.
func checkPinned(rb *RuleBook, trust *Trust, lr *ledger.VerifyReport) (bool, error) {
	pinned, err := trust.PinnedKeys(lr.Origin)
	if err != nil || len(pinned) == 0 {
		return false, err
	}
	for _, c := range lr.Checkpoints {
		ok := false
		for _, k := range rb.CheckpointSigners(c.Size) {
			if _, err := ledger.OpenCheckpoint(c.Note, k); err == nil && rb.DescendsFrom(k, pinned) {
				ok = true
			}
		}
		if !ok {
			return false, &ledger.VerifyError{Seq: -1, Problem: fmt.Sprintf("the checkpoint of %d records is not signed by a key you pinned (or one rotated from it)", c.Size)}
		}
	}
	for _, k := range rb.Keys() {
		if rb.DescendsFrom(k.Key, pinned) {
			return true, nil
		}
	}
	return false, &ledger.VerifyError{Seq: -1, Problem: "no key of this ledger is a key you pinned, or rotated from one: it is not the ledger you expect"}
}

// attestedSizes lists the checkpoint sizes that have a timestamp token or a
// cosignature: verification needs the time of each one's last record.
func (b *Book) attestedSizes() (map[int64]bool, error) {
	toks, err := b.Ledger.Timestamps()
	if err != nil {
		return nil, err
	}
	cos, err := b.Ledger.Cosignatures()
	if err != nil {
		return nil, err
	}
	out := map[int64]bool{}
	for s := range toks {
		out[s] = true
	}
	for _, c := range cos {
		out[c.Size] = true
	}
	return out, nil
}

// verifyCosignatures checks each stored cosigned checkpoint against the witness
// keys the verifier trusts. A cosignature by a witness not trusted is listed as
// unchecked, never as valid.
func (b *Book) verifyCosignatures(trust *Trust, lastTime map[int64]time.Time, probs *ledger.Problems) ([]CheckedCosignature, error) {
	stored, err := b.Ledger.Cosignatures()
	if err != nil {
		return nil, err
	}
	var out []CheckedCosignature
	for _, c := range stored {
		cc := CheckedCosignature{Size: c.Size, Witness: c.Witness}
		if err := witness.HasCosignatureLine(c.Note, c.Witness); err != nil {
			if probs.Add(&ledger.VerifyError{Seq: -1, Problem: fmt.Sprintf("the stored cosignature of witness %s on the checkpoint of %d records: %v", c.Witness, c.Size, err)}) {
				return nil, nil
			}
			continue
		}
		if a, ok := trust.Witness(c.Witness); ok {
			v, _ := witness.NewVerifier(a.VKey) // LoadTrust parsed it
			t, err := witness.CosignedAt(c.Note, v)
			if err == nil {
				err = ledger.CheckAttestedTime("witness "+c.Witness+"'s cosignature", t, c.Size, lastTime[c.Size])
			}
			if err != nil {
				if probs.Add(&ledger.VerifyError{Seq: -1, Problem: fmt.Sprintf("cosignature of witness %s on the checkpoint of %d records: %v", c.Witness, c.Size, err)}) {
					return nil, nil
				}
				continue
			}
			cc.Time, cc.Checked, cc.Anchor = t, true, a
		}
		out = append(out, cc)
	}
	return out, nil
}

// checkCache compares the cache (index.json) with what the signed records say.
// The cache only finds things; a cache that disagrees was changed by someone or
// something, and must not be used.
func (b *Book) checkCache(rb *RuleBook, size int64) error {
	want := newIndex()
	want.Size = size
	for _, a := range rb.Assets() {
		want.Assets[a.ID] = a
	}
	for _, k := range rb.Keys() {
		hk := fmt.Sprintf("%x", []byte(k.Key))
		want.Keys[hk] = k.Introduced
		want.Names[hk] = k.Name
		if k.Retired >= 0 {
			if want.Retired == nil {
				want.Retired = map[string]int64{}
			}
			want.Retired[hk] = k.Retired
		}
	}
	have := *b.idx
	want.Head = have.Head
	if diff := indexDiff(&have, want); diff != "" {
		return &ledger.VerifyError{Seq: -1, Problem: fmt.Sprintf("the cache %s disagrees with the signed records (%s). It is not evidence and nothing was printed from it; delete it and cairn rebuilds it from the ledger", b.indexPath(), diff)}
	}
	return nil
}

// indexDiff names the first difference between two caches, or "".
func indexDiff(have, want *index) string {
	enc := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	if have.Size != want.Size {
		return fmt.Sprintf("it covers %d records, the ledger has %d", have.Size, want.Size)
	}
	ids := map[string]bool{}
	for id := range have.Assets {
		ids[id] = true
	}
	for id := range want.Assets {
		ids[id] = true
	}
	sorted := make([]string, 0, len(ids))
	for id := range ids {
		sorted = append(sorted, id)
	}
	sort.Strings(sorted)
	for _, id := range sorted {
		h, w := have.Assets[id], want.Assets[id]
		switch {
		case h == nil:
			return fmt.Sprintf("asset %q is missing from it", id)
		case w == nil:
			return fmt.Sprintf("it names asset %q, which no record creates", id)
		case enc(h) != enc(w):
			return fmt.Sprintf("asset %q: it says %s, the records say %s", id, enc(h), enc(w))
		}
	}
	for _, f := range []struct {
		name       string
		have, want any
	}{{"keys", have.Keys, want.Keys}, {"key holders", have.Names, want.Names}, {"retired keys", nonNil(have.Retired), nonNil(want.Retired)}} {
		if !bytes.Equal([]byte(enc(f.have)), []byte(enc(f.want))) {
			return fmt.Sprintf("its %s are %s, the records say %s", f.name, enc(f.have), enc(f.want))
		}
	}
	return ""
}

func nonNil(m map[string]int64) map[string]int64 {
	if m == nil {
		return map[string]int64{}
	}
	return m
}
