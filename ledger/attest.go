package ledger

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// Attestations are what third parties said about stored checkpoints: RFC 3161
// timestamp tokens over a checkpoint note's exact bytes, and witness cosignatures.
// They are stored beside the checkpoints (FORMAT.md, "Storage"):
//
//	"t/" size(8)          the DER TimeStampResp over the note stored at k/size
//	"w/" size(8) name     the checkpoint note with witness name's cosignature
//
// Both key ranges are small and sort after the records, so writing them costs an
// append nothing (see store.go).

func timestampKey(size int64) []byte {
	k := make([]byte, 10)
	copy(k, "t/")
	binary.BigEndian.PutUint64(k[2:], uint64(size))
	return k
}

func cosignatureKey(size int64, witness string) []byte {
	k := make([]byte, 10, 10+len(witness))
	copy(k, "w/")
	binary.BigEndian.PutUint64(k[2:], uint64(size))
	return append(k, witness...)
}

// ErrNoCheckpoint is wrapped when no checkpoint is stored for a size.
var ErrNoCheckpoint = errors.New("no stored checkpoint")

// CheckpointAt returns the stored checkpoint note for a tree size.
func (l *Ledger) CheckpointAt(size int64) ([]byte, error) {
	var note []byte
	err := l.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(checkpointKey(size))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return fmt.Errorf("%w for size %d", ErrNoCheckpoint, size)
		}
		if err != nil {
			return err
		}
		note, err = item.ValueCopy(nil)
		return err
	})
	return note, err
}

// PutTimestamp stores a timestamp response for the checkpoint stored at size. The
// caller has verified it; verification checks it again.
func (l *Ledger) PutTimestamp(size int64, resp []byte) error {
	if _, err := l.CheckpointAt(size); err != nil {
		return err
	}
	return l.update(len(resp), func(txn *badger.Txn) error { return txn.Set(timestampKey(size), resp) })
}

// Timestamps returns the stored timestamp responses by checkpoint size.
func (l *Ledger) Timestamps() (map[int64][]byte, error) {
	out := map[int64][]byte{}
	err := l.scanPrefix([]byte("t/"), func(k, v []byte) error {
		if len(k) != 10 {
			return fmt.Errorf("corrupt timestamp key %x", k)
		}
		out[int64(binary.BigEndian.Uint64(k[2:]))] = v
		return nil
	})
	return out, err
}

// LatestTimestamp returns the stored timestamp response of the largest checkpoint
// that has one, reading only that key; size is 0 when there is none.
func (l *Ledger) LatestTimestamp() (size int64, resp []byte, err error) {
	err = l.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("t/"), Reverse: true})
		defer it.Close()
		it.Seek([]byte("t/\xff"))
		if !it.Valid() {
			return nil
		}
		k := it.Item().Key()
		if len(k) != 10 {
			return fmt.Errorf("corrupt timestamp key %x", k)
		}
		size = int64(binary.BigEndian.Uint64(k[2:]))
		resp, err = it.Item().ValueCopy(nil)
		return err
	})
	return size, resp, err
}

// A Cosigned checkpoint is a stored checkpoint with a witness's cosignature line.
type Cosigned struct {
	Size    int64
	Witness string
	Note    []byte
}

// PutCosignature stores a cosigned copy of the checkpoint stored at size. Its text
// must be that checkpoint's; the caller has verified the cosignature.
func (l *Ledger) PutCosignature(size int64, witness string, note []byte) error {
	stored, err := l.CheckpointAt(size)
	if err != nil {
		return err
	}
	a, err := ParseCheckpoint(stored)
	if err != nil {
		return err
	}
	b, err := ParseCheckpoint(note)
	if err != nil {
		return err
	}
	if a.Body() != b.Body() {
		return fmt.Errorf("the cosigned note is not the checkpoint stored for size %d", size)
	}
	if witness == "" || bytes.ContainsAny([]byte(witness), " \n+") {
		return fmt.Errorf("invalid witness name %q", witness)
	}
	return l.update(len(note), func(txn *badger.Txn) error { return txn.Set(cosignatureKey(size, witness), note) })
}

// Cosignatures returns every stored cosigned checkpoint, by size then witness.
func (l *Ledger) Cosignatures() ([]Cosigned, error) {
	var out []Cosigned
	err := l.scanPrefix([]byte("w/"), func(k, v []byte) error {
		if len(k) < 11 {
			return fmt.Errorf("corrupt cosignature key %x", k)
		}
		out = append(out, Cosigned{Size: int64(binary.BigEndian.Uint64(k[2:10])), Witness: string(k[10:]), Note: v})
		return nil
	})
	return out, err
}

func (l *Ledger) scanPrefix(prefix []byte, fn func(k, v []byte) error) error {
	return l.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 16})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			if err := fn(it.Item().KeyCopy(nil), v); err != nil {
				return err
			}
		}
		return nil
	})
}
