package ledger

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"os"
	"path/filepath"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"golang.org/x/mod/sumdb/tlog"
)

// Badger key layout (FORMAT.md, "Storage"):
//
//	"a/origin"                    the ledger's origin line, written once
//	"e" seq(8) "n"                the leaf hash of record seq+1 (see nextKey)
//	"e" seq(8) "r"                the entry bytes of record seq, then the stored
//	                              Merkle hashes it completes, level 0 first
//	"k/" size(8)                  the signed checkpoint note for that tree size
//
// Everything one append writes sorts after everything already stored. This is the
// point of the layout: a short-lived process flushes its memtable into one level-0
// table on close, and compacting that table rewrites every older table its key range
// overlaps. With per-record keys at the end of the key space the overlap is the last
// table alone, so an append costs the same at 100,000 records as at 10. A secondary
// index in its own key range would drag all of that range into every compaction.
func entryKey(seq int64) []byte {
	k := make([]byte, 10)
	k[0] = 'e'
	binary.BigEndian.PutUint64(k[1:], uint64(seq))
	k[9] = 'r'
	return k
}

// maxStoredValue is the largest value stored under entryKey: an entry of
// MaxPayload bytes and the most tree hashes a record can complete (64 levels).
const maxStoredValue = MaxPayload + MinEntrySize + 64*tlog.HashSize

// splitStored splits the value stored under entryKey into the entry and the
// stored hashes that follow it. An entry's length is in its header; the hashes
// are the rest, one or more whole hashes. Keeping them in one value instead of two
// makes an append write two keys instead of three (DESIGN.md, "Bulk appends").
func splitStored(v []byte) (entry, hashes []byte, err error) {
	if len(v) < MinEntrySize {
		return nil, nil, fmt.Errorf("%w: stored value of %d bytes, the smallest entry has %d", ErrMalformed, len(v), MinEntrySize)
	}
	n := binary.BigEndian.Uint32(v[88:92])
	if n > MaxPayload {
		return nil, nil, fmt.Errorf("%w: payload length %d exceeds the limit of %d", ErrMalformed, n, MaxPayload)
	}
	size := headerSize + int(n) + signatureSize
	if len(v) < size+tlog.HashSize || (len(v)-size)%tlog.HashSize != 0 {
		return nil, nil, fmt.Errorf("%w: stored value of %d bytes holds a %d-byte entry and %d bytes of tree hashes, not a whole number of hashes (at least one)",
			ErrMalformed, len(v), min(size, len(v)), max(len(v)-size, 0))
	}
	return v[:size], v[size:], nil
}

// decodeStored decodes the record in a value stored under entryKey.
func decodeStored(v []byte) (*Record, error) {
	entry, _, err := splitStored(v)
	if err != nil {
		return nil, err
	}
	return DecodeEntry(entry)
}

// hashLocation maps a tlog stored-hash index to the record that completed it and
// the hash's level: the hash at (level, n) is complete once leaf (n+1)<<level - 1
// is appended.
func hashLocation(index int64) (seq int64, level int) {
	level, n := tlog.SplitStoredHashIndex(index)
	return (n+1)<<uint(level) - 1, level
}

// nextKey holds, under record seq, the leaf hash of record seq+1. It is redundant
// (verification checks it), and it is there for the storage engine: it makes each
// append's keys overlap the newest stored table, so that compaction on close merges
// the append into that table instead of leaving one more tiny table behind.
func nextKey(seq int64) []byte {
	k := entryKey(seq)
	k[9] = 'n'
	return k
}

func checkpointKey(size int64) []byte {
	k := make([]byte, 10)
	copy(k, "k/")
	binary.BigEndian.PutUint64(k[2:], uint64(size))
	return k
}

var originKey = []byte("a/origin")

// badgerOptions tunes Badger for a command-line tool that opens the ledger, appends a
// record and closes, thousands of times a day (see shared/notes/badger-cli.md and
// DESIGN.md, "Storage"). Bulk work (imports, migrations) gets a larger memtable, so
// that it can commit thousands of records per transaction.
func badgerOptions(dir string, bulk, compactOnClose bool) badger.Options {
	memtable := int64(smallMemtable) // the WAL is mmapped and truncated at every open and close
	if bulk || hasLargeWAL(dir) {
		memtable = bulkMemtable
	}
	return badger.DefaultOptions(dir).
		// Bulk work syncs once, at the end of AppendBatch, instead of at every
		// transaction; single appends sync every commit.
		WithSyncWrites(!bulk).
		WithLogger(nil).
		WithMemTableSize(memtable).
		// Records above 64 KiB go to the value log, so that a 1 MiB record still fits
		// a transaction (at most 15% of the memtable) as a pointer.
		WithValueThreshold(64 << 10).
		// Value-log files as small as Badger allows: one must hold the largest
		// stored value (an entry of MaxPayload and its tree hashes). Every open
		// creates a new one, sparse, and mmaps twice this size; the first touch
		// of the mapping reads ahead into it, zero pages included (8 MiB of
		// read-ahead on this machine's disk), and close truncates them away.
		WithValueLogFileSize(maxStoredValue).
		WithNumMemtables(2).
		// Level-0 tables are compacted on close every compactEvery runs (see
		// ledger.go); until then they wait, and no write stalls on them.
		WithNumLevelZeroTables(2 * compactEvery).
		WithNumLevelZeroTablesStall(4 * compactEvery).
		WithNumCompactors(2).
		// Few large tables: every table is mmapped at open and msynced at close, so
		// their number, not their size, sets the fixed cost of a short process.
		WithBaseTableSize(8 << 20).
		WithBlockCacheSize(0).
		WithIndexCacheSize(0).
		WithCompression(options.None).
		WithMetricsEnabled(false).
		WithNumGoroutines(2).
		WithDetectConflicts(false).
		// Without this, every short-lived process leaves one more level-0 table and
		// opening slows from 14 ms to 190 ms after 1,000 runs.
		WithCompactL0OnClose(compactOnClose || bulk)
}

const (
	// A single append's memtable log is mmapped at twice this size and read
	// ahead like the value log. It must still take a transaction of one inline
	// record (64 KiB, the value threshold) under Badger's limit of 15%.
	smallMemtable = 512 << 10
	bulkMemtable  = 64 << 20
)

// hasLargeWAL reports whether a memtable log written with the bulk memtable size
// is waiting to be replayed: a bulk process was killed before it closed. Badger
// replays a log into a memtable of the size it is opened with, and a log larger
// than that memtable does not fit ("Arena too small", and the process exits).
// Such a log is replayed with the bulk size; closing then flushes it.
func hasLargeWAL(dir string) bool {
	paths, _ := filepath.Glob(filepath.Join(dir, "*.mem"))
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil && fi.Size() > 2*smallMemtable {
			return true
		}
	}
	return false
}

// txnBudget is how many bytes of records one transaction may carry: Badger refuses
// a transaction above 15% of the memtable; stay well below.
func txnBudget(bulk bool) int {
	if bulk {
		return bulkMemtable / 16
	}
	return 48 << 10
}

// storedHashCount is how many tree hashes record seq completes: its leaf, and
// one more for each trailing 1 bit of seq (FORMAT.md, "Storage").
func storedHashCount(seq int64) int {
	return 1 + bits.TrailingZeros64(^uint64(seq))
}

// hashReader reads tlog stored hashes from a Badger transaction, looking first in
// pending, the hashes of a transaction not yet committed: those with stored-hash
// indexes pendingFrom, pendingFrom+1, and so on (a transaction's records complete
// consecutive indexes).
type hashReader struct {
	txn         *badger.Txn
	pendingFrom int64
	pending     []tlog.Hash
}

func (r hashReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	var cachedSeq int64 = -1
	var cached []byte
	for i, x := range indexes {
		if x >= r.pendingFrom && x-r.pendingFrom < int64(len(r.pending)) {
			out[i] = r.pending[x-r.pendingFrom]
			continue
		}
		seq, level := hashLocation(x)
		if seq != cachedSeq {
			item, err := r.txn.Get(entryKey(seq))
			if err != nil {
				if errors.Is(err, badger.ErrKeyNotFound) {
					return nil, fmt.Errorf("record %d, whose stored hashes are needed, is missing", seq)
				}
				return nil, err
			}
			v, err := item.ValueCopy(nil)
			if err != nil {
				return nil, err
			}
			if _, cached, err = splitStored(v); err != nil {
				return nil, fmt.Errorf("record %d: %w", seq, err)
			}
			cachedSeq = seq
		}
		if len(cached) < (level+1)*tlog.HashSize {
			return nil, fmt.Errorf("stored hashes of record %d have %d bytes, too few for level %d", seq, len(cached), level)
		}
		copy(out[i][:], cached[level*tlog.HashSize:])
	}
	return out, nil
}
