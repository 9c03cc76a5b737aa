// Package ledger is an append-only, tamper-evident log of opaque records.
//
// Each record is signed with Ed25519 by its author, linked to the one before it,
// and is a leaf of an RFC 6962 Merkle tree whose stored hashes follow
// golang.org/x/mod/sumdb/tlog. Signed checkpoints (C2SP tlog-checkpoint in a C2SP
// signed note) commit to the tree; inclusion and consistency proofs relate records
// and checkpoints to each other. FORMAT.md specifies every byte.
//
// The package knows nothing about what the records mean.
package ledger

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"golang.org/x/mod/sumdb/tlog"
)

// A Ledger is an open ledger directory. It holds an exclusive lock on the directory
// until Close; it is safe for use by one goroutine at a time.
type Ledger struct {
	dir    string
	db     *badger.DB
	lock   *dirLock
	origin string
	size   int64
	last   *Record // nil when size == 0 or the last entry is unreadable

	now      func() time.Time
	txnBytes int
	closed   bool
	bulk     bool  // SyncWrites is off: AppendBatch syncs before it returns
	runs     int64 // processes that appended, for the compaction schedule
	appended bool

	// readOnly: Badger is open read-only, and the first write reopens it for
	// writing (see writable).
	readOnly bool
	// reserve is the free space Badger needs for what it may flush and
	// compact on its own; written is what this process has committed. Both
	// feed checkSpace.
	reserve int64
	written int64
}

// Options controls Open and Create.
type Options struct {
	// LockTimeout is how long to wait for another process holding the ledger.
	// Zero means DefaultLockTimeout.
	LockTimeout time.Duration
	// Bulk tunes the storage for appending many records in one call.
	Bulk bool
	// ReadOnly opens the storage without writing to it, for commands that
	// only read: they must work on a full disk, where a writable open of
	// Badger would crash the process (see space.go). The first write (an
	// append, a checkpoint) reopens it for writing, still under the lock.
	ReadOnly bool
}

var (
	// ErrNotExist is wrapped when Open finds no ledger in the directory.
	ErrNotExist = errors.New("no ledger")
	// ErrExist is wrapped when Create finds a ledger already there.
	ErrExist = errors.New("ledger already exists")
	// ErrClockBehind is wrapped when the clock is earlier than the last record.
	ErrClockBehind = errors.New("clock is behind the last record")
	// ErrOldLayout is returned by Open for a ledger stored in the layout of cairn's
	// first release, which kept each record's tree hashes under a key of their own.
	ErrOldLayout = errors.New("the ledger is stored in an earlier layout (tree hashes under their own keys); " +
		"export it with `cairn archive` from the cairn release that wrote it, then `cairn restore` it with this one")
)

// NewOrigin returns a fresh origin line that names one ledger uniquely:
// "cairn.ledger/" and 20 random base32 characters (100 bits).
func NewOrigin() string {
	var b [12]byte
	rand.Read(b[:])
	return "cairn.ledger/" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])[:20])
}

// ValidOrigin reports whether s can be a checkpoint origin line: printable ASCII
// without spaces or plus signs (so it is also a valid signed-note key name).
func ValidOrigin(s string) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' || c == '+' {
			return false
		}
	}
	return true
}

// Create makes a new, empty ledger in dir with the given origin.
func Create(dir, origin string, opts *Options) (*Ledger, error) {
	if !ValidOrigin(origin) {
		return nil, fmt.Errorf("invalid origin %q", origin)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	l, err := open(dir, opts)
	if err != nil {
		return nil, err
	}
	if l.origin != "" {
		l.Close()
		return nil, fmt.Errorf("%s: %w", dir, ErrExist)
	}
	err = l.update(len(origin), func(txn *badger.Txn) error { return txn.Set(originKey, []byte(origin)) })
	if err != nil {
		l.Close()
		return nil, err
	}
	l.origin = origin
	return l, nil
}

// Open opens the existing ledger in dir, waiting up to opts.LockTimeout for another
// process to release it.
func Open(dir string, opts *Options) (*Ledger, error) {
	if fi, err := os.Stat(filepath.Join(dir, "MANIFEST")); err != nil || fi.IsDir() {
		return nil, fmt.Errorf("%s: %w", dir, ErrNotExist)
	}
	l, err := open(dir, opts)
	if err != nil {
		return nil, err
	}
	if l.origin == "" {
		l.Close()
		return nil, fmt.Errorf("%s: %w (the directory holds a database without an origin)", dir, ErrNotExist)
	}
	return l, nil
}

func open(dir string, opts *Options) (*Ledger, error) {
	if opts == nil {
		opts = &Options{}
	}
	timeout := DefaultLockTimeout
	if opts.LockTimeout > 0 {
		timeout = opts.LockTimeout
	}
	lock, err := acquireLock(dir, timeout)
	if err != nil {
		return nil, err
	}
	l := &Ledger{dir: dir, lock: lock, now: time.Now, txnBytes: txnBudget(opts.Bulk), bulk: opts.Bulk, runs: readRuns(dir)}
	if err := l.openDB(opts.ReadOnly); err != nil {
		lock.release()
		return nil, err
	}
	if err := l.load(); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// openDB opens Badger, read-only or for writing. The caller holds the lock.
func (l *Ledger) openDB(readOnly bool) error {
	if err := removeEmptyWALs(l.dir); err != nil {
		return err
	}
	st, err := inspectStorage(l.dir, false)
	if err != nil {
		return err
	}
	l.reserve = st.reserve()
	if readOnly {
		db, err := badger.Open(badgerOptions(l.dir, l.bulk, false).WithReadOnly(true))
		if err == nil {
			l.db, l.readOnly = db, true
			return nil
		}
		// A log left by a process that did not close must be replayed and
		// truncated, which a read-only open refuses to do.
		if !errors.Is(err, badger.ErrTruncateNeeded) {
			return l.openError(err)
		}
	}
	if err := l.checkSpace(0); err != nil {
		return err
	}
	// Only an optimisation: a manifest that cannot be rewritten (a full disk, a
	// corrupt file) is left as it is, for Badger to read or to report.
	_ = compactManifest(l.dir)
	db, err := badger.Open(badgerOptions(l.dir, l.bulk, l.runs%compactEvery == compactEvery-1))
	if err != nil {
		return l.openError(err)
	}
	l.db, l.readOnly = db, false
	return nil
}

// openError explains why Badger did not open: damaged tables (an index that
// does not match its checksum) are named as such; anything else is passed on.
func (l *Ledger) openError(err error) error {
	if _, derr := inspectStorage(l.dir, true); derr != nil {
		return derr
	}
	return fmt.Errorf("open ledger database in %s: %w", l.dir, err)
}

// writable reopens a ledger opened read-only for writing, before its first
// write. The lock is held throughout, so nothing it loaded has changed.
func (l *Ledger) writable() error {
	if !l.readOnly {
		return nil
	}
	if err := l.db.Close(); err != nil {
		return fmt.Errorf("reopen the ledger for writing: %w", err)
	}
	l.db = nil
	err := l.openDB(false)
	if err != nil {
		// Refused (a full disk): stay open for reading, as before.
		if rerr := l.openDB(true); rerr != nil {
			return errors.Join(err, rerr)
		}
	}
	return err
}

// ReadOnly reports whether the ledger is open read-only: nothing has been
// written by this process.
func (l *Ledger) ReadOnly() bool { return l.readOnly }

// compactEvery sets how often a closing process compacts level 0. Compacting on
// every close rewrites the newest table and records two table deletions in
// Badger's MANIFEST, which every open replays until Badger rewrites it after
// 10,000 deletions. Compacting every eighth run leaves at most seven tiny
// level-0 tables for an open to read and cuts those costs eightfold.
const compactEvery = 8

// runsName is a counter of appending processes, kept beside the lock. It only
// schedules compaction: a lost or corrupt count costs one early or late
// compaction, nothing else.
const runsName = "cairn.runs"

func readRuns(dir string) int64 {
	b, err := os.ReadFile(filepath.Join(dir, runsName))
	if err != nil {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

func writeRuns(dir string, n int64) {
	os.WriteFile(filepath.Join(dir, runsName), []byte(strconv.FormatInt(n, 10)+"\n"), 0o644)
}

// maxRecentBytes is how much data may sit above the bottom level before Close
// flattens it down (see DESIGN.md, "Storage").
const maxRecentBytes = 1 << 20

// maintain keeps the cost of a short process flat as the ledger grows. Each close
// merges the new records into the newest table above the bottom level, so that
// table grows with every run, and so does the cost of rewriting it. Once the data
// above the bottom level passes maxRecentBytes, one run pushes it down into the
// bottom level's newest table (which its keys overlap, see nextKey), where it
// joins a large table. The cost of that run is spread over about a thousand.
func (l *Ledger) maintain() {
	if l.readOnly {
		return
	}
	tables := l.db.Tables()
	bottom := 0
	for _, t := range tables {
		bottom = max(bottom, t.Level)
	}
	var recent uint64
	for _, t := range tables {
		if t.Level < bottom {
			recent += uint64(t.OnDiskSize)
		}
	}
	// Flattening rewrites the recent data into the bottom level's newest
	// table; on a disk without room for that, it waits for a later run.
	if recent > maxRecentBytes && l.checkSpace(int64(recent)) == nil {
		l.db.Flatten(1)
	}
}

// removeEmptyWALs deletes zero-length memtable and value logs. A process killed
// right after Badger created one, before it was sized, leaves it behind, and Badger
// then refuses to open ("while opening fid: N err: Create a new file"). An empty log
// holds no record: an acknowledged append was synced into a log that had its bytes.
// The caller holds the ledger lock, so no live process is writing the file.
func removeEmptyWALs(dir string) error {
	mem, err := filepath.Glob(filepath.Join(dir, "*.mem"))
	if err != nil {
		return err
	}
	vlog, err := filepath.Glob(filepath.Join(dir, "*.vlog"))
	if err != nil {
		return err
	}
	paths := append(mem, vlog...)
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil && fi.Size() == 0 {
			if err := os.Remove(p); err != nil {
				return fmt.Errorf("remove empty memtable log %s: %w", p, err)
			}
		}
	}
	return nil
}

// load reads the origin and finds the last record. The size is the last record key
// plus one: keys sort by sequence number and every append commits atomically.
func (l *Ledger) load() error {
	return l.db.View(func(txn *badger.Txn) error {
		if item, err := txn.Get(originKey); err == nil {
			v, _ := item.ValueCopy(nil)
			l.origin = string(v)
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		it := txn.NewIterator(badger.IteratorOptions{Reverse: true, Prefix: []byte("e")})
		defer it.Close()
		it.Seek([]byte("e\xff"))
		if !it.Valid() {
			return nil
		}
		k := it.Item().Key()
		if len(k) < 10 {
			return fmt.Errorf("corrupt ledger: unexpected key %x", k)
		}
		last := int64(binary.BigEndian.Uint64(k[1:9]))
		l.size = last + 1
		item, err := txn.Get(entryKey(last))
		if err != nil {
			return nil // verification names the problem; appends refuse below
		}
		v, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		r, err := decodeStored(v)
		if err != nil {
			if _, herr := txn.Get(append(entryKey(last)[:9], 'h')); herr == nil {
				return ErrOldLayout
			}
			return nil // verification names the problem; appends refuse below
		}
		if r.Seq == last {
			l.last = r
		}
		return nil
	})
}

// Close releases the database and the directory lock.
func (l *Ledger) Close() error {
	if l.closed {
		return errors.New("ledger already closed")
	}
	l.closed = true
	var err error
	if l.db != nil {
		l.maintain()
		err = l.db.Close()
	}
	if l.appended && err == nil {
		writeRuns(l.dir, l.runs+1)
	}
	if lerr := l.lock.release(); err == nil {
		err = lerr
	}
	return err
}

// Dir returns the ledger's directory.
func (l *Ledger) Dir() string { return l.dir }

// Origin returns the ledger's origin line, which names it in checkpoints.
func (l *Ledger) Origin() string { return l.origin }

// Size returns the number of records.
func (l *Ledger) Size() int64 { return l.size }

// Last returns the last record, or nil for an empty ledger.
func (l *Ledger) Last() *Record { return l.last }

// SetClock replaces the clock used to timestamp records (tests only).
func (l *Ledger) SetClock(now func() time.Time) { l.now = now }

// Append signs payload with key and appends it as one durable transaction.
func (l *Ledger) Append(key ed25519.PrivateKey, payload []byte) (*Record, error) {
	recs, err := l.AppendBatch(key, [][]byte{payload})
	if err != nil {
		return nil, err
	}
	return recs[0], nil
}

// txnMaxRecords bounds the records of one transaction, and so the work lost to a
// crash. It also bounds the tail of a batch, when the last transaction commits
// with nothing left to sign beside it: 4,096 records left a core idle for 40 ms.
const txnMaxRecords = 1024

// bulkSyncRecords is how often, in records, a bulk AppendBatch syncs while it
// runs (see AppendBatch).
const bulkSyncRecords = 2 * txnMaxRecords

// signRun is how many records a signing worker takes at a time: small enough that
// the cores finish a transaction together and the commit goroutine gets a turn
// often, large enough that the switches cost little beside the signatures.
// Measured with BenchmarkBulkAppend: runs of 32, 64 and 128 gave 62.5%, 64.1%
// and 65.8% of the signing rate; larger runs were no better within the noise.
const signRun = 128

// AppendBatch appends payloads in order. It signs them in parallel and commits them
// in transactions of whole records; on error, the records already committed are
// returned with it.
//
// Three stages run at once, so that every core stays busy: this goroutine lays
// out the bodies in order (each links to the previous body, so no signature is
// awaited); one worker per core signs runs of records, whichever run is next; one
// goroutine hashes each chunk into the tree and commits it, in order, once all its
// runs are signed. An earlier version signed a chunk and then waited for it, so a
// core sat idle whenever the commit goroutine or the storage engine took the other.
func (l *Ledger) AppendBatch(key ed25519.PrivateKey, payloads [][]byte) ([]*Record, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, errors.New("append: invalid Ed25519 private key")
	}
	if l.size > 0 && l.last == nil {
		return nil, fmt.Errorf("append: the last record (%d) is missing or unreadable; run verification", l.size-1)
	}
	for i, p := range payloads {
		if len(p) > MaxPayload {
			return nil, fmt.Errorf("append: record %d of the batch is %d bytes; the limit is %d", i, len(p), MaxPayload)
		}
	}
	pub := key.Public().(ed25519.PublicKey)
	out := make([]*Record, 0, len(payloads))

	type chunk struct {
		recs   []*Record
		signed sync.WaitGroup
	}
	type run struct {
		recs   []*Record
		signed *sync.WaitGroup
	}
	runs := make(chan run, 2*txnMaxRecords/signRun)
	var workers sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		workers.Add(1)
		go func() {
			defer workers.Done()
			var msg []byte
			for r := range runs {
				msg = signRecords(l.origin, key, r.recs, msg)
				r.signed.Done()
				// Let the commit goroutine in. Without this it waits for the
				// scheduler to preempt a signer, falls behind, and commits its
				// backlog alone at the end while a core idles.
				runtime.Gosched()
			}
		}()
	}
	// At most eight transactions' records wait while one commits: that bounds the
	// memory a batch of any length holds (about 10 MB of 500-byte records), and
	// lets signing run ahead while a commit waits for a sync or a memtable flush.
	chunks := make(chan *chunk, 8)
	var failed atomic.Bool
	done := make(chan error, 1)
	go func() {
		var err error
		unsynced := 0
		for c := range chunks {
			c.signed.Wait()
			if err != nil {
				continue
			}
			if err = l.commit(c.recs); err == nil {
				out = append(out, c.recs...)
				unsynced += len(c.recs)
				// In bulk mode Badger does not sync each commit. Sync every few
				// transactions, while the cores sign the next ones, so that the
				// sync that acknowledges the batch has little left to write.
				if l.bulk && unsynced >= bulkSyncRecords {
					if serr := l.db.Sync(); serr != nil {
						err = fmt.Errorf("append: sync: %w", serr)
					}
					unsynced = 0
				}
			}
			if err != nil {
				failed.Store(true)
			}
		}
		done <- err
	}()

	seq := l.size
	prevTime := time.Time{}
	var prev tlog.Hash
	if l.last != nil {
		prevTime = l.last.Time
		prev = bodyHash(l.last.Entry)
	}
	var err error
	for start := 0; start < len(payloads) && err == nil && !failed.Load(); {
		end, bytes := start, 0
		for end < len(payloads) && end-start < txnMaxRecords && (end == start || bytes+len(payloads[end]) < l.txnBytes) {
			// A record above the value threshold is stored as a pointer.
			bytes += min(len(payloads[end]), 64<<10) + MinEntrySize + 200
			end++
		}
		recs := make([]*Record, end-start)
		for i := range recs {
			t := l.now().UTC()
			if t.Before(prevTime) {
				err = fmt.Errorf("%w: now is %s, the last record says %s; fix the system clock (records are never reordered)",
					ErrClockBehind, t.Format(time.RFC3339Nano), prevTime.Format(time.RFC3339Nano))
				break
			}
			body := encodeUnsigned(seq, t, prev, pub, payloads[start+i])
			recs[i] = &Record{Seq: seq, Time: t, Prev: prev, Key: pub, Entry: body}
			prev = sha256.Sum256(body)
			prevTime = t
			seq++
		}
		if err != nil {
			break
		}
		c := &chunk{recs: recs}
		c.signed.Add((len(recs) + signRun - 1) / signRun)
		chunks <- c
		for i := 0; i < len(recs); i += signRun {
			runs <- run{recs[i:min(i+signRun, len(recs))], &c.signed}
		}
		start = end
	}
	close(runs)
	close(chunks)
	cerr := <-done
	workers.Wait()
	if l.bulk && len(out) > 0 {
		// Nothing is acknowledged before it is on disk.
		if serr := l.db.Sync(); serr != nil {
			return nil, fmt.Errorf("append: sync: %w", serr)
		}
	}
	if cerr != nil {
		return out, cerr
	}
	return out, err
}

// bodyHash is the chain link: SHA-256 of an entry without its signature.
func bodyHash(entry []byte) tlog.Hash {
	return sha256.Sum256(entry[:len(entry)-signatureSize])
}

// signRecords signs each record's body and appends the signature to its entry.
// msg is a scratch buffer for the signed message (prefix, origin, body), returned
// for reuse.
func signRecords(origin string, key ed25519.PrivateKey, recs []*Record, msg []byte) []byte {
	for _, r := range recs {
		msg = append(append(append(append(msg[:0], signaturePrefix...), origin...), '\n'), r.Entry...)
		r.Sig = ed25519.Sign(key, msg)
		r.Entry = append(r.Entry, r.Sig...)
		r.Payload = r.Entry[headerSize : len(r.Entry)-signatureSize]
	}
	return msg
}

// commit writes records and their stored hashes in one transaction.
func (l *Ledger) commit(recs []*Record) error {
	if err := l.writable(); err != nil {
		return err
	}
	txn := l.db.NewTransaction(true)
	defer txn.Discard()
	hr := hashReader{txn: txn, pendingFrom: tlog.StoredHashIndex(0, recs[0].Seq), pending: make([]tlog.Hash, 0, 2*len(recs)+64)}
	var size int64
	for _, r := range recs {
		if r.Seq != l.size {
			return fmt.Errorf("append: internal error: record %d at size %d", r.Seq, l.size)
		}
		leaf := r.Hash()
		hashes, err := tlog.StoredHashesForRecordHash(r.Seq, leaf, hr)
		if err != nil {
			return fmt.Errorf("append: tree hashes for record %d: %w", r.Seq, err)
		}
		// The entry was laid out with room for its hashes (encodeUnsigned): the
		// stored value extends it in place, and r.Entry keeps its length. Every
		// record here owns its entry's array (AppendBatch lays it out,
		// appendEntries clones it), so nothing else lives in that room.
		stored := r.Entry[:len(r.Entry):cap(r.Entry)]
		for _, h := range hashes {
			stored = append(stored, h[:]...)
		}
		hr.pending = append(hr.pending, hashes...)
		if err := txn.Set(entryKey(r.Seq), stored); err != nil {
			return err
		}
		size += int64(len(stored)) + 2*tlog.HashSize + 64 // the forward link, keys, Badger's headers
		if r.Seq > 0 {
			if err := txn.Set(nextKey(r.Seq-1), leaf[:]); err != nil {
				return err
			}
		}
		l.size++
	}
	if err := l.checkSpace(size); err != nil {
		l.size -= int64(len(recs))
		return err
	}
	if err := txn.Commit(); err != nil {
		l.size -= int64(len(recs))
		return fmt.Errorf("append: commit: %w", err)
	}
	l.written += size
	l.last = recs[len(recs)-1]
	l.appended = true
	return nil
}

// update runs one read-write transaction and makes it durable before returning,
// also in bulk mode, where Badger does not sync each commit.
func (l *Ledger) update(size int, fn func(*badger.Txn) error) error {
	if err := l.writable(); err != nil {
		return err
	}
	if err := l.checkSpace(int64(size)); err != nil {
		return err
	}
	if err := l.db.Update(fn); err != nil {
		return err
	}
	l.written += int64(size)
	if l.bulk {
		return l.db.Sync()
	}
	return nil
}

// Get returns record seq.
func (l *Ledger) Get(seq int64) (*Record, error) {
	if seq < 0 || seq >= l.size {
		return nil, fmt.Errorf("no record %d: the ledger has %d records (0 to %d)", seq, l.size, l.size-1)
	}
	var r *Record
	err := l.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(entryKey(seq))
		if err != nil {
			return fmt.Errorf("record %d: %w", seq, err)
		}
		v, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		r, err = decodeStored(v)
		if err != nil {
			return fmt.Errorf("record %d: %w", seq, err)
		}
		if r.Seq != seq {
			err = fmt.Errorf("record stored at %d says it is %d", seq, r.Seq)
		}
		return err
	})
	return r, err
}

// Scan calls fn for every record from seq from on, in order, until fn returns an
// error. Records are decoded but not verified.
func (l *Ledger) Scan(from int64, fn func(*Record) error) error {
	return l.db.View(func(txn *badger.Txn) error {
		// No value prefetching (see Verify).
		opts := badger.IteratorOptions{Prefix: []byte("e")}
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Seek(entryKey(from)); it.Valid(); it.Next() {
			k := it.Item().Key()
			if len(k) != 10 || k[9] != 'r' {
				continue
			}
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			r, err := decodeStored(v)
			if err != nil {
				return fmt.Errorf("record at key %d: %w", binary.BigEndian.Uint64(k[1:9]), err)
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	})
}

// TreeHash returns the Merkle root of the first size records, from stored hashes.
func (l *Ledger) TreeHash(size int64) (tlog.Hash, error) {
	if size < 0 || size > l.size {
		return tlog.Hash{}, fmt.Errorf("tree size %d out of range [0, %d]", size, l.size)
	}
	var h tlog.Hash
	err := l.db.View(func(txn *badger.Txn) error {
		var err error
		h, err = tlog.TreeHash(size, hashReader{txn: txn})
		return err
	})
	return h, err
}

// InclusionProof proves that record seq is leaf seq of the tree of size size.
func (l *Ledger) InclusionProof(seq, size int64) (tlog.RecordProof, error) {
	if size > l.size || seq < 0 || seq >= size {
		return nil, fmt.Errorf("no inclusion proof for record %d in a tree of %d (the ledger has %d)", seq, size, l.size)
	}
	var p tlog.RecordProof
	err := l.db.View(func(txn *badger.Txn) error {
		var err error
		p, err = tlog.ProveRecord(size, seq, hashReader{txn: txn})
		return err
	})
	return p, err
}

// ConsistencyProof proves that the tree of size oldSize is a prefix of the tree of size size.
func (l *Ledger) ConsistencyProof(oldSize, size int64) (tlog.TreeProof, error) {
	if size > l.size || oldSize < 1 || oldSize > size {
		return nil, fmt.Errorf("no consistency proof from %d to %d (the ledger has %d)", oldSize, size, l.size)
	}
	var p tlog.TreeProof
	err := l.db.View(func(txn *badger.Txn) error {
		var err error
		p, err = tlog.ProveTree(size, oldSize, hashReader{txn: txn})
		return err
	})
	return p, err
}

// PutCheckpoint stores a signed checkpoint note after checking that it is for this
// ledger and matches the tree. The signature is the caller's to check.
func (l *Ledger) PutCheckpoint(text []byte) error {
	c, err := ParseCheckpoint(text)
	if err != nil {
		return err
	}
	if c.Origin != l.origin {
		return fmt.Errorf("checkpoint origin %q is not this ledger's (%q)", c.Origin, l.origin)
	}
	root, err := l.TreeHash(c.Size)
	if err != nil {
		return err
	}
	if root != c.Root {
		return fmt.Errorf("checkpoint root for size %d does not match the ledger", c.Size)
	}
	// Signing is deterministic: the same key signs the same tree into the
	// same note, and storing it again would only be a write (one a read-only
	// ledger, on a full disk, cannot make).
	if old, err := l.CheckpointAt(c.Size); err == nil && bytes.Equal(old, text) {
		return nil
	}
	return l.update(len(text), func(txn *badger.Txn) error { return txn.Set(checkpointKey(c.Size), text) })
}

// Checkpoints returns the stored checkpoint notes, oldest first.
func (l *Ledger) Checkpoints() ([][]byte, error) {
	var out [][]byte
	err := l.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("k/"), PrefetchValues: true, PrefetchSize: 16})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return nil
	})
	return out, err
}

// LatestCheckpoint returns the newest stored checkpoint note, or nil.
func (l *Ledger) LatestCheckpoint() ([]byte, error) {
	all, err := l.Checkpoints()
	if err != nil || len(all) == 0 {
		return nil, err
	}
	return all[len(all)-1], nil
}
