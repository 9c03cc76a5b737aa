// Package rfc3161 obtains and checks RFC 3161 timestamps over ledger checkpoints.
//
// A timestamp token is a time authority's signed statement that a SHA-256 digest
// existed at a time. Over a signed checkpoint note it dates every record the
// checkpoint commits to, which the ledger's owner cannot do for themselves.
//
// The token's message imprint is SHA-256 of the exact bytes passed as data: for
// cairn, the whole signed checkpoint note (body and signature lines), as stored.
// FORMAT.md §3.1 specifies the binding and the checks.
//
// github.com/digitorus/timestamp parses tokens but checks only that the embedded
// certificate made the signature; anyone can make such a token. Verify adds what
// makes it evidence: the certificate chains to roots the caller trusts, it is a
// time-stamping certificate (RFC 3161 §2.3), the ESS signing-certificate
// attribute names it, and the token is over this data and answers this request.
package rfc3161

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/digitorus/pkcs7"
	"github.com/digitorus/timestamp"
)

// A Token is a verified timestamp token.
type Token struct {
	// Response is the DER TimeStampResp exactly as the TSA sent it. Keep these
	// bytes: they are what a third party re-verifies, with Verify or openssl ts.
	Response []byte

	Time          time.Time     // genTime: when the TSA saw the imprint
	TSA           string        // subject of the TSA's signing certificate
	Nonce         *big.Int      // nil if the request carried none
	Serial        *big.Int      // the TSA's serial number for this token
	Accuracy      time.Duration // zero if the TSA stated none
	Policy        string        // TSA policy OID, dotted decimal
	HashedMessage []byte        // SHA-256 of the data, as the token states it

	// Qualified reports that the token declares itself qualified in the sense of
	// eIDAS (ETSI EN 319 422 qcStatements extension). It is the TSA's claim;
	// whether the TSA is qualified is a property of roots (the EU trusted lists).
	Qualified bool
}

// MaxResponseSize bounds a TimeStampResp. Real tokens, certificates included, are
// a few kilobytes; the bound keeps a broken or hostile server from filling memory.
const MaxResponseSize = 1 << 20

// DefaultTimeout bounds Fetch when its context has no deadline, so that an
// unreachable TSA is an error rather than a hang.
const DefaultTimeout = 10 * time.Second

var (
	oidTimeStamping  = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 8}
	oidExtKeyUsage   = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidTSTInfo       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}
	oidSigningCert   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 12} // RFC 2634
	oidSigningCertV2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47} // RFC 5035
)

// Request returns a DER TimeStampReq over SHA-256(data) with a fresh random 64-bit
// nonce, asking the TSA to include its certificate (certReq), which Verify needs.
func Request(data []byte) (req []byte, nonce *big.Int, err error) {
	nonce, err = rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return nil, nil, err
	}
	sum := sha256.Sum256(data)
	r := &timestamp.Request{
		HashAlgorithm: crypto.SHA256,
		HashedMessage: sum[:],
		Certificates:  true,
		Nonce:         nonce,
	}
	req, err = r.Marshal()
	if err != nil {
		return nil, nil, err
	}
	return req, nonce, nil
}

// Fetch asks the TSA at url for a timestamp over data and checks the answer with
// roots as Verify does. If roots is nil, Fetch checks everything except that the
// TSA is trusted, and the caller must call Verify on Token.Response with its roots
// before relying on the token.
//
// Give ctx a short deadline: Fetch waits no longer. Without one it applies
// DefaultTimeout. A nil client means http.DefaultClient.
func Fetch(ctx context.Context, url string, data []byte, client *http.Client, roots *x509.CertPool) (*Token, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	if client == nil {
		client = http.DefaultClient
	}
	body, nonce, err := Request(data)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("timestamp request to %s: %w", url, err)
	}
	req.Header.Set("Content-Type", "application/timestamp-query")
	req.Header.Set("Accept", "application/timestamp-reply")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("timestamp request to %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("timestamp request to %s: HTTP status %s", url, resp.Status)
	}
	// RFC 3161 §3.4 names application/timestamp-reply; some TSAs still send the
	// older draft's application/timestamp-response.
	ct := resp.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || (mt != "application/timestamp-reply" && mt != "application/timestamp-response") {
		return nil, fmt.Errorf("timestamp request to %s: response has content type %q, want application/timestamp-reply", url, ct)
	}
	der, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseSize+1))
	if err != nil {
		return nil, fmt.Errorf("timestamp request to %s: reading response: %w", url, err)
	}
	if len(der) > MaxResponseSize {
		return nil, fmt.Errorf("timestamp request to %s: response is larger than %d bytes", url, MaxResponseSize)
	}
	t, err := verify(der, data, roots, nonce, roots != nil)
	if err != nil {
		return nil, fmt.Errorf("timestamp from %s: %w", url, err)
	}
	return t, nil
}

// Verify checks that resp, a DER TimeStampResp, grants a timestamp token over
// SHA-256(data), signed by a time-stamping certificate that chains to roots at the
// token's time, and, if nonce is not nil, that it answers the request with that
// nonce. It returns the token's contents.
//
// Verify does not check revocation: a TSA certificate revoked after the token was
// made leaves the token valid, and one revoked before needs CRLs or OCSP, which
// an offline verifier does not have.
func Verify(resp []byte, data []byte, roots *x509.CertPool, nonce *big.Int) (*Token, error) {
	if roots == nil {
		return nil, errors.New("timestamp: no trusted roots configured for the TSA")
	}
	return verify(resp, data, roots, nonce, true)
}

// timeStampResp is RFC 3161 §2.4.2's TimeStampResp. It is parsed here rather than
// by timestamp.ParseResponse, which refuses grantedWithMods.
type timeStampResp struct {
	Status         pkiStatusInfo
	TimeStampToken asn1.RawValue `asn1:"optional"`
}

type pkiStatusInfo struct {
	Status       int
	StatusString []string       `asn1:"optional,utf8"`
	FailInfo     asn1.BitString `asn1:"optional"`
}

// essCertIDv2 is RFC 5035's ESSCertIDv2. The hash algorithm defaults to SHA-256;
// its tag (SEQUENCE) differs from certHash's (OCTET STRING), so optional decodes it.
type essCertIDv2 struct {
	HashAlgorithm pkix.AlgorithmIdentifier `asn1:"optional"`
	CertHash      []byte
	IssuerSerial  asn1.RawValue `asn1:"optional"`
}

type signingCertificateV2 struct {
	Certs    []essCertIDv2
	Policies asn1.RawValue `asn1:"optional"`
}

// essCertID is RFC 2634's ESSCertID: a SHA-1 certificate hash.
type essCertID struct {
	CertHash     []byte
	IssuerSerial asn1.RawValue `asn1:"optional"`
}

type signingCertificate struct {
	Certs    []essCertID
	Policies asn1.RawValue `asn1:"optional"`
}

// VerifyUntrusted checks everything Verify checks except that the TSA chains to a
// trusted root. It answers "is this a sound token over data, and what does it
// say", for a verifier that has no roots configured; it must report the TSA as
// unchecked.
func VerifyUntrusted(resp []byte, data []byte) (*Token, error) {
	return verify(resp, data, nil, nil, false)
}

func verify(resp []byte, data []byte, roots *x509.CertPool, nonce *big.Int, checkChain bool) (*Token, error) {
	if len(resp) > MaxResponseSize {
		return nil, fmt.Errorf("timestamp: response is larger than %d bytes", MaxResponseSize)
	}
	var r timeStampResp
	rest, err := asn1.Unmarshal(resp, &r)
	if err != nil {
		return nil, fmt.Errorf("timestamp: malformed TimeStampResp: %v", err)
	}
	if len(rest) != 0 {
		return nil, errors.New("timestamp: trailing data after TimeStampResp")
	}
	// granted(0) and grantedWithMods(1) carry a token; everything else is a refusal.
	if s := r.Status.Status; s != int(timestamp.Granted) && s != int(timestamp.GrantedWithMods) {
		msg := fmt.Sprintf("timestamp: TSA refused the request: %s", timestamp.Status(s))
		if len(r.Status.StatusString) > 0 {
			msg += ": " + strings.Join(r.Status.StatusString, "; ")
		}
		for _, fi := range []timestamp.FailureInfo{timestamp.BadAlgorithm, timestamp.BadRequest,
			timestamp.BadDataFormat, timestamp.TimeNotAvailable, timestamp.UnacceptedPolicy,
			timestamp.UnacceptedExtension, timestamp.AddInfoNotAvailable, timestamp.SystemFailure} {
			if r.Status.FailInfo.At(int(fi)) != 0 {
				msg += " (" + fi.String() + ")"
			}
		}
		return nil, errors.New(msg)
	}
	if len(r.TimeStampToken.FullBytes) == 0 {
		return nil, errors.New("timestamp: response grants a timestamp but holds no token")
	}
	token := r.TimeStampToken.FullBytes

	var p7 *pkcs7.PKCS7
	if err := guard(func() (err error) { p7, err = pkcs7.Parse(token); return err }); err != nil {
		return nil, fmt.Errorf("timestamp: malformed token: %v", err)
	}
	if len(p7.Signers) != 1 {
		return nil, fmt.Errorf("timestamp: token has %d signers, want 1", len(p7.Signers))
	}
	// timestamp.Parse checks the signature only when the token carries
	// certificates, so a token without them must be refused here, not trusted.
	signer := p7.GetOnlySigner()
	if signer == nil {
		return nil, errors.New("timestamp: token does not include the TSA certificate (it must be requested with certReq)")
	}
	var ts *timestamp.Timestamp
	if err := guard(func() (err error) { ts, err = timestamp.Parse(token); return err }); err != nil {
		return nil, fmt.Errorf("timestamp: token signature does not verify: %v", err)
	}

	// The signed content-type attribute says what the TSA meant to sign. pkcs7
	// does not compare it with the content, so a TSA's signature over some other
	// CMS content must not pass as a timestamp.
	var ct asn1.ObjectIdentifier
	if err := p7.UnmarshalSignedAttribute(pkcs7.OIDAttributeContentType, &ct); err != nil || !ct.Equal(oidTSTInfo) {
		return nil, errors.New("timestamp: token's signed content type is not TSTInfo")
	}
	if err := checkSigningCertificate(p7, signer); err != nil {
		return nil, err
	}
	if err := checkTimeStampingEKU(signer); err != nil {
		return nil, err
	}
	if checkChain {
		inter := x509.NewCertPool()
		for _, c := range p7.Certificates {
			if c != signer {
				inter.AddCert(c)
			}
		}
		// At genTime, not now: a token outlives its TSA certificate, and what
		// matters is that the certificate was valid when the TSA signed.
		_, err := signer.Verify(x509.VerifyOptions{
			Roots:         roots,
			Intermediates: inter,
			CurrentTime:   ts.Time,
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping},
		})
		if err != nil {
			return nil, fmt.Errorf("TSA certificate %s is not trusted by the configured roots: %v", signer.Subject, err)
		}
	}

	if ts.HashAlgorithm != crypto.SHA256 {
		return nil, fmt.Errorf("timestamp token imprint uses %v, want SHA-256", ts.HashAlgorithm)
	}
	want := sha256.Sum256(data)
	if !bytes.Equal(ts.HashedMessage, want[:]) {
		return nil, fmt.Errorf("timestamp token is over a different checkpoint: imprint %x, want %x", ts.HashedMessage, want[:])
	}
	if nonce != nil {
		if ts.Nonce == nil {
			return nil, fmt.Errorf("timestamp token has no nonce, want %v", nonce)
		}
		if ts.Nonce.Cmp(nonce) != 0 {
			return nil, fmt.Errorf("timestamp token answers another request: nonce %v, want %v", ts.Nonce, nonce)
		}
	}

	return &Token{
		Response:      resp,
		Time:          ts.Time,
		TSA:           signer.Subject.String(),
		Nonce:         ts.Nonce,
		Serial:        ts.SerialNumber,
		Accuracy:      ts.Accuracy,
		Policy:        ts.Policy.String(),
		HashedMessage: ts.HashedMessage,
		Qualified:     ts.Qualified,
	}, nil
}

// guard runs one of the third-party CMS parsers and turns a panic into an
// error. github.com/digitorus/pkcs7's BER reader indexes past the end of some
// malformed input (a long-form length in the token's last byte, found by
// FuzzVerify); a TSA's reply and a stored token are hostile input, and a
// broken one must fail verification, not the program.
func guard(parse func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the CMS parser failed on it (%v)", r)
		}
	}()
	return parse()
}

// checkTimeStampingEKU enforces RFC 3161 §2.3: the TSA certificate has exactly
// one extended key usage extension, it is critical, and its only purpose is
// timeStamping. A certificate good for anything else (TLS, code signing) must not
// be able to date documents.
func checkTimeStampingEKU(c *x509.Certificate) error {
	n := 0
	for _, e := range c.Extensions {
		if !e.Id.Equal(oidExtKeyUsage) {
			continue
		}
		n++
		if !e.Critical {
			return fmt.Errorf("TSA certificate %s lacks the critical timeStamping extended key usage: the extension is not critical", c.Subject)
		}
	}
	if n != 1 {
		return fmt.Errorf("TSA certificate %s lacks the critical timeStamping extended key usage", c.Subject)
	}
	if len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != x509.ExtKeyUsageTimeStamping || len(c.UnknownExtKeyUsage) != 0 {
		return fmt.Errorf("TSA certificate %s lacks the critical timeStamping extended key usage: it must list timeStamping (%v) only", c.Subject, oidTimeStamping)
	}
	return nil
}

// checkSigningCertificate checks the ESS signing-certificate attribute (RFC 3161
// §2.4.1, RFC 5816): its first entry is the hash of the certificate that signed.
// Without it, the issuer-and-serial lookup alone would let a certificate with the
// same issuer and serial, and the same key, stand in for the TSA's.
func checkSigningCertificate(p7 *pkcs7.PKCS7, signer *x509.Certificate) error {
	var v2 signingCertificateV2
	if err := p7.UnmarshalSignedAttribute(oidSigningCertV2, &v2); err == nil {
		if len(v2.Certs) == 0 {
			return errors.New("timestamp: token's signing-certificate attribute is empty")
		}
		id := v2.Certs[0]
		h := crypto.SHA256
		if len(id.HashAlgorithm.Algorithm) != 0 {
			switch {
			case id.HashAlgorithm.Algorithm.Equal(pkcs7.OIDDigestAlgorithmSHA256):
				h = crypto.SHA256
			case id.HashAlgorithm.Algorithm.Equal(pkcs7.OIDDigestAlgorithmSHA384):
				h = crypto.SHA384
			case id.HashAlgorithm.Algorithm.Equal(pkcs7.OIDDigestAlgorithmSHA512):
				h = crypto.SHA512
			default:
				return fmt.Errorf("timestamp: token's signing-certificate attribute uses unsupported hash %v", id.HashAlgorithm.Algorithm)
			}
		}
		hh := h.New()
		hh.Write(signer.Raw)
		if !bytes.Equal(id.CertHash, hh.Sum(nil)) {
			return fmt.Errorf("timestamp: token's signing-certificate attribute does not name TSA certificate %s", signer.Subject)
		}
		return nil
	}
	var v1 signingCertificate
	if err := p7.UnmarshalSignedAttribute(oidSigningCert, &v1); err == nil {
		if len(v1.Certs) == 0 {
			return errors.New("timestamp: token's signing-certificate attribute is empty")
		}
		sum := sha1.Sum(signer.Raw)
		if !bytes.Equal(v1.Certs[0].CertHash, sum[:]) {
			return fmt.Errorf("timestamp: token's signing-certificate attribute does not name TSA certificate %s", signer.Subject)
		}
		return nil
	}
	return errors.New("timestamp: token lacks the ESS signing-certificate attribute that binds the TSA certificate")
}

// Latest is the latest time the token allows for the data it is over: genTime
// plus the accuracy the token states, rounded up to the whole second, so that
// a time printed to the second never claims more than the token proves.
func (t *Token) Latest() time.Time {
	at := t.Time.Add(t.Accuracy).UTC()
	if r := at.Truncate(time.Second); !r.Equal(at) {
		at = r.Add(time.Second)
	}
	return at
}
