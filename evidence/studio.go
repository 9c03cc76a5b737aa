package evidence

import (
	"fmt"
	"time"

	"github.com/cairn-ledger/cairn/ledger"
	"github.com/cairn-ledger/cairn/ledger/rfc3161"
	"github.com/cairn-ledger/cairn/ledger/studio"
)

// A StudioCheck is a studio log's proof that it holds a cosigned checkpoint
// (FORMAT.md §3.3), as checked.
type StudioCheck struct {
	Log   string `json:"log"`   // the studio log's origin
	Index int64  `json:"index"` // the cosigned note's entry in it
	Size  int64  `json:"size"`  // the studio log checkpoint it is proven in
	// Checked: the studio log checkpoint is signed by a studio key the
	// verifier trusts (Anchor). Otherwise only the proof's hashes were
	// checked, and the studio's claim is not trusted.
	Checked bool   `json:"checked"`
	Anchor  Anchor `json:"anchor,omitzero"`
	// Time is the studio log checkpoint's RFC 3161 time (genTime plus
	// accuracy), if it has a token; TSAChecked says that the token chains to
	// roots the verifier trusts.
	Time       time.Time `json:"no_later_than,omitzero"`
	TSA        string    `json:"tsa,omitempty"`
	TSAChecked bool      `json:"tsa_checked"`
}

// CheckStudioProof checks a studio log's proof that it holds note, a cosigned
// checkpoint of size records whose last record is dated last: the proof's
// hashes lead from the note to the root of the proof's studio log checkpoint;
// that checkpoint is signed by the studio key the verifier trusts for its log,
// if it trusts one; its timestamp token, if any, is over its exact bytes,
// chains to the verifier's TSA roots (when it has some) and is not earlier than
// the records.
func CheckStudioProof(p *studio.Proof, token, note []byte, trust *Trust, size int64, last time.Time) (*StudioCheck, error) {
	c, err := ledger.ParseCheckpoint(p.Checkpoint)
	if err != nil {
		return nil, err
	}
	v, anchor, trusted := trust.Studio(c.Origin)
	if _, err := p.Check(note, v); err != nil {
		return nil, err
	}
	sc := &StudioCheck{Log: c.Origin, Index: p.Index, Size: c.Size, Checked: trusted, Anchor: anchor}
	if token == nil {
		return sc, nil
	}
	var tok *rfc3161.Token
	if trust.TSA != nil {
		tok, err = rfc3161.Verify(token, p.Checkpoint, trust.TSA.Pool, nil)
	} else {
		tok, err = rfc3161.VerifyUntrusted(token, p.Checkpoint)
	}
	if err == nil {
		err = ledger.CheckAttestedTime("the studio log's timestamp", tok.Latest(), size, last)
	}
	if err != nil {
		return nil, fmt.Errorf("the studio log's token on its checkpoint of %d entries: %v", c.Size, err)
	}
	sc.Time, sc.TSA, sc.TSAChecked = tok.Latest(), tok.TSA, trust.TSA != nil
	return sc, nil
}

// A CheckedStudioProof is a stored studio log proof and what verification found.
type CheckedStudioProof struct {
	Size    int64  `json:"size"`
	Witness string `json:"witness"`
	*StudioCheck
}

// verifyStudioProofs checks each stored studio log proof against the cosigned
// note stored beside it.
func (b *Book) verifyStudioProofs(trust *Trust, lastTime map[int64]time.Time) ([]CheckedStudioProof, error) {
	proofs, err := b.Ledger.StudioProofs()
	if err != nil {
		return nil, err
	}
	var out []CheckedStudioProof
	for _, sp := range proofs {
		fail := func(err error) error {
			return &ledger.VerifyError{Seq: -1, Problem: fmt.Sprintf("the studio log proof of %s's cosignature on the checkpoint of %d records: %v", sp.Witness, sp.Size, err)}
		}
		note, err := b.cosignedNote(sp.Size, sp.Witness)
		if err != nil {
			return nil, fail(err)
		}
		p, err := studio.ParseProof(sp.Proof)
		if err != nil {
			return nil, fail(err)
		}
		sc, err := CheckStudioProof(p, sp.Token, note, trust, sp.Size, lastTime[sp.Size])
		if err != nil {
			return nil, fail(err)
		}
		out = append(out, CheckedStudioProof{Size: sp.Size, Witness: sp.Witness, StudioCheck: sc})
	}
	return out, nil
}
