// Package tmpfile makes the temporary files and directories cairn writes
// before renaming them into place (.incoming-*, .cairn-export-*, ...), and
// removes those a killed process left behind.
//
// A temporary file is locked (flock) by the process writing it for as long as
// it exists under its temporary name, so that Sweep can tell a leftover (no
// lock: its process is gone, and the kernel released the lock) from a file
// that a live process is still writing (locked). Sweep also leaves alone
// anything younger than a minute, which covers the moment between a file's
// creation and its lock.
package tmpfile

import (
	"errors"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// A File is a temporary file, locked while it is open.
type File struct {
	*os.File
	done bool
}

// Create creates a new temporary file in dir, as os.CreateTemp does, and locks
// it. Rename it into place before closing it: once closed, Sweep may take it.
func Create(dir, pattern string) (*File, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	return &File{File: f}, nil
}

// Commit renames the file to path and then closes it, so that it is never
// unlocked under its temporary name. The caller syncs it first if it must
// survive a crash.
func (f *File) Commit(path string) error {
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	f.done = true
	return f.Close()
}

// Discard closes and removes the file, unless it was committed: defer it
// after Create.
func (f *File) Discard() {
	if f.done {
		return
	}
	f.done = true
	f.Close()
	os.Remove(f.Name())
}

// Dir is a temporary directory, locked until Release.
type Dir struct {
	Path string
	lock *os.File
}

// Mkdir creates a new temporary directory in dir, as os.MkdirTemp does, and
// locks it until Release. Rename it into place before releasing it.
func Mkdir(dir, pattern string) (*Dir, error) {
	p, err := os.MkdirTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err == nil {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	}
	if err != nil {
		if f != nil {
			f.Close()
		}
		os.Remove(p)
		return nil, err
	}
	return &Dir{Path: p, lock: f}, nil
}

// Release lets the directory go; its lock follows it if it was renamed.
func (d *Dir) Release() { d.lock.Close() }

// minAge is how old an unlocked leftover must be before Sweep removes it.
const minAge = time.Minute

// Sweep removes the files and directories in dir whose names match pattern
// (filepath.Match syntax) that no live process holds: unlocked and older than
// a minute. It reports how many it removed; what it cannot remove it leaves.
func Sweep(dir, pattern string) int {
	paths, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil {
		return 0
	}
	n := 0
	for _, p := range paths {
		if sweepOne(p) {
			n++
		}
	}
	return n
}

func sweepOne(p string) bool {
	fi, err := os.Lstat(p)
	if err != nil || time.Since(fi.ModTime()) < minAge || fi.Mode()&os.ModeSymlink != 0 {
		return false
	}
	f, err := os.OpenFile(p, os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return false // a live process holds it
	}
	if fi.IsDir() {
		err = os.RemoveAll(p)
	} else {
		err = os.Remove(p)
	}
	return err == nil || errors.Is(err, os.ErrNotExist)
}
