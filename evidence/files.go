package evidence

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"

	"github.com/cairn-ledger/cairn/internal/tmpfile"
	"github.com/cairn-ledger/cairn/internal/userfile"
)

// FileStore keeps files by the SHA-256 of their content, once however often they
// are used: dir/ab/abcdef… . Files are streamed in and out, never held in memory.
type FileStore struct{ dir string }

// NewFileStore returns the store rooted at dir.
func NewFileStore(dir string) *FileStore { return &FileStore{dir} }

func (s *FileStore) path(sum string) string {
	return filepath.Join(s.dir, sum[:2], sum)
}

// Path returns where the file with the given hash is stored.
func (s *FileStore) Path(sum string) (string, error) {
	if !validSum(sum) {
		return "", fmt.Errorf("invalid SHA-256 %q", sum)
	}
	return s.path(sum), nil
}

func validSum(sum string) bool {
	if len(sum) != 64 {
		return false
	}
	_, err := hex.DecodeString(sum)
	return err == nil
}

// Open opens a stored file for reading.
func (s *FileStore) Open(sum string) (*os.File, error) {
	p, err := s.Path(sum)
	if err != nil {
		return nil, err
	}
	return os.Open(p)
}

// Add copies the file at path into the store, hashing it on the way, and returns
// its reference. It fsyncs the stored copy before returning: a step must never
// name a file that a crash could lose.
func (s *FileStore) Add(path string) (FileRef, error) {
	in, err := openStepFile(path)
	if err != nil {
		return FileRef{}, err
	}
	defer in.Close()
	ref, err := s.AddReader(in)
	if err != nil {
		return FileRef{}, fmt.Errorf("store %s: %w", path, err)
	}
	ref.Name = filepath.Base(path)
	return ref, nil
}

// HashFile returns the reference Add would return for the file at path, and
// stores nothing: for checking a step before anything is written.
func HashFile(path string) (FileRef, error) {
	in, err := openStepFile(path)
	if err != nil {
		return FileRef{}, err
	}
	defer in.Close()
	ref, err := hashInto(io.Discard, in)
	if err != nil {
		return FileRef{}, inputErrorf("%s: %v", path, err)
	}
	ref.Name = filepath.Base(path)
	return ref, nil
}

// openStepFile opens a file a step records. Only regular files: a FIFO would
// keep cairn waiting and a device may never end. Files have no size limit,
// since they are streamed through the hash into the store.
func openStepFile(path string) (*os.File, error) {
	f, err := userfile.Open(path, "file to record", -1)
	if err != nil {
		return nil, inputErrorf("%v", err)
	}
	return f, nil
}

// Temporary names, for tmpfile.Create and tmpfile.Sweep.
const (
	// IncomingPattern names a file on its way into the store.
	IncomingPattern = ".incoming-*"
	// BatchPattern names the spooled input of a batch being recorded.
	BatchPattern = ".batch-*"
)

// DurablePattern names WriteFileDurable's temporary file for path.
func DurablePattern(path string) string { return "." + filepath.Base(path) + ".tmp-*" }

// sweepLeftovers removes the temporary files that killed processes left in
// the book (unlocked and more than a minute old, see internal/tmpfile).
func (b *Book) sweepLeftovers() {
	tmpfile.Sweep(filepath.Join(b.Dir, "files"), IncomingPattern)
	tmpfile.Sweep(b.Dir, BatchPattern)
}

// AddReader stores what r yields.
func (s *FileStore) AddReader(r io.Reader) (FileRef, error) {
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return FileRef{}, err
	}
	tmp, err := tmpfile.Create(s.dir, IncomingPattern)
	if err != nil {
		return FileRef{}, err
	}
	defer tmp.Discard()
	ref, err := hashInto(tmp, r)
	if err != nil {
		return FileRef{}, err
	}
	if err := tmp.Sync(); err != nil {
		return FileRef{}, err
	}
	dst := s.path(ref.SHA256)
	if _, err := os.Stat(dst); err == nil {
		return ref, nil // already stored: content addressing makes it the same file
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return FileRef{}, err
	}
	tmp.Chmod(0o444)
	if err := tmp.Commit(dst); err != nil {
		return FileRef{}, err
	}
	syncDir(filepath.Dir(dst))
	s.fingerprint(ref.SHA256) // the index of look-alikes (similar.go); never fails the store
	return ref, nil
}

// hashInto copies r to w and returns its reference (without a name): SHA-256,
// size and the type sniffed from its first bytes.
func hashInto(w io.Writer, r io.Reader) (FileRef, error) {
	h := sha256.New()
	var head [512]byte
	n, err := io.ReadFull(r, head[:])
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return FileRef{}, err
	}
	h.Write(head[:n])
	if _, err := w.Write(head[:n]); err != nil {
		return FileRef{}, err
	}
	size, err := io.Copy(io.MultiWriter(w, h), r)
	if err != nil {
		return FileRef{}, err
	}
	return FileRef{SHA256: hex.EncodeToString(h.Sum(nil)), Size: size + int64(n), Type: sniff(head[:n])}, nil
}

func syncDir(dir string) { syncDirErr(dir) }

// syncDirErr makes a directory's entries (a rename, a new file) durable.
func syncDirErr(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// sniff names the content type from the first bytes, the way browsers do; image
// formats matter most, since the pack draws them.
func sniff(head []byte) string {
	t := http.DetectContentType(head)
	if t == "application/octet-stream" && len(head) > 12 && string(head[4:8]) == "ftyp" {
		return "image/avif"
	}
	for i, c := range t {
		if c == ';' {
			return t[:i]
		}
	}
	return t
}

// Check re-hashes the stored file and compares it with ref.
func (s *FileStore) Check(ref FileRef) error {
	f, err := s.Open(ref.SHA256)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("file %s (%s) is missing from the store", ref.Short(), ref.Name)
	}
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return fmt.Errorf("read stored file %s: %w", ref.Short(), err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != ref.SHA256 {
		return fmt.Errorf("stored file %s (%s) was changed: its content now hashes to %s", ref.Short(), ref.Name, got[:12])
	}
	if n != ref.Size {
		return fmt.Errorf("stored file %s (%s) has %d bytes, the step recorded %d", ref.Short(), ref.Name, n, ref.Size)
	}
	return nil
}

// WriteFileDurable writes data to path through a temporary file in the same
// directory, synced, renamed into place and the directory synced: after it
// returns, path holds data across a crash, and at no point does path hold part
// of it. A failure removes the temporary file.
func WriteFileDurable(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := tmpfile.Create(dir, DurablePattern(path))
	if err != nil {
		return err
	}
	defer f.Discard()
	if err := f.Chmod(mode); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Commit(path); err != nil {
		return err
	}
	return syncDirErr(dir)
}
