package evidence

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/cairn-ledger/cairn/ledger"
	"github.com/cairn-ledger/cairn/ledger/rfc3161"
	"github.com/cairn-ledger/cairn/ledger/studio"
	"github.com/cairn-ledger/cairn/ledger/witness"
)

// DefaultPublishEvery is how often cairn publishes on its own when a witness
// server is configured and the config does not say.
const DefaultPublishEvery = 15 * time.Minute

// publishQueue is .cairn/publish.json: what publishing still has to do. It is
// not evidence (the cosignatures and proofs are in the ledger); it says when
// the witness was last tried, and which studio log proofs are still to fetch.
type publishQueue struct {
	LastTry time.Time      `json:"last_try,omitzero"`
	Failed  string         `json:"failed,omitempty"` // why the last try failed
	Proofs  []PendingProof `json:"pending_proofs,omitempty"`
}

// A PendingProof is a cosignature whose studio log entry is known but whose
// inclusion proof has not been fetched yet: the studio log publishes a
// checkpoint covering it within seconds, a timestamped one within its TSA
// interval.
type PendingProof struct {
	Size    int64  `json:"size"`
	Witness string `json:"witness"`
	Log     string `json:"log"`   // the studio log's origin
	Index   int64  `json:"index"` // the entry's index in it
}

func (b *Book) queuePath() string { return filepath.Join(b.Dir, "publish.json") }

func (b *Book) readQueue() (*publishQueue, error) {
	var q publishQueue
	data, err := os.ReadFile(b.queuePath())
	if errors.Is(err, fs.ErrNotExist) {
		return &q, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &q); err != nil {
		// The queue only saves work: a damaged one is started afresh.
		return &publishQueue{}, nil
	}
	return &q, nil
}

func (b *Book) writeQueue(q *publishQueue) error {
	data, err := json.MarshalIndent(q, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileDurable(b.queuePath(), append(data, '\n'), 0o644)
}

// PublishOptions say where to publish and whom to trust for the answers.
type PublishOptions struct {
	URL     string        // the witness's submission prefix
	Witness note.Verifier // the witness's cosignature key, from the designer's settings
	// StudioURL is where the witness's studio log is served (default URL/log/);
	// Studios are the studio log keys its proofs are checked with, as they
	// arrive (a proof of a log with none of them is stored unchecked).
	StudioURL  string
	Studios    []note.Verifier
	HTTPClient *http.Client
}

func (o *PublishOptions) studioURL() string {
	if o.StudioURL != "" {
		return o.StudioURL
	}
	return strings.TrimSuffix(o.URL, "/") + "/log/"
}

// A Published checkpoint is what the witness said of it.
type Published struct {
	Size    int64
	Witness string
	Old     int64 // the size the witness had cosigned before
	Time    time.Time
	// StudioLog and StudioIndex say where the witness's studio log holds the
	// cosigned checkpoint (StudioIndex -1: it keeps none).
	StudioLog   string
	StudioIndex int64
}

// ErrWitnessRefused is wrapped when the witness refused the checkpoint because
// it contradicts what the witness saw: a rewritten or rolled back ledger.
var ErrWitnessRefused = errors.New("the witness refused the checkpoint")

// Publish sends cp, a stored checkpoint of the book's ledger, to the witness
// server, with a consistency proof from the largest checkpoint the ledger holds
// a cosignature of by that witness (or, when the witness answers that it saw
// another size, from that one). It stores the cosignature beside the
// checkpoint, and queues the studio log proof. The time of the try is
// recorded, so that recording does not try again at once after a failure.
func (b *Book) Publish(ctx context.Context, cp *ledger.Checkpoint, opts PublishOptions) (*Published, error) {
	q, err := b.readQueue()
	if err != nil {
		return nil, err
	}
	q.LastTry = time.Now().UTC()
	pub, err := b.publish(ctx, cp, opts, q)
	q.Failed = ""
	if err != nil {
		q.Failed = err.Error()
	}
	if werr := b.writeQueue(q); err == nil && werr != nil {
		err = werr
	}
	return pub, err
}

func (b *Book) publish(ctx context.Context, cp *ledger.Checkpoint, opts PublishOptions, q *publishQueue) (*Published, error) {
	name := opts.Witness.Name()
	guess := int64(0)
	cos, err := b.Ledger.Cosignatures()
	if err != nil {
		return nil, err
	}
	for _, c := range cos {
		if c.Witness == name && c.Size <= cp.Size {
			guess = max(guess, c.Size)
		}
	}
	prove := func(old int64) (tlog.TreeProof, error) { return b.Ledger.ConsistencyProof(old, cp.Size) }
	hc := opts.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	ans, err := witness.Submit(ctx, hc, opts.URL, cp.Note, guess, prove, opts.Witness)
	var conflict *witness.ConflictError
	switch {
	case errors.As(err, &conflict) && conflict.Rollback:
		return nil, fmt.Errorf("%w: it has cosigned a checkpoint of %d records of %s, and this ledger's holds %d: the ledger was rolled back or replaced since the witness saw it",
			ErrWitnessRefused, conflict.Size, cp.Origin, cp.Size)
	case errors.Is(err, witness.ErrInconsistent), errors.Is(err, witness.ErrFork):
		return nil, fmt.Errorf("%w: this ledger does not extend the checkpoint the witness cosigned last; it was rewritten since (%v)", ErrWitnessRefused, err)
	case err != nil:
		return nil, err
	}
	if err := b.Ledger.PutCosignature(cp.Size, name, ans.Note); err != nil {
		return nil, err
	}
	t, err := witness.CosignedAt(ans.Note, opts.Witness)
	if err != nil {
		return nil, err
	}
	pub := &Published{Size: cp.Size, Witness: name, Old: ans.Old, Time: t, StudioLog: ans.StudioLog, StudioIndex: ans.StudioIndex}
	if ans.StudioIndex >= 0 {
		pp := PendingProof{Size: cp.Size, Witness: name, Log: ans.StudioLog, Index: ans.StudioIndex}
		found := false
		for _, p := range q.Proofs {
			found = found || p == pp
		}
		if !found {
			q.Proofs = append(q.Proofs, pp)
		}
	}
	return pub, nil
}

// PublishPending reports whether the ledger has records that no cosignature by
// witness covers yet, and when publishing was last tried, and why it failed.
func (b *Book) PublishPending(witnessName string) (pending bool, lastTry time.Time, failed string, err error) {
	q, err := b.readQueue()
	if err != nil {
		return false, time.Time{}, "", err
	}
	cos, err := b.Ledger.Cosignatures()
	if err != nil {
		return false, time.Time{}, "", err
	}
	covered := int64(0)
	for _, c := range cos {
		if c.Witness == witnessName {
			covered = max(covered, c.Size)
		}
	}
	return covered < b.Ledger.Size(), q.LastTry, q.Failed, nil
}

// PendingProofs lists the studio log proofs still to fetch.
func (b *Book) PendingProofs() ([]PendingProof, error) {
	q, err := b.readQueue()
	if err != nil {
		return nil, err
	}
	return q.Proofs, nil
}

// A FetchedProof is a studio log proof now stored in the ledger.
type FetchedProof struct {
	PendingProof
	StudioSize int64     // the size of the studio log checkpoint it is proven in
	Time       time.Time // the time its RFC 3161 token states (genTime plus accuracy); zero without one
	TSA        string
	Checked    bool // the studio log checkpoint's signature was checked with the studio key
}

// FetchStudioProofs fetches, from the studio log, the inclusion proof of each
// queued cosignature whose entry a checkpoint of the log covers by now (a
// timestamped one, if the log has a TSA), checks it, and stores it beside the
// cosignature. It waits up to wait for proofs the log has not published yet.
// What is still not there stays queued for the next command.
func (b *Book) FetchStudioProofs(ctx context.Context, opts PublishOptions, wait time.Duration) ([]FetchedProof, error) {
	q, err := b.readQueue()
	if err != nil || len(q.Proofs) == 0 {
		return nil, err
	}
	src, err := studio.OpenSource(opts.studioURL(), opts.HTTPClient)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(wait)
	var done []FetchedProof
	var firstErr error
	for {
		var left []PendingProof
		for _, pp := range q.Proofs {
			if pp.Witness != opts.Witness.Name() {
				left = append(left, pp)
				continue
			}
			fp, err := b.fetchProof(ctx, src, pp, opts)
			switch {
			case err == nil:
				done = append(done, *fp)
			case errors.Is(err, studio.ErrNotYet):
				left = append(left, pp)
			default:
				left = append(left, pp)
				if firstErr == nil {
					firstErr = err
				}
			}
		}
		q.Proofs = left
		if len(left) == 0 || firstErr != nil || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
	if err := b.writeQueue(q); err != nil && firstErr == nil {
		firstErr = err
	}
	return done, firstErr
}

func (b *Book) fetchProof(ctx context.Context, src *studio.Source, pp PendingProof, opts PublishOptions) (*FetchedProof, error) {
	f, err := src.Fetch(ctx, pp.Index)
	if err != nil {
		return nil, err
	}
	stored, err := b.cosignedNote(pp.Size, pp.Witness)
	if err != nil {
		return nil, err
	}
	// The entry must be this ledger's checkpoint with this witness's
	// cosignature: the witness logs what it cosigned, with the signatures it
	// verified, which may be laid out differently from the stored note.
	ec, err := ledger.ParseCheckpoint(f.Entry)
	if err != nil {
		return nil, fmt.Errorf("studio log entry %d: %v", pp.Index, err)
	}
	sc, err := ledger.ParseCheckpoint(stored)
	if err != nil {
		return nil, err
	}
	if ec.Body() != sc.Body() {
		return nil, fmt.Errorf("studio log entry %d is not the checkpoint of %d records of this ledger; the witness named the wrong entry", pp.Index, pp.Size)
	}
	if _, err := witness.CosignedAt(f.Entry, opts.Witness); err != nil {
		return nil, fmt.Errorf("studio log entry %d: %v", pp.Index, err)
	}
	var sv note.Verifier
	for _, v := range opts.Studios {
		if v.Name() == pp.Log {
			sv = v
		}
	}
	c, err := f.Proof.Check(f.Entry, sv)
	if err != nil {
		return nil, err
	}
	if c.Origin != pp.Log {
		return nil, fmt.Errorf("the studio log at %s is %q, but the witness logged the checkpoint in %q", src.Where, c.Origin, pp.Log)
	}
	fp := &FetchedProof{PendingProof: pp, StudioSize: c.Size, Checked: sv != nil}
	if f.Token != nil {
		tok, err := rfc3161.VerifyUntrusted(f.Token, f.Proof.Checkpoint)
		if err != nil {
			return nil, fmt.Errorf("the studio log's timestamp on its checkpoint of %d entries: %v", c.Size, err)
		}
		fp.Time, fp.TSA = tok.Latest(), tok.TSA
	}
	if !bytes.Equal(f.Entry, stored) {
		if err := b.Ledger.PutCosignature(pp.Size, pp.Witness, f.Entry); err != nil {
			return nil, err
		}
	}
	if err := b.Ledger.PutStudioProof(ledger.StudioProof{Size: pp.Size, Witness: pp.Witness, Proof: f.Proof.Marshal(), Token: f.Token}); err != nil {
		return nil, err
	}
	return fp, nil
}

// cosignedNote returns the stored note of witness's cosignature at size.
func (b *Book) cosignedNote(size int64, name string) ([]byte, error) {
	cos, err := b.Ledger.Cosignatures()
	if err != nil {
		return nil, err
	}
	for _, c := range cos {
		if c.Size == size && c.Witness == name {
			return c.Note, nil
		}
	}
	return nil, fmt.Errorf("no cosignature of %s is stored for the checkpoint of %d records", name, size)
}
