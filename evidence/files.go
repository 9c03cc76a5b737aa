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
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return FileRef{}, inputErrorf("%s: no such file", path)
	case err != nil:
		return FileRef{}, inputErrorf("%s: %v", path, err)
	case fi.IsDir():
		return FileRef{}, inputErrorf("%s is a directory; give a file", path)
	case !fi.Mode().IsRegular():
		return FileRef{}, inputErrorf("%s is not a regular file", path)
	}
	in, err := os.Open(path)
	if err != nil {
		return FileRef{}, inputErrorf("%s: %v", path, err)
	}
	defer in.Close()
	ref, err := s.AddReader(in)
	if err != nil {
		return FileRef{}, fmt.Errorf("store %s: %w", path, err)
	}
	ref.Name = filepath.Base(path)
	return ref, nil
}

// AddReader stores what r yields.
func (s *FileStore) AddReader(r io.Reader) (FileRef, error) {
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return FileRef{}, err
	}
	tmp, err := os.CreateTemp(s.dir, ".incoming-*")
	if err != nil {
		return FileRef{}, err
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	h := sha256.New()
	var head [512]byte
	n, err := io.ReadFull(r, head[:])
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return FileRef{}, err
	}
	h.Write(head[:n])
	if _, err := tmp.Write(head[:n]); err != nil {
		return FileRef{}, err
	}
	size, err := io.Copy(io.MultiWriter(tmp, h), r)
	if err != nil {
		return FileRef{}, err
	}
	if err := tmp.Sync(); err != nil {
		return FileRef{}, err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	ref := FileRef{SHA256: sum, Size: size + int64(n), Type: sniff(head[:n])}
	dst := s.path(sum)
	if _, err := os.Stat(dst); err == nil {
		return ref, nil // already stored: content addressing makes it the same file
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return FileRef{}, err
	}
	if err := tmp.Close(); err != nil {
		return FileRef{}, err
	}
	os.Chmod(tmp.Name(), 0o444)
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return FileRef{}, err
	}
	syncDir(filepath.Dir(dst))
	s.fingerprint(sum) // the index of look-alikes (similar.go); never fails the store
	return ref, nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
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
