package export

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/cairn-ledger/cairn/export/emoji"
)

// Text that the pack's fonts cannot draw on their own is laid out here, as a
// row of runs: text in the style's Go font, text in a fallback font (CJK and
// other scripts, see fonts.go), and emoji, drawn as vector outlines because
// fpdf v0.9.0 takes no rune above U+FFFF. Text that needs none of this is drawn
// by fpdf's own calls as before, so that ordinary packs do not change.

// A textRun is a piece of a line drawn one way.
type textRun struct {
	text  string       // what is drawn, or for an emoji its exact text
	face  *face        // the font of a text textRun; nil for an emoji
	glyph *emoji.Glyph // the emoji
	w     float64      // width in mm, once measured
}

// runs splits one line of s into runs for style, and reports whether any textRun
// needs this layout (an emoji or a fallback font) and whether a rune had to be
// shown as a [U+XXXX] marker. Line breaks and tabs are as safeText has them.
func (d *doc) runs(style, s string) (out []textRun, special, replaced bool) {
	main := d.faceFor(style)
	add := func(f *face, text string) {
		if n := len(out); n > 0 && out[n-1].face == f && f != nil {
			out[n-1].text += text
			return
		}
		out = append(out, textRun{text: text, face: f})
	}
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		if r == '\t' {
			add(main, "    ")
			i += w
			continue
		}
		// An emoji: a rune the font lacks, or one it has that asks for
		// emoji presentation (U+FE0F) or starts a keycap (1️⃣).
		if !main.canDraw(r) || r >= '#' && r <= '9' || strings.HasPrefix(s[i+w:], "\uFE0F") {
			if g, n := emoji.Match(s[i:]); g != nil && (!main.canDraw(r) || n > w) {
				out = append(out, textRun{text: s[i : i+n], glyph: g})
				special = true
				i += n
				continue
			}
		}
		if main.canDraw(r) {
			add(main, string(r))
		} else if f := d.fonts.fallbackFor(r); f != nil {
			add(f, string(r))
			special = true
		} else if text, rep := safeText(main, s[i:i+w], false); rep {
			add(main, text)
			replaced = true
		}
		i += w
	}
	return out, special, replaced
}

// needsFlow reports whether s has anything only the flow draws.
func (d *doc) needsFlow(style, s string) bool {
	for _, line := range strings.Split(s, "\n") {
		if _, special, _ := d.runs(style, line); special {
			return true
		}
	}
	return false
}

// measure sets each textRun's width at size points.
func (d *doc) measure(rs []textRun, style string, size float64) {
	for i := range rs {
		if rs[i].glyph != nil {
			rs[i].w = float64(rs[i].glyph.Advance) / emoji.Grid * size / d.pdf.GetConversionRatio()
			continue
		}
		d.useFace(rs[i].face, style, size)
		rs[i].w = d.pdf.GetStringWidth(rs[i].text)
	}
}

// useFace selects a textRun's font: the style's own, or a fallback font.
func (d *doc) useFace(f *face, style string, size float64) {
	if f == nil || f == d.faceFor(style) {
		d.font(style, size)
		return
	}
	d.fonts.register(d.pdf, f)
	d.pdf.SetFont(f.name, "", size)
}

// wrap breaks a paragraph's runs into lines of at most w mm: at spaces, or
// inside a word that is wider than a line, as MultiCell does.
func (d *doc) wrap(rs []textRun, style string, size, w float64) [][]textRun {
	// Cut the runs into words and the spaces between them.
	type word struct {
		runs  []textRun
		w     float64
		space bool
	}
	var words []word
	for _, r := range rs {
		if r.glyph != nil {
			if n := len(words); n > 0 && !words[n-1].space {
				words[n-1].runs = append(words[n-1].runs, r)
			} else {
				words = append(words, word{runs: []textRun{r}})
			}
			continue
		}
		for i, part := range strings.Split(r.text, " ") {
			if i > 0 {
				words = append(words, word{runs: []textRun{{text: " ", face: r.face}}, space: true})
			}
			if part == "" {
				continue
			}
			if n := len(words); n > 0 && !words[n-1].space {
				words[n-1].runs = append(words[n-1].runs, textRun{text: part, face: r.face})
			} else {
				words = append(words, word{runs: []textRun{{text: part, face: r.face}}})
			}
		}
	}
	for i := range words {
		d.measure(words[i].runs, style, size)
		for _, r := range words[i].runs {
			words[i].w += r.w
		}
	}
	var lines [][]textRun
	var line []textRun
	lw := 0.0
	flush := func() {
		for len(line) > 0 && line[len(line)-1].glyph == nil && line[len(line)-1].text == " " {
			line = line[:len(line)-1]
		}
		lines = append(lines, line)
		line, lw = nil, 0
	}
	for _, wd := range words {
		switch {
		case wd.space && len(line) == 0:
			continue
		case lw+wd.w <= w:
			line = append(line, wd.runs...)
			lw += wd.w
		case !wd.space && wd.w > w:
			// A word wider than a line is cut where the line is full.
			for _, r := range wd.runs {
				for _, piece := range d.split(r, style, size) {
					if lw+piece.w > w && len(line) > 0 {
						flush()
					}
					line = append(line, piece)
					lw += piece.w
				}
			}
		default:
			flush()
			if !wd.space {
				line = append(line, wd.runs...)
				lw = wd.w
			}
		}
	}
	if len(line) > 0 || len(lines) == 0 {
		flush()
	}
	return lines
}

// split cuts a text textRun into one textRun per rune (an emoji stays whole).
func (d *doc) split(r textRun, style string, size float64) []textRun {
	if r.glyph != nil {
		return []textRun{r}
	}
	var out []textRun
	for _, c := range r.text {
		out = append(out, textRun{text: string(c), face: r.face})
	}
	d.measure(out, style, size)
	return out
}

// flow draws s from the current position in a column of width w, as
// MultiCell(w, lh, s, "", "L", fill) would, for text that needs runs.
func (d *doc) flow(style string, size, w, lh float64, s string, fill bool) {
	p := d.pdf
	cm := p.GetCellMargin()
	x0 := p.GetX()
	for _, para := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		rs, _, replaced := d.runs(style, para)
		if replaced {
			d.replacedOnPage, d.replacedAny = true, true
		}
		for _, line := range d.wrap(rs, style, size, w-2*cm) {
			if p.GetY()+lh > pageH-bottom {
				p.AddPage()
				p.SetX(x0)
			}
			y := p.GetY()
			if fill {
				p.Rect(x0, y, w, lh, "F")
			}
			d.line(line, style, size, x0+cm, y, lh)
			p.SetXY(x0, y+lh)
		}
	}
}

// line draws one line of runs with its left edge at x and its top at y, in a
// row lh high, and returns the x after it.
func (d *doc) line(line []textRun, style string, size, x, y, lh float64) float64 {
	p := d.pdf
	cm := p.GetCellMargin()
	p.SetCellMargin(0)
	defer p.SetCellMargin(cm)
	d.measure(line, style, size)
	for _, r := range line {
		p.SetXY(x, y)
		if r.glyph == nil {
			d.useFace(r.face, style, size)
			p.CellFormat(r.w, lh, r.text, "", 0, "L", false, 0, "")
		} else {
			d.emoji(r, style, size, x, y, lh)
		}
		x += r.w
	}
	d.font(style, size)
	return x
}

// emoji draws an emoji in the text colour, with its baseline where fpdf puts
// the baseline of text in a cell of height lh. The outline is wrapped in a
// marked-content span whose /ActualText is the emoji's exact text (PDF
// 32000-1 §14.9.4), over an invisible space, so that text extraction and
// copying give the emoji itself, not nothing.
func (d *doc) emoji(r textRun, style string, size, x, y, lh float64) {
	p := d.pdf
	k := p.GetConversionRatio()
	_, ph := p.GetPageSize()
	base := y + lh/2 + 0.3*size/k
	cr, cg, cb := p.GetTextColor()
	var hexText strings.Builder
	for _, u := range utf16.Encode([]rune(r.text)) {
		fmt.Fprintf(&hexText, "%04X", u)
	}
	p.RawWriteStr(fmt.Sprintf("/Span <</ActualText <FEFF%s>>> BDC\nq %.3f %.3f %.3f rg\n%sQ\n",
		hexText.String(), float64(cr)/255, float64(cg)/255, float64(cb)/255, r.glyph.Path(x*k, (ph-base)*k, size)))
	// As many spaces as fill the emoji's width, so that text extraction
	// finds the emoji where it is drawn and the next word right after it.
	d.font(style, size)
	spaces := max(1, int(math.Ceil(r.w/p.GetStringWidth(" "))))
	p.CellFormat(r.w, lh, strings.Repeat(" ", spaces), "", 0, "L", false, 0, "")
	p.RawWriteStr("EMC\n")
}
