package export

import (
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/goregular"
)

// The pack is set in the Go fonts. They cover Latin, Greek and Cyrillic. Emoji
// are drawn as outlines (export/emoji, flow.go), and CJK and other scripts with a
// fallback font when the machine has one (fonts.go); fpdf v0.9.0 panics on runes
// above U+FFFF, so no such rune ever reaches it. What nothing can draw goes
// through safeText and is shown as a visible marker; the exact text is always
// in evidence.json.
const (
	fontSans = "gosans"
	fontMono = "gomono"
)

// A face is one of the embedded fonts together with the set of BMP runes it
// has glyphs for, read once from the font's cmap.
type face struct {
	name string
	ttf  []byte

	once     sync.Once
	coverage *[1 << 16 / 64]uint64 // nil if the cmap could not be read
}

var (
	faceRegular = &face{name: "regular", ttf: goregular.TTF}
	faceBold    = &face{name: "bold", ttf: gobold.TTF}
	faceMono    = &face{name: "mono", ttf: gomono.TTF}
)

// canDraw reports whether the font has a glyph for r, and fpdf can encode r.
func (f *face) canDraw(r rune) bool {
	if r > 0xFFFF || r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cs, r) {
		return false
	}
	if r < 0x7F {
		return true // printable ASCII: every font here has it
	}
	f.once.Do(func() { f.coverage = bmpCoverage(f.ttf) })
	return f.coverage != nil && f.coverage[r/64]&(1<<(r%64)) != 0
}

// safeText returns s with every rune the face cannot draw replaced by a visible
// marker such as [U+1F98A], and reports whether anything was replaced. Tabs
// become spaces; newlines are kept when keepLines is set, else they become " / "
// (single-line fields). Zero-width and format characters are dropped visibly too,
// because an invisible difference is exactly what a reader must not miss.
func safeText(f *face, s string, keepLines bool) (string, bool) {
	var b strings.Builder
	replaced := false
	for i, w := 0, 0; i < len(s); i += w {
		r, n := utf8.DecodeRuneInString(s[i:])
		w = n
		switch {
		case r == '\n':
			if keepLines {
				b.WriteByte('\n')
			} else {
				b.WriteString(" / ")
			}
			continue
		case r == '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				continue
			}
			if keepLines {
				b.WriteByte('\n')
			} else {
				b.WriteString(" / ")
			}
			continue
		case r == '\t':
			b.WriteString("    ")
			continue
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, "[0x%02X]", s[i])
			replaced = true
			continue
		}
		if f.canDraw(r) {
			b.WriteRune(r)
			continue
		}
		fmt.Fprintf(&b, "[U+%04X]", r)
		replaced = true
	}
	return b.String(), replaced
}

// clip shortens s to at most n runes, marking the cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
