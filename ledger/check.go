package ledger

import (
	"crypto/ed25519"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// A RecordChecker checks entries given to it in ledger order, with no storage
// behind it: the rules of FORMAT.md §1.4 (layout, sequence number, chain link,
// time order, signature) and the domain's rules, and it rebuilds the RFC 6962
// tree in a compact range. It is the one implementation of those rules, shared
// by Ledger.Verify, the archive reader and AppendEntries (which a restore uses).
//
// Signatures are checked on every core while the caller goes on adding; the
// problem reported is always the one at the lowest sequence number.
type RecordChecker struct {
	origin   string
	next     int64 // the sequence number the next entry must have
	prevBody tlog.Hash
	prevTime time.Time
	tree     *compactRange // nil when the checker starts after record 0
	domain   func(*Record) error
	all      bool // go on after a bad record (CheckOptions.All)

	bad     firstProblem
	batch   []*Record
	batches chan []*Record
	pending sync.WaitGroup // batches handed to the workers and not yet checked
	workers sync.WaitGroup
	closed  bool

	keys        []ed25519.PublicKey // distinct signers, in order of first appearance
	seen        map[string]bool
	first, last time.Time
}

// CheckOptions controls a RecordChecker.
type CheckOptions struct {
	// Workers is the number of signature-checking goroutines; 0 means GOMAXPROCS.
	Workers int
	// CheckRecord, if set, is called for every entry in order, after its
	// layout, sequence number, chain link and time are checked (its signature
	// may still be under check). An error marks the record bad. The domain
	// layer uses it to decide which keys may sign which records.
	CheckRecord func(*Record) error
	// After is the last record already in the ledger, when checking entries
	// that are to follow it (an import). Nil: the first entry is record 0, and
	// the checker rebuilds the tree.
	After *Record
	// All keeps checking after a bad record, so that every problem is found
	// (up to MaxProblems), not only the first: a record whose link, time, rule
	// or signature is wrong is reported and the next one checked against it.
	All bool
}

// MaxProblems bounds what a verification that looks for every problem keeps.
const MaxProblems = 1000

// checkBatch is how many records a signature worker takes at a time; workers
// yield between batches so that the single caller keeps every core fed.
const checkBatch = 64

// NewRecordChecker starts a checker for the ledger named origin. Close it.
func NewRecordChecker(origin string, opts CheckOptions) *RecordChecker {
	c := &RecordChecker{origin: origin, domain: opts.CheckRecord, seen: map[string]bool{}, all: opts.All}
	c.bad.all = opts.All
	if a := opts.After; a != nil {
		c.next, c.prevBody, c.prevTime = a.Seq+1, bodyHash(a.Entry), a.Time
	} else {
		c.tree = &compactRange{}
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	c.batches = make(chan []*Record, 2*workers)
	for range workers {
		c.workers.Add(1)
		go c.checkSignatures()
	}
	return c
}

func (c *RecordChecker) checkSignatures() {
	defer c.workers.Done()
	var buf []byte
	for b := range c.batches {
		for _, r := range b {
			var ok bool
			if ok, buf = r.checkSignature(c.origin, buf); !ok {
				c.bad.report(r.Seq, "signature does not verify (key %s)", KeyID(r.Key))
			}
		}
		c.pending.Done()
		runtime.Gosched()
	}
}

// Add checks the next entry. It returns the decoded record (which holds entry,
// not a copy) and the tree hashes the record completes, its leaf hash first
// (tlog's stored hashes, FORMAT.md §6), or nil if the entry breaks a rule; the
// problem is kept for Err. Once a problem is found, nothing later can be
// trusted: callers stop adding.
func (c *RecordChecker) Add(entry []byte) (*Record, []tlog.Hash) {
	seq := c.next
	r, err := DecodeEntry(entry)
	if err != nil {
		// Without a layout nothing after it can be placed: stop, even in All.
		c.bad.report(seq, "%v", err)
		c.bad.stop = true
		return nil, nil
	}
	ok := true
	bad := func(format string, args ...any) {
		c.bad.report(seq, format, args...)
		ok = false
	}
	switch {
	case r.Seq != seq:
		bad("entry says it is record %d (records moved, inserted or removed)", r.Seq)
	case r.Prev != c.prevBody:
		bad("chain link does not match record %d (a record before it was changed, removed or inserted)", seq-1)
	case r.Time.Before(c.prevTime):
		bad("timestamp %s is earlier than record %d's %s", r.Time.Format(time.RFC3339Nano), seq-1, c.prevTime.Format(time.RFC3339Nano))
	}
	if ok && c.domain != nil {
		if err := c.domain(r); err != nil {
			bad("%v", err)
		}
	}
	if !ok && !c.all {
		return nil, nil
	}
	var done []tlog.Hash
	if c.tree != nil {
		done = c.tree.push(seq, r.Hash())
	}
	if !c.seen[string(r.Key)] {
		c.seen[string(r.Key)] = true
		c.keys = append(c.keys, r.Key)
	}
	if seq == 0 || c.first.IsZero() {
		c.first = r.Time
	}
	c.last = r.Time
	c.prevBody, c.prevTime = bodyHash(entry), r.Time
	c.next++
	c.batch = append(c.batch, r)
	if len(c.batch) == checkBatch {
		c.flush()
	}
	return r, done
}

func (c *RecordChecker) flush() {
	if len(c.batch) > 0 {
		c.pending.Add(1)
		c.batches <- c.batch
		c.batch = nil
	}
}

// Report records a problem found outside the checker (in storage, say) for
// record seq.
func (c *RecordChecker) Report(seq int64, format string, args ...any) {
	c.bad.report(seq, format, args...)
}

// Failed reports whether checking should stop: a problem was found at or before
// the last record added (and the checker does not look for every problem), or
// one after which nothing can be checked.
func (c *RecordChecker) Failed() bool {
	if c.all {
		return c.bad.stopped()
	}
	return c.bad.seq() < c.next
}

// Wait waits until every record added so far has had its signature checked,
// and returns the first problem found, if any.
func (c *RecordChecker) Wait() *VerifyError {
	c.flush()
	c.pending.Wait()
	return c.bad.first()
}

// Close waits for the signature checks, stops the workers and returns the
// first problem found, if any.
func (c *RecordChecker) Close() *VerifyError {
	err := c.Wait()
	if !c.closed {
		c.closed = true
		close(c.batches)
		c.workers.Wait()
	}
	return err
}

// Size is the number of records accepted so far (the next sequence number).
func (c *RecordChecker) Size() int64 { return c.next }

// Root is the RFC 6962 root of the records added so far; only for a checker
// that started at record 0.
func (c *RecordChecker) Root() tlog.Hash {
	if c.tree == nil || len(c.tree.hashes) == 0 {
		return tlog.Hash(emptyTreeHash)
	}
	return c.tree.root()
}

// Keys returns the distinct keys that signed the records added, in order of
// first appearance, and the times of the first and last record.
func (c *RecordChecker) Keys() []ed25519.PublicKey { return c.keys }

// Span returns the times of the first and last records added.
func (c *RecordChecker) Span() (first, last time.Time) { return c.first, c.last }

// emptyTreeHash is the RFC 6962 root of no records, SHA-256 of the empty string.
var emptyTreeHash = [32]byte{0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55}

// firstProblem keeps the bad record with the lowest sequence number; signature
// checks run in parallel and may report out of order. With all, it keeps
// every problem too (up to MaxProblems), for VerifyError.Others.
type firstProblem struct {
	mu   sync.Mutex
	err  *VerifyError
	all  bool
	list []*VerifyError
	stop bool // a problem after which nothing can be checked
}

func (f *firstProblem) report(seq int64, format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := fmt.Sprintf(format, args...)
	switch {
	case f.err == nil || seq < f.err.Seq:
		f.err = &VerifyError{Seq: seq, Problem: p}
	case seq == f.err.Seq && f.err.Problem != p:
		f.err.Problem += "; " + p
	}
	if f.all && len(f.list) < MaxProblems {
		f.list = append(f.list, &VerifyError{Seq: seq, Problem: p})
	}
}

func (f *firstProblem) stopped() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stop || len(f.list) >= MaxProblems
}

func (f *firstProblem) seq() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil {
		return 1 << 62
	}
	return f.err.Seq
}

// first is the lowest problem, with every problem in Others when all are kept.
func (f *firstProblem) first() *VerifyError {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil || !f.all {
		return f.err
	}
	all := append([]*VerifyError(nil), f.list...)
	sort.SliceStable(all, func(i, j int) bool { return all[i].Seq < all[j].Seq })
	e := *f.err
	e.Others = all
	return &e
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
