package testkit

import (
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
	"sync"
	"time"
)

// TSA is a small RFC 3161 time-stamping service for tests: a root CA, a
// TSA certificate with the critical id-kp-timeStamping EKU (RFC 3161 §2.3),
// and tokens in the form FORMAT.md §3.1 describes.
type TSA struct {
	Root     *x509.Certificate
	Leaf     Signer
	RootsPEM []byte

	mu       sync.Mutex
	Offset   time.Duration // added to the current time for genTime
	Accuracy time.Duration // 0: no accuracy field
	Spoil    SignOpts      // spoilers passed to SignedData
	Status   int           // PKIStatus to answer with
	serial   int64
}

// TSAOpts spoil the TSA certificate.
type TSAOpts struct {
	EKUNotCritical bool
	EKUExtraUsage  bool
}

func NewTSA(o TSAOpts) *TSA {
	rootKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	rootTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test TSA root"},
		NotBefore:             now.Add(-48 * time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	if err != nil {
		panic(err)
	}
	root, _ := x509.ParseCertificate(rootDER)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	usages := [][]byte{OID(OIDTimeStamping)}
	if o.EKUExtraUsage {
		usages = append(usages, OID(OIDCodeSigning))
	}
	ekuValue := Seq(usages...)
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "test TSA"},
		NotBefore:    now.Add(-24 * time.Hour),
		NotAfter:     now.Add(5 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{
			{Id: OIDEKU, Critical: !o.EKUNotCritical, Value: ekuValue},
		},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, root, &leafKey.PublicKey, rootKey)
	if err != nil {
		panic(err)
	}
	leaf, _ := x509.ParseCertificate(leafDER)
	return &TSA{
		Root:     root,
		Leaf:     Signer{Cert: leaf, Key: leafKey},
		RootsPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rootDER}),
	}
}

type tsReq struct {
	Version        int
	MessageImprint struct {
		HashAlgorithm pkix.AlgorithmIdentifier
		HashedMessage []byte
	}
	ReqPolicy  asn1.ObjectIdentifier `asn1:"optional"`
	Nonce      *big.Int              `asn1:"optional"`
	CertReq    bool                  `asn1:"optional,default:false"`
	Extensions asn1.RawValue         `asn1:"optional,tag:0"`
}

func (t *TSA) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req tsReq
	if _, err := asn1.Unmarshal(body, &req); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	resp := t.Token(req.MessageImprint.HashedMessage, req.Nonce, time.Now())
	w.Header().Set("Content-Type", "application/timestamp-reply")
	w.Write(resp)
}

// Token returns a DER TimeStampResp over a SHA-256 imprint, dated at
// (now + Offset).
func (t *TSA) Token(imprint []byte, nonce *big.Int, now time.Time) []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.serial++
	parts := [][]byte{
		Int(1),
		OID(asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}),
		Seq(AlgID(OIDSHA256), Octets(imprint)),
		Int(t.serial),
		GenTime(now.Add(t.Offset)),
	}
	if t.Accuracy > 0 {
		secs := int64(t.Accuracy / time.Second)
		ms := int64(t.Accuracy%time.Second) / int64(time.Millisecond)
		var acc [][]byte
		if secs > 0 {
			acc = append(acc, Int(secs))
		}
		if ms > 0 {
			b := Int(ms)
			b[0] = 0x80 // [0] IMPLICIT INTEGER
			acc = append(acc, b)
		}
		parts = append(parts, Seq(acc...))
	}
	if nonce != nil {
		parts = append(parts, BigInt(nonce))
	}
	tst := Seq(parts...)
	o := t.Spoil
	o.ContentType = OIDTSTInfo
	o.Content = tst
	o.SigningTime = now
	token := SignedData(t.Leaf, o)
	return Seq(Seq(Int(int64(t.Status))), token)
}
