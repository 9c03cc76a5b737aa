package rfc3161

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
)

// A testTSA is a time-stamping authority made inside the test: a root CA and a TSA
// certificate issued by it, answering with digitorus/timestamp.
type testTSA struct {
	root    *x509.Certificate
	rootKey crypto.Signer
	roots   *x509.CertPool
	cert    *x509.Certificate
	key     crypto.Signer
	chain   []*x509.Certificate // intermediates sent in the token, if any

	// Knobs for bad TSAs.
	noCerts bool                     // leave the certificates out of the token
	status  int                      // PKIStatus to send instead of granted
	imprint func([]byte) []byte      // rewrite the hashed message before signing
	nonce   func(*big.Int) *big.Int  // rewrite the nonce before signing
	now     time.Time                // genTime; zero means time.Now
	rewrite func(resp []byte) []byte // rewrite the whole response
}

type ekuMode int

const (
	ekuCritical    ekuMode = iota // RFC 3161: critical, timeStamping only
	ekuMissing                    // no extended key usage at all
	ekuNonCritical                // timeStamping, but not critical
	ekuExtra                      // critical, timeStamping and serverAuth
)

var testPolicy = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 3161, 1}

func mustKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustCert(t testing.TB, tmpl, parent *x509.Certificate, pub any, signer crypto.Signer) *x509.Certificate {
	t.Helper()
	if parent == nil {
		parent = tmpl // self-signed
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ekuExtension(t testing.TB, critical bool, oids ...asn1.ObjectIdentifier) pkix.Extension {
	t.Helper()
	v, err := asn1.Marshal(oids)
	if err != nil {
		t.Fatal(err)
	}
	return pkix.Extension{Id: oidExtKeyUsage, Critical: critical, Value: v}
}

// newTestTSA makes a root, optionally an intermediate, and a TSA certificate.
func newTestTSA(t testing.TB, mode ekuMode, intermediate bool) *testTSA {
	t.Helper()
	notBefore := time.Now().Add(-time.Hour)
	notAfter := time.Now().Add(24 * time.Hour)
	rootKey := mustKey(t)
	root := mustCert(t, &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "cairn test root"},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}, nil, rootKey.Public(), rootKey)
	a := &testTSA{root: root, rootKey: rootKey, roots: x509.NewCertPool()}
	a.roots.AddCert(root)

	issuer, issuerKey := root, crypto.Signer(rootKey)
	if intermediate {
		k := mustKey(t)
		ic := mustCert(t, &x509.Certificate{
			SerialNumber:          big.NewInt(2),
			Subject:               pkix.Name{CommonName: "cairn test intermediate"},
			NotBefore:             notBefore,
			NotAfter:              notAfter,
			IsCA:                  true,
			BasicConstraintsValid: true,
			KeyUsage:              x509.KeyUsageCertSign,
		}, root, k.Public(), rootKey)
		a.chain = []*x509.Certificate{ic}
		issuer, issuerKey = ic, k
	}

	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(3),
		Subject:      pkix.Name{CommonName: "cairn test TSA", Organization: []string{"cairn"}},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	switch mode {
	case ekuCritical:
		// crypto/x509 writes ExtKeyUsage as non-critical; RFC 3161 needs it critical.
		tmpl.ExtraExtensions = []pkix.Extension{ekuExtension(t, true, oidTimeStamping)}
	case ekuNonCritical:
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}
	case ekuExtra:
		tmpl.ExtraExtensions = []pkix.Extension{ekuExtension(t, true, oidTimeStamping,
			asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 1})}
	}
	a.key = mustKey(t)
	a.cert = mustCert(t, tmpl, issuer, a.key.Public(), issuerKey)
	return a
}

// respond answers a DER TimeStampReq.
func (a *testTSA) respond(t testing.TB, reqDER []byte) []byte {
	t.Helper()
	req, err := timestamp.ParseRequest(reqDER)
	if err != nil {
		t.Fatalf("test TSA: %v", err)
	}
	ts := &timestamp.Timestamp{
		HashAlgorithm:     req.HashAlgorithm,
		HashedMessage:     req.HashedMessage,
		Time:              a.now,
		Nonce:             req.Nonce,
		Policy:            testPolicy,
		Accuracy:          time.Second,
		AddTSACertificate: req.Certificates && !a.noCerts,
		Certificates:      a.chain,
	}
	if ts.Time.IsZero() {
		ts.Time = time.Now().UTC().Truncate(time.Second)
	}
	if a.imprint != nil {
		ts.HashedMessage = a.imprint(ts.HashedMessage)
	}
	if a.nonce != nil {
		ts.Nonce = a.nonce(ts.Nonce)
	}
	resp, err := ts.CreateResponseWithOpts(a.cert, a.key, crypto.SHA256)
	if err != nil {
		t.Fatalf("test TSA: %v", err)
	}
	if a.status != 0 {
		resp = setStatus(t, resp, a.status)
	}
	if a.rewrite != nil {
		resp = a.rewrite(resp)
	}
	return resp
}

// setStatus re-encodes resp with another PKIStatus, keeping its token.
func setStatus(t testing.TB, resp []byte, status int) []byte {
	t.Helper()
	var r timeStampResp
	if _, err := asn1.Unmarshal(resp, &r); err != nil {
		t.Fatal(err)
	}
	r.Status.Status = status
	out, err := asn1.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// stamp returns a response over data with the TSA's current settings, and the
// nonce the request carried.
func (a *testTSA) stamp(t testing.TB, data []byte) ([]byte, *big.Int) {
	t.Helper()
	req, nonce, err := Request(data)
	if err != nil {
		t.Fatal(err)
	}
	return a.respond(t, req), nonce
}

// serve runs the TSA over HTTP on loopback, as RFC 3161 §3.4 describes.
func (a *testTSA) serve(t testing.TB) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/timestamp-query" {
			http.Error(w, "want POST application/timestamp-query", http.StatusBadRequest)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		resp := a.respond(t, body)
		w.Header().Set("Content-Type", "application/timestamp-reply")
		w.Write(resp)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func writePEM(t testing.TB, path string, certs ...*x509.Certificate) {
	t.Helper()
	var b []byte
	for _, c := range certs {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// requireOpenSSL returns the openssl binary, skipping the test without one
// locally and failing it in CI, where its absence is a broken setup.
func requireOpenSSL(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("openssl is required in CI: apt-get install openssl")
		}
		t.Skip("openssl not installed")
	}
	return path
}

func run(t testing.TB, dir, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func mustRun(t testing.TB, dir, name string, args ...string) string {
	t.Helper()
	out, err := run(t, dir, name, args...)
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return out
}

func x509CertPool(t testing.TB, pemData []byte) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemData) {
		t.Fatal("no certificates in PEM")
	}
	return pool
}
