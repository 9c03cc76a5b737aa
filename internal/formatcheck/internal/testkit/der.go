// Package testkit holds what the formatcheck tests need to produce inputs
// cairn accepts or should refuse: a DER builder, CMS SignedData, a local
// RFC 3161 time-stamping service and a PDF re-signer. It is test support
// only; the verifier does not use it.
package testkit

import (
	"bytes"
	"encoding/asn1"
	"math/big"
	"sort"
	"time"
)

// TLV encodes one DER value with the given tag byte.
func TLV(tag byte, content []byte) []byte {
	var out []byte
	out = append(out, tag)
	n := len(content)
	switch {
	case n < 0x80:
		out = append(out, byte(n))
	default:
		var l []byte
		for m := n; m > 0; m >>= 8 {
			l = append([]byte{byte(m)}, l...)
		}
		out = append(out, 0x80|byte(len(l)))
		out = append(out, l...)
	}
	return append(out, content...)
}

func Seq(parts ...[]byte) []byte { return TLV(0x30, bytes.Join(parts, nil)) }

// Set encodes a DER SET OF, its elements sorted by their encodings.
func Set(parts ...[]byte) []byte {
	p := append([][]byte{}, parts...)
	sort.Slice(p, func(i, j int) bool { return bytes.Compare(p[i], p[j]) < 0 })
	return TLV(0x31, bytes.Join(p, nil))
}

func Explicit(tag int, content []byte) []byte { return TLV(0xa0|byte(tag), content) }

func Octets(b []byte) []byte { return TLV(0x04, b) }

func OID(o asn1.ObjectIdentifier) []byte { b, _ := asn1.Marshal(o); return b }

func Int(i int64) []byte { b, _ := asn1.Marshal(i); return b }

func BigInt(i *big.Int) []byte { b, _ := asn1.Marshal(i); return b }

func Bool(v bool) []byte { b, _ := asn1.Marshal(v); return b }

// GenTime encodes a GeneralizedTime with fractional seconds when t has them
// (DER: no trailing zeros).
func GenTime(t time.Time) []byte {
	return TLV(0x18, []byte(t.UTC().Format("20060102150405.999999999Z")))
}

func UTCTime(t time.Time) []byte {
	return TLV(0x17, []byte(t.UTC().Format("060102150405Z")))
}

// AlgID is an AlgorithmIdentifier without parameters.
func AlgID(o asn1.ObjectIdentifier) []byte { return Seq(OID(o)) }

var (
	OIDData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	OIDSignedData    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	OIDTSTInfo       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}
	OIDContentType   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	OIDMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	OIDSigningTime   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	OIDSigningCertV2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	OIDSHA256        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	OIDSHA1          = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	OIDECDSASHA256   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	OIDEKU           = asn1.ObjectIdentifier{2, 5, 29, 37}
	OIDTimeStamping  = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 8}
	OIDCodeSigning   = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 3}
)
