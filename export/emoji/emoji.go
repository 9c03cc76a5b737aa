// Package emoji draws emoji as vector outlines, from glyphs.bin: the
// monochrome Noto Emoji font (SIL Open Font License 1.1, OFL.txt), turned by
// tools/emojigen into outlines on a grid of 128 units to the em. fpdf v0.9.0
// cannot take a rune above U+FFFF in any text call, so the pack draws an
// emoji as a filled path in the colour of the text around it.
package emoji

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

//go:embed glyphs.bin
var glyphsBin []byte

// Grid is the number of outline units to the em.
const Grid = 128

// A Glyph is one emoji's outline, y up from the baseline.
type Glyph struct {
	Advance int // in Grid units
	ops     []byte
	pts     [][2]int32
}

// maxRunes is the longest sequence looked up (a family of four with ZWJs).
const maxRunes = 12

var (
	once    sync.Once
	glyphs  map[string]*Glyph
	errLoad error
)

func load() {
	glyphs, errLoad = parse(glyphsBin)
}

func parse(gz []byte) (map[string]*Glyph, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	const magic = "cairn-emoji/1\n"
	if !bytes.HasPrefix(data, []byte(magic)) {
		return nil, errors.New("glyphs.bin: not cairn-emoji/1")
	}
	r := bytes.NewReader(data[len(magic):])
	uv := func() int {
		v, err2 := binary.ReadUvarint(r)
		if err2 != nil {
			err = err2
		}
		return int(v)
	}
	n := uv()
	out := make(map[string]*Glyph, n)
	for range n {
		key := make([]byte, uv())
		io.ReadFull(r, key)
		g := &Glyph{Advance: uv()}
		nops := uv()
		packed := make([]byte, (nops+3)/4)
		io.ReadFull(r, packed)
		npts := 0
		g.ops = make([]byte, nops)
		for i := range nops {
			op := packed[i/4] >> (2 * (i % 4)) & 3
			g.ops[i] = op
			npts += 1 + int(op>>1&^op&1) // a quad with its end has two points
		}
		var x, y int64
		for range npts {
			dx, err1 := binary.ReadVarint(r)
			dy, err2 := binary.ReadVarint(r)
			if err1 != nil || err2 != nil {
				return nil, errors.New("glyphs.bin: cut short")
			}
			x, y = x+dx, y+dy
			g.pts = append(g.pts, [2]int32{int32(x), int32(y)})
		}
		out[string(key)] = g
	}
	return out, err
}

// variation reports whether r is a variation selector: it picks text or
// emoji presentation, and there is only one here.
func variation(r rune) bool { return r == 0xFE0E || r == 0xFE0F }

// tone reports whether r is a skin-tone modifier. A monochrome outline cannot
// show it: after an emoji it is drawn as that emoji.
func tone(r rune) bool { return r >= 0x1F3FB && r <= 0x1F3FF }

// Match finds the longest emoji at the start of s. It returns the glyph and
// the number of bytes of s it stands for (variation selectors and skin-tone
// modifiers within and after it included), or nil and 0.
func Match(s string) (*Glyph, int) {
	if s == "" {
		return nil, 0
	}
	if r, _ := utf8.DecodeRuneInString(s); r < 0x80 && r != '#' && r != '*' && (r < '0' || r > '9') {
		return nil, 0
	}
	once.Do(load)
	if errLoad != nil {
		return nil, 0
	}
	var key strings.Builder
	var best *Glyph
	bestN, runes := 0, 0
	for i := 0; i < len(s) && runes < maxRunes; {
		r, w := utf8.DecodeRuneInString(s[i:])
		i += w
		if variation(r) || tone(r) && runes > 0 {
			if best != nil && i-w == bestN {
				bestN = i // the selector or modifier belongs to the match
			}
			continue
		}
		runes++
		key.WriteRune(r)
		if g := glyphs[key.String()]; g != nil {
			best, bestN = g, i
		}
	}
	if best != nil {
		// Selectors and modifiers right after the match are part of it.
		for bestN < len(s) {
			r, w := utf8.DecodeRuneInString(s[bestN:])
			if !variation(r) && !tone(r) {
				break
			}
			bestN += w
		}
	}
	return best, bestN
}

// Has reports whether r starts an emoji on its own (a single code point the
// font draws).
func Has(r rune) bool {
	once.Do(load)
	return errLoad == nil && glyphs[string(r)] != nil
}

// Path writes the glyph as PDF path operators (PDF 32000-1 §8.5.2), for a
// glyph of size points to the em whose baseline starts at (x, y) in PDF
// user space (points, y up), then fills it with the non-zero winding rule.
// A TrueType quadratic curve is written as the cubic that is the same curve.
func (g *Glyph) Path(x, y, size float64) string {
	s := size / Grid
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
	pt := func(p [2]int32) (float64, float64) { return x + float64(p[0])*s, y + float64(p[1])*s }
	var b strings.Builder
	var cx, cy float64 // the current point
	k := 0
	quad := func(qx, qy, ex, ey float64) {
		fmt.Fprintf(&b, "%s %s %s %s %s %s c\n",
			f(cx+2.0/3*(qx-cx)), f(cy+2.0/3*(qy-cy)), f(ex+2.0/3*(qx-ex)), f(ey+2.0/3*(qy-ey)), f(ex), f(ey))
		cx, cy = ex, ey
	}
	for i, op := range g.ops {
		switch op {
		case 0:
			if i > 0 {
				b.WriteString("h\n")
			}
			cx, cy = pt(g.pts[k])
			k++
			fmt.Fprintf(&b, "%s %s m\n", f(cx), f(cy))
		case 1:
			cx, cy = pt(g.pts[k])
			k++
			fmt.Fprintf(&b, "%s %s l\n", f(cx), f(cy))
		case 2:
			qx, qy := pt(g.pts[k])
			ex, ey := pt(g.pts[k+1])
			k += 2
			quad(qx, qy, ex, ey)
		case 3:
			qx, qy := pt(g.pts[k])
			k++
			// The end is implied: halfway to the next curve's control point.
			nx, ny := qx, qy
			if k < len(g.pts) {
				nx, ny = pt(g.pts[k])
			}
			quad(qx, qy, (qx+nx)/2, (qy+ny)/2)
		}
	}
	if len(g.ops) > 0 {
		b.WriteString("h f\n")
	}
	return b.String()
}
