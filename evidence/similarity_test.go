package evidence

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/cairn-ledger/cairn/evidence/percept"
	"github.com/cairn-ledger/cairn/ledger"
)

func similarityStep(in []FileRef, m Similarity) *Step {
	return &Step{Kind: KindSimilarity, Asset: "poster", In: in, Source: "stock", Similarity: &m}
}

// A similarity check is read strictly like every step, and must agree with
// itself: its result follows from its distances, and its look-alikes are of
// files it compared.
func TestSimilarityCheckIsConsistent(t *testing.T) {
	a := FileRef{Name: "final.png", SHA256: strings.Repeat("a", 64), Size: 3, Type: "image/png"}
	set := strings.Repeat("c", 64)
	ref := strings.Repeat("d", 64)
	good := Similarity{Method: percept.Method, Set: set, Count: 3, Threshold: 24, Nearest: 9, Result: SimilarityLookalikes,
		Matches: []SimilarityMatch{{Name: "stock/x.jpg", SHA256: ref, Distance: 9, File: a.SHA256}, {Name: "stock/y.jpg", SHA256: set, Distance: 20, File: a.SHA256}}}
	clear := Similarity{Method: percept.Method, Set: set, Count: 3, Threshold: 24, Nearest: 40, Result: SimilarityClear}
	for _, m := range []Similarity{good, clear} {
		s := similarityStep([]FileRef{a}, m)
		if err := s.Normalize(); err != nil {
			t.Fatalf("%+v: %v", m, err)
		}
		p, _ := s.Encode()
		if _, err := DecodeStep(p); err != nil {
			t.Fatalf("genuine check %s refused: %v", p, err)
		}
	}
	bad := func(f func(m *Similarity)) Similarity {
		m := good
		m.Matches = append([]SimilarityMatch(nil), good.Matches...)
		f(&m)
		return m
	}
	for _, c := range []struct {
		m    Similarity
		want string
	}{
		{bad(func(m *Similarity) { m.Method = "other/2" }), `method "other/2"`},
		{bad(func(m *Similarity) { m.Result = SimilarityClear }), `says "clear", but its nearest distance 9`},
		{bad(func(m *Similarity) { m.Nearest = 30; m.Result = SimilarityClear }), "outside 30 to 24"},
		{bad(func(m *Similarity) { m.Matches[0].File = ref }), "which the check did not compare"},
		{bad(func(m *Similarity) { m.Matches[0], m.Matches[1] = m.Matches[1], m.Matches[0] }), "not nearest first"},
		{bad(func(m *Similarity) { m.Nearest = 5 }), "the nearest similarity match is at distance 9, the check says 5"},
		{bad(func(m *Similarity) { m.Matches = nil }), "lists none"},
		{bad(func(m *Similarity) { m.Count = 0 }), "no reference image"},
		{bad(func(m *Similarity) { m.Set = "abc" }), "set:"},
		{bad(func(m *Similarity) { m.Threshold = 200 }), "at most 128"},
	} {
		err := similarityStep([]FileRef{a}, c.m).Normalize()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want …%s…", c.m, err, c.want)
		}
	}
	// Strict reading applies inside it too.
	s := similarityStep([]FileRef{a}, clear)
	s.Normalize()
	p, _ := s.Encode()
	for _, v := range [][]byte{
		bytes.Replace(p, []byte(`"count":3`), []byte(`"count":3,"Count":3`), 1),
		bytes.Replace(p, []byte(`"nearest":40`), []byte(`"nearest":40.0`), 1),
		bytes.Replace(p, []byte(`"result":"clear"`), []byte(`"result":"clear","result":"lookalikes"`), 1),
	} {
		if _, err := DecodeStep(v); err == nil {
			t.Errorf("lenient: %s decoded", v)
		}
	}
}

func TestReferenceSetHash(t *testing.T) {
	a, b := strings.Repeat("a", 64), strings.Repeat("b", 64)
	// SHA-256 of "aaa…\nbbb…\n", whatever the order and duplicates.
	want := ReferenceSetHash([]string{a, b})
	if ReferenceSetHash([]string{b, a, b}) != want || want == ReferenceSetHash([]string{a}) {
		t.Fatal("the set hash depends on order or duplicates, or ignores content")
	}
}

// The rule of FORMAT.md §5.8: a check compares files of its own asset. A
// record that breaks it fails verification.
func TestSimilarityRule(t *testing.T) {
	b, id := newBook(t)
	other, err := b.Files.AddReader(strings.NewReader("another asset's input"))
	if err != nil {
		t.Fatal(err)
	}
	other.Name = "other.txt"
	mine, _ := b.Files.AddReader(strings.NewReader("the poster's input"))
	mine.Name = "mine.txt"
	if _, err := b.Record(id, []*Step{
		{Kind: KindAsset, Asset: "poster"}, {Kind: KindAsset, Asset: "logo"},
		{Kind: KindInput, Asset: "logo", File: &other, Permission: "own"},
		{Kind: KindInput, Asset: "poster", File: &mine, Permission: "own"},
	}); err != nil {
		t.Fatal(err)
	}
	m := Similarity{Method: percept.Method, Set: strings.Repeat("c", 64), Count: 1, Threshold: 24, Nearest: 50, Result: SimilarityClear}
	if _, err := b.Record(id, []*Step{similarityStep([]FileRef{mine}, m)}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Verify(VerifyOptions{}); err != nil {
		t.Fatalf("a check of the asset's own file: %v", err)
	}
	if _, err := b.Record(id, []*Step{similarityStep([]FileRef{other}, m)}); err != nil {
		t.Fatal(err)
	}
	_, err = b.Verify(VerifyOptions{})
	var ve *ledger.VerifyError
	if !errors.As(err, &ve) || ve.Seq != 6 || !strings.Contains(ve.Problem, `which no earlier record of asset "poster" names`) {
		t.Fatalf("verify: %v", err)
	}
}

// A similarity check compares the work with others after it was made: it is
// never counted as a step of the work, by a person or otherwise.
func TestSimilarityCheckIsNoStepOfTheWork(t *testing.T) {
	b, id := newBook(t)
	mine, _ := b.Files.AddReader(strings.NewReader("the poster"))
	mine.Name = "poster.png"
	if _, err := b.Record(id, []*Step{{Kind: KindAsset, Asset: "poster"}, {Kind: KindSketch, Asset: "poster", File: &mine}}); err != nil {
		t.Fatal(err)
	}
	before := accountOf(t, b, "poster")
	m := Similarity{Method: percept.Method, Set: strings.Repeat("c", 64), Count: 1, Threshold: 24, Nearest: 50, Result: SimilarityClear}
	if _, err := b.Record(id, []*Step{similarityStep([]FileRef{mine}, m)}); err != nil {
		t.Fatal(err)
	}
	after := accountOf(t, b, "poster")
	if after.Steps != before.Steps || after.HumanSteps != before.HumanSteps || after.SimilarityChecks != 1 {
		t.Fatalf("steps %d→%d, human %d→%d, checks %d", before.Steps, after.Steps, before.HumanSteps, after.HumanSteps, after.SimilarityChecks)
	}
}

func accountOf(t *testing.T, b *Book, asset string) *Account {
	t.Helper()
	v, err := b.ViewAsset(asset)
	if err != nil {
		t.Fatal(err)
	}
	return NewAccount(asset, v.Steps)
}
