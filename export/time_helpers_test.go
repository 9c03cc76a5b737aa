package export

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
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
	"path/filepath"
	"testing"
	"time"

	"github.com/digitorus/timestamp"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/ledger"
	"github.com/cairn-ledger/cairn/ledger/witness"
)

// testTSA is a time-stamping authority in the test process: a root, a TSA
// certificate under it with the critical timeStamping extended key usage that
// RFC 3161 §2.3 requires, and an HTTP server answering timestamp requests.
type testTSA struct {
	url     string
	root    *x509.Certificate
	rootPEM []byte
}

func newTestTSA(t testing.TB, name string) *testTSA {
	t.Helper()
	mustKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	now := time.Now()
	rootKey, tsaKey := mustKey(), mustKey()
	rootTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name + " root"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, rootKey.Public(), rootKey)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := x509.ParseCertificate(rootDER)
	eku, _ := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name, Organization: []string{"export tests"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: eku}},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, root, tsaKey.Public(), rootKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(leafDER)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		req, err := timestamp.ParseRequest(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ts := &timestamp.Timestamp{
			HashAlgorithm: req.HashAlgorithm, HashedMessage: req.HashedMessage,
			Time: time.Now().UTC().Truncate(time.Second), Nonce: req.Nonce,
			Policy: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 2}, AddTSACertificate: req.Certificates,
		}
		resp, err := ts.CreateResponseWithOpts(leaf, crypto.Signer(tsaKey), crypto.SHA256)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/timestamp-reply")
		w.Write(resp)
	}))
	t.Cleanup(srv.Close)
	return &testTSA{url: srv.URL, root: root, rootPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rootDER})}
}

func (a *testTSA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(a.root)
	return p
}

// timeFixture is the fixture's ledger with trusted time, a witness and a key
// rotation:
//
//	records [0, s1)   timestamped at s1 and cosigned by the witness at s1
//	rotation          the author's key is replaced (record s1+1)
//	records [s1, s2)  timestamped at s2
//	records [s2, ...) not timestamped
type timeFixture struct {
	*fixture
	tsa      *testTSA
	oldID    *evidence.Identity
	s1, s2   int64
	rotation int64 // index of the rotation record
	wname    string
	wvkey    string
}

func newTimeFixture(t testing.TB) *timeFixture {
	t.Helper()
	f := &timeFixture{fixture: newFixture(t), tsa: newTestTSA(t, "export test TSA"), wname: "legal.example.com/witness"}
	b := f.book
	stamp := func() int64 {
		cp, err := b.Ledger.SignCheckpoint(f.id.Key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.TimestampCheckpoint(context.Background(), cp.Size, f.tsa.url, f.tsa.pool()); err != nil {
			t.Fatal(err)
		}
		return cp.Size
	}
	f.s1 = stamp()

	// The witness follows the ledger and cosigns the first checkpoint.
	_, wkey, _ := ed25519.GenerateKey(rand.Reader)
	cs, err := witness.NewCosigner(f.wname, wkey)
	if err != nil {
		t.Fatal(err)
	}
	f.wvkey = cs.VerifierKey()
	w, err := witness.Open(filepath.Join(t.TempDir(), "witness.json"), cs)
	if err != nil {
		t.Fatal(err)
	}
	origin := b.Ledger.Origin()
	if err := w.AddLog(origin, ledger.VerifierKey(origin, f.id.Public())); err != nil {
		t.Fatal(err)
	}
	note, err := b.Ledger.CheckpointAt(f.s1)
	if err != nil {
		t.Fatal(err)
	}
	cosigned, err := w.Cosign(note, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Ledger.PutCosignature(f.s1, f.wname, cosigned); err != nil {
		t.Fatal(err)
	}

	// Ada rotates her key and goes on with the new one.
	record(t, f.fixture, &evidence.Step{Kind: evidence.KindNote, Asset: "poster", Text: "before the rotation"})
	fresh, err := evidence.NewIdentity(f.id.Name, f.id.Email, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rot := fresh.Step()
	rot.Kind = evidence.KindRotate
	recs, err := b.Record(f.id, []*evidence.Step{rot})
	if err != nil {
		t.Fatal(err)
	}
	f.rotation = recs[0].Seq
	f.oldID, f.id = f.id, fresh
	record(t, f.fixture, &evidence.Step{Kind: evidence.KindNote, Asset: "poster", Text: "signed with the new key"})
	f.s2 = stamp()
	record(t, f.fixture, &evidence.Step{Kind: evidence.KindNote, Asset: "poster", Text: "after the last timestamp"})
	return f
}

func writeFile(path string, data []byte) error { return os.WriteFile(path, data, 0o644) }
