package ledger

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"filippo.io/edwards25519"
	"golang.org/x/mod/sumdb/tlog"
)

// Entry layout (FORMAT.md, "Entries"). Every integer is big-endian.
//
//	offset  size  field
//	0       8     magic "cairn/1\n"
//	8       8     seq, uint64, 0 for the first record
//	16      8     time, int64 Unix nanoseconds (UTC)
//	24      32    prev, SHA-256 of record seq-1 without its signature (zero for seq 0)
//	56      32    key, the author's Ed25519 public key
//	88      4     n, payload length, uint32, at most MaxPayload
//	92      n     payload, opaque to the ledger
//	92+n    64    sig, Ed25519 signature over SignedMessage(origin, entry[:92+n])
const (
	entryMagic    = "cairn/1\n"
	headerSize    = 92
	signatureSize = ed25519.SignatureSize
	// MaxPayload bounds one record. Badger refuses a transaction larger than 15% of
	// the memtable, and a bounded record keeps verification memory flat; large content
	// (files, long texts) belongs in content-addressed storage, referenced by hash.
	MaxPayload = 1 << 20
	// MinEntrySize is the size of an entry with an empty payload.
	MinEntrySize = headerSize + signatureSize
)

// signaturePrefix separates record signatures from every other use of the key
// (checkpoint notes begin with an origin line, which never starts with this text).
const signaturePrefix = "cairn record signature v1\n"

// A Record is one decoded ledger entry. Entry holds the exact stored bytes; every
// hash is taken over them, never over a re-encoding.
type Record struct {
	Seq     int64
	Time    time.Time
	Prev    tlog.Hash
	Key     ed25519.PublicKey
	Payload []byte
	Sig     []byte
	Entry   []byte
}

// Hash is the record's RFC 6962 leaf hash, SHA-256(0x00 || entry). The next record's
// prev field holds it, and it is the leaf of the Merkle tree.
func (r *Record) Hash() tlog.Hash { return tlog.RecordHash(r.Entry) }

// KeyID is the short public-key identifier printed to people: the first 8 bytes of
// SHA-256 of the public key, in hex. It identifies; the full key verifies.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return fmt.Sprintf("%x", sum[:8])
}

// SignedMessage returns the bytes an author signs for an entry: a fixed prefix, the
// ledger's origin and a newline, then the entry without its signature. Binding the
// origin means a record cannot be replayed into another ledger.
func SignedMessage(origin string, unsigned []byte) []byte {
	msg := make([]byte, 0, len(signaturePrefix)+len(origin)+1+len(unsigned))
	msg = append(msg, signaturePrefix...)
	msg = append(msg, origin...)
	msg = append(msg, '\n')
	return append(msg, unsigned...)
}

// encodeUnsigned lays out an entry without its signature and reserves room for it.
func encodeUnsigned(seq int64, t time.Time, prev tlog.Hash, key ed25519.PublicKey, payload []byte) []byte {
	// Room for the signature, and for the tree hashes stored after the entry
	// (storedHashCount), so that neither needs another allocation and copy.
	e := make([]byte, headerSize, headerSize+len(payload)+signatureSize+storedHashCount(seq)*tlog.HashSize)
	copy(e, entryMagic)
	binary.BigEndian.PutUint64(e[8:], uint64(seq))
	binary.BigEndian.PutUint64(e[16:], uint64(t.UnixNano()))
	copy(e[24:56], prev[:])
	copy(e[56:88], key)
	binary.BigEndian.PutUint32(e[88:], uint32(len(payload)))
	return append(e, payload...)
}

// ErrMalformed is wrapped by every decoding error.
var ErrMalformed = errors.New("malformed entry")

// DecodeEntry parses an entry. It checks the layout only: signatures, the chain and
// the sequence are checked by verification, which knows the context.
func DecodeEntry(entry []byte) (*Record, error) {
	if len(entry) < MinEntrySize {
		return nil, fmt.Errorf("%w: %d bytes, the smallest entry has %d", ErrMalformed, len(entry), MinEntrySize)
	}
	if !bytes.Equal(entry[:8], []byte(entryMagic)) {
		return nil, fmt.Errorf("%w: bad magic %q, want %q", ErrMalformed, entry[:8], entryMagic)
	}
	n := binary.BigEndian.Uint32(entry[88:92])
	if n > MaxPayload {
		return nil, fmt.Errorf("%w: payload length %d exceeds the limit of %d", ErrMalformed, n, MaxPayload)
	}
	if want := headerSize + int(n) + signatureSize; len(entry) != want {
		return nil, fmt.Errorf("%w: %d bytes, the header's payload length %d implies %d", ErrMalformed, len(entry), n, want)
	}
	seq := binary.BigEndian.Uint64(entry[8:16])
	if seq > 1<<62 {
		return nil, fmt.Errorf("%w: sequence number %d out of range", ErrMalformed, seq)
	}
	r := &Record{
		Seq:     int64(seq),
		Time:    time.Unix(0, int64(binary.BigEndian.Uint64(entry[16:24]))).UTC(),
		Key:     ed25519.PublicKey(entry[56:88]),
		Payload: entry[headerSize : headerSize+int(n)],
		Sig:     entry[headerSize+int(n):],
		Entry:   entry,
	}
	copy(r.Prev[:], entry[24:56])
	return r, nil
}

// CheckSignature reports whether the record's signature is valid for origin.
func (r *Record) CheckSignature(origin string) bool {
	ok, _ := r.checkSignature(origin, nil)
	return ok
}

// checkSignature is CheckSignature building the signed message in buf, which it
// returns for reuse: verification checks records by the hundred thousand.
func (r *Record) checkSignature(origin string, buf []byte) (bool, []byte) {
	buf = append(append(append(append(buf[:0], signaturePrefix...), origin...), '\n'), r.Entry[:len(r.Entry)-signatureSize]...)
	return ed25519.Verify(r.Key, buf, r.Sig), buf
}

// CheckPublicKey refuses an Ed25519 public key that FORMAT.md §1.3 does not let
// sign: a non-canonical encoding of a point, or a point of small order (for which
// signatures can verify for more than one message). crypto/ed25519 accepts both,
// and implementations differ on them; with such keys refused where a key is
// introduced, every verifier that follows RFC 8032's cofactorless check agrees
// on every signature cairn accepts.
func CheckPublicKey(pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("Ed25519 public key of %d bytes, want %d", len(pub), ed25519.PublicKeySize)
	}
	p, err := new(edwards25519.Point).SetBytes(pub)
	if err != nil {
		return errors.New("the Ed25519 public key is not a point on the curve")
	}
	if !bytes.Equal(p.Bytes(), pub) {
		return errors.New("the Ed25519 public key is not canonically encoded")
	}
	if new(edwards25519.Point).MultByCofactor(p).Equal(edwards25519.NewIdentityPoint()) == 1 {
		return errors.New("the Ed25519 public key is a point of small order")
	}
	return nil
}
