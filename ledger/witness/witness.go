package witness

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
	"golang.org/x/sys/unix"

	"github.com/cairn-ledger/cairn/internal/userfile"
	"github.com/cairn-ledger/cairn/ledger"
)

// Errors Cosign wraps, for callers that react to a refusal by kind.
var (
	ErrUnknownLog   = errors.New("witness does not follow this log")
	ErrUntrusted    = errors.New("checkpoint is not signed by a key the witness trusts")
	ErrRollback     = errors.New("checkpoint is older than one the witness cosigned")
	ErrFork         = errors.New("checkpoint contradicts one the witness cosigned")
	ErrInconsistent = errors.New("checkpoint is not proven to extend the one the witness cosigned")
)

// stateVersion is the version of the state file format.
const stateVersion = 1

// maxNoteSize bounds a checkpoint note: a few short lines and signatures.
const maxNoteSize = 64 << 10

// maxStateSize bounds the state file, which holds one small entry per log.
const maxStateSize = 16 << 20

// State is what a witness remembers, stored as JSON (FORMAT.md §3.2, "Witness state").
type State struct {
	Version int             `json:"version"`
	Logs    map[string]*Log `json:"logs"` // by checkpoint origin
}

// Log is a witness's state for one log.
type Log struct {
	// Keys are the signed-note verifier keys (Ed25519, "name+hash+key") whose
	// signature makes a checkpoint of this log acceptable. Added by AddLog only.
	Keys []string `json:"keys"`

	// Size and Root are the largest checkpoint the witness cosigned; Checkpoint
	// is that note as received, with the log's signatures. A new checkpoint must
	// extend it. All three are empty until the first cosignature.
	Size       int64     `json:"size"`
	Root       tlog.Hash `json:"root"`
	Checkpoint string    `json:"checkpoint,omitempty"`

	// Time is the Unix time of the witness's latest cosignature for this log.
	Time int64 `json:"time,omitempty"`
}

// ParseState parses and checks a state file.
func ParseState(data []byte) (*State, error) {
	if len(data) > maxStateSize {
		return nil, fmt.Errorf("witness state: %d bytes is too large", len(data))
	}
	var s State
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("witness state: %v", err)
	}
	if dec.More() {
		return nil, errors.New("witness state: trailing data")
	}
	if s.Version != stateVersion {
		return nil, fmt.Errorf("witness state: version %d, want %d", s.Version, stateVersion)
	}
	if s.Logs == nil {
		s.Logs = map[string]*Log{}
	}
	for origin, l := range s.Logs {
		if err := l.check(origin); err != nil {
			return nil, fmt.Errorf("witness state: log %q: %v", origin, err)
		}
	}
	return &s, nil
}

func (l *Log) check(origin string) error {
	if l == nil {
		return errors.New("no entry")
	}
	if !ledger.ValidOrigin(origin) {
		return errors.New("invalid origin")
	}
	if len(l.Keys) == 0 {
		return errors.New("no keys")
	}
	for _, k := range l.Keys {
		if _, err := note.NewVerifier(k); err != nil {
			return fmt.Errorf("key %q: %v", k, err)
		}
	}
	if l.Time < 0 {
		return errors.New("negative time")
	}
	if l.Checkpoint == "" {
		if l.Size != 0 || l.Root != (tlog.Hash{}) || l.Time != 0 {
			return errors.New("size, root or time without a checkpoint")
		}
		return nil
	}
	c, err := ledger.ParseCheckpoint([]byte(l.Checkpoint))
	if err != nil {
		return err
	}
	if c.Origin != origin || c.Size != l.Size || c.Root != l.Root {
		return errors.New("checkpoint does not match size and root")
	}
	return nil
}

// Marshal encodes the state as indented JSON, logs sorted by origin.
func (s *State) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(s, "", "\t")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// A Witness cosigns checkpoints of the logs it follows, keeping its state in one
// file. Every operation rereads the file under an exclusive lock, so several
// processes may share a witness without one cosigning a fork of what another
// cosigned.
type Witness struct {
	path     string
	cosigner *Cosigner
	now      func() time.Time
	mu       sync.Mutex
}

// Open returns a witness that keeps its state in the file at path (created on
// first change) and cosigns with c.
func Open(path string, c *Cosigner) (*Witness, error) {
	w := &Witness{path: path, cosigner: c, now: time.Now}
	if _, err := w.read(); err != nil {
		return nil, err
	}
	return w, nil
}

// SetClock replaces the clock that dates cosignatures, for tests.
func (w *Witness) SetClock(now func() time.Time) { w.now = now }

// Cosigner returns the witness's cosigner.
func (w *Witness) Cosigner() *Cosigner { return w.cosigner }

// State returns the witness's current state.
func (w *Witness) State() (*State, error) {
	var s *State
	err := w.update(func(st *State) (bool, error) { s = st; return false, nil })
	return s, err
}

// AddLog makes the witness trust checkpoints of the log origin signed by the
// signed-note verifier key vkey. Trust is never taken from a checkpoint itself:
// only AddLog adds keys. Adding a second key to a log (a rotation) keeps the
// first and the log's cosigned state.
func (w *Witness) AddLog(origin, vkey string) error {
	if !ledger.ValidOrigin(origin) {
		return fmt.Errorf("witness: invalid log origin %q", origin)
	}
	if _, err := note.NewVerifier(vkey); err != nil {
		return fmt.Errorf("witness: log key %q: %v", vkey, err)
	}
	return w.update(func(s *State) (bool, error) {
		l := s.Logs[origin]
		if l == nil {
			l = &Log{}
			s.Logs[origin] = l
		}
		if slices.Contains(l.Keys, vkey) {
			return false, nil
		}
		l.Keys = append(l.Keys, vkey)
		return true, nil
	})
}

// Cosign cosigns text, a checkpoint note, and returns it with the witness's
// cosignature line added (replacing an earlier one by the same witness).
//
// It refuses unless a key given to AddLog for the checkpoint's origin signed the
// note, and the checkpoint extends the largest one the witness cosigned for that
// log: proof is the consistency proof from that size to this one (tlog.ProveTree).
// No proof is needed for the first checkpoint, or to cosign the same checkpoint
// again. A smaller size is a rollback, the same size with another root a fork.
//
// The new state is on disk before the cosignature is returned, so the witness
// can never have signed something it does not remember.
func (w *Witness) Cosign(text []byte, proof tlog.TreeProof) ([]byte, error) {
	if len(text) > maxNoteSize {
		return nil, fmt.Errorf("witness: checkpoint note of %d bytes is too large", len(text))
	}
	origin, _, _ := strings.Cut(string(text), "\n")
	var out []byte
	err := w.update(func(s *State) (bool, error) {
		l := s.Logs[origin]
		if l == nil {
			return false, fmt.Errorf("witness: %w %q; add its key with AddLog first", ErrUnknownLog, origin)
		}
		var vs []note.Verifier
		for _, k := range l.Keys {
			v, err := note.NewVerifier(k)
			if err != nil {
				return false, err // checked by ParseState
			}
			vs = append(vs, v)
		}
		n, err := note.Open(text, note.VerifierList(vs...))
		if err != nil {
			var unverified *note.UnverifiedNoteError
			if errors.As(err, &unverified) {
				return false, fmt.Errorf("witness: %w: no signature by the keys trusted for %q", ErrUntrusted, origin)
			}
			return false, fmt.Errorf("witness: checkpoint for %q: %v", origin, err)
		}
		c, err := ledger.ParseCheckpoint([]byte(n.Text))
		if err != nil {
			return false, fmt.Errorf("witness: %v", err)
		}
		if c.Origin != origin {
			return false, fmt.Errorf("witness: checkpoint origin %q is not %q", c.Origin, origin)
		}
		if l.Checkpoint != "" {
			switch {
			case c.Size < l.Size:
				return false, fmt.Errorf("witness: %w: %q at size %d, but the witness cosigned size %d",
					ErrRollback, origin, c.Size, l.Size)
			case c.Size == l.Size && c.Root != l.Root:
				return false, fmt.Errorf("witness: %w: %q at size %d has root %v, but the witness cosigned root %v",
					ErrFork, origin, c.Size, c.Root, l.Root)
			case c.Size > l.Size && l.Size > 0:
				if err := tlog.CheckTree(proof, c.Size, c.Root, l.Size, l.Root); err != nil {
					return false, fmt.Errorf("witness: %w: %q at size %d from size %d: %v",
						ErrInconsistent, origin, c.Size, l.Size, err)
				}
			}
		}
		// The spec's claim is "as of this time, this is the largest tree I saw":
		// a clock that steps back must not make a later cosignature look older.
		t := w.now().Unix()
		if t < l.Time {
			t = l.Time
		}
		if c.Size > l.Size || l.Checkpoint == "" {
			l.Size, l.Root, l.Checkpoint = c.Size, c.Root, string(text)
		}
		l.Time = t
		out, err = note.Sign(n, w.cosigner.At(time.Unix(t, 0)))
		if err != nil {
			return false, fmt.Errorf("witness: %v", err)
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// update runs fn on the current state under the witness's locks and writes the
// state back if fn reports a change.
func (w *Witness) update(fn func(*State) (changed bool, err error)) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	lock, err := os.OpenFile(w.path+".lock", os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("witness: %v", err)
	}
	defer lock.Close() // releases the flock
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return fmt.Errorf("witness: lock %s: %v", w.path, err)
	}
	s, err := w.read()
	if err != nil {
		return err
	}
	changed, err := fn(s)
	if err != nil || !changed {
		return err
	}
	data, err := s.Marshal()
	if err != nil {
		return err
	}
	if err := writeFileAtomic(w.path, data); err != nil {
		return fmt.Errorf("witness: saving state: %v", err)
	}
	return nil
}

// maxStateFile bounds the witness state: a few hundred bytes per ledger it follows.
const maxStateFile = 64 << 20

func (w *Witness) read() (*State, error) {
	data, err := userfile.Read(w.path, "witness state file", maxStateFile)
	if errors.Is(err, os.ErrNotExist) {
		return &State{Version: stateVersion, Logs: map[string]*Log{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("witness: %v", err)
	}
	s, err := ParseState(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", w.path, err)
	}
	return s, nil
}

// writeFileAtomic replaces path with data so that a crash leaves either the old
// or the new file, complete: write a temporary file, sync it, rename it over
// path, sync the directory so the rename itself is durable.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
