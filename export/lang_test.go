package export

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/evidence/percept"
	"github.com/cairn-ledger/cairn/internal/msg"
	"github.com/cairn-ledger/cairn/internal/msg/msgtest"
)

// langFixture is the time fixture (timestamps, a witness, a key rotation)
// with a step of every kind and every actor, so that a pack of it draws
// nearly every sentence of the catalogue. typed is every text in it that a
// person or a tool wrote, which a pack shows as recorded.
type langFixture struct {
	*timeFixture
	typed []string
}

func newLangFixture(t testing.TB) *langFixture {
	f := &langFixture{timeFixture: newTimeFixture(t)}
	b := f.book
	sketch := addFile(t, b, "own-sketch.png", pngBytes(t, 48, 7))
	filled := addFile(t, b, "filled.png", pngBytes(t, 48, 8))
	byAI := addFile(t, b, "ai-only.png", pngBytes(t, 48, 9))
	changed := addFile(t, b, "changed.png", pngBytes(t, 48, 10))
	found := addFile(t, b, "found.png", pngBytes(t, 48, 11))
	varied := addFile(t, b, "varied.png", pngBytes(t, 48, 12))
	ref := addFile(t, b, "moodboard.txt", []byte("a moodboard\n"))
	record(t, f.fixture,
		&evidence.Step{Kind: evidence.KindSketch, Asset: "poster", File: &sketch, Note: "pencil, scanned"},
		&evidence.Step{Kind: evidence.KindGenerate, Asset: "poster", Tool: "firefly", In: []evidence.FileRef{sketch}, Out: []evidence.FileRef{varied}},
		&evidence.Step{Kind: evidence.KindEdit, Asset: "poster", By: evidence.ActorBoth, Before: &varied, After: &filled, Tool: "photoshop", Model: "firefly", Text: "snow on the left"},
		&evidence.Step{Kind: evidence.KindEdit, Asset: "poster", By: evidence.ActorAI, Before: &filled, After: &byAI, Tool: "upscaler"},
		&evidence.Step{Kind: evidence.KindFile, Asset: "poster", By: evidence.ActorUnknown, File: &found},
		&evidence.Step{Kind: evidence.KindEdit, Asset: "poster", By: evidence.ActorUnknown, Before: &byAI, After: &changed, In: []evidence.FileRef{found}},
		&evidence.Step{Kind: evidence.KindInput, Asset: "poster", File: &ref, Permission: "unknown", Use: "reference"},
		&evidence.Step{Kind: evidence.KindDisclose, Asset: "poster", Date: "2020-01-01", Where: "a fair"},
		&evidence.Step{Kind: evidence.KindNote, Asset: "poster", Text: "a mistake"},
	)
	mistake, err := b.Ledger.Get(b.Ledger.Size() - 1)
	if err != nil {
		t.Fatal(err)
	}
	leaf := mistake.Hash()
	record(t, f.fixture,
		&evidence.Step{Kind: evidence.KindRetract, Asset: "poster", Retracts: &evidence.RecordRef{Seq: mistake.Seq, Hash: hex.EncodeToString(leaf[:])}, Why: "wrong asset"},
		&evidence.Step{Kind: evidence.KindFinal, Asset: "poster", File: &changed},
		&evidence.Step{Kind: evidence.KindSimilarity, Asset: "poster", In: []evidence.FileRef{changed}, Source: "a stock library",
			Similarity: &evidence.Similarity{Method: percept.Method, Set: strings.Repeat("c", 64), Count: 3, Threshold: 24, Nearest: 9,
				Result: evidence.SimilarityLookalikes, Matches: []evidence.SimilarityMatch{{Name: "stock/fox.jpg", SHA256: strings.Repeat("d", 64), Distance: 9, File: changed.SHA256}}}},
	)
	f.typed = append(f.typed, fixturePrompts...)
	f.typed = append(f.typed, "the fox looks at the viewer", "redrew the eyes", "Festival poster", "Studio X", "Ada Lovelace",
		"ada@example.com", "png tEXt parameters", "https://example.com/t", "CC-BY 4.0", "Instagram", "before the rotation",
		"signed with the new key", "after the last timestamp", "pencil, scanned", "snow on the left", "a fair", "a mistake",
		"wrong asset", "export test TSA", "a stock library", "stock/fox.jpg", f.wname)
	for _, s := range f.typed {
		if safe, _ := safeText(faceRegular, s, false); safe != s {
			f.typed = append(f.typed, safe)
		}
	}
	return f
}

// TestDutchPack: a Dutch pack has no English left in it, by pdftotext of the
// whole pack against the English catalogue, for an author's export and a
// custodian's; and the check finds English where it is.
func TestDutchPack(t *testing.T) {
	needTool(t, "pdftotext")
	f := newLangFixture(t)
	ams, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Fatal(err)
	}
	text := func(pdf []byte) string {
		return run(t, "pdftotext", "-layout", "-enc", "UTF-8", writeTemp(t, "pack.pdf", pdf), "-")
	}
	nl := text(f.export(t, Options{Lang: msg.Dutch, Zone: ams, WithFiles: true}))
	if left := msgtest.EnglishLeft(nl, msg.Dutch, f.typed...); len(left) > 0 {
		t.Errorf("the Dutch pack has English in it: %q", left)
	}
	for _, want := range []string{"Bewijsdossier", "Menselijke bijdrage", "Tijdlijn", "Modelrechtelijke data (EU)", "INGETROKKEN",
		"Integriteit: zo controleert u dit dossier", "CET (", "UTC)", "weergegeven in Europe/Amsterdam met UTC ernaast"} {
		if !strings.Contains(strings.Join(strings.Fields(nl), " "), want) {
			t.Errorf("the Dutch pack lacks %q", want)
		}
	}

	custodian, err := evidence.NewIdentity("Mr. J. de Vries", "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pdf, err := Export(f.book, custodian, "poster", Options{Lang: msg.Dutch})
	if err != nil {
		t.Fatal(err)
	}
	cust := text(pdf)
	if left := msgtest.EnglishLeft(cust, msg.Dutch, append(f.typed, "Mr. J. de Vries")...); len(left) > 0 {
		t.Errorf("the custodian's Dutch pack has English in it: %q", left)
	}
	if !strings.Contains(strings.Join(strings.Fields(cust), " "), "bewaarder: de pdf is ondertekend door deze persoon, die geen auteur is") {
		t.Error("the custodian's pack does not name the custodian in Dutch")
	}

	// A pack signed with a firm's certificate, its signature timestamped,
	// is Dutch too.
	ca := newFirmCA(t, "Advocaten de Vries", nil)
	tsa := newTestTSA(t, "signature TSA")
	pdf, err = Export(f.book, nil, "poster", Options{Lang: msg.Dutch, SignWith: ca.signer, TSA: &TSAOptions{URL: tsa.url, Roots: tsa.pool()}})
	if err != nil {
		t.Fatal(err)
	}
	firm := text(pdf)
	typed := append(f.typed, ca.signer.Chain[0].Subject.String(), ca.signer.Chain[0].Issuer.String(), tsa.url)
	if left := msgtest.EnglishLeft(firm, msg.Dutch, typed...); len(left) > 0 {
		t.Errorf("the firm-signed Dutch pack has English in it: %q", left)
	}
	for _, want := range []string{"met een certificaat uitgegeven door", "Ook de handtekening van deze pdf draagt een tijdstempel", "Gelijkeniscontroles", "lijkt op"} {
		if !strings.Contains(strings.Join(strings.Fields(firm), " "), want) {
			t.Errorf("the firm-signed Dutch pack lacks %q", want)
		}
	}

	// The check is not blind: the English pack is English all through, and a
	// Dutch table with one sentence left in English gives that sentence away.
	en := text(f.export(t, Options{}))
	if left := msgtest.EnglishLeft(en, msg.Dutch, f.typed...); len(left) < 100 {
		t.Errorf("the English pack: the check found only %d pieces of English", len(left))
	}
	leftover := *msg.Dutch
	leftover.Pack.HumanIntro = msg.English.Pack.HumanIntro
	got := msgtest.EnglishLeft(text(f.export(t, Options{Lang: &leftover})), &leftover, f.typed...)
	if len(got) == 0 || !strings.HasPrefix(got[0], "Counted from the recorded steps") {
		t.Errorf("one sentence left in English: the check found %q", got)
	}
}

// TestDutchPlurals: one and many are each in the right number.
func TestDutchPlurals(t *testing.T) {
	d := newDoc("x", nil, time.Now(), msg.Dutch, nil)
	for _, tc := range []struct{ got, want string }{
		{d.span(90 * time.Second), "1 minuut"},
		{d.span(3 * time.Minute), "3 minuten"},
		{d.span(90 * time.Minute), "1,5 uur"},
		{d.span(1 * time.Second), "1 seconde"},
		{d.chartCaption(1, 1, 0), "De 1 stap die meetelt, is vastgelegd binnen minder dan een seconde: één balk, gestapeld naar wie handelde."},
		{d.chartCaption(3, 1, 0), "Alle 3 stappen die meetellen, zijn vastgelegd binnen minder dan een seconde: één balk, gestapeld naar wie handelde."},
		{msg.Dutch.Timeline.InputImages.N(1), "Invoerafbeelding (beeld-naar-beeld: de generatie ging uit van deze afbeelding)"},
		{msg.Dutch.Timeline.Generated.N(2), "2 kandidaten gegenereerd"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// TestCatalogueDrawable: every character of every language's sentences is in
// the built-in Go fonts, so no pack's own words depend on the machine's fonts
// or become markers.
func TestCatalogueDrawable(t *testing.T) {
	for _, c := range msg.Catalogues {
		for _, s := range msgtest.Sentences(c) {
			for _, r := range s {
				if r != '\n' && (!faceRegular.canDraw(r) || !faceBold.canDraw(r)) {
					t.Errorf("%s: %q in %q is not in the Go fonts", c.Code, r, s)
				}
			}
		}
	}
}
