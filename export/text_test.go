package export

import (
	"strings"
	"testing"

	"github.com/cairn-ledger/cairn/evidence"
)

func TestSafeText(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		replaced bool
	}{
		{"plain ASCII", "plain ASCII", false},
		{"één Привет Ωμέγα", "één Привет Ωμέγα", false},
		{"fox 🦊", "fox [U+1F98A]", true},
		{"日本", "[U+65E5][U+672C]", true},
		{"a\tb", "a    b", false},
		{"line1\r\nline2", "line1\nline2", false},
		{"bell\x07", "bell[U+0007]", true},
		{"bad \xff byte", "bad [0xFF] byte", true},
		{"rtl \u202e mark", "rtl [U+202E] mark", true},
	} {
		got, replaced := safeText(faceRegular, tc.in, true)
		if got != tc.want || replaced != tc.replaced {
			t.Errorf("safeText(%q) = %q, %v; want %q, %v", tc.in, got, replaced, tc.want, tc.replaced)
		}
	}
	if got, _ := safeText(faceMono, "a\nb", false); got != "a / b" {
		t.Errorf("single-line safeText = %q", got)
	}
}

func TestCoverage(t *testing.T) {
	for _, f := range []*face{faceRegular, faceBold, faceMono} {
		for _, r := range "éëПриветΩ€…→•" {
			if !f.canDraw(r) {
				t.Errorf("%s: cannot draw %q", f.name, r)
			}
		}
		for _, r := range "日🦊\u0600" {
			if f.canDraw(r) {
				t.Errorf("%s: claims to draw %q", f.name, r)
			}
		}
	}
}

// TestHostileText exports steps full of text fpdf cannot draw: it must not
// panic, and the pack must verify.
func TestHostileText(t *testing.T) {
	f := newFixture(t)
	texts := []string{
		"🦊🦊🦊 " + strings.Repeat("𝕏", 50),
		"\uffff\ufffe\u200b\u200d zero-width and non-characters",
		"مرحبا بالعالم RTL",
		strings.Repeat("longwordwithoutanyspaces", 40),
		strings.Repeat("many lines\n", 200),
	}
	for _, s := range texts {
		record(t, f, &evidence.Step{Kind: evidence.KindNote, Asset: "poster", Text: s})
		record(t, f, &evidence.Step{Kind: evidence.KindPrompt, Asset: "poster", Text: s, Tool: "tool 🦊"})
	}
	pdf := f.export(t, Options{})
	if _, err := VerifyPack(pdf); err != nil {
		t.Fatal(err)
	}
}
