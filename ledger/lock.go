package ledger

import (
	"errors"
	"fmt"
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
	return lockPath(filepath.Join(dir, lockName), dir, timeout)
}

// A FileLock is an exclusive flock on a lock file that names its holder, for
// other stores that, like the ledger, keep a Badger database (which fails at
// once when another process holds it) behind a lock that processes queue for.
type FileLock struct{ l *dirLock }

// LockFile takes an exclusive flock on path, waiting up to timeout, and writes
// this process's pid and command into it. what names the locked thing in the
// error, which wraps ErrLocked when the lock stayed held.
func LockFile(path, what string, timeout time.Duration) (*FileLock, error) {
	l, err := lockPath(path, what, timeout)
	if err != nil {
		return nil, err
	}
	return &FileLock{l}, nil
}

// Release releases the lock.
func (l *FileLock) Release() error { return l.l.release() }

func lockPath(path, what string, timeout time.Duration) (*dirLock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		// Held: wait in the kernel's queue rather than polling. A poller loses
		// to a process that closes and reopens at once, and can starve under
		// load; a blocked flock is woken when the lock is released.
		got := make(chan error, 1)
		go func() {
			for {
				err := unix.Flock(int(f.Fd()), unix.LOCK_EX)
				if !errors.Is(err, unix.EINTR) {
					got <- err
					return
				}
			}
		}()
		timer := time.NewTimer(timeout)
		defer timer.Stop()
		select {
		case err := <-got:
			if err != nil {
				f.Close()
				return nil, fmt.Errorf("lock %s: %w", path, err)
			}
		case <-timer.C:
			holder := readHolder(path)
			// The blocked flock returns only when the holder lets go; close
			// the file then, so that this process never holds the lock.
			go func() {
				if <-got == nil {
					unix.Flock(int(f.Fd()), unix.LOCK_UN)
				}
				f.Close()
			}()
			return nil, fmt.Errorf("%w: waited %s for %s%s; try again when it has finished", ErrLocked, timeout, what, holder)
		}
	}
	// Name the holder for whoever waits next. The lock file's content is advisory.
	if err := f.Truncate(0); err == nil {
		// Only the program and its command: arguments may hold a prompt.
		cmd := filepath.Base(os.Args[0])
		if len(os.Args) > 1 {
			cmd += " " + os.Args[1]
		}
		f.WriteAt([]byte(fmt.Sprintf("%d %s\n", os.Getpid(), cmd)), 0)
	}
	return &dirLock{f}, nil
}

// LockHolder describes the process named in the lock file at path, as
// " (held by process PID: COMMAND)", or "" when the file names none.
func LockHolder(path string) string { return readHolder(path) }

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
