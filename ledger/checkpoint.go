package ledger

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/cairn-ledger/cairn/internal/strict"
)

// A Checkpoint commits to the first Size records of the ledger named Origin
// (C2SP tlog-checkpoint). Note holds the signed note it came from, if any.
type Checkpoint struct {
	Origin string
	Size   int64
	Root   tlog.Hash
	// Extensions are the lines after the root hash, which C2SP allows. A
	// ledger's own checkpoints have none (OpenCheckpoint refuses them); a
	// witness, which cosigns any C2SP checkpoint, carries them through.
	Extensions []string
	Note       []byte
}

// Body returns the checkpoint text that is signed:
//
//	<origin>\n<size in decimal>\n<root hash in standard base64>\n
func (c *Checkpoint) Body() string {
	b := fmt.Sprintf("%s\n%d\n%s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Root[:]))
	for _, e := range c.Extensions {
		b += e + "\n"
	}
	return b
}

// maxNoteSize bounds a checkpoint note: three short lines and a few signatures.
const maxNoteSize = 64 << 10

// ParseCheckpoint parses the body of a signed checkpoint note without checking any
// signature. Use OpenCheckpoint to check them.
func ParseCheckpoint(text []byte) (*Checkpoint, error) {
	if len(text) > maxNoteSize {
		return nil, fmt.Errorf("checkpoint: %d bytes is too large for a checkpoint", len(text))
	}
	body := text
	if i := bytes.LastIndex(text, []byte("\n\n")); i >= 0 {
		body = text[:i+1]
	}
	c, err := parseCheckpointBody(string(body))
	if err != nil {
		return nil, err
	}
	c.Note = text
	return c, nil
}

func parseCheckpointBody(body string) (*Checkpoint, error) {
	if !strings.HasSuffix(body, "\n") {
		return nil, errors.New("checkpoint: text does not end in a newline")
	}
	lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
	if len(lines) < 3 {
		return nil, fmt.Errorf("checkpoint: %d lines, want origin, size and root hash", len(lines))
	}
	for _, l := range lines[3:] {
		if l == "" {
			return nil, errors.New("checkpoint: empty extension line")
		}
	}
	origin := lines[0]
	if !ValidOrigin(origin) {
		return nil, fmt.Errorf("checkpoint: invalid origin line %q", origin)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return nil, fmt.Errorf("checkpoint: invalid tree size %q", lines[1])
	}
	root, err := strict.Base64(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		return nil, fmt.Errorf("checkpoint: invalid root hash %q", lines[2])
	}
	c := &Checkpoint{Origin: origin, Size: size, Extensions: lines[3:]}
	copy(c.Root[:], root)
	return c, nil
}

// OpenCheckpoint checks that text is a ledger checkpoint note signed by at least
// one of keys under the checkpoint's own origin as key name, and returns it. A
// ledger checkpoint has no extension lines: a verifier must not vouch for text
// it cannot interpret.
func OpenCheckpoint(text []byte, keys ...ed25519.PublicKey) (*Checkpoint, error) {
	c, err := ParseCheckpoint(text)
	if err != nil {
		return nil, err
	}
	if len(c.Extensions) > 0 {
		return nil, fmt.Errorf("checkpoint for %s at size %d has %d extension lines; a cairn checkpoint has none", c.Origin, c.Size, len(c.Extensions))
	}
	var vs []note.Verifier
	for _, k := range keys {
		vs = append(vs, NoteVerifier(c.Origin, k))
	}
	n, err := note.Open(text, note.VerifierList(vs...))
	if err != nil {
		var unknown *note.UnverifiedNoteError
		if errors.As(err, &unknown) {
			return nil, fmt.Errorf("checkpoint for %s at size %d is not signed by any known key of this ledger", c.Origin, c.Size)
		}
		return nil, fmt.Errorf("checkpoint for %s at size %d: %w", c.Origin, c.Size, err)
	}
	if n.Text != c.Body() {
		return nil, errors.New("checkpoint: signed text is not in canonical form")
	}
	return c, nil
}

// SignCheckpoint signs a checkpoint of the current tree with key, stores it, and
// returns it with its note.
func (l *Ledger) SignCheckpoint(key ed25519.PrivateKey) (*Checkpoint, error) {
	if l.size == 0 {
		return nil, errors.New("checkpoint: the ledger has no records yet")
	}
	root, err := l.TreeHash(l.size)
	if err != nil {
		return nil, err
	}
	c := &Checkpoint{Origin: l.origin, Size: l.size, Root: root}
	text, err := note.Sign(&note.Note{Text: c.Body()}, NoteSigner(l.origin, key))
	if err != nil {
		return nil, err
	}
	c.Note = text
	if err := l.PutCheckpoint(text); err != nil {
		return nil, err
	}
	return c, nil
}

// noteAlgEd25519 is the signed-note algorithm byte for Ed25519 (C2SP signed-note).
const noteAlgEd25519 = 1

// noteKeyHash is the signed-note key ID: the first four bytes of
// SHA-256(name || "\n" || 0x01 || public key), big-endian.
func noteKeyHash(name string, pub ed25519.PublicKey) uint32 {
	h := sha256.New()
	h.Write([]byte(name + "\n"))
	h.Write([]byte{noteAlgEd25519})
	h.Write(pub)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

type noteSigner struct {
	name string
	key  ed25519.PrivateKey
}

func (s noteSigner) Name() string { return s.name }
func (s noteSigner) KeyHash() uint32 {
	return noteKeyHash(s.name, s.key.Public().(ed25519.PublicKey))
}
func (s noteSigner) Sign(msg []byte) ([]byte, error) { return ed25519.Sign(s.key, msg), nil }

// NoteSigner returns a signed-note signer named name for key.
func NoteSigner(name string, key ed25519.PrivateKey) note.Signer { return noteSigner{name, key} }

// VerifierKey returns the signed-note verifier key "name+hash+base64(0x01||pub)".
func VerifierKey(name string, pub ed25519.PublicKey) string {
	vkey, err := note.NewEd25519VerifierKey(name, pub)
	if err != nil {
		panic(err) // only for invalid names, which ValidOrigin excludes
	}
	return vkey
}

// NoteVerifier returns a signed-note verifier named name for pub.
func NoteVerifier(name string, pub ed25519.PublicKey) note.Verifier {
	v, err := note.NewVerifier(VerifierKey(name, pub))
	if err != nil {
		panic(err)
	}
	return v
}
