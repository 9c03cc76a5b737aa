package pdfsign

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// This file is a small PDF lexer and object parser (PDF 32000-1 §7.2, §7.3).
// It reads what fpdf writes and what Sign writes, and is meant to fail with an
// error, never a panic, on anything else.

// object is one parsed PDF object: nil (null), bool, integer, real, name,
// pdfString, array, dict, ref or *stream.
type object any

type (
	integer int64
	// real keeps the number's text as written, so that a re-emitted dictionary
	// has exactly the values of the original.
	real string
	// name is a name object, decoded (§7.3.5: #xx escapes resolved), without the slash.
	name  string
	array []object
	// dict keeps the keys in the order they were written.
	dict []entry
	ref  struct{ num, gen int }
)

type entry struct {
	key name
	val object
}

// pdfString is a string object (§7.3.4). start and end are the byte offsets
// of the token in the file, delimiters included: Verify uses them to check
// that the unsigned gap of /ByteRange is exactly the /Contents string.
type pdfString struct {
	b          []byte
	hex        bool
	start, end int
}

// stream is a stream object (§7.3.8); data is still encoded.
type stream struct {
	dict dict
	data []byte
}

func (d dict) get(k name) object {
	for _, e := range d {
		if e.key == k {
			return e.val
		}
	}
	return nil
}

// set replaces the value of k, or appends k if it is not present.
func (d dict) set(k name, v object) dict {
	for i, e := range d {
		if e.key == k {
			d[i].val = v
			return d
		}
	}
	return append(d, entry{k, v})
}

// Limits on untrusted input.
const (
	maxDepth      = 32      // nesting of arrays and dictionaries
	maxObjectNum  = 8388607 // §C.2: the largest object number a conforming reader must support
	maxXrefChains = 64      // /Prev links followed
)

var errEOF = errors.New("unexpected end of data")

type parser struct {
	b   []byte
	pos int
}

func isSpace(c byte) bool {
	switch c {
	case 0, '\t', '\n', '\f', '\r', ' ':
		return true
	}
	return false
}

func isDelim(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

func isRegular(c byte) bool { return !isSpace(c) && !isDelim(c) }

// skipSpace skips white-space and comments (§7.2.3, §7.2.4).
func (p *parser) skipSpace() {
	for p.pos < len(p.b) {
		c := p.b[p.pos]
		if isSpace(c) {
			p.pos++
		} else if c == '%' {
			for p.pos < len(p.b) && p.b[p.pos] != '\r' && p.b[p.pos] != '\n' {
				p.pos++
			}
		} else {
			return
		}
	}
}

// regular returns the run of regular characters at the current position.
func (p *parser) regular() []byte {
	start := p.pos
	for p.pos < len(p.b) && isRegular(p.b[p.pos]) {
		p.pos++
	}
	return p.b[start:p.pos]
}

// keyword reads a run of regular characters after white-space, such as
// "obj", "xref" or "n".
func (p *parser) keyword() string {
	p.skipSpace()
	return string(p.regular())
}

func (p *parser) expect(kw string) error {
	at := p.pos
	if got := p.keyword(); got != kw {
		if got == "" && p.pos >= len(p.b) {
			return fmt.Errorf("expected %q at offset %d: %w", kw, at, errEOF)
		}
		return fmt.Errorf("expected %q at offset %d, found %q", kw, at, clip(got))
	}
	return nil
}

// integer reads a non-negative integer token, as used in xref tables and
// object headers.
func (p *parser) integer() (int, error) {
	p.skipSpace()
	at := p.pos
	tok := p.regular()
	n, err := strconv.ParseUint(string(tok), 10, 31)
	if err != nil || len(tok) == 0 {
		return 0, fmt.Errorf("expected a non-negative integer at offset %d, found %q", at, clip(string(tok)))
	}
	return int(n), nil
}

// object parses one direct object. Streams are handled by the caller, which
// knows how to resolve an indirect /Length.
func (p *parser) object(depth int) (object, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("objects nested more than %d deep at offset %d", maxDepth, p.pos)
	}
	p.skipSpace()
	if p.pos >= len(p.b) {
		return nil, errEOF
	}
	at := p.pos
	switch c := p.b[p.pos]; {
	case c == '/':
		p.pos++
		return decodeName(p.regular()), nil
	case c == '(':
		return p.literalString()
	case c == '<' && p.pos+1 < len(p.b) && p.b[p.pos+1] == '<':
		p.pos += 2
		return p.dict(depth)
	case c == '<':
		return p.hexString()
	case c == '[':
		p.pos++
		var a array
		for {
			p.skipSpace()
			if p.pos >= len(p.b) {
				return nil, errEOF
			}
			if p.b[p.pos] == ']' {
				p.pos++
				return a, nil
			}
			o, err := p.object(depth + 1)
			if err != nil {
				return nil, err
			}
			a = append(a, o)
		}
	case c == '+' || c == '-' || c == '.' || ('0' <= c && c <= '9'):
		return p.number()
	case isRegular(c):
		switch kw := string(p.regular()); kw {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null":
			return nil, nil
		default:
			return nil, fmt.Errorf("unexpected keyword %q at offset %d", clip(kw), at)
		}
	default:
		return nil, fmt.Errorf("unexpected %q at offset %d", c, at)
	}
}

func (p *parser) dict(depth int) (dict, error) {
	d := dict{}
	for {
		p.skipSpace()
		if p.pos+1 < len(p.b) && p.b[p.pos] == '>' && p.b[p.pos+1] == '>' {
			p.pos += 2
			return d, nil
		}
		at := p.pos
		k, err := p.object(depth + 1)
		if err != nil {
			return nil, err
		}
		key, ok := k.(name)
		if !ok {
			return nil, fmt.Errorf("dictionary key at offset %d is not a name", at)
		}
		p.skipSpace()
		if p.pos+1 < len(p.b) && p.b[p.pos] == '>' && p.b[p.pos+1] == '>' {
			return nil, fmt.Errorf("dictionary key /%s at offset %d has no value", clip(string(key)), at)
		}
		v, err := p.object(depth + 1)
		if err != nil {
			return nil, err
		}
		// §7.3.7: a second entry with the same key is not allowed; keep the first.
		if d.get(key) == nil {
			d = append(d, entry{key, v})
		}
	}
}

// number parses an integer or a real (§7.3.3). A non-negative integer
// followed by another and the keyword R is an indirect reference (§7.3.10).
func (p *parser) number() (object, error) {
	at := p.pos
	tok := p.regular()
	digits, dot := 0, 0
	for i, c := range tok {
		switch {
		case '0' <= c && c <= '9':
			digits++
		case c == '.':
			dot++
		case (c == '+' || c == '-') && i == 0:
		default:
			return nil, fmt.Errorf("malformed number %q at offset %d", clip(string(tok)), at)
		}
	}
	if digits == 0 || dot > 1 {
		return nil, fmt.Errorf("malformed number %q at offset %d", clip(string(tok)), at)
	}
	if dot == 1 {
		return real(tok), nil
	}
	n, err := strconv.ParseInt(string(tok), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("number %q at offset %d is out of range", clip(string(tok)), at)
	}
	if tok[0] >= '0' && tok[0] <= '9' && n <= maxObjectNum {
		save := p.pos
		if gen, err := p.integer(); err == nil && gen <= 65535 {
			p.skipSpace()
			if p.pos < len(p.b) && p.b[p.pos] == 'R' && (p.pos+1 == len(p.b) || !isRegular(p.b[p.pos+1])) {
				p.pos++
				return ref{int(n), gen}, nil
			}
		}
		p.pos = save
	}
	return integer(n), nil
}

// decodeName resolves #xx escapes (§7.3.5). A '#' not followed by two hex
// digits is kept as is.
func decodeName(b []byte) name {
	if bytes.IndexByte(b, '#') < 0 {
		return name(b)
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '#' && i+2 < len(b) && isHex(b[i+1]) && isHex(b[i+2]) {
			out = append(out, unhex(b[i+1])<<4|unhex(b[i+2]))
			i += 2
			continue
		}
		out = append(out, b[i])
	}
	return name(out)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// hexString parses <...> (§7.3.4.3): white-space is ignored and a final odd
// digit is followed by an implied 0.
func (p *parser) hexString() (pdfString, error) {
	start := p.pos
	p.pos++
	out := make([]byte, 0, 64)
	var hi byte
	odd := false
	for ; p.pos < len(p.b); p.pos++ {
		c := p.b[p.pos]
		switch {
		case c == '>':
			p.pos++
			if odd {
				out = append(out, hi<<4)
			}
			return pdfString{b: out, hex: true, start: start, end: p.pos}, nil
		case isHex(c):
			if odd {
				out = append(out, hi<<4|unhex(c))
			} else {
				hi = unhex(c)
			}
			odd = !odd
		case isSpace(c):
		default:
			return pdfString{}, fmt.Errorf("invalid character %q in hex string at offset %d", c, p.pos)
		}
	}
	return pdfString{}, fmt.Errorf("hex string at offset %d: %w", start, errEOF)
}

// literalString parses (...) (§7.3.4.2): balanced parentheses, backslash
// escapes, and end-of-line sequences normalised to \n.
func (p *parser) literalString() (pdfString, error) {
	start := p.pos
	p.pos++
	var out []byte
	depth := 1
	for p.pos < len(p.b) {
		c := p.b[p.pos]
		p.pos++
		switch c {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return pdfString{b: out, start: start, end: p.pos}, nil
			}
		case '\r':
			if p.pos < len(p.b) && p.b[p.pos] == '\n' {
				p.pos++
			}
			c = '\n'
		case '\\':
			if p.pos >= len(p.b) {
				return pdfString{}, fmt.Errorf("literal string at offset %d: %w", start, errEOF)
			}
			c = p.b[p.pos]
			p.pos++
			switch c {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case '\r': // a backslash at the end of a line continues the string
				if p.pos < len(p.b) && p.b[p.pos] == '\n' {
					p.pos++
				}
				continue
			case '\n':
				continue
			default:
				if '0' <= c && c <= '7' {
					v := c - '0'
					for i := 0; i < 2 && p.pos < len(p.b) && '0' <= p.b[p.pos] && p.b[p.pos] <= '7'; i++ {
						v = v<<3 | (p.b[p.pos] - '0') // high-order overflow is ignored, as §7.3.4.2 allows
						p.pos++
					}
					c = v
				}
				// Any other escaped character stands for itself, '(' ')' '\' included.
			}
		}
		out = append(out, c)
	}
	return pdfString{}, fmt.Errorf("literal string at offset %d: %w", start, errEOF)
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
