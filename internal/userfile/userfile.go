// Package userfile opens the files a user names on the command line (a
// checkpoint, a pack, an archive, a batch, a certificate file) with a stated
// limit on their size. Only regular files are read: a FIFO with no writer
// would make cairn wait forever, and a device such as /dev/zero never ends.
package userfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"

	"github.com/cairn-ledger/cairn/internal/human"
)

// Error is a file that cannot be read as asked: missing, not a regular file,
// or larger than its limit. It is the user's to fix (the CLI exits 2).
type Error struct {
	Path string
	Msg  string
	Err  error // the cause, if any: fs.ErrNotExist for a missing file
}

func (e *Error) Error() string { return e.Path + ": " + e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// Open opens path for reading if it is a regular file of at most limit bytes
// (no limit if limit < 0). what names the file in messages, for example
// "checkpoint file".
func Open(path, what string, limit int64) (*os.File, error) {
	// O_NONBLOCK: opening a FIFO blocks until a writer comes; this way it
	// returns, and Stat below refuses it. It changes nothing for a file.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, &Error{path, "no such file", fs.ErrNotExist}
	case err != nil:
		return nil, &Error{path, fmt.Sprintf("cannot be read: %v", unwrapPath(err)), err}
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, &Error{path, fmt.Sprintf("cannot be read: %v", err), err}
	}
	if msg := notRegular(fi.Mode(), what); msg != "" {
		f.Close()
		return nil, &Error{path, msg, nil}
	}
	if limit >= 0 && fi.Size() > limit {
		f.Close()
		return nil, &Error{path, fmt.Sprintf("is %s; the %s may be at most %s", human.Size(fi.Size()), what, human.Size(limit)), nil}
	}
	// Reads block as usual from here (a regular file never would anyway).
	if err := syscall.SetNonblock(int(f.Fd()), false); err != nil {
		f.Close()
		return nil, &Error{path, fmt.Sprintf("cannot be read: %v", err), err}
	}
	return f, nil
}

// Check reports, without opening it, why path could not be read as a regular
// file, or nil: for checking a command's arguments before anything starts.
func Check(path, what string) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &Error{path, "no such file", fs.ErrNotExist}
	case err != nil:
		return &Error{path, fmt.Sprintf("cannot be read: %v", unwrapPath(err)), err}
	}
	if msg := notRegular(fi.Mode(), what); msg != "" {
		return &Error{path, msg, nil}
	}
	return nil
}

// Read returns the content of path, a regular file of at most limit bytes. A
// file that grows while it is read is still cut at the limit.
func Read(path, what string, limit int64) ([]byte, error) {
	f, err := Open(path, what, limit)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, &Error{path, fmt.Sprintf("cannot be read: %v", unwrapPath(err)), err}
	}
	if int64(len(data)) > limit {
		return nil, &Error{path, fmt.Sprintf("grew past %s while it was read; the %s may be at most that", human.Size(limit), what), nil}
	}
	return data, nil
}

// notRegular says what a file of mode m is, if it is not a regular file.
func notRegular(m fs.FileMode, what string) string {
	kind := ""
	switch {
	case m.IsRegular():
		return ""
	case m.IsDir():
		kind = "a directory"
	case m&fs.ModeNamedPipe != 0:
		kind = "a named pipe (FIFO), which could keep cairn waiting"
	case m&fs.ModeDevice != 0, m&fs.ModeCharDevice != 0:
		kind = "a device, which may never end"
	case m&fs.ModeSocket != 0:
		kind = "a socket"
	default:
		kind = "not a regular file"
	}
	return fmt.Sprintf("is %s; give the %s as a regular file", kind, what)
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
