package ledger

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// A StudioProof is what a ledger keeps of a cosigned checkpoint's entry in the
// witness's studio log (FORMAT.md §3.3): the C2SP tlog-proof of the cosigned
// note's inclusion in the studio log, and the RFC 3161 token over the proof's
// studio log checkpoint, if the studio log has one. It is stored beside the
// cosignature, under the same size and witness name:
//
//	"s/" size(8) name     {"proof": "<tlog-proof text>", "timestamp": "<base64 DER>"}
type StudioProof struct {
	Size    int64  `json:"-"`
	Witness string `json:"-"`
	Proof   []byte `json:"proof"`
	Token   []byte `json:"timestamp,omitempty"`
}

func studioProofKey(size int64, witness string) []byte {
	k := make([]byte, 10, 10+len(witness))
	copy(k, "s/")
	binary.BigEndian.PutUint64(k[2:], uint64(size))
	return append(k, witness...)
}

// PutStudioProof stores a studio log proof for the cosignature stored at size
// by witness. The caller has checked it against that cosigned note.
func (l *Ledger) PutStudioProof(p StudioProof) error {
	found := false
	cos, err := l.Cosignatures()
	if err != nil {
		return err
	}
	for _, c := range cos {
		found = found || c.Size == p.Size && c.Witness == p.Witness
	}
	if !found {
		return fmt.Errorf("no cosignature of %s is stored for the checkpoint of %d records", p.Witness, p.Size)
	}
	if len(p.Proof) == 0 || !bytes.HasPrefix(p.Proof, []byte("c2sp.org/tlog-proof@v1\n")) {
		return fmt.Errorf("the studio log proof is not a C2SP tlog-proof")
	}
	v, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return l.update(len(v), func(txn *badger.Txn) error { return txn.Set(studioProofKey(p.Size, p.Witness), v) })
}

// StudioProofs returns every stored studio log proof, by size then witness.
func (l *Ledger) StudioProofs() ([]StudioProof, error) {
	var out []StudioProof
	err := l.scanPrefix([]byte("s/"), func(k, v []byte) error {
		if len(k) < 11 {
			return fmt.Errorf("corrupt studio proof key %x", k)
		}
		var p StudioProof
		if err := json.Unmarshal(v, &p); err != nil {
			return fmt.Errorf("corrupt studio proof for size %d: %v", binary.BigEndian.Uint64(k[2:10]), err)
		}
		p.Size, p.Witness = int64(binary.BigEndian.Uint64(k[2:10])), string(k[10:])
		out = append(out, p)
		return nil
	})
	return out, err
}
