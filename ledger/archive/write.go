package archive

import (
	"archive/tar"
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"github.com/cairn-ledger/cairn/ledger"

	"github.com/cairn-ledger/cairn/internal/tmpfile"
)

// A File is a stored file to put in the archive. The ledger commits to files by
// their SHA-256 (through the records that name them), so that is their name.
type File struct {
	SHA256 string
	Size   int64
	Open   func() (io.ReadCloser, error)
}

// WriteOptions controls Write.
type WriteOptions struct {
	// Files are the stored files to include, each once.
	Files []File
	// Progress, if set, is called now and then with the bytes written so far
	// and the total expected.
	Progress func(done, total int64)
	// ModTime is the modification time of every member; zero means the time of
	// the last record, so that archiving the same ledger twice gives the same bytes.
	ModTime time.Time
}

// recordsSpool names the temporary file that Write spools the records into.
const recordsSpool = "cairn-archive-records-*"

// Write writes an archive of the whole ledger l to w and returns its manifest.
//
// The ledger must hold a checkpoint of all its records (the archive's anchor).
// The manifest comes first and names the hash of every member, so the records
// are spooled to a temporary file while they are hashed, and every file is read
// twice: once to hash it, once to copy it. A file whose content does not match
// its name is refused: an archive never carries what the ledger did not commit to.
func Write(w io.Writer, l *ledger.Ledger, opts WriteOptions) (*Manifest, error) {
	size := l.Size()
	if size == 0 {
		return nil, errors.New("archive: the ledger has no records")
	}
	root, err := l.TreeHash(size)
	if err != nil {
		return nil, err
	}
	m := &Manifest{Format: FormatV1, Origin: l.Origin(), Size: size, Root: base64.StdEncoding.EncodeToString(root[:])}

	// Records, spooled and hashed. A spool a killed archive left is removed
	// by the next one.
	tmpfile.Sweep(os.TempDir(), recordsSpool)
	spool, err := tmpfile.Create("", recordsSpool)
	if err != nil {
		return nil, err
	}
	defer spool.Discard()
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(spool, h), 1<<20)
	var n, recBytes int64
	var last time.Time
	err = l.Scan(0, func(r *ledger.Record) error {
		if r.Seq != n {
			return damage("archive: record %d is stored where record %d belongs; run cairn verify", r.Seq, n)
		}
		n++
		last = r.Time
		recBytes += int64(len(r.Entry))
		_, err := bw.Write(r.Entry)
		return err
	})
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return nil, err
	}
	if n != size {
		return nil, damage("archive: read %d records, the ledger has %d; run cairn verify", n, size)
	}
	m.Members = append(m.Members, Member{Name: RecordsName, Kind: KindRecords, Bytes: recBytes, SHA256: hex.EncodeToString(h.Sum(nil))})

	// Checkpoints and what third parties said about them: small, kept in memory.
	type small struct {
		Member
		data []byte
	}
	var smalls []small
	add := func(mb Member, data []byte) {
		sum := sha256.Sum256(data)
		mb.Bytes, mb.SHA256 = int64(len(data)), hex.EncodeToString(sum[:])
		smalls = append(smalls, small{mb, data})
	}
	notes, err := l.Checkpoints()
	if err != nil {
		return nil, err
	}
	anchored := false
	for _, note := range notes {
		c, err := ledger.ParseCheckpoint(note)
		if err != nil {
			return nil, fmt.Errorf("archive: stored %w", err)
		}
		anchored = anchored || c.Size == size
		add(Member{Name: checkpointName(c.Size), Kind: KindCheckpoint, TreeSize: c.Size}, note)
	}
	if !anchored {
		return nil, fmt.Errorf("archive: no stored checkpoint covers all %d records; sign one first (cairn checkpoint)", size)
	}
	tokens, err := l.Timestamps()
	if err != nil {
		return nil, err
	}
	sizes := make([]int64, 0, len(tokens))
	for s := range tokens {
		sizes = append(sizes, s)
	}
	sort.Slice(sizes, func(i, j int) bool { return sizes[i] < sizes[j] })
	for _, s := range sizes {
		add(Member{Name: timestampName(s), Kind: KindTimestamp, TreeSize: s}, tokens[s])
	}
	cosigs, err := l.Cosignatures()
	if err != nil {
		return nil, err
	}
	proofs, err := l.StudioProofs()
	if err != nil {
		return nil, err
	}
	proofOf := map[string]ledger.StudioProof{}
	for _, p := range proofs {
		proofOf[fmt.Sprint(p.Size, " ", p.Witness)] = p
	}
	count := map[int64]int{}
	var studio []small
	for _, cs := range cosigs {
		i := count[cs.Size]
		add(Member{Name: cosignatureName(cs.Size, i), Kind: KindCosignature, TreeSize: cs.Size, Witness: cs.Witness}, cs.Note)
		count[cs.Size]++
		if p, ok := proofOf[fmt.Sprint(cs.Size, " ", cs.Witness)]; ok {
			studio = append(studio, small{Member{Name: studioName(cs.Size, i, "tlog-proof"), Kind: KindStudioProof, TreeSize: cs.Size, Witness: cs.Witness}, p.Proof})
			if p.Token != nil {
				studio = append(studio, small{Member{Name: studioName(cs.Size, i, "tsr"), Kind: KindStudioToken, TreeSize: cs.Size, Witness: cs.Witness}, p.Token})
			}
		}
	}
	// After every cosignature: a studio log proof follows the cosignature it proves.
	for _, s := range studio {
		add(s.Member, s.data)
	}
	if len(studio) > 0 {
		m.Format = Format
	}
	for _, s := range smalls {
		m.Members = append(m.Members, s.Member)
	}

	// Files: hash first (the manifest precedes them), copy later.
	files := append([]File(nil), opts.Files...)
	sort.Slice(files, func(i, j int) bool { return files[i].SHA256 < files[j].SHA256 })
	total := recBytes
	for i, f := range files {
		if i > 0 && files[i-1].SHA256 == f.SHA256 {
			return nil, fmt.Errorf("archive: file %s is given twice", f.SHA256)
		}
		sum, n, err := hashFile(f)
		if err != nil {
			return nil, err
		}
		if sum != f.SHA256 || n != f.Size {
			return nil, damage("archive: stored file %s was changed: it now has %d bytes hashing to %s; run cairn verify", f.SHA256, n, sum)
		}
		m.Members = append(m.Members, Member{Name: "files/" + f.SHA256, Kind: KindFile, Bytes: n, SHA256: sum})
		total += n
	}

	mod := opts.ModTime
	if mod.IsZero() {
		mod = last
	}
	mod = mod.UTC().Truncate(time.Second)
	tw := tar.NewWriter(w)
	var done int64
	progress := func(n int64) {
		done += n
		if opts.Progress != nil {
			opts.Progress(done, total)
		}
	}
	header := func(name string, size int64) error {
		return tw.WriteHeader(&tar.Header{
			Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o444, ModTime: mod,
			Uname: memberOwner, Gname: memberOwner, Format: tar.FormatPAX,
		})
	}
	mj, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	mj = append(mj, '\n')
	if err := header(ManifestName, int64(len(mj))); err != nil {
		return nil, err
	}
	if _, err := tw.Write(mj); err != nil {
		return nil, err
	}
	if err := header(RecordsName, recBytes); err != nil {
		return nil, err
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	if err := copyCounting(tw, spool, recBytes, progress); err != nil {
		return nil, fmt.Errorf("archive: copy records: %w", err)
	}
	for _, s := range smalls {
		if err := header(s.Name, s.Bytes); err != nil {
			return nil, err
		}
		if _, err := tw.Write(s.data); err != nil {
			return nil, err
		}
	}
	for _, f := range files {
		if err := header("files/"+f.SHA256, f.Size); err != nil {
			return nil, err
		}
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		err = copyCounting(tw, rc, f.Size, progress)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("archive: copy file %s: %w (was it changed while archiving?)", f.SHA256, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return m, nil
}

func hashFile(f File) (string, int64, error) {
	rc, err := f.Open()
	if err != nil {
		return "", 0, fmt.Errorf("archive: stored file %s: %w", f.SHA256, err)
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		return "", 0, fmt.Errorf("archive: read stored file %s: %w", f.SHA256, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// copyCounting copies exactly n bytes, reporting progress per MiB.
func copyCounting(w io.Writer, r io.Reader, n int64, progress func(int64)) error {
	buf := make([]byte, 1<<20)
	for n > 0 {
		k, err := io.ReadFull(r, buf[:min(int64(len(buf)), n)])
		if k > 0 {
			if _, werr := w.Write(buf[:k]); werr != nil {
				return werr
			}
			n -= int64(k)
			progress(int64(k))
		}
		if err != nil {
			if n > 0 {
				return fmt.Errorf("%w: %d bytes short", io.ErrUnexpectedEOF, n)
			}
			return err
		}
	}
	return nil
}

// damage is the error for a ledger found damaged while it is archived: a
// verification failure (the CLI exits 1), not a failure to write.
func damage(format string, args ...any) error {
	return &ledger.VerifyError{Seq: -1, Problem: fmt.Sprintf(format, args...)}
}
