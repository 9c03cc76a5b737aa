package ledger

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// Text encodings of proofs (FORMAT.md, "Proofs"). An inclusion proof follows C2SP
// tlog-proof: a header line, the leaf index, the audit path one base64 hash per line
// (RFC 6962 order, from the leaf upward), an empty line and the checkpoint note.
//
// A consistency proof uses the same shape under its own header, with the two tree
// sizes and the RFC 6962 consistency path.
const (
	inclusionHeader   = "c2sp.org/tlog-proof@v1"
	consistencyHeader = "cairn.ledger/consistency-proof@v1"
	maxProofHashes    = 128 // two audit paths of a 2^63-leaf tree
)

// FormatInclusionProof encodes the proof that leaf index is in the tree committed to
// by checkpoint (a signed note).
func FormatInclusionProof(index int64, p tlog.RecordProof, checkpoint []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\nindex %d\n", inclusionHeader, index)
	for _, h := range p {
		fmt.Fprintf(&b, "%s\n", base64.StdEncoding.EncodeToString(h[:]))
	}
	b.WriteString("\n")
	b.Write(checkpoint)
	return b.Bytes()
}

// ParseInclusionProof decodes FormatInclusionProof's output. It checks the form only;
// tlog.CheckRecord checks the proof against the checkpoint.
func ParseInclusionProof(text []byte) (index int64, p tlog.RecordProof, checkpoint []byte, err error) {
	lines, rest, err := splitProof(text, inclusionHeader, 1)
	if err != nil {
		return 0, nil, nil, err
	}
	index, err = parseField(lines[0], "index")
	if err != nil {
		return 0, nil, nil, err
	}
	p, err = parseHashes(lines[1:])
	if err != nil {
		return 0, nil, nil, err
	}
	if _, err := ParseCheckpoint(rest); err != nil {
		return 0, nil, nil, fmt.Errorf("inclusion proof: %w", err)
	}
	return index, p, rest, nil
}

// FormatConsistencyProof encodes the proof that the tree of size oldSize is a prefix
// of the tree of size newSize.
func FormatConsistencyProof(oldSize, newSize int64, p tlog.TreeProof) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\nold %d\nnew %d\n", consistencyHeader, oldSize, newSize)
	for _, h := range p {
		fmt.Fprintf(&b, "%s\n", base64.StdEncoding.EncodeToString(h[:]))
	}
	return b.Bytes()
}

// ParseConsistencyProof decodes FormatConsistencyProof's output.
func ParseConsistencyProof(text []byte) (oldSize, newSize int64, p tlog.TreeProof, err error) {
	lines, rest, err := splitProof(text, consistencyHeader, 2)
	if err != nil {
		return 0, 0, nil, err
	}
	if len(rest) != 0 {
		return 0, 0, nil, errors.New("consistency proof: unexpected text after the hashes")
	}
	if oldSize, err = parseField(lines[0], "old"); err != nil {
		return 0, 0, nil, err
	}
	if newSize, err = parseField(lines[1], "new"); err != nil {
		return 0, 0, nil, err
	}
	if oldSize > newSize {
		return 0, 0, nil, fmt.Errorf("consistency proof: old size %d is larger than new size %d", oldSize, newSize)
	}
	h, err := parseHashes(lines[2:])
	return oldSize, newSize, tlog.TreeProof(h), err
}

// splitProof checks the header and returns the lines up to the first empty line
// (at least fields of them) and the bytes after it.
func splitProof(text []byte, header string, fields int) (lines []string, rest []byte, err error) {
	if len(text) > maxNoteSize+maxProofHashes*50 {
		return nil, nil, errors.New("proof: too large")
	}
	head, rest, found := bytes.Cut(text, []byte("\n\n"))
	if !found {
		if !bytes.HasSuffix(text, []byte("\n")) {
			return nil, nil, errors.New("proof: text does not end in a newline")
		}
		head = text[:len(text)-1]
	}
	lines = strings.Split(string(head), "\n")
	if lines[0] != header {
		return nil, nil, fmt.Errorf("proof: first line %q, want %q", lines[0], header)
	}
	if len(lines)-1 < fields {
		return nil, nil, errors.New("proof: missing fields")
	}
	return lines[1:], rest, nil
}

func parseField(line, name string) (int64, error) {
	v, ok := strings.CutPrefix(line, name+" ")
	if !ok {
		return 0, fmt.Errorf("proof: line %q, want %q and a number", line, name)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != v {
		return 0, fmt.Errorf("proof: invalid %s %q", name, v)
	}
	return n, nil
}

func parseHashes(lines []string) ([]tlog.Hash, error) {
	if len(lines) > maxProofHashes {
		return nil, fmt.Errorf("proof: %d hashes, at most %d are possible", len(lines), maxProofHashes)
	}
	out := make([]tlog.Hash, len(lines))
	for i, l := range lines {
		b, err := base64.StdEncoding.Strict().DecodeString(l)
		if err != nil || len(b) != tlog.HashSize {
			return nil, fmt.Errorf("proof: line %q is not a base64 SHA-256 hash", l)
		}
		copy(out[i][:], b)
	}
	return out, nil
}
