package ledger

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/pb"
	"github.com/dgraph-io/badger/v4/table"
	"github.com/dgraph-io/badger/v4/y"
	"google.golang.org/protobuf/proto"
)

// storedTable is one of Badger's table files, as the MANIFEST lists it.
type storedTable struct {
	id    uint64
	level int
	size  int64
}

// storage is what Open learns about Badger's files before Badger opens them.
type storage struct {
	tables []storedTable
	// walBytes is the space the memtable logs left by a process that did not
	// close (killed) take; Badger replays them and flushes them into tables.
	walBytes int64
}

// restoreHint ends every message about damaged storage.
const restoreHint = "Nothing was changed. Restore the ledger from an archive (cairn restore FILE.tar --dir NEW/.cairn) or from a backup of this directory."

// damaged is the error for storage Badger cannot be trusted to open: a
// verification failure of the ledger as a whole, not a bug.
func damaged(dir, format string, args ...any) error {
	return &VerifyError{Seq: -1, Problem: fmt.Sprintf("the ledger's storage in %s is damaged: %s. %s", dir, fmt.Sprintf(format, args...), restoreHint)}
}

// inspectStorage reads the MANIFEST and checks every table it lists before
// Badger opens them. Badger reads a table's index from offsets stored at its
// end without checking them against the file's size, in goroutines of its own:
// a table cut by 3 bytes made it index out of range and take the process down
// (recovered nowhere), and a missing one gave "file does not exist for table
// 28". Here both are a clear error that says what to do.
//
// Every open checks that the footer's lengths fit the file, which is what
// keeps Badger's reads in bounds: three small reads per table. Reading and
// checksumming each index as well cost 0.9 ms per open on a 100,000-record
// ledger (nine 8 MiB tables), a tenth of a whole append; Badger checks that
// checksum itself, so full is set only to explain an error Badger returned.
func inspectStorage(dir string, full bool) (*storage, error) {
	st := &storage{}
	mems, _ := filepath.Glob(filepath.Join(dir, "*.mem"))
	for _, p := range mems {
		st.walBytes += allocated(p)
	}
	path := filepath.Join(dir, badger.ManifestFilename)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil // a new ledger: Badger creates it
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, _, err := badger.ReplayManifestFile(f, 0, badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		return nil, damaged(dir, "its storage manifest (%s) cannot be read: %v", badger.ManifestFilename, err)
	}
	for id, t := range m.Tables {
		p := table.NewFilename(id, dir)
		size, err := checkTable(p, full)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, damaged(dir, "table file %s, which the storage manifest lists, is missing", filepath.Base(p))
		}
		if err != nil {
			return nil, damaged(dir, "table file %s %v", filepath.Base(p), err)
		}
		st.tables = append(st.tables, storedTable{id: id, level: int(t.Level), size: size})
	}
	return st, nil
}

// checkTable checks what Badger reads first from a table file, its footer:
// the index, its length and its checksum, from the end of the file backwards
// (badger/table.initIndex), and with full the index against its checksum. It
// returns the file's size.
func checkTable(path string, full bool) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := fi.Size()
	readAt := func(off, n int64) ([]byte, error) {
		if off < 0 || n < 0 || off+n > size {
			return nil, fmt.Errorf("is cut short or corrupt: its footer points outside the file (%d bytes)", size)
		}
		b := make([]byte, n)
		if _, err := f.ReadAt(b, off); err != nil {
			return nil, fmt.Errorf("cannot be read: %v", err)
		}
		return b, nil
	}
	pos := size - 4
	b, err := readAt(pos, 4)
	if err != nil {
		return 0, err
	}
	sumLen := int64(binary.BigEndian.Uint32(b))
	pos -= sumLen
	b, err = readAt(pos, sumLen)
	if err != nil {
		return 0, err
	}
	var sum pb.Checksum
	if err := proto.Unmarshal(b, &sum); err != nil {
		return 0, fmt.Errorf("is cut short or corrupt: its index checksum does not decode (%v)", err)
	}
	pos -= 4
	if b, err = readAt(pos, 4); err != nil {
		return 0, err
	}
	indexLen := int64(binary.BigEndian.Uint32(b))
	if !full {
		if _, err := readAt(pos-indexLen, 0); err != nil {
			return 0, err
		}
		return size, nil
	}
	index, err := readAt(pos-indexLen, indexLen)
	if err != nil {
		return 0, err
	}
	if err := y.VerifyChecksum(index, &sum); err != nil {
		return 0, fmt.Errorf("is corrupt: its index does not match its checksum")
	}
	return size, nil
}
