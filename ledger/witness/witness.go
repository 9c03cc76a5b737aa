package witness

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"net/http"
	"slices"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/cairn-ledger/cairn/ledger"
)

// Why a witness refuses a checkpoint. Each maps to the HTTP status C2SP
// tlog-witness gives it (Status).
var (
	ErrMalformed    = errors.New("malformed add-checkpoint request")                                    // 400
	ErrUntrusted    = errors.New("checkpoint is not signed by a key the witness trusts")                // 403
	ErrUnknownLog   = errors.New("witness does not follow this log")                                    // 404
	ErrStale        = errors.New("old size is not the size of the checkpoint the witness cosigned")     // 409
	ErrRollback     = errors.New("checkpoint is older than one the witness cosigned")                   // 409
	ErrFork         = errors.New("checkpoint contradicts one the witness cosigned")                     // 422
	ErrInconsistent = errors.New("checkpoint is not proven to extend the one the witness cosigned")     // 422
	ErrUnavailable  = errors.New("the witness's studio log did not take the checkpoint; send it again") // 503
)

// A ConflictError is the witness's answer to a stale old size: the size of the
// latest checkpoint it cosigned for the log, which the client proves from.
type ConflictError struct {
	Origin string
	Size   int64 // the witness's size
	// Rollback is set when the checkpoint is smaller than Size: no proof
	// from any old size can make the witness cosign it.
	Rollback bool
}

func (e *ConflictError) Error() string {
	if e.Rollback {
		return fmt.Sprintf("witness: %v: %q, but the witness cosigned size %d", ErrRollback, e.Origin, e.Size)
	}
	return fmt.Sprintf("witness: %v: the witness cosigned size %d of %q", ErrStale, e.Size, e.Origin)
}

func (e *ConflictError) Is(target error) bool {
	return target == ErrStale || (e.Rollback && target == ErrRollback)
}

// Status returns the HTTP status of C2SP tlog-witness for err (200 for nil).
func Status(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrMalformed):
		return http.StatusBadRequest
	case errors.Is(err, ErrUntrusted):
		return http.StatusForbidden
	case errors.Is(err, ErrUnknownLog):
		return http.StatusNotFound
	case errors.Is(err, ErrStale):
		return http.StatusConflict
	case errors.Is(err, ErrFork), errors.Is(err, ErrInconsistent):
		return http.StatusUnprocessableEntity
	case errors.Is(err, ErrUnavailable):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// maxNoteSize bounds a checkpoint note: a few short lines and signatures (a
// signed note has at most 100). It leaves room, within a studio log entry's
// 65,535 bytes, for the cosignature line.
const maxNoteSize = 32 << 10

// A StudioLog is where the witness logs what it cosigns (cairn's studio log,
// ledger/studio). Append returns once the entry is durably in the log, with its
// index; Refused takes, best effort, a checkpoint the witness verified but
// refused (a fork, a rollback), which the log keeps as evidence.
type StudioLog interface {
	Origin() string
	Append(ctx context.Context, entry []byte) (int64, error)
	Refused(entry []byte)
}

// A Witness cosigns checkpoints of the logs it follows (FORMAT.md §3.2), with
// the rules of C2SP tlog-witness, keeping one record per log in a Store.
// Requests for one log are taken one at a time; different logs in parallel.
type Witness struct {
	store    *Store
	cosigner *Cosigner
	now      func() time.Time
	studio   StudioLog
	seed     maphash.Seed
	locks    [256]sync.Mutex // by a hash of the origin
}

// New returns a witness that keeps its records in store and cosigns with c.
func New(store *Store, c *Cosigner) *Witness {
	return &Witness{store: store, cosigner: c, now: time.Now, seed: maphash.MakeSeed()}
}

// SetClock replaces the clock that dates cosignatures, for tests.
func (w *Witness) SetClock(now func() time.Time) { w.now = now }

// SetStudioLog makes the witness log every checkpoint it cosigns in l before
// it answers.
func (w *Witness) SetStudioLog(l StudioLog) { w.studio = l }

// Cosigner returns the witness's cosigner.
func (w *Witness) Cosigner() *Cosigner { return w.cosigner }

// Store returns the witness's store.
func (w *Witness) Store() *Store { return w.store }

func (w *Witness) lock(origin string) *sync.Mutex {
	return &w.locks[maphash.String(w.seed, origin)%uint64(len(w.locks))]
}

// Record returns the record of origin, or nil if the witness does not follow it.
func (w *Witness) Record(origin string) (*Record, error) {
	mu := w.lock(origin)
	mu.Lock()
	defer mu.Unlock()
	return w.store.get(origin)
}

// AddLog makes the witness trust checkpoints of the log origin signed by the
// signed-note verifier key vkey, and reports whether the key is new. Trust is
// never taken from a checkpoint: only AddLog adds keys. Adding a second key to
// a log (a rotation) keeps the first and the log's cosigned state.
func (w *Witness) AddLog(origin, vkey string) (bool, error) {
	if !ledger.ValidOrigin(origin) {
		return false, fmt.Errorf("witness: invalid log origin %q", origin)
	}
	if _, err := note.NewVerifier(vkey); err != nil {
		return false, fmt.Errorf("witness: log key %q: %v", vkey, err)
	}
	mu := w.lock(origin)
	mu.Lock()
	defer mu.Unlock()
	r, err := w.store.get(origin)
	if err != nil {
		return false, err
	}
	if r == nil {
		r = &Record{}
	}
	if slices.Contains(r.Keys, vkey) {
		return false, nil
	}
	r.Keys = append(r.Keys, vkey)
	return true, w.store.put(origin, r)
}

// A Cosigned checkpoint is the witness's answer to an accepted checkpoint.
type Cosigned struct {
	Origin string
	Size   int64
	// Line is the witness's signature line, as C2SP tlog-witness returns it;
	// Note the checkpoint with the log signatures the witness verified and Line.
	Line []byte
	Note []byte
	Time time.Time
	// Studio is where the studio log holds Note, if the witness keeps one.
	Studio *StudioRef
}

// AddCheckpoint is C2SP tlog-witness's add-checkpoint: old is the size of the
// checkpoint the client believes the witness cosigned last for the log, proof
// the RFC 6962 consistency proof from it to text, a signed checkpoint note.
//
// It refuses (with an error Status maps to the HTTP status) a malformed
// request, a log it does not follow, a note no trusted key signed, an old size
// that is not its own (ConflictError, with its size), a bad proof and another
// root at the same size. Otherwise it cosigns, durably records the checkpoint,
// logs it in its studio log if it keeps one, and only then returns. Sending the
// checkpoint it cosigned last again returns the same cosignature, and changes
// nothing.
func (w *Witness) AddCheckpoint(ctx context.Context, old int64, proof tlog.TreeProof, text []byte) (*Cosigned, error) {
	if len(text) > maxNoteSize {
		return nil, fmt.Errorf("witness: %w: checkpoint note of %d bytes is too large", ErrMalformed, len(text))
	}
	c, err := ledger.ParseCheckpoint(text)
	if err != nil {
		return nil, fmt.Errorf("witness: %w: %v", ErrMalformed, err)
	}
	if old < 0 || old > c.Size {
		return nil, fmt.Errorf("witness: %w: old size %d is larger than the checkpoint's %d", ErrMalformed, old, c.Size)
	}
	if len(proof) > 63 {
		return nil, fmt.Errorf("witness: %w: %d consistency proof hashes, at most 63 are allowed", ErrMalformed, len(proof))
	}
	mu := w.lock(c.Origin)
	mu.Lock()
	defer mu.Unlock()
	r, err := w.store.get(c.Origin)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, fmt.Errorf("witness: %w %q; trust its key first (cairn witness trust VKEY)", ErrUnknownLog, c.Origin)
	}
	n, err := note.Open(text, verifiers(r.Keys))
	if err != nil {
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		switch {
		case errors.As(err, &unverified):
			return nil, fmt.Errorf("witness: %w: no signature by the keys trusted for %q", ErrUntrusted, c.Origin)
		case errors.As(err, &invalid):
			return nil, fmt.Errorf("witness: %w: the signature of %s on the checkpoint of %q does not verify", ErrUntrusted, invalid.Name, c.Origin)
		}
		return nil, fmt.Errorf("witness: %w: checkpoint of %q: %v", ErrMalformed, c.Origin, err)
	}
	if n.Text != c.Body() {
		return nil, fmt.Errorf("witness: %w: checkpoint of %q is not in canonical form", ErrMalformed, c.Origin)
	}
	// Only the signatures the witness verified go on: it must ignore others.
	n.UnverifiedSigs = nil
	verified, err := note.Sign(n)
	if err != nil {
		return nil, fmt.Errorf("witness: %w: %v", ErrMalformed, err)
	}
	if c.Size == 0 && c.Root != ledger.EmptyRoot {
		return nil, fmt.Errorf("witness: %w: a checkpoint of size 0 of %q must have the empty tree's root", ErrInconsistent, c.Origin)
	}
	if old != r.Size {
		rollback := c.Size < r.Size
		if rollback || c.Size == r.Size && r.Checkpoint != "" && c.Root != r.Root {
			w.refused(verified)
		}
		return nil, &ConflictError{Origin: c.Origin, Size: r.Size, Rollback: rollback}
	}
	switch {
	case old == c.Size:
		if r.Checkpoint != "" && c.Root != r.Root {
			w.refused(verified)
			return nil, fmt.Errorf("witness: %w: %q at size %d has root %v, but the witness cosigned root %v",
				ErrFork, c.Origin, c.Size, c.Root, r.Root)
		}
		if len(proof) > 0 {
			return nil, fmt.Errorf("witness: %w: a proof from size %d to itself must be empty", ErrInconsistent, old)
		}
	case old == 0:
		if len(proof) > 0 {
			return nil, fmt.Errorf("witness: %w: a proof from size 0 must be empty", ErrInconsistent)
		}
	default:
		if err := tlog.CheckTree(proof, c.Size, c.Root, old, r.Root); err != nil {
			w.refused(verified)
			return nil, fmt.Errorf("witness: %w: %q at size %d from size %d: %v",
				ErrInconsistent, c.Origin, c.Size, old, err)
		}
	}

	// The same checkpoint again: the same answer, nothing changes (but a
	// studio log that missed it gets it now).
	if r.Cosignature != "" && old == c.Size && mustBody(r.Checkpoint) == c.Body() {
		if err := w.logStudio(ctx, c.Origin, r); err != nil {
			return nil, err
		}
		return w.answer(c, r), nil
	}

	// The spec's claim is "as of this time, this is the largest tree I saw":
	// a clock that steps back must not make a later cosignature look older.
	t := max(w.now().Unix(), r.Time)
	cosigned, err := note.Sign(n, w.cosigner.At(time.Unix(t, 0)))
	if err != nil {
		return nil, fmt.Errorf("witness: %v", err)
	}
	r.Size, r.Root, r.Time = c.Size, c.Root, t
	r.Checkpoint, r.Cosignature = string(verified), string(cosigned[len(verified):])
	r.Studio = nil
	if err := w.store.put(c.Origin, r); err != nil {
		return nil, err
	}
	if err := w.logStudio(ctx, c.Origin, r); err != nil {
		return nil, err
	}
	return w.answer(c, r), nil
}

func (w *Witness) answer(c *ledger.Checkpoint, r *Record) *Cosigned {
	return &Cosigned{Origin: c.Origin, Size: r.Size, Line: []byte(r.Cosignature), Note: r.Cosigned(),
		Time: time.Unix(r.Time, 0).UTC(), Studio: r.Studio}
}

// mustBody returns the body of a stored checkpoint note (checked by Record.check).
func mustBody(note string) string {
	c, err := ledger.ParseCheckpoint([]byte(note))
	if err != nil {
		return ""
	}
	return c.Body()
}

// logStudio appends r's cosigned checkpoint to the studio log, if the witness
// keeps one and it is not there yet, and records where it went. The caller holds
// the origin's lock, so one log's entries are in the order it was cosigned.
func (w *Witness) logStudio(ctx context.Context, origin string, r *Record) error {
	if w.studio == nil || r.Cosignature == "" || r.Studio != nil && r.Studio.Log == w.studio.Origin() {
		return nil
	}
	// The entry is durable before the answer; a client that gives up must not
	// leave it half done.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	idx, err := w.studio.Append(ctx, r.Cosigned())
	if err != nil {
		return fmt.Errorf("witness: %w: %v", ErrUnavailable, err)
	}
	r.Studio = &StudioRef{Log: w.studio.Origin(), Index: idx}
	return w.store.put(origin, r)
}

func (w *Witness) refused(verified []byte) {
	if w.studio != nil {
		w.studio.Refused(verified)
	}
}

// CatchUpStudio logs, in the studio log, every cosigned checkpoint that is not
// in it yet: those cosigned while the witness kept no studio log, and one a
// crash interrupted between recording and logging. It returns how many.
func (w *Witness) CatchUpStudio(ctx context.Context) (int, error) {
	if w.studio == nil {
		return 0, nil
	}
	var origins []string
	err := w.store.Records(func(origin string, r *Record) error {
		if r.Cosignature != "" && (r.Studio == nil || r.Studio.Log != w.studio.Origin()) {
			origins = append(origins, origin)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, origin := range origins {
		mu := w.lock(origin)
		mu.Lock()
		r, err := w.store.get(origin)
		if err == nil {
			err = w.logStudio(ctx, origin, r)
		}
		mu.Unlock()
		if err != nil {
			return 0, err
		}
	}
	return len(origins), nil
}

// Latest returns the latest note the witness cosigned for the log whose origin
// has SHA-256 h, with its cosignature, or nil (C2SP tlog-witness, "Monitor
// Retrieval Mechanism").
func (w *Witness) Latest(h [32]byte) ([]byte, error) {
	origin, err := w.store.originByHash(h)
	if err != nil || origin == "" {
		return nil, err
	}
	r, err := w.Record(origin)
	if err != nil || r == nil {
		return nil, err
	}
	return r.Cosigned(), nil
}
