package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"
)

// Full-disk tests mount a small tmpfs, which needs Linux and root (as in CI).
// Elsewhere they are skipped with the reason; in CI (CI set) they must run.

var tmpfsProbe = sync.OnceValue(func() error {
	if runtime.GOOS != "linux" {
		return fmt.Errorf("full-disk tests need Linux (this is %s)", runtime.GOOS)
	}
	if os.Geteuid() != 0 {
		return errors.New("full-disk tests mount a small tmpfs, which needs root")
	}
	dir, err := os.MkdirTemp("", "cairn-tmpfs-probe-")
	if err != nil {
		return err
	}
	defer os.Remove(dir)
	if err := mountTmpfs(dir, "64k"); err != nil {
		return fmt.Errorf("full-disk tests cannot mount a tmpfs: %v", err)
	}
	return unmount(dir)
})

// tmpfsUsable reports whether full-disk tests can run, with the reason when not.
// In CI a reason is an error.
func tmpfsUsable() (bool, string, error) {
	err := tmpfsProbe()
	if err == nil {
		return true, "", nil
	}
	if os.Getenv("CI") != "" {
		return false, "", fmt.Errorf("CI must run the full-disk tests: %v", err)
	}
	return false, err.Error(), nil
}

func mountTmpfs(dir, size string) error {
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",mode=0755"); err != nil {
		return fmt.Errorf("mount tmpfs on %s: %w", dir, err)
	}
	return nil
}

func unmount(dir string) error {
	return unix.Unmount(dir, unix.MNT_DETACH)
}

// fillDisk writes filler files in dir until its file system has at most leave
// bytes free.
func fillDisk(dir string, leave int64) error {
	f, err := os.CreateTemp(dir, "filler-*")
	if err != nil && !errors.Is(err, unix.ENOSPC) {
		return err
	}
	if f != nil {
		defer f.Close()
	}
	buf := make([]byte, 4096)
	for {
		var st unix.Statfs_t
		if err := unix.Statfs(dir, &st); err != nil {
			return err
		}
		free := int64(st.Bavail) * st.Bsize
		if free <= leave || f == nil {
			return nil
		}
		n := min(int64(len(buf)), free-leave)
		if _, err := f.Write(buf[:n]); err != nil {
			if errors.Is(err, unix.ENOSPC) {
				return nil
			}
			return fmt.Errorf("fill %s: %w", filepath.Base(dir), err)
		}
	}
}
