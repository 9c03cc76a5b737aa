package export

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/ledger"
	"github.com/cairn-ledger/cairn/ledger/archive"
)

// TestVerifiersAgree runs every verifier cairn has (the ledger's, the
// archive's, restore's, and the pack's) on the same ledgers, genuine and
// broken, and requires the same verdict from each: OK, or the same first bad
// record. They share one rule book; this proves that no copy of a rule drifted.
func TestVerifiersAgree(t *testing.T) {
	for _, sc := range verifierScenarios {
		t.Run(sc.name, func(t *testing.T) {
			s := newScenario(t)
			sc.build(t, s)
			want := sc.bad
			got := map[string]int64{
				"verify":         ledgerVerdict(t, s.book),
				"verify-archive": archiveVerdict(t, s, false),
				"restore":        archiveVerdict(t, s, true),
				"verify-pack":    packVerdict(t, s),
			}
			for name, seq := range got {
				if seq != want {
					t.Errorf("%s: first bad record %d, want %d (-1: none); all: %v", name, seq, want, got)
				}
			}
		})
	}
}

// A scenario is one asset's ledger with two authors.
type scenario struct {
	book     *evidence.Book
	ada, bob *evidence.Identity
}

func newScenario(t *testing.T) *scenario {
	t.Helper()
	ada, _ := evidence.NewIdentity("Ada Lovelace", "", time.Now())
	bob, _ := evidence.NewIdentity("Bob Baker", "", time.Now())
	b, _, err := evidence.Init(filepath.Join(t.TempDir(), ".cairn"), ada)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	s := &scenario{book: b, ada: ada, bob: bob}
	s.record(t, ada, &evidence.Step{Kind: evidence.KindAsset, Asset: "poster", Owner: "Studio X"})
	s.record(t, ada, &evidence.Step{Kind: evidence.KindPrompt, Asset: "poster", Text: "a fox"})
	s.record(t, bob, &evidence.Step{Kind: evidence.KindNote, Asset: "poster", Text: "Bob's note"}) // 3 identity, 4 note
	return s
}

func (s *scenario) record(t *testing.T, id *evidence.Identity, steps ...*evidence.Step) {
	t.Helper()
	if _, err := s.book.Record(id, steps); err != nil {
		t.Fatal(err)
	}
}

// raw appends a payload signed by key, past every rule of Book.Record.
func (s *scenario) raw(t *testing.T, id *evidence.Identity, payload string) {
	t.Helper()
	if _, err := s.book.Ledger.Append(id.Key, []byte(payload)); err != nil {
		t.Fatal(err)
	}
}

func (s *scenario) rotate(t *testing.T, id *evidence.Identity) *evidence.Identity {
	t.Helper()
	fresh, _ := evidence.NewIdentity(id.Name, "", time.Now())
	st := fresh.Step()
	st.Kind = evidence.KindRotate
	s.record(t, id, st)
	return fresh
}

var verifierScenarios = []struct {
	name  string
	bad   int64 // the first bad record, or -1
	build func(*testing.T, *scenario)
}{
	{"genuine, two authors and a rotation", -1, func(t *testing.T, s *scenario) {
		ada2 := s.rotate(t, s.ada) // 5
		s.record(t, ada2, &evidence.Step{Kind: evidence.KindNote, Asset: "poster", Text: "after"})
		s.record(t, s.bob, &evidence.Step{Kind: evidence.KindNote, Asset: "poster", Text: "Bob again"})
	}},
	{"a record signed by a retired key", 6, func(t *testing.T, s *scenario) {
		s.rotate(t, s.ada) // 5
		s.raw(t, s.ada, `{"v":1,"kind":"note","asset":"poster","by":"human","text":"old key, after the rotation"}`)
	}},
	{"a second rotation by the retired key", 7, func(t *testing.T, s *scenario) {
		ada2 := s.rotate(t, s.ada) // 5
		s.record(t, ada2, &evidence.Step{Kind: evidence.KindNote, Asset: "poster", Text: "after"})
		other, _ := evidence.NewIdentity("Ada Lovelace", "", time.Now())
		st := other.Step()
		st.Kind = evidence.KindRotate
		p, _ := st.Encode()
		s.raw(t, s.ada, string(p))
	}},
	{"a key never introduced", 5, func(t *testing.T, s *scenario) {
		mallory, _ := evidence.NewIdentity("Mallory", "", time.Now())
		s.raw(t, mallory, `{"v":1,"kind":"note","asset":"poster","by":"human","text":"who am I"}`)
	}},
	{"an identity signed by another key", 5, func(t *testing.T, s *scenario) {
		mallory, _ := evidence.NewIdentity("Mallory", "", time.Now())
		p, _ := mallory.Step().Encode()
		s.raw(t, s.bob, string(p))
	}},
	{"a field name in another case", 5, func(t *testing.T, s *scenario) {
		s.raw(t, s.bob, `{"v":1,"kind":"note","asset":"poster","by":"human","Text":"x"}`)
	}},
	{"a duplicated field", 5, func(t *testing.T, s *scenario) {
		s.raw(t, s.bob, `{"v":1,"kind":"note","asset":"poster","by":"human","text":"x","text":"y"}`)
	}},
	{"an unknown actor", 5, func(t *testing.T, s *scenario) {
		s.raw(t, s.bob, `{"v":1,"kind":"prompt","asset":"poster","by":"robot","text":"x"}`)
	}},
	{"a step before its asset", 5, func(t *testing.T, s *scenario) {
		s.raw(t, s.bob, `{"v":1,"kind":"note","asset":"later","by":"human","text":"x"}`)
	}},
	{"a similarity check of the asset's own input", -1, func(t *testing.T, s *scenario) {
		f := s.input(t, "poster", "the poster's texture") // 5
		s.record(t, s.ada, similarityCheck("poster", f))  // 6
	}},
	{"a similarity check of a file the asset never recorded", 5, func(t *testing.T, s *scenario) {
		f, err := s.book.Files.AddReader(bytes.NewReader([]byte("a file no step of the asset names")))
		if err != nil {
			t.Fatal(err)
		}
		s.record(t, s.ada, similarityCheck("poster", f)) // 5
	}},
}

// input records a stored file as an input of asset, and returns it.
func (s *scenario) input(t *testing.T, asset, content string) evidence.FileRef {
	t.Helper()
	f, err := s.book.Files.AddReader(bytes.NewReader([]byte(content)))
	if err != nil {
		t.Fatal(err)
	}
	f.Name = "texture.txt"
	s.record(t, s.ada, &evidence.Step{Kind: evidence.KindInput, Asset: asset, File: &f, Permission: "own"})
	return f
}

func similarityCheck(asset string, f evidence.FileRef) *evidence.Step {
	return &evidence.Step{Kind: evidence.KindSimilarity, Asset: asset, In: []evidence.FileRef{f}, Similarity: &evidence.Similarity{
		Method: "cairn-percept/1", Set: strings.Repeat("c", 64), Count: 2, Threshold: 24, Nearest: 40, Result: evidence.SimilarityClear}}
}

// firstBad reads the record number from a problem such as "record 5: ...".
var firstBad = regexp.MustCompile(`record (\d+)`)

func ledgerVerdict(t *testing.T, b *evidence.Book) int64 {
	_, err := b.Verify(evidence.VerifyOptions{})
	var ve *ledger.VerifyError
	switch {
	case err == nil:
		return -1
	case errors.As(err, &ve):
		return ve.Seq
	}
	t.Fatalf("verify: %v", err)
	return 0
}

// archiveVerdict writes the ledger to an archive and verifies it, or
// restores it, through a rule book, as cairn verify --archive and restore do.
func archiveVerdict(t *testing.T, s *scenario, restore bool) int64 {
	b := s.book
	// Bob's key is never retired here: it may sign a checkpoint of any size.
	if _, err := b.Ledger.SignCheckpoint(s.bob.Key); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := archive.Write(&buf, b.Ledger, archive.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	var err error
	_, opts := evidence.ArchiveRules(nil)
	if restore {
		_, err = archive.Restore(&buf, filepath.Join(t.TempDir(), "ledger"), func(r io.Reader) (string, error) {
			io.Copy(io.Discard, r)
			return "", nil
		}, opts)
	} else {
		_, err = archive.Verify(&buf, opts)
	}
	var ae *archive.Error
	switch {
	case err == nil:
		return -1
	case errors.As(err, &ae):
		return ae.Problems[0].Seq
	}
	t.Fatalf("archive: %v", err)
	return 0
}

// packVerdict builds the bundle of every record of the ledger (one asset),
// taking each record's kind from its JSON without cairn's rules (which a
// broken record fails), and verifies it as verify-pack does.
func packVerdict(t *testing.T, s *scenario) int64 {
	l := s.book.Ledger
	cp, err := l.SignCheckpoint(s.bob.Key) // Bob is never retired here
	if err != nil {
		t.Fatal(err)
	}
	bd := &Bundle{Format: BundleFormatV2, Origin: cp.Origin, Asset: "poster", Checkpoint: string(cp.Note),
		Keys: []BundleKey{}, Identities: []BundleRecord{}, Records: []BundleRecord{}}
	err = l.Scan(0, func(r *ledger.Record) error {
		var kind struct {
			Kind string `json:"kind"`
			Key  string `json:"key"`
			Cert string `json:"cert"`
		}
		json.Unmarshal(r.Payload, &kind)
		if kind.Kind == evidence.KindIdentity || kind.Kind == evidence.KindRotate {
			k, _ := base64.StdEncoding.DecodeString(kind.Key)
			der, _ := base64.StdEncoding.DecodeString(kind.Cert)
			sum := sha256.Sum256(der)
			bd.Keys = append(bd.Keys, BundleKey{Ed25519: kind.Key, KeyID: ledger.KeyID(k), VKey: ledger.VerifierKey(cp.Origin, k), CertSHA256: hex.EncodeToString(sum[:])})
		}
		p, err := l.InclusionProof(r.Seq, cp.Size)
		if err != nil {
			return err
		}
		br := BundleRecord{Index: r.Seq, Entry: base64.StdEncoding.EncodeToString(r.Entry), Proof: []string{}}
		for _, h := range p {
			br.Proof = append(br.Proof, base64.StdEncoding.EncodeToString(h[:]))
		}
		switch kind.Kind {
		case evidence.KindIdentity:
			bd.Identities = append(bd.Identities, br)
		case evidence.KindRotate:
			bd.Rotations = append(bd.Rotations, br)
		default:
			bd.Records = append(bd.Records, br)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rep := &Report{}
	verifyBundle(rep, bd.Encode(), s.bob.Cert, nil, VerifyOptions{})
	first := int64(-1)
	for _, c := range rep.Checks {
		// The key list is informative; a broken record makes it disagree.
		// Every other failure names its record.
		if c.OK || c.Name == "key list" {
			continue
		}
		m := firstBad.FindStringSubmatch(c.Detail)
		if m == nil {
			t.Fatalf("pack check %s failed without naming a record: %s", c.Name, c.Detail)
		}
		n, _ := strconv.ParseInt(m[1], 10, 64)
		if first < 0 || n < first {
			first = n
		}
	}
	if first < 0 && !rep.OK() {
		t.Logf("pack checks: %s", fmt.Sprint(rep.Checks))
	}
	return first
}
