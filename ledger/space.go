package ledger

import (
	"errors"
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/cairn-ledger/cairn/internal/human"
)

// Badger writes its logs and tables through memory mappings of sparse files.
// On a full disk a store into a mapped page that has no block raises SIGBUS,
// not ENOSPC: the process dies, with a Go stack trace, after it may already
// have said "recorded" (measured on a 3 MiB tmpfs, with 16 to 700 KB free).
// So no write is started unless the disk has room for everything it will
// cause: the log pages, the table the memtable becomes on close, and the
// compactions that rewrite tables. A write that would not fit is refused
// before anything is stored, with ENOSPC.

// spaceMargin covers the small writes of a run beside the records: log and
// value-log headers, MANIFEST entries, the discard statistics, cairn's own
// counter and index files.
const spaceMargin = 256 << 10

// ErrNoSpace is wrapped by the error a write returns when the disk holding the
// ledger has too little room for it. It also matches syscall.ENOSPC.
var ErrNoSpace = errors.New("not enough free disk space")

// noSpaceError says how full the disk is and what to do.
type noSpaceError struct {
	dir        string
	free, need int64
}

func (e *noSpaceError) Error() string {
	return fmt.Sprintf("%v: the disk holding %s has %s free, and cairn needs about %s to write to the ledger safely "+
		"(its storage engine maps files into memory, and a full disk would crash it half-way). "+
		"Nothing was written by this step; free some space and run the command again",
		ErrNoSpace, e.dir, human.Size(e.free), human.Size(e.need))
}

func (e *noSpaceError) Is(target error) bool {
	return target == ErrNoSpace || target == syscall.ENOSPC
}

// freeSpace is how many bytes an unprivileged process may still write to the
// file system holding dir.
func freeSpace(dir string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// allocated is the disk space a file takes (a sparse file takes less than its
// size), or 0 if it cannot be read.
func allocated(path string) int64 {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0
	}
	return st.Blocks * 512
}

// reserve is the space a writable open must find free before Badger starts,
// whatever this run then appends: what it may flush and compact on its own.
// Compaction merges the tables above the bottom level into the newest table of
// the level below, writing the merged table before it deletes the old ones;
// a log left by a killed process becomes a table and is compacted too.
func (st *storage) reserve() int64 {
	bottom := 0
	for _, t := range st.tables {
		bottom = max(bottom, t.level)
	}
	var recent, largest int64
	for _, t := range st.tables {
		if t.level < bottom {
			recent += t.size
		}
		largest = max(largest, t.size)
	}
	return spaceMargin + 2*(recent+st.walBytes) + largest
}

// checkSpace refuses a write of n more bytes unless the disk has room for it
// and for what this process has written so far still has to become: each byte
// goes to the log now, into a level-0 table at close, and through compaction
// into a lower level after that.
func (l *Ledger) checkSpace(n int64) error {
	free, err := freeSpace(l.dir)
	if err != nil {
		return nil // no answer is no reason to refuse; Badger reports real errors
	}
	if need := l.reserve + 2*l.written + 3*n; free < need {
		return &noSpaceError{dir: l.dir, free: free, need: need}
	}
	return nil
}
