package formatcheck

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"

	_ "crypto/sha1"
	_ "crypto/sha512"
)

// RFC 3161 timestamp tokens (FORMAT.md §3.1). A verifier without trusted
// roots checks rules 1–4, 6 and 8 (§3.1 "A verifier without trusted roots
// can check 1–4, 6 and 8"); rule 5 (the chain) and rule 7 (the nonce, known
// only at fetch time) are not checked here.

var (
	oidSignedData    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidTSTInfo       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}
	oidContentType   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSigningCert   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 12}
	oidSigningCertV2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	oidEKU           = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidTimeStamping  = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 8}
	oidSHA256        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidRSAPSS        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
)

// hashByOID maps digest and signature algorithm OIDs to the hash they use.
var hashByOID = map[string]crypto.Hash{
	"1.3.14.3.2.26":          crypto.SHA1,
	"2.16.840.1.101.3.4.2.1": crypto.SHA256,
	"2.16.840.1.101.3.4.2.2": crypto.SHA384,
	"2.16.840.1.101.3.4.2.3": crypto.SHA512,
	"1.2.840.10045.4.1":      crypto.SHA1,   // ecdsa-with-SHA1
	"1.2.840.10045.4.3.2":    crypto.SHA256, // ecdsa-with-SHA256
	"1.2.840.10045.4.3.3":    crypto.SHA384,
	"1.2.840.10045.4.3.4":    crypto.SHA512,
	"1.2.840.113549.1.1.5":   crypto.SHA1, // sha1WithRSAEncryption
	"1.2.840.113549.1.1.11":  crypto.SHA256,
	"1.2.840.113549.1.1.12":  crypto.SHA384,
	"1.2.840.113549.1.1.13":  crypto.SHA512,
}

// tstInfo is RFC 3161 §2.4.2's TSTInfo.
type tstInfo struct {
	Version        int
	Policy         asn1.ObjectIdentifier
	MessageImprint messageImprint
	SerialNumber   *big.Int
	GenTime        time.Time     `asn1:"generalized"`
	Accuracy       accuracy      `asn1:"optional"`
	Ordering       bool          `asn1:"optional,default:false"`
	Nonce          *big.Int      `asn1:"optional"`
	TSA            asn1.RawValue `asn1:"optional,explicit,tag:0"`
	Extensions     asn1.RawValue `asn1:"optional,tag:1"`
}

type messageImprint struct {
	HashAlgorithm pkix.AlgorithmIdentifier
	HashedMessage []byte
}

type accuracy struct {
	Seconds int64 `asn1:"optional"`
	Millis  int64 `asn1:"optional,tag:0"`
	Micros  int64 `asn1:"optional,tag:1"`
}

func (a accuracy) duration() time.Duration {
	return time.Duration(a.Seconds)*time.Second + time.Duration(a.Millis)*time.Millisecond + time.Duration(a.Micros)*time.Microsecond
}

// elements splits the contents of a constructed DER value into its children.
func elements(contents []byte) ([]asn1.RawValue, error) {
	var out []asn1.RawValue
	for len(contents) > 0 {
		var v asn1.RawValue
		rest, err := asn1.Unmarshal(contents, &v)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		contents = rest
	}
	return out, nil
}

// unmarshalAll is asn1.Unmarshal that refuses trailing bytes.
func unmarshalAll(der []byte, v any) error {
	rest, err := asn1.Unmarshal(der, v)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return errors.New("trailing data after the DER value")
	}
	return nil
}

func isUniversal(v asn1.RawValue, tag int) bool {
	return v.Class == asn1.ClassUniversal && v.Tag == tag
}

func isContext(v asn1.RawValue, tag int) bool {
	return v.Class == asn1.ClassContextSpecific && v.Tag == tag
}

// tsToken is what checkTimestamp learns from a token.
type tsToken struct {
	genTime time.Time
	latest  time.Time // T = genTime + accuracy (§3.1)
}

// checkTimestamp verifies a DER TimeStampResp over note (§3.1 rules 1–4, 6,
// and 8 when haveCover: T must not be earlier than that Unix-nanosecond
// time with its fraction of a second dropped).
func checkTimestamp(resp, note []byte, mustCover int64, haveCover bool) (*tsToken, error) {
	// TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken OPTIONAL }
	var top asn1.RawValue
	if err := unmarshalAll(resp, &top); err != nil || !isUniversal(top, asn1.TagSequence) {
		return nil, fmt.Errorf("§3.1: not a DER TimeStampResp: %v", err)
	}
	parts, err := elements(top.Bytes)
	if err != nil || len(parts) < 1 || len(parts) > 2 {
		return nil, errors.New("§3.1: malformed TimeStampResp")
	}
	// Rule 1: PKIStatus granted (0) or grantedWithMods (1), and a token.
	st, err := elements(parts[0].Bytes)
	if err != nil || len(st) < 1 || !isUniversal(st[0], asn1.TagInteger) {
		return nil, errors.New("§3.1 rule 1: malformed PKIStatusInfo")
	}
	var status int
	if _, err := asn1.Unmarshal(st[0].FullBytes, &status); err != nil || (status != 0 && status != 1) {
		return nil, fmt.Errorf("§3.1 rule 1: PKIStatus is %d, not granted or grantedWithMods", status)
	}
	if len(parts) != 2 {
		return nil, errors.New("§3.1 rule 1: the response holds no token")
	}
	sd, err := parseSignedData(parts[1].FullBytes)
	if err != nil {
		return nil, err
	}
	signer, err := sd.verify() // rule 2
	if err != nil {
		return nil, err
	}
	if err := sd.checkESS(signer); err != nil { // rule 3
		return nil, err
	}
	if err := checkTSAEKU(signer); err != nil { // rule 4
		return nil, err
	}
	var info tstInfo
	if err := unmarshalAll(sd.eContent, &info); err != nil {
		return nil, fmt.Errorf("§3.1: malformed TSTInfo: %v", err)
	}
	// Rule 6: the imprint is SHA-256 and equals SHA-256 of the note bytes.
	if !info.MessageImprint.HashAlgorithm.Algorithm.Equal(oidSHA256) {
		return nil, fmt.Errorf("§3.1 rule 6: imprint algorithm %v is not SHA-256", info.MessageImprint.HashAlgorithm.Algorithm)
	}
	h := sha256.Sum256(note)
	if !bytes.Equal(info.MessageImprint.HashedMessage, h[:]) {
		return nil, errors.New("§3.1 rule 6: the imprint is not SHA-256 of the note bytes")
	}
	tok := &tsToken{genTime: info.GenTime, latest: info.GenTime.Add(info.Accuracy.duration())}
	// Rule 8: T not earlier than the covered entry's time, to the second.
	if haveCover {
		// Truncate rounds down (toward the zero time), also before 1970.
		floor := time.Unix(0, mustCover).UTC().Truncate(time.Second)
		if tok.latest.Before(floor) {
			return nil, fmt.Errorf("§3.1 rule 8: the token's time %s is earlier than the record time %s it covers",
				tok.latest.UTC().Format(time.RFC3339Nano), floor.Format(time.RFC3339))
		}
	}
	return tok, nil
}

// signedData is the part of a CMS SignedData (RFC 5652) a token check needs.
type signedData struct {
	eContentType asn1.ObjectIdentifier
	eContent     []byte
	certs        []*x509.Certificate
	signer       signerInfo
}

type signerInfo struct {
	sid         asn1.RawValue
	digestAlg   pkix.AlgorithmIdentifier
	signedAttrs asn1.RawValue // [0] IMPLICIT SET OF Attribute, FullBytes as in the token
	attrs       map[string][]asn1.RawValue
	sigAlg      pkix.AlgorithmIdentifier
	signature   []byte
}

// parseSignedData reads ContentInfo{signedData} (rule 2: CMS SignedData with
// exactly one signer).
func parseSignedData(der []byte) (*signedData, error) {
	bad := func(what string, detail any) error {
		return fmt.Errorf("§3.1 rule 2: the token is not CMS SignedData: %s %v", what, detail)
	}
	var ci struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue // [0] EXPLICIT SignedData
	}
	if err := unmarshalAll(der, &ci); err != nil || !isContext(ci.Content, 0) {
		return nil, bad("ContentInfo", err)
	}
	if !ci.ContentType.Equal(oidSignedData) {
		return nil, bad("content type", ci.ContentType)
	}
	var inner asn1.RawValue
	if err := unmarshalAll(ci.Content.Bytes, &inner); err != nil || !isUniversal(inner, asn1.TagSequence) {
		return nil, bad("SignedData", err)
	}
	f, err := elements(inner.Bytes)
	if err != nil || len(f) < 4 {
		return nil, bad("SignedData", err)
	}
	sd := &signedData{}
	// f[0] version, f[1] digestAlgorithms, f[2] encapContentInfo,
	// then optional [0] certificates, [1] crls, then signerInfos.
	var eci struct {
		EContentType asn1.ObjectIdentifier
		EContent     []byte `asn1:"explicit,optional,tag:0"`
	}
	if err := unmarshalAll(f[2].FullBytes, &eci); err != nil {
		return nil, bad("encapContentInfo", err)
	}
	sd.eContentType, sd.eContent = eci.EContentType, eci.EContent
	rest := f[3:]
	if len(rest) > 0 && isContext(rest[0], 0) {
		certs, err := elements(rest[0].Bytes)
		if err != nil {
			return nil, bad("certificates", err)
		}
		for _, c := range certs {
			if !isUniversal(c, asn1.TagSequence) {
				continue // other certificate formats are not X.509 certificates
			}
			cert, err := x509.ParseCertificate(c.FullBytes)
			if err != nil {
				return nil, bad("certificate", err)
			}
			sd.certs = append(sd.certs, cert)
		}
		rest = rest[1:]
	}
	if len(rest) > 0 && isContext(rest[0], 1) {
		rest = rest[1:]
	}
	if len(rest) != 1 || !isUniversal(rest[0], asn1.TagSet) {
		return nil, bad("signerInfos", nil)
	}
	sis, err := elements(rest[0].Bytes)
	if err != nil {
		return nil, bad("signerInfos", err)
	}
	if len(sis) != 1 {
		return nil, fmt.Errorf("§3.1 rule 2: the token has %d signers, not exactly one", len(sis))
	}
	if sd.signer, err = parseSignerInfo(sis[0]); err != nil {
		return nil, bad("signerInfo", err)
	}
	return sd, nil
}

func parseSignerInfo(v asn1.RawValue) (signerInfo, error) {
	var si signerInfo
	f, err := elements(v.Bytes)
	if err != nil || len(f) < 5 {
		return si, errors.New("malformed")
	}
	si.sid = f[1]
	if err := unmarshalAll(f[2].FullBytes, &si.digestAlg); err != nil {
		return si, err
	}
	i := 3
	if !isContext(f[i], 0) {
		return si, errors.New("no signed attributes")
	}
	si.signedAttrs = f[i]
	i++
	if err := unmarshalAll(f[i].FullBytes, &si.sigAlg); err != nil {
		return si, err
	}
	i++
	if i >= len(f) || !isUniversal(f[i], asn1.TagOctetString) {
		return si, errors.New("no signature")
	}
	si.signature = f[i].Bytes
	si.attrs = map[string][]asn1.RawValue{}
	attrs, err := elements(si.signedAttrs.Bytes)
	if err != nil {
		return si, err
	}
	for _, a := range attrs {
		var attr struct {
			Type   asn1.ObjectIdentifier
			Values asn1.RawValue `asn1:"set"`
		}
		if err := unmarshalAll(a.FullBytes, &attr); err != nil {
			return si, err
		}
		vals, err := elements(attr.Values.Bytes)
		if err != nil {
			return si, err
		}
		key := attr.Type.String()
		if _, dup := si.attrs[key]; dup {
			return si, fmt.Errorf("signed attribute %s twice", key)
		}
		si.attrs[key] = vals
	}
	return si, nil
}

// signerCert finds the signer's certificate among those in the token.
func (sd *signedData) signerCert() *x509.Certificate {
	sid := sd.signer.sid
	for _, c := range sd.certs {
		switch {
		case isUniversal(sid, asn1.TagSequence): // issuerAndSerialNumber
			var ias struct {
				Issuer asn1.RawValue
				Serial *big.Int
			}
			if unmarshalAll(sid.FullBytes, &ias) == nil &&
				bytes.Equal(ias.Issuer.FullBytes, c.RawIssuer) && ias.Serial.Cmp(c.SerialNumber) == 0 {
				return c
			}
		case isContext(sid, 0): // subjectKeyIdentifier
			if len(c.SubjectKeyId) > 0 && bytes.Equal(sid.Bytes, c.SubjectKeyId) {
				return c
			}
		}
	}
	return nil
}

// verify is §3.1 rule 2: exactly one signer whose certificate is included;
// the signature verifies; the signed content-type attribute is id-ct-TSTInfo.
func (sd *signedData) verify() (*x509.Certificate, error) {
	si := sd.signer
	cert := sd.signerCert()
	if cert == nil {
		return nil, errors.New("§3.1 rule 2: the signer's certificate is not in the token")
	}
	ct := si.attrs[oidContentType.String()]
	var ctOID asn1.ObjectIdentifier
	if len(ct) != 1 || unmarshalAll(ct[0].FullBytes, &ctOID) != nil || !ctOID.Equal(oidTSTInfo) {
		return nil, errors.New("§3.1 rule 2: the signed content-type attribute is not id-ct-TSTInfo")
	}
	if !sd.eContentType.Equal(oidTSTInfo) || sd.eContent == nil {
		return nil, errors.New("§3.1 rule 2: the encapsulated content is not a TSTInfo")
	}
	dh, ok := hashByOID[si.digestAlg.Algorithm.String()]
	if !ok || !dh.Available() {
		return nil, fmt.Errorf("§3.1 rule 2: unknown digest algorithm %v", si.digestAlg.Algorithm)
	}
	md := si.attrs[oidMessageDigest.String()]
	var digest []byte
	if len(md) != 1 || unmarshalAll(md[0].FullBytes, &digest) != nil || !bytes.Equal(digest, hashOf(dh, sd.eContent)) {
		return nil, errors.New("§3.1 rule 2: the message-digest attribute does not match the TSTInfo")
	}
	// The signature is over the DER of the attributes as a SET (RFC 5652 §5.4).
	signed := append([]byte{0x31}, si.signedAttrs.FullBytes[1:]...)
	if err := verifyCMSSignature(cert, si, dh, signed); err != nil {
		return nil, fmt.Errorf("§3.1 rule 2: the token's signature does not verify: %v", err)
	}
	return cert, nil
}

func hashOf(h crypto.Hash, b []byte) []byte {
	w := h.New()
	w.Write(b)
	return w.Sum(nil)
}

func verifyCMSSignature(cert *x509.Certificate, si signerInfo, dh crypto.Hash, signed []byte) error {
	h := dh
	if sh, ok := hashByOID[si.sigAlg.Algorithm.String()]; ok {
		h = sh
	}
	switch pub := cert.PublicKey.(type) {
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(pub, hashOf(h, signed), si.signature) {
			return errors.New("bad ECDSA signature")
		}
		return nil
	case *rsa.PublicKey:
		if si.sigAlg.Algorithm.Equal(oidRSAPSS) {
			return rsa.VerifyPSS(pub, dh, hashOf(dh, signed), si.signature, nil)
		}
		return rsa.VerifyPKCS1v15(pub, h, hashOf(h, signed), si.signature)
	case ed25519.PublicKey:
		if !ed25519.Verify(pub, signed, si.signature) {
			return errors.New("bad Ed25519 signature")
		}
		return nil
	}
	return fmt.Errorf("unsupported key type %T", cert.PublicKey)
}

// checkESS is §3.1 rule 3: the ESS signing-certificate attribute (v2, RFC
// 5035, or v1, RFC 2634) names the signer certificate by hash. Its first
// certificate ID must be the signer's (RFC 5035 §5.4); every such attribute
// present must agree.
func (sd *signedData) checkESS(cert *x509.Certificate) error {
	found := false
	for _, oid := range []asn1.ObjectIdentifier{oidSigningCertV2, oidSigningCert} {
		vals, present := sd.signer.attrs[oid.String()]
		if !present {
			continue
		}
		found = true
		if len(vals) != 1 {
			return errors.New("§3.1 rule 3: malformed ESS signing-certificate attribute")
		}
		hashAlg, certHash, err := firstESSCertID(vals[0], oid.Equal(oidSigningCertV2))
		if err != nil {
			return fmt.Errorf("§3.1 rule 3: malformed ESS signing-certificate attribute: %v", err)
		}
		if !bytes.Equal(certHash, hashOf(hashAlg, cert.Raw)) {
			return errors.New("§3.1 rule 3: the ESS signing-certificate attribute does not name the signer certificate")
		}
	}
	if !found {
		return errors.New("§3.1 rule 3: no ESS signing-certificate attribute")
	}
	return nil
}

// firstESSCertID reads SigningCertificate(V2) ::= SEQUENCE { certs SEQUENCE
// OF ESSCertID(v2), ... } and returns the first ID's hash algorithm (v2:
// default SHA-256; v1: SHA-1) and hash.
func firstESSCertID(v asn1.RawValue, v2 bool) (crypto.Hash, []byte, error) {
	top, err := elements(v.Bytes)
	if err != nil || len(top) < 1 {
		return 0, nil, errors.New("no certs")
	}
	ids, err := elements(top[0].Bytes)
	if err != nil || len(ids) < 1 {
		return 0, nil, errors.New("no certificate IDs")
	}
	f, err := elements(ids[0].Bytes)
	if err != nil || len(f) < 1 {
		return 0, nil, errors.New("empty certificate ID")
	}
	h := crypto.SHA1
	if v2 {
		h = crypto.SHA256
		if isUniversal(f[0], asn1.TagSequence) {
			var alg pkix.AlgorithmIdentifier
			if err := unmarshalAll(f[0].FullBytes, &alg); err != nil {
				return 0, nil, err
			}
			var ok bool
			if h, ok = hashByOID[alg.Algorithm.String()]; !ok {
				return 0, nil, fmt.Errorf("unknown hash %v", alg.Algorithm)
			}
			f = f[1:]
		}
	}
	if len(f) < 1 || !isUniversal(f[0], asn1.TagOctetString) {
		return 0, nil, errors.New("no certHash")
	}
	return h, f[0].Bytes, nil
}

// checkTSAEKU is §3.1 rule 4: exactly one extended key usage extension,
// marked critical, listing only id-kp-timeStamping.
func checkTSAEKU(c *x509.Certificate) error {
	n := 0
	for _, ext := range c.Extensions {
		if !ext.Id.Equal(oidEKU) {
			continue
		}
		n++
		if !ext.Critical {
			return errors.New("§3.1 rule 4: the TSA certificate's extended key usage is not critical")
		}
		var usages []asn1.ObjectIdentifier
		if err := unmarshalAll(ext.Value, &usages); err != nil || len(usages) != 1 || !usages[0].Equal(oidTimeStamping) {
			return errors.New("§3.1 rule 4: the TSA certificate's extended key usage is not only id-kp-timeStamping")
		}
	}
	if n != 1 {
		return fmt.Errorf("§3.1 rule 4: the TSA certificate has %d extended key usage extensions, not exactly one", n)
	}
	return nil
}
