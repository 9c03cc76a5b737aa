package export

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/cairn-ledger/cairn/evidence"
)

// needTool skips a test when an external tool is missing, except in CI, where
// the tools are installed and a missing one is a broken setup.
func needTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed (CI installs poppler-utils and qpdf)", name)
		}
		t.Skipf("%s is not installed", name)
	}
	return p
}

func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	needTool(t, name)
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// Texts of the fixture. The other asset's are unique strings that must appear
// nowhere in the first asset's pack.
var (
	fixturePrompts = []string{
		"a fox in the snow, woodcut style",
		"maak het één tint warmer",
		"Привет, лиса в снегу",
		"add a tiny fox 🦊 in the corner",
	}
	secretAsset  = "hidden-asset-q7"
	secretTitle  = "HIDDENTITLE-Q9W2"
	secretPrompt = "SECRETPROMPT-XYZZY-4711"
	secretFile   = "secretfile-zq81.png"
)

type fixture struct {
	dir  string
	book *evidence.Book
	id   *evidence.Identity
	// secretSHA is the hash of a file only the other asset uses.
	secretSHA string
}

// pngFile writes a w×w PNG whose pixels depend on seed.
func pngBytes(t testing.TB, w int, seed uint8) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, w))
	for y := 0; y < w; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.NRGBA{uint8(x*3) + seed, uint8(y*5) ^ seed, seed * 37, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func addFile(t testing.TB, b *evidence.Book, name string, data []byte) evidence.FileRef {
	t.Helper()
	ref, err := b.Files.AddReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	ref.Name = name
	return ref
}

func record(t testing.TB, f *fixture, steps ...*evidence.Step) {
	t.Helper()
	if _, err := f.book.Record(f.id, steps); err != nil {
		t.Fatal(err)
	}
}

// newFixture makes a ledger with the asset "poster" (prompts in several
// scripts, a generation, a selection, an edit, an input, a disclosure, a final
// work and a captured step) and a second asset whose content must not leak.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := emptyFixture(t, "Ada Lovelace", "ada@example.com", time.Now())
	b := f.book
	record(t, f, &evidence.Step{Kind: evidence.KindAsset, Asset: "poster", Title: "Festival poster", Owner: "Studio X", Basis: "commission"})
	record(t, f, &evidence.Step{Kind: evidence.KindAsset, Asset: secretAsset, Title: secretTitle})
	for _, p := range fixturePrompts {
		record(t, f, &evidence.Step{Kind: evidence.KindPrompt, Asset: "poster", Text: p, Tool: "midjourney"})
	}
	secret := addFile(t, b, secretFile, pngBytes(t, 64, 99))
	f.secretSHA = secret.SHA256
	record(t, f, &evidence.Step{Kind: evidence.KindPrompt, Asset: secretAsset, Text: secretPrompt, Tool: "mj"})
	record(t, f, &evidence.Step{Kind: evidence.KindSketch, Asset: secretAsset, File: &secret})
	var cands []evidence.FileRef
	for i := range 4 {
		cands = append(cands, addFile(t, b, "cand"+string(rune('a'+i))+".png", pngBytes(t, 96, uint8(10*i))))
	}
	record(t, f, &evidence.Step{Kind: evidence.KindGenerate, Asset: "poster", Tool: "midjourney", Model: "v6", Out: cands,
		Captured: &evidence.Captured{From: "png tEXt parameters", Fields: map[string]string{"seed": "42", "prompt": fixturePrompts[0]}}})
	record(t, f, &evidence.Step{Kind: evidence.KindSelect, Asset: "poster", File: &cands[2], From: cands, Why: "the fox looks at the viewer"})
	after := addFile(t, b, "edited.png", pngBytes(t, 96, 200))
	record(t, f, &evidence.Step{Kind: evidence.KindEdit, Asset: "poster", Before: &cands[2], After: &after, Tool: "photoshop", Note: "redrew the eyes"})
	tex := addFile(t, b, "texture.txt", []byte("a licensed texture description\n"))
	record(t, f, &evidence.Step{Kind: evidence.KindInput, Asset: "poster", File: &tex, Source: "https://example.com/t", License: "CC-BY 4.0", Permission: "licensed"})
	record(t, f, &evidence.Step{Kind: evidence.KindDisclose, Asset: "poster", Date: "2026-03-01", Where: "Instagram"})
	record(t, f, &evidence.Step{Kind: evidence.KindFinal, Asset: "poster", File: &after})
	record(t, f, &evidence.Step{Kind: evidence.KindNote, Asset: secretAsset, Text: secretPrompt + " note"})
	return f
}

// emptyFixture is a new ledger with the identity of one person.
func emptyFixture(t testing.TB, name, email string, now time.Time) *fixture {
	t.Helper()
	dir := filepath.Join(t.TempDir(), ".cairn")
	id, err := evidence.NewIdentity(name, email, now)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := evidence.Init(dir, id)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return &fixture{dir: dir, book: b, id: id}
}

func (f *fixture) export(t testing.TB, opts Options) []byte {
	t.Helper()
	pdf, err := Export(f.book, f.id, "poster", opts)
	if err != nil {
		t.Fatal(err)
	}
	return pdf
}

func writeTemp(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
