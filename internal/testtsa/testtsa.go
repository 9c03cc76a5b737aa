// Package testtsa runs an RFC 3161 time-stamping authority inside a test process,
// on loopback: a root certificate, a TSA certificate under it with the critical
// timeStamping extended key usage RFC 3161 §2.3 requires, and an HTTP server that
// answers timestamp requests with github.com/digitorus/timestamp, as a real TSA
// would. Tests only; ledger/rfc3161's own tests keep a TSA with knobs for bad
// behaviour.
package testtsa

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
	"time"

	"github.com/digitorus/timestamp"
)

// A TSA is a running test time-stamping authority.
type TSA struct {
	URL     string
	Root    *x509.Certificate
	RootPEM []byte
	srv     *httptest.Server
}

// Start starts a TSA whose certificate names name. The caller closes it.
func Start(name string) (*TSA, error) { return start(name, time.Now, nil) }

// StartAt starts a TSA whose clock is clock, with certificates valid both then
// and now: an attacker's TSA that backdates, for tests that such tokens fail.
func StartAt(name string, clock func() time.Time) (*TSA, error) { return start(name, clock, nil) }

// BERPanicReply is a granted TimeStampResp whose token, SEQUENCE { 04 81 },
// ends in a long-form length with no length byte after it: encoding/asn1 takes
// the token as an opaque element, and github.com/digitorus/pkcs7's BER reader
// then indexes one byte past the end of the data (index out of range).
var BERPanicReply = []byte{0x30, 0x09, 0x30, 0x03, 0x02, 0x01, 0x00, 0x30, 0x02, 0x04, 0x81}

// Replies a misbehaving TSA can send instead of its good reply, by name.
var Replies = map[string]func(good []byte) []byte{
	"ber-panic": func([]byte) []byte { return BERPanicReply },
	"garbage":   func([]byte) []byte { return []byte("this is not DER") },
	"truncated": func(good []byte) []byte { return good[:len(good)/2] },
}

// StartReplying starts a TSA that sends reply(good) instead of each good reply;
// a nil reply sends the good one.
func StartReplying(name string, reply func(good []byte) []byte) (*TSA, error) {
	return start(name, time.Now, reply)
}

func start(name string, clock func() time.Time, reply func(good []byte) []byte) (*TSA, error) {
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tsaKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	from := now
	if c := clock(); c.Before(from) {
		from = c
	}
	from = from.Add(-time.Hour)
	rootTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name + " root"},
		NotBefore: from, NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, rootKey.Public(), rootKey)
	if err != nil {
		return nil, err
	}
	root, err := x509.ParseCertificate(rootDER)
	if err != nil {
		return nil, err
	}
	// crypto/x509 writes ExtKeyUsage as non-critical; RFC 3161 needs it critical.
	eku, _ := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name, Organization: []string{"cairn tests"}},
		NotBefore: from, NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: eku}},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, root, tsaKey.Public(), rootKey)
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(leafDER)
	if err != nil {
		return nil, err
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		req, err := timestamp.ParseRequest(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ts := &timestamp.Timestamp{
			HashAlgorithm: req.HashAlgorithm, HashedMessage: req.HashedMessage,
			Time: clock().UTC().Truncate(time.Second), Nonce: req.Nonce,
			Policy: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, Accuracy: time.Second,
			AddTSACertificate: req.Certificates,
		}
		resp, err := ts.CreateResponseWithOpts(leaf, crypto.Signer(tsaKey), crypto.SHA256)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if reply != nil {
			resp = reply(resp)
		}
		w.Header().Set("Content-Type", "application/timestamp-reply")
		w.Write(resp)
	}))
	return &TSA{URL: srv.URL, Root: root, RootPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rootDER}), srv: srv}, nil
}

// Roots returns a pool holding the TSA's root.
func (a *TSA) Roots() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(a.Root)
	return p
}

// Close stops the server.
func (a *TSA) Close() { a.srv.Close() }
