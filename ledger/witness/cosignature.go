// Package witness lets a second party cosign a ledger's checkpoints, so that the
// ledger's owner cannot later rewrite history that party has seen.
//
// A witness (a team lead, a legal department) keeps, for each ledger it follows,
// the largest checkpoint it has cosigned. It cosigns a new checkpoint only if the
// ledger signed it and a consistency proof shows it extends that one. A
// rewritten ledger then either lacks the witness's cosignatures or contradicts one.
//
// Cosignatures follow C2SP tlog-cosignature (Ed25519, cosignature/v1): a signed
// note signature line added to the checkpoint note. FORMAT.md §3.2 specifies it.
package witness

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"
)

// algCosignatureV1 is the signed-note signature type of Ed25519 cosignatures
// (C2SP tlog-cosignature). It differs from plain Ed25519 (0x01) because the
// signed message differs: a key must not be usable for both.
const algCosignatureV1 = 0x04

// sigSize is a cosignature's length after the key ID: timestamp and Ed25519 signature.
const sigSize = 8 + ed25519.SignatureSize

// A Cosigner makes C2SP cosignature/v1 signatures. It implements note.Signer,
// signing at the current time; At signs at a given time.
type Cosigner struct {
	name string
	key  ed25519.PrivateKey
	hash uint32
}

// NewCosigner returns a cosigner named name, which should be a schema-less URL
// identifying the witness (for example "legal.example.com/cairn-witness").
func NewCosigner(name string, key ed25519.PrivateKey) (*Cosigner, error) {
	if !validName(name) {
		return nil, fmt.Errorf("witness: invalid cosigner name %q", name)
	}
	if len(key) != ed25519.PrivateKeySize {
		return nil, errors.New("witness: invalid Ed25519 private key")
	}
	pub := key.Public().(ed25519.PublicKey)
	return &Cosigner{name: name, key: key, hash: keyHash(name, pub)}, nil
}

// Name returns the cosigner's name, the key name of its signature lines.
func (c *Cosigner) Name() string { return c.name }

// KeyHash returns the cosigner's key ID.
func (c *Cosigner) KeyHash() uint32 { return c.hash }

// Sign cosigns msg, a checkpoint note body, at the current time.
func (c *Cosigner) Sign(msg []byte) ([]byte, error) { return c.signAt(msg, time.Now()) }

// At returns a note.Signer that cosigns at t instead of the current time, so that
// the time signed is the time the caller recorded.
func (c *Cosigner) At(t time.Time) note.Signer { return fixedTime{c, t} }

// PublicKey returns the cosigner's public key.
func (c *Cosigner) PublicKey() ed25519.PublicKey { return c.key.Public().(ed25519.PublicKey) }

// VerifierKey returns the cosigner's verifier key, for those who check its cosignatures.
func (c *Cosigner) VerifierKey() string {
	vkey, _ := VerifierKey(c.name, c.PublicKey()) // name and key were checked by NewCosigner
	return vkey
}

func (c *Cosigner) signAt(msg []byte, t time.Time) ([]byte, error) {
	if t.Unix() < 0 {
		return nil, fmt.Errorf("witness: cannot cosign at %v, before 1970", t)
	}
	ts := uint64(t.Unix())
	sig := make([]byte, 8, sigSize)
	binary.BigEndian.PutUint64(sig, ts)
	return append(sig, ed25519.Sign(c.key, signedMessage(ts, msg))...), nil
}

type fixedTime struct {
	*Cosigner
	t time.Time
}

func (f fixedTime) Sign(msg []byte) ([]byte, error) { return f.signAt(msg, f.t) }

// signedMessage is what a cosignature/v1 signs: a header line for domain
// separation, the time line, then the whole checkpoint body.
func signedMessage(ts uint64, body []byte) []byte {
	m := make([]byte, 0, 40+len(body))
	m = append(m, "cosignature/v1\ntime "...)
	m = strconv.AppendUint(m, ts, 10)
	m = append(m, '\n')
	return append(m, body...)
}

// keyHash is the key ID: SHA-256(name || "\n" || 0x04 || public key)[:4].
func keyHash(name string, pub ed25519.PublicKey) uint32 {
	h := sha256.New()
	h.Write([]byte(name + "\n"))
	h.Write([]byte{algCosignatureV1})
	h.Write(pub)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// validName reports whether name can be a signed-note key name: non-empty UTF-8
// without spaces or "+", which separates the fields of a verifier key.
func validName(name string) bool {
	return name != "" && utf8.ValidString(name) && !strings.ContainsFunc(name, func(r rune) bool {
		return r == '+' || unicode.IsSpace(r)
	})
}

// VerifierKey returns the C2SP verifier key for cosignatures by name with pub:
// name+<key ID in 8 hex digits>+base64(0x04 || pub).
func VerifierKey(name string, pub ed25519.PublicKey) (string, error) {
	if !validName(name) {
		return "", fmt.Errorf("witness: invalid cosigner name %q", name)
	}
	if len(pub) != ed25519.PublicKeySize {
		return "", errors.New("witness: invalid Ed25519 public key")
	}
	return fmt.Sprintf("%s+%08x+%s", name, keyHash(name, pub),
		base64.StdEncoding.EncodeToString(append([]byte{algCosignatureV1}, pub...))), nil
}

// A verifier checks cosignature/v1 signatures. It implements note.Verifier.
type verifier struct {
	name string
	hash uint32
	pub  ed25519.PublicKey
}

func (v *verifier) Name() string    { return v.name }
func (v *verifier) KeyHash() uint32 { return v.hash }

func (v *verifier) Verify(msg, sig []byte) bool {
	if len(sig) != sigSize {
		return false
	}
	ts := binary.BigEndian.Uint64(sig)
	if ts > math.MaxInt64 { // the spec's bound; also keeps time.Unix exact
		return false
	}
	return ed25519.Verify(v.pub, signedMessage(ts, msg), sig[8:])
}

// CosignatureVerifier returns a note.Verifier for cosignatures by name with pub.
func CosignatureVerifier(name string, pub ed25519.PublicKey) (note.Verifier, error) {
	if !validName(name) {
		return nil, fmt.Errorf("witness: invalid cosigner name %q", name)
	}
	if len(pub) != ed25519.PublicKeySize {
		return nil, errors.New("witness: invalid Ed25519 public key")
	}
	return &verifier{name: name, hash: keyHash(name, pub), pub: pub}, nil
}

// NewVerifier parses a cosignature verifier key (see VerifierKey).
func NewVerifier(vkey string) (note.Verifier, error) {
	name, rest, ok1 := strings.Cut(vkey, "+")
	hash16, key64, ok2 := strings.Cut(rest, "+")
	if !ok1 || !ok2 || len(hash16) != 8 {
		return nil, fmt.Errorf("witness: malformed verifier key %q", vkey)
	}
	hash, err1 := strconv.ParseUint(hash16, 16, 32)
	key, err2 := base64.StdEncoding.DecodeString(key64)
	if err1 != nil || err2 != nil || len(key) == 0 {
		return nil, fmt.Errorf("witness: malformed verifier key %q", vkey)
	}
	if key[0] != algCosignatureV1 || len(key) != 1+ed25519.PublicKeySize {
		return nil, fmt.Errorf("witness: verifier key %q is not an Ed25519 cosignature/v1 key", vkey)
	}
	v, err := CosignatureVerifier(name, ed25519.PublicKey(key[1:]))
	if err != nil {
		return nil, err
	}
	if v.KeyHash() != uint32(hash) {
		return nil, fmt.Errorf("witness: verifier key %q has the wrong key ID", vkey)
	}
	return v, nil
}

// CosignatureTime returns the time a cosignature/v1 signature states. It does not
// verify the signature: call it on the Sigs of a note that note.Open returned with
// the cosigner's verifier.
func CosignatureTime(sig note.Signature) (time.Time, error) {
	raw, err := base64.StdEncoding.DecodeString(sig.Base64)
	if err != nil || len(raw) != 4+sigSize {
		return time.Time{}, fmt.Errorf("witness: signature by %s is not a cosignature/v1", sig.Name)
	}
	ts := binary.BigEndian.Uint64(raw[4:])
	if ts > math.MaxInt64 {
		return time.Time{}, fmt.Errorf("witness: cosignature by %s has an out-of-range time", sig.Name)
	}
	return time.Unix(int64(ts), 0).UTC(), nil
}

// CosignedAt checks that the note text carries a valid cosignature by v and
// returns the time it states. The note's other signatures are neither checked nor
// required.
func CosignedAt(text []byte, v note.Verifier) (time.Time, error) {
	n, err := note.Open(text, note.VerifierList(v))
	if err != nil {
		var unverified *note.UnverifiedNoteError
		if errors.As(err, &unverified) {
			return time.Time{}, fmt.Errorf("witness: note is not cosigned by %s", v.Name())
		}
		return time.Time{}, fmt.Errorf("witness: %w", err)
	}
	for _, s := range n.Sigs {
		if s.Name == v.Name() && s.Hash == v.KeyHash() {
			return CosignatureTime(s)
		}
	}
	return time.Time{}, fmt.Errorf("witness: note is not cosigned by %s", v.Name())
}

// HasCosignatureLine checks, without the witness's key, that the note carries a
// signature line by the witness name in the cosignature/v1 layout (key ID,
// time, signature). A note stored or packed as a witness's cosignature must at
// least hold one; whether it verifies needs the key (CosignedAt).
func HasCosignatureLine(text []byte, name string) error {
	_, err := note.Open(text, note.VerifierList())
	var u *note.UnverifiedNoteError
	if !errors.As(err, &u) {
		return fmt.Errorf("witness: not a signed note: %v", err)
	}
	for _, s := range u.Note.UnverifiedSigs {
		if s.Name == name {
			if _, err := CosignatureTime(s); err != nil {
				return err
			}
			return nil
		}
	}
	return fmt.Errorf("witness: the note has no signature line by %s", name)
}
