package pdfsign

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// The CMS SignedData (RFC 5652) is built and read here rather than with a
// PKCS #7 library, because the signing-time attribute must be Signer.Time
// (smallstep/pkcs7 always writes time.Now) and because CAdES needs the ESS
// signing-certificate-v2 attribute (RFC 5035), which no library adds.

var (
	oidData                 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidContentType          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSigningTime          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	oidSigningCertificateV2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	oidSHA256               = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidECDSAWithSHA256      = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECPublicKey          = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidSHA256WithRSA        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidRSAEncryption        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	// id-aa-signatureTimeStampToken (RFC 3161 Appendix A, ETSI EN 319 122-1 §5.3).
	oidSignatureTimeStampToken = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}
	oidTSTInfo                 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}
)

// signerInfo is a CMS SignerInfo that has been signed: everything but its
// unsigned attributes, which may be added after signing (RFC 5652 §5.3: they
// are outside the signature), as a signature timestamp must be.
type signerInfo struct {
	chain  []*x509.Certificate
	attrs  [][]byte // the signed attributes, each a DER Attribute, sorted
	sigAlg asn1.ObjectIdentifier
	rsa    bool // the algorithm identifier has NULL parameters (RFC 5754 §3.2)
	sig    []byte
}

// signCMS signs, for one signer, a content whose SHA-256 is digest.
func signCMS(digest []byte, key crypto.Signer, chain []*x509.Certificate, signingTime time.Time) (*signerInfo, error) {
	leaf := chain[0]
	certHash := sha256.Sum256(leaf.Raw)

	// Signed attributes (RFC 5652 §5.3, §11). DER requires the SET OF to be
	// sorted by encoding (X.690 §11.6); the signature is over that SET.
	attrs := [][]byte{
		attribute(oidContentType, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidData) }),
		attribute(oidSigningTime, func(b *cryptobyte.Builder) { addTime(b, signingTime) }),
		attribute(oidMessageDigest, func(b *cryptobyte.Builder) { b.AddASN1OctetString(digest) }),
		// SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2 }
		// ESSCertIDv2 ::= SEQUENCE { hashAlgorithm DEFAULT sha256 (so omitted in DER),
		//                            certHash OCTET STRING, issuerSerial IssuerSerial }
		attribute(oidSigningCertificateV2, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1OctetString(certHash[:])
						addIssuerSerial(b, leaf)
					})
				})
			})
		}),
	}
	slices.SortFunc(attrs, bytes.Compare)
	signedAttrs := cryptobyte.NewBuilder(nil)
	signedAttrs.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
		for _, a := range attrs {
			b.AddBytes(a)
		}
	})
	attrSet, err := signedAttrs.Bytes()
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256(attrSet)
	si := &signerInfo{chain: chain, attrs: attrs}
	switch key.Public().(type) {
	case *ecdsa.PublicKey:
		si.sigAlg = oidECDSAWithSHA256
	case *rsa.PublicKey:
		si.sigAlg, si.rsa = oidSHA256WithRSA, true // PKCS #1 v1.5
	default:
		return nil, fmt.Errorf("unsupported key type %T", key.Public())
	}
	if si.sig, err = key.Sign(rand.Reader, h[:], crypto.SHA256); err != nil {
		return nil, err
	}
	return si, nil
}

// encode returns the DER ContentInfo holding a detached SignedData with this
// signer, and with token, if it is not nil, as its signature timestamp: the
// unsigned attribute id-aa-signatureTimeStampToken (RFC 3161 Appendix A),
// whose value is a TimeStampToken over SHA-256 of si.sig.
func (si *signerInfo) encode(token []byte) ([]byte, error) {
	leaf := si.chain[0]
	certs := make([][]byte, len(si.chain))
	for i, c := range si.chain {
		certs[i] = c.Raw
	}
	slices.SortFunc(certs, bytes.Compare) // a DER SET OF

	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ContentInfo
		b.AddASN1ObjectIdentifier(oidSignedData)
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SignedData
				b.AddASN1Int64(1)
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { addAlgorithm(b, oidSHA256) })
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // EncapsulatedContentInfo, no eContent: detached
					b.AddASN1ObjectIdentifier(oidData)
				})
				b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					for _, c := range certs {
						b.AddBytes(c)
					}
				})
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SignerInfo
						b.AddASN1Int64(1) // version 1: sid is IssuerAndSerialNumber
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddBytes(leaf.RawIssuer)
							b.AddASN1BigInt(leaf.SerialNumber)
						})
						addAlgorithm(b, oidSHA256)
						// [0] IMPLICIT SET OF Attribute: the same content as the signed SET.
						b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
							for _, a := range si.attrs {
								b.AddBytes(a)
							}
						})
						if si.rsa {
							b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
								b.AddASN1ObjectIdentifier(si.sigAlg)
								b.AddASN1NULL()
							})
						} else {
							addAlgorithm(b, si.sigAlg)
						}
						b.AddASN1OctetString(si.sig)
						if token != nil {
							// [1] IMPLICIT SET OF Attribute: one, the signature timestamp.
							b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
								b.AddBytes(attribute(oidSignatureTimeStampToken, func(b *cryptobyte.Builder) { b.AddBytes(token) }))
							})
						}
					})
				})
			})
		})
	})
	return b.Bytes()
}

func attribute(oid asn1.ObjectIdentifier, value func(*cryptobyte.Builder)) []byte {
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		b.AddASN1(cbasn1.SET, value)
	})
	return b.BytesOrPanic()
}

// addAlgorithm writes an AlgorithmIdentifier without parameters, as RFC 5754
// asks for SHA-256 and RFC 5758 for ECDSA.
func addAlgorithm(b *cryptobyte.Builder, oid asn1.ObjectIdentifier) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oid) })
}

// addTime writes a Time (RFC 5280 §4.1.2.5): UTCTime up to 2049, else GeneralizedTime.
func addTime(b *cryptobyte.Builder, t time.Time) {
	t = t.UTC().Truncate(time.Second)
	if t.Year() >= 1950 && t.Year() < 2050 {
		b.AddASN1UTCTime(t)
	} else {
		b.AddASN1GeneralizedTime(t)
	}
}

// addIssuerSerial writes IssuerSerial ::= SEQUENCE { issuer GeneralNames,
// serialNumber } with the issuer as one directoryName ([4], EXPLICIT because Name is a CHOICE).
func addIssuerSerial(b *cryptobyte.Builder, c *x509.Certificate) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.Tag(4).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddBytes(c.RawIssuer)
			})
		})
		b.AddASN1BigInt(c.SerialNumber)
	})
}

// signedCMS is what verifyCMS learned from a SignedData.
type signedCMS struct {
	certs       []*x509.Certificate
	signer      *x509.Certificate
	signingTime time.Time
	sigValue    []byte // the SignerInfo's signature
	token       []byte // the signature timestamp (a DER TimeStampToken), or nil
}

// verifyCMS checks a detached CMS SignedData (RFC 5652 §5.6) with exactly one
// signer against the SHA-256 digest of the signed content: the message-digest
// attribute, the signature over the signed attributes, and the ESS
// signing-certificate-v2 attribute (RFC 5035 §5.4) against the signer's certificate.
// Trust in the certificate is the caller's decision.
func verifyCMS(der []byte, digest []byte) (*signedCMS, error) {
	malformed := func(what string) error { return fmt.Errorf("malformed CMS: %s", what) }
	sd, err := signedData(der)
	if err != nil {
		return nil, err
	}
	var version int64
	var digestAlgs, encap, signerInfos cryptobyte.String
	if !sd.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) ||
		!sd.ReadASN1(&digestAlgs, cbasn1.SET) ||
		!sd.ReadASN1(&encap, cbasn1.SEQUENCE) {
		return nil, malformed("SignedData header")
	}
	// Version 1: X.509 certificates only, id-data content, SignerInfo version 1 (RFC 5652 §5.1).
	if version != 1 {
		return nil, fmt.Errorf("CMS SignedData version %d is not supported", version)
	}
	hasSHA256 := false
	for !digestAlgs.Empty() {
		oid, err := readAlgorithm(&digestAlgs)
		if err != nil {
			return nil, malformed("digestAlgorithms")
		}
		hasSHA256 = hasSHA256 || oid.Equal(oidSHA256)
	}
	if !hasSHA256 {
		return nil, errors.New("CMS digestAlgorithms does not list SHA-256")
	}
	var eType asn1.ObjectIdentifier
	if !encap.ReadASN1ObjectIdentifier(&eType) {
		return nil, malformed("EncapsulatedContentInfo")
	}
	if !encap.Empty() {
		return nil, errors.New("CMS SignedData is not detached: it carries its own content")
	}
	if !eType.Equal(oidData) {
		return nil, fmt.Errorf("CMS encapsulated content type is %v, not id-data", eType)
	}
	var out signedCMS
	if out.certs, err = readCertificates(&sd); err != nil {
		return nil, err
	}
	if !sd.SkipOptionalASN1(cbasn1.Tag(1).Constructed().ContextSpecific()) || // crls
		!sd.ReadASN1(&signerInfos, cbasn1.SET) || !sd.Empty() {
		return nil, malformed("SignedData signerInfos")
	}
	var si cryptobyte.String
	if !signerInfos.ReadASN1(&si, cbasn1.SEQUENCE) {
		return nil, errors.New("CMS SignedData has no signer")
	}
	if !signerInfos.Empty() {
		return nil, errors.New("CMS SignedData has more than one signer")
	}

	// SignerInfo ::= SEQUENCE { version, sid, digestAlgorithm, [0] signedAttrs,
	//   signatureAlgorithm, signature, [1] unsignedAttrs OPTIONAL }
	var siVersion int64
	if !si.ReadASN1Int64WithTag(&siVersion, cbasn1.INTEGER) {
		return nil, malformed("SignerInfo version")
	}
	switch siVersion {
	case 1: // IssuerAndSerialNumber (the only kind SignedData version 1 allows)
		var ias, issuer cryptobyte.String
		serial := new(big.Int)
		if !si.ReadASN1(&ias, cbasn1.SEQUENCE) || !ias.ReadASN1Element(&issuer, cbasn1.SEQUENCE) ||
			!ias.ReadASN1Integer(serial) || !ias.Empty() {
			return nil, malformed("SignerInfo issuerAndSerialNumber")
		}
		for _, c := range out.certs {
			if bytes.Equal(c.RawIssuer, issuer) && c.SerialNumber.Cmp(serial) == 0 {
				out.signer = c
				break
			}
		}
	default:
		return nil, fmt.Errorf("CMS SignerInfo version %d is not supported", siVersion)
	}
	if out.signer == nil {
		return nil, errors.New("CMS does not include the signer's certificate")
	}
	digestAlg, err := readAlgorithm(&si)
	if err != nil {
		return nil, malformed("SignerInfo digestAlgorithm")
	}
	if !digestAlg.Equal(oidSHA256) {
		return nil, fmt.Errorf("CMS digest algorithm %v is not SHA-256", digestAlg)
	}
	var attrsImplicit cryptobyte.String
	var hasAttrs bool
	if !si.ReadOptionalASN1(&attrsImplicit, &hasAttrs, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, malformed("SignerInfo signedAttrs")
	}
	if !hasAttrs {
		return nil, errors.New("CMS signer has no signed attributes (CAdES requires them)")
	}
	sigAlg, err := readAlgorithm(&si)
	if err != nil {
		return nil, malformed("SignerInfo signatureAlgorithm")
	}
	var sig, unsigned cryptobyte.String
	var hasUnsigned bool
	if !si.ReadASN1(&sig, cbasn1.OCTET_STRING) ||
		!si.ReadOptionalASN1(&unsigned, &hasUnsigned, cbasn1.Tag(1).Constructed().ContextSpecific()) || !si.Empty() {
		return nil, malformed("SignerInfo signature")
	}
	out.sigValue = bytes.Clone(sig)
	// Unsigned attributes are outside the signature: anyone can add or remove
	// them in /Contents. The one cairn writes, a signature timestamp, says what
	// it covers itself (its imprint); anything else is refused rather than
	// ignored, so that /Contents has one reading.
	for !unsigned.Empty() {
		var attr, values, value cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !unsigned.ReadASN1(&attr, cbasn1.SEQUENCE) || !attr.ReadASN1ObjectIdentifier(&oid) ||
			!attr.ReadASN1(&values, cbasn1.SET) || !attr.Empty() {
			return nil, malformed("unsigned attribute")
		}
		if !oid.Equal(oidSignatureTimeStampToken) {
			return nil, fmt.Errorf("CMS unsigned attribute %v is not supported (only a signature timestamp, %v)", oid, oidSignatureTimeStampToken)
		}
		if out.token != nil {
			return nil, errors.New("CMS signer has more than one signature timestamp")
		}
		if !values.ReadASN1Element(&value, cbasn1.SEQUENCE) || !values.Empty() {
			return nil, errors.New("CMS signature timestamp attribute does not hold exactly one TimeStampToken")
		}
		out.token = bytes.Clone(value)
	}

	// RFC 5652 §5.4: the signature is over the DER of the attributes with
	// the EXPLICIT SET OF tag, not the [0] IMPLICIT one in the SignerInfo.
	setB := cryptobyte.NewBuilder(nil)
	setB.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddBytes(attrsImplicit) })
	signedAttrs, err := setB.Bytes()
	if err != nil {
		return nil, malformed("signedAttrs length")
	}
	attrs := map[string]cryptobyte.String{}
	for a := attrsImplicit; !a.Empty(); {
		var attr, values, value cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !a.ReadASN1(&attr, cbasn1.SEQUENCE) || !attr.ReadASN1ObjectIdentifier(&oid) ||
			!attr.ReadASN1(&values, cbasn1.SET) || !attr.Empty() {
			return nil, malformed("signed attribute")
		}
		var tag cbasn1.Tag
		if !values.ReadAnyASN1Element(&value, &tag) {
			return nil, fmt.Errorf("CMS signed attribute %v has no value", oid)
		}
		if !values.Empty() {
			return nil, fmt.Errorf("CMS signed attribute %v has more than one value", oid)
		}
		if _, dup := attrs[oid.String()]; dup {
			return nil, fmt.Errorf("CMS signed attribute %v appears twice", oid)
		}
		attrs[oid.String()] = value
	}

	// Check the signature first, so that a changed attribute is reported as
	// a bad signature rather than as whatever the attribute now says.
	var alg x509.SignatureAlgorithm
	switch {
	case sigAlg.Equal(oidECDSAWithSHA256) || sigAlg.Equal(oidECPublicKey):
		alg = x509.ECDSAWithSHA256
	case sigAlg.Equal(oidSHA256WithRSA) || sigAlg.Equal(oidRSAEncryption):
		alg = x509.SHA256WithRSA
	default:
		return nil, fmt.Errorf("CMS signature algorithm %v is not supported", sigAlg)
	}
	if err := out.signer.CheckSignature(alg, signedAttrs, sig); err != nil {
		return nil, fmt.Errorf("CMS signature does not verify with the signer's certificate: %v", err)
	}

	var ctype asn1.ObjectIdentifier
	v, ok := attrs[oidContentType.String()]
	if !ok || !v.ReadASN1ObjectIdentifier(&ctype) || !ctype.Equal(oidData) {
		return nil, errors.New("CMS content-type attribute is missing or not id-data")
	}
	var md cryptobyte.String
	v, ok = attrs[oidMessageDigest.String()]
	if !ok || !v.ReadASN1(&md, cbasn1.OCTET_STRING) {
		return nil, errors.New("CMS message-digest attribute is missing")
	}
	if !bytes.Equal(md, digest) {
		return nil, fmt.Errorf("CMS signature does not match the signed bytes: it signs SHA-256 %x, the byte range hashes to %x", []byte(md), digest)
	}
	if v, ok := attrs[oidSigningTime.String()]; ok {
		switch {
		case v.PeekASN1Tag(cbasn1.UTCTime):
			ok = v.ReadASN1UTCTime(&out.signingTime)
		case v.PeekASN1Tag(cbasn1.GeneralizedTime):
			ok = v.ReadASN1GeneralizedTime(&out.signingTime)
		default:
			ok = false
		}
		if !ok {
			return nil, malformed("signing-time attribute")
		}
	}
	v, ok = attrs[oidSigningCertificateV2.String()]
	if !ok {
		return nil, errors.New("CMS has no ESS signing-certificate-v2 attribute (required by CAdES)")
	}
	if err := checkSigningCertificateV2(v, out.signer); err != nil {
		return nil, err
	}
	return &out, nil
}

func readAlgorithm(s *cryptobyte.String) (asn1.ObjectIdentifier, error) {
	var alg cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) {
		return nil, errors.New("malformed AlgorithmIdentifier")
	}
	// Parameters, if any, must be NULL (RFC 5754 allows absent or NULL).
	if !alg.Empty() && (!alg.SkipASN1(cbasn1.NULL) || !alg.Empty()) {
		return nil, errors.New("unexpected AlgorithmIdentifier parameters")
	}
	return oid, nil
}

// checkSigningCertificateV2 checks that the first ESSCertIDv2 names the
// signer's certificate (RFC 5035 §5.4: the first identifies the signing certificate).
func checkSigningCertificateV2(v cryptobyte.String, signer *x509.Certificate) error {
	bad := errors.New("malformed ESS signing-certificate-v2 attribute")
	var scv2, certIDs, id cryptobyte.String
	if !v.ReadASN1(&scv2, cbasn1.SEQUENCE) || !scv2.ReadASN1(&certIDs, cbasn1.SEQUENCE) ||
		!certIDs.ReadASN1(&id, cbasn1.SEQUENCE) {
		return bad
	}
	hashAlg := oidSHA256
	if id.PeekASN1Tag(cbasn1.SEQUENCE) {
		var err error
		if hashAlg, err = readAlgorithm(&id); err != nil {
			return bad
		}
	}
	if !hashAlg.Equal(oidSHA256) {
		return fmt.Errorf("ESS signing-certificate-v2 uses hash %v; only SHA-256 is supported", hashAlg)
	}
	var certHash cryptobyte.String
	if !id.ReadASN1(&certHash, cbasn1.OCTET_STRING) {
		return bad
	}
	if h := sha256.Sum256(signer.Raw); !bytes.Equal(certHash, h[:]) {
		return errors.New("ESS signing-certificate-v2 does not match the signer's certificate")
	}
	if !id.Empty() {
		var is, names, dn cryptobyte.String
		serial := new(big.Int)
		if !id.ReadASN1(&is, cbasn1.SEQUENCE) || !is.ReadASN1(&names, cbasn1.SEQUENCE) ||
			!is.ReadASN1Integer(serial) {
			return bad
		}
		if !names.ReadASN1(&dn, cbasn1.Tag(4).Constructed().ContextSpecific()) ||
			!bytes.Equal(dn, signer.RawIssuer) || serial.Cmp(signer.SerialNumber) != 0 {
			return errors.New("ESS signing-certificate-v2 issuerSerial does not match the signer's certificate")
		}
	}
	return nil
}

// timestampToken is what tokenInfo reads from an RFC 3161 TimeStampToken
// without checking its signature: the certificates it carries and what it is
// over. ledger/rfc3161 checks the rest.
type timestampToken struct {
	certs   []*x509.Certificate
	imprint []byte // the messageImprint's hashedMessage; the algorithm is SHA-256
}

// tokenInfo reads a TimeStampToken (RFC 3161 §2.4.2): a ContentInfo holding
// SignedData whose encapsulated content is a TSTInfo.
func tokenInfo(der []byte) (*timestampToken, error) {
	malformed := func(what string) error { return fmt.Errorf("malformed timestamp token: %s", what) }
	sd, err := signedData(der)
	if err != nil {
		return nil, fmt.Errorf("timestamp token: %v", err)
	}
	var encap, econtent, tst cryptobyte.String
	var eType asn1.ObjectIdentifier
	if !sd.SkipASN1(cbasn1.INTEGER) || !sd.SkipASN1(cbasn1.SET) ||
		!sd.ReadASN1(&encap, cbasn1.SEQUENCE) || !encap.ReadASN1ObjectIdentifier(&eType) {
		return nil, malformed("SignedData header")
	}
	if !eType.Equal(oidTSTInfo) {
		return nil, fmt.Errorf("timestamp token holds %v, not a TSTInfo", eType)
	}
	if !encap.ReadASN1(&econtent, cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!econtent.ReadASN1(&tst, cbasn1.OCTET_STRING) || !econtent.Empty() || !encap.Empty() {
		return nil, malformed("no TSTInfo")
	}
	// TSTInfo ::= SEQUENCE { version, policy, messageImprint, ... }
	// MessageImprint ::= SEQUENCE { hashAlgorithm, hashedMessage OCTET STRING }
	var info, mi, hashed cryptobyte.String
	if !tst.ReadASN1(&info, cbasn1.SEQUENCE) || !info.SkipASN1(cbasn1.INTEGER) ||
		!info.SkipASN1(cbasn1.OBJECT_IDENTIFIER) || !info.ReadASN1(&mi, cbasn1.SEQUENCE) {
		return nil, malformed("TSTInfo")
	}
	alg, err := readAlgorithm(&mi)
	if err != nil || !mi.ReadASN1(&hashed, cbasn1.OCTET_STRING) || !mi.Empty() {
		return nil, malformed("messageImprint")
	}
	if !alg.Equal(oidSHA256) {
		return nil, fmt.Errorf("timestamp token imprint uses %v, not SHA-256", alg)
	}
	out := &timestampToken{imprint: bytes.Clone(hashed)}
	if out.certs, err = readCertificates(&sd); err != nil {
		return nil, fmt.Errorf("timestamp token: %v", err)
	}
	return out, nil
}

// signedData unwraps ContentInfo { id-signedData, [0] EXPLICIT SignedData }
// and returns the SignedData's contents.
func signedData(der []byte) (cryptobyte.String, error) {
	in := cryptobyte.String(der)
	var ci, sd, explicit cryptobyte.String
	var ct asn1.ObjectIdentifier
	if !in.ReadASN1(&ci, cbasn1.SEQUENCE) || !in.Empty() ||
		!ci.ReadASN1ObjectIdentifier(&ct) ||
		!ci.ReadASN1(&explicit, cbasn1.Tag(0).Constructed().ContextSpecific()) || !ci.Empty() ||
		!explicit.ReadASN1(&sd, cbasn1.SEQUENCE) || !explicit.Empty() {
		return nil, errors.New("malformed CMS: no ContentInfo")
	}
	if !ct.Equal(oidSignedData) {
		return nil, fmt.Errorf("CMS content type is %v, not SignedData", ct)
	}
	return sd, nil
}

// readCertificates reads SignedData's optional [0] IMPLICIT CertificateSet,
// which must hold X.509 certificates only.
func readCertificates(sd *cryptobyte.String) ([]*x509.Certificate, error) {
	var certSet cryptobyte.String
	var hasCerts bool
	if !sd.ReadOptionalASN1(&certSet, &hasCerts, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, errors.New("malformed CMS: certificates")
	}
	var out []*x509.Certificate
	for !certSet.Empty() {
		var raw cryptobyte.String
		if !certSet.ReadASN1Element(&raw, cbasn1.SEQUENCE) {
			return nil, errors.New("malformed CMS: certificate set (only X.509 certificates are supported)")
		}
		c, err := x509.ParseCertificate(raw)
		if err != nil {
			return nil, fmt.Errorf("CMS certificate: %v", err)
		}
		out = append(out, c)
	}
	return out, nil
}

// TokenFromResponse returns the TimeStampToken of a DER TimeStampResp
// (RFC 3161 §2.4.2), as Signer.Timestamp must return it. It checks only the
// form; check the response itself first (ledger/rfc3161).
func TokenFromResponse(resp []byte) ([]byte, error) {
	in := cryptobyte.String(resp)
	var r, token cryptobyte.String
	if !in.ReadASN1(&r, cbasn1.SEQUENCE) || !in.Empty() || !r.SkipASN1(cbasn1.SEQUENCE) ||
		!r.ReadASN1Element(&token, cbasn1.SEQUENCE) || !r.Empty() {
		return nil, errors.New("malformed TimeStampResp: no status and token")
	}
	return bytes.Clone(token), nil
}
