package export

import (
	"bytes"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cairn-ledger/cairn/evidence"
)

var fixedTime = time.Date(2026, 3, 14, 13, 4, 5, 0, time.UTC)

// inkOf renders page n of pdf with poppler's pdftoppm (which knows nothing of
// cairn) and counts the pixels that are not near white.
func inkOf(t *testing.T, pdf []byte, page int) int {
	t.Helper()
	needTool(t, "pdftoppm")
	dir := t.TempDir()
	p := filepath.Join(dir, "pack.pdf")
	if err := os.WriteFile(p, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	n := strconv.Itoa(page)
	out, err := exec.Command("pdftoppm", "-r", "60", "-gray", "-png", "-f", n, "-l", n, "-singlefile", p, filepath.Join(dir, "page")).CombinedOutput()
	if err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	data, err := os.ReadFile(filepath.Join(dir, "page.png"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	ink := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if r, _, _, _ := img.At(x, y).RGBA(); r < 0xC000 {
				ink++
			}
		}
	}
	return ink
}

// notePack exports a pack whose only step after the asset is a note.
func notePack(t *testing.T, note string, opts Options) []byte {
	t.Helper()
	f := emptyFixture(t, "Ada", "", fixedTime)
	record(t, f, &evidence.Step{Kind: evidence.KindAsset, Asset: "poster"}, &evidence.Step{Kind: evidence.KindNote, Asset: "poster", Text: note})
	opts.Now = func() time.Time { return fixedTime }
	pdf, err := Export(f.book, f.id, "poster", opts)
	if err != nil {
		t.Fatal(err)
	}
	return pdf
}

func pdfTextOf(t *testing.T, pdf []byte) string {
	return run(t, "pdftotext", "-enc", "UTF-8", writeTemp(t, "pack.pdf", pdf), "-")
}

// TestEmojiDrawn: emoji in a note are drawn (the rendered timeline page has
// ink where they are: more than the same note with spaces in their place),
// extract as themselves, and leave no [U+XXXX] marker.
func TestEmojiDrawn(t *testing.T) {
	emoji := "knippen ✂️ koffie ☕ vos 🦊 👩‍💻 🇳🇱 1️⃣ 👍🏽"
	blank := "knippen    koffie    vos                "
	with, without := notePack(t, emoji, Options{}), notePack(t, blank, Options{})
	inkWith, inkWithout := inkOf(t, with, 3), inkOf(t, without, 3)
	t.Logf("ink: %d with the emoji, %d without", inkWith, inkWithout)
	if inkWith < inkWithout+150 {
		t.Errorf("the emoji add %d dark pixels to the page at 60 dpi; drawn, they add more than 150", inkWith-inkWithout)
	}
	text := pdfTextOf(t, with)
	if !strings.Contains(text, emoji) {
		t.Errorf("pdftotext does not give the note as typed:\n%s", text)
	}
	if strings.Contains(text, "[U+") {
		t.Errorf("an emoji is shown as a marker")
	}
}

// TestFallbackFont: CJK is drawn with a fallback font named in the options,
// embedded as a subset; without one it is a visible marker, as before, and a
// right-to-left script is never drawn from a fallback font.
func TestFallbackFont(t *testing.T) {
	font, err := filepath.Abs("testdata/cjk-subset.ttf")
	if err != nil {
		t.Fatal(err)
	}
	note := "東京 日本語の文字 مرحبا"
	with := notePack(t, note, Options{Fonts: []string{font}})
	text := pdfTextOf(t, with)
	if !strings.Contains(text, "東京 日本語の文字") || strings.Contains(text, "[U+6771]") {
		t.Errorf("CJK with a fallback font:\n%s", text)
	}
	if !strings.Contains(text, "[U+0645]") {
		t.Errorf("Arabic is not left as markers:\n%s", text)
	}
	fonts := run(t, "pdffonts", writeTemp(t, "pack.pdf", with))
	if !strings.Contains(fonts, "fallback0") {
		t.Errorf("the fallback font is not embedded:\n%s", fonts)
	}
	plain := pdfTextOf(t, notePack(t, note, Options{}))
	if !strings.Contains(plain, "[U+6771][U+4EAC]") {
		t.Errorf("CJK without a fallback font is not shown as markers:\n%s", plain)
	}
	if _, err := CheckFont("testdata/cjk-subset.md"); err == nil {
		t.Error("a text file passed as a font")
	}
}
