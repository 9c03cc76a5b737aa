package formatcheck

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// This file is a deliberately small, strict JSON (RFC 8259) reader. It keeps
// member order and the literal text of numbers, and enforces the parts of
// FORMAT.md §5.4 that are about the JSON text itself (rules 1–4). The rules
// about which names and values are allowed where are checked on the tree it
// returns (schema.go).

type jkind int

const (
	jObject jkind = iota
	jArray
	jString
	jNumber
	jBool
)

func (k jkind) String() string {
	return [...]string{"object", "array", "string", "number", "boolean"}[k]
}

type jmember struct {
	name string
	val  *jvalue
}

type jvalue struct {
	kind    jkind
	members []jmember // jObject, in document order
	elems   []*jvalue // jArray
	str     string    // jString: the decoded string; jNumber: the literal
	b       bool      // jBool
}

// get returns the member called name, or nil.
func (v *jvalue) get(name string) *jvalue {
	for _, m := range v.members {
		if m.name == name {
			return m.val
		}
	}
	return nil
}

// strictError is a violation of one of §5.4's rules 1–4.
type strictError struct {
	rule int
	msg  string
}

func (e *strictError) Error() string { return fmt.Sprintf("§5.4 rule %d: %s", e.rule, e.msg) }

// maxDepth bounds nesting. No document FORMAT.md describes nests deeper than
// 6; anything deeper would fail the schema anyway.
const maxDepth = 64

type jparser struct {
	s   []byte
	pos int
}

// parseStrict reads data as exactly one JSON object followed only by white
// space (§5.4 rule 1), with no duplicate member names, compared after their
// escapes are decoded (rule 2, first half), no null, numbers only as unsigned
// whole numbers of at most 2^63 − 1 (rule 3) and no \u escape of a surrogate
// (rule 4). Which strings, arrays and objects may be empty depends on the
// document (§5.4 rule 3 for steps and manifests, §7.3 for bundles) and is
// checked by the schema readers.
func parseStrict(data []byte) (*jvalue, error) {
	if !utf8.Valid(data) {
		return nil, &strictError{1, "not valid UTF-8"}
	}
	p := &jparser{s: data}
	p.ws()
	if p.pos >= len(p.s) || p.s[p.pos] != '{' {
		return nil, &strictError{1, "not a JSON object"}
	}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.pos != len(p.s) {
		return nil, &strictError{1, fmt.Sprintf("data after the JSON value at byte %d", p.pos)}
	}
	return v, nil
}

func (p *jparser) syntax(what string) error {
	return &strictError{1, fmt.Sprintf("not valid JSON at byte %d: %s", p.pos, what)}
}

// ws skips RFC 8259 white space: space, tab, line feed, carriage return.
func (p *jparser) ws() {
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jparser) value(depth int) (*jvalue, error) {
	if depth > maxDepth {
		return nil, p.syntax("nested too deeply")
	}
	p.ws()
	if p.pos >= len(p.s) {
		return nil, p.syntax("unexpected end")
	}
	switch c := p.s[p.pos]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return &jvalue{kind: jString, str: s}, nil
	case c == 't':
		return p.literal("true", &jvalue{kind: jBool, b: true})
	case c == 'f':
		return p.literal("false", &jvalue{kind: jBool})
	case c == 'n':
		if _, err := p.literal("null", nil); err != nil {
			return nil, err
		}
		return nil, &strictError{3, "a value is null"}
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		return nil, p.syntax(fmt.Sprintf("unexpected %q", c))
	}
}

func (p *jparser) literal(word string, v *jvalue) (*jvalue, error) {
	if len(p.s)-p.pos < len(word) || string(p.s[p.pos:p.pos+len(word)]) != word {
		return nil, p.syntax("bad literal")
	}
	p.pos += len(word)
	return v, nil
}

func (p *jparser) object(depth int) (*jvalue, error) {
	p.pos++ // '{'
	v := &jvalue{kind: jObject}
	seen := map[string]bool{}
	p.ws()
	if p.pos < len(p.s) && p.s[p.pos] == '}' {
		p.pos++
		return v, nil
	}
	for {
		p.ws()
		if p.pos >= len(p.s) || p.s[p.pos] != '"' {
			return nil, p.syntax("expected a member name")
		}
		name, err := p.str()
		if err != nil {
			return nil, err
		}
		// Rule 2: names are compared after decoding escapes, so "k\u0069nd"
		// and "kind" are the same name.
		if seen[name] {
			return nil, &strictError{2, fmt.Sprintf("member %q appears twice", name)}
		}
		seen[name] = true
		p.ws()
		if p.pos >= len(p.s) || p.s[p.pos] != ':' {
			return nil, p.syntax("expected ':'")
		}
		p.pos++
		val, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		v.members = append(v.members, jmember{name, val})
		p.ws()
		if p.pos >= len(p.s) {
			return nil, p.syntax("unterminated object")
		}
		switch p.s[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return v, nil
		default:
			return nil, p.syntax("expected ',' or '}'")
		}
	}
}

func (p *jparser) array(depth int) (*jvalue, error) {
	p.pos++ // '['
	v := &jvalue{kind: jArray}
	p.ws()
	if p.pos < len(p.s) && p.s[p.pos] == ']' {
		p.pos++
		return v, nil
	}
	for {
		el, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		v.elems = append(v.elems, el)
		p.ws()
		if p.pos >= len(p.s) {
			return nil, p.syntax("unterminated array")
		}
		switch p.s[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return v, nil
		default:
			return nil, p.syntax("expected ',' or ']'")
		}
	}
}

// number accepts the RFC 8259 number grammar, then refuses (rule 3) anything
// but an unsigned whole number: no '-', no fraction, no exponent.
func (p *jparser) number() (*jvalue, error) {
	start := p.pos
	if p.s[p.pos] == '-' {
		p.pos++
	}
	if p.pos >= len(p.s) {
		return nil, p.syntax("bad number")
	}
	if p.s[p.pos] == '0' {
		p.pos++
	} else if p.s[p.pos] >= '1' && p.s[p.pos] <= '9' {
		for p.pos < len(p.s) && isDigit(p.s[p.pos]) {
			p.pos++
		}
	} else {
		return nil, p.syntax("bad number")
	}
	whole := true
	if p.pos < len(p.s) && p.s[p.pos] == '.' {
		whole = false
		p.pos++
		n := p.digits()
		if n == 0 {
			return nil, p.syntax("bad fraction")
		}
	}
	if p.pos < len(p.s) && (p.s[p.pos] == 'e' || p.s[p.pos] == 'E') {
		whole = false
		p.pos++
		if p.pos < len(p.s) && (p.s[p.pos] == '+' || p.s[p.pos] == '-') {
			p.pos++
		}
		if p.digits() == 0 {
			return nil, p.syntax("bad exponent")
		}
	}
	lit := string(p.s[start:p.pos])
	if !whole || lit[0] == '-' {
		return nil, &strictError{3, fmt.Sprintf("number %s is not a whole number without sign, fraction or exponent", lit)}
	}
	// "at most 2^63 − 1" (§5.4 rule 3).
	if _, err := strconv.ParseInt(lit, 10, 64); err != nil {
		return nil, &strictError{3, fmt.Sprintf("number %s is more than 2^63 − 1", lit)}
	}
	return &jvalue{kind: jNumber, str: lit}, nil
}

func (p *jparser) digits() int {
	n := 0
	for p.pos < len(p.s) && isDigit(p.s[p.pos]) {
		p.pos++
		n++
	}
	return n
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// str reads a string starting at '"'. Control characters must be escaped
// (RFC 8259 §7); a \u escape of a surrogate code point, paired or not, is
// refused (§5.4 rule 4).
func (p *jparser) str() (string, error) {
	p.pos++ // '"'
	var out []byte
	for {
		if p.pos >= len(p.s) {
			return "", p.syntax("unterminated string")
		}
		c := p.s[p.pos]
		switch {
		case c == '"':
			p.pos++
			return string(out), nil
		case c < 0x20:
			return "", p.syntax("unescaped control character in a string")
		case c == '\\':
			p.pos++
			if p.pos >= len(p.s) {
				return "", p.syntax("unterminated escape")
			}
			e := p.s[p.pos]
			p.pos++
			switch e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				if len(p.s)-p.pos < 4 {
					return "", p.syntax("short \\u escape")
				}
				r := 0
				for _, h := range p.s[p.pos : p.pos+4] {
					d := hexVal(h)
					if d < 0 {
						return "", p.syntax("bad \\u escape")
					}
					r = r<<4 | d
				}
				p.pos += 4
				if r >= 0xD800 && r <= 0xDFFF {
					return "", &strictError{4, fmt.Sprintf("\\u escape of the surrogate U+%04X", r)}
				}
				out = utf8.AppendRune(out, rune(r))
			default:
				return "", p.syntax(fmt.Sprintf("bad escape \\%c", e))
			}
		default:
			out = append(out, c)
			p.pos++
		}
	}
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
