// Package strict decodes the text formats cairn verifies (step payloads, the
// evidence bundle, the archive manifest) so that one byte string has exactly one
// reading. Go's encoding/json matches member names without regard to case, lets
// the last of two equal names win, decodes null into nothing, and turns a lone
// surrogate escape into U+FFFD; its base64 decoder skips newlines even in strict
// mode. Each of these lets two verifiers show different text for the same signed
// bytes, so a verifier checks the raw text against a Shape first.
package strict

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"
)

// A Type is the JSON type a Shape allows.
type Type int

const (
	String  Type = iota // a JSON string
	Integer             // a JSON number without sign, fraction or exponent
	Object              // a JSON object
	Array               // a JSON array
	Bool                // true or false
	Any                 // any value, null included; an object's names still once each
)

// AnyValue is the shape of any JSON value: Check then refuses only what is
// never right (invalid UTF-8 or JSON, a name twice, a surrogate escape).
var AnyValue = &Shape{Type: Any}

// A Shape says what a JSON value may be.
type Shape struct {
	Type Type
	// Members are the names an Object may have, each with its value's shape.
	// Names match exactly (case included).
	Members map[string]*Shape
	// Required are the Members that must be present.
	Required []string
	// Values, for an Object without Members, is the shape of every member
	// value (any name); for an Array, the shape of every element.
	Values *Shape
	// NotEmpty refuses "", 0, [] and {}: values that cairn omits.
	NotEmpty bool
}

// ShapeOf derives the shape of the JSON encoding/json writes for values of type
// t, from its fields' json tags, so that the shape cannot drift from the type: a
// field without omitempty is required, one with omitempty is optional and never
// empty; strings, unsigned integers, maps of strings, slices, pointers and
// structs of these. It panics on any other type (a programming error).
func ShapeOf(t reflect.Type) *Shape {
	switch t.Kind() {
	case reflect.Pointer:
		return ShapeOf(t.Elem())
	case reflect.String:
		return &Shape{Type: String}
	case reflect.Int, reflect.Int64:
		return &Shape{Type: Integer}
	case reflect.Bool:
		return &Shape{Type: Bool}
	case reflect.Slice:
		return &Shape{Type: Array, Values: ShapeOf(t.Elem())}
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			break
		}
		return &Shape{Type: Object, Values: ShapeOf(t.Elem())}
	case reflect.Struct:
		s := &Shape{Type: Object, Members: map[string]*Shape{}}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" || !f.IsExported() {
				panic("strict: field " + t.Name() + "." + f.Name + " has no json name")
			}
			m := ShapeOf(f.Type)
			if opts == "omitempty" || opts == "omitzero" {
				m.NotEmpty = true
			} else {
				s.Required = append(s.Required, name)
			}
			s.Members[name] = m
		}
		return s
	}
	panic("strict: no shape for type " + t.String())
}

// Check reports the first way data is not exactly one JSON value (RFC 8259) of
// shape s: invalid UTF-8, invalid JSON, trailing data, null, a duplicate or
// unknown member name, a value of the wrong type, an empty value where NotEmpty
// says none is written, or a \u escape of a surrogate code point (characters
// beyond U+FFFF are written as UTF-8, never as escaped surrogate pairs).
//
// It is one pass over the bytes with no tokens allocated: verification runs it
// on every record, on the single goroutine that reads them in order.
func Check(data []byte, s *Shape) error {
	if !utf8.Valid(data) {
		return fmt.Errorf("not valid UTF-8 (bad byte at offset %d)", badUTF8(data))
	}
	sc := &scanner{b: data}
	sc.space()
	if err := sc.value(s, ""); err != nil {
		return err
	}
	sc.space()
	if sc.i != len(sc.b) {
		return errors.New("data after the JSON value")
	}
	return nil
}

func badUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}

// scanner reads JSON from b at i.
type scanner struct {
	b []byte
	i int
}

func (sc *scanner) space() {
	for sc.i < len(sc.b) {
		switch sc.b[sc.i] {
		case ' ', '\t', '\n', '\r':
			sc.i++
		default:
			return
		}
	}
}

func (sc *scanner) syntaxError(path, want string) error {
	if sc.i >= len(sc.b) {
		return fmt.Errorf("%s: unexpected end of JSON input, want %s", where(path), want)
	}
	return fmt.Errorf("%s: invalid JSON at offset %d (%q), want %s", where(path), sc.i, sc.b[sc.i], want)
}

func (sc *scanner) peek() byte {
	if sc.i < len(sc.b) {
		return sc.b[sc.i]
	}
	return 0
}

// value reads one value of shape s.
func (sc *scanner) value(s *Shape, path string) error {
	if s.Type == Any {
		return sc.anyValue(path)
	}
	switch c := sc.peek(); {
	case c == '{':
		if s.Type != Object {
			break
		}
		return sc.object(s, path)
	case c == '[':
		if s.Type != Array {
			break
		}
		return sc.array(s, path)
	case c == '"':
		if s.Type != String {
			break
		}
		empty, err := sc.str(path)
		if err == nil && empty && s.NotEmpty {
			err = fmt.Errorf("%s is an empty string; an empty field is left out", where(path))
		}
		return err
	case c == '-' || '0' <= c && c <= '9':
		if s.Type != Integer {
			break
		}
		return sc.integer(s, path)
	case c == 't' || c == 'f':
		if s.Type != Bool {
			break
		}
		return sc.literal(map[byte]string{'t': "true", 'f': "false"}[c], path)
	case c == 'n':
		if err := sc.literal("null", path); err != nil {
			return err
		}
		return fmt.Errorf("%s is null; a field with no value is left out", where(path))
	default:
		return sc.syntaxError(path, "a value")
	}
	return fmt.Errorf("%s has the wrong type (want %s)", where(path), typeName(s.Type))
}

// anyValue reads a value of any type, through shapes of Any.
func (sc *scanner) anyValue(path string) error {
	switch c := sc.peek(); {
	case c == '{':
		return sc.object(&Shape{Type: Object, Values: AnyValue}, path)
	case c == '[':
		return sc.array(&Shape{Type: Array, Values: AnyValue}, path)
	case c == '"':
		_, err := sc.str(path)
		return err
	case c == 't':
		return sc.literal("true", path)
	case c == 'f':
		return sc.literal("false", path)
	case c == 'n':
		return sc.literal("null", path)
	case c == '-' || '0' <= c && c <= '9':
		start := sc.i
		for sc.i < len(sc.b) && strings.IndexByte("+-.0123456789eE", sc.b[sc.i]) >= 0 {
			sc.i++
		}
		if !json.Valid(sc.b[start:sc.i]) {
			return fmt.Errorf("%s: invalid number %s", where(path), sc.b[start:sc.i])
		}
		return nil
	}
	return sc.syntaxError(path, "a value")
}

func (sc *scanner) literal(word, path string) error {
	if !bytes.HasPrefix(sc.b[sc.i:], []byte(word)) {
		return sc.syntaxError(path, word)
	}
	sc.i += len(word)
	return nil
}

// str reads a string and reports whether it is empty. Escapes must be those
// of RFC 8259 §7, and none may encode a surrogate.
func (sc *scanner) str(path string) (empty bool, err error) {
	start := sc.i
	sc.i++ // the opening quote
	for sc.i < len(sc.b) {
		c := sc.b[sc.i]
		switch {
		case c == '"':
			sc.i++
			return sc.i == start+2, nil
		case c < 0x20:
			return false, fmt.Errorf("%s: a control character (0x%02x) in a string at offset %d must be escaped", where(path), c, sc.i)
		case c == '\\':
			if sc.i+1 >= len(sc.b) {
				return false, sc.syntaxError(path, "an escape")
			}
			switch sc.b[sc.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				sc.i += 2
			case 'u':
				if sc.i+6 > len(sc.b) {
					return false, sc.syntaxError(path, "four hex digits")
				}
				v, err := hex.DecodeString(string(sc.b[sc.i+2 : sc.i+6]))
				if err != nil {
					return false, sc.syntaxError(path, "four hex digits")
				}
				if v[0] >= 0xd8 && v[0] <= 0xdf {
					return false, fmt.Errorf("a string escapes surrogate \\u%s at offset %d; write the character as UTF-8", sc.b[sc.i+2:sc.i+6], sc.i)
				}
				sc.i += 6
			default:
				return false, sc.syntaxError(path, "a valid escape")
			}
		default:
			sc.i++
		}
	}
	return false, sc.syntaxError(path, "the end of the string")
}

// key reads a member name. Names cairn uses are plain ASCII; one with an
// escape is decoded, so that it is compared as the text it stands for.
func (sc *scanner) key(path string) (string, error) {
	start := sc.i
	if _, err := sc.str(path); err != nil {
		return "", err
	}
	raw := sc.b[start:sc.i]
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), nil
	}
	var k string
	if err := json.Unmarshal(raw, &k); err != nil {
		return "", fmt.Errorf("%s: %v", where(path), err)
	}
	return k, nil
}

func (sc *scanner) integer(s *Shape, path string) error {
	start := sc.i
	for sc.i < len(sc.b) {
		c := sc.b[sc.i]
		if !('0' <= c && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E') {
			break
		}
		sc.i++
	}
	num := string(sc.b[start:sc.i])
	if !isUnsignedInteger(num) {
		if len(num) > 1 && num[0] == '0' && isUnsignedInteger(num[1:]) {
			return fmt.Errorf("%s: invalid number %s (a leading zero)", where(path), num)
		}
		return fmt.Errorf("%s is %s; want a whole number without sign, fraction or exponent", where(path), num)
	}
	if num == "0" && s.NotEmpty {
		return fmt.Errorf("%s is 0; a zero field is left out", where(path))
	}
	return nil
}

func (sc *scanner) array(s *Shape, path string) error {
	sc.i++ // [
	sc.space()
	n := 0
	if sc.peek() == ']' {
		sc.i++
	} else {
		for {
			sc.space()
			if err := sc.value(s.Values, fmt.Sprintf("%s[%d]", path, n)); err != nil {
				return err
			}
			n++
			sc.space()
			if c := sc.peek(); c == ',' {
				sc.i++
				continue
			} else if c == ']' {
				sc.i++
				break
			}
			return sc.syntaxError(path, "',' or ']'")
		}
	}
	if n == 0 && s.NotEmpty {
		return fmt.Errorf("%s is an empty array; an empty field is left out", where(path))
	}
	return nil
}

func (sc *scanner) object(s *Shape, path string) error {
	sc.i++            // {
	var seen []string // objects are small: a slice beats a map
	sc.space()
	if sc.peek() == '}' {
		sc.i++
	} else {
		for {
			sc.space()
			if sc.peek() != '"' {
				return sc.syntaxError(path, "a member name")
			}
			name, err := sc.key(path)
			if err != nil {
				return err
			}
			for _, n := range seen {
				if n == name {
					return fmt.Errorf("%q appears twice in %s", name, where(path))
				}
			}
			seen = append(seen, name)
			sub := name
			if path != "" {
				sub = path + "." + name
			}
			vs := s.Values
			if s.Members != nil {
				if vs = s.Members[name]; vs == nil {
					return fmt.Errorf("unknown field %q in %s%s", name, where(path), caseHint(name, s.Members))
				}
			}
			sc.space()
			if sc.peek() != ':' {
				return sc.syntaxError(sub, "':'")
			}
			sc.i++
			sc.space()
			if err := sc.value(vs, sub); err != nil {
				return err
			}
			sc.space()
			if c := sc.peek(); c == ',' {
				sc.i++
				continue
			} else if c == '}' {
				sc.i++
				break
			}
			return sc.syntaxError(path, "',' or '}'")
		}
	}
	for _, r := range s.Required {
		found := false
		for _, n := range seen {
			found = found || n == r
		}
		if !found {
			return fmt.Errorf("%s has no %q field", where(path), r)
		}
	}
	if len(seen) == 0 && s.NotEmpty {
		return fmt.Errorf("%s is an empty object; an empty field is left out", where(path))
	}
	return nil
}

func where(path string) string {
	if path == "" {
		return "the value"
	}
	return path
}

func caseHint(name string, members map[string]*Shape) string {
	for m := range members {
		if strings.EqualFold(m, name) {
			return fmt.Sprintf(" (names are case-sensitive: the field is %q)", m)
		}
	}
	return ""
}

func isUnsignedInteger(s string) bool {
	if s == "" || len(s) > 19 || (len(s) > 1 && s[0] == '0') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func typeName(t Type) string {
	return [...]string{"a string", "a whole number", "an object", "an array", "true or false"}[t]
}

// Base64 decodes standard base64 with padding (RFC 4648 §4) and nothing else:
// no line breaks, no spaces, canonical padding bits.
func Base64(s string) ([]byte, error) {
	if i := strings.IndexAny(s, "\r\n \t"); i >= 0 {
		return nil, fmt.Errorf("base64 holds white space at offset %d", i)
	}
	return base64.StdEncoding.Strict().DecodeString(s)
}

// Hex decodes lowercase hexadecimal of exactly n bytes.
func Hex(s string, n int) ([]byte, error) {
	if len(s) != 2*n {
		return nil, fmt.Errorf("%d hex digits, want %d", len(s), 2*n)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return nil, fmt.Errorf("%q is not lowercase hex", s)
		}
	}
	return hex.DecodeString(s)
}
