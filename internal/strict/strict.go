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
	"io"
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
)

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

// Check reports the first way data is not exactly one JSON value of shape s:
// invalid UTF-8, invalid JSON, trailing data, null, a duplicate or unknown
// member name, a value of the wrong type, an empty value where NotEmpty says
// none is written, or a \u escape of a surrogate code point (characters beyond
// U+FFFF are written as UTF-8, never as escaped surrogate pairs).
func Check(data []byte, s *Shape) error {
	if !utf8.Valid(data) {
		return fmt.Errorf("not valid UTF-8 (bad byte at offset %d)", badUTF8(data))
	}
	if err := noSurrogateEscapes(data); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := walk(dec, s, ""); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
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

// noSurrogateEscapes scans the strings of (syntactically valid) JSON for \u
// escapes in D800–DFFF. The JSON decoder checks the syntax afterwards.
func noSurrogateEscapes(b []byte) error {
	in := false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case !in:
			in = c == '"'
		case c == '"':
			in = false
		case c == '\\' && i+1 < len(b):
			if b[i+1] == 'u' && i+5 < len(b) {
				if v, err := hex.DecodeString(string(b[i+2 : i+6])); err == nil && v[0] >= 0xd8 && v[0] <= 0xdf {
					return fmt.Errorf("a string escapes surrogate \\u%s at offset %d; write the character as UTF-8", b[i+2:i+6], i)
				}
			}
			i++ // the escaped character
		}
	}
	return nil
}

func where(path string) string {
	if path == "" {
		return "the value"
	}
	return path
}

func walk(dec *json.Decoder, s *Shape, path string) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%s: %v", where(path), syntax(err))
	}
	switch t := tok.(type) {
	case nil:
		return fmt.Errorf("%s is null; a field with no value is left out", where(path))
	case json.Delim:
		switch {
		case t == '{' && s.Type == Object:
			return walkObject(dec, s, path)
		case t == '[' && s.Type == Array:
			n := 0
			for dec.More() {
				if err := walk(dec, s.Values, fmt.Sprintf("%s[%d]", path, n)); err != nil {
					return err
				}
				n++
			}
			if _, err := dec.Token(); err != nil { // ]
				return fmt.Errorf("%s: %v", where(path), syntax(err))
			}
			if n == 0 && s.NotEmpty {
				return fmt.Errorf("%s is an empty array; an empty field is left out", where(path))
			}
			return nil
		}
	case string:
		if s.Type == String {
			if t == "" && s.NotEmpty {
				return fmt.Errorf("%s is an empty string; an empty field is left out", where(path))
			}
			return nil
		}
	case json.Number:
		if s.Type == Integer {
			if !isUnsignedInteger(t.String()) {
				return fmt.Errorf("%s is %s; want a whole number without sign, fraction or exponent", where(path), t)
			}
			if t == "0" && s.NotEmpty {
				return fmt.Errorf("%s is 0; a zero field is left out", where(path))
			}
			return nil
		}
	case bool:
		if s.Type == Bool {
			return nil
		}
	}
	return fmt.Errorf("%s has the wrong type (want %s)", where(path), typeName(s.Type))
}

func walkObject(dec *json.Decoder, s *Shape, path string) error {
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("%s: %v", where(path), syntax(err))
		}
		name := tok.(string) // the decoder allows only strings here
		sub := path + "." + name
		if path == "" {
			sub = name
		}
		if seen[name] {
			return fmt.Errorf("%q appears twice in %s", name, where(path))
		}
		seen[name] = true
		vs := s.Values
		if s.Members != nil {
			vs = s.Members[name]
			if vs == nil {
				return fmt.Errorf("unknown field %q in %s%s", name, where(path), caseHint(name, s.Members))
			}
		}
		if err := walk(dec, vs, sub); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // }
		return fmt.Errorf("%s: %v", where(path), syntax(err))
	}
	for _, r := range s.Required {
		if !seen[r] {
			return fmt.Errorf("%s has no %q field", where(path), r)
		}
	}
	if len(seen) == 0 && s.NotEmpty {
		return fmt.Errorf("%s is an empty object; an empty field is left out", where(path))
	}
	return nil
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

func syntax(err error) string {
	return strings.TrimPrefix(err.Error(), "json: ")
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
