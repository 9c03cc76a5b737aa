package formatcheck

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A signed note (C2SP signed-note, FORMAT.md §3): text, an empty line, then
// one or more lines "— <key name> <base64>".
type signedNote struct {
	raw  []byte
	text []byte // the body lines, each ending in \n, without the empty line
	sigs []noteSig
}

type noteSig struct {
	name string
	blob []byte // key hash (4 bytes) || signature, or key ID || timestamp || signature
}

// parseNote splits a signed note. The text must be UTF-8 with no control
// character but \n; every line ends in \n; at least one signature line.
func parseNote(raw []byte) (*signedNote, error) {
	if !utf8.Valid(raw) {
		return nil, errors.New("note is not UTF-8")
	}
	for _, c := range raw {
		if c < 0x20 && c != '\n' || c == 0x7f {
			return nil, errors.New("note holds a control character")
		}
	}
	if !bytes.HasSuffix(raw, []byte("\n")) {
		return nil, errors.New("note does not end in a newline")
	}
	i := bytes.Index(raw, []byte("\n\n"))
	if i < 0 {
		return nil, errors.New("note has no empty line before its signatures")
	}
	n := &signedNote{raw: raw, text: raw[:i+1]}
	lines := strings.Split(string(raw[i+2:len(raw)-1]), "\n")
	if len(lines) == 1 && lines[0] == "" {
		return nil, errors.New("note has no signature lines")
	}
	for _, l := range lines {
		s, err := parseSigLine(l)
		if err != nil {
			return nil, err
		}
		n.sigs = append(n.sigs, s)
	}
	return n, nil
}

func parseSigLine(l string) (noteSig, error) {
	const dash = "— " // U+2014 EM DASH, space
	if !strings.HasPrefix(l, dash) {
		return noteSig{}, fmt.Errorf("signature line %q does not start with an em dash", l)
	}
	parts := strings.Split(l[len(dash):], " ")
	if len(parts) != 2 || parts[0] == "" || strings.Contains(parts[0], "+") {
		return noteSig{}, fmt.Errorf("malformed signature line %q", l)
	}
	b, err := strictBase64(parts[1])
	if err != nil {
		return noteSig{}, fmt.Errorf("signature line of %s: %v", parts[0], err)
	}
	if len(b) < 5 {
		return noteSig{}, fmt.Errorf("signature line of %s is too short", parts[0])
	}
	return noteSig{name: parts[0], blob: b}, nil
}

// A checkpoint is the body of a checkpoint note (§3, C2SP tlog-checkpoint).
type checkpoint struct {
	note   *signedNote
	origin string
	size   int64
	root   []byte
}

var originRE = regexp.MustCompile(`^cairn\.ledger/[a-z2-7]{20}$`)

// parseCheckpoint reads a checkpoint note: exactly three lines (origin, size
// in decimal without leading zeros, base64 root of 32 bytes); no extension
// lines (§3).
func parseCheckpoint(raw []byte) (*checkpoint, error) {
	n, err := parseNote(raw)
	if err != nil {
		return nil, fmt.Errorf("§3: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(string(n.text), "\n"), "\n")
	if len(lines) != 3 {
		return nil, fmt.Errorf("§3: checkpoint has %d body lines, not exactly 3", len(lines))
	}
	size, ok := parseDecimal(lines[1])
	if !ok {
		return nil, fmt.Errorf("§3: tree size %q is not decimal without leading zeros", lines[1])
	}
	root, err := strictBase64(lines[2])
	if err != nil || len(root) != 32 {
		return nil, fmt.Errorf("§3: root hash %q is not base64 of 32 bytes", lines[2])
	}
	return &checkpoint{note: n, origin: lines[0], size: size, root: root}, nil
}

// parseDecimal reads a decimal number without sign or leading zeros.
func parseDecimal(s string) (int64, bool) {
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	for _, c := range []byte(s) {
		if !isDigit(c) {
			return 0, false
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	return v, err == nil
}

// noteKeyHash is §3: the first 4 bytes of SHA-256(name || "\n" || 0x01 || key).
func noteKeyHash(name string, key []byte) []byte {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{'\n', 0x01})
	h.Write(key)
	return h.Sum(nil)[:4]
}

// vkey is §3's verifier key: <origin>+<key hash hex>+<base64(0x01 || key)>.
func vkey(origin string, key []byte) string {
	return origin + "+" + hex.EncodeToString(noteKeyHash(origin, key)) + "+" +
		base64.StdEncoding.EncodeToString(append([]byte{0x01}, key...))
}

// signers returns the keys of ks that made a signature line of the note
// under the ledger's name (the origin). A line whose name and key hash match
// a known key but whose signature does not verify is an error (as in
// C2SP signed-note: a known key's bad signature is not ignored); lines of
// unknown keys are ignored.
func (c *checkpoint) signers(ks *keyState) ([]*keyInfo, error) {
	var out []*keyInfo
	for _, s := range c.note.sigs {
		if s.name != c.origin {
			continue
		}
		var claimed *keyInfo // a key whose hash the line names (4 bytes may collide)
		var lastErr error
		verified := false
		for _, ki := range ks.order {
			if !bytes.Equal(s.blob[:4], noteKeyHash(c.origin, ki.key)) {
				continue
			}
			claimed = ki
			if len(s.blob) != 68 {
				lastErr = fmt.Errorf("is %d bytes, not 4 + 64", len(s.blob))
				continue
			}
			if lastErr = verifyEd25519(ki.key, c.note.text, s.blob[4:]); lastErr == nil {
				out = append(out, ki)
				verified = true
				break
			}
		}
		if claimed != nil && !verified {
			return nil, fmt.Errorf("§3: signature by key %s does not verify (§1.3): %v", keyID(claimed.key), lastErr)
		}
	}
	return out, nil
}

// checkSigned is §3 (and §7.4 rules 6 and 12): the checkpoint names origin
// and is signed by a key that may sign a checkpoint of its size (§5.3).
func (c *checkpoint) checkSigned(origin string, ks *keyState) error {
	if c.origin != origin {
		return fmt.Errorf("§3: checkpoint origin %q is not the ledger's %q", c.origin, origin)
	}
	signers, err := c.signers(ks)
	if err != nil {
		return err
	}
	if len(signers) == 0 {
		return fmt.Errorf("§3: checkpoint of size %d is not signed by any key the records introduce", c.size)
	}
	for _, ki := range signers {
		if ks.maySign(ki.key, c.size) {
			return nil
		}
	}
	return fmt.Errorf("§3, §5.3: checkpoint of size %d is signed only by keys that may not sign a checkpoint of that size (%s)", c.size, describeKeys(signers))
}

func describeKeys(kis []*keyInfo) string {
	var s []string
	for _, ki := range kis {
		d := fmt.Sprintf("%s introduced by record %d", keyID(ki.key), ki.introducedAt)
		if ki.retiredAt >= 0 {
			d += fmt.Sprintf(", retired by record %d", ki.retiredAt)
		}
		s = append(s, d)
	}
	return strings.Join(s, "; ")
}

// checkCosignedNote is what a verifier with no trusted witness key can check
// of a witness's copy of a checkpoint (§3.2, §7.4 rule 14, §8 rule 5): it is a
// signed note whose body equals the stored checkpoint's, and it carries a
// cosignature line (key ID, 8-byte timestamp of at most 2^63 − 1, signature)
// under the witness's name.
func checkCosignedNote(raw []byte, cp *checkpoint, witness string) error {
	n, err := parseNote(raw)
	if err != nil {
		return fmt.Errorf("§3.2: cosigned note: %v", err)
	}
	if !bytes.Equal(n.text, cp.note.text) {
		return errors.New("§3.2: cosigned note's body differs from its checkpoint's")
	}
	if witness == "" {
		return nil
	}
	// "it holds a signature line by that name in the cosignature/v1 layout"
	// (§7.3): at least one such line.
	var bad error
	for _, s := range n.sigs {
		if s.name != witness {
			continue
		}
		switch {
		case len(s.blob) != 4+8+64:
			bad = fmt.Errorf("§3.2: cosignature of %s is %d bytes, not 76", witness, len(s.blob))
		case binary.BigEndian.Uint64(s.blob[4:12]) > 1<<63-1:
			bad = fmt.Errorf("§3.2: cosignature of %s has a timestamp above 2^63 − 1", witness)
		default:
			return nil
		}
	}
	if bad != nil {
		return bad
	}
	return fmt.Errorf("§3.2: cosigned note has no line of witness %s", witness)
}

// validWitnessName: "no spaces, no +" (§3.2, §7.3).
func validWitnessName(s string) bool {
	return s != "" && !strings.ContainsAny(s, " +\n\t")
}
