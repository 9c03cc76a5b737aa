package evidence

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/cairn-ledger/cairn/internal/strict"
	"github.com/cairn-ledger/cairn/ledger"
)

// The binding of a certificate to an Ed25519 key (FORMAT.md §5.3) is read
// from the certificate's bytes, not from crypto/x509's parsed view: x509
// lower-cases a URI's scheme and keeps only the last common name, so two
// certificates that differ in those bytes would read alike.

// ErrNoCairnKey is returned by CertKey for a certificate that names no cairn
// key (one a CA issued to a firm, say).
var ErrNoCairnKey = errors.New("it names no Ed25519 key")

// cairnURIPrefix is the scheme and namespace of a cairn URI, compared without
// case (RFC 3986 schemes and RFC 8141 namespace identifiers are case-blind)
// when counting the URIs that claim a cairn key.
const cairnURIPrefix = "urn:cairn:"

// CertKey returns the Ed25519 key the certificate names: its subjectAltName
// holds exactly one URI whose scheme and namespace are urn:cairn: (in any
// case), and that URI is, byte for byte, urn:cairn:ed25519: followed by the
// key's 64 lowercase hex digits (KeyURI).
func CertKey(cert *x509.Certificate) (ed25519.PublicKey, error) {
	uris, err := sanURIs(cert)
	if err != nil {
		return nil, err
	}
	var named []string
	for _, u := range uris {
		if len(u) >= len(cairnURIPrefix) && strings.EqualFold(u[:len(cairnURIPrefix)], cairnURIPrefix) {
			named = append(named, u)
		}
	}
	switch {
	case len(named) == 0:
		return nil, ErrNoCairnKey
	case len(named) > 1:
		return nil, fmt.Errorf("it names %d cairn keys; a certificate is bound to one", len(named))
	}
	h, ok := strings.CutPrefix(named[0], "urn:cairn:ed25519:")
	if !ok {
		return nil, fmt.Errorf("its cairn URI %q is not urn:cairn:ed25519:<hex>, written in lower case", named[0])
	}
	k, err := strict.Hex(h, ed25519.PublicKeySize)
	if err != nil {
		return nil, fmt.Errorf("its cairn URI %q: %v", named[0], err)
	}
	return ed25519.PublicKey(k), nil
}

// CheckBinding verifies that cert is bound to the Ed25519 key pub (FORMAT.md
// §5.3): an ECDSA P-256 key, self-signed with ECDSA-SHA256, with exactly one
// common name, naming exactly one Ed25519 key (CertKey), and that key is pub.
func CheckBinding(cert *x509.Certificate, pub ed25519.PublicKey) error {
	k, err := CertKey(cert)
	switch {
	case errors.Is(err, ErrNoCairnKey) || err == nil && !bytes.Equal(k, pub):
		return fmt.Errorf("certificate for %q does not name Ed25519 key %s", cert.Subject.CommonName, ledger.KeyID(pub))
	case err != nil:
		return fmt.Errorf("certificate for %q: %v", cert.Subject.CommonName, err)
	}
	if _, err := CertName(cert); err != nil {
		return err
	}
	ek, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || ek.Curve != elliptic.P256() {
		return errors.New("certificate key is not ECDSA P-256")
	}
	if cert.SignatureAlgorithm != x509.ECDSAWithSHA256 {
		return fmt.Errorf("certificate is signed with %v, not ECDSA-SHA256", cert.SignatureAlgorithm)
	}
	return cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature)
}

var oidCommonName = asn1.ObjectIdentifier{2, 5, 4, 3}

// CertName returns the certificate subject's one common name; a subject with
// none, or with more than one, names nobody for certain.
func CertName(cert *x509.Certificate) (string, error) {
	var names []string
	for _, atv := range cert.Subject.Names {
		if atv.Type.Equal(oidCommonName) {
			v, ok := atv.Value.(string)
			if !ok {
				return "", errors.New("the certificate's common name is not a string")
			}
			names = append(names, v)
		}
	}
	if len(names) != 1 {
		return "", fmt.Errorf("the certificate's subject has %d common names; a bound certificate has one", len(names))
	}
	return names[0], nil
}

var oidSubjectAltName = asn1.ObjectIdentifier{2, 5, 29, 17}

// sanURIs returns the uniformResourceIdentifier names of the certificate's
// subjectAltName extension (RFC 5280 §4.2.1.6), as their bytes.
func sanURIs(cert *x509.Certificate) ([]string, error) {
	var out []string
	for _, ext := range cert.Extensions {
		if !ext.Id.Equal(oidSubjectAltName) {
			continue
		}
		in := cryptobyte.String(ext.Value)
		var seq cryptobyte.String
		if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !in.Empty() {
			return nil, errors.New("its subjectAltName is malformed")
		}
		for !seq.Empty() {
			var name cryptobyte.String
			var tag cbasn1.Tag
			if !seq.ReadAnyASN1(&name, &tag) {
				return nil, errors.New("its subjectAltName is malformed")
			}
			if tag == cbasn1.Tag(6).ContextSpecific() {
				out = append(out, string(name))
			}
		}
	}
	return out, nil
}
