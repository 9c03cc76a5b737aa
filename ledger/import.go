package ledger

import (
	"bytes"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// AppendEntries appends entries that were signed elsewhere (a portable archive of
// this ledger, say) byte for byte, without re-signing them. Each entry must be the
// next one: it decodes, its seq is the ledger's size, its prev is the chain link to
// the last record, its time is not earlier than the last record's, and its
// signature verifies for this ledger's origin. So an import keeps every invariant
// an append keeps, and a restored ledger has the same leaves, and the same roots,
// as the one archived.
//
// Whether the author's key may sign records is the domain's rule, as for Append.
// Entries are committed in transactions of whole records; on error, the records
// already committed are returned with it.
func (l *Ledger) AppendEntries(entries [][]byte) ([]*Record, error) {
	out, err := l.appendEntries(entries)
	if l.bulk && len(out) > 0 {
		// In bulk mode Badger does not sync each commit; nothing is
		// acknowledged before it is on disk.
		if serr := l.db.Sync(); serr != nil {
			return nil, fmt.Errorf("import: sync: %w", serr)
		}
	}
	return out, err
}

func (l *Ledger) appendEntries(entries [][]byte) ([]*Record, error) {
	if l.size > 0 && l.last == nil {
		return nil, fmt.Errorf("import: the last record (%d) is missing or unreadable; run verification", l.size-1)
	}
	var (
		out      []*Record
		prev     tlog.Hash
		prevTime time.Time
	)
	if l.last != nil {
		prev, prevTime = bodyHash(l.last.Entry), l.last.Time
	}
	seq := l.size
	var chunk []*Record
	chunkBytes := 0
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		if err := l.commit(chunk); err != nil {
			return err
		}
		out = append(out, chunk...)
		chunk, chunkBytes = nil, 0
		return nil
	}
	for _, e := range entries {
		r, err := DecodeEntry(bytes.Clone(e))
		if err != nil {
			return out, fmt.Errorf("import: record %d: %w", seq, err)
		}
		switch {
		case r.Seq != seq:
			return out, fmt.Errorf("import: entry says it is record %d, the ledger expects record %d next", r.Seq, seq)
		case r.Prev != prev:
			return out, fmt.Errorf("import: record %d: chain link does not match record %d", seq, seq-1)
		case r.Time.Before(prevTime):
			return out, fmt.Errorf("import: record %d: timestamp %s is earlier than record %d's %s", seq, r.Time.Format(time.RFC3339Nano), seq-1, prevTime.Format(time.RFC3339Nano))
		case !r.CheckSignature(l.origin):
			return out, fmt.Errorf("import: record %d: signature does not verify for ledger %s (key %s)", seq, l.origin, KeyID(r.Key))
		}
		// Same transaction budget as AppendBatch: a record above the value
		// threshold is stored as a pointer.
		size := min(len(r.Payload), 64<<10) + MinEntrySize + 200
		if len(chunk) > 0 && (len(chunk) == txnMaxRecords || chunkBytes+size >= l.txnBytes) {
			if err := flush(); err != nil {
				return out, err
			}
		}
		chunk = append(chunk, r)
		chunkBytes += size
		prev, prevTime = bodyHash(r.Entry), r.Time
		seq++
	}
	return out, flush()
}
