package formatcheck

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"

	"filippo.io/edwards25519"
)

// §1: the entry layout.
const (
	entryMagic     = "cairn/1\n"
	entryHeader    = 92      // magic, seq, time, prev, key, n
	entryOverhead  = 156     // header + sig
	maxPayload     = 1048576 // "at most 1048576"
	recordSigLabel = "cairn record signature v1\n"
)

type entry struct {
	raw     []byte
	seq     uint64
	time    int64 // Unix nanoseconds
	prev    []byte
	key     []byte
	payload []byte
	sig     []byte
}

// parseEntry checks §1's layout (§1.4 rule 1): the magic, n at most 1 MiB,
// and a total length of exactly 156 + n.
func parseEntry(b []byte) (*entry, error) {
	if len(b) < entryOverhead {
		return nil, fmt.Errorf("§1.4 rule 1: entry is %d bytes, shorter than 156", len(b))
	}
	if string(b[:8]) != entryMagic {
		return nil, errors.New("§1.4 rule 1: bad magic (not \"cairn/1\\n\")")
	}
	n := binary.BigEndian.Uint32(b[88:92])
	if n > maxPayload {
		return nil, fmt.Errorf("§1.4 rule 1: payload length %d is more than 1048576", n)
	}
	if uint64(len(b)) != entryOverhead+uint64(n) {
		return nil, fmt.Errorf("§1.4 rule 1: entry is %d bytes, not 156 + n = %d", len(b), entryOverhead+uint64(n))
	}
	return &entry{
		raw:     b,
		seq:     binary.BigEndian.Uint64(b[8:16]),
		time:    int64(binary.BigEndian.Uint64(b[16:24])),
		prev:    b[24:56],
		key:     b[56:88],
		payload: b[92 : 92+n],
		sig:     b[92+n:],
	}, nil
}

// body is the entry without its last 64 bytes (§1.1).
func (e *entry) body() []byte { return e.raw[:len(e.raw)-64] }

// link is the chain link the next entry must carry (§1.2).
func (e *entry) link() []byte {
	h := sha256.Sum256(e.body())
	return h[:]
}

// leafHash is SHA-256(0x00 || entry) (§1.1, RFC 6962).
func leafHash(raw []byte) []byte {
	h := sha256.New()
	h.Write([]byte{0})
	h.Write(raw)
	return h.Sum(nil)
}

// checkRecordSig is §1.4 rule 5: sig is the Ed25519 signature by key over
// "cairn record signature v1\n" || origin || "\n" || body (§1.3).
func (e *entry) checkRecordSig(origin string) error {
	msg := make([]byte, 0, len(recordSigLabel)+len(origin)+1+len(e.raw))
	msg = append(msg, recordSigLabel...)
	msg = append(msg, origin...)
	msg = append(msg, '\n')
	msg = append(msg, e.body()...)
	if err := verifyEd25519(e.key, msg, e.sig); err != nil {
		return fmt.Errorf("§1.4 rule 5: signature does not verify (§1.3): %v", err)
	}
	return nil
}

// checkKeyPoint is §1.3 rule 2: A is a canonical encoding of a point that is
// not of small order.
func checkKeyPoint(pub []byte) error {
	if len(pub) != 32 {
		return fmt.Errorf("public key is %d bytes, not 32", len(pub))
	}
	p, err := new(edwards25519.Point).SetBytes(pub)
	if err != nil {
		return errors.New("public key is not a point on the curve")
	}
	if !bytes.Equal(p.Bytes(), pub) {
		return errors.New("public key is not a canonical encoding")
	}
	if new(edwards25519.Point).MultByCofactor(p).Equal(edwards25519.NewIdentityPoint()) == 1 {
		return errors.New("public key is a point of small order")
	}
	return nil
}

// verifyEd25519 implements the verification rule §1.3 pins, written out with
// the group operations rather than by calling crypto/ed25519, so that it is a
// second implementation of the rule:
//  1. S < L;
//  2. A canonical and not of small order;
//  3. encode([S]B − [k]A) == R byte for byte, k = SHA-512(R || A || M) mod L.
func verifyEd25519(pub, msg, sig []byte) error {
	if len(sig) != 64 {
		return fmt.Errorf("signature is %d bytes, not 64", len(sig))
	}
	s, err := new(edwards25519.Scalar).SetCanonicalBytes(sig[32:])
	if err != nil {
		return errors.New("S is not less than the group order L (rule 1)")
	}
	if err := checkKeyPoint(pub); err != nil {
		return fmt.Errorf("%v (rule 2)", err)
	}
	A, _ := new(edwards25519.Point).SetBytes(pub)
	h := sha512.New()
	h.Write(sig[:32])
	h.Write(pub)
	h.Write(msg)
	k, err := new(edwards25519.Scalar).SetUniformBytes(h.Sum(nil))
	if err != nil {
		return err
	}
	minusA := new(edwards25519.Point).Negate(A)
	R := new(edwards25519.Point).VarTimeDoubleScalarBaseMult(k, minusA, s)
	if !bytes.Equal(R.Bytes(), sig[:32]) {
		return errors.New("[S]B − [k]A does not encode to R (rule 3)")
	}
	return nil
}
