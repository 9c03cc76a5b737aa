package formatcheck

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// keyInfo is what the records say about one Ed25519 key (§5.3).
type keyInfo struct {
	key          []byte
	introducedAt int64  // index of the identity or rotate record that introduced it
	retiredAt    int64  // index of the rotation that retired it, or -1
	rotatedFrom  []byte // the signer of the introducing rotation, or nil
	name         string
	cert         []byte // of the introducing record
}

// keyState follows §5.3 through records taken in index order.
type keyState struct {
	byKey map[string]*keyInfo
	order []*keyInfo // in order of introduction
}

func newKeyState() *keyState { return &keyState{byKey: map[string]*keyInfo{}} }

func (ks *keyState) lookup(k []byte) *keyInfo { return ks.byKey[string(k)] }

// inUse: "introduced by an earlier identity or rotate step and not retired by
// an earlier rotate step" (§5.3); a key is in use at index i if the record
// that introduced it has an index below i and no rotation with an index below
// i retired it (§7.4).
func (ks *keyState) inUse(k []byte, i int64) bool {
	ki := ks.lookup(k)
	return ki != nil && ki.introducedAt < i && (ki.retiredAt < 0 || ki.retiredAt >= i)
}

// maySign is §5.3: a key may sign a checkpoint of size N if the record that
// introduced it has an index below N and no rotation with an index below N − 1
// retired it.
func (ks *keyState) maySign(k []byte, n int64) bool {
	ki := ks.lookup(k)
	return ki != nil && ki.introducedAt < n && (ki.retiredAt < 0 || ki.retiredAt >= n-1)
}

// apply takes record i (already checked for layout, signature and strict
// reading) through the rules of §5.3: which key may sign it, and what it
// introduces or retires. It returns the rule broken, if any.
func (ks *keyState) apply(i int64, e *entry, st *step) error {
	signer := ks.lookup(e.key)
	switch st.kind {
	case "identity":
		// "An identity step signed by a retired key is invalid too (the
		// retirement is checked first)."
		if signer != nil && signer.retiredAt >= 0 && signer.retiredAt < i {
			return fmt.Errorf("§5.3: identity record signed by key %s, retired by record %d", keyID(e.key), signer.retiredAt)
		}
		if !bytes.Equal(st.key, e.key) {
			return errors.New("§5.3: an identity step's key does not equal the entry's key")
		}
		if signer != nil {
			return fmt.Errorf("§5.3: key %s was already introduced by record %d", keyID(e.key), signer.introducedAt)
		}
		if err := checkIntroduced(st); err != nil {
			return err
		}
		ks.introduce(i, st, nil)
	case "rotate":
		if !ks.inUse(e.key, i) {
			return fmt.Errorf("§5.3: rotation signed by key %s, which is not in use (%s)", keyID(e.key), ks.why(e.key, i))
		}
		if bytes.Equal(st.key, e.key) {
			return errors.New("§5.3: a rotation's new key equals its signer's key")
		}
		if old := ks.lookup(st.key); old != nil {
			return fmt.Errorf("§5.3: the rotation's new key %s was already introduced by record %d", keyID(st.key), old.introducedAt)
		}
		if err := checkIntroduced(st); err != nil {
			return err
		}
		ks.introduce(i, st, e.key)
		signer.retiredAt = i
	default:
		if !ks.inUse(e.key, i) {
			return fmt.Errorf("§5.3: record signed by key %s, which is not in use (%s)", keyID(e.key), ks.why(e.key, i))
		}
	}
	return nil
}

func (ks *keyState) why(k []byte, i int64) string {
	ki := ks.lookup(k)
	switch {
	case ki == nil:
		return "never introduced by an earlier record"
	case ki.introducedAt >= i:
		return fmt.Sprintf("introduced only by record %d", ki.introducedAt)
	default:
		return fmt.Sprintf("retired by record %d", ki.retiredAt)
	}
}

func (ks *keyState) introduce(i int64, st *step, from []byte) {
	ki := &keyInfo{key: st.key, introducedAt: i, retiredAt: -1, rotatedFrom: from, name: st.name, cert: st.cert}
	ks.byKey[string(st.key)] = ki
	ks.order = append(ks.order, ki)
}

// checkIntroduced is §5.3 for a key an identity or rotation step introduces:
// a canonical point not of small order (§1.3 rule 2) and a certificate bound
// to it.
func checkIntroduced(st *step) error {
	if err := checkKeyPoint(st.key); err != nil {
		return fmt.Errorf("§5.3: the introduced key: %v (§1.3 rule 2)", err)
	}
	if err := checkCertBinding(st.cert, st.key, st.name); err != nil {
		return fmt.Errorf("§5.3: %v", err)
	}
	return nil
}

const certURIPrefix = "urn:cairn:ed25519:"

var (
	oidSAN        = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidCommonName = asn1.ObjectIdentifier{2, 5, 4, 3}
)

// checkCertBinding is §5.3: cert is bound to the key: "an X.509 certificate
// of an ECDSA P-256 key, signed by that same key with ECDSA-SHA256
// (self-signed; the issuer name is not compared), whose subject holds exactly
// one common name attribute, equal byte for byte to the step's name, and whose
// subjectAltName holds exactly one cairn URI" (urn:cairn: in any case), which
// is "byte for byte urn:cairn:ed25519:<64 lowercase hex digits of the step's
// key>".
func checkCertBinding(der, key []byte, name string) error {
	return checkBound(der, key, &name)
}

// checkBound is checkCertBinding; a nil name compares the one common name
// with nothing (a custodian's certificate, §7.4 rule 7).
func checkBound(der, key []byte, name *string) error {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("cert is not an X.509 certificate: %v", err)
	}
	pk, ok := c.PublicKey.(*ecdsa.PublicKey)
	if !ok || pk.Curve != elliptic.P256() {
		return errors.New("cert is not for an ECDSA P-256 key")
	}
	if c.SignatureAlgorithm != x509.ECDSAWithSHA256 {
		return fmt.Errorf("cert is signed with %v, not ECDSA-SHA256", c.SignatureAlgorithm)
	}
	// "signed by that same key with ECDSA-SHA256 (self-signed)": the
	// signature verifies with the certificate's own key. The issuer name is
	// not compared with the subject: §5.3 defines self-signed by the key
	// (see the report). CheckSignatureFrom would demand a CA certificate.
	if err := c.CheckSignature(x509.ECDSAWithSHA256, c.RawTBSCertificate, c.Signature); err != nil {
		return fmt.Errorf("cert is not signed by its own key: %v", err)
	}
	var cns []string
	for _, a := range c.Subject.Names {
		if a.Type.Equal(oidCommonName) {
			s, _ := a.Value.(string)
			cns = append(cns, s)
		}
	}
	if len(cns) != 1 {
		return fmt.Errorf("cert's subject has %d common names, not one", len(cns))
	}
	if name != nil && cns[0] != *name {
		return fmt.Errorf("cert's common name %q does not equal the step's name %q", cns[0], *name)
	}
	uris, err := sanURIs(c)
	if err != nil {
		return err
	}
	want := certURIPrefix + hex.EncodeToString(key)
	// §5.3: a cairn URI is one whose first 10 bytes are urn:cairn: in any
	// case; there is exactly one, and it is want byte for byte.
	ours := cairnURIs(uris)
	if len(ours) != 1 {
		return fmt.Errorf("cert's subjectAltName holds %d cairn URIs, not exactly one", len(ours))
	}
	if ours[0] != want {
		return fmt.Errorf("cert's cairn URI %s is not %s", ours[0], want)
	}
	return nil
}

// cairnURIs are the URIs whose first 10 bytes are urn:cairn: in any case.
func cairnURIs(uris []string) []string {
	var ours []string
	for _, u := range uris {
		const head = "urn:cairn:"
		if len(u) >= len(head) && strings.EqualFold(u[:len(head)], head) {
			ours = append(ours, u)
		}
	}
	return ours
}

// sanURIs returns the uniformResourceIdentifier names of the certificate's
// subjectAltName extension, byte for byte as encoded (not as net/url would
// re-print them).
func sanURIs(c *x509.Certificate) ([]string, error) {
	var out []string
	for _, ext := range c.Extensions {
		if !ext.Id.Equal(oidSAN) {
			continue
		}
		var seq asn1.RawValue
		if err := unmarshalAll(ext.Value, &seq); err != nil || !isUniversal(seq, asn1.TagSequence) {
			return nil, errors.New("cert's subjectAltName is malformed")
		}
		names, err := elements(seq.Bytes)
		if err != nil {
			return nil, errors.New("cert's subjectAltName is malformed")
		}
		for _, n := range names {
			if n.Class == asn1.ClassContextSpecific && n.Tag == 6 {
				out = append(out, string(n.Bytes))
			}
		}
	}
	return out, nil
}

// keyID is §5.3's key_id: the first 8 bytes of SHA-256 of the key, hex.
func keyID(k []byte) string {
	h := sha256.Sum256(k)
	return hex.EncodeToString(h[:8])
}
