// Command emojigen makes export/emoji/glyphs.bin, the emoji outlines a pack
// draws, from a monochrome emoji TrueType font (Noto Emoji, SIL OFL 1.1). It
// is its own module so that the font parser it needs (golang.org/x/image/font/sfnt,
// which pulls in golang.org/x/text) is no dependency of cairn.
//
//	npm pack @expo-google-fonts/noto-emoji@0.4.7
//	tar xzf expo-google-fonts-noto-emoji-0.4.7.tgz
//	go run . -ttf package/400Regular/NotoEmoji_400Regular.ttf -o ../../export/emoji/glyphs.bin
//
// The output (FORMAT below) holds, for every emoji the font draws (each code
// point of its cmap outside ASCII, and each sequence its GSUB ligatures form:
// keycaps, flags, ZWJ sequences, skin tones), the outline in a grid of 128
// units to the em, y up from the baseline. Variation selectors (U+FE0E,
// U+FE0F) are left out of the keys: cairn drops them before looking up.
//
// FORMAT (then gzip): "cairn-emoji/1\n", uvarint count, then per glyph:
// uvarint key length, the key (UTF-8), uvarint advance, uvarint number of
// ops, the ops packed four to a byte (2 bits each, low bits first; see
// encode), then the points, each x and y a zigzag varint delta from the
// previous point.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"flag"
	"fmt"
	"log"
	"os"
	"sort"
	"unicode/utf8"

	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

const grid = 128 // units per em of the output; 1/128 em is 0.08 pt at 10 pt

func main() {
	in := flag.String("ttf", "", "the emoji font")
	out := flag.String("o", "glyphs.bin", "the output")
	flag.Parse()
	data, err := os.ReadFile(*in)
	if err != nil {
		log.Fatal(err)
	}
	f, err := sfnt.Parse(data)
	if err != nil {
		log.Fatal(err)
	}
	var buf sfnt.Buffer
	// Every code point the font maps, and the reverse map.
	byGlyph := map[sfnt.GlyphIndex]rune{}
	keys := map[string]sfnt.GlyphIndex{}
	for r := rune(0x80); r <= 0x10FFFF; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		g, err := f.GlyphIndex(&buf, r)
		if err != nil || g == 0 {
			continue
		}
		if _, ok := byGlyph[g]; !ok {
			byGlyph[g] = r
		}
		if r != 0xFE0E && r != 0xFE0F && r != 0x200D && !(r >= 0x1F3FB && r <= 0x1F3FF && false) {
			keys[string(r)] = g
		}
	}
	for r := rune('#'); r <= '9'; r++ { // keycap bases
		if g, err := f.GlyphIndex(&buf, r); err == nil && g != 0 {
			byGlyph[g] = r
		}
	}
	if g, err := f.GlyphIndex(&buf, '*'); err == nil && g != 0 {
		byGlyph[g] = '*'
	}
	ligs, err := ligatures(data)
	if err != nil {
		log.Fatal(err)
	}
	nlig := 0
	for _, l := range ligs {
		var key []rune
		ok := true
		for _, g := range l.components {
			r, found := byGlyph[g]
			if !found {
				ok = false
				break
			}
			if r != 0xFE0F && r != 0xFE0E {
				key = append(key, r)
			}
		}
		if ok && len(key) > 1 && !hasTone(key) {
			if _, dup := keys[string(key)]; !dup {
				keys[string(key)] = l.glyph
				nlig++
			}
		}
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	upem := fixed.Int26_6(f.UnitsPerEm()) << 6
	var b bytes.Buffer
	b.WriteString("cairn-emoji/1\n")
	uv := func(v uint64) { b.Write(binary.AppendUvarint(nil, v)) }
	sv := func(v int64) { b.Write(binary.AppendVarint(nil, v)) }
	uv(uint64(len(names)))
	scale := func(v fixed.Int26_6) int64 { return int64((int64(v)*grid + int64(upem)/2) / int64(upem)) }
	for _, k := range names {
		g := keys[k]
		segs, err := f.LoadGlyph(&buf, g, upem, nil)
		if err != nil {
			log.Fatalf("%U: %v", []rune(k), err)
		}
		adv, err := f.GlyphAdvance(&buf, g, upem, 0)
		if err != nil {
			log.Fatal(err)
		}
		uv(uint64(len(k)))
		b.WriteString(k)
		uv(uint64(scale(adv)))
		ops, pts := encode(segs, scale)
		uv(uint64(len(ops)))
		for i := 0; i < len(ops); i += 4 {
			var packed byte
			for j := 0; j < 4 && i+j < len(ops); j++ {
				packed |= ops[i+j] << (2 * j)
			}
			b.WriteByte(packed)
		}
		var px, py int64
		for _, p := range pts {
			sv(p[0] - px)
			sv(p[1] - py)
			px, py = p[0], p[1]
		}
	}
	var z bytes.Buffer
	w, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
	w.Write(b.Bytes())
	w.Close()
	if err := os.WriteFile(*out, z.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d emoji (%d sequences), %d bytes, %d gzipped\n", len(names), nlig, b.Len(), z.Len())
	_ = utf8.RuneLen
}

// hasTone reports whether a sequence holds a skin-tone modifier: a
// monochrome font cannot show the tone, and cairn draws the emoji without it
// (the exact sequence stays in the PDF's text and in evidence.json).
func hasTone(key []rune) bool {
	for _, r := range key {
		if r >= 0x1F3FB && r <= 0x1F3FF {
			return true
		}
	}
	return false
}

// encode turns an outline into ops and points on the output's grid, y up.
// Ops: 0 move (1 point), 1 line (1 point), 2 quad (control, end), 3 quad
// whose end is implied: the midpoint of its control and the next quad's
// control, as TrueType stores a run of curves. Cubic segments do not occur
// in TrueType outlines and are refused.
func encode(segs sfnt.Segments, scale func(fixed.Int26_6) int64) (ops []byte, pts [][2]int64) {
	q := func(p fixed.Point26_6) [2]int64 { return [2]int64{scale(p.X), -scale(p.Y)} }
	for i, s := range segs {
		switch s.Op {
		case sfnt.SegmentOpMoveTo:
			ops, pts = append(ops, 0), append(pts, q(s.Args[0]))
		case sfnt.SegmentOpLineTo:
			ops, pts = append(ops, 1), append(pts, q(s.Args[0]))
		case sfnt.SegmentOpQuadTo:
			implied := false
			if i+1 < len(segs) && segs[i+1].Op == sfnt.SegmentOpQuadTo {
				c1, e, c2 := s.Args[0], s.Args[1], segs[i+1].Args[0]
				dx, dy := int64(c1.X+c2.X)-2*int64(e.X), int64(c1.Y+c2.Y)-2*int64(e.Y)
				implied = dx*dx+dy*dy <= 2*64*64
			}
			if implied {
				ops, pts = append(ops, 3), append(pts, q(s.Args[0]))
			} else {
				ops, pts = append(ops, 2), append(pts, q(s.Args[0]), q(s.Args[1]))
			}
		default:
			log.Fatalf("segment op %v: not a TrueType outline", s.Op)
		}
	}
	return ops, pts
}

type ligature struct {
	components []sfnt.GlyphIndex
	glyph      sfnt.GlyphIndex
}

// ligatures reads every ligature substitution (GSUB lookup type 4, also
// inside type 7 extensions) of the font: OpenType spec, "GSUB".
func ligatures(data []byte) ([]ligature, error) {
	u16 := func(o int) int { return int(binary.BigEndian.Uint16(data[o:])) }
	u32 := func(o int) int { return int(binary.BigEndian.Uint32(data[o:])) }
	gsub := -1
	for i := 0; i < u16(4); i++ {
		if string(data[12+16*i:16+16*i]) == "GSUB" {
			gsub = u32(12 + 16*i + 8)
		}
	}
	if gsub < 0 {
		return nil, fmt.Errorf("no GSUB table")
	}
	coverage := func(o int) []sfnt.GlyphIndex {
		var out []sfnt.GlyphIndex
		switch u16(o) {
		case 1:
			for i := 0; i < u16(o+2); i++ {
				out = append(out, sfnt.GlyphIndex(u16(o+4+2*i)))
			}
		case 2:
			for i := 0; i < u16(o+2); i++ {
				r := o + 4 + 6*i
				for g := u16(r); g <= u16(r+2); g++ {
					out = append(out, sfnt.GlyphIndex(g))
				}
			}
		}
		return out
	}
	var out []ligature
	var sub func(kind, o int)
	sub = func(kind, o int) {
		switch kind {
		case 7:
			sub(u16(o+2), o+u32(o+4))
		case 4:
			firsts := coverage(o + u16(o+2))
			for i := 0; i < u16(o+4); i++ {
				set := o + u16(o+6+2*i)
				for j := 0; j < u16(set); j++ {
					lig := set + u16(set+2+2*j)
					l := ligature{glyph: sfnt.GlyphIndex(u16(lig)), components: []sfnt.GlyphIndex{firsts[i]}}
					for k := 1; k < u16(lig+2); k++ {
						l.components = append(l.components, sfnt.GlyphIndex(u16(lig+4+2*(k-1))))
					}
					out = append(out, l)
				}
			}
		}
	}
	lookups := gsub + u16(gsub+8)
	for i := 0; i < u16(lookups); i++ {
		lk := lookups + u16(lookups+2+2*i)
		kind := u16(lk)
		for j := 0; j < u16(lk+4); j++ {
			sub(kind, lk+u16(lk+6+2*j))
		}
	}
	return out, nil
}
