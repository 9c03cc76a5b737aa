package testkit

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"time"
)

// Signer is a certificate and its ECDSA key.
type Signer struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
}

// SignOpts say what SignedData to make, and how to spoil it for tests.
type SignOpts struct {
	ContentType asn1.ObjectIdentifier // eContentType and the content-type attribute
	Content     []byte                // the content (hashed; encapsulated unless Detached)
	Detached    bool
	SigningTime time.Time // zero: no signing-time attribute

	// Spoilers.
	ContentTypeAttr asn1.ObjectIdentifier // a different content-type attribute
	NoESS           bool                  // omit the ESS signing-certificate-v2 attribute
	ESSWrongHash    bool                  // the ESS attribute names another certificate
	OmitCert        bool                  // do not include the signer's certificate
	ExtraCerts      [][]byte              // more certificates (a chain)
	CorruptSig      bool                  // flip a bit of the signature
	TwoSigners      bool                  // repeat the signerInfo
}

// SignedData returns a DER ContentInfo holding a CMS SignedData (RFC 5652).
func SignedData(s Signer, o SignOpts) []byte {
	digest := sha256.Sum256(o.Content)
	ctAttr := o.ContentType
	if o.ContentTypeAttr != nil {
		ctAttr = o.ContentTypeAttr
	}
	attrs := [][]byte{
		Seq(OID(OIDContentType), Set(OID(ctAttr))),
		Seq(OID(OIDMessageDigest), Set(Octets(digest[:]))),
	}
	if !o.SigningTime.IsZero() {
		attrs = append(attrs, Seq(OID(OIDSigningTime), Set(UTCTime(o.SigningTime))))
	}
	if !o.NoESS {
		h := sha256.Sum256(s.Cert.Raw)
		if o.ESSWrongHash {
			h[0] ^= 1
		}
		// SigningCertificateV2 { certs SEQUENCE OF ESSCertIDv2 { certHash } }
		// (hashAlgorithm left at its DEFAULT, SHA-256).
		attrs = append(attrs, Seq(OID(OIDSigningCertV2), Set(Seq(Seq(Seq(Octets(h[:])))))))
	}
	signedSet := Set(attrs...)
	h := sha256.Sum256(signedSet)
	sig, err := ecdsa.SignASN1(rand.Reader, s.Key, h[:])
	if err != nil {
		panic(err)
	}
	if o.CorruptSig {
		sig[len(sig)-1] ^= 1
	}
	signedAttrs := append([]byte{0xa0}, signedSet[1:]...) // [0] IMPLICIT
	sid := Seq(s.Cert.RawIssuer, BigInt(s.Cert.SerialNumber))
	si := Seq(Int(1), sid, AlgID(OIDSHA256), signedAttrs, AlgID(OIDECDSASHA256), Octets(sig))
	var eci []byte
	if o.Detached {
		eci = Seq(OID(o.ContentType))
	} else {
		eci = Seq(OID(o.ContentType), Explicit(0, Octets(o.Content)))
	}
	var certs []byte
	if !o.OmitCert {
		certs = append(certs, s.Cert.Raw...)
	}
	for _, c := range o.ExtraCerts {
		certs = append(certs, c...)
	}
	sis := [][]byte{si}
	if o.TwoSigners {
		sis = append(sis, si)
	}
	var sisSet []byte
	if o.TwoSigners {
		sisSet = TLV(0x31, append(append([]byte{}, si...), si...))
	} else {
		sisSet = Set(sis...)
	}
	version := int64(1) // RFC 5652 §5.1: 3 when eContentType is not id-data
	if !o.ContentType.Equal(OIDData) {
		version = 3
	}
	sd := Seq(Int(version), Set(AlgID(OIDSHA256)), eci, TLV(0xa0, certs), sisSet)
	return Seq(OID(OIDSignedData), Explicit(0, sd))
}
