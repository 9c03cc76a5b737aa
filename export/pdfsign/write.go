package pdfsign

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// writeObject serialises o in PDF syntax (PDF 32000-1 §7.3).
func writeObject(w *bytes.Buffer, o object) {
	switch o := o.(type) {
	case nil:
		w.WriteString("null")
	case bool:
		w.WriteString(strconv.FormatBool(o))
	case integer:
		w.WriteString(strconv.FormatInt(int64(o), 10))
	case int:
		w.WriteString(strconv.Itoa(o))
	case real:
		w.WriteString(string(o))
	case name:
		writeName(w, o)
	case pdfString:
		if o.hex {
			fmt.Fprintf(w, "<%X>", o.b)
		} else {
			writeLiteral(w, o.b)
		}
	case array:
		w.WriteByte('[')
		for i, e := range o {
			if i > 0 {
				w.WriteByte(' ')
			}
			writeObject(w, e)
		}
		w.WriteByte(']')
	case dict:
		w.WriteString("<<")
		for _, e := range o {
			writeName(w, e.key)
			w.WriteByte(' ')
			writeObject(w, e.val)
			w.WriteByte('\n')
		}
		w.WriteString(">>")
	case ref:
		fmt.Fprintf(w, "%d %d R", o.num, o.gen)
	default:
		// Only the types above are ever built; anything else is a bug here.
		panic(fmt.Sprintf("pdfsign: cannot write %T", o))
	}
}

// writeName writes /k, escaping as #xx every byte that is not a regular
// printable character, and '#' itself (§7.3.5).
func writeName(w *bytes.Buffer, n name) {
	w.WriteByte('/')
	for i := 0; i < len(n); i++ {
		c := n[i]
		if c < '!' || c > '~' || c == '#' || isDelim(c) {
			fmt.Fprintf(w, "#%02X", c)
		} else {
			w.WriteByte(c)
		}
	}
}

// writeLiteral writes (...), escaping parentheses and backslash, and writing
// other bytes outside printable ASCII as octal (§7.3.4.2), so that the file
// stays ASCII apart from stream data.
func writeLiteral(w *bytes.Buffer, b []byte) {
	w.WriteByte('(')
	for _, c := range b {
		switch {
		case c == '(' || c == ')' || c == '\\':
			w.WriteByte('\\')
			w.WriteByte(c)
		case c < ' ' || c > '~':
			fmt.Fprintf(w, "\\%03o", c)
		default:
			w.WriteByte(c)
		}
	}
	w.WriteByte(')')
}

// textString encodes s as a PDF text string (§7.9.2.2): printable ASCII as
// is (a subset of PDFDocEncoding), anything else as UTF-16BE with a byte order mark.
func textString(s string) pdfString {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			ascii = false
			break
		}
	}
	if ascii {
		return pdfString{b: []byte(s)}
	}
	b := []byte{0xFE, 0xFF}
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.BigEndian.AppendUint16(b, u)
	}
	return pdfString{b: b, hex: true}
}

// pdfDocEncoding maps the bytes of PDFDocEncoding (§D.2) that differ from
// ISO Latin-1. Bytes not listed decode as Latin-1.
var pdfDocEncoding = map[byte]rune{
	0x18: '˘', 0x19: 'ˇ', 0x1A: 'ˆ', 0x1B: '˙', 0x1C: '˝', 0x1D: '˛', 0x1E: '˚', 0x1F: '˜',
	0x80: '•', 0x81: '†', 0x82: '‡', 0x83: '…', 0x84: '—', 0x85: '–', 0x86: 'ƒ', 0x87: '⁄',
	0x88: '‹', 0x89: '›', 0x8A: '−', 0x8B: '‰', 0x8C: '„', 0x8D: '“', 0x8E: '”', 0x8F: '‘',
	0x90: '’', 0x91: '‚', 0x92: '™', 0x93: 'ﬁ', 0x94: 'ﬂ', 0x95: 'Ł', 0x96: 'Œ', 0x97: 'Š',
	0x98: 'Ÿ', 0x99: 'Ž', 0x9A: 'ı', 0x9B: 'ł', 0x9C: 'œ', 0x9D: 'š', 0x9E: 'ž',
	0xA0: '€', 0x7F: utf8.RuneError, 0x9F: utf8.RuneError, 0xAD: utf8.RuneError,
}

// decodeText decodes a text string (§7.9.2.2): UTF-16BE or UTF-8 (PDF 2.0)
// after a byte order mark, else PDFDocEncoding.
func decodeText(b []byte) string {
	switch {
	case len(b) >= 2 && b[0] == 0xFE && b[1] == 0xFF:
		b = b[2:]
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = binary.BigEndian.Uint16(b[2*i:])
		}
		return string(utf16.Decode(u))
	case len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF:
		return string(bytes.ToValidUTF8(b[3:], []byte("\uFFFD")))
	}
	r := make([]rune, len(b))
	for i, c := range b {
		if m, ok := pdfDocEncoding[c]; ok {
			r[i] = m
		} else {
			r[i] = rune(c)
		}
	}
	return string(r)
}

// pdfDate formats t as a PDF date (§7.9.4) in UTC: D:YYYYMMDDHHmmSSZ.
func pdfDate(t time.Time) pdfString {
	return pdfString{b: []byte(t.UTC().Format("D:20060102150405Z"))}
}

// parsePDFDate parses the date forms §7.9.4 allows: D:YYYY with the later
// fields optional, and a Z, +HH'mm' or -HH'mm' offset (the apostrophes optional).
func parsePDFDate(s string) (time.Time, error) {
	orig := s
	if len(s) >= 2 && s[:2] == "D:" {
		s = s[2:]
	}
	field := func(n, def, lo, hi int) (int, bool) {
		if len(s) < n || s[0] < '0' || s[0] > '9' {
			return def, true
		}
		v, err := strconv.Atoi(s[:n])
		if err != nil || v < lo || v > hi {
			return 0, false
		}
		s = s[n:]
		return v, true
	}
	bad := fmt.Errorf("malformed PDF date %q", clip(orig))
	year, ok1 := field(4, -1, 0, 9999)
	if year < 0 || !ok1 {
		return time.Time{}, bad
	}
	month, ok2 := field(2, 1, 1, 12)
	day, ok3 := field(2, 1, 1, 31)
	hour, ok4 := field(2, 0, 0, 23)
	minute, ok5 := field(2, 0, 0, 59)
	sec, ok6 := field(2, 0, 0, 59)
	if !(ok2 && ok3 && ok4 && ok5 && ok6) {
		return time.Time{}, bad
	}
	loc := time.UTC
	if len(s) > 0 {
		switch s[0] {
		case 'Z':
			s = s[1:]
		case '+', '-':
			sign := 1
			if s[0] == '-' {
				sign = -1
			}
			s = s[1:]
			oh, ok := field(2, -1, 0, 23)
			if oh < 0 || !ok {
				return time.Time{}, bad
			}
			if len(s) > 0 && s[0] == '\'' {
				s = s[1:]
			}
			om, ok := field(2, 0, 0, 59)
			if !ok {
				return time.Time{}, bad
			}
			loc = time.FixedZone("", sign*(oh*3600+om*60))
		}
		if len(s) > 0 && s[0] == '\'' {
			s = s[1:]
		}
		if len(s) > 0 {
			return time.Time{}, bad
		}
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, 0, loc), nil
}
