package ledger

import (
	"bytes"
	"fmt"
)

// AppendEntries appends entries that were signed elsewhere (a portable archive of
// this ledger, say) byte for byte, without re-signing them. Each entry must be the
// next one, by the rules verification checks (RecordChecker): it decodes, its seq
// is the ledger's size, its prev is the chain link to the last record, its time is
// not earlier than the last record's, and its signature verifies for this
// ledger's origin. So an import keeps every invariant
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
	// The same checker as verification, started after the last record. Its
	// signature checks run while later entries are laid out; each transaction
	// waits for them, so nothing unchecked is committed.
	chk := NewRecordChecker(l.origin, CheckOptions{After: l.last})
	defer chk.Close()
	var out, chunk []*Record
	chunkBytes := 0
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		verr := chk.Wait()
		good := chunk
		if verr != nil {
			good = chunk[:max(0, min(int64(len(chunk)), verr.Seq-chunk[0].Seq))]
		}
		if len(good) > 0 {
			if err := l.commit(good); err != nil {
				return err
			}
			out = append(out, good...)
		}
		chunk, chunkBytes = nil, 0
		if verr != nil {
			return fmt.Errorf("import: %w", verr)
		}
		return nil
	}
	for _, e := range entries {
		r, _ := chk.Add(bytes.Clone(e))
		if r == nil {
			if err := flush(); err != nil {
				return out, err
			}
			return out, fmt.Errorf("import: %w", chk.Wait())
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
	}
	return out, flush()
}
