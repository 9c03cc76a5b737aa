package percept

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// An Index maps files, by SHA-256, to their fingerprints, or to why they have
// none (not an image, damaged, too large), so that a file is looked at once.
// It is kept in one file of fixed-size records appended as files are stored
// (FORMAT.md §6):
//
//	"cfp1" || SHA-256 (32 bytes) || problem (1 byte; 0: fingerprinted)
//	       || 4 × (pHash, dHash) as 8-byte big-endian || CRC-32 (IEEE) of the 101 bytes before it
//
// A reader takes every record whose magic and CRC hold and steps over anything
// else a byte at a time, so a torn or interleaved write costs only its own
// record. The last record for a file wins. The index is not evidence: it can be
// deleted, and is rebuilt from the files.
type Index struct {
	path string
	sums [][32]byte
	fps  []Fingerprint
	at   map[[32]byte]int // position in sums and fps of a fingerprinted file
	bad  map[[32]byte]Problem
}

const (
	recordMagic = "cfp1"
	recordSize  = 4 + 32 + 1 + levelCount*16 + 4
)

// OpenIndex reads the index at path; a missing file is an empty index.
func OpenIndex(path string) (*Index, error) {
	x := &Index{path: path, at: map[[32]byte]int{}, bad: map[[32]byte]Problem{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return x, nil
	}
	if err != nil {
		return nil, err
	}
	x.parse(data)
	return x, nil
}

// Exists reports whether an index file is at path.
func Exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func (x *Index) parse(data []byte) {
	if n := len(data) / recordSize; len(x.sums) == 0 && n > 0 {
		x.sums, x.fps = make([][32]byte, 0, n), make([]Fingerprint, 0, n)
		x.at = make(map[[32]byte]int, n)
	}
	for i := 0; i+recordSize <= len(data); {
		rec := data[i : i+recordSize]
		if string(rec[:4]) != recordMagic || crc32.ChecksumIEEE(rec[:recordSize-4]) != binary.BigEndian.Uint32(rec[recordSize-4:]) {
			i++
			continue
		}
		var sum [32]byte
		copy(sum[:], rec[4:36])
		p := Problem(rec[36])
		var fp Fingerprint
		for l := range fp {
			o := 37 + 16*l
			fp[l] = Hash{binary.BigEndian.Uint64(rec[o:]), binary.BigEndian.Uint64(rec[o+8:])}
		}
		x.set(sum, p, fp)
		i += recordSize
	}
}

func (x *Index) set(sum [32]byte, p Problem, fp Fingerprint) {
	if p != 0 {
		x.bad[sum] = p
		if i, ok := x.at[sum]; ok {
			// Keep sums and fps dense: move the last entry into the hole.
			last := len(x.sums) - 1
			x.sums[i], x.fps[i] = x.sums[last], x.fps[last]
			x.at[x.sums[i]] = i
			x.sums, x.fps = x.sums[:last], x.fps[:last]
			delete(x.at, sum)
		}
		return
	}
	delete(x.bad, sum)
	if i, ok := x.at[sum]; ok {
		x.fps[i] = fp
		return
	}
	x.at[sum] = len(x.sums)
	x.sums = append(x.sums, sum)
	x.fps = append(x.fps, fp)
}

func encodeRecord(sum [32]byte, p Problem, fp Fingerprint) []byte {
	rec := make([]byte, recordSize)
	copy(rec, recordMagic)
	copy(rec[4:], sum[:])
	rec[36] = byte(p)
	for l, h := range fp {
		o := 37 + 16*l
		binary.BigEndian.PutUint64(rec[o:], h.P)
		binary.BigEndian.PutUint64(rec[o+8:], h.D)
	}
	binary.BigEndian.PutUint32(rec[recordSize-4:], crc32.ChecksumIEEE(rec[:recordSize-4]))
	return rec
}

// ParseSum reads a SHA-256 in hex.
func ParseSum(hexSum string) ([32]byte, bool) {
	var sum [32]byte
	b, err := hex.DecodeString(hexSum)
	if err != nil || len(b) != 32 {
		return sum, false
	}
	copy(sum[:], b)
	return sum, true
}

// Len is the number of fingerprinted files.
func (x *Index) Len() int { return len(x.sums) }

// Has reports whether the index knows the file: its fingerprint, or why it has
// none.
func (x *Index) Has(sum [32]byte) bool {
	if _, ok := x.at[sum]; ok {
		return true
	}
	_, ok := x.bad[sum]
	return ok
}

// Get returns the file's fingerprint, if it has one.
func (x *Index) Get(sum [32]byte) (Fingerprint, bool) {
	i, ok := x.at[sum]
	if !ok {
		return Fingerprint{}, false
	}
	return x.fps[i], true
}

// Add records a file's fingerprint (p == 0) or why it has none, in memory and,
// if the index has a file, appended to it in one write.
func (x *Index) Add(sum [32]byte, p Problem, fp Fingerprint) error {
	x.set(sum, p, fp)
	if x.path == "" {
		return nil
	}
	return AppendRecord(x.path, sum, p, fp)
}

// AppendRecord appends one record to the index file at path, creating it.
// It does not read the index: storing a file costs one small write.
func AppendRecord(path string, sum [32]byte, p Problem, fp Fingerprint) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(encodeRecord(sum, p, fp))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Save rewrites the index file from memory, through a temporary file renamed
// into place: it drops duplicate and damaged records.
func (x *Index) Save() error {
	if x.path == "" {
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(x.path), ".fingerprints-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	buf := make([]byte, 0, (len(x.sums)+len(x.bad))*recordSize)
	for i, sum := range x.sums {
		buf = append(buf, encodeRecord(sum, 0, x.fps[i])...)
	}
	for sum, p := range x.bad {
		buf = append(buf, encodeRecord(sum, p, Fingerprint{})...)
	}
	_, err = tmp.Write(buf)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), x.path)
}

// Reset forgets every entry (the file is rewritten by Save).
func (x *Index) Reset() {
	x.sums, x.fps = nil, nil
	x.at, x.bad = map[[32]byte]int{}, map[[32]byte]Problem{}
}

// A Hit is a file whose fingerprint is within the threshold of a query.
type Hit struct {
	SHA256   [32]byte
	Distance int
}

// Nearest returns the files within threshold of q, nearest first (equal
// distances by hash), at most limit of them (limit <= 0: all).
func (x *Index) Nearest(q Fingerprint, threshold, limit int) []Hit {
	var hits []Hit
	for i := range x.fps {
		if d := Distance(q, x.fps[i]); d <= threshold {
			hits = append(hits, Hit{x.sums[i], d})
		}
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].Distance != hits[j].Distance {
			return hits[i].Distance < hits[j].Distance
		}
		return string(hits[i].SHA256[:]) < string(hits[j].SHA256[:])
	})
	if limit > 0 && len(hits) > limit {
		hits = hits[:limit]
	}
	return hits
}
