package formatcheck

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Tests of the rules and kinds the second FORMAT.md added or settled: the
// `file` and `retract` kinds, `unknown`, an edit's `in`, an input's `use`,
// the `assignment` basis, empty values anywhere, lengths, one size per
// SHA-256, §5.6 retractions, certificate binding, checkpoint lines by known
// keys.

func leafHex(raw []byte) string { return hex.EncodeToString(leafHash(raw)) }

func retractPayload(asset string, seq int64, hash, why string) []byte {
	return []byte(fmt.Sprintf(`{"v":1,"kind":"retract","asset":%q,"by":"human","retracts":{"seq":%d,"hash":%q},"why":%q}`, asset, seq, hash, why))
}

// step is one record to append: its signer and payload. A nil payload
// function gets the entries so far (to name one of them).
type app struct {
	k ed25519.PrivateKey
	p []byte
	f func(es [][]byte) []byte
}

// chain appends records after es, each a second after the one before.
func chain(origin string, es [][]byte, apps ...app) [][]byte {
	out := es
	for _, a := range apps {
		p := a.p
		if a.f != nil {
			p = a.f(out)
		}
		out = appendEntry(origin, out, a.k, p, time.Second)
	}
	return out
}

// refOf is a file ref of a stored file of the fixture, with its true size.
func (fx *fixture) refOf(t testing.TB, name string) string {
	for h, d := range fx.files {
		if name == "" || bytes.Contains(bytes.Join(fx.entries, nil), []byte(`"name":"`+name+`","sha256":"`+h)) {
			return fmt.Sprintf(`{"name":%q,"sha256":%q,"size":%d}`, name, h, len(d))
		}
	}
	t.Fatalf("no stored file named %s", name)
	return ""
}

// shaOf returns the SHA-256 and size of the stored file recorded as name.
func (fx *fixture) shaOf(t testing.TB, name string) (string, int) {
	var r struct {
		SHA  string `json:"sha256"`
		Size int    `json:"size"`
	}
	json.Unmarshal([]byte(fx.refOf(t, name)), &r)
	return r.SHA, r.Size
}

func TestGenuineNewKinds(t *testing.T) {
	t.Parallel()
	fx := getFixture(t)
	kinds := map[string]int{}
	for _, e := range fx.entries {
		st, err := readStep(payloadOf(e))
		if err != nil {
			t.Fatal(err)
		}
		kinds[st.kind+"/"+st.by]++
	}
	for _, k := range []string{"file/unknown", "retract/human", "edit/both", "edit/human", "input/human"} {
		if kinds[k] == 0 {
			t.Errorf("the fixture has no %s step (kinds: %v)", k, kinds)
		}
	}
	for _, want := range []struct {
		i    int64
		frag string
	}{
		{fx.fileStep, `"kind":"file","asset":"poster","by":"unknown"`},
		{fx.aiEdit, `"by":"both"`},
		{fx.aiEdit, `"in":[`},
		{fx.retractByNew, `"retracts":{`},
	} {
		if !bytes.Contains(payloadOf(fx.entries[want.i]), []byte(want.frag)) {
			t.Errorf("record %d does not hold %s: %s", want.i, want.frag, payloadOf(fx.entries[want.i]))
		}
	}
	if !bytes.Contains(bytes.Join(fx.entries, nil), []byte(`"use":"component"`)) || !bytes.Contains(bytes.Join(fx.entries, nil), []byte(`"use":"reference"`)) {
		t.Error("the fixture has no input with use component and reference")
	}
	if !bytes.Contains(bytes.Join(fx.entries, nil), []byte(`"basis":"assignment"`)) {
		t.Error("the fixture has no asset with the assignment basis")
	}
	// The retraction by the new key names a record the old key signed.
	e, _ := parseEntry(fx.entries[fx.retractByNew])
	r, _ := parseEntry(fx.entries[fx.retracted[1]])
	if bytes.Equal(e.key, r.key) {
		t.Error("the retraction by the new key names a record of the same key")
	}
	wantOK(t, Ledger(fx.origin, fx.entries, fx.cps))
	wantOK(t, Archive(fx.tar))
	wantOK(t, Bundle(fx.evidence, fx.signerCert))
	// The pack holds the retractions and the records they name.
	b, err := readBundle(fx.evidence)
	if err != nil {
		t.Fatal(err)
	}
	have := map[int64]bool{}
	for _, be := range b.records {
		have[be.index] = true
	}
	for _, i := range append(append([]int64{}, fx.retracted...), fx.retractions...) {
		if !have[i] {
			t.Errorf("the pack lacks record %d", i)
		}
	}
	out := fx.s.must("verify")
	if !strings.Contains(out, "retracted") {
		t.Errorf("cairn verify does not mention the retractions:\n%s", out)
	}
}

// TestRetractions is §5.6, through Ledger and cairn verify --archive.
func TestRetractions(t *testing.T) {
	t.Parallel()
	fx := getFixture(t)
	es := fx.entries
	n := int64(len(es))
	cur := fx.currentKey()
	_, bob, _ := ed25519.GenerateKey(rand.Reader)
	_, bob2, _ := ed25519.GenerateKey(rand.Reader)
	_, bob3, _ := ed25519.GenerateKey(rand.Reader)
	afterRot := int64(lastIndex(es, `"text":"after the rotation"`))
	firstNote := int64(lastIndex(es, `first idea`))
	otherNote := int64(lastIndex(es, `a note on another asset`))
	final := int64(lastIndex(es, `"kind":"final"`))
	ret := func(asset string, i int64) []byte { return retractPayload(asset, i, leafHex(es[i]), "a mistake") }
	retLast := func(asset string) func([][]byte) []byte {
		return func(x [][]byte) []byte {
			i := int64(len(x) - 1)
			return retractPayload(asset, i, leafHex(x[i]), "a mistake")
		}
	}
	bobID := identityPayload(t, bob, "Bob")
	bobNote := func(asset string) []byte {
		return []byte(`{"v":1,"kind":"note","asset":"` + asset + `","by":"human","text":"Bob was here"}`)
	}
	good := ret("poster", afterRot)
	h := leafHex(es[afterRot])
	body := sha256.Sum256(es[afterRot][:len(es[afterRot])-64])
	whole := sha256.Sum256(es[afterRot])
	with := func(p string) [][]byte { return chain(fx.origin, es, app{k: cur, p: []byte(p)}) }
	cases := []ledgerCase{
		{name: "retraction by the key that signed the record", entries: chain(fx.origin, es, app{k: cur, p: good}), ok: true},
		{name: "retraction by an author of a record the retired key signed", entries: chain(fx.origin, es, app{k: cur, p: ret("poster", firstNote)}), ok: true},
		{name: "retraction of a file step", entries: chain(fx.origin, es, app{k: cur, p: ret("poster", fx.fileStep)}), ok: true},
		{name: "retraction of the final step", entries: chain(fx.origin, es, app{k: cur, p: ret("poster", final)}), ok: true},
		{name: "retraction of an AI-assisted edit", entries: chain(fx.origin, es, app{k: cur, p: ret("poster", fx.aiEdit)}), ok: true},
		{name: "retraction of the identity record", entries: chain(fx.origin, es, app{k: cur, p: ret("poster", 0)}), seq: n, fragment: "§5.6 rule 2"},
		{name: "retraction of the rotation record", entries: chain(fx.origin, es, app{k: cur, p: ret("poster", fx.rotation)}), seq: n, fragment: "§5.6 rule 2"},
		{name: "retraction of the asset record", entries: chain(fx.origin, es, app{k: cur, p: ret("poster", 1)}), seq: n, fragment: "§5.6 rule 2"},
		{name: "retraction of an asset-set record", entries: chain(fx.origin, es,
			app{k: cur, p: []byte(`{"v":1,"kind":"asset-set","asset":"poster","by":"human","title":"A new title"}`)},
			app{k: cur, f: retLast("poster")}), seq: n + 1, fragment: "§5.6 rule 2"},
		{name: "retraction of a retraction", entries: chain(fx.origin, es, app{k: cur, p: ret("poster", fx.retractions[0])}), seq: n, fragment: "§5.6 rule 2"},
		{name: "retraction of another asset's record", entries: chain(fx.origin, es, app{k: cur, p: ret("poster", otherNote)}), seq: n, fragment: "§5.6 rule 2"},
		{name: "retraction on another asset of this asset's record", entries: chain(fx.origin, es, app{k: cur, p: ret("other", afterRot)}), seq: n, fragment: "§5.6 rule 2"},
		{name: "retraction by a non-author", entries: chain(fx.origin, es, app{k: bob, p: bobID}, app{k: bob, p: good}), seq: n + 1, fragment: "§5.6 rule 4"},
		{name: "retraction by an author of another asset only", entries: chain(fx.origin, es, app{k: bob, p: bobID}, app{k: bob, p: bobNote("other")}, app{k: bob, p: good}), seq: n + 2, fragment: "§5.6 rule 4"},
		{name: "retraction by a second author of the asset", entries: chain(fx.origin, es, app{k: bob, p: bobID}, app{k: bob, p: bobNote("poster")}, app{k: bob, p: good}), ok: true},
		{name: "retraction by a non-author's rotated key", entries: chain(fx.origin, es, app{k: bob, p: bobID}, app{k: bob, p: rotatePayload(t, bob2, "Bob", "rotate")}, app{k: bob2, p: good}), seq: n + 2, fragment: "§5.6 rule 4"},
		{name: "retraction by a key one rotation from an author", entries: chain(fx.origin, es, app{k: bob, p: bobID}, app{k: bob, p: bobNote("poster")},
			app{k: bob, p: rotatePayload(t, bob2, "Bob", "rotate")}, app{k: bob2, p: good}), ok: true},
		{name: "retraction by a key two rotations from an author", entries: chain(fx.origin, es, app{k: bob, p: bobID}, app{k: bob, p: bobNote("poster")},
			app{k: bob, p: rotatePayload(t, bob2, "Bob", "rotate")}, app{k: bob2, p: rotatePayload(t, bob3, "Bob", "rotate")}, app{k: bob3, p: good}), ok: true},
		{name: "retraction of an already retracted record", entries: chain(fx.origin, es, app{k: cur, p: ret("poster", fx.retracted[0])}), seq: n, fragment: "§5.6 rule 3"},
		{name: "the same record retracted twice in a row", entries: chain(fx.origin, es, app{k: cur, p: good}, app{k: cur, p: good}), seq: n + 1, fragment: "§5.6 rule 3"},
		{name: "retraction with a wrong leaf hash", entries: with(string(retractPayload("poster", afterRot, leafHex(flip(es[afterRot], 100)), "x"))), seq: n, fragment: "§5.6 rule 1"},
		{name: "retraction with the hash of the record's body", entries: with(string(retractPayload("poster", afterRot, hex.EncodeToString(body[:]), "x"))), seq: n, fragment: "§5.6 rule 1"},
		{name: "retraction with SHA-256 of the entry without the 0x00 prefix", entries: with(string(retractPayload("poster", afterRot, hex.EncodeToString(whole[:]), "x"))), seq: n, fragment: "§5.6 rule 1"},
		{name: "retraction with another record's leaf hash", entries: with(string(retractPayload("poster", afterRot, leafHex(es[firstNote]), "x"))), seq: n, fragment: "§5.6 rule 1"},
		{name: "retraction naming itself", entries: chain(fx.origin, es, app{k: cur, f: func(x [][]byte) []byte { return retractPayload("poster", int64(len(x)), h, "x") }}), seq: n, fragment: "§5.6 rule 1"},
		{name: "retraction naming a later record", entries: with(string(retractPayload("poster", n+5, h, "x"))), seq: n, fragment: "§5.6 rule 1"},
		{name: "retracts with an extra member", entries: with(`{"v":1,"kind":"retract","asset":"poster","by":"human","retracts":{"seq":` + fmt.Sprint(afterRot) + `,"hash":"` + h + `","why":"x"},"why":"x"}`), seq: n, fragment: "§5.4 rule 2"},
		{name: "retracts without hash", entries: with(`{"v":1,"kind":"retract","asset":"poster","by":"human","retracts":{"seq":` + fmt.Sprint(afterRot) + `},"why":"x"}`), seq: n, fragment: "required"},
		{name: "retracts.hash in uppercase", entries: with(string(retractPayload("poster", afterRot, strings.ToUpper(h), "x"))), seq: n, fragment: "lowercase hex"},
		{name: "retracts.hash of 63 digits", entries: with(string(retractPayload("poster", afterRot, h[:63], "x"))), seq: n, fragment: "lowercase hex"},
		{name: "retracts.seq as a string", entries: with(`{"v":1,"kind":"retract","asset":"poster","by":"human","retracts":{"seq":"` + fmt.Sprint(afterRot) + `","hash":"` + h + `"},"why":"x"}`), seq: n, fragment: "must be a number"},
		{name: "retracts.seq negative", entries: with(`{"v":1,"kind":"retract","asset":"poster","by":"human","retracts":{"seq":-1,"hash":"` + h + `"},"why":"x"}`), seq: n, fragment: "§5.4 rule 3"},
		{name: "retracts empty", entries: with(`{"v":1,"kind":"retract","asset":"poster","by":"human","retracts":{},"why":"x"}`), seq: n, fragment: "§5.4 rule 3"},
		{name: "retracts with escaped member names", entries: with(`{"v":1,"kind":"retract","asset":"poster","by":"human","retracts":{"s\u0065q":` + fmt.Sprint(afterRot) + `,"h\u0061sh":"` + h + `"},"why":"x"}`), ok: true},
		{name: "retract with a note", entries: with(`{"v":1,"kind":"retract","asset":"poster","by":"human","retracts":{"seq":` + fmt.Sprint(afterRot) + `,"hash":"` + h + `"},"why":"x","note":"n"}`), seq: n, fragment: "kinds table"},
		{name: "retract without why", entries: with(`{"v":1,"kind":"retract","asset":"poster","by":"human","retracts":{"seq":` + fmt.Sprint(afterRot) + `,"hash":"` + h + `"}}`), seq: n, fragment: "required"},
		{name: "retract with an empty why", entries: with(string(retractPayload("poster", afterRot, h, ""))), seq: n, fragment: "§5.4 rule 3"},
		{name: "retract by ai", entries: with(strings.Replace(string(good), `"by":"human"`, `"by":"ai"`, 1)), seq: n, fragment: "§5.1"},
		{name: "retract by unknown", entries: with(strings.Replace(string(good), `"by":"human"`, `"by":"unknown"`, 1)), seq: n, fragment: "§5.1"},
		{name: "retract without an asset", entries: with(strings.Replace(string(good), `"asset":"poster",`, ``, 1)), seq: n, fragment: "required"},
		{name: "retraction of a record before its asset", entries: chain(fx.origin, es, app{k: cur, p: retractPayload("nope", afterRot, h, "x")}), seq: n, fragment: "§5.5"},
	}
	runLedgerCases(t, fx, cases)
}

// TestNewKindsAndValues: the kinds table's new rows and fields, §5.4 rule
// 3's empty values, §5's lengths and white space, one size per SHA-256.
func TestNewKindsAndValues(t *testing.T) {
	t.Parallel()
	fx := getFixture(t)
	es := fx.entries
	n := int64(len(es))
	cur := fx.currentKey()
	_, fresh, _ := ed25519.GenerateKey(rand.Reader)
	fill, lettering := fx.refOf(t, "fill.png"), fx.refOf(t, "lettering.png")
	fillSHA, fillSize := fx.shaOf(t, "fill.png")
	with := func(ps ...string) [][]byte {
		out := es
		for _, p := range ps {
			out = appendEntry(fx.origin, out, cur, []byte(p), time.Second)
		}
		return out
	}
	p := func(body string) string { return `{"v":1,` + body + `}` }
	poster := `"asset":"poster",`
	fileStep := func(by, extra string) string {
		return p(`"kind":"file",` + poster + `"by":"` + by + `","file":` + fill + extra)
	}
	edit := func(by, extra string) string {
		return p(`"kind":"edit",` + poster + `"by":"` + by + `","before":` + lettering + `,"after":` + fill + extra)
	}
	input := func(extra string) string {
		return p(`"kind":"input",` + poster + `"by":"human","file":` + lettering + `,"permission":"own"` + extra)
	}
	prompt := func(extra string) string {
		return p(`"kind":"prompt",` + poster + `"by":"human","text":"t"` + extra)
	}
	note := func(text string) string { return p(`"kind":"note",` + poster + `"by":"human","text":"` + text + `"`) }
	sized := func(size int) string {
		return fmt.Sprintf(`{"name":"fill.png","sha256":%q,"size":%d}`, fillSHA, size)
	}
	x := func(n int) string { return strings.Repeat("x", n) }
	cases := []ledgerCase{
		{name: "file by unknown with tool and note", entries: with(fileStep("unknown", `,"tool":"finder","note":"found on the desktop"`)), ok: true},
		{name: "file with captured", entries: with(fileStep("unknown", `,"captured":{"from":"xmp"}`)), ok: true},
		{name: "file by human", entries: with(fileStep("human", "")), seq: n, fragment: "§5.1"},
		{name: "file by ai", entries: with(fileStep("ai", "")), seq: n, fragment: "§5.1"},
		{name: "file without by", entries: with(p(`"kind":"file",` + poster + `"file":` + fill)), seq: n, fragment: "required"},
		{name: "file with in", entries: with(fileStep("unknown", `,"in":[`+lettering+`]`)), seq: n, fragment: "kinds table"},
		{name: "file with permission", entries: with(fileStep("unknown", `,"permission":"own"`)), seq: n, fragment: "kinds table"},
		{name: "file with an empty tool", entries: with(fileStep("unknown", `,"tool":""`)), seq: n, fragment: "§5.4 rule 3"},
		{name: "file without its file", entries: with(p(`"kind":"file",` + poster + `"by":"unknown"`)), seq: n, fragment: "required"},
		{name: "edit by unknown", entries: with(edit("unknown", "")), ok: true},
		{name: "edit by both with in, model, text and params", entries: with(edit("both", `,"in":[`+lettering+`],"tool":"photoshop","model":"firefly","text":"snow","params":{"strength":"0.4"}`)), ok: true},
		{name: "edit with an empty in", entries: with(edit("human", `,"in":[]`)), seq: n, fragment: "§5.4 rule 3"},
		{name: "edit with use", entries: with(edit("human", `,"use":"component"`)), seq: n, fragment: "kinds table"},
		{name: "edit with why", entries: with(edit("human", `,"why":"because"`)), seq: n, fragment: "kinds table"},
		{name: "input with use component", entries: with(input(`,"use":"component"`)), ok: true},
		{name: "input with use reference", entries: with(input(`,"use":"reference"`)), ok: true},
		{name: "input with use partly", entries: with(input(`,"use":"partly"`)), seq: n, fragment: "use"},
		{name: "input with an empty use", entries: with(input(`,"use":""`)), seq: n, fragment: "§5.4 rule 3"},
		{name: "sketch with use", entries: with(p(`"kind":"sketch",` + poster + `"by":"human","file":` + lettering + `,"use":"component"`)), seq: n, fragment: "kinds table"},
		{name: "asset-set with the assignment basis", entries: with(p(`"kind":"asset-set",` + poster + `"by":"human","basis":"assignment"`)), ok: true},
		{name: "asset-set with the basis transfer", entries: with(p(`"kind":"asset-set",` + poster + `"by":"human","basis":"transfer"`)), seq: n, fragment: "basis"},
		{name: "note by unknown", entries: with(strings.Replace(note("n"), `"by":"human"`, `"by":"unknown"`, 1)), seq: n, fragment: "§5.1"},
		{name: "prompt by unknown", entries: with(strings.Replace(prompt(""), `"by":"human"`, `"by":"unknown"`, 1)), seq: n, fragment: "§5.1"},
		{name: "generate by unknown", entries: with(p(`"kind":"generate",` + poster + `"by":"unknown","tool":"t","out":[` + fill + `]`)), seq: n, fragment: "§5.1"},
		{name: "disclose dated in the future", entries: with(p(`"kind":"disclose",` + poster + `"by":"human","date":"2099-01-01"`)), ok: true},
		// One size per SHA-256 (§5).
		{name: "two sizes for one SHA-256", entries: with(p(`"kind":"final",` + poster + `"by":"human","file":` + sized(fillSize+1))), seq: n, fragment: "one SHA-256 is one file"},
		{name: "two sizes for one SHA-256 in one step", entries: with(p(`"kind":"generate",` + poster + `"by":"ai","tool":"t","out":[` + sized(fillSize) + `,` + sized(fillSize+1) + `]`)), seq: n, fragment: "one SHA-256 is one file"},
		{name: "one SHA-256 under another name and type", entries: with(p(`"kind":"final",` + poster + `"by":"human","file":{"name":"renamed.bin","sha256":"` + fillSHA + `","size":` + fmt.Sprint(fillSize) + `,"type":"application/octet-stream"}`)), ok: true},
		{name: "select whose chosen file has another size than its candidate", entries: with(p(`"kind":"select",` + poster + `"by":"human","file":` + sized(fillSize+1) + `,"from":[` + fill + `,` + lettering + `],"rejected":[` + lettering + `]`)), seq: n, fragment: "one SHA-256 is one file"},
		// §5.2: each rejected element equals its element of from in all four fields.
		{name: "rejected element with another type", entries: with(p(`"kind":"select",` + poster + `"by":"human","file":` + fill + `,"from":[` + fill + `,` + strings.Replace(lettering, `}`, `,"type":"image/png"}`, 1) + `],"rejected":[` + strings.Replace(lettering, `}`, `,"type":"image/gif"}`, 1) + `]`)), seq: n, fragment: "§5.2"},
		{name: "rejected element without the type its candidate has", entries: with(p(`"kind":"select",` + poster + `"by":"human","file":` + fill + `,"from":[` + fill + `,` + strings.Replace(lettering, `}`, `,"type":"image/png"}`, 1) + `],"rejected":[` + lettering + `]`)), seq: n, fragment: "§5.2"},
		{name: "select whose from holds the chosen file twice", entries: with(p(`"kind":"select",` + poster + `"by":"human","file":` + fill + `,"from":[` + fill + `,` + lettering + `,` + fill + `],"rejected":[` + lettering + `]`)), ok: true},
		{name: "select whose rejected is out of the order of from", entries: with(p(`"kind":"select",` + poster + `"by":"human","file":` + fill + `,"from":[` + lettering + `,` + fill + `,` + fx.refOf(t, "ref.png") + `],"rejected":[` + fx.refOf(t, "ref.png") + `,` + lettering + `]`)), seq: n, fragment: "§5.2"},
		{name: "edit whose before and after are the same file", entries: with(p(`"kind":"edit",` + poster + `"by":"human","before":` + fill + `,"after":` + fill)), ok: true},
		{name: "select of two different files", entries: with(p(`"kind":"select",` + poster + `"by":"human","file":` + fill + `,"from":[` + fill + `,` + lettering + `],"rejected":[` + lettering + `]`)), ok: true},
		// §5.4 rule 3: nothing empty anywhere, but a file ref's name and a params value.
		{name: "empty captured.fields", entries: with(prompt(`,"captured":{"from":"x","fields":{}}`)), seq: n, fragment: "§5.4 rule 3"},
		{name: "empty captured.fields value", entries: with(prompt(`,"captured":{"from":"x","fields":{"a":""}}`)), seq: n, fragment: "§5.4 rule 3"},
		{name: "empty captured.claimed_time", entries: with(prompt(`,"captured":{"from":"x","claimed_time":""}`)), seq: n, fragment: "§5.4 rule 3"},
		{name: "empty file ref name", entries: with(p(`"kind":"final",` + poster + `"by":"human","file":` + strings.Replace(fill, `"name":"fill.png"`, `"name":""`, 1))), ok: true},
		{name: "empty params value", entries: with(prompt(`,"params":{"negative":""}`)), ok: true},
		{name: "empty email", entries: appendEntry(fx.origin, es, fresh, bytes.Replace(identityPayload(t, fresh, "Bob"), []byte(`"name":"Bob"`), []byte(`"name":"Bob","email":""`), 1), time.Second), seq: n, fragment: "§5.4 rule 3"},
		// Lengths in bytes of UTF-8 (§5).
		{name: "params name of 256 bytes", entries: with(prompt(`,"params":{"` + x(256) + `":"v"}`)), ok: true},
		{name: "params name of 257 bytes", entries: with(prompt(`,"params":{"` + x(257) + `":"v"}`)), seq: n, fragment: "more than 256"},
		{name: "params value of 65536 bytes", entries: with(prompt(`,"params":{"a":"` + x(65536) + `"}`)), ok: true},
		{name: "params value of 65537 bytes", entries: with(prompt(`,"params":{"a":"` + x(65537) + `"}`)), seq: n, fragment: "more than 65536"},
		{name: "captured.fields name of 257 bytes", entries: with(prompt(`,"captured":{"from":"x","fields":{"` + x(257) + `":"v"}}`)), seq: n, fragment: "more than 256"},
		{name: "captured.fields value of 65537 bytes", entries: with(prompt(`,"captured":{"from":"x","fields":{"a":"` + x(65537) + `"}}`)), seq: n, fragment: "more than 65536"},
		{name: "captured.from of 4096 bytes", entries: with(prompt(`,"captured":{"from":"` + x(4096) + `"}`)), ok: true},
		{name: "captured.from of 4097 bytes", entries: with(prompt(`,"captured":{"from":"` + x(4097) + `"}`)), seq: n, fragment: "more than 4096"},
		{name: "file ref type of 256 bytes", entries: with(p(`"kind":"final",` + poster + `"by":"human","file":` + strings.Replace(fill, `}`, `,"type":"`+x(256)+`"}`, 1))), ok: true},
		{name: "file ref type of 257 bytes", entries: with(p(`"kind":"final",` + poster + `"by":"human","file":` + strings.Replace(fill, `}`, `,"type":"`+x(257)+`"}`, 1))), seq: n, fragment: "more than 256"},
		{name: "identity name of 4097 bytes", entries: appendEntry(fx.origin, es, fresh, identityPayload(t, fresh, x(4097)), time.Second), seq: n, fragment: "more than 4096"},
		{name: "identity email of 4097 bytes", entries: appendEntry(fx.origin, es, fresh, bytes.Replace(identityPayload(t, fresh, "Bob"), []byte(`"name":"Bob"`), []byte(`"name":"Bob","email":"`+x(4097)+`"`), 1), time.Second), seq: n, fragment: "more than 4096"},
		{name: "input source of 4097 bytes", entries: with(input(`,"source":"` + x(4097) + `"`)), seq: n, fragment: "more than 4096"},
		{name: "input license of 4097 bytes", entries: with(input(`,"license":"` + x(4097) + `"`)), seq: n, fragment: "more than 4096"},
		{name: "edit model of 4097 bytes", entries: with(edit("both", `,"model":"`+x(4097)+`"`)), seq: n, fragment: "more than 4096"},
		{name: "asset-set contract of 4097 bytes", entries: with(p(`"kind":"asset-set",` + poster + `"by":"human","contract":"` + x(4097) + `"`)), seq: n, fragment: "more than 4096"},
		{name: "disclose where of 4097 bytes", entries: with(p(`"kind":"disclose",` + poster + `"by":"human","date":"2026-01-01","where":"` + x(4097) + `"`)), seq: n, fragment: "more than 4096"},
		{name: "captured.claimed_time of 4097 bytes", entries: with(prompt(`,"captured":{"from":"x","claimed_time":"2026-01-01T00:00:00` + "." + strings.Repeat("1", 4076) + `Z"}`)), seq: n, fragment: "more than 4096"},
		{name: "file ref name of 4097 bytes", entries: with(p(`"kind":"final",` + poster + `"by":"human","file":` + strings.Replace(fill, `"name":"fill.png"`, `"name":"`+x(4097)+`"`, 1))), seq: n, fragment: "more than 4096"},
		{name: "why of 262144 bytes of two-byte characters", entries: with(string(retractPayload("poster", fx.aiEdit, leafHex(es[fx.aiEdit]), strings.Repeat("é", 131072)))), ok: true},
		{name: "why of 262144 bytes written as \\u escapes", entries: with(`{"v":1,"kind":"retract","asset":"poster","by":"human","retracts":{"seq":` + fmt.Sprint(fx.aiEdit) +
			`,"hash":"` + leafHex(es[fx.aiEdit]) + `"},"why":"` + strings.Repeat(`\u00e9`, 131072) + `"}`), ok: true},
		{name: "why of 262146 bytes of two-byte characters", entries: with(string(retractPayload("poster", fx.aiEdit, leafHex(es[fx.aiEdit]), strings.Repeat("é", 131073)))), seq: n, fragment: "more than 262144"},
		// "Not only white space": some character outside Unicode's White_Space.
		{name: "text only NEXT LINE (U+0085)", entries: with(note(`\u0085`)), seq: n, fragment: "white space"},
		{name: "text only IDEOGRAPHIC SPACE (U+3000)", entries: with(note("\u3000")), seq: n, fragment: "white space"},
		{name: "text only LINE SEPARATOR (U+2028)", entries: with(note("\u2028")), seq: n, fragment: "white space"},
		{name: "text only MONGOLIAN VOWEL SEPARATOR (U+180E)", entries: with(note("\u180e")), ok: true},
		{name: "text only BYTE ORDER MARK (U+FEFF)", entries: with(note(`\ufeff`)), ok: true},
		// Member names compared after their escapes are decoded.
		{name: "a member name escaped and a duplicate of it", entries: with(p(`"kind":"note",` + poster + `"by":"human","text":"a","t\u0065xt":"b"`)), seq: n, fragment: "§5.4 rule 2"},
		{name: "v written with an escape-free 1 and white space", entries: with(`{ "v" : 1 , "kind":"note",` + poster + `"by":"human","text":"a"}`), ok: true},
		{name: "identity key in base64 with an unused bit set", entries: appendEntry(fx.origin, es, fresh, unusedBit(t, identityPayload(t, fresh, "Bob"), fresh), time.Second), seq: n, fragment: "canonical base64"},
		{name: "v beyond 2^63 − 1", entries: with(`{"v":9223372036854775808,"kind":"note",` + poster + `"by":"human","text":"a"}`), seq: n, fragment: "2^63"},
	}
	runLedgerCases(t, fx, cases)
}

// unusedBit sets an unused bit of the key's base64 (32 bytes: 44
// characters, the last before "=" carrying 2 unused bits).
func unusedBit(t testing.TB, payload []byte, k ed25519.PrivateKey) []byte {
	enc := b64e(k.Public().(ed25519.PublicKey))
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	c := strings.IndexByte(alphabet, enc[42])
	bad := enc[:42] + string(alphabet[c|1]) + "="
	if dec, err := base64.StdEncoding.DecodeString(bad); err != nil || !bytes.Equal(dec, k.Public().(ed25519.PublicKey)) {
		t.Fatalf("the lax decoding of %s is not the key", bad)
	}
	return bytes.Replace(payload, []byte(`"key":"`+enc+`"`), []byte(`"key":"`+bad+`"`), 1)
}

// o2der makes a certificate whose DER length is not a multiple of 3, so
// that its base64 ends in padding with unused bits.
func o2der(t testing.TB, o certOpts) []byte {
	for i := 0; ; i++ {
		der := makeCertWith(t, o)
		if len(der)%3 != 0 {
			return der
		}
		o.cns = []string{o.cns[0]}
		if i > 20 {
			t.Fatal("no certificate of a length with padding")
		}
	}
}

// certUnusedBit is an identity payload for pub whose cert's base64 has an
// unused bit set before its padding.
func certUnusedBit(t testing.TB, pub, der []byte) []byte {
	enc := b64e(der)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	i := strings.IndexByte(enc, '=') - 1
	c := strings.IndexByte(alphabet, enc[i])
	bad := enc[:i] + string(alphabet[c|1]) + enc[i+1:]
	if dec, err := base64.StdEncoding.DecodeString(bad); err != nil || !bytes.Equal(dec, der) || bad == enc {
		t.Fatalf("the lax decoding of the cert is not the cert")
	}
	return []byte(fmt.Sprintf(`{"v":1,"kind":"identity","name":"Bob","key":%q,"cert":%q}`, b64e(pub), bad))
}

// certOpts describe a certificate for §5.3's binding tests.
type certOpts struct {
	cns       []string
	uris      []string
	curve     elliptic.Curve // nil: P-256
	sigAlg    x509.SignatureAlgorithm
	otherKey  bool     // signed by another key than its own
	byCA      bool     // issued by a CA: issuer differs from subject
	issuer    string   // signed by its own key under this issuer name
	expired   bool     // valid from 2000 to 2001
	rawURIs   []string // URIs written byte for byte into the subjectAltName (net/url would lower-case a scheme)
	padding   int      // bytes of an extra, non-critical extension
	ed25519PK bool     // an Ed25519 certificate key
}

func makeCertWith(t testing.TB, o certOpts) []byte {
	curve := o.curve
	if curve == nil {
		curve = elliptic.P256()
	}
	k, _ := ecdsa.GenerateKey(curve, rand.Reader)
	var uris []*url.URL
	for _, s := range o.uris {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		uris = append(uris, u)
	}
	var subject pkix.Name
	for _, cn := range o.cns {
		subject.ExtraNames = append(subject.ExtraNames, pkix.AttributeTypeAndValue{Type: oidCommonName, Value: cn})
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: subject,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), URIs: uris, SignatureAlgorithm: o.sigAlg}
	if len(o.rawURIs) > 0 {
		var names []asn1.RawValue
		for _, u := range o.rawURIs {
			names = append(names, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 6, Bytes: []byte(u)})
		}
		v, err := asn1.Marshal(names)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.URIs = nil
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: oidSAN, Value: v})
	}
	if o.padding > 0 {
		v, _ := asn1.Marshal(make([]byte, o.padding))
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 7}, Value: v})
	}
	if o.expired {
		tmpl.NotBefore, tmpl.NotAfter = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	var pub any = &k.PublicKey
	if o.ed25519PK {
		epub, _, _ := ed25519.GenerateKey(rand.Reader)
		pub = epub
	}
	parent, signer := tmpl, crypto.Signer(k)
	if o.otherKey || o.byCA {
		ok, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		signer = ok
	}
	if o.issuer != "" {
		parent = &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: o.issuer}}
	}
	if o.byCA {
		parent = &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Some CA"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestCertBinding is §5.3's binding of cert to the step's key and name,
// for identity and rotation records.
func TestCertBinding(t *testing.T) {
	t.Parallel()
	fx := getFixture(t)
	es := fx.entries
	n := int64(len(es))
	cur := fx.currentKey()
	_, bob, _ := ed25519.GenerateKey(rand.Reader)
	pub := bob.Public().(ed25519.PublicKey)
	urn := certURIPrefix + hex.EncodeToString(pub)
	otherURN := certURIPrefix + hex.EncodeToString(cur.Public().(ed25519.PublicKey))
	id := func(o certOpts) [][]byte {
		return appendEntry(fx.origin, es, bob, identityPayloadCert(pub, makeCertWith(t, o), "Bob"), time.Second)
	}
	rot := func(o certOpts, name string) [][]byte {
		p := fmt.Sprintf(`{"v":1,"kind":"rotate","name":%q,"key":%q,"cert":%q}`, name, b64e(pub), b64e(makeCertWith(t, o)))
		return appendEntry(fx.origin, es, cur, []byte(p), time.Second)
	}
	good := certOpts{cns: []string{"Bob"}, uris: []string{urn}}
	mod := func(f func(*certOpts)) certOpts { o := good; f(&o); return o }
	cases := []ledgerCase{
		{name: "identity with a bound certificate", entries: id(good), ok: true},
		{name: "identity certificate with another URI beside the cairn one", entries: id(mod(func(o *certOpts) { o.uris = []string{"https://example.com/bob", urn} })), ok: true},
		{name: "identity certificate with another common name", entries: id(mod(func(o *certOpts) { o.cns = []string{"Robert"} })), seq: n, fragment: "common name"},
		{name: "identity certificate with a common name differing in case", entries: id(mod(func(o *certOpts) { o.cns = []string{"bob"} })), seq: n, fragment: "common name"},
		{name: "identity certificate without a common name", entries: id(mod(func(o *certOpts) { o.cns = nil })), seq: n, fragment: "common name"},
		{name: "identity certificate with two common names", entries: id(mod(func(o *certOpts) { o.cns = []string{"Bob", "Bob"} })), seq: n, fragment: "common names"},
		{name: "identity certificate with two common names, the step's name first", entries: id(mod(func(o *certOpts) { o.cns = []string{"Bob", "Robert"} })), seq: n, fragment: "common names"},
		{name: "identity certificate with two common names, the step's name last", entries: id(mod(func(o *certOpts) { o.cns = []string{"Robert", "Bob"} })), seq: n, fragment: "common names"},
		{name: "identity certificate of a P-384 key", entries: id(mod(func(o *certOpts) { o.curve = elliptic.P384() })), seq: n, fragment: "P-256"},
		{name: "identity certificate of an Ed25519 key", entries: id(mod(func(o *certOpts) { o.ed25519PK = true })), seq: n, fragment: "P-256"},
		{name: "identity certificate signed with ECDSA-SHA384", entries: id(mod(func(o *certOpts) { o.sigAlg = x509.ECDSAWithSHA384 })), seq: n, fragment: "ECDSA-SHA256"},
		{name: "identity certificate signed by another key", entries: id(mod(func(o *certOpts) { o.otherKey = true })), seq: n, fragment: "signed by its own key"},
		{name: "identity certificate issued by a CA", entries: id(mod(func(o *certOpts) { o.byCA = true })), seq: n, fragment: "signed by its own key"},
		// §5.3 defines self-signed as "signed by that same key": the issuer
		// name is not compared with the subject (see the report).
		{name: "identity certificate signed by its own key under another issuer name", entries: id(mod(func(o *certOpts) { o.issuer = "Some CA" })), ok: true},
		{name: "identity certificate with two Ed25519 URIs", entries: id(mod(func(o *certOpts) { o.uris = []string{urn, otherURN} })), seq: n, fragment: "not exactly one"},
		{name: "identity certificate with its URI twice", entries: id(mod(func(o *certOpts) { o.uris = []string{urn, urn} })), seq: n, fragment: "not exactly one"},
		{name: "identity certificate naming another key", entries: id(mod(func(o *certOpts) { o.uris = []string{otherURN} })), seq: n, fragment: "is not"},
		{name: "identity certificate with the key in uppercase hex", entries: id(mod(func(o *certOpts) { o.uris = []string{certURIPrefix + strings.ToUpper(hex.EncodeToString(pub))} })), seq: n, fragment: "is not"},
		{name: "identity certificate with a suffix after the key", entries: id(mod(func(o *certOpts) { o.uris = []string{urn + "0"} })), seq: n, fragment: "is not"},
		{name: "identity certificate without an Ed25519 URI", entries: id(mod(func(o *certOpts) { o.uris = []string{"https://example.com/bob"} })), seq: n, fragment: "not exactly one"},
		// "exactly one cairn URI": urn:cairn: is compared without case when
		// counting (RFC 3986, RFC 8141), and the one URI byte for byte.
		{name: "identity certificate with a second Ed25519 URI in an upper-case scheme", entries: id(mod(func(o *certOpts) {
			o.rawURIs = []string{urn, "URN:CAIRN:ed25519:" + hex.EncodeToString(cur.Public().(ed25519.PublicKey))}
		})), seq: n, fragment: "not exactly one"},
		{name: "identity certificate with a second Ed25519 URI in an upper-case scheme only", entries: id(mod(func(o *certOpts) {
			o.rawURIs = []string{urn, "URN:cairn:ed25519:" + hex.EncodeToString(cur.Public().(ed25519.PublicKey))}
		})), seq: n, fragment: "not exactly one"},
		{name: "identity certificate whose one Ed25519 URI has an upper-case scheme and namespace", entries: id(mod(func(o *certOpts) { o.rawURIs = []string{"URN:CAIRN:ed25519:" + hex.EncodeToString(pub)} })), seq: n, fragment: "is not"},
		{name: "identity certificate with a second cairn URI of another kind", entries: id(mod(func(o *certOpts) { o.rawURIs = []string{urn, "urn:cairn:p256:00"} })), seq: n, fragment: "not exactly one"},
		{name: "identity certificate long expired", entries: id(mod(func(o *certOpts) { o.expired = true })), ok: true},
		{name: "identity certificate whose common name is the name in another Unicode normal form", entries: appendEntry(fx.origin, es, bob,
			identityPayloadCert(pub, makeCertWith(t, certOpts{cns: []string{"Zoé"}, uris: []string{urn}}), "Zoé"), time.Second), seq: n, fragment: "common name"},
		{name: "identity certificate in base64 with an unused bit set", entries: appendEntry(fx.origin, es, bob, certUnusedBit(t, pub, o2der(t, good)), time.Second), seq: n, fragment: "canonical base64"},
		{name: "identity certificate whose base64 is longer than 4096 bytes", entries: id(mod(func(o *certOpts) { o.padding = 3200 })), seq: n, fragment: "more than 4096"},
		{name: "identity certificate whose base64 is just under 4096 bytes", entries: id(mod(func(o *certOpts) { o.padding = 2500 })), ok: true},
		{name: "rotation with a bound certificate", entries: rot(good, "Bob"), ok: true},
		{name: "rotation certificate with another common name", entries: rot(good, "Ada Lovelace"), seq: n, fragment: "common name"},
		{name: "rotation certificate of a P-384 key", entries: rot(mod(func(o *certOpts) { o.curve = elliptic.P384() }), "Bob"), seq: n, fragment: "P-256"},
		{name: "rotation certificate with two Ed25519 URIs", entries: rot(mod(func(o *certOpts) { o.uris = []string{urn, otherURN} }), "Bob"), seq: n, fragment: "not exactly one"},
	}
	runLedgerCases(t, fx, cases)
}

// TestCheckpointLines is §3: "no signature line by a key of the ledger (any
// key its records introduced, retired ones included) fails to verify";
// lines by keys the ledger does not know are ignored.
func TestCheckpointLines(t *testing.T) {
	t.Parallel()
	fx := getFixture(t)
	es := fx.entries
	n := len(es)
	r := int(fx.rotation)
	old, cur := fx.oldKey(), fx.currentKey()
	line := func(name string, blob []byte) []byte {
		return []byte("— " + name + " " + base64.StdEncoding.EncodeToString(blob) + "\n")
	}
	badBy := func(k ed25519.PrivateKey) []byte {
		return append(noteKeyHash(fx.origin, k.Public().(ed25519.PublicKey)), make([]byte, 64)...)
	}
	_, stranger, _ := ed25519.GenerateKey(rand.Reader)
	type cpCase struct {
		name     string
		note     []byte
		ok       bool
		fragment string
	}
	cat := func(a []byte, b ...[]byte) []byte { return append(append([]byte{}, a...), bytes.Join(b, nil)...) }
	full := signCheckpoint(fx.origin, es, n, cur)
	early := signCheckpoint(fx.origin, es, r, old)
	// A line that verifies, by the retired key, for a size it may no longer sign.
	oldLine := twoLines(fx.origin, es, n, cur, old)
	cases := []cpCase{
		{"a bad line by the retired key beside a valid one", cat(full, line(fx.origin, badBy(old))), false, "does not verify"},
		{"a bad line by the current key, introduced after the checkpoint's size", cat(early, line(fx.origin, badBy(cur))), false, "does not verify"},
		{"a line by a known key of 4 + 63 bytes", cat(full, line(fx.origin, badBy(old)[:67])), false, "§3"},
		{"a bad line by a key the ledger does not know", cat(full, line(fx.origin, badBy(stranger))), true, ""},
		{"a bad line under another name", cat(full, line("witness.example/w", append(noteKeyHash("witness.example/w", old.Public().(ed25519.PublicKey)), make([]byte, 72)...))), true, ""},
		{"a valid line by the retired key, which may not sign this size, beside a valid one", oldLine, true, ""},
		{"only a valid line by the retired key, which may not sign this size", signCheckpoint(fx.origin, es, n, old), false, "may not sign"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			v := Ledger(fx.origin, es, [][]byte{c.note})
			if c.ok {
				wantOK(t, v)
			} else {
				wantFail(t, v, -1, c.fragment)
			}
			cp, err := parseCheckpoint(c.note)
			if err != nil {
				t.Fatal(err)
			}
			var tarb []byte
			if cp.size == int64(n) {
				files := []archiveFile{{Name: "records", Data: bytes.Join(es, nil)},
					{Name: fmt.Sprintf("checkpoints/%020d.note", n), Data: c.note}}
				files = append(files, fx.namedFiles(es)...)
				root := Root(es)
				tarb = writeArchive(t, fx.origin, n, root[:], files, nil)
			} else {
				tarb = fx.ledgerArchive(t, es, cur, map[int][]byte{int(cp.size): c.note})
			}
			ok, out := fx.cairnArchive(t, tarb)
			compare(t, "checkpoint "+c.name, v, ok, out)
		})
	}
}

// TestArchiveNewRules is §8 rule 2's group names, end blocks and member
// order, rule 5's witness line and rule 6's files no step names.
func TestArchiveNewRules(t *testing.T) {
	t.Parallel()
	fx := getFixture(t)
	root := Root(fx.entries)
	n := len(fx.entries)
	files := func() []archiveFile { return fx.archiveFiles(nil) }
	build := func(fs []archiveFile, edit func(map[string]any)) []byte {
		return writeArchive(t, fx.origin, n, root[:], fs, edit)
	}
	with := func(f func([]archiveFile) []archiveFile) []byte { return build(f(files()), nil) }
	at := func(fs []archiveFile, prefix string) int {
		for i, f := range fs {
			if strings.HasPrefix(f.Name, prefix) {
				return i
			}
		}
		t.Fatalf("no member %s", prefix)
		return -1
	}
	move := func(fs []archiveFile, from, to int) []archiveFile {
		f := fs[from]
		out := append(append([]archiveFile{}, fs[:from]...), fs[from+1:]...)
		return append(out[:to], append([]archiveFile{f}, out[to:]...)...)
	}
	cosigned := func(edit func(note string) string) []byte {
		return with(func(fs []archiveFile) []archiveFile {
			i := at(fs, "cosignatures/")
			fs[i].Data = []byte(edit(string(fs[i].Data)))
			return fs
		})
	}
	witnessLine := func(note string) (string, string) {
		lines := strings.Split(strings.TrimSuffix(note, "\n"), "\n")
		return lines[len(lines)-1], strings.Fields(lines[len(lines)-1])[1]
	}
	genuine := fx.tar
	// The retraction of a record whose leaf hash is wrong, in the archive's records.
	es := fx.entries
	afterRot := int64(lastIndex(es, `"text":"after the rotation"`))
	badRetract := chain(fx.origin, es, app{k: fx.currentKey(), p: retractPayload("poster", afterRot, leafHex(es[0]), "x")})
	cases := []archiveCase{
		{name: "a member's group name root", tar: with(func(fs []archiveFile) []archiveFile { fs[0].Group = "root"; return fs }), seq: -1, fragment: "group name"},
		{name: "a file member's group name staff", tar: with(func(fs []archiveFile) []archiveFile { fs[at(fs, "files/")].Group = "staff"; return fs }), seq: -1, fragment: "group name"},
		{name: "the manifest's group name root", tar: patchManifestGroup(t, genuine), seq: -1, fragment: "manifest.json: group name"},
		{name: "without its two end blocks", tar: genuine[:len(genuine)-1024], seq: -1, fragment: "zero blocks"},
		{name: "with one end block only", tar: genuine[:len(genuine)-512], seq: -1, fragment: "zero block"},
		{name: "modification times that differ", tar: mtimes(t, fx), ok: true},
		{name: "file members out of order", tar: with(func(fs []archiveFile) []archiveFile {
			i := at(fs, "files/")
			fs[i], fs[len(fs)-1] = fs[len(fs)-1], fs[i]
			return fs
		}), seq: -1, fragment: "ascending hash"},
		{name: "checkpoints and timestamps interleaved", tar: with(func(fs []archiveFile) []archiveFile {
			return move(fs, at(fs, "timestamps/"), at(fs, "checkpoints/")+1)
		}), seq: -1, fragment: "after the timestamp members"},
		{name: "a cosignature before the timestamps", tar: with(func(fs []archiveFile) []archiveFile {
			return move(fs, at(fs, "cosignatures/"), at(fs, "timestamps/"))
		}), seq: -1, fragment: "after the cosignature members"},
		{name: "timestamps in descending size", tar: with(func(fs []archiveFile) []archiveFile {
			i := at(fs, "timestamps/")
			fs[i], fs[i+1] = fs[i+1], fs[i]
			return fs
		}), seq: -1, fragment: "ascending size"},
		{name: "a file before the cosignatures", tar: with(func(fs []archiveFile) []archiveFile {
			return move(fs, at(fs, "files/"), at(fs, "cosignatures/"))
		}), seq: -1, fragment: "after the file members"},
		{name: "an unnamed file (no step names it)", tar: with(func(fs []archiveFile) []archiveFile {
			d := []byte("nobody names me")
			h := sha256.Sum256(d)
			return insertFile(fs, archiveFile{Name: fmt.Sprintf("files/%x", h), Data: d})
		}), seq: -1, fragment: "no step names this file"},
		{name: "a file named only by a retracted step, kept", tar: retractedFileArchive(t, fx, true), ok: true},
		{name: "a file named only by a retracted step, left out", tar: retractedFileArchive(t, fx, false), seq: int64(n), fragment: "not in the archive"},
		{name: "a file member whose tar name is empty", tar: renameInTar(t, fx, "files/", ""), seq: -1, fragment: "§8 rule 2"},
		{name: "a file member named by something other than its hash", tar: with(func(fs []archiveFile) []archiveFile {
			fs[len(fs)-1].Name = "files/poster.png"
			return fs
		}), seq: -1, fragment: "not named files/<its sha256>"},
		{name: "tree_size on a file member", tar: build(files(), func(m map[string]any) {
			l := m["members"].([]any)
			obj(l[len(l)-1])["tree_size"] = n
		}), seq: -1, fragment: "§5.4 rule 2"},
		{name: "witness on a timestamp member", tar: build(files(), func(m map[string]any) {
			for _, x := range m["members"].([]any) {
				if obj(x)["kind"] == "timestamp" {
					obj(x)["witness"] = "w2.example"
					return
				}
			}
		}), seq: -1, fragment: "§5.4 rule 2"},
		{name: "an empty witness name", tar: build(files(), func(m map[string]any) {
			for _, x := range m["members"].([]any) {
				if obj(x)["kind"] == "cosignature" {
					obj(x)["witness"] = ""
					return
				}
			}
		}), seq: -1, fragment: "§5.4 rule 3"},
		{name: "cosigned note without the witness's line", tar: cosigned(func(note string) string {
			l, _ := witnessLine(note)
			return strings.Replace(note, l+"\n", "", 1)
		}), seq: -1, fragment: "no line of witness"},
		{name: "cosigned note whose witness line is short", tar: cosigned(func(note string) string {
			l, w := witnessLine(note)
			blob, _ := base64.StdEncoding.DecodeString(strings.Fields(l)[2])
			return strings.Replace(note, l, "— "+w+" "+base64.StdEncoding.EncodeToString(blob[:68]), 1)
		}), seq: -1, fragment: "not 76"},
		{name: "cosigned note whose witness line is under another name", tar: cosigned(func(note string) string {
			l, w := witnessLine(note)
			return strings.Replace(note, l, strings.Replace(l, w, "other.example/w", 1), 1)
		}), seq: -1, fragment: "no line of witness"},
		// §8 rule 5 asks for the body and the witness's line only (see the report).
		{name: "cosigned note whose ledger line does not verify", tar: cosigned(func(note string) string {
			i := strings.Index(note, "— "+fx.origin+" ")
			j := i + len("— "+fx.origin+" ") + 10
			c := byte('A')
			if note[j] == 'A' {
				c = 'B'
			}
			return note[:j] + string(c) + note[j+1:]
		}), ok: true},
		{name: "two cosignatures of one witness for one size", tar: with(func(fs []archiveFile) []archiveFile {
			i := at(fs, "cosignatures/")
			dup := fs[i]
			dup.Name = strings.Replace(dup.Name, "-0.note", "-9.note", 1)
			// Renumber after the last cosignature of that size.
			j := i
			for j+1 < len(fs) && strings.HasPrefix(fs[j+1].Name, dup.Name[:len("cosignatures/")+20]) {
				j++
			}
			dup.Name = fmt.Sprintf("%s-%d.note", dup.Name[:len("cosignatures/")+20], j-i+1)
			return append(fs[:j+1], append([]archiveFile{dup}, fs[j+1:]...)...)
		}), seq: -1, fragment: "one per witness"},
		{name: "records with an invalid retraction", tar: fx.ledgerArchive(t, badRetract, fx.currentKey(), nil), seq: int64(n), fragment: "§5.6 rule 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			v := Archive(c.tar)
			if c.ok {
				wantOK(t, v)
			} else {
				wantFail(t, v, c.seq, c.fragment)
			}
			ok, out := fx.cairnArchive(t, c.tar)
			compare(t, "archive "+c.name, v, ok, out)
		})
	}
}

// retractedFileArchive is the fixture's records, then a sketch of a new
// file and its retraction: the file is still one a step names (§8 rule 6).
func retractedFileArchive(t testing.TB, fx *fixture, keep bool) []byte {
	d := []byte("a sketch recorded on the wrong asset")
	h := sha256.Sum256(d)
	ref := fmt.Sprintf(`{"name":"s.txt","sha256":"%x","size":%d}`, h, len(d))
	cur := fx.currentKey()
	es := chain(fx.origin, fx.entries,
		app{k: cur, p: []byte(`{"v":1,"kind":"sketch","asset":"poster","by":"human","file":` + ref + `}`)},
		app{k: cur, f: func(x [][]byte) []byte {
			i := int64(len(x) - 1)
			return retractPayload("poster", i, leafHex(x[i]), "wrong asset")
		}})
	files := []archiveFile{{Name: "records", Data: bytes.Join(es, nil)},
		{Name: fmt.Sprintf("checkpoints/%020d.note", len(es)), Data: signCheckpoint(fx.origin, es, len(es), cur)}}
	named := fx.namedFiles(es)
	if keep {
		named = insertFile(named, archiveFile{Name: fmt.Sprintf("files/%x", h), Data: d})
	}
	r := Root(es)
	return writeArchive(t, fx.origin, len(es), r[:], append(files, named...), nil)
}

// renameInTar rewrites the genuine archive with the first member whose
// name starts with prefix renamed in the tar only (the manifest keeps it).
func renameInTar(t testing.TB, fx *fixture, prefix, name string) []byte {
	var buf bytes.Buffer
	w := tarWriter(&buf)
	done := false
	for _, m := range fx.members {
		n := m.Name
		if !done && strings.HasPrefix(n, prefix) {
			n, done = name, true
		}
		w.add(t, n, m.Data, time.Unix(1800000000, 0))
	}
	w.close(t)
	return buf.Bytes()
}

// patchManifestGroup sets the manifest's tar group name to root in place.
func patchManifestGroup(t testing.TB, b []byte) []byte {
	out := append([]byte{}, b...)
	// The first header may be a pax header; patch the first regular one.
	pos := 0
	for out[pos+156] == 'x' {
		size, _ := octal(out[pos+124 : pos+136])
		pos += 512 + int((size+511)/512*512)
	}
	if cstr(out[pos:pos+100]) != "manifest.json" {
		t.Fatalf("the first member is %q", cstr(out[pos:pos+100]))
	}
	copy(out[pos+297:pos+329], make([]byte, 32))
	copy(out[pos+297:], "root")
	fixChecksum(out[pos : pos+512])
	return out
}

// mtimes rebuilds the genuine archive with a different modification time
// on every member ("Modification times are not checked").
func mtimes(t testing.TB, fx *fixture) []byte {
	var buf bytes.Buffer
	tw := tarWriter(&buf)
	for i, m := range fx.members {
		tw.add(t, m.Name, m.Data, time.Unix(int64(1700000000+i*3600), 0))
	}
	tw.close(t)
	return buf.Bytes()
}

// synthBundle builds evidence.json (§7.3, v2, no checkpoints elements) for
// asset over entries, anchored by a fresh checkpoint of all of them signed
// by the current key, the way §7.3 says a pack is made: the records of the
// asset, the identity and rotation records of the key set, keys in order of
// introduction, audit paths in the anchor's tree.
func (fx *fixture) synthBundle(t testing.TB, entries [][]byte, asset string) []byte {
	type loose struct {
		Kind  string `json:"kind"`
		Asset string `json:"asset"`
		Key   string `json:"key"`
		Cert  string `json:"cert"`
	}
	n := len(entries)
	leaves := leafHashes(entries)
	cur := fx.currentKey()
	recs := make([]loose, n)
	signer := make([][]byte, n)
	for i, raw := range entries {
		e, err := parseEntry(raw)
		if err != nil {
			t.Fatal(err)
		}
		json.Unmarshal(e.payload, &recs[i])
		signer[i] = e.key
	}
	set := map[string]bool{string(cur.Public().(ed25519.PublicKey)): true}
	for i, r := range recs {
		if r.Asset == asset && r.Kind != "identity" && r.Kind != "rotate" {
			set[string(signer[i])] = true
		}
	}
	for changed := true; changed; { // the rotation's signer of a key in the set
		changed = false
		for i, r := range recs {
			if r.Kind == "rotate" && set[string(b64d(r.Key))] && !set[string(signer[i])] {
				set[string(signer[i])], changed = true, true
			}
		}
	}
	el := func(i int) bundleMap {
		proof := []any{}
		for _, h := range inclusionPath(leaves, i) {
			proof = append(proof, b64e(h))
		}
		return bundleMap{"index": json.Number(fmt.Sprint(i)), "entry": b64e(entries[i]), "proof": proof}
	}
	ids, rots, records, keys := []any{}, []any{}, []any{}, []any{}
	seen := map[string]bool{}
	for i, r := range recs {
		intro := ""
		switch {
		case r.Kind == "identity" && set[string(signer[i])] && bytes.Equal(b64d(r.Key), signer[i]):
			ids = append(ids, el(i))
			intro = r.Key
		case r.Kind == "rotate" && (set[string(b64d(r.Key))] || set[string(signer[i])]):
			rots = append(rots, el(i))
			intro = r.Key
		case r.Asset == asset && r.Kind != "identity" && r.Kind != "rotate":
			records = append(records, el(i))
		}
		if intro != "" && !seen[intro] {
			seen[intro] = true
			k := b64d(intro)
			cs := sha256.Sum256(b64d(r.Cert))
			keys = append(keys, bundleMap{"ed25519": intro, "key_id": keyID(k), "vkey": vkey(fx.origin, k), "cert_sha256": hex.EncodeToString(cs[:])})
		}
	}
	m := bundleMap{"format": bundleV2, "origin": fx.origin, "asset": asset,
		"checkpoint": string(signCheckpoint(fx.origin, entries, n, cur)),
		"keys":       keys, "identities": ids, "records": records}
	if len(rots) > 0 {
		m["rotations"] = rots
	}
	return encodeBundle(t, m)
}

// TestBundleNewRules: §7.3's anchor element and cosignature lines, and the
// rules of §5.6 and §5's one size per SHA-256 over a pack's records.
func TestBundleNewRules(t *testing.T) {
	t.Parallel()
	fx := getFixture(t)
	plain := fx.plainEvidence(t)
	base := decodeBundle(t, plain)
	anchor, _ := parseCheckpoint([]byte(base["checkpoint"].(string)))
	edit := func(f func(bundleMap)) []byte { return editBundle(t, plain, f) }
	anchorEl := func(m bundleMap) bundleMap {
		for _, c := range list(m, "checkpoints") {
			if cp, _ := parseCheckpoint([]byte(obj(c)["note"].(string))); cp != nil && cp.size == anchor.size {
				return obj(c)
			}
		}
		t.Fatal("the pack has no element of the anchor's size")
		return nil
	}
	firstCos := func(m bundleMap) bundleMap {
		for _, c := range list(m, "checkpoints") {
			if cs := list(obj(c), "cosignatures"); len(cs) > 0 {
				return obj(cs[0])
			}
		}
		t.Fatal("the pack has no cosignature")
		return nil
	}
	unknownLine := "— other.example/signer " + b64e(make([]byte, 68)) + "\n"
	restamp := func(c bundleMap, note string) {
		imprint := sha256.Sum256([]byte(note))
		c["timestamp"] = b64e(fx.tsa.Token(imprint[:], nil, time.Now()))
	}
	witnessLine := func(note string) (string, string) {
		lines := strings.Split(strings.TrimSuffix(note, "\n"), "\n")
		return lines[len(lines)-1], strings.Fields(lines[len(lines)-1])[1]
	}
	drop := func(m bundleMap, index int64) {
		var keep []any
		for _, r := range list(m, "records") {
			if mustIndex(r) != index {
				keep = append(keep, r)
			}
		}
		m["records"] = keep
	}

	es := fx.entries
	n := int64(len(es))
	cur := fx.currentKey()
	_, bob, _ := ed25519.GenerateKey(rand.Reader)
	afterRot := int64(lastIndex(es, `"text":"after the rotation"`))
	otherNote := int64(lastIndex(es, `a note on another asset`))
	ret := func(i int64) []byte { return retractPayload("poster", i, leafHex(es[i]), "a mistake") }
	fillSHA, fillSize := fx.shaOf(t, "fill.png")
	synth := func(apps ...app) []byte { return fx.synthBundle(t, chain(fx.origin, es, apps...), "poster") }
	cases := []bundleCase{
		{name: "a synthesized pack of the genuine ledger", bundle: fx.synthBundle(t, es, "poster"), ok: true},
		{name: "the anchor element's note with a line the anchor lacks", bundle: edit(func(m bundleMap) {
			c := anchorEl(m)
			c["note"] = c["note"].(string) + unknownLine
			restamp(c, c["note"].(string))
		}), seq: -1, fragment: "byte for byte"},
		{name: "the anchor with a line its element lacks", bundle: edit(func(m bundleMap) {
			m["checkpoint"] = m["checkpoint"].(string) + unknownLine
		}), seq: -1, fragment: "byte for byte"},
		{name: "the anchor and its element with a bad line by the retired key", bundle: edit(func(m bundleMap) {
			old := fx.oldKey().Public().(ed25519.PublicKey)
			m["checkpoint"] = m["checkpoint"].(string) + "— " + fx.origin + " " + b64e(append(noteKeyHash(fx.origin, old), make([]byte, 64)...)) + "\n"
			c := anchorEl(m)
			c["note"] = m["checkpoint"]
			restamp(c, c["note"].(string))
		}), seq: -1, fragment: "does not verify"},
		{name: "the anchor and its element with a valid line by the retired key, which may not sign it", bundle: edit(func(m bundleMap) {
			text := m["checkpoint"].(string)
			text = text[:strings.Index(text, "\n\n")+1]
			sig := ed25519.Sign(fx.oldKey(), []byte(text))
			m["checkpoint"] = m["checkpoint"].(string) + "— " + fx.origin + " " + b64e(append(noteKeyHash(fx.origin, fx.oldKey().Public().(ed25519.PublicKey)), sig...)) + "\n"
			c := anchorEl(m)
			c["note"] = m["checkpoint"]
			restamp(c, c["note"].(string))
		}), ok: true},
		{name: "the anchor and its element with the same extra line", bundle: edit(func(m bundleMap) {
			m["checkpoint"] = m["checkpoint"].(string) + unknownLine
			c := anchorEl(m)
			c["note"] = m["checkpoint"]
			restamp(c, c["note"].(string))
		}), ok: true},
		{name: "cosigned note whose witness line is short", bundle: edit(func(m bundleMap) {
			cs := firstCos(m)
			note := cs["note"].(string)
			l, w := witnessLine(note)
			blob := b64d(strings.Fields(l)[2])
			cs["note"] = strings.Replace(note, l, "— "+w+" "+b64e(blob[:68]), 1)
		}), seq: -1, fragment: "not 76"},
		{name: "cosigned note whose witness line is under another name", bundle: edit(func(m bundleMap) {
			cs := firstCos(m)
			note := cs["note"].(string)
			l, w := witnessLine(note)
			cs["note"] = strings.Replace(note, l, strings.Replace(l, w, "other.example/w", 1), 1)
		}), seq: -1, fragment: "no line of witness"},
		{name: "tsa_roots holding an empty string", bundle: edit(func(m bundleMap) { m["tsa_roots"] = []any{""} }), seq: -1, fragment: "§5.4 rule 3"},
		{name: "tsa_roots holding base64 that is not a certificate", bundle: edit(func(m bundleMap) { m["tsa_roots"] = []any{"AAAA"} }), seq: -1, fragment: "not a DER X.509 certificate"},
		{name: "tsa_roots holding another certificate", bundle: edit(func(m bundleMap) { m["tsa_roots"] = []any{b64e(fx.signerCert)} }), ok: true},
		{name: "a retracted record left out of the pack", bundle: edit(func(m bundleMap) { drop(m, fx.retracted[0]) }), seq: fx.retractions[0], fragment: "not in the pack"},
		{name: "a retraction left out of the pack", bundle: edit(func(m bundleMap) { drop(m, fx.retractions[0]) }), ok: true},
		{name: "pack: a retraction by the key that signed the record", bundle: synth(app{k: cur, p: ret(afterRot)}), ok: true},
		{name: "pack: a retraction by a second author", bundle: synth(app{k: bob, p: identityPayload(t, bob, "Bob")},
			app{k: bob, p: []byte(`{"v":1,"kind":"note","asset":"poster","by":"human","text":"Bob"}`)}, app{k: bob, p: ret(afterRot)}), ok: true},
		{name: "pack: a retraction by a non-author", bundle: synth(app{k: bob, p: identityPayload(t, bob, "Bob")}, app{k: bob, p: ret(afterRot)}), seq: n + 1, fragment: "§5.6 rule 4"},
		{name: "pack: a retraction of the identity record", bundle: synth(app{k: cur, p: ret(0)}), seq: n, fragment: "§5.6 rule 2"},
		{name: "pack: a retraction of the asset record", bundle: synth(app{k: cur, p: ret(1)}), seq: n, fragment: "§5.6 rule 2"},
		{name: "pack: a retraction of the rotation record", bundle: synth(app{k: cur, p: ret(fx.rotation)}), seq: n, fragment: "§5.6 rule 2"},
		{name: "pack: a retraction of another asset's record", bundle: synth(app{k: cur, p: ret(otherNote)}), seq: n, fragment: "not in the pack"},
		{name: "pack: a retraction of a retracted record", bundle: synth(app{k: cur, p: ret(fx.retracted[1])}), seq: n, fragment: "§5.6 rule 3"},
		{name: "pack: a retraction of a retraction", bundle: synth(app{k: cur, p: ret(fx.retractions[1])}), seq: n, fragment: "§5.6 rule 2"},
		{name: "pack: a retraction with a wrong leaf hash", bundle: synth(app{k: cur, p: retractPayload("poster", afterRot, leafHex(es[afterRot-1]), "x")}), seq: n, fragment: "§5.6 rule 1"},
		{name: "pack: two sizes for one SHA-256", bundle: synth(app{k: cur, p: []byte(fmt.Sprintf(`{"v":1,"kind":"final","asset":"poster","by":"human","file":{"name":"fill.png","sha256":%q,"size":%d}}`, fillSHA, fillSize+1))}), seq: n, fragment: "one SHA-256 is one file"},
		{name: "pack: a file step and an edit by unknown", bundle: synth(
			app{k: cur, p: []byte(`{"v":1,"kind":"file","asset":"poster","by":"unknown","file":` + fx.refOf(t, "fill.png") + `}`)},
			app{k: cur, p: []byte(`{"v":1,"kind":"edit","asset":"poster","by":"unknown","before":` + fx.refOf(t, "fill.png") + `,"after":` + fx.refOf(t, "lettering.png") + `}`)}), ok: true},
		{name: "pack: an identity whose certificate has another common name", bundle: synth(app{k: bob, p: identityPayloadCN(t, bob, "Bob", "Robert")},
			app{k: bob, p: []byte(`{"v":1,"kind":"note","asset":"poster","by":"human","text":"Bob"}`)}), seq: n, fragment: "§7.4 rule 3"},
	}
	runBundleCases(t, fx, cases)
}
