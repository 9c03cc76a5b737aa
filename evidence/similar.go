package evidence

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"sort"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/cairn-ledger/cairn/evidence/percept"
	"github.com/cairn-ledger/cairn/ledger"
)

// The file store keeps a perceptual fingerprint of every stored image in
// .fingerprints beside the files (evidence/percept, FORMAT.md §6). It is an
// index: it finds candidates for cairn match and says nothing itself.
const fingerprintsName = ".fingerprints"

// FingerprintPath is where the store keeps its fingerprint index.
func (s *FileStore) FingerprintPath() string { return filepath.Join(s.dir, fingerprintsName) }

// fingerprint adds a file just stored to the index. It never fails the store:
// a file it misses is fingerprinted on the next cairn match.
func (s *FileStore) fingerprint(sum string) {
	key, ok := percept.ParseSum(sum)
	if !ok {
		return
	}
	r := percept.ReadFile(s.path(sum))
	p := percept.Problem(0)
	if r.Err != nil {
		p = percept.ProblemOf(r.Err)
	}
	percept.AppendRecord(s.FingerprintPath(), key, p, r.FP)
}

// Fingerprints returns the store's fingerprint index, first adding every file
// of refs it does not know yet, on every core (progress is told how many of
// them are done). rebuild starts from nothing: the index is recomputed from
// the files. A ledger recorded before cairn kept fingerprints gets them this
// way, on first use.
func (s *FileStore) Fingerprints(refs []FileRef, rebuild bool, progress func(done, total int)) (*percept.Index, error) {
	x, err := percept.OpenIndex(s.FingerprintPath())
	if err != nil {
		return nil, err
	}
	if rebuild {
		x.Reset()
	}
	var todo [][32]byte
	var sums []string
	seen := map[[32]byte]bool{}
	for _, r := range refs {
		key, ok := percept.ParseSum(r.SHA256)
		if ok && !x.Has(key) && !seen[key] {
			seen[key] = true
			todo = append(todo, key)
			sums = append(sums, r.SHA256)
		}
	}
	paths := make([]string, len(sums))
	for i, sum := range sums {
		paths[i], _ = s.Path(sum) // ParseSum checked it
	}
	for i, r := range percept.ReadFiles(paths, progress) {
		p := percept.Problem(0)
		if r.Err != nil {
			p = percept.ProblemOf(r.Err)
		}
		x.Add(todo[i], p, r.FP) // in memory; saved below
	}
	if rebuild || len(todo) > 0 {
		if err := x.Save(); err != nil {
			return nil, fmt.Errorf("saving the fingerprint index %s: %w", s.FingerprintPath(), err)
		}
	}
	return x, nil
}

// ReadChecked reads a stored file whole (at most max bytes) and checks it
// against its SHA-256: what cairn says about a file's content is said of the
// bytes the ledger commits to.
func (s *FileStore) ReadChecked(sum string, max int64) ([]byte, error) {
	f, err := s.Open(sum)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &ledger.VerifyError{Seq: -1, Problem: fmt.Sprintf("file %s is missing from the store (run cairn verify)", sum[:12])}
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("stored file %s is larger than %s", sum[:12], HumanSize(max))
	}
	if got := sha256.Sum256(data); hex.EncodeToString(got[:]) != sum {
		return nil, &ledger.VerifyError{Seq: -1, Problem: fmt.Sprintf("stored file %s was changed: its content now hashes to %x (run cairn verify)", sum[:12], got[:6])}
	}
	return data, nil
}

// A FilesView is what the signed records of a ledger say about its files:
// for each stored file, every record that names it. It is read in one pass
// through a rule book, like an AssetView; the records it returns have their
// signatures checked.
type FilesView struct {
	Rules *RuleBook
	book  *Book
	names map[[32]byte][]int64
}

// ViewFiles reads the whole ledger through a rule book (checking the
// signatures of identity and rotation records, which name the authors) and
// notes which records name each file. progress is told how many records were
// read.
func (b *Book) ViewFiles(progress func(int64)) (*FilesView, error) {
	v := &FilesView{Rules: NewRuleBook(b.ReadRecord), book: b, names: map[[32]byte][]int64{}}
	origin := b.Ledger.Origin()
	err := b.Ledger.Scan(0, func(r *ledger.Record) error {
		s, err := v.Rules.Apply(r)
		if err != nil {
			return &ledger.VerifyError{Seq: r.Seq, Problem: err.Error() + " (run cairn verify)"}
		}
		if (s.Kind == KindIdentity || s.Kind == KindRotate) && !r.CheckSignature(origin) {
			return &ledger.VerifyError{Seq: r.Seq, Problem: "signature does not verify (run cairn verify)"}
		}
		for _, f := range s.Files() {
			if key, ok := percept.ParseSum(f.SHA256); ok {
				v.names[key] = append(v.names[key], r.Seq)
			}
		}
		if progress != nil && r.Seq%1024 == 0 {
			progress(r.Seq)
		}
		return nil
	})
	return v, err
}

// Files returns every stored file a step names, once (RuleBook.Files).
func (v *FilesView) Files() []FileRef {
	uses := v.Rules.Files()
	out := make([]FileRef, len(uses))
	for i, u := range uses {
		out[i] = u.Ref
	}
	return out
}

// Named reports whether a record names the file.
func (v *FilesView) Named(sum [32]byte) bool { return len(v.names[sum]) > 0 }

// Records returns every record that names the file, in ledger order, read
// again from the ledger with its signature checked.
func (v *FilesView) Records(sum [32]byte) ([]StepRecord, error) {
	var out []StepRecord
	origin := v.book.Ledger.Origin()
	for _, seq := range v.names[sum] {
		r, err := v.book.Ledger.Get(seq)
		if err != nil {
			return nil, err
		}
		if !r.CheckSignature(origin) {
			return nil, &ledger.VerifyError{Seq: seq, Problem: "signature does not verify (run cairn verify)"}
		}
		if k := v.Rules.Key(r.Key); !k.InUseAt(seq) {
			return nil, &ledger.VerifyError{Seq: seq, Problem: "signed by a key not in use at this record (run cairn verify)"}
		}
		s, err := DecodeStep(r.Payload)
		if err != nil {
			return nil, &ledger.VerifyError{Seq: seq, Problem: err.Error()}
		}
		out = append(out, StepRecord{r, s})
	}
	return out, nil
}

// FileRoles says what a file was in a step: a candidate a generation produced,
// the chosen or a rejected candidate of a selection, an edit's before or
// after, a sketch, an input (third-party or the designer's own), the final work, an input to a
// generation, or a file compared in a similarity check.
func FileRoles(s *Step, sum string) []string {
	var out []string
	has := func(fs []FileRef) bool {
		for _, f := range fs {
			if f.SHA256 == sum {
				return true
			}
		}
		return false
	}
	is := func(f *FileRef) bool { return f != nil && f.SHA256 == sum }
	switch s.Kind {
	case KindGenerate:
		if has(s.Out) {
			out = append(out, "generated candidate")
		}
		if has(s.In) {
			out = append(out, "input to the generation")
		}
	case KindSelect:
		if is(s.File) {
			out = append(out, "chosen candidate")
		} else if has(s.Rejected) {
			out = append(out, "rejected candidate")
		}
	case KindEdit:
		if is(s.Before) {
			out = append(out, "edit: before")
		}
		if is(s.After) {
			out = append(out, "edit: after")
		}
	case KindSketch, KindInput, KindFinal:
		if is(s.File) {
			out = append(out, map[string]string{KindSketch: "own sketch", KindInput: "input", KindFinal: "final work"}[s.Kind])
		}
	case KindSimilarity:
		if has(s.In) {
			out = append(out, "compared in a similarity check")
		}
	}
	return out
}

// A TrustedTime is the earliest time a third party fixes for one record: a
// timestamp token checked against TSA roots the verifier trusts, or a
// cosignature of a witness the verifier trusts, on a checkpoint whose tree
// holds the record. Zero At: none does, and Clock (the record's own time, from
// its author's computer) is all there is.
type RecordTime struct {
	Clock  time.Time
	At     time.Time
	How    string // "RFC 3161 timestamp" or "witness cosignature"
	By     string // the TSA, or the witness's name
	Size   int64  // the checkpoint's size
	Anchor Anchor // where the verifier's trust in the TSA roots or witness key comes from
}

// An Attested is a checkpoint of a ledger that a trusted third party dated.
type attested struct {
	RecordTime
	root tlog.Hash
}

// TimeBook dates records of one ledger by the attestations the verifier
// trusts. It is built once per ledger (Book.TimeBook) and asked per record.
type TimeBook struct {
	book *Book
	list []attested // earliest first
}

// TimeBook checks every stored timestamp token and cosignature against the
// verifier's trust (as cairn verify does: a token or cosignature dated before
// the records it covers is an error), and keeps those that are trusted, on
// checkpoints signed by a key that may sign them.
func (b *Book) TimeBook(rb *RuleBook, trust *Trust) (*TimeBook, error) {
	if trust == nil {
		trust = &Trust{}
	}
	sizes, err := b.attestedSizes()
	if err != nil {
		return nil, err
	}
	lastTime := map[int64]time.Time{}
	for size := range sizes {
		if size < 1 || size > b.Ledger.Size() {
			return nil, &ledger.VerifyError{Seq: -1, Problem: fmt.Sprintf("an attestation is stored for a checkpoint of %d records; the ledger has %d (run cairn verify)", size, b.Ledger.Size())}
		}
		r, err := b.Ledger.Get(size - 1)
		if err != nil {
			return nil, err
		}
		lastTime[size] = r.Time
	}
	probs := &ledger.Problems{}
	toks, err := b.verifyTimestamps(trust.TSA, lastTime, probs)
	if err == nil {
		err = probs.Err()
	}
	if err != nil {
		return nil, err
	}
	cos, err := b.verifyCosignatures(trust, lastTime, probs)
	if err == nil {
		err = probs.Err()
	}
	if err != nil {
		return nil, err
	}
	tb := &TimeBook{book: b}
	roots := map[int64]tlog.Hash{}
	root := func(size int64) (tlog.Hash, error) {
		if h, ok := roots[size]; ok {
			return h, nil
		}
		note, err := b.Ledger.CheckpointAt(size)
		if err != nil {
			return tlog.Hash{}, err
		}
		cp, err := ledger.OpenCheckpoint(note, rb.CheckpointSigners(size)...)
		if err != nil || cp.Origin != b.Ledger.Origin() || cp.Size != size {
			return tlog.Hash{}, &ledger.VerifyError{Seq: -1, Problem: fmt.Sprintf("the attested checkpoint of %d records is not signed by a key that may sign it (run cairn verify)", size)}
		}
		roots[size] = cp.Root
		return cp.Root, nil
	}
	for _, t := range toks {
		if !t.Checked {
			continue // anyone could have made it: not a trusted time
		}
		h, err := root(t.Size)
		if err != nil {
			return nil, err
		}
		tb.list = append(tb.list, attested{RecordTime{At: t.Time, How: "RFC 3161 timestamp", By: t.TSA, Size: t.Size, Anchor: t.Anchor}, h})
	}
	for _, c := range cos {
		if !c.Checked {
			continue
		}
		h, err := root(c.Size)
		if err != nil {
			return nil, err
		}
		tb.list = append(tb.list, attested{RecordTime{At: c.Time, How: "witness cosignature", By: c.Witness, Size: c.Size, Anchor: c.Anchor}, h})
	}
	sort.SliceStable(tb.list, func(i, j int) bool { return tb.list[i].At.Before(tb.list[j].At) })
	return tb, nil
}

// Earliest returns the earliest trusted time that covers the record: the
// first attestation, by time, on a checkpoint whose tree holds the record's
// exact bytes (its inclusion proof is checked against the signed root).
func (tb *TimeBook) Earliest(r *ledger.Record) (RecordTime, error) {
	for _, a := range tb.list {
		if a.Size <= r.Seq {
			continue
		}
		proof, err := tb.book.Ledger.InclusionProof(r.Seq, a.Size)
		if err == nil {
			err = tlog.CheckRecord(proof, a.Size, a.root, r.Seq, r.Hash())
		}
		if err != nil {
			return RecordTime{}, &ledger.VerifyError{Seq: r.Seq, Problem: fmt.Sprintf("the record is not in the attested checkpoint of %d records: %v (run cairn verify)", a.Size, err)}
		}
		rt := a.RecordTime
		rt.Clock = r.Time
		return rt, nil
	}
	return RecordTime{Clock: r.Time}, nil
}
