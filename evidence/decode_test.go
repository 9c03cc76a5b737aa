package evidence

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

// A genuine payload of each kind, as Encode writes it, and variants that a
// lenient decoder would read as something else. Every variant must be refused,
// naming what is wrong: two verifiers must never show different text for the
// same signed bytes.
func TestDecodeStepIsStrict(t *testing.T) {
	id, err := NewIdentity("Ada Lovelace", "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ident, _ := id.Step().Encode()
	a := FileRef{Name: "a.png", SHA256: strings.Repeat("a", 64), Size: 3, Type: "image/png"}
	b := FileRef{Name: "b.png", SHA256: strings.Repeat("b", 64), Size: 4, Type: "image/png"}
	sel := &Step{Kind: KindSelect, Asset: "p", File: &b, From: []FileRef{a, b}}
	if err := sel.Normalize(); err != nil {
		t.Fatal(err)
	}
	selJSON, _ := sel.Encode()
	for _, good := range []string{
		string(ident), string(selJSON),
		`{"v":1,"kind":"note","asset":"p","by":"human","text":"x"}`,
		`{"v":1,"kind":"input","asset":"p","by":"human","file":{"name":"a.png","sha256":"` + a.SHA256 + `","size":3},"permission":"own"}`,
		`{"v":1,"kind":"prompt","asset":"p","by":"both","text":"a fox \ud7ff 🦊"}`,
	} {
		if _, err := DecodeStep([]byte(good)); err != nil {
			t.Errorf("genuine payload %s refused: %v", good, err)
		}
	}
	keyB64 := base64.StdEncoding.EncodeToString(id.Public())
	for _, c := range []struct{ payload, want string }{
		{`{"v":1,"kind":"note","Asset":"p","by":"human","text":"x"}`, `"Asset"`},
		{`{"v":1,"kind":"note","asset":"p","asset":"q","by":"human","text":"x"}`, `"asset" appears twice`},
		{`{"v":1,"kind":"note","asset":"p","by":"human","text":"x","text":"y"}`, `"text" appears twice`},
		{"{\"v\":1,\"kind\":\"note\",\"asset\":\"p\",\"by\":\"human\",\"text\":\"\xff\"}", "not valid UTF-8"},
		{`{"v":1,"kind":"note","asset":"p","by":"robot","text":"x"}`, `"robot"`},
		{`{"v":1,"kind":"note","asset":"p","by":"ai","text":"x"}`, `not allowed for a note`},
		{`{"v":1,"kind":"input","asset":"p","by":"human","file":{"name":"a","sha256":"` + a.SHA256 + `","size":3},"permission":"stolen"}`, `"stolen"`},
		{`{"v":1,"kind":"input","asset":"p","by":"human","file":{"name":"a","sha256":"` + a.SHA256 + `","size":3}}`, `--permission`},
		{strings.Replace(string(selJSON), `"rejected":[{"name":"a.png"`, `"rejected":[{"name":"b.png"`, 1), "rejected file 1"},
		{strings.Replace(string(selJSON), a.SHA256+`","size":3,"type":"image/png"}]}`, b.SHA256+`","size":4,"type":"image/png"}]}`, 1), "rejected file 1"},
		{strings.Replace(string(selJSON), `,"rejected":[{"name":"a.png","sha256":"`+a.SHA256+`","size":3,"type":"image/png"}]`, ``, 1), "needs rejected"},
		{`{"v":1,"kind":"note","asset":"p","by":"human","text":null}`, "null"},
		{`{"v":1,"kind":"note","asset":"p","by":"human","text":"x","tool":""}`, "empty"},
		{`{"v":1,"kind":"note","asset":"p","by":"human","text":"x","tool":"t"}`, "does not take tool"},
		{`{"v":1,"kind":"note","asset":"p","by":"human","text":"\ud83e\udd8a"}`, "surrogate"},
		{`{"v":1,"kind":"note","asset":"p","by":"human","text":"x"} {}`, "after the JSON"},
		{`{"v":1.0,"kind":"note","asset":"p","by":"human","text":"x"}`, "whole number"},
		{`{"kind":"note","asset":"p","by":"human","text":"x"}`, `no "v"`},
		{`{"v":1,"kind":"note","by":"human","text":"x"}`, "no asset"},
		{`{"v":1,"kind":"note","asset":"p","text":"x"}`, "must say who acted"},
		{`{"v":1,"kind":"identity","asset":"p","name":"A","key":"` + keyB64 + `","cert":"MA=="}`, "does not take asset"},
		{strings.Replace(string(ident), `"key":"`+keyB64[:8], `"key":"`+keyB64[:8]+`\n`, 1), "invalid key"},
		{`{"v":1,"kind":"edit","asset":"p","by":"human","before":{"name":"a","sha256":"` + strings.ToUpper(a.SHA256) + `","size":3},"after":{"name":"b","sha256":"` + b.SHA256 + `","size":4}}`, "lowercase hex"},
		{`{"v":1,"kind":"edit","asset":"p","by":"human","before":{"name":"a","sha256":"` + a.SHA256 + `","size":-3},"after":{"name":"b","sha256":"` + b.SHA256 + `","size":4}}`, "whole number"},
		{`{"v":1,"kind":"disclose","asset":"p","by":"human","date":"20 Nov 2026"}`, "not a date"},
	} {
		_, err := DecodeStep([]byte(c.payload))
		if err == nil {
			t.Errorf("lenient: %s decoded", c.payload)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q does not say %q", c.payload, err, c.want)
		}
		if IsInputError(err) {
			t.Errorf("%s: a recorded payload's error is an input error (exit 2), not a verification failure", c.payload)
		}
	}
}

func FuzzDecodeStep(f *testing.F) {
	f.Add([]byte(`{"v":1,"kind":"note","asset":"p","by":"human","text":"x"}`))
	f.Add([]byte(`{"v":1,"kind":"select","asset":"p","by":"human","file":{"name":"b","sha256":"` + strings.Repeat("b", 64) + `","size":4},"from":[{"name":"a","sha256":"` + strings.Repeat("a", 64) + `","size":3},{"name":"b","sha256":"` + strings.Repeat("b", 64) + `","size":4}],"rejected":[{"name":"a","sha256":"` + strings.Repeat("a", 64) + `","size":3}]}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		s, err := DecodeStep(payload)
		if err != nil {
			return
		}
		// What decodes must survive its own rules and re-encode to a payload
		// that decodes to the same step.
		again, err := s.Encode()
		if err != nil {
			t.Fatal(err)
		}
		s2, err := DecodeStep(again)
		if err != nil {
			t.Fatalf("re-encoded %s does not decode: %v", again, err)
		}
		if a, _ := s2.Encode(); string(a) != string(again) {
			t.Fatalf("not stable: %s then %s", again, a)
		}
	})
}
