package ledger

import (
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"sort"
	"time"

	"github.com/dgraph-io/badger/v4"
	"golang.org/x/mod/sumdb/tlog"
)

// VerifyOptions controls Verify.
type VerifyOptions struct {
	// Since is an earlier checkpoint note. Verify proves that the ledger extends it:
	// same origin, at least as many records, and the same root at its size.
	Since []byte
	// Workers is the number of signature-checking goroutines; 0 means GOMAXPROCS.
	Workers int
	// Progress, if set, is called now and then with the number of records read.
	Progress func(records int64)
	// CheckRecord, if set, is called for every record in order, after its layout,
	// chain and time are checked. An error marks the record bad. The domain
	// layer uses it to decide which keys may sign which records.
	CheckRecord func(*Record) error
	// CheckpointSigners, if set, returns the keys that may sign a checkpoint of
	// size records (the domain decides; FORMAT.md §3). Nil: any key that signed
	// a record.
	CheckpointSigners func(size int64) []ed25519.PublicKey
	// KnownKeys, if set, returns every key the domain knows of: a checkpoint
	// line by one of them that does not verify makes the checkpoint invalid.
	KnownKeys func() []ed25519.PublicKey
	// All goes on after a problem, to report every one (up to MaxProblems) in
	// the returned VerifyError's Others, not only the first.
	All bool
}

// Problems collects verification problems: without all, the first one ends
// verification; with all, every one is kept. Err is nil, or the first problem
// with the others in its Others.
type Problems struct {
	all  bool
	list []*VerifyError
}

// NewProblems starts a collection; all keeps every problem.
func NewProblems(all bool) *Problems { return &Problems{all: all} }

// Add keeps a problem (every one an error holds) and reports whether
// verification must stop.
func (p *Problems) Add(err error) (stop bool) {
	ve, ok := err.(*VerifyError)
	if !ok {
		ve = &VerifyError{Seq: -1, Problem: err.Error()}
	}
	p.list = append(p.list, ve.All()...)
	return !p.all || len(p.list) >= MaxProblems
}

// Err returns the problems found, or nil.
func (p *Problems) Err() error {
	if len(p.list) == 0 {
		return nil
	}
	first := *p.list[0]
	for _, e := range p.list {
		if e.Seq >= 0 && (first.Seq < 0 || e.Seq < first.Seq) {
			first = *e
		}
	}
	if p.all {
		first.Others = p.list
	}
	return &first
}

// VerifyReport describes a ledger that verified.
type VerifyReport struct {
	Origin      string
	Size        int64
	Root        tlog.Hash
	Keys        []ed25519.PublicKey // distinct authors, in order of first appearance
	First, Last time.Time           // timestamps of the first and last records
	Checkpoints []*Checkpoint       // stored checkpoints, each verified, oldest first
	Since       *Checkpoint         // the checkpoint given in VerifyOptions.Since, proven extended
}

// A VerifyError names the first bad record and what is wrong with it. Seq is -1 when
// the problem is not with one record (a checkpoint's root, say).
type VerifyError struct {
	Seq     int64
	Problem string
	// Checkpoint is the note of a stored checkpoint no allowed key signed, so
	// that the domain can say whose key did.
	Checkpoint []byte
	// Others holds every problem found, this one among them, when
	// verification looked for all of them (VerifyOptions.All).
	Others []*VerifyError
}

// All returns every problem the error holds, in order.
func (e *VerifyError) All() []*VerifyError {
	if len(e.Others) == 0 {
		return []*VerifyError{e}
	}
	return e.Others
}

func (e *VerifyError) Error() string {
	if e.Seq < 0 {
		return e.Problem
	}
	return fmt.Sprintf("record %d: %s", e.Seq, e.Problem)
}

// Verify reads every record in order and checks its layout, sequence number, chain
// link, timestamp order, leaf and tree hashes against the stored ones, and (on every
// core) its signature. It rebuilds the tree root and checks every stored checkpoint
// against it, and opts.Since if given. It returns a *VerifyError naming the first bad
// record, or another error if the ledger could not be read.
func (l *Ledger) Verify(opts VerifyOptions) (*VerifyReport, error) {
	rep := &VerifyReport{Origin: l.origin}

	// Checkpoint sizes at which the rebuilt root must be captured.
	notes, err := l.Checkpoints()
	if err != nil {
		return nil, err
	}
	type cpAt struct {
		note []byte
		c    *Checkpoint
	}
	var cps []cpAt
	rootAt := map[int64]tlog.Hash{}
	for _, n := range notes {
		c, err := ParseCheckpoint(n)
		if err != nil {
			return nil, &VerifyError{Seq: -1, Problem: "stored " + err.Error()}
		}
		cps = append(cps, cpAt{n, c})
		rootAt[c.Size] = tlog.Hash{}
	}
	var since *Checkpoint
	if opts.Since != nil {
		since, err = ParseCheckpoint(opts.Since)
		if err != nil {
			return nil, &VerifyError{Seq: -1, Problem: "the earlier checkpoint cannot be read: " + err.Error()}
		}
		if since.Origin != l.origin {
			return nil, &VerifyError{Seq: -1, Problem: fmt.Sprintf("the earlier checkpoint is for ledger %s, not this one (%s)", since.Origin, l.origin)}
		}
		rootAt[since.Size] = tlog.Hash{}
	}

	probs := NewProblems(opts.All)
	chk := NewRecordChecker(l.origin, CheckOptions{Workers: opts.Workers, CheckRecord: opts.CheckRecord, All: opts.All})
	n, readErr := l.verifyStored(chk, rootAt, opts.Progress)
	if verr := chk.Close(); verr != nil && probs.Add(verr) {
		return nil, probs.Err()
	}
	if readErr != nil {
		return nil, fmt.Errorf("read ledger: %w", readErr)
	}
	rep.Size, rep.Keys = n, chk.Keys()
	rep.First, rep.Last = chk.Span()
	if n > 0 {
		rep.Root = chk.Root()
	}
	if opts.Progress != nil {
		opts.Progress(n)
	}

	open := func(note []byte, size int64) (*Checkpoint, error) {
		permitted, known := rep.Keys, rep.Keys
		if opts.CheckpointSigners != nil {
			permitted = opts.CheckpointSigners(size)
		}
		if opts.KnownKeys != nil {
			known = opts.KnownKeys()
		}
		return OpenCheckpointAmong(note, permitted, known)
	}
	sort.Slice(cps, func(i, j int) bool { return cps[i].c.Size < cps[j].c.Size })
	for _, cp := range cps {
		var bad *VerifyError
		c, err := open(cp.note, cp.c.Size)
		switch {
		case cp.c.Size > n:
			bad = &VerifyError{Seq: n, Problem: fmt.Sprintf("record is missing: a stored checkpoint covers %d records, the ledger ends after %d (records were removed from the end)", cp.c.Size, n)}
		case err != nil:
			bad = &VerifyError{Seq: -1, Problem: "stored " + err.Error(), Checkpoint: cp.note}
		case c.Origin != l.origin:
			bad = &VerifyError{Seq: -1, Problem: fmt.Sprintf("stored checkpoint names ledger %s, not %s", c.Origin, l.origin)}
		case c.Size == 0 || rootAt[c.Size] != c.Root:
			bad = &VerifyError{Seq: -1, Problem: fmt.Sprintf("the records do not match the stored checkpoint at size %d (its root differs)", c.Size)}
		}
		if bad != nil {
			if probs.Add(bad) {
				return nil, probs.Err()
			}
			continue
		}
		rep.Checkpoints = append(rep.Checkpoints, c)
	}
	if since != nil {
		c, err := l.checkSince(opts.Since, since, n, rep.Root, rootAt, open)
		if err != nil && probs.Add(err) {
			return nil, probs.Err()
		}
		rep.Since = c
	}
	if err := probs.Err(); err != nil {
		return rep, err
	}
	return rep, nil
}

// checkSince proves that the ledger of n records and root extends the earlier
// checkpoint note (parsed as since): its roots rebuilt from the records, and
// the stored-hash consistency proof, must agree.
func (l *Ledger) checkSince(note []byte, since *Checkpoint, n int64, root tlog.Hash, rootAt map[int64]tlog.Hash, open func([]byte, int64) (*Checkpoint, error)) (*Checkpoint, error) {
	if since.Size > n {
		return nil, &VerifyError{Seq: -1, Problem: fmt.Sprintf("rollback: the earlier checkpoint covers %d records, but the ledger has only %d; records were removed or this is an older copy", since.Size, n)}
	}
	c, err := open(note, since.Size)
	if err != nil {
		return nil, &VerifyError{Seq: -1, Problem: "the earlier checkpoint: " + err.Error()}
	}
	if c.Size == 0 || rootAt[c.Size] != c.Root {
		return nil, &VerifyError{Seq: -1, Problem: fmt.Sprintf("fork: the ledger's first %d records differ from those the earlier checkpoint committed to; history was rewritten or this is a different copy", c.Size)}
	}
	// The rebuilt roots already prove it; the stored-hash proof must agree.
	if c.Size < n {
		p, err := l.ConsistencyProof(c.Size, n)
		if err == nil {
			err = tlog.CheckTree(p, n, root, c.Size, c.Root)
		}
		if err != nil {
			return nil, &VerifyError{Seq: -1, Problem: "consistency proof from the earlier checkpoint fails: " + err.Error()}
		}
	}
	return c, nil
}

// verifyStored reads the records in key order with one iterator and hands each
// entry to chk; beside it, it checks what only storage holds: no key missing or
// extra, each record's stored tree hashes and its forward link. It captures the
// rebuilt root at the sizes in rootAt and returns the number of records read.
func (l *Ledger) verifyStored(chk *RecordChecker, rootAt map[int64]tlog.Hash, progress func(int64)) (int64, error) {
	var (
		n      int64       // the next expected sequence number
		stored []tlog.Hash // stored hashes of record n, level 0 first
		next   *tlog.Hash  // the link to its successor stored under record n
		linked *tlog.Hash  // the link to record n stored under record n-1
	)
	// Every so many records, drop the table pages already read from memory, so
	// that verification's memory does not grow with the ledger.
	const releaseEvery = 8192
	checkEntry := func(seq int64, entry []byte) bool {
		r, want := chk.Add(entry)
		if r == nil {
			return false
		}
		// A stored hash that does not match stops the reading, unless the
		// checker looks for every problem.
		mismatch := func(format string, args ...any) bool {
			chk.Report(seq, format, args...)
			return chk.all
		}
		if seq > 0 && (linked == nil || *linked != r.Hash()) && !mismatch("record %d's stored link to its successor does not match this entry", seq-1) {
			return false
		}
		if len(stored) != len(want) && !mismatch("%d stored tree hashes, want %d", len(stored), len(want)) {
			return false
		}
		for i, h := range want {
			if i < len(stored) && stored[i] != h {
				what := fmt.Sprintf("stored tree hash at level %d does not match the records", i)
				if i == 0 {
					what = "entry bytes do not match the stored leaf hash (the record was changed)"
				}
				if !mismatch("%s", what) {
					return false
				}
				break
			}
		}
		if _, ok := rootAt[seq+1]; ok {
			rootAt[seq+1] = chk.Root()
		}
		if (seq+1)%checkBatch == 0 && progress != nil {
			progress(seq + 1)
		}
		if (seq+1)%releaseEvery == 0 {
			releaseMappedTables(l.dir)
		}
		return true
	}
	err := l.db.View(func(txn *badger.Txn) error {
		// No value prefetching: values up to 64 KiB sit in the tables beside their
		// keys, and Badger prefetches by starting a goroutine per item, which cost
		// a tenth of the reader's time.
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("e")})
		defer it.Close()
		for it.Rewind(); it.Valid() && !chk.Failed(); it.Next() {
			item := it.Item()
			k := item.Key()
			if len(k) < 10 {
				chk.Report(n, "unexpected key %x in the record range", k)
				return nil
			}
			seq := int64(binary.BigEndian.Uint64(k[1:9]))
			switch {
			case seq > n:
				chk.Report(n, "record is missing (the next stored key belongs to record %d)", seq)
				return nil
			case seq < n:
				chk.Report(seq, "unexpected extra key %x after the record", k)
				return nil
			case k[9] == 'n' && len(k) == 10:
				v, err := item.ValueCopy(nil)
				if err != nil {
					return err
				}
				var h tlog.Hash
				if len(v) != len(h) {
					chk.Report(seq, "stored successor link has %d bytes", len(v))
					return nil
				}
				copy(h[:], v)
				next = &h
			case k[9] == 'r' && len(k) == 10:
				v, err := item.ValueCopy(nil)
				if err != nil {
					return err
				}
				entry, hashes, err := splitStored(v)
				if err != nil {
					chk.Report(seq, "%v", err)
					return nil
				}
				stored = stored[:0]
				for level := 0; level*tlog.HashSize < len(hashes); level++ {
					var h tlog.Hash
					copy(h[:], hashes[level*tlog.HashSize:])
					stored = append(stored, h)
				}
				if !checkEntry(seq, entry) {
					return nil
				}
				linked, next = next, nil
				n++
			default:
				chk.Report(seq, "unexpected key %x", k)
				return nil
			}
		}
		switch {
		case chk.Failed():
		case next != nil:
			chk.Report(n, "record is missing (only its link to a successor is stored)")
		case linked != nil:
			chk.Report(n, "record is missing: record %d links to it (records were removed from the end)", n-1)
		}
		return nil
	})
	return n, err
}
