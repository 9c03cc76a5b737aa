package archive

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/cairn-ledger/cairn/ledger"
	"github.com/cairn-ledger/cairn/ledger/rfc3161"
	"github.com/cairn-ledger/cairn/ledger/studio"
	"github.com/cairn-ledger/cairn/ledger/witness"
)

// Options controls Verify and Restore.
type Options struct {
	// CheckRecord, if set, is called for every record in order, after its
	// layout, sequence number, chain link and time are checked. An error marks
	// the record bad. The domain layer uses it to decide which keys may sign.
	CheckRecord func(*ledger.Record) error
	// Progress, if set, is called now and then with the number of records read.
	Progress func(records int64)
	// Workers is the number of signature-checking goroutines; 0 means GOMAXPROCS.
	Workers int
	// CheckpointSigners, if set, returns the keys that may sign a checkpoint
	// of size records (the domain decides). Nil: any key that signed a record.
	CheckpointSigners func(size int64) []ed25519.PublicKey
	// KnownKeys, if set, returns every key the domain knows of: a checkpoint
	// line by one of them that does not verify makes the checkpoint invalid.
	KnownKeys func() []ed25519.PublicKey
	// Earlier, if set, is filled as records are read, so that CheckRecord can
	// read an earlier record again (a retraction names one).
	Earlier *Entries
}

// Entries gives back the entries of an archive already read. When the archive
// is a file (an io.ReaderAt) it keeps 8 bytes of offset per record and reads
// the entry again; otherwise it keeps the entries.
type Entries struct {
	src     io.ReaderAt
	start   int64   // where the records member's data begins in src
	offsets []int64 // each entry's offset in that member
	mem     [][]byte
	next    int64
}

func (e *Entries) add(entry []byte) {
	if e.src != nil {
		e.offsets = append(e.offsets, e.next)
	} else {
		e.mem = append(e.mem, entry)
	}
	e.next += int64(len(entry))
}

// Entry returns the exact bytes of record seq, which must have been read.
func (e *Entries) Entry(seq int64) ([]byte, error) {
	switch {
	case seq < 0 || seq >= int64(max(len(e.offsets), len(e.mem))):
		return nil, fmt.Errorf("record %d has not been read", seq)
	case e.src == nil:
		return e.mem[seq], nil
	}
	off := e.start + e.offsets[seq]
	head := make([]byte, 92)
	if _, err := e.src.ReadAt(head, off); err != nil {
		return nil, err
	}
	entry := make([]byte, 92+int64(binary.BigEndian.Uint32(head[88:92]))+ed25519.SignatureSize)
	if _, err := e.src.ReadAt(entry, off); err != nil {
		return nil, err
	}
	return entry, nil
}

// A Report describes an archive that verified.
type Report struct {
	Manifest    *Manifest
	Root        tlog.Hash
	Keys        []ed25519.PublicKey // distinct authors, in order of first appearance
	First, Last time.Time
	Checkpoints []*ledger.Checkpoint // each signed by an author and matching the records, oldest first
	Timestamps  int
	Cosigned    int
	Studio      int              // studio log proofs, each checked against its cosignature
	Files       map[string]int64 // SHA-256 hex -> size, every file member (content checked)
	FileBytes   int64
}

// Verify reads an archive and checks all of it without writing anything: every
// member against the manifest's size and SHA-256, no member missing or extra,
// every record (layout, sequence number, chain link, time order, signature), the
// records' root against the manifest and against every checkpoint (signed by a
// key that signed records), timestamps and cosignatures beside their
// checkpoints, and every file's content against its name. A damaged archive
// gives an *Error that names each damaged member.
func Verify(r io.Reader, opts Options) (*Report, error) {
	return read(r, opts, nil)
}

// Restore reads an archive, checking it as Verify does, and rebuilds the ledger
// in ledgerDir (which must not hold one) with ledger.Create and
// Ledger.AppendEntries: the same origin, the same entry bytes, hence the same
// roots. Checkpoints, timestamp tokens and cosignatures are stored again, and
// each file is handed to putFile, which must store it and return the SHA-256 of
// what it stored. On error the caller should discard ledgerDir.
func Restore(r io.Reader, ledgerDir string, putFile func(r io.Reader) (sha256hex string, err error), opts Options) (*Report, error) {
	if putFile == nil {
		return nil, errors.New("archive: Restore needs somewhere to put the files")
	}
	return read(r, opts, &restorer{dir: ledgerDir, putFile: putFile})
}

type restorer struct {
	dir     string
	putFile func(io.Reader) (string, error)
	l       *ledger.Ledger
	pending [][]byte
}

func (rs *restorer) flush() error {
	if len(rs.pending) == 0 {
		return nil
	}
	_, err := rs.l.AppendEntries(rs.pending)
	rs.pending = rs.pending[:0]
	return err
}

// reader carries the state of one pass over an archive.
type reader struct {
	opts     Options
	m        *Manifest
	rs       *restorer
	problems []Problem
	rep      *Report
	rootAt   map[int64]tlog.Hash
	timeAt   map[int64]time.Time          // the time of the last record below each checkpoint size
	notes    map[int64]*ledger.Checkpoint // verified checkpoints by size
	cosigned map[string][]byte            // cosigned notes, by member name
	proofs   map[string]*studio.Proof     // studio log proofs, by member name
}

const maxProblems = 20

func (rd *reader) report(member string, seq int64, format string, args ...any) {
	if len(rd.problems) < maxProblems {
		rd.problems = append(rd.problems, Problem{member, seq, fmt.Sprintf(format, args...)})
	}
}

func read(r io.Reader, opts Options, rs *restorer) (rep *Report, err error) {
	rd := &reader{opts: opts, rs: rs, rep: &Report{Files: map[string]int64{}}, rootAt: map[int64]tlog.Hash{}, timeAt: map[int64]time.Time{}, notes: map[int64]*ledger.Checkpoint{},
		cosigned: map[string][]byte{}, proofs: map[string]*studio.Proof{}}
	if rs != nil {
		defer func() {
			if rs.l != nil {
				if cerr := rs.l.Close(); err == nil && cerr != nil {
					rep, err = nil, cerr
				}
			}
		}()
	}
	br := bufio.NewReaderSize(r, 1<<20)
	// The count says where the tar reader is, so that the end can be checked:
	// Go's reader takes a file that simply stops after a member as ended.
	cr := &countingReader{r: br}
	tr := tar.NewReader(cr)
	hdr, err := tr.Next()
	if err != nil {
		return nil, &Error{[]Problem{{ManifestName, -1, "cannot read the first tar header (not a tar archive, or cut short): " + tarProblem(err)}}}
	}
	if hdr.Name != ManifestName {
		return nil, &Error{[]Problem{{hdr.Name, -1, fmt.Sprintf("the first member must be %s; this is not a cairn archive", ManifestName)}}}
	}
	if hdr.Typeflag != tar.TypeReg || hdr.Size > maxManifest || sparse(hdr) {
		return nil, &Error{[]Problem{{ManifestName, -1, "not a regular file of sane size"}}}
	}
	if p := headerProblem(hdr); p != "" {
		return nil, &Error{[]Problem{{ManifestName, -1, p}}}
	}
	data, err := io.ReadAll(tr)
	if err != nil {
		return nil, &Error{[]Problem{{ManifestName, -1, tarProblem(err)}}}
	}
	dataEnd := blockEnd(cr.n)
	m, err := parseManifest(data)
	if err != nil {
		return nil, &Error{[]Problem{{ManifestName, -1, err.Error()}}}
	}
	rd.m, rd.rep.Manifest = m, m
	for _, mb := range m.Members {
		if mb.Kind == KindCheckpoint {
			rd.rootAt[mb.TreeSize] = tlog.Hash{}
		}
	}
	if rs != nil {
		l, err := ledger.Create(rs.dir, m.Origin, &ledger.Options{Bulk: true})
		if err != nil {
			return nil, err
		}
		rs.l = l
	}

	// Members follow in the manifest's order; anything else is damage.
	next := 0
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			// FORMAT.md §8: the tar ends in two zero blocks, and nothing
			// follows them.
			if cr.n != dataEnd+2*blockSize {
				rd.report("", -1, "the archive does not end with the two zero blocks of the tar format (it was cut short)")
			} else if n, _ := io.CopyN(io.Discard, br, 1); n > 0 {
				rd.report("", -1, "data follows the end of the archive (the two zero blocks); it is not part of a cairn archive")
			}
			break
		}
		if err != nil {
			where := "after " + ManifestName
			if next > 0 {
				where = "after member " + m.Members[next-1].Name
			}
			rd.report("", -1, "archive %s: %s", where, tarProblem(err))
			break
		}
		if next >= len(m.Members) {
			rd.report(hdr.Name, -1, "member is not listed in the manifest")
			break
		}
		mb := m.Members[next]
		if hdr.Name != mb.Name {
			rd.report(hdr.Name, -1, "unexpected member; the manifest lists %s next", mb.Name)
			break
		}
		next++
		if hdr.Typeflag != tar.TypeReg || sparse(hdr) {
			rd.report(mb.Name, -1, "not a plain regular file (tar type %q)", hdr.Typeflag)
			continue
		}
		if p := headerProblem(hdr); p != "" {
			rd.report(mb.Name, -1, "%s", p)
			continue
		}
		if hdr.Size != mb.Bytes {
			// Its content cannot be what the manifest hashed; do not read it.
			rd.report(mb.Name, -1, "%d bytes, the manifest says %d", hdr.Size, mb.Bytes)
			continue
		}
		if e := rd.opts.Earlier; e != nil && mb.Kind == KindRecords {
			if ra, ok := r.(io.ReaderAt); ok {
				e.src, e.start = ra, cr.n // the data follows the header just read
			}
		}
		h := sha256.New()
		body := io.TeeReader(tr, h)
		if err := rd.member(mb, body); err != nil {
			return nil, err
		}
		// Drain what the member reader left, so the hash covers all of it.
		if _, err := io.Copy(io.Discard, body); err != nil {
			rd.report(mb.Name, -1, "%s", tarProblem(err))
			break
		}
		dataEnd = blockEnd(cr.n)
		if got := hex.EncodeToString(h.Sum(nil)); got != mb.SHA256 {
			rd.report(mb.Name, -1, "content hashes to %s, the manifest says %s (the member was changed)", got[:16]+"…", mb.SHA256[:16]+"…")
		}
	}
	for ; next < len(m.Members); next++ {
		rd.report(m.Members[next].Name, -1, "member is missing (the archive is truncated or was cut)")
	}
	if len(rd.problems) > 0 {
		return nil, &Error{rd.problems}
	}
	for _, mb := range m.Members {
		if mb.Kind == KindCheckpoint {
			rd.rep.Checkpoints = append(rd.rep.Checkpoints, rd.notes[mb.TreeSize])
		}
	}
	sort.Slice(rd.rep.Checkpoints, func(i, j int) bool { return rd.rep.Checkpoints[i].Size < rd.rep.Checkpoints[j].Size })
	if rs != nil {
		root, err := rs.l.TreeHash(m.Size)
		if err != nil {
			return nil, err
		}
		if root != rd.rep.Root {
			return nil, fmt.Errorf("archive: internal error: the restored ledger's root differs from the archive's")
		}
	}
	return rd.rep, nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

const blockSize = 512

// blockEnd rounds a position up to the end of its tar block.
func blockEnd(n int64) int64 { return (n + blockSize - 1) / blockSize * blockSize }

// sparse reports whether a member is a sparse file: its holes read as zeros
// that are not in the archive, so a small damaged archive could make a reader
// hash gigabytes. cairn never writes one.
func sparse(hdr *tar.Header) bool {
	if hdr.Typeflag == tar.TypeGNUSparse {
		return true
	}
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

// headerProblem checks what FORMAT.md §8 fixes of every member's header: mode
// 0444 and owner cairn.
func headerProblem(hdr *tar.Header) string {
	switch {
	case hdr.Mode != 0o444:
		return fmt.Sprintf("mode %04o, a cairn archive's members have mode 0444", hdr.Mode)
	case hdr.Uname != memberOwner || hdr.Gname != memberOwner:
		return fmt.Sprintf("owner %q and group %q; a cairn archive's members belong to %q", hdr.Uname, hdr.Gname, memberOwner)
	}
	return ""
}

func tarProblem(err error) string {
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the archive ends in the middle of a member (truncated)"
	case errors.Is(err, tar.ErrHeader):
		return "invalid tar header (damaged)"
	}
	return err.Error()
}

// member checks one member's content. It returns an error only when the
// restore cannot go on (the disk); damage is reported.
func (rd *reader) member(mb Member, body io.Reader) error {
	switch mb.Kind {
	case KindRecords:
		return rd.records(mb, body)
	case KindCheckpoint:
		note, ok := rd.small(mb, body, maxNote)
		if !ok {
			return nil
		}
		permitted, known := rd.rep.Keys, rd.rep.Keys
		if rd.opts.CheckpointSigners != nil {
			permitted = rd.opts.CheckpointSigners(mb.TreeSize)
		}
		if rd.opts.KnownKeys != nil {
			known = rd.opts.KnownKeys()
		}
		c, err := ledger.OpenCheckpointAmong(note, permitted, known)
		switch {
		case err != nil:
			rd.report(mb.Name, -1, "%v", err)
		case c.Origin != rd.m.Origin:
			rd.report(mb.Name, -1, "checkpoint is for ledger %s, the archive holds %s", c.Origin, rd.m.Origin)
		case c.Size != mb.TreeSize:
			rd.report(mb.Name, -1, "checkpoint covers %d records, the manifest says %d", c.Size, mb.TreeSize)
		case c.Root != rd.rootAt[c.Size]:
			rd.report(mb.Name, -1, "checkpoint root does not match the first %d records", c.Size)
		default:
			rd.notes[c.Size] = c
			if rd.rs != nil && len(rd.problems) == 0 {
				return rd.rs.l.PutCheckpoint(note)
			}
		}
	case KindTimestamp:
		// A token must be sound over its checkpoint's exact note. Whether its
		// TSA is trusted is for cairn verify --tsa-roots, once restored.
		tok, ok := rd.small(mb, body, maxToken)
		if !ok {
			return nil
		}
		cp := rd.notes[mb.TreeSize]
		if cp == nil {
			rd.report(mb.Name, -1, "timestamp token for the checkpoint of size %d, which did not verify", mb.TreeSize)
			return nil
		}
		t, err := rfc3161.VerifyUntrusted(tok, cp.Note)
		if err == nil {
			err = ledger.CheckAttestedTime("the timestamp", t.Latest(), mb.TreeSize, rd.timeAt[mb.TreeSize])
		}
		if err != nil {
			rd.report(mb.Name, -1, "%v", err)
			return nil
		}
		rd.rep.Timestamps++
		if rd.rs != nil && len(rd.problems) == 0 {
			return rd.rs.l.PutTimestamp(mb.TreeSize, tok)
		}
	case KindCosignature:
		note, ok := rd.small(mb, body, maxNote)
		if !ok {
			return nil
		}
		cp := rd.notes[mb.TreeSize]
		c, err := ledger.ParseCheckpoint(note)
		switch {
		case cp == nil:
			rd.report(mb.Name, -1, "cosignature for the checkpoint of size %d, which did not verify", mb.TreeSize)
		case err != nil:
			rd.report(mb.Name, -1, "%v", err)
		case c.Body() != cp.Body():
			rd.report(mb.Name, -1, "the cosigned text is not the checkpoint of size %d", mb.TreeSize)
		case witness.HasCosignatureLine(note, mb.Witness) != nil:
			rd.report(mb.Name, -1, "%v", witness.HasCosignatureLine(note, mb.Witness))
		default:
			rd.rep.Cosigned++
			rd.cosigned[mb.Name] = note
			if rd.rs != nil && len(rd.problems) == 0 {
				return rd.rs.l.PutCosignature(mb.TreeSize, mb.Witness, note)
			}
		}
	case KindStudioProof:
		// The proof must lead from its cosigned note to its studio log
		// checkpoint's root; whose log that is, is for cairn verify --studio.
		text, ok := rd.small(mb, body, maxNote+64*64)
		if !ok {
			return nil
		}
		stem := strings.TrimSuffix(strings.TrimPrefix(mb.Name, "studio/"), ".tlog-proof")
		note := rd.cosigned["cosignatures/"+stem+".note"]
		p, err := studio.ParseProof(text)
		if err == nil && note == nil {
			err = fmt.Errorf("the cosignature it proves did not verify")
		}
		if err == nil {
			_, err = p.Check(note, nil)
		}
		if err == nil && !bytes.Equal(p.Marshal(), text) {
			err = fmt.Errorf("the tlog-proof is not in canonical form")
		}
		if err != nil {
			rd.report(mb.Name, -1, "%v", err)
			return nil
		}
		rd.proofs[mb.Name] = p
		rd.rep.Studio++
		if rd.rs != nil && len(rd.problems) == 0 {
			return rd.rs.l.PutStudioProof(ledger.StudioProof{Size: mb.TreeSize, Witness: mb.Witness, Proof: text})
		}
	case KindStudioToken:
		tok, ok := rd.small(mb, body, maxToken)
		if !ok {
			return nil
		}
		proofName := strings.TrimSuffix(mb.Name, ".tsr") + ".tlog-proof"
		p := rd.proofs[proofName]
		if p == nil {
			rd.report(mb.Name, -1, "the studio log proof it dates did not verify")
			return nil
		}
		if _, err := rfc3161.VerifyUntrusted(tok, p.Checkpoint); err != nil {
			rd.report(mb.Name, -1, "%v", err)
			return nil
		}
		if rd.rs != nil && len(rd.problems) == 0 {
			return rd.rs.l.PutStudioProof(ledger.StudioProof{Size: mb.TreeSize, Witness: mb.Witness, Proof: p.Marshal(), Token: tok})
		}
	case KindFile:
		h := sha256.New()
		var stored string
		var err error
		if rd.rs != nil && len(rd.problems) == 0 {
			stored, err = rd.rs.putFile(io.TeeReader(body, h))
			if err != nil {
				return fmt.Errorf("restore file %s: %w", mb.SHA256, err)
			}
		} else if _, err := io.Copy(h, body); err != nil {
			rd.report(mb.Name, -1, "%s", tarProblem(err))
			return nil
		}
		got := hex.EncodeToString(h.Sum(nil))
		if got != mb.SHA256 || (stored != "" && stored != got) {
			// The member hash check names the mismatch; say what it means.
			rd.report(mb.Name, -1, "file content does not match its name (SHA-256 %s…)", got[:16])
			return nil
		}
		rd.rep.Files[got] = mb.Bytes
		rd.rep.FileBytes += mb.Bytes
	}
	return nil
}

func (rd *reader) small(mb Member, body io.Reader, limit int64) ([]byte, bool) {
	data, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		rd.report(mb.Name, -1, "%s", tarProblem(err))
		return nil, false
	}
	if int64(len(data)) > limit {
		rd.report(mb.Name, -1, "larger than %d bytes", limit)
		return nil, false
	}
	return data, true
}

// records reads the concatenated entries. Each entry's length follows from its
// own header (156 + the payload length at offset 88), so the member needs no
// framing of its own. Each entry is checked by ledger.RecordChecker, the rules
// ledger verification uses.
func (rd *reader) records(mb Member, body io.Reader) error {
	br := bufio.NewReaderSize(body, 1<<20)
	chk := ledger.NewRecordChecker(rd.m.Origin, ledger.CheckOptions{Workers: rd.opts.Workers, CheckRecord: rd.opts.CheckRecord})
	defer chk.Close()
	for !chk.Failed() {
		entry, err := readEntry(br)
		if err == io.EOF {
			break
		}
		if err != nil {
			chk.Report(chk.Size(), "%v", err)
			break
		}
		if e := rd.opts.Earlier; e != nil {
			e.add(entry) // before the check, which may read it back
		}
		r, _ := chk.Add(entry)
		if r == nil {
			break
		}
		seq := chk.Size()
		if _, ok := rd.rootAt[seq]; ok {
			rd.rootAt[seq] = chk.Root()
			rd.timeAt[seq] = r.Time
		}
		if seq%256 == 0 && rd.opts.Progress != nil {
			rd.opts.Progress(seq)
		}
		if rd.rs != nil {
			rd.rs.pending = append(rd.rs.pending, entry)
			if len(rd.rs.pending) == 4096 {
				if err := rd.rs.flush(); err != nil {
					rd.report(mb.Name, -1, "restore: %v", err)
					return nil
				}
			}
		}
	}
	if verr := chk.Close(); verr != nil {
		rd.report(mb.Name, verr.Seq, "%s", verr.Problem)
		return nil
	}
	seq := chk.Size()
	rd.rep.Keys = chk.Keys()
	rd.rep.First, rd.rep.Last = chk.Span()
	if seq != rd.m.Size {
		rd.report(mb.Name, -1, "holds %d records, the manifest says %d", seq, rd.m.Size)
		return nil
	}
	root := chk.Root()
	rd.rep.Root = root
	if want, _ := rd.m.root(); want != root {
		rd.report(ManifestName, -1, "root %s does not match the records (their root is %s)", rd.m.Root, fmtHash(root))
		return nil
	}
	if rd.opts.Progress != nil {
		rd.opts.Progress(seq)
	}
	if rd.rs != nil {
		if err := rd.rs.flush(); err != nil {
			rd.report(mb.Name, -1, "restore: %v", err)
		}
	}
	return nil
}

// readEntry reads one entry: its 92-byte header, then the payload and
// signature its length implies. io.EOF means the member ended between entries.
func readEntry(br *bufio.Reader) ([]byte, error) {
	var head [92]byte
	n, err := io.ReadFull(br, head[:])
	if n == 0 && err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		return nil, fmt.Errorf("entry is cut short: %s", tarProblem(errors.Join(io.ErrUnexpectedEOF, err)))
	}
	plen := int64(binary.BigEndian.Uint32(head[88:92]))
	if plen > ledger.MaxPayload {
		return nil, fmt.Errorf("payload length %d exceeds the limit of %d (entry damaged)", plen, ledger.MaxPayload)
	}
	entry := make([]byte, 92+plen+ed25519.SignatureSize)
	copy(entry, head[:])
	if _, err := io.ReadFull(br, entry[92:]); err != nil {
		return nil, fmt.Errorf("entry is cut short (%s)", tarProblem(io.ErrUnexpectedEOF))
	}
	return entry, nil
}

func fmtHash(h tlog.Hash) string { return h.String() }
