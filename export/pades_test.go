package export

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/internal/testtsa"
	"github.com/cairn-ledger/cairn/ledger/rfc3161"
)

// TestExportSignatureTimestamp: with a TSA the pack's signature is
// timestamped, and verify-pack reports its time and TSA, checked or not.
func TestExportSignatureTimestamp(t *testing.T) {
	f := newFixture(t)
	tsa := newTestTSA(t, "signature TSA")
	before := time.Now().Add(-2 * time.Second)
	p, err := ExportPack(f.book, f.id, "poster", Options{TSA: &TSAOptions{URL: tsa.url, Roots: tsa.pool()}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Timestamp == nil || !p.Checked || p.Timestamp.Time.Before(before) {
		t.Fatalf("pack timestamp %+v, checked %v", p.Timestamp, p.Checked)
	}
	rep, err := VerifyPackWith(p.PDF, VerifyOptions{Trust: trustOf(tsa.pool())})
	if err != nil {
		t.Fatal(err)
	}
	st := rep.SignatureTimestamp
	if st == nil || !st.Checked || !st.Time.Equal(p.Timestamp.Latest()) || !strings.Contains(st.TSA, "signature TSA") {
		t.Errorf("report's signature timestamp %+v", st)
	}
	if rep.DSSCerts != 2 {
		t.Errorf("DSS holds %d certificates, want the signer's and the TSA's", rep.DSSCerts)
	}
	rep, err = VerifyPack(p.PDF)
	if err != nil || rep.SignatureTimestamp == nil || rep.SignatureTimestamp.Checked {
		t.Errorf("without roots: %v, %+v", err, rep.SignatureTimestamp)
	}
	other := newTestTSA(t, "another TSA")
	if _, err := VerifyPackWith(p.PDF, VerifyOptions{Trust: trustOf(other.pool())}); err == nil || !strings.Contains(err.Error(), "signature time: the signature timestamp: TSA certificate") {
		t.Errorf("another TSA root: %v", err)
	}
	// No TSA: as before, with a line that says so.
	rep, err = VerifyPack(f.export(t, Options{}))
	if err != nil || rep.SignatureTimestamp != nil || rep.DSSCerts != 0 {
		t.Errorf("untimestamped pack: %v", err)
	}
}

// TestExportTSAUnreachable: a TSA that refuses the connection, answers with
// an error, or never answers fails the export within its bound, with an
// error that says so, and no pack.
func TestExportTSAUnreachable(t *testing.T) {
	f := newFixture(t)
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-hang }))
	defer slow.Close()
	defer close(hang)
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) }))
	defer broken.Close()
	refused := httptest.NewServer(http.NotFoundHandler())
	refusedURL := refused.URL
	refused.Close()
	for _, tc := range []struct{ url, want string }{
		{slow.URL, "no answer within 300ms"},
		{broken.URL, "503"},
		{refusedURL, "connection refused"},
	} {
		start := time.Now()
		p, err := ExportPack(f.book, f.id, "poster", Options{TSA: &TSAOptions{URL: tc.url, Timeout: 300 * time.Millisecond}})
		var te *TSAError
		if !errors.As(err, &te) || p != nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: ExportPack = %v, want a TSAError containing %q", tc.url, err, tc.want)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: took %v despite a 300ms bound", tc.url, d)
		}
	}
}

// TestExportBackdatedTSA: a token earlier than the records the signature
// covers is false; the export refuses it, and verify-pack would too.
func TestExportBackdatedTSA(t *testing.T) {
	f := newFixture(t)
	past, err := testtsa.StartAt("backdating TSA", func() time.Time { return time.Now().Add(-48 * time.Hour) })
	if err != nil {
		t.Fatal(err)
	}
	defer past.Close()
	_, err = ExportPack(f.book, f.id, "poster", Options{TSA: &TSAOptions{URL: past.URL, Roots: past.Roots()}})
	var te *TSAError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "earlier than the newest record the signature covers") {
		t.Errorf("backdated token: %v", err)
	}

	rep := &Report{sigToken: &rfc3161.Token{Time: time.Now().Add(-time.Hour), TSA: "CN=x"}}
	checkSignatureTimestamp(rep, nil, time.Now())
	if rep.OK() || !strings.Contains(rep.Checks[0].Detail, "earlier than the newest record") {
		t.Errorf("verify-pack of a backdated signature timestamp: %+v", rep.Checks)
	}
}

// firmCA is a firm's CA: a root, an issuing CA and a document-signing
// certificate under it.
type firmCA struct {
	root   *x509.Certificate
	signer *CertSigner
}

func newFirmCA(t testing.TB, name string, leafTmpl *x509.Certificate) *firmCA {
	t.Helper()
	mk := func(tmpl, parent *x509.Certificate, pub, priv any) *x509.Certificate {
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, priv)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	from, to := time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	rootKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rootT := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name + " Root CA"}, NotBefore: from, NotAfter: to,
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	root := mk(rootT, rootT, rootKey.Public(), rootKey)
	issKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	issT := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name + " Issuing CA"}, NotBefore: from, NotAfter: to,
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	iss := mk(issT, root, issKey.Public(), rootKey)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if leafTmpl == nil {
		leafTmpl = &x509.Certificate{KeyUsage: x509.KeyUsageDigitalSignature, NotBefore: from, NotAfter: to}
	}
	leafTmpl.SerialNumber = big.NewInt(3)
	leafTmpl.Subject = pkix.Name{CommonName: "Mr. J. de Vries", Organization: []string{name}}
	leaf := mk(leafTmpl, iss, key.Public(), issKey)
	return &firmCA{root: root, signer: &CertSigner{Key: key, Chain: []*x509.Certificate{leaf, iss}}}
}

func (ca *firmCA) roots() *evidence.Roots {
	p := x509.NewCertPool()
	p.AddCert(ca.root)
	return &evidence.Roots{Pool: p, Certs: []*x509.Certificate{ca.root}, Anchor: evidence.Anchor{Source: "--ca-roots (test)", Independent: true}}
}

// TestExportCASigner: a custodian without a cairn identity signs with a
// CA-issued certificate. verify-pack names them as exporter, never author,
// checks the chain against the verifier's CA roots only (at the signature
// timestamp's time when a trusted one dates it), and says so when it cannot.
func TestExportCASigner(t *testing.T) {
	f := newFixture(t)
	if _, err := Anchor(f.book, f.id.Key); err != nil { // a checkpoint an author signed
		t.Fatal(err)
	}
	ca := newFirmCA(t, "Advocaten de Vries", nil)
	tsa := newTestTSA(t, "signature TSA")
	pdf, err := Export(f.book, nil, "poster", Options{SignWith: ca.signer, TSA: &TSAOptions{URL: tsa.url, Roots: tsa.pool()}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := VerifyPackWith(pdf, VerifyOptions{Trust: withCA(trustOf(tsa.pool()), ca.roots())})
	if err != nil {
		t.Fatal(err)
	}
	e := rep.Exporter
	if e == nil || !e.Custodian || e.Key != "" || e.Certificate == nil || !e.Certificate.ChainChecked ||
		!strings.Contains(e.Certificate.Root, "Advocaten de Vries Root CA") || e.Name != "Mr. J. de Vries" {
		t.Fatalf("exporter %+v", e)
	}
	if st := rep.SignatureTimestamp; st == nil || !e.Certificate.At.Equal(st.Time.Add(-time.Second)) {
		t.Errorf("chain checked at %v; the signature timestamp says %+v", e.Certificate.At, st)
	}
	for _, a := range rep.Authors {
		if a.Name == e.Name {
			t.Errorf("the certificate's holder is listed as an author")
		}
	}
	if rep.DSSCerts != 3 {
		t.Errorf("DSS holds %d certificates, want leaf, issuing CA and TSA", rep.DSSCerts)
	}
	// Without CA roots: passed, NOT checked. With other roots: failed. Roots
	// in the pack (the issuing CA is in the CMS) never count.
	rep, err = VerifyPack(pdf)
	if err != nil || rep.Exporter.Certificate == nil || rep.Exporter.Certificate.ChainChecked {
		t.Errorf("without CA roots: %v %+v", err, rep.Exporter)
	}
	other := newFirmCA(t, "Someone Else", nil)
	if _, err := VerifyPackWith(pdf, VerifyOptions{Trust: withCA(nil, other.roots())}); err == nil || !strings.Contains(err.Error(), "does not chain to the CA roots") {
		t.Errorf("other CA roots: %v", err)
	}
	issuing := x509.NewCertPool()
	issuing.AddCert(ca.signer.Chain[1])
	rep, err = VerifyPackWith(pdf, VerifyOptions{Trust: withCA(nil, &evidence.Roots{Pool: issuing, Anchor: evidence.Anchor{Source: "test"}})})
	if err != nil || !rep.Exporter.Certificate.ChainChecked {
		t.Errorf("the verifier may trust the issuing CA itself: %v", err)
	}

	// An author signing with the firm's certificate stays the author.
	pdf = f.export(t, Options{SignWith: ca.signer})
	rep, err = VerifyPackWith(pdf, VerifyOptions{Trust: withCA(nil, ca.roots())})
	if err != nil || rep.Exporter.Certificate == nil || len(rep.Authors) != 1 || rep.Authors[0].Name != "Ada Lovelace" {
		t.Errorf("author with a CA certificate: %v, %+v", err, rep.Authors)
	}
}

func TestCheckCertSigner(t *testing.T) {
	now := time.Now()
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 1024)
	urn, _ := url.Parse("urn:cairn:ed25519:" + strings.Repeat("ab", 32))
	for name, tc := range map[string]struct {
		tmpl *x509.Certificate
		edit func(*CertSigner)
		want string
	}{
		"expired":     {&x509.Certificate{KeyUsage: x509.KeyUsageDigitalSignature, NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-24 * time.Hour)}, nil, "expired on"},
		"not yet":     {&x509.Certificate{KeyUsage: x509.KeyUsageDigitalSignature, NotBefore: now.Add(time.Hour), NotAfter: now.Add(48 * time.Hour)}, nil, "is valid only from"},
		"key usage":   {&x509.Certificate{KeyUsage: x509.KeyUsageKeyEncipherment, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}, nil, "may not sign documents"},
		"cairn URN":   {&x509.Certificate{NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), URIs: []*url.URL{urn}}, nil, "names a cairn key"},
		"other key":   {nil, func(s *CertSigner) { s.Key, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader) }, "is not the certificate of the private key"},
		"weak RSA":    {nil, func(s *CertSigner) { s.Key = rsaKey }, "at least 2048"},
		"P-384":       {nil, func(s *CertSigner) { s.Key, _ = ecdsa.GenerateKey(elliptic.P384(), rand.Reader) }, "PDF readers validate P-256"},
		"good, as is": {nil, nil, ""},
	} {
		ca := newFirmCA(t, "Firm", tc.tmpl)
		if tc.edit != nil {
			tc.edit(ca.signer)
		}
		err := CheckCertSigner(ca.signer, now)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: CheckCertSigner = %v, want %q", name, err, tc.want)
		}
	}
}

// withCA is the verifier's trust t (nil: none) with the CA roots it trusts.
func withCA(t *evidence.Trust, ca *evidence.Roots) *evidence.Trust {
	if t == nil {
		t = &evidence.Trust{}
	}
	t.CA = ca
	return t
}
