package rfc3161

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/pkcs7"
	"github.com/digitorus/timestamp"

	"github.com/cairn-ledger/cairn/internal/testtsa"
)

// checkpoint is a signed checkpoint note as cairn stores it: the bytes a token covers.
var checkpoint = []byte("cairn.example/ledger/3f2a\n42\nq1Rq9Zo0n3DLd7S9u3l7nB5wFX4lW4h8m0k2v0bS3yo=\n\n" +
	"— cairn.example/ledger/3f2a 8h2Kx0J1mQ3h4c1X0Y8sQm3zGkqZr2m0fA3nF5q0bN9x8W5rT1k2v3s4u5w6y7z8A9B0C1D2E3F4G5H6I7J8K9L0M1N2==\n")

func TestFetchVerifyRoundTrip(t *testing.T) {
	for _, intermediate := range []bool{false, true} {
		tsa := newTestTSA(t, ekuCritical, intermediate)
		srv := tsa.serve(t)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		tok, err := Fetch(ctx, srv.URL, checkpoint, srv.Client(), tsa.roots)
		if err != nil {
			t.Fatalf("intermediate=%v: Fetch: %v", intermediate, err)
		}
		sum := sha256.Sum256(checkpoint)
		if !bytes.Equal(tok.HashedMessage, sum[:]) {
			t.Errorf("HashedMessage = %x, want %x", tok.HashedMessage, sum)
		}
		if d := time.Since(tok.Time); d < -time.Minute || d > time.Minute {
			t.Errorf("Time = %v, want about now", tok.Time)
		}
		if tok.TSA != "CN=cairn test TSA,O=cairn" {
			t.Errorf("TSA = %q", tok.TSA)
		}
		if tok.Nonce == nil || tok.Serial == nil || tok.Accuracy != time.Second || tok.Policy != testPolicy.String() {
			t.Errorf("token = %+v", tok)
		}
		// The stored response verifies again, later, on its own.
		again, err := Verify(tok.Response, checkpoint, tsa.roots, tok.Nonce)
		if err != nil {
			t.Fatalf("Verify of stored response: %v", err)
		}
		if !again.Time.Equal(tok.Time) || again.Serial.Cmp(tok.Serial) != 0 {
			t.Errorf("Verify = %+v, Fetch = %+v", again, tok)
		}
		if _, err := Verify(tok.Response, checkpoint, tsa.roots, nil); err != nil {
			t.Errorf("Verify without nonce: %v", err)
		}
	}
}

func TestRequest(t *testing.T) {
	req, nonce, err := Request(checkpoint)
	if err != nil {
		t.Fatal(err)
	}
	r, err := timestamp.ParseRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(checkpoint)
	if !bytes.Equal(r.HashedMessage, sum[:]) || !r.Certificates || r.Nonce.Cmp(nonce) != 0 || nonce.BitLen() > 64 {
		t.Errorf("request = %+v, nonce %v", r, nonce)
	}
	_, nonce2, _ := Request(checkpoint)
	if nonce.Cmp(nonce2) == 0 {
		t.Error("two requests share a nonce")
	}
}

// TestOpenSSLVerifiesToken checks that the evidence does not depend on cairn: the
// stored checkpoint and .tsr verify with openssl ts and the root certificate.
func TestOpenSSLVerifiesToken(t *testing.T) {
	openssl := requireOpenSSL(t)
	tsa := newTestTSA(t, ekuCritical, false)
	resp, _ := tsa.stamp(t, checkpoint)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "checkpoint"), checkpoint, 0o644)
	os.WriteFile(filepath.Join(dir, "checkpoint.tsr"), resp, 0o644)
	writePEM(t, filepath.Join(dir, "root.pem"), tsa.root)
	out := mustRun(t, dir, openssl, "ts", "-verify", "-data", "checkpoint", "-in", "checkpoint.tsr", "-CAfile", "root.pem")
	if !strings.Contains(out, "Verification: OK") {
		t.Fatalf("openssl ts -verify: %s", out)
	}
	// And openssl, too, refuses it over other bytes.
	os.WriteFile(filepath.Join(dir, "other"), append([]byte("x"), checkpoint...), 0o644)
	if out, err := run(t, dir, openssl, "ts", "-verify", "-data", "other", "-in", "checkpoint.tsr", "-CAfile", "root.pem"); err == nil {
		t.Fatalf("openssl accepted the token over other data: %s", out)
	}
}

// TestOpenSSLTSA checks Verify against an independent TSA implementation:
// openssl ts -reply, with keys and certificates made by openssl.
func TestOpenSSLTSA(t *testing.T) {
	openssl := requireOpenSSL(t)
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("tsa.cnf", `[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ root_ext ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign
[ tsa_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
[ tsa ]
default_tsa = tsa1
[ tsa1 ]
serial = ./serial
crypto_device = builtin
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.3161.2
digests = sha256
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
`)
	write("serial", "01\n")
	mustRun(t, dir, openssl, "req", "-config", "tsa.cnf", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
		"-nodes", "-keyout", "root.key", "-out", "root.pem", "-subj", "/CN=openssl test root", "-days", "2", "-extensions", "root_ext")
	mustRun(t, dir, openssl, "req", "-config", "tsa.cnf", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
		"-nodes", "-keyout", "tsa.key", "-out", "tsa.csr", "-subj", "/CN=openssl test TSA")
	mustRun(t, dir, openssl, "x509", "-req", "-in", "tsa.csr", "-CA", "root.pem", "-CAkey", "root.key", "-set_serial", "7",
		"-days", "2", "-extfile", "tsa.cnf", "-extensions", "tsa_ext", "-out", "tsa.pem")

	req, nonce, err := Request(checkpoint)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "req.tsq"), req, 0o644)
	mustRun(t, dir, openssl, "ts", "-reply", "-config", "tsa.cnf", "-queryfile", "req.tsq",
		"-signer", "tsa.pem", "-inkey", "tsa.key", "-out", "resp.tsr")
	resp, err := os.ReadFile(filepath.Join(dir, "resp.tsr"))
	if err != nil {
		t.Fatal(err)
	}
	rootPEM, _ := os.ReadFile(filepath.Join(dir, "root.pem"))
	roots := x509CertPool(t, rootPEM)

	tok, err := Verify(resp, checkpoint, roots, nonce)
	if err != nil {
		t.Fatalf("Verify of openssl's token: %v", err)
	}
	if tok.TSA != "CN=openssl test TSA" || tok.Policy != "1.3.6.1.4.1.99999.3161.2" || tok.Nonce.Cmp(nonce) != 0 {
		t.Errorf("token = %+v", tok)
	}
	if _, err := Verify(resp, append([]byte("x"), checkpoint...), roots, nonce); err == nil {
		t.Error("Verify accepted openssl's token over other data")
	}
	if _, err := Verify(resp, checkpoint, newTestTSA(t, ekuCritical, false).roots, nonce); err == nil {
		t.Error("Verify accepted openssl's token under other roots")
	}
}

func TestRejectsDifferentCheckpoint(t *testing.T) {
	tsa := newTestTSA(t, ekuCritical, false)
	resp, nonce := tsa.stamp(t, checkpoint)
	other := bytes.Replace(checkpoint, []byte("\n42\n"), []byte("\n41\n"), 1)
	_, err := Verify(resp, other, tsa.roots, nonce)
	wantErr(t, err, "timestamp token is over a different checkpoint: imprint")

	// A TSA that signs an imprint other than the one asked for.
	tsa.imprint = func(h []byte) []byte { h = bytes.Clone(h); h[0] ^= 1; return h }
	resp, nonce = tsa.stamp(t, checkpoint)
	_, err = Verify(resp, checkpoint, tsa.roots, nonce)
	wantErr(t, err, "over a different checkpoint")
}

func TestRejectsUntrustedRoot(t *testing.T) {
	tsa := newTestTSA(t, ekuCritical, false)
	resp, nonce := tsa.stamp(t, checkpoint)
	other := newTestTSA(t, ekuCritical, false)
	_, err := Verify(resp, checkpoint, other.roots, nonce)
	wantErr(t, err, "TSA certificate CN=cairn test TSA,O=cairn is not trusted by the configured roots")

	_, err = Verify(resp, checkpoint, nil, nonce)
	wantErr(t, err, "no trusted roots")

	// Fetch with roots checks them too.
	srv := tsa.serve(t)
	_, err = Fetch(context.Background(), srv.URL, checkpoint, nil, other.roots)
	wantErr(t, err, "is not trusted by the configured roots")
	// Fetch without roots leaves that to a later Verify, but checks the rest.
	tok, err := Fetch(context.Background(), srv.URL, checkpoint, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(tok.Response, checkpoint, other.roots, tok.Nonce); err == nil {
		t.Error("Verify accepted a token Fetch took without roots, under the wrong roots")
	}
}

func TestRejectsTSAWithoutCriticalTimeStampingEKU(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode ekuMode
	}{
		{"missing", ekuMissing},
		{"non-critical", ekuNonCritical},
		{"extra purpose", ekuExtra},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tsa := newTestTSA(t, tc.mode, false)
			resp, nonce := tsa.stamp(t, checkpoint)
			_, err := Verify(resp, checkpoint, tsa.roots, nonce)
			wantErr(t, err, "TSA certificate CN=cairn test TSA,O=cairn lacks the critical timeStamping extended key usage")
		})
	}
}

func TestRejectsWrongNonce(t *testing.T) {
	tsa := newTestTSA(t, ekuCritical, false)
	resp, nonce := tsa.stamp(t, checkpoint)
	_, err := Verify(resp, checkpoint, tsa.roots, new(big.Int).Add(nonce, big.NewInt(1)))
	wantErr(t, err, "timestamp token answers another request: nonce")

	// A TSA that drops the nonce.
	tsa.nonce = func(*big.Int) *big.Int { return nil }
	resp, nonce = tsa.stamp(t, checkpoint)
	_, err = Verify(resp, checkpoint, tsa.roots, nonce)
	wantErr(t, err, "timestamp token has no nonce")

	// A replayed response fails Fetch, which checks its own fresh nonce.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/timestamp-reply")
		w.Write(resp)
	}))
	defer srv.Close()
	_, err = Fetch(context.Background(), srv.URL, checkpoint, nil, tsa.roots)
	wantErr(t, err, "nonce")
}

func TestRejectsBadTokens(t *testing.T) {
	tsa := newTestTSA(t, ekuCritical, false)

	tsa.noCerts = true
	resp, nonce := tsa.stamp(t, checkpoint)
	_, err := Verify(resp, checkpoint, tsa.roots, nonce)
	wantErr(t, err, "does not include the TSA certificate")
	tsa.noCerts = false

	for _, status := range []int{2, 3, 4, 5} {
		tsa.status = status
		resp, nonce = tsa.stamp(t, checkpoint)
		_, err = Verify(resp, checkpoint, tsa.roots, nonce)
		wantErr(t, err, "TSA refused the request")
	}
	// grantedWithMods carries a valid token (timestamp.ParseResponse refuses it).
	tsa.status = 1
	resp, nonce = tsa.stamp(t, checkpoint)
	if _, err := Verify(resp, checkpoint, tsa.roots, nonce); err != nil {
		t.Errorf("grantedWithMods: %v", err)
	}
	tsa.status = 0

	refusal, err := timestamp.CreateErrorResponse(timestamp.Rejection, timestamp.BadAlgorithm)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Verify(refusal, checkpoint, tsa.roots, nil)
	wantErr(t, err, "TSA refused the request: the request is rejected (unrecognized or unsupported Algorithm Identifier)")

	resp, nonce = tsa.stamp(t, checkpoint)
	_, err = Verify(append(bytes.Clone(resp), 0), checkpoint, tsa.roots, nonce)
	wantErr(t, err, "trailing data")

	// A bit flipped in the signed content breaks the signature.
	i := bytes.Index(resp, sha256Sum(checkpoint))
	bad := bytes.Clone(resp)
	bad[i] ^= 1
	_, err = Verify(bad, checkpoint, tsa.roots, nonce)
	if err == nil {
		t.Error("Verify accepted a token with a modified imprint")
	}

	// A token whose genTime is outside the TSA certificate's validity.
	tsa.now = tsa.cert.NotAfter.Add(time.Hour).UTC().Truncate(time.Second)
	resp, nonce = tsa.stamp(t, checkpoint)
	_, err = Verify(resp, checkpoint, tsa.roots, nonce)
	wantErr(t, err, "not trusted by the configured roots")
}

// TestParserPanicIsAnError: a reply that makes the third-party CMS parser panic
// fails verification like any other malformed token, in Verify and in
// VerifyUntrusted, and the panic does not escape.
func TestParserPanicIsAnError(t *testing.T) {
	panicked := func() (p bool) {
		defer func() { p = recover() != nil }()
		pkcs7.Parse(testtsa.BERPanicReply[7:])
		return false
	}()
	if !panicked {
		t.Log("digitorus/pkcs7 no longer panics on this token; the guard is still kept for others")
	}
	tsa := newTestTSA(t, ekuCritical, false)
	_, err := Verify(testtsa.BERPanicReply, checkpoint, tsa.roots, nil)
	wantErr(t, err, "timestamp: malformed token: the CMS parser failed on it")
	_, err = VerifyUntrusted(testtsa.BERPanicReply, checkpoint)
	wantErr(t, err, "timestamp: malformed token: the CMS parser failed on it")
}

func TestFetchHTTPErrors(t *testing.T) {
	tsa := newTestTSA(t, ekuCritical, false)
	resp, _ := tsa.stamp(t, checkpoint)
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"status", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "busy", http.StatusServiceUnavailable)
		}, "HTTP status 503"},
		{"content type", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Write(resp)
		}, `content type "text/html"`},
		{"too large", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/timestamp-reply")
			w.Write(make([]byte, MaxResponseSize+10))
		}, "larger than"},
		{"garbage", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/timestamp-reply")
			w.Write([]byte("not DER"))
		}, "malformed TimeStampResp"},
		{"parser panic", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/timestamp-reply")
			w.Write(testtsa.BERPanicReply)
		}, "malformed token: the CMS parser failed on it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			_, err := Fetch(context.Background(), srv.URL, checkpoint, nil, tsa.roots)
			wantErr(t, err, tc.want)
		})
	}
}

// TestFetchUnreachableFailsFast: a TSA that is down or hangs must not stall the
// designer's command beyond the deadline it was given.
func TestFetchUnreachableFailsFast(t *testing.T) {
	tsa := newTestTSA(t, ekuCritical, false)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + l.Addr().String() + "/tsr"
	l.Close()

	hang := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer hung.Close()
	defer close(hang)

	// A server that accepts the connection and never answers at the TCP level.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()

	for name, url := range map[string]string{
		"closed port":  closedURL,
		"hanging HTTP": hung.URL,
		"silent TCP":   "http://" + silent.Addr().String() + "/",
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err := Fetch(ctx, url, checkpoint, nil, tsa.roots)
			elapsed := time.Since(start)
			if err == nil {
				t.Fatal("Fetch succeeded")
			}
			if elapsed > 2*time.Second {
				t.Errorf("Fetch took %v, want < 2s", elapsed)
			}
			t.Logf("%v: %v", elapsed, err)
		})
	}
}

func wantErr(t *testing.T, err error, substr string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", substr)
	}
	if !strings.Contains(err.Error(), substr) {
		t.Fatalf("error %q does not contain %q", err, substr)
	}
}

func sha256Sum(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}

// TestRejectsSubstitutedCertificate: the ESS signing-certificate attribute binds
// the token to one certificate. Another certificate for the same key, issuer and
// serial (here: a longer validity) must not stand in for it.
func TestRejectsSubstitutedCertificate(t *testing.T) {
	tsa := newTestTSA(t, ekuCritical, false)
	resp, nonce := tsa.stamp(t, checkpoint)
	var twin []byte
	for i := 0; i < 100 && len(twin) != len(tsa.cert.Raw); i++ {
		tmpl := *tsa.cert
		tmpl.NotAfter = tmpl.NotAfter.Add(time.Second)
		tmpl.ExtraExtensions = []pkix.Extension{ekuExtension(t, true, oidTimeStamping)}
		tmpl.ExtKeyUsage, tmpl.Extensions = nil, nil
		der, err := x509.CreateCertificate(rand.Reader, &tmpl, tsa.root, tsa.key.Public(), tsa.rootKey)
		if err != nil {
			t.Fatal(err)
		}
		twin = der
	}
	if len(twin) != len(tsa.cert.Raw) {
		t.Skip("could not make a certificate of the same length")
	}
	swapped := bytes.Replace(resp, tsa.cert.Raw, twin, 1)
	if bytes.Equal(swapped, resp) {
		t.Fatal("certificate not found in response")
	}
	_, err := Verify(swapped, checkpoint, tsa.roots, nonce)
	wantErr(t, err, "signing-certificate attribute does not name TSA certificate")
}
