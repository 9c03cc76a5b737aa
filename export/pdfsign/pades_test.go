package pdfsign

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/cairn-ledger/cairn/internal/testtsa"
	"github.com/cairn-ledger/cairn/ledger/rfc3161"
)

// stamper is a Signer.Timestamp backed by test TSAs on loopback, through
// cairn's RFC 3161 client; pick chooses the TSA for each call.
type stamper struct {
	tsas  []*testtsa.TSA
	pick  func(call int) int
	mu    sync.Mutex
	calls int
}

func (s *stamper) stamp(data []byte) ([]byte, error) {
	s.mu.Lock()
	tsa := s.tsas[0]
	if s.pick != nil {
		tsa = s.tsas[s.pick(s.calls)]
	}
	s.calls++
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tok, err := rfc3161.Fetch(ctx, tsa.URL, data, nil, tsa.Roots())
	if err != nil {
		return nil, err
	}
	return TokenFromResponse(tok.Response)
}

func startTSA(t testing.TB, name string) *testtsa.TSA {
	t.Helper()
	tsa, err := testtsa.Start(name)
	if err != nil {
		t.Fatal(err)
	}
	return tsa
}

type stampedFixture struct {
	fixture
	tsa   *testtsa.TSA
	calls int
}

var (
	stampOnce sync.Once
	stampFix  stampedFixture
	stampErr  error
)

// timestampedFixture signs one document with a signature timestamp once per
// test binary. Its TSA runs until the binary exits.
func timestampedFixture(t testing.TB) stampedFixture {
	t.Helper()
	stampOnce.Do(func() {
		f := signedFixture(t)
		stampFix.fixture = fixture{pdf: f.pdf, signer: f.signer, files: f.files}
		stampFix.tsa = startTSA(t, "pdfsign test TSA")
		st := &stamper{tsas: []*testtsa.TSA{stampFix.tsa}}
		stampFix.signer.Timestamp = st.stamp
		stampFix.signed, stampErr = Sign(f.pdf, f.files, stampFix.signer)
		stampFix.calls = st.calls
	})
	if stampErr != nil {
		t.Fatal(stampErr)
	}
	return stampFix
}

func TestTimestampVerify(t *testing.T) {
	f := timestampedFixture(t)
	if f.calls != 2 {
		t.Errorf("the TSA was asked %d times, want 2 (one token to learn its certificate, one over the signature)", f.calls)
	}
	rep, err := Verify(f.signed)
	if err != nil {
		t.Fatal(err)
	}
	if rep.SignatureTimestamp == nil || len(rep.TimestampCerts) != 1 || rep.TimestampCerts[0].Subject.CommonName != "pdfsign test TSA" {
		t.Fatalf("signature timestamp %d bytes, certificates %v", len(rep.SignatureTimestamp), rep.TimestampCerts)
	}
	if rep.DSS == nil || len(rep.DSS.Certs) != 2 || !rep.DSS.Certs[0].Equal(f.signer.Chain[0]) || !rep.DSS.Certs[1].Equal(rep.TimestampCerts[0]) {
		t.Errorf("DSS %+v, want the signer's and the TSA's certificates", rep.DSS)
	}
	// The token is over this signature, as a second RFC 3161 reader sees it.
	resp := wrapToken(t, rep.SignatureTimestamp)
	tok, err := rfc3161.Verify(resp, rep.SignatureValue, f.tsa.Roots(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(tok.Time); d < -time.Minute || d > time.Minute {
		t.Errorf("token time %v", tok.Time)
	}
	// Without a timestamp there is no DSS, and the file is as before.
	if plain, _ := Verify(signedFixture(t).signed); plain.DSS != nil || plain.SignatureTimestamp != nil {
		t.Error("an untimestamped signature has a DSS or a token")
	}
	update := string(f.signed[len(f.pdf):])
	for _, want := range []string{"/DSS ", "/Type /DSS", "/Certs [", "/ExtensionLevel 5"} {
		if !strings.Contains(update, want) {
			t.Errorf("update lacks %q", want)
		}
	}
}

// wrapToken makes a TimeStampResp (status granted) of a token, the form
// rfc3161.Verify reads.
func wrapToken(t testing.TB, token []byte) []byte {
	t.Helper()
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1Int64(0) })
		b.AddBytes(token)
	})
	return b.BytesOrPanic()
}

// TestTimestampOpenssl checks the signature timestamp with OpenSSL alone:
// the attribute is in the CMS, the CMS still verifies, and the token verifies
// over the signature value that smallstep/pkcs7 reads from the SignerInfo.
func TestTimestampOpenssl(t *testing.T) {
	f := timestampedFixture(t)
	der, content := extractCMS(t, f.signed)
	dir := t.TempDir()
	sig, data, cert := filepath.Join(dir, "sig.der"), filepath.Join(dir, "signed-bytes"), filepath.Join(dir, "cert.pem")
	os.WriteFile(sig, der, 0o644)
	os.WriteFile(data, content, 0o644)
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.signer.Chain[0].Raw}), 0o644)
	out, err := run(t, "openssl", "cms", "-cmsout", "-print", "-inform", "DER", "-in", sig)
	if err != nil {
		t.Fatalf("openssl cms -cmsout -print: %v\n%s", err, out)
	}
	unsigned := out[strings.Index(out, "unsignedAttrs:"):]
	if !strings.Contains(unsigned, "id-smime-aa-timeStampToken") {
		t.Errorf("openssl finds no id-smime-aa-timeStampToken among the unsigned attributes:\n%s", unsigned[:min(len(unsigned), 2000)])
	}
	if out, err := run(t, "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", sig, "-content", data, "-CAfile", cert, "-purpose", "any", "-out", os.DevNull); err != nil || !strings.Contains(out, "Verification successful") {
		t.Fatalf("openssl cms -verify: %v\n%s", err, out)
	}

	p7, err := pkcs7.Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	var token []byte
	for _, a := range p7.Signers[0].UnauthenticatedAttributes {
		if a.Type.Equal(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}) {
			token = a.Value.Bytes
		}
	}
	if token == nil {
		t.Fatal("smallstep/pkcs7 finds no signature timestamp")
	}
	tok, sigValue, root := filepath.Join(dir, "token.der"), filepath.Join(dir, "sigvalue"), filepath.Join(dir, "tsa-root.pem")
	os.WriteFile(tok, token, 0o644)
	os.WriteFile(sigValue, p7.Signers[0].EncryptedDigest, 0o644)
	os.WriteFile(root, f.tsa.RootPEM, 0o644)
	args := []string{"ts", "-verify", "-token_in", "-in", tok, "-data", sigValue, "-CAfile", root}
	if out, err := run(t, "openssl", args...); err != nil || !strings.Contains(out, "Verification: OK") {
		t.Fatalf("openssl ts -verify of the token over the signature value: %v\n%s", err, out)
	}
	os.WriteFile(sigValue, append(p7.Signers[0].EncryptedDigest, 0), 0o644)
	if out, err := run(t, "openssl", args...); err == nil {
		t.Fatalf("openssl ts -verify accepted the token over other bytes:\n%s", out)
	}
}

func TestTimestampPdfsigQpdf(t *testing.T) {
	f := timestampedFixture(t)
	in := writeTemp(t, "stamped.pdf", f.signed)
	out, err := run(t, "pdfsig", in)
	if err != nil {
		t.Fatalf("pdfsig: %v\n%s", err, out)
	}
	for _, want := range []string{"Signature Validation: Signature is Valid.", "Total document signed"} {
		if !strings.Contains(out, want) {
			t.Errorf("pdfsig output lacks %q:\n%s", want, out)
		}
	}
	if out, err := run(t, "qpdf", "--check", in); err != nil || !strings.Contains(out, "No syntax or stream encoding errors found") {
		t.Errorf("qpdf --check: %v\n%s", err, out)
	}
}

// TestDSSWithQpdf reads the DSS with qpdf's JSON: the catalog's /DSS
// /Certs streams are the signer's and the TSA's certificates.
func TestDSSWithQpdf(t *testing.T) {
	f := timestampedFixture(t)
	out, err := run(t, "qpdf", "--json=2", "--json-key=qpdf", "--json-stream-data=inline", writeTemp(t, "stamped.pdf", f.signed))
	if err != nil {
		t.Fatalf("qpdf --json: %v\n%s", err, out[:min(len(out), 500)])
	}
	var j struct {
		QPDF []map[string]json.RawMessage `json:"qpdf"`
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil || len(j.QPDF) != 2 {
		t.Fatalf("qpdf JSON: %v", err)
	}
	objects := j.QPDF[1]
	value := func(key string) map[string]json.RawMessage {
		var o struct {
			Value  map[string]json.RawMessage `json:"value"`
			Stream struct {
				Data string `json:"data"`
			} `json:"stream"`
		}
		if err := json.Unmarshal(objects[key], &o); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		return o.Value
	}
	ref := func(m map[string]json.RawMessage, k string) string {
		var s string
		json.Unmarshal(m[k], &s)
		return "obj:" + s
	}
	var trailer struct {
		Value map[string]json.RawMessage `json:"value"`
	}
	json.Unmarshal(objects["trailer"], &trailer)
	dss := value(ref(value(ref(trailer.Value, "/Root")), "/DSS"))
	var certRefs []string
	json.Unmarshal(dss["/Certs"], &certRefs)
	var got [][]byte
	for _, r := range certRefs {
		var o struct {
			Stream struct {
				Data string `json:"data"`
			} `json:"stream"`
		}
		json.Unmarshal(objects["obj:"+r], &o)
		b, err := base64.StdEncoding.DecodeString(o.Stream.Data)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, b)
	}
	rep, _ := Verify(f.signed)
	want := [][]byte{f.signer.Chain[0].Raw, rep.TimestampCerts[0].Raw}
	if !slices.EqualFunc(got, want, bytes.Equal) {
		t.Errorf("qpdf reads %d certificates in /DSS /Certs, not the signer's and the TSA's", len(got))
	}
}

// replaceUnsigned rebuilds a CMS ContentInfo with token as its only unsigned
// attribute, or with none if token is nil.
func replaceUnsigned(t testing.TB, der, token []byte) []byte {
	t.Helper()
	elements := func(s cryptobyte.String) []cryptobyte.String {
		var out []cryptobyte.String
		for !s.Empty() {
			var e cryptobyte.String
			if !s.ReadAnyASN1Element(&e, new(cbasn1.Tag)) {
				t.Fatal("malformed DER")
			}
			out = append(out, e)
		}
		return out
	}
	in := cryptobyte.String(der)
	var ci, explicit, sd, infos, si cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !in.ReadASN1(&ci, cbasn1.SEQUENCE) || !ci.ReadASN1ObjectIdentifier(&oid) ||
		!ci.ReadASN1(&explicit, cbasn1.Tag(0).Constructed().ContextSpecific()) || !explicit.ReadASN1(&sd, cbasn1.SEQUENCE) {
		t.Fatal("no SignedData")
	}
	parts := elements(sd)
	head, last := parts[:len(parts)-1], cryptobyte.String(parts[len(parts)-1])
	if !last.ReadASN1(&infos, cbasn1.SET) || !infos.ReadASN1(&si, cbasn1.SEQUENCE) {
		t.Fatal("no SignerInfo")
	}
	var siParts []cryptobyte.String
	for _, e := range elements(si) {
		if !e.PeekASN1Tag(cbasn1.Tag(1).Constructed().ContextSpecific()) {
			siParts = append(siParts, e)
		}
	}
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for _, e := range head {
					b.AddBytes(e)
				}
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						for _, e := range siParts {
							b.AddBytes(e)
						}
						if token != nil {
							b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
								b.AddBytes(attribute(oidSignatureTimeStampToken, func(b *cryptobyte.Builder) { b.AddBytes(token) }))
							})
						}
					})
				})
			})
		})
	})
	return b.BytesOrPanic()
}

// withContents puts der into the /Contents of pdf, padded with zeros.
func withContents(t testing.TB, pdf, der []byte) []byte {
	t.Helper()
	rep, err := Verify(pdf)
	if err != nil {
		t.Fatal(err)
	}
	a, b := rep.ByteRange[1], rep.ByteRange[2]
	out := bytes.Clone(pdf)
	hexed := make([]byte, b-a-2)
	for i := range hexed {
		hexed[i] = '0'
	}
	const digits = "0123456789abcdef"
	for i, c := range der {
		hexed[2*i], hexed[2*i+1] = digits[c>>4], digits[c&15]
	}
	copy(out[a+1:b-1], hexed)
	return out
}

// TestTimestampTampered: the token is outside the signature, so anyone can
// remove it or put another in /Contents. A removed one shows in the DSS,
// which the signature covers; a token over anything but this signature
// value is refused.
func TestTimestampTampered(t *testing.T) {
	f := timestampedFixture(t)
	der, _ := extractCMS(t, f.signed)
	stripped := withContents(t, f.signed, replaceUnsigned(t, der, nil))
	if _, err := Verify(stripped); err == nil || !strings.Contains(err.Error(), "was the signature timestamp removed") {
		t.Errorf("token removed: Verify = %v", err)
	}
	other := &stamper{tsas: []*testtsa.TSA{f.tsa}}
	foreign, err := other.stamp([]byte("some other signature"))
	if err != nil {
		t.Fatal(err)
	}
	swapped := withContents(t, f.signed, replaceUnsigned(t, der, foreign))
	if _, err := Verify(swapped); err == nil || !strings.Contains(err.Error(), "not over this signature") {
		t.Errorf("token over other data: Verify = %v", err)
	}
	if _, err := Verify(withContents(t, f.signed, replaceUnsigned(t, der, []byte{0x30, 0x00}))); err == nil {
		t.Error("Verify accepted an empty token")
	}
	// An untimestamped signature may gain a token later: it then only says
	// the signature existed by the token's time, which is true, and there is
	// no DSS to contradict it.
	plain := signedFixture(t)
	pder, _ := extractCMS(t, plain.signed)
	rep, _ := Verify(plain.signed)
	late, err := other.stamp(rep.SignatureValue)
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := Verify(withContents(t, plain.signed, replaceUnsigned(t, pder, late))); err != nil || rep.SignatureTimestamp == nil || rep.DSS != nil {
		t.Errorf("a token added to an untimestamped signature: %v", err)
	}
}

// TestTSACertificateChanges: a TSA that signs with another certificate than
// it did a moment ago (several behind one URL) makes Sign sign again, with a
// DSS that lists the certificate of the token it keeps; one that never
// settles is an error after three signatures.
func TestTSACertificateChanges(t *testing.T) {
	f := signedFixture(t)
	a, b := startTSA(t, "TSA A"), startTSA(t, "TSA B")
	defer a.Close()
	defer b.Close()
	st := &stamper{tsas: []*testtsa.TSA{a, b}, pick: func(call int) int { return min(call, 1) }}
	s := f.signer
	s.Timestamp = st.stamp
	out, err := Sign(f.pdf, f.files, s)
	if err != nil {
		t.Fatal(err)
	}
	if st.calls != 3 {
		t.Errorf("%d calls, want 3 (A to learn, B over the signature, B again)", st.calls)
	}
	rep, err := Verify(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.DSS.Certs) != 2 || rep.DSS.Certs[1].Subject.CommonName != "TSA B" {
		t.Errorf("DSS %v", rep.DSS.Certs)
	}

	flip := &stamper{tsas: []*testtsa.TSA{a, b}, pick: func(call int) int { return call % 2 }}
	s.Timestamp = flip.stamp
	if _, err := Sign(f.pdf, f.files, s); err == nil || !strings.Contains(err.Error(), "three tokens in a row") {
		t.Errorf("a TSA that alternates certificates: Sign = %v", err)
	}
}

func TestTimestampErrors(t *testing.T) {
	f := signedFixture(t)
	down := errors.New("connection refused")
	s := f.signer
	s.Timestamp = func([]byte) ([]byte, error) { return nil, down }
	if _, err := Sign(f.pdf, f.files, s); !errors.Is(err, down) {
		t.Errorf("unreachable TSA: Sign = %v, want it wrapped", err)
	}
	s.Timestamp = func([]byte) ([]byte, error) { return []byte("garbage"), nil }
	if _, err := Sign(f.pdf, f.files, s); err == nil || !strings.Contains(err.Error(), "signature timestamp") {
		t.Errorf("garbage token: Sign = %v", err)
	}
	// A token over something else than what Sign asked for.
	tsa := timestampedFixture(t).tsa
	st := &stamper{tsas: []*testtsa.TSA{tsa}}
	s.Timestamp = func(data []byte) ([]byte, error) { return st.stamp(append(data, 'x')) }
	if _, err := Sign(f.pdf, f.files, s); err == nil || !strings.Contains(err.Error(), "not over the signature value") {
		t.Errorf("token over other bytes: Sign = %v", err)
	}
}

// caChain makes a root, an intermediate and an RSA-2048 leaf for document
// signing under them, as a firm's CA would issue.
func caChain(t testing.TB, cn string) (root *x509.Certificate, chain []*x509.Certificate, leafKey *rsa.PrivateKey) {
	t.Helper()
	mk := func(tmpl, parent *x509.Certificate, pub, priv any) *x509.Certificate {
		return mustCert(t, tmpl, parent, pub, priv)
	}
	from, to := time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	rootKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rootT := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn + " Root CA"}, NotBefore: from, NotAfter: to,
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	root = mk(rootT, rootT, rootKey.Public(), rootKey)
	interKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	interT := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: cn + " Issuing CA"}, NotBefore: from, NotAfter: to,
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	inter := mk(interT, root, interKey.Public(), rootKey)
	leafKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	leafT := &x509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "Mr. J. de Vries", Organization: []string{cn}}, NotBefore: from, NotAfter: to,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment}
	leaf := mk(leafT, inter, leafKey.Public(), interKey)
	return root, []*x509.Certificate{leaf, inter}, leafKey
}

// TestCAChain signs with an RSA key whose certificate a CA issued, with the
// intermediate in the CMS: openssl verifies it against the root alone.
func TestCAChain(t *testing.T) {
	f := signedFixture(t)
	root, chain, key := caChain(t, "Advocaten de Vries")
	s := Signer{Key: key, Chain: chain, Name: "Mr. J. de Vries", Time: fixedTime}
	out, err := Sign(f.pdf, f.files, s)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(out)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.SignerCert.Equal(chain[0]) || len(rep.Certificates) != 2 {
		t.Errorf("signer %v, %d certificates", rep.SignerCert.Subject, len(rep.Certificates))
	}
	der, content := extractCMS(t, out)
	dir := t.TempDir()
	sig, data := filepath.Join(dir, "sig.der"), filepath.Join(dir, "signed-bytes")
	os.WriteFile(sig, der, 0o644)
	os.WriteFile(data, content, 0o644)
	verify := func(ca *x509.Certificate) (string, error) {
		p := filepath.Join(dir, "ca.pem")
		os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw}), 0o644)
		return run(t, "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", sig, "-content", data, "-CAfile", p, "-purpose", "any", "-out", os.DevNull)
	}
	if out, err := verify(root); err != nil || !strings.Contains(out, "Verification successful") {
		t.Fatalf("openssl cms -verify against the root: %v\n%s", err, out)
	}
	otherRoot, _, _ := caChain(t, "Someone Else")
	if out, err := verify(otherRoot); err == nil {
		t.Fatalf("openssl cms -verify accepted another root:\n%s", out)
	}
	pdf := writeTemp(t, "ca.pdf", out)
	if out, err := run(t, "pdfsig", pdf); err != nil || !strings.Contains(out, "Signature Validation: Signature is Valid.") || !strings.Contains(out, "Total document signed") {
		t.Errorf("pdfsig: %v\n%s", err, out)
	}
	if out, err := run(t, "qpdf", "--check", pdf); err != nil || !strings.Contains(out, "No syntax or stream encoding errors found") {
		t.Errorf("qpdf --check: %v\n%s", err, out)
	}
}

func TestSignerKeys(t *testing.T) {
	f := signedFixture(t)
	certFor := func(pub, priv any) *x509.Certificate {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(9), Subject: pkix.Name{CommonName: "k"}, NotBefore: fixedTime, NotAfter: fixedTime.Add(time.Hour)}
		return mustCert(t, tmpl, tmpl, pub, priv)
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsa1024, _ := rsa.GenerateKey(rand.Reader, 1024)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	for name, tc := range map[string]struct {
		s    Signer
		want string
	}{
		"P-384":    {Signer{Key: p384, Chain: []*x509.Certificate{certFor(p384.Public(), p384)}, Time: fixedTime}, "only P-256"},
		"RSA-1024": {Signer{Key: rsa1024, Chain: []*x509.Certificate{certFor(rsa1024.Public(), rsa1024)}, Time: fixedTime}, "at least 2048"},
		"Ed25519":  {Signer{Key: ed, Chain: []*x509.Certificate{certFor(ed.Public(), ed)}, Time: fixedTime}, "ECDSA P-256 or RSA"},
	} {
		if _, err := Sign(f.pdf, nil, tc.s); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Sign = %v, want %q", name, err, tc.want)
		}
	}
}
