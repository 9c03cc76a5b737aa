package export

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/go-pdf/fpdf"
)

// Fallback fonts draw what the Go fonts cannot: CJK and other scripts. They
// are TrueType fonts found on the exporter's machine, named in the settings
// (cairn config --user font FILE) or found by fontconfig (fc-match), and used
// only for the runes they are needed for; fpdf embeds only the glyphs a pack
// uses. Without one, a rune is shown as a visible [U+XXXX] marker, as before.
//
// Scripts that need shaping or right-to-left ordering (Arabic, Hebrew, the
// Indic scripts, Thai...) are never drawn from a fallback font: fpdf lays
// glyphs out one after the other, left to right, which would show such text
// wrongly, and a wrong picture of the words is worse than a marker.

// unshaped are the scripts and marks a fallback font must not draw.
var unshaped = []*unicode.RangeTable{
	unicode.Arabic, unicode.Hebrew, unicode.Syriac, unicode.Thaana, unicode.Nko, unicode.Samaritan, unicode.Mandaic,
	unicode.Devanagari, unicode.Bengali, unicode.Gurmukhi, unicode.Gujarati, unicode.Oriya, unicode.Tamil, unicode.Telugu,
	unicode.Kannada, unicode.Malayalam, unicode.Sinhala, unicode.Thai, unicode.Lao, unicode.Tibetan, unicode.Myanmar,
	unicode.Khmer, unicode.Mongolian, unicode.Balinese, unicode.Javanese, unicode.Tai_Tham,
	unicode.Mn, unicode.Me, unicode.Cf, unicode.Cc, unicode.Co, unicode.Cs, unicode.Bidi_Control, unicode.Variation_Selector,
}

// A fontSet is the fallback fonts a pack may use, in order of preference.
type fontSet struct {
	candidates []fontFile
	mu         sync.Mutex
	faces      []*face // loaded candidates, by index; nil until needed
	failed     []bool
	registered map[*face]bool
	chosen     map[rune]*face
}

// A fontFile is a candidate fallback font: its path, and the BMP runes it
// covers as fontconfig says (nil: read from the file when needed).
type fontFile struct {
	path    string
	charset *[1 << 16 / 64]uint64
}

func newFontSet(files []fontFile) *fontSet {
	return &fontSet{candidates: files, faces: make([]*face, len(files)), failed: make([]bool, len(files)),
		registered: map[*face]bool{}, chosen: map[rune]*face{}}
}

// fallbackFor returns the first fallback font that can draw r, or nil.
func (s *fontSet) fallbackFor(r rune) *face {
	if s == nil || r > 0xFFFF || unicode.In(r, unshaped...) {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := s.chosen[r]; ok {
		return f
	}
	var found *face
	for i, c := range s.candidates {
		if s.failed[i] || c.charset != nil && c.charset[r/64]&(1<<(r%64)) == 0 {
			continue
		}
		if s.faces[i] == nil {
			f, err := loadFallback(c.path, i)
			if err != nil {
				s.failed[i] = true
				continue
			}
			s.faces[i] = f
		}
		if s.faces[i].canDraw(r) {
			found = s.faces[i]
			break
		}
	}
	s.chosen[r] = found
	return found
}

// register makes a fallback font known to fpdf, once per document.
func (s *fontSet) register(pdf *fpdf.Fpdf, f *face) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.registered[f] {
		pdf.AddUTF8FontFromBytes(f.name, "", bytes.Clone(f.ttf))
		s.registered[f] = true
	}
}

// maxFontBytes bounds a fallback font file (the largest CJK TrueType fonts
// are about 20 MB).
const maxFontBytes = 64 << 20

// loadFallback reads a font file that fpdf can embed: a TrueType font with
// glyf outlines (not a collection, not CFF), with a Unicode cmap.
func loadFallback(path string, n int) (*face, error) {
	ttf, err := CheckFont(path)
	if err != nil {
		return nil, err
	}
	return &face{name: "fallback" + strconv.Itoa(n), ttf: ttf}, nil
}

// CheckFont reads path and says why fpdf could not embed it, if it could not.
func CheckFont(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() || fi.Size() > maxFontBytes {
		return nil, fmt.Errorf("%s is not a font file of at most 64 MiB", path)
	}
	ttf, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(ttf) < 12 || string(ttf[:4]) == "ttcf" {
		return nil, fmt.Errorf("%s is a font collection (.ttc) or not a font; give a single TrueType font (.ttf)", path)
	}
	tables := map[string]bool{}
	n := int(binary.BigEndian.Uint16(ttf[4:]))
	for i := 0; i < n && 12+16*i+16 <= len(ttf); i++ {
		tables[string(ttf[12+16*i:16+16*i])] = true
	}
	if !tables["glyf"] || !tables["loca"] {
		return nil, fmt.Errorf("%s has no TrueType outlines (glyf); an OpenType font with CFF outlines cannot be embedded", path)
	}
	if bmpCoverage(ttf) == nil {
		return nil, fmt.Errorf("%s has no Unicode character map", path)
	}
	return ttf, nil
}

// systemFonts asks fontconfig for the fonts in its order of preference for
// sans-serif text, with the BMP runes each covers. None if fc-match is not
// installed.
func systemFonts() []fontFile {
	fc, err := exec.LookPath("fc-match")
	if err != nil {
		return nil
	}
	out, err := exec.Command(fc, "-s", "--format", "%{file}\t%{index}\t%{charset}\n", "sans-serif").Output()
	if err != nil {
		return nil
	}
	var files []fontFile
	for _, line := range strings.Split(string(out), "\n") {
		parts := strings.SplitN(line, "\t", 3)
		if len(parts) != 3 || parts[1] != "0" {
			continue
		}
		if l := strings.ToLower(parts[0]); !strings.HasSuffix(l, ".ttf") && !strings.HasSuffix(l, ".otf") {
			continue
		}
		files = append(files, fontFile{path: parts[0], charset: parseCharset(parts[2])})
	}
	return files
}

// parseCharset reads fontconfig's charset: hex ranges such as "20-7e a0".
func parseCharset(s string) *[1 << 16 / 64]uint64 {
	cov := new([1 << 16 / 64]uint64)
	for _, f := range strings.Fields(s) {
		lo, hi, ok := strings.Cut(f, "-")
		if !ok {
			hi = lo
		}
		a, err1 := strconv.ParseUint(lo, 16, 32)
		b, err2 := strconv.ParseUint(hi, 16, 32)
		if err1 != nil || err2 != nil {
			continue
		}
		for r := a; r <= b && r < 0x10000; r++ {
			cov[r/64] |= 1 << (r % 64)
		}
	}
	return cov
}

// fallbacks is the fallback fonts of an export: the files named, in that
// order, then, if system is set, those fontconfig finds.
func fallbacks(named []string, system bool) *fontSet {
	var files []fontFile
	for _, p := range named {
		files = append(files, fontFile{path: p})
	}
	if system {
		files = append(files, systemFonts()...)
	}
	return newFontSet(files)
}
