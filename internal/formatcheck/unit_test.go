package formatcheck

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"

	"filippo.io/edwards25519"
	"golang.org/x/mod/sumdb/note"
)

func TestStrictJSON(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		rule int // 0: accepted
	}{
		{`{"a":"b"}`, 0},
		{` {"a" : [1, 2]} ` + "\n", 0},
		{`{"a":"\u00e9\n\/"}`, 0},
		{"{\"a\":\"\xc3\"}", 1},
		{`[1]`, 1},
		{`"x"`, 1},
		{`{"a":1}{}`, 1},
		{`{"a":1,}`, 1},
		{`{"a":01}`, 1},
		{`{"a":"x` + "\x01" + `"}`, 1},
		{`{"a":"\x"}`, 1},
		{`{'a':1}`, 1},
		{`{"a":1,"a":2}`, 2},
		{`{"a":1,"\u0061":2}`, 2},
		{`{"a":{"b":1,"b":1}}`, 2},
		{`{"a":null}`, 3},
		{`{"a":[null]}`, 3},
		{`{"a":-1}`, 3},
		{`{"a":1.5}`, 3},
		{`{"a":1e3}`, 3},
		{`{"a":-0}`, 3},
		{`{"a":9223372036854775807}`, 0},
		{`{"a":9223372036854775808}`, 3},
		{`{"a":18446744073709551616}`, 3},
		{`{"a":{"b":[{"c":9223372036854775808}]}}`, 3},
		{`{"a":"\ud800"}`, 4},
		{`{"a":"\uDFFF"}`, 4},
		{`{"a":"\ud83e\udd8a"}`, 4},
		{`{"a":"🦊"}`, 0},
		{`{"a":true}`, 0},
		{strings.Repeat(`{"a":`, 100) + "1" + strings.Repeat("}", 100), 1},
	}
	for _, c := range cases {
		_, err := parseStrict([]byte(c.in))
		got := 0
		if err != nil {
			se, ok := err.(*strictError)
			if !ok {
				t.Fatalf("%q: error of type %T", c.in, err)
			}
			got = se.rule
		}
		if got != c.rule {
			t.Errorf("%q: rule %d (%v), want %d", c.in, got, err, c.rule)
		}
	}
}

func TestStrictBase64(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"AAAA", "AA==", "AAA=", ""} {
		if _, err := strictBase64(s); err != nil {
			t.Errorf("%q refused: %v", s, err)
		}
	}
	for _, s := range []string{"AA", "AA=", "AAA", "AA\nAA", "AA AA", "AB==", "AAB=", "A-_A", "AAAA\n"} {
		if _, err := strictBase64(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

// TestEd25519Rule compares the hand-written §1.3 rule with crypto/ed25519,
// which FORMAT.md says implements it for keys of rule 2, and checks the
// cases where the rule must refuse what a lax verifier accepts.
func TestEd25519Rule(t *testing.T) {
	t.Parallel()
	for i := 0; i < 200; i++ {
		pub, priv, _ := ed25519.GenerateKey(rand.Reader)
		msg := make([]byte, i)
		rand.Read(msg)
		sig := ed25519.Sign(priv, msg)
		if err := verifyEd25519(pub, msg, sig); err != nil {
			t.Fatalf("a valid signature refused: %v", err)
		}
		bad := append([]byte{}, sig...)
		bad[i%64] ^= 1 << (i % 8)
		if (verifyEd25519(pub, msg, bad) == nil) != ed25519.Verify(pub, msg, bad) {
			t.Fatalf("disagrees with crypto/ed25519 on a mutated signature")
		}
		if len(msg) > 0 {
			m2 := append([]byte{}, msg...)
			m2[0] ^= 1
			if verifyEd25519(pub, m2, sig) == nil {
				t.Fatal("a signature verifies for another message")
			}
		}
	}
	// Small-order points: the identity and the points of order 2, 4, 8.
	// Each is refused as a key (§1.3 rule 2) even where the cofactorless
	// equation holds.
	smalls := [][]byte{
		edwards25519.NewIdentityPoint().Bytes(),
		mustHex(t, "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"), // order 2
		mustHex(t, "0000000000000000000000000000000000000000000000000000000000000080"), // order 4
		mustHex(t, "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"), // order 8
	}
	for _, A := range smalls {
		if err := checkKeyPoint(A); err == nil || !strings.Contains(err.Error(), "small order") {
			t.Errorf("small-order key %x: %v", A, err)
		}
	}
	// Non-canonical encodings: y = p + 1 (the identity again) and the
	// identity with the sign bit set ("-0").
	for _, nc := range [][]byte{
		mustHex(t, "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
		mustHex(t, "0100000000000000000000000000000000000000000000000000000000000080"),
	} {
		if err := checkKeyPoint(nc); err == nil {
			t.Errorf("non-canonical key %x accepted", nc)
		} else if !strings.Contains(err.Error(), "canonical") && !strings.Contains(err.Error(), "not a point") {
			t.Errorf("non-canonical key %x: %v", nc, err)
		}
	}
}

func mustHex(t *testing.T, s string) []byte {
	b := make([]byte, len(s)/2)
	for i := range b {
		b[i] = byte(hexVal(s[2*i])<<4 | hexVal(s[2*i+1]))
	}
	return b
}

// TestRootAgrees checks Root against a direct recursion of RFC 6962 MTH.
func TestRootAgrees(t *testing.T) {
	t.Parallel()
	var entries [][]byte
	for n := 0; n < 40; n++ {
		r := Root(entries)
		if !bytes.Equal(r[:], mth(leafHashes(entries))) {
			t.Fatalf("Root of %d entries differs from MTH", n)
		}
		entries = append(entries, []byte{byte(n), 1, 2})
	}
}

// TestCheckpointNotesWithSumdbNote opens every genuine checkpoint with
// golang.org/x/mod/sumdb/note and the verifier keys cairn prints (§3), and
// checks that the verifier key the bundle lists is the one §3 describes.
func TestCheckpointNotesWithSumdbNote(t *testing.T) {
	t.Parallel()
	fx := getFixture(t)
	vk := strings.TrimSpace(fx.s.must("id", "--vkey"))
	cur := fx.currentKey().Public().(ed25519.PublicKey)
	if vk != vkey(fx.origin, cur) {
		t.Fatalf("cairn id --vkey %q, §3 gives %q", vk, vkey(fx.origin, cur))
	}
	old := fx.oldKey().Public().(ed25519.PublicKey)
	var vs []note.Verifier
	for _, k := range [][]byte{old, cur} {
		v, err := note.NewVerifier(vkey(fx.origin, k))
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	for _, cp := range fx.cps {
		if _, err := note.Open(cp, note.VerifierList(vs...)); err != nil {
			t.Errorf("sumdb/note refuses %q: %v", cp, err)
		}
	}
	// A checkpoint note with an extra line of an unknown signer is still
	// valid (C2SP signed-note: unknown signatures are ignored).
	extra := append(append([]byte{}, fx.cps[len(fx.cps)-1]...), []byte("— other.example "+base64.StdEncoding.EncodeToString(make([]byte, 68))+"\n")...)
	wantOK(t, Ledger(fx.origin, fx.entries, [][]byte{extra}))
}

// TestBundleSignerFromRecord: the signer certificate taken from the PDF's
// CMS is the cert of the rotation record, byte for byte (§7.1).
func TestBundleSignerFromRecord(t *testing.T) {
	t.Parallel()
	fx := getFixture(t)
	st, err := readStep(payloadOf(fx.entries[fx.rotation]))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(st.cert, fx.signerCert) {
		t.Fatal("the PDF's signer certificate is not the rotation record's cert")
	}
	wantOK(t, Bundle(fx.evidence, st.cert))
	// The identity record's cert belongs to the retired key.
	st0, _ := readStep(payloadOf(fx.entries[0]))
	wantFail(t, Bundle(fx.evidence, st0.cert), 0, "§7.4 rule 7")
}

// TestReadStepNewRules checks readStep on its own for the rules the second
// FORMAT.md added, without cairn.
func TestReadStepNewRules(t *testing.T) {
	t.Parallel()
	h := strings.Repeat("ab", 32)
	ref := `{"name":"x","sha256":"` + h + `","size":1}`
	cases := []struct {
		in   string
		frag string // "": accepted
	}{
		{`{}`, "the payload is an empty object"},
		{`{"v":1,"kind":"retract","asset":"a","by":"human","retracts":{"seq":0,"hash":"` + h + `"},"why":"w"}`, ""},
		{`{"v":1,"kind":"retract","asset":"a","by":"human","retracts":{"hash":"` + h + `","seq":0},"why":"w"}`, ""},
		{`{"v":1,"kind":"retract","asset":"a","by":"human","retracts":{"seq":0,"hash":"` + h + `","seq":1},"why":"w"}`, "§5.4 rule 2"},
		{`{"v":1,"kind":"file","asset":"a","by":"unknown","file":` + ref + `}`, ""},
		{`{"v":1,"kind":"edit","asset":"a","by":"unknown","before":` + ref + `,"after":` + ref + `,"in":[` + ref + `]}`, ""},
		{`{"v":1,"kind":"input","asset":"a","by":"human","file":` + ref + `,"permission":"own","use":"reference"}`, ""},
		{`{"v":1,"kind":"asset","asset":"a","by":"human","basis":"assignment"}`, ""},
		{`{"v":1,"kind":"final","asset":"a","by":"human","file":{"name":"","sha256":"` + h + `","size":1}}`, ""},
		{`{"v":1,"kind":"final","asset":"a","by":"human","file":{"name":"x","sha256":"` + h + `","size":1,"type":""}}`, "§5.4 rule 3"},
		{`{"v":1,"kind":"prompt","asset":"a","by":"human","text":"t","params":{"k":""}}`, ""},
		{`{"v":1,"kind":"prompt","asset":"a","by":"human","text":"t","captured":{"from":"f","fields":{"k":""}}}`, "§5.4 rule 3"},
		{`{"v":1,"kind":"prompt","asset":"a","by":"human","text":"t","captured":{"from":"f","fields":{"":"v"}}}`, ""},
		{`{"v":1,"kind":"note","asset":"a","by":"human","text":"\u2003\u205f"}`, "white space"},
		{`{"v":1,"kind":"select","asset":"a","by":"human","file":` + ref + `,"from":[` + ref + `,` + ref + `],"rejected":[` + ref + `]}`, "§5.2"},
	}
	for _, c := range cases {
		_, err := readStep([]byte(c.in))
		switch {
		case c.frag == "" && err != nil:
			t.Errorf("%s: refused: %v", c.in, err)
		case c.frag != "" && err == nil:
			t.Errorf("%s: accepted, want %q", c.in, c.frag)
		case c.frag != "" && !strings.Contains(err.Error(), c.frag):
			t.Errorf("%s: %v, want %q", c.in, err, c.frag)
		}
	}
}
