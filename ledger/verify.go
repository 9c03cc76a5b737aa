package ledger

import (
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"runtime"
	"sort"
	"sync"
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
	// chain and tree hashes are checked. An error marks the record bad. The domain
	// layer uses it to decide which keys may sign which records.
	CheckRecord func(*Record) error
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
}

func (e *VerifyError) Error() string {
	if e.Seq < 0 {
		return e.Problem
	}
	return fmt.Sprintf("record %d: %s", e.Seq, e.Problem)
}

// firstProblem keeps the bad record with the lowest sequence number; signature
// checks run in parallel and may report out of order.
type firstProblem struct {
	mu  sync.Mutex
	err *VerifyError
}

func (f *firstProblem) report(seq int64, format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := fmt.Sprintf(format, args...)
	switch {
	case f.err == nil || seq < f.err.Seq:
		f.err = &VerifyError{seq, p}
	case seq == f.err.Seq && f.err.Problem != p:
		f.err.Problem += "; " + p
	}
}

func (f *firstProblem) seq() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil {
		return 1 << 62
	}
	return f.err.Seq
}

// compactRange is the right edge of a Merkle tree being built leaf by leaf: the
// roots of its perfect subtrees, largest first. It holds at most 63 hashes, so
// verification memory does not grow with the ledger.
type compactRange struct{ hashes []tlog.Hash }

// push adds a leaf and returns the stored hashes it completes, in tlog order:
// the leaf, then each subtree it closes, lowest level first.
func (c *compactRange) push(n int64, leaf tlog.Hash) []tlog.Hash {
	done := []tlog.Hash{leaf}
	c.hashes = append(c.hashes, leaf)
	for m := n; m&1 == 1; m >>= 1 {
		k := len(c.hashes)
		h := tlog.NodeHash(c.hashes[k-2], c.hashes[k-1])
		c.hashes = append(c.hashes[:k-2], h)
		done = append(done, h)
	}
	return done
}

// root folds the subtrees from the smallest up: RFC 6962 hashes an unbalanced tree
// as its largest perfect left subtree and the rest to the right.
func (c *compactRange) root() tlog.Hash {
	h := c.hashes[len(c.hashes)-1]
	for i := len(c.hashes) - 2; i >= 0; i-- {
		h = tlog.NodeHash(c.hashes[i], h)
	}
	return h
}

// Verify reads every record in order and checks its layout, sequence number, chain
// link, timestamp order, leaf and tree hashes against the stored ones, and (on every
// core) its signature. It rebuilds the tree root and checks every stored checkpoint
// against it, and opts.Since if given. It returns a *VerifyError naming the first bad
// record, or another error if the ledger could not be read.
func (l *Ledger) Verify(opts VerifyOptions) (*VerifyReport, error) {
	rep := &VerifyReport{Origin: l.origin}
	var bad firstProblem

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
			return nil, &VerifyError{-1, "stored " + err.Error()}
		}
		cps = append(cps, cpAt{n, c})
		rootAt[c.Size] = tlog.Hash{}
	}
	var since *Checkpoint
	if opts.Since != nil {
		since, err = ParseCheckpoint(opts.Since)
		if err != nil {
			return nil, &VerifyError{-1, "the earlier checkpoint cannot be read: " + err.Error()}
		}
		if since.Origin != l.origin {
			return nil, &VerifyError{-1, fmt.Sprintf("the earlier checkpoint is for ledger %s, not this one (%s)", since.Origin, l.origin)}
		}
		rootAt[since.Size] = tlog.Hash{}
	}

	// Signature checks run on every core; the reader below does the rest in order.
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	batches := make(chan []*Record, 2*workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for b := range batches {
				for _, r := range b {
					var ok bool
					if ok, buf = r.checkSignature(l.origin, buf); !ok {
						bad.report(r.Seq, "signature does not verify (key %s)", KeyID(r.Key))
					}
				}
				// Let the reader in, so that it keeps every core fed rather
				// than waiting for the scheduler to preempt a checker.
				runtime.Gosched()
			}
		}()
	}

	var (
		n        int64 // the next expected sequence number
		prevBody tlog.Hash
		prevTime time.Time
		tree     compactRange
		stored   []storedHash // stored hashes seen for record n
		next     *tlog.Hash   // the link to its successor stored under record n
		linked   *tlog.Hash   // the link to record n stored under record n-1
		batch    []*Record
		keys     = map[string]bool{}
	)
	const batchSize = 64
	// Every so many records, drop the table pages already read from memory, so
	// that verification's memory does not grow with the ledger.
	const releaseEvery = 8192
	stop := func() bool { return bad.seq() < n }

	checkEntry := func(seq int64, entry []byte) {
		r, err := DecodeEntry(entry)
		if err != nil {
			bad.report(seq, "%v", err)
			return
		}
		if r.Seq != seq {
			bad.report(seq, "entry stored at position %d says it is record %d (records moved, inserted or removed)", seq, r.Seq)
			return
		}
		if r.Prev != prevBody {
			bad.report(seq, "chain link does not match record %d (a record before it was changed, removed or inserted)", seq-1)
			return
		}
		if r.Time.Before(prevTime) {
			bad.report(seq, "timestamp %s is earlier than record %d's %s", r.Time.Format(time.RFC3339Nano), seq-1, prevTime.Format(time.RFC3339Nano))
			return
		}
		leaf := r.Hash()
		if seq > 0 && (linked == nil || *linked != leaf) {
			bad.report(seq, "record %d's stored link to its successor does not match this entry", seq-1)
			return
		}
		want := tree.push(seq, leaf)
		if len(stored) != len(want) {
			bad.report(seq, "%d stored tree hashes, want %d", len(stored), len(want))
			return
		}
		for i, h := range want {
			if stored[i].level != i || stored[i].hash != h {
				if i == 0 {
					bad.report(seq, "entry bytes do not match the stored leaf hash (the record was changed)")
				} else {
					bad.report(seq, "stored tree hash at level %d does not match the records", i)
				}
				return
			}
		}
		if opts.CheckRecord != nil {
			if err := opts.CheckRecord(r); err != nil {
				bad.report(seq, "%v", err)
				return
			}
		}
		if k := string(r.Key); !keys[k] {
			keys[k] = true
			rep.Keys = append(rep.Keys, r.Key)
		}
		if seq == 0 {
			rep.First = r.Time
		}
		rep.Last = r.Time
		prevBody = bodyHash(entry)
		prevTime = r.Time
		if _, ok := rootAt[seq+1]; ok {
			rootAt[seq+1] = tree.root()
		}
		batch = append(batch, r)
		if len(batch) == batchSize {
			batches <- batch
			batch = nil
			if opts.Progress != nil {
				opts.Progress(seq + 1)
			}
		}
		if (seq+1)%releaseEvery == 0 {
			releaseMappedTables(l.dir)
		}
	}

	readErr := l.db.View(func(txn *badger.Txn) error {
		// No value prefetching: values up to 64 KiB sit in the tables beside their
		// keys, and Badger prefetches by starting a goroutine per item, which cost
		// a tenth of the reader's time.
		io := badger.IteratorOptions{Prefix: []byte("e")}
		it := txn.NewIterator(io)
		defer it.Close()
		for it.Rewind(); it.Valid() && !stop(); it.Next() {
			item := it.Item()
			k := item.Key()
			if len(k) < 10 {
				bad.report(n, "unexpected key %x in the record range", k)
				break
			}
			seq := int64(binary.BigEndian.Uint64(k[1:9]))
			if seq > n {
				bad.report(n, "record is missing (the next stored key belongs to record %d)", seq)
				break
			}
			if seq < n {
				bad.report(seq, "unexpected extra key %x after the record", k)
				break
			}
			switch {
			case k[9] == 'n' && len(k) == 10:
				v, err := item.ValueCopy(nil)
				if err != nil {
					return err
				}
				var h tlog.Hash
				if len(v) != len(h) {
					bad.report(seq, "stored successor link has %d bytes", len(v))
					break
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
					bad.report(seq, "%v", err)
					break
				}
				for level := 0; level*tlog.HashSize < len(hashes); level++ {
					var h tlog.Hash
					copy(h[:], hashes[level*tlog.HashSize:])
					stored = append(stored, storedHash{level, h})
				}
				checkEntry(seq, entry)
				stored = stored[:0]
				linked, next = next, nil
				n++
			default:
				bad.report(seq, "unexpected key %x", k)
			}
		}
		switch {
		case stop():
		case next != nil:
			bad.report(n, "record is missing (only its link to a successor is stored)")
		case linked != nil:
			bad.report(n, "record is missing: record %d links to it (records were removed from the end)", n-1)
		}
		return nil
	})
	if len(batch) > 0 {
		batches <- batch
	}
	close(batches)
	wg.Wait()
	if readErr != nil {
		return nil, fmt.Errorf("read ledger: %w", readErr)
	}
	if bad.err != nil {
		return nil, bad.err
	}
	rep.Size = n
	if n > 0 {
		rep.Root = tree.root()
	}
	if opts.Progress != nil {
		opts.Progress(n)
	}

	sort.Slice(cps, func(i, j int) bool { return cps[i].c.Size < cps[j].c.Size })
	for _, cp := range cps {
		c, err := OpenCheckpoint(cp.note, rep.Keys...)
		if err != nil {
			return nil, &VerifyError{-1, "stored " + err.Error()}
		}
		if c.Origin != l.origin {
			return nil, &VerifyError{-1, fmt.Sprintf("stored checkpoint names ledger %s, not %s", c.Origin, l.origin)}
		}
		if c.Size > n {
			return nil, &VerifyError{n, fmt.Sprintf("record is missing: a stored checkpoint covers %d records, the ledger ends after %d (records were removed from the end)", c.Size, n)}
		}
		if c.Size == 0 || rootAt[c.Size] != c.Root {
			return nil, &VerifyError{-1, fmt.Sprintf("the records do not match the stored checkpoint at size %d (its root differs)", c.Size)}
		}
		rep.Checkpoints = append(rep.Checkpoints, c)
	}
	if since != nil {
		c, err := OpenCheckpoint(opts.Since, rep.Keys...)
		if err != nil {
			return nil, &VerifyError{-1, "the earlier checkpoint: " + err.Error()}
		}
		switch {
		case c.Size > n:
			return nil, &VerifyError{-1, fmt.Sprintf("rollback: the earlier checkpoint covers %d records, but the ledger has only %d; records were removed or this is an older copy", c.Size, n)}
		case c.Size == 0 || rootAt[c.Size] != c.Root:
			return nil, &VerifyError{-1, fmt.Sprintf("fork: the ledger's first %d records differ from those the earlier checkpoint committed to; history was rewritten or this is a different copy", c.Size)}
		}
		// The rebuilt roots already prove it; the stored-hash proof must agree.
		if c.Size < n {
			p, err := l.ConsistencyProof(c.Size, n)
			if err == nil {
				err = tlog.CheckTree(p, n, rep.Root, c.Size, c.Root)
			}
			if err != nil {
				return nil, &VerifyError{-1, "consistency proof from the earlier checkpoint fails: " + err.Error()}
			}
		}
		rep.Since = c
	}
	return rep, nil
}

type storedHash struct {
	level int
	hash  tlog.Hash
}
