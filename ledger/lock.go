package ledger

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultLockTimeout is how long Open waits for another process to release the ledger.
const DefaultLockTimeout = 10 * time.Second

// ErrLocked is wrapped by the error Open returns when the ledger stayed busy.
var ErrLocked = errors.New("ledger is in use by another process")

const lockName = "cairn.lock"

// dirLock is an exclusive flock on a file in the ledger directory. Badger takes its
// own lock and fails at once when it is held; this one is taken first, so that
// processes queue for the ledger instead of failing at random.
type dirLock struct{ f *os.File }

func acquireLock(dir string, timeout time.Duration) (*dirLock, error) {
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	deadline := time.Now().Add(timeout)
	wait := time.Millisecond
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if time.Now().After(deadline) {
			holder := readHolder(path)
			f.Close()
			return nil, fmt.Errorf("%w: waited %s for %s%s; try again when it has finished", ErrLocked, timeout, dir, holder)
		}
		// Full jitter keeps several waiting processes from retrying in lockstep.
		time.Sleep(time.Duration(rand.Int64N(int64(wait))) + wait/2)
		if wait < 50*time.Millisecond {
			wait *= 2
		}
	}
	// Name the holder for whoever waits next. The lock file's content is advisory.
	if err := f.Truncate(0); err == nil {
		// Only the program and its command: arguments may hold a prompt.
		cmd := filepath.Base(os.Args[0])
		if len(os.Args) > 1 {
			cmd += " " + os.Args[1]
		}
		fmt.Fprintf(f, "%d %s\n", os.Getpid(), cmd)
	}
	return &dirLock{f}, nil
}

// readHolder describes the process named in the lock file, if it still runs.
func readHolder(path string) string {
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 {
		return ""
	}
	line := strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])
	pid, cmd, _ := strings.Cut(line, " ")
	if len(cmd) > 120 {
		cmd = cmd[:120] + "…"
	}
	return fmt.Sprintf(" (held by process %s: %s)", pid, cmd)
}

func (l *dirLock) release() error {
	l.f.Truncate(0)
	unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
	return l.f.Close()
}
