package formatcheck

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-ledger/cairn/internal/formatcheck/internal/testkit"
)

// bundleMap is evidence.json as generic JSON, for edits.
type bundleMap = map[string]any

func decodeBundle(t testing.TB, raw []byte) bundleMap {
	var m bundleMap
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func encodeBundle(t testing.TB, m bundleMap) []byte {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	e.SetIndent("", "  ")
	if err := e.Encode(m); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func editBundle(t testing.TB, raw []byte, f func(bundleMap)) []byte {
	m := decodeBundle(t, raw)
	f(m)
	return encodeBundle(t, m)
}

func list(m bundleMap, k string) []any { l, _ := m[k].([]any); return l }
func obj(v any) bundleMap              { return v.(bundleMap) }

func b64d(s any) []byte {
	b, _ := base64.StdEncoding.DecodeString(s.(string))
	return b
}
func b64e(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// plainEvidence is the bundle of the pack without embedded files (so that
// re-signed variants are not refused by rule 11 for files the verifier here
// is not given).
func (fx *fixture) plainEvidence(t testing.TB) []byte {
	return extractEvidence(t, fx.s.path("plain.pdf"))
}

// signerFrom reads the P-256 signer of an identity file.
func signerFrom(t testing.TB, path string) testkit.Signer {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var id identityFile
	json.Unmarshal(b, &id)
	cd, _ := base64.StdEncoding.DecodeString(id.Cert)
	kd, _ := base64.StdEncoding.DecodeString(id.Secret.P256)
	c, _ := x509.ParseCertificate(cd)
	k, err := x509.ParsePKCS8PrivateKey(kd)
	if err != nil {
		t.Fatal(err)
	}
	return testkit.Signer{Cert: c, Key: k.(*ecdsa.PrivateKey)}
}

func TestGenuineBundle(t *testing.T) {
	t.Parallel()
	fx := getFixture(t)
	wantOK(t, Bundle(fx.evidence, fx.signerCert))
	plain := fx.plainEvidence(t)
	wantOK(t, Bundle(plain, pdfSignerCert(t, fx.pdfPlain)))
	// The signer certificate is also the cert of the rotation record.
	if !bytes.Contains(fx.evidence, []byte(b64e(fx.signerCert))) {
		// The cert is inside the base64 of an entry, so look there.
		found := false
		for _, e := range fx.entries {
			if bytes.Contains(payloadOf(e), []byte(b64e(fx.signerCert))) {
				found = true
			}
		}
		if !found {
			t.Error("the PDF's signing certificate is in no identity or rotation record")
		}
	}
	for _, p := range []string{"p.pdf", "plain.pdf"} {
		if out, code := fx.s.run("verify-pack", fx.s.path(p)); code != 0 {
			t.Errorf("cairn verify-pack %s: exit %d\n%s", p, code, out)
		}
	}
	// The re-signer used by the tampering tests produces packs cairn accepts.
	re, err := testkit.ResignPDF(fx.pdfPlain, plain, fx.s.pdfSigner())
	if err != nil {
		t.Fatal(err)
	}
	if ok, out := fx.cairnPack(t, re); !ok {
		t.Fatalf("cairn refuses a re-signed genuine pack:\n%s", out)
	}
}

type bundleCase struct {
	name     string
	bundle   []byte
	signer   *testkit.Signer // nil: the current key
	ok       bool
	seq      int64
	fragment string
}

func runBundleCases(t *testing.T, fx *fixture, cases []bundleCase) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := fx.s.pdfSigner()
			if c.signer != nil {
				s = *c.signer
			}
			v := Bundle(c.bundle, s.Cert.Raw)
			if c.ok {
				wantOK(t, v)
			} else {
				wantFail(t, v, c.seq, c.fragment)
			}
			pdf, err := testkit.ResignPDF(fx.pdfPlain, c.bundle, s)
			if err != nil {
				t.Fatal(err)
			}
			ok, out := fx.cairnPack(t, pdf)
			compare(t, "bundle "+c.name, v, ok, out)
		})
	}
}

func TestTamperedBundle(t *testing.T) {
	t.Parallel()
	fx := getFixture(t)
	plain := fx.plainEvidence(t)
	base := decodeBundle(t, plain)
	recs := list(base, "records")
	nrec := len(recs)
	lastRec := obj(recs[nrec-1])
	lastIdx, _ := lastRec["index"].(json.Number).Int64()
	firstIdx, _ := obj(recs[0])["index"].(json.Number).Int64()
	oldSigner := signerFrom(t, retiredIdentity(t, fx))
	cps := list(base, "checkpoints")
	edit := func(f func(bundleMap)) []byte { return editBundle(t, plain, f) }
	editEntry := func(i int, f func([]byte) []byte) []byte {
		return edit(func(m bundleMap) {
			r := obj(list(m, "records")[i])
			r["entry"] = b64e(f(b64d(r["entry"])))
		})
	}
	entryB64 := lastRec["entry"].(string)
	raw := string(plain)

	// A record of the other asset, with a valid proof in the anchor's tree.
	anchor, _ := parseCheckpoint([]byte(base["checkpoint"].(string)))
	otherI := lastIndex(fx.entries[:anchor.size], `"asset":"other"`)
	leaves := leafHashes(fx.entries[:anchor.size])
	var otherProof []any
	for _, h := range inclusionPath(leaves, otherI) {
		otherProof = append(otherProof, b64e(h))
	}

	cosI := -1
	for i, c := range cps {
		if len(list(obj(c), "cosignatures")) > 0 && cosI < 0 {
			cosI = i
		}
	}
	if cosI < 0 || len(cps) < 2 || obj(cps[0])["timestamp"] == nil || obj(cps[1])["timestamp"] == nil {
		t.Fatalf("the fixture's pack lacks the attestations these cases need")
	}
	cases := []bundleCase{
		{name: "genuine", bundle: plain, ok: true},
		{name: "newline inside base64", bundle: []byte(strings.Replace(raw, entryB64, entryB64[:40]+`\n`+entryB64[40:], 1)), seq: -1, fragment: "§7.4 rule 2"},
		{name: "space inside base64", bundle: []byte(strings.Replace(raw, entryB64, entryB64[:40]+` `+entryB64[40:], 1)), seq: -1, fragment: "§7.4 rule 2"},
		{name: "base64 without padding", bundle: []byte(strings.Replace(raw, entryB64, strings.TrimRight(entryB64, "="), 1)), seq: -1, fragment: "§7.4 rule 2"},
		{name: "payload byte flipped", bundle: editEntry(nrec-1, func(e []byte) []byte { return flip(e, 100) }), seq: lastIdx, fragment: "§7.4 rule 8"},
		{name: "signature byte flipped", bundle: editEntry(nrec-1, func(e []byte) []byte { return flip(e, len(e)-3) }), seq: lastIdx, fragment: "§7.4 rule 8"},
		{name: "chain link byte flipped", bundle: editEntry(nrec-1, func(e []byte) []byte { return flip(e, 40) }), seq: lastIdx, fragment: "§7.4 rule 8"},
		{name: "proof hash flipped", bundle: edit(func(m bundleMap) {
			r := obj(list(m, "records")[1])
			p := list(r, "proof")
			p[0] = b64e(flip(b64d(p[0]), 3))
		}), seq: mustIndex(recs[1]), fragment: "§7.4 rule 10"},
		{name: "proof shortened", bundle: edit(func(m bundleMap) {
			r := obj(list(m, "records")[1])
			r["proof"] = list(r, "proof")[1:]
		}), seq: mustIndex(recs[1]), fragment: "§7.4 rule 10"},
		{name: "asset record removed", bundle: edit(func(m bundleMap) { m["records"] = list(m, "records")[1:] }), seq: mustIndex(recs[1]), fragment: "§5.5"},
		{name: "a middle record removed", bundle: edit(func(m bundleMap) {
			r := list(m, "records")
			m["records"] = append(append([]any{}, r[:2]...), r[3:]...)
		}), ok: true},
		{name: "records swapped", bundle: edit(func(m bundleMap) {
			r := list(m, "records")
			r[1], r[2] = r[2], r[1]
		}), seq: -1, fragment: "strictly increasing"},
		{name: "index changed", bundle: edit(func(m bundleMap) {
			obj(list(m, "records")[nrec-1])["index"] = json.Number(fmt.Sprint(lastIdx + 1))
		}), seq: lastIdx + 1, fragment: "seq"},
		{name: "index beyond the anchor", bundle: edit(func(m bundleMap) {
			obj(list(m, "records")[nrec-1])["index"] = json.Number("999")
		}), seq: 999, fragment: "seq"},
		{name: "unknown field", bundle: []byte(strings.Replace(raw, `"asset":`, `"colour": "red", "asset":`, 1)), seq: -1, fragment: "§5.4 rule 2"},
		{name: "case-changed field name", bundle: []byte(strings.Replace(raw, `"origin":`, `"Origin":`, 1)), seq: -1, fragment: "§7.4 rule 2"},
		{name: "duplicated field", bundle: []byte(strings.Replace(raw, `"asset": "poster"`, `"asset": "poster", "asset": "poster"`, 1)), seq: -1, fragment: "§5.4 rule 2"},
		{name: "null", bundle: []byte(strings.Replace(raw, `"asset": "poster"`, `"asset": "poster", "tsa_roots": null`, 1)), seq: -1, fragment: "§5.4 rule 3"},
		{name: "lone surrogate escape", bundle: []byte(strings.Replace(raw, `"asset": "poster"`, `"asset": "poster\ud800"`, 1)), seq: -1, fragment: "§5.4 rule 4"},
		{name: "invalid UTF-8", bundle: []byte(strings.Replace(raw, `"asset": "poster"`, "\"asset\": \"poster\xff\"", 1)), seq: -1, fragment: "§5.4 rule 1"},
		{name: "fraction", bundle: []byte(strings.Replace(raw, fmt.Sprintf(`"index": %d`, firstIdx), fmt.Sprintf(`"index": %d.0`, firstIdx), 1)), seq: -1, fragment: "§5.4 rule 3"},
		{name: "empty tsa_roots", bundle: edit(func(m bundleMap) { m["tsa_roots"] = []any{} }), seq: -1, fragment: "§5.4 rule 3"},
		{name: "v1 with rotations", bundle: edit(func(m bundleMap) { m["format"] = "cairn.evidence-bundle/v1" }), seq: -1, fragment: "§7.3"},
		{name: "unknown format", bundle: edit(func(m bundleMap) { m["format"] = "cairn.evidence-bundle/v3" }), seq: -1, fragment: "format"},
		{name: "rotation hidden", bundle: edit(func(m bundleMap) { delete(m, "rotations") }), seq: -1, fragment: "§7.4 rule 5"},
		{name: "rotation hidden, keys adjusted", bundle: edit(func(m bundleMap) { delete(m, "rotations"); m["keys"] = list(m, "keys")[:1] }), seq: -1, fragment: "§7.4 rule 6"},
		{name: "key_id wrong", bundle: edit(func(m bundleMap) { obj(list(m, "keys")[0])["key_id"] = "0000000000000000" }), seq: -1, fragment: "§7.4 rule 5"},
		{name: "vkey wrong", bundle: edit(func(m bundleMap) {
			k := obj(list(m, "keys")[0])
			k["vkey"] = strings.Replace(k["vkey"].(string), "+", "+0", 1)
		}), seq: -1, fragment: "§7.4 rule 5"},
		{name: "keys reordered", bundle: edit(func(m bundleMap) { k := list(m, "keys"); k[0], k[1] = k[1], k[0] }), seq: -1, fragment: "§7.4 rule 5"},
		{name: "signed with the retired key's certificate", bundle: plain, signer: &oldSigner, seq: 0, fragment: "§7.4 rule 7"},
		// Rule 7's other branches: a custodian's certificate, bound to the key
		// its one cairn URI names; a CA-issued one, with no cairn URI.
		{name: "signed with a CA-issued certificate", bundle: plain, signer: unknownSigner(t), ok: true},
		{name: "signed with a certificate that may not sign", bundle: plain, signer: signerWith(t, []string{"Firm"}, nil, x509.KeyUsageCertSign), seq: -1, fragment: "§7.4 rule 7"},
		{name: "signed by a custodian", bundle: plain, signer: signerWith(t, []string{"Jan"}, custodianURI, 0), ok: true},
		{name: "signed by a custodian certificate with two common names", bundle: plain, signer: signerWith(t, []string{"Jan", "Ada Lovelace"}, custodianURI, 0), seq: -1, fragment: "§7.4 rule 7"},
		{name: "signed by a custodian certificate with its key in upper-case hex", bundle: plain, signer: signerWith(t, []string{"Jan"}, func(pub []byte) string {
			return certURIPrefix + strings.ToUpper(hex.EncodeToString(pub))
		}, 0), seq: -1, fragment: "§7.4 rule 7"},
		{name: "anchor signed by the retired key", bundle: edit(func(m bundleMap) {
			m["checkpoint"] = string(signCheckpoint(fx.origin, fx.entries, int(anchor.size), fx.oldKey()))
			dropAnchorElement(m, anchor.size)
		}), seq: -1, fragment: "§7.4 rule 6"},
		{name: "anchor of another origin", bundle: edit(func(m bundleMap) {
			m["checkpoint"] = strings.ReplaceAll(m["checkpoint"].(string), fx.origin, "cairn.ledger/aaaaaaaaaaaaaaaaaaaa")
			dropAnchorElement(m, anchor.size)
		}), seq: -1, fragment: "§7.4 rule 6"},
		{name: "record of another asset injected", bundle: edit(func(m bundleMap) {
			m["records"] = append(list(m, "records"), bundleMap{"index": json.Number(fmt.Sprint(otherI)), "entry": b64e(fx.entries[otherI]), "proof": otherProof})
		}), seq: int64(otherI), fragment: "§7.4 rule 8"},
		{name: "asset record twice", bundle: edit(func(m bundleMap) {
			r := list(m, "records")
			dup := bundleMap{}
			for k, v := range obj(r[0]) {
				dup[k] = v
			}
			// Same entry at another index fails on seq first; keep the
			// bytes and index but put it twice: strictly increasing fails.
			m["records"] = append([]any{dup}, r...)
		}), seq: -1, fragment: "strictly increasing"},
		{name: "checkpoints reordered", bundle: edit(func(m bundleMap) { c := list(m, "checkpoints"); c[0], c[1] = c[1], c[0] }), seq: -1, fragment: "increasing"},
		{name: "consistency hash flipped", bundle: edit(func(m bundleMap) {
			c := obj(list(m, "checkpoints")[0])
			p := list(c, "consistency")
			p[0] = b64e(flip(b64d(p[0]), 0))
		}), seq: -1, fragment: "§7.4 rule 12"},
		{name: "non-empty consistency at the anchor's size", bundle: edit(func(m bundleMap) {
			c := list(m, "checkpoints")
			obj(c[len(c)-1])["consistency"] = []any{b64e(make([]byte, 32))}
		}), seq: -1, fragment: "non-empty consistency"},
		{name: "anchor-size element with no attestation", bundle: edit(func(m bundleMap) {
			c := list(m, "checkpoints")
			e := obj(c[len(c)-1])
			delete(e, "timestamp")
			delete(e, "cosignatures")
		}), seq: -1, fragment: "neither a timestamp nor cosignatures"},
		{name: "checkpoint element signed by the retired key after the rotation", bundle: edit(func(m bundleMap) {
			c := list(m, "checkpoints")
			size := int(fx.rotation) + 2
			note := signCheckpoint(fx.origin, fx.entries, size, fx.oldKey())
			var cons []any
			for _, h := range consistencyProof(leaves, size) {
				cons = append(cons, b64e(h))
			}
			el := bundleMap{"note": string(note), "consistency": cons}
			m["checkpoints"] = insertBySize(t, c, el, size)
		}), seq: -1, fragment: "§7.4 rule 12"},
		{name: "checkpoint element signed by the old key, the rotation its last record", bundle: edit(func(m bundleMap) {
			c := list(m, "checkpoints")
			size := int(fx.rotation) + 1
			note := signCheckpoint(fx.origin, fx.entries, size, fx.oldKey())
			var cons []any
			for _, h := range consistencyProof(leaves, size) {
				cons = append(cons, b64e(h))
			}
			m["checkpoints"] = insertBySize(t, c, bundleMap{"note": string(note), "consistency": cons}, size)
		}), ok: true},
		{name: "timestamp byte flipped", bundle: edit(func(m bundleMap) {
			c := obj(list(m, "checkpoints")[0])
			ts := b64d(c["timestamp"])
			c["timestamp"] = b64e(flip(ts, len(ts)-4))
		}), seq: -1, fragment: "§7.4 rule 13"},
		{name: "timestamp of another checkpoint", bundle: edit(func(m bundleMap) {
			c := list(m, "checkpoints")
			obj(c[0])["timestamp"], obj(c[1])["timestamp"] = obj(c[1])["timestamp"], obj(c[0])["timestamp"]
		}), seq: -1, fragment: "§3.1 rule 6"},
		{name: "cosigned note with another body", bundle: edit(func(m bundleMap) {
			c := list(m, "checkpoints")
			cs := obj(list(obj(c[cosI]), "cosignatures")[0])
			cs["note"] = obj(c[(cosI+1)%len(c)])["note"]
		}), seq: -1, fragment: "§7.4 rule 14"},
		{name: "cosigned note without the witness's line", bundle: edit(func(m bundleMap) {
			c := list(m, "checkpoints")
			cs := obj(list(obj(c[cosI]), "cosignatures")[0])
			cs["note"] = obj(c[cosI])["note"]
		}), seq: -1, fragment: "§7.4 rule 14"},
		{name: "witness name with a space", bundle: edit(func(m bundleMap) {
			cs := obj(list(obj(list(m, "checkpoints")[cosI]), "cosignatures")[0])
			cs["witness"] = "legal example"
		}), seq: -1, fragment: "witness name"},
	}
	runBundleCases(t, fx, cases)
}

// dropAnchorElement removes the checkpoints element of the anchor's size
// (whose note must equal the anchor, §7.3), for cases that change the anchor.
func dropAnchorElement(m bundleMap, size int64) {
	var keep []any
	for _, c := range list(m, "checkpoints") {
		cp, _ := parseCheckpoint([]byte(obj(c)["note"].(string)))
		if cp == nil || cp.size != size {
			keep = append(keep, c)
		}
	}
	if len(keep) == 0 {
		delete(m, "checkpoints")
	} else {
		m["checkpoints"] = keep
	}
}

func mustIndex(v any) int64 {
	i, _ := obj(v)["index"].(json.Number).Int64()
	return i
}

// insertBySize puts a checkpoints element in size order.
func insertBySize(t testing.TB, c []any, el bundleMap, size int) []any {
	var out []any
	done := false
	for _, x := range c {
		cp, err := parseCheckpoint([]byte(obj(x)["note"].(string)))
		if err != nil {
			t.Fatal(err)
		}
		if cp.size == int64(size) {
			obj(x)["note"] = el["note"]
			obj(x)["consistency"] = el["consistency"]
			delete(obj(x), "timestamp")
			delete(obj(x), "cosignatures")
			done = true
		}
		if !done && cp.size > int64(size) {
			out = append(out, el)
			done = true
		}
		out = append(out, x)
	}
	if !done {
		out = append(out, el)
	}
	return out
}

// consistencyProof is RFC 6962 §2.1.2 PROOF(m, D[n]).
func consistencyProof(leaves [][]byte, m int) [][]byte {
	return subproof(m, leaves, true)
}

func subproof(m int, d [][]byte, b bool) [][]byte {
	n := len(d)
	if m == n {
		if b {
			return nil
		}
		return [][]byte{mth(d)}
	}
	k := largestPow2Below(n)
	if m <= k {
		return append(subproof(m, d[:k], b), mth(d[k:]))
	}
	return append(subproof(m-k, d[k:], false), mth(d[:k]))
}

func retiredIdentity(t testing.TB, fx *fixture) string {
	files, _ := filepath.Glob(filepath.Join(fx.s.home, ".config", "cairn", "identity.json.retired-*"))
	if len(files) == 0 {
		t.Fatal("no retired identity file")
	}
	return files[0]
}

// custodianURI is the cairn URI of an Ed25519 key (§5.3).
func custodianURI(pub []byte) string { return certURIPrefix + hex.EncodeToString(pub) }

// signerWith makes a self-signed P-256 signer whose subject has the common
// names cns. uri, if not nil, writes its one URI from a new Ed25519 key: a
// custodian's certificate, bound (§5.3) to a key that signs nothing in the
// pack.
func signerWith(t testing.TB, cns []string, uri func(pub []byte) string, usage x509.KeyUsage) *testkit.Signer {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	var subject pkix.Name
	for _, cn := range cns {
		subject.ExtraNames = append(subject.ExtraNames, pkix.AttributeTypeAndValue{Type: oidCommonName, Value: cn})
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: subject, KeyUsage: usage,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	if uri != nil {
		pub, _, _ := ed25519.GenerateKey(rand.Reader)
		u, err := url.Parse(uri(pub))
		if err != nil {
			t.Fatal(err)
		}
		tmpl.URIs = []*url.URL{u}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testkit.Signer{Cert: c, Key: k}
}

func unknownSigner(t testing.TB) *testkit.Signer {
	tsa := testkit.NewTSA(testkit.TSAOpts{}) // any P-256 certificate will do
	return &tsa.Leaf
}

// TestBundleTimestamps replaces a checkpoint element's token with tokens
// made by test TSAs, good and bad (§3.1 rules 1–4, 6, 8).
func TestBundleTimestamps(t *testing.T) {
	t.Parallel()
	fx := getFixture(t)
	plain := fx.plainEvidence(t)
	base := decodeBundle(t, plain)
	el0 := obj(list(base, "checkpoints")[0])
	note := []byte(el0["note"].(string))
	cp, _ := parseCheckpoint(note)
	// The pack's last record that the element covers.
	var cover int64
	have := false
	for _, k := range []string{"identities", "rotations", "records"} {
		for _, r := range list(base, k) {
			e, _ := parseEntry(b64d(obj(r)["entry"]))
			if int64(e.seq) < cp.size && (!have || e.time > cover) {
				cover, have = e.time, true
			}
		}
	}
	coverT := time.Unix(0, cover)
	imprint := sha256.Sum256(note)
	token := func(tsa *testkit.TSA, at time.Time) []byte {
		return tsa.Token(imprint[:], nil, at)
	}
	with := func(tok []byte) []byte {
		return editBundle(t, plain, func(m bundleMap) { obj(list(m, "checkpoints")[0])["timestamp"] = b64e(tok) })
	}
	good := fx.tsa
	nonCrit := testkit.NewTSA(testkit.TSAOpts{EKUNotCritical: true})
	extra := testkit.NewTSA(testkit.TSAOpts{EKUExtraUsage: true})
	spoil := func(o testkit.SignOpts) *testkit.TSA {
		s := testkit.NewTSA(testkit.TSAOpts{})
		s.Spoil = o
		return s
	}
	status := testkit.NewTSA(testkit.TSAOpts{})
	status.Status = 2
	noacc := testkit.NewTSA(testkit.TSAOpts{})
	acc := testkit.NewTSA(testkit.TSAOpts{})
	acc.Accuracy = 3 * time.Second
	// A time in the same second as the covered record, but before it.
	sameSecond := coverT.Truncate(time.Second)
	cases := []bundleCase{
		{name: "fresh token", bundle: with(token(good, coverT.Add(time.Minute))), ok: true},
		{name: "token earlier than the records it covers", bundle: with(token(good, coverT.Add(-time.Hour))), seq: -1, fragment: "§3.1 rule 8"},
		{name: "token earlier, in the same second", bundle: with(token(noacc, sameSecond)), ok: true},
		{name: "token earlier by a second, saved by its accuracy", bundle: with(token(acc, coverT.Add(-2*time.Second))), ok: true},
		{name: "token earlier by more than its accuracy", bundle: with(token(acc, coverT.Add(-5*time.Second))), seq: -1, fragment: "§3.1 rule 8"},
		{name: "EKU not critical", bundle: with(token(nonCrit, coverT.Add(time.Minute))), seq: -1, fragment: "§3.1 rule 4"},
		{name: "EKU with another usage", bundle: with(token(extra, coverT.Add(time.Minute))), seq: -1, fragment: "§3.1 rule 4"},
		{name: "no ESS attribute", bundle: with(token(spoil(testkit.SignOpts{NoESS: true}), coverT.Add(time.Minute))), seq: -1, fragment: "§3.1 rule 3"},
		{name: "ESS names another certificate", bundle: with(token(spoil(testkit.SignOpts{ESSWrongHash: true}), coverT.Add(time.Minute))), seq: -1, fragment: "§3.1 rule 3"},
		{name: "content-type attribute not TSTInfo", bundle: with(token(spoil(testkit.SignOpts{ContentTypeAttr: testkit.OIDData}), coverT.Add(time.Minute))), seq: -1, fragment: "§3.1 rule 2"},
		{name: "signer certificate missing", bundle: with(token(spoil(testkit.SignOpts{OmitCert: true}), coverT.Add(time.Minute))), seq: -1, fragment: "§3.1 rule 2"},
		{name: "two signers", bundle: with(token(spoil(testkit.SignOpts{TwoSigners: true}), coverT.Add(time.Minute))), seq: -1, fragment: "§3.1 rule 2"},
		{name: "bad signature", bundle: with(token(spoil(testkit.SignOpts{CorruptSig: true}), coverT.Add(time.Minute))), seq: -1, fragment: "§3.1 rule 2"},
		{name: "status rejection", bundle: with(token(status, coverT.Add(time.Minute))), seq: -1, fragment: "§3.1 rule 1"},
		{name: "not a TimeStampResp", bundle: with([]byte("garbage")), seq: -1, fragment: "§3.1"},
	}
	runBundleCases(t, fx, cases)
}

// TestBundleV1 makes a small ledger without rotations, checkpoints elements
// or TSA roots, whose v2 bundle is also a valid v1 bundle once its format is
// changed ("v2 without rotations, checkpoints and tsa_roots", §7.3).
func TestBundleV1(t *testing.T) {
	t.Parallel()
	fx := getFixture(t)
	s := newSession(t, t.TempDir(), "v1")
	s.must("init", "--name", "Grace")
	s.must("asset", "new", "logo")
	s.must("note", "-a", "logo", "one")
	s.must("export", "logo", "-o", s.path("v2.pdf"))
	pdf, _ := os.ReadFile(s.path("v2.pdf"))
	ev := extractEvidence(t, s.path("v2.pdf"))
	cert := pdfSignerCert(t, pdf)
	wantOK(t, Bundle(ev, cert))
	m := decodeBundle(t, ev)
	for _, k := range []string{"rotations", "checkpoints", "tsa_roots"} {
		if _, has := m[k]; has {
			t.Skipf("the small pack has %s; it cannot be read as v1", k)
		}
	}
	v1 := editBundle(t, ev, func(m bundleMap) { m["format"] = "cairn.evidence-bundle/v1" })
	v := Bundle(v1, cert)
	wantOK(t, v)
	re, err := testkit.ResignPDF(pdf, v1, s.pdfSigner())
	if err != nil {
		t.Fatal(err)
	}
	ok, out := fx.cairnPack(t, re)
	compare(t, "bundle v1", v, ok, out)
	// v1 with an empty rotations list is an error ("a v1 bundle with any of
	// them is an error").
	bad := editBundle(t, v1, func(m bundleMap) { m["rotations"] = []any{} })
	wantFail(t, Bundle(bad, cert), -1, "§7.4 rule 2")
}
