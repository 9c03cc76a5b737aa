package studio

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/cairn-ledger/cairn/internal/strict"
	"github.com/cairn-ledger/cairn/ledger"
)

// proofHeader is the first line of a C2SP tlog-proof.
const proofHeader = "c2sp.org/tlog-proof@v1"

// A Proof is a C2SP tlog-proof: entry Index is in the tree of Checkpoint, a
// studio log checkpoint note, by the RFC 6962 audit path Path.
type Proof struct {
	Index      int64
	Path       tlog.RecordProof
	Checkpoint []byte
}

// maxProofSize bounds a proof's text: 64 hashes and a checkpoint note.
const maxProofSize = 64<<10 + 64*45 + 64

// Marshal returns the proof in C2SP tlog-proof@v1 form, without extra data:
//
//	c2sp.org/tlog-proof@v1
//	index <index>
//	<base64 hash>, one per line, from the leaf's sibling upward
//	<empty line>
//	<checkpoint note>
func (p *Proof) Marshal() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\nindex %d\n", proofHeader, p.Index)
	for _, h := range p.Path {
		b.WriteString(h.String())
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.Write(p.Checkpoint)
	return b.Bytes()
}

// ParseProof reads a C2SP tlog-proof@v1. An "extra" line is refused: cairn's
// proofs carry none, and a verifier must not vouch for data it cannot read.
func ParseProof(data []byte) (*Proof, error) {
	if len(data) > maxProofSize {
		return nil, fmt.Errorf("tlog-proof: %d bytes is too large", len(data))
	}
	head, rest, ok := bytes.Cut(data, []byte("\n"))
	if !ok || string(head) != proofHeader {
		return nil, fmt.Errorf("tlog-proof: the first line is not %q", proofHeader)
	}
	line, rest, ok := bytes.Cut(rest, []byte("\n"))
	num, found := strings.CutPrefix(string(line), "index ")
	idx, err := strconv.ParseInt(num, 10, 64)
	if !ok || !found || err != nil || idx < 0 || strconv.FormatInt(idx, 10) != num {
		return nil, fmt.Errorf("tlog-proof: %q is not an index line", line)
	}
	p := &Proof{Index: idx}
	for {
		line, rest, ok = bytes.Cut(rest, []byte("\n"))
		if !ok {
			return nil, errors.New("tlog-proof: no empty line before the checkpoint")
		}
		if len(line) == 0 {
			break
		}
		if len(p.Path) == 64 {
			return nil, errors.New("tlog-proof: more than 64 hashes")
		}
		h, err := strict.Base64(string(line))
		if err != nil || len(h) != tlog.HashSize {
			return nil, fmt.Errorf("tlog-proof: hash line %d is not a base64 SHA-256 hash", len(p.Path)+1)
		}
		p.Path = append(p.Path, tlog.Hash(h))
	}
	if _, err := ledger.ParseCheckpoint(rest); err != nil {
		return nil, fmt.Errorf("tlog-proof: %v", err)
	}
	p.Checkpoint = rest
	return p, nil
}

// Check checks that entry is leaf p.Index of the tree p.Checkpoint commits to,
// and, if v is not nil, that the checkpoint is signed by v (the studio key the
// verifier trusts; its name is the log's origin). It returns the checkpoint.
func (p *Proof) Check(entry []byte, v note.Verifier) (*ledger.Checkpoint, error) {
	c, err := ledger.ParseCheckpoint(p.Checkpoint)
	if err != nil {
		return nil, err
	}
	if v != nil {
		if c.Origin != v.Name() {
			return nil, fmt.Errorf("the studio log checkpoint is of %q, not of the studio log %q", c.Origin, v.Name())
		}
		n, err := note.Open(p.Checkpoint, note.VerifierList(v))
		if err != nil {
			return nil, fmt.Errorf("the studio log checkpoint (%d entries) is not signed by the studio key %s+%08x: %v", c.Size, v.Name(), v.KeyHash(), err)
		}
		if n.Text != c.Body() {
			return nil, errors.New("the studio log checkpoint is not in canonical form")
		}
	}
	if p.Index >= c.Size {
		return nil, fmt.Errorf("entry %d is not in the studio log checkpoint of %d entries", p.Index, c.Size)
	}
	if err := tlog.CheckRecord(p.Path, c.Size, c.Root, p.Index, tlog.RecordHash(entry)); err != nil {
		return nil, fmt.Errorf("the cosigned checkpoint is not entry %d of the studio log of %d entries: %v", p.Index, c.Size, err)
	}
	return c, nil
}
