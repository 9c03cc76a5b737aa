package strict

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

type inner struct {
	Name string `json:"name"`
	Size int64  `json:"size"`
	Type string `json:"type,omitempty"`
}

type outer struct {
	V      int               `json:"v"`
	Text   string            `json:"text,omitempty"`
	Params map[string]string `json:"params,omitempty"`
	Files  []inner           `json:"files,omitempty"`
	One    *inner            `json:"one,omitempty"`
	Must   []string          `json:"must"`
}

func TestCheck(t *testing.T) {
	s := ShapeOf(reflect.TypeOf(outer{}))
	for _, good := range []string{
		`{"v":1,"must":[]}`,
		`{"v":0,"text":"x","params":{"a":"","b":"c"},"files":[{"name":"","size":0}],"one":{"name":"n","size":2,"type":"t"},"must":["x"]}`,
		` { "v" : 1 , "must" : [ ] } `,
	} {
		if err := Check([]byte(good), s); err != nil {
			t.Errorf("%s: %v", good, err)
		}
	}
	for _, c := range []struct{ in, want string }{
		{`{"v":1}`, `no "must"`},
		{`{"V":1,"must":[]}`, `case-sensitive`},
		{`{"v":1,"v":2,"must":[]}`, `appears twice`},
		{`{"v":1,"must":[],"params":{"a":"1","a":"2"}}`, `appears twice`},
		{`{"v":1,"must":[],"text":""}`, `empty string`},
		{`{"v":1,"must":[],"params":{}}`, `empty object`},
		{`{"v":1,"must":[],"files":[]}`, `empty array`},
		{`{"v":1,"must":null}`, `null`},
		{`{"v":-1,"must":[]}`, `whole number`},
		{`{"v":1e0,"must":[]}`, `whole number`},
		{`{"v":01,"must":[]}`, `invalid`},
		{`{"v":"1","must":[]}`, `wrong type`},
		{`{"v":1,"must":[1]}`, `wrong type`},
		{`{"v":1,"must":[],"one":{"name":"n"}}`, `no "size"`},
		{`{"v":1,"must":[],"one":{"name":"n","size":1,"extra":1}}`, `unknown field "extra"`},
		{`{"v":1,"must":["\udc00"]}`, `surrogate`},
		{`{"v":1,"must":["\\udc00"]}`, ``}, // an escaped backslash, then text: fine
		{"{\"v\":1,\"must\":[\"\xc3\"]}", `UTF-8`},
		{`{"v":1,"must":[]}x`, `after the JSON`},
		{`{"v":1,"must":[]`, ``},
		{`[]`, `wrong type`},
		{"{\"v\":1,\"must\":[\"a\nb\"]}", `control character`},
		{`{"v":1,"must":["\q"]}`, `valid escape`},
		{`{"v":1,"must":["a"],}`, `member name`},
		{`{"v":1 "must":[]}`, `',' or '}'`},
		{`{"v":1,"must":["a",]}`, `a value`},
		{`{"v":1,"must":[tru]}`, `wrong type`},
	} {
		err := Check([]byte(c.in), s)
		if c.want == "" && strings.Contains(c.in, `\\udc00`) {
			if err != nil {
				t.Errorf("%s: %v", c.in, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.in, err, c.want)
		}
	}
}

func TestBase64(t *testing.T) {
	if b, err := Base64("AAEC"); err != nil || len(b) != 3 {
		t.Errorf("AAEC: %v %v", b, err)
	}
	for _, bad := range []string{"AA\nEC", "AAEC\n", "AA EC", "AAF=", "AAEC===", "AA-_"} {
		if _, err := Base64(bad); err == nil {
			t.Errorf("%q decoded", bad)
		}
	}
}

func TestHex(t *testing.T) {
	if _, err := Hex(strings.Repeat("ab", 32), 32); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{strings.Repeat("AB", 32), strings.Repeat("ab", 31), strings.Repeat("g0", 32)} {
		if _, err := Hex(bad, 32); err == nil {
			t.Errorf("%q decoded", bad)
		}
	}
}

func FuzzCheck(f *testing.F) {
	s := ShapeOf(reflect.TypeOf(outer{}))
	f.Add([]byte(`{"v":1,"must":["a"],"params":{"a":"b"},"files":[{"name":"x","size":1}]}`))
	f.Add([]byte(`{"v":1,"must":["\u00e9\n"],"one":{"name":"\"","size":0}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		// What the strict reader accepts, encoding/json's own validator
		// (an independent implementation) must accept too.
		if Check(data, s) == nil && !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
	})
}

func TestAnyValue(t *testing.T) {
	for _, good := range []string{`{"a":[1,-2.5e3,null,true,{"b":"c"}]}`, `null`, `"x"`, `[]`} {
		if err := Check([]byte(good), AnyValue); err != nil {
			t.Errorf("%s: %v", good, err)
		}
	}
	for _, c := range []struct{ in, want string }{
		{`{"a":1,"a":2}`, "appears twice"},
		{`{"a":{"b":1,"b":1}}`, "appears twice"},
		{`["\udc00"]`, "surrogate"},
		{"[\"\xff\"]", "UTF-8"},
		{`[01]`, "invalid number"},
		{`[1,]`, "a value"},
	} {
		if err := Check([]byte(c.in), AnyValue); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.in, err, c.want)
		}
	}
}
