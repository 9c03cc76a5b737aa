package export

import "encoding/binary"

// bmpCoverage reads a TrueType font's cmap and returns the set of BMP code
// points that map to a glyph other than .notdef, or nil if the font has no
// Unicode BMP subtable in format 4. (golang.org/x/image/font/sfnt would do,
// but pulls in golang.org/x/text for the legacy encodings this does not need.)
//
// The layout is that of the OpenType specification, "cmap" table, format 4:
// segments of code points, each with a delta or an offset into a glyph array.
func bmpCoverage(ttf []byte) *[1 << 16 / 64]uint64 {
	u16 := func(off int) (int, bool) {
		if off < 0 || off+2 > len(ttf) {
			return 0, false
		}
		return int(binary.BigEndian.Uint16(ttf[off:])), true
	}
	u32 := func(off int) (int, bool) {
		if off < 0 || off+4 > len(ttf) {
			return 0, false
		}
		return int(binary.BigEndian.Uint32(ttf[off:])), true
	}
	numTables, ok := u16(4)
	if !ok {
		return nil
	}
	cmap := -1
	for i := 0; i < numTables; i++ {
		rec := 12 + 16*i
		if rec+16 > len(ttf) {
			return nil
		}
		if string(ttf[rec:rec+4]) == "cmap" {
			cmap, _ = u32(rec + 8)
		}
	}
	if cmap < 0 {
		return nil
	}
	n, ok := u16(cmap + 2)
	if !ok {
		return nil
	}
	sub := -1
	for i := 0; i < n; i++ {
		rec := cmap + 4 + 8*i
		plat, _ := u16(rec)
		enc, _ := u16(rec + 2)
		off, ok := u32(rec + 4)
		if !ok {
			return nil
		}
		if format, _ := u16(cmap + off); format == 4 && (plat == 3 && enc == 1 || plat == 0) {
			sub = cmap + off
			break
		}
	}
	if sub < 0 {
		return nil
	}
	segX2, ok := u16(sub + 6)
	if !ok {
		return nil
	}
	ends := sub + 14
	starts := ends + segX2 + 2
	deltas := starts + segX2
	ranges := deltas + segX2
	cov := new([1 << 16 / 64]uint64)
	for i := 0; i < segX2/2; i++ {
		end, ok1 := u16(ends + 2*i)
		start, ok2 := u16(starts + 2*i)
		delta, ok3 := u16(deltas + 2*i)
		ro, ok4 := u16(ranges + 2*i)
		if !ok1 || !ok2 || !ok3 || !ok4 {
			return nil
		}
		for c := start; c <= end && c < 0xFFFF; c++ {
			g := (c + delta) & 0xFFFF
			if ro != 0 {
				v, ok := u16(ranges + 2*i + ro + 2*(c-start))
				if !ok || v == 0 {
					continue
				}
				g = (v + delta) & 0xFFFF
			}
			if g != 0 {
				cov[c/64] |= 1 << (c % 64)
			}
		}
	}
	return cov
}
