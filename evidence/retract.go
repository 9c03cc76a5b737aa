package evidence

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"

	"github.com/cairn-ledger/cairn/ledger"
)

// Retractions holds the rules for retract records (FORMAT.md §5.5) and what
// they need to remember while a verifier reads a ledger in order: per asset,
// the keys that signed its records; which records are retracted; which key
// rotated to which. Its memory grows with the number of assets, authors and
// retractions, not with the ledger's length: a target is read again by its
// sequence number when a retraction names it.
//
// A retraction is valid if the record it names (by sequence number and leaf
// hash) is earlier, belongs to the same asset, is a step of the work (not an
// identity, rotation, asset or asset-set record, and not a retraction), and is
// not already retracted; and if it is signed by the key that signed the record
// or by an author of the asset: a key that signed one of its earlier records,
// or the key such a key rotated to. Asset records are not retracted because the
// asset's other records depend on them; wrong details are corrected with a new
// asset-set record. A retraction is not itself retracted: a mistaken one is
// followed by recording the step again.
type Retractions struct {
	authors   map[string]map[string]bool // asset -> keys that signed its records
	retracted map[int64]int64            // a retracted record -> its retraction
	rotated   map[string]string          // a key introduced by a rotation -> the key that signed it
}

// NewRetractions starts the rules for a ledger read from its first record.
func NewRetractions() *Retractions {
	return &Retractions{authors: map[string]map[string]bool{}, retracted: map[int64]int64{}, rotated: map[string]string{}}
}

// ReadRecord reads an earlier record of the ledger being checked, decoded.
type ReadRecord func(seq int64) (*ledger.Record, *Step, error)

// Check applies the rules to record r holding step s, then remembers r. It
// must be called for every record in ledger order; earlier reads a record
// already passed to Check.
func (x *Retractions) Check(r *ledger.Record, s *Step, earlier ReadRecord) error {
	if s.Kind == KindRetract {
		if err := x.checkRetraction(r, s, earlier); err != nil {
			return err
		}
		x.retracted[s.Retracts.Seq] = r.Seq
	}
	switch s.Kind {
	case KindIdentity:
	case KindRotate:
		if k, _, err := s.IntroducedKey(); err == nil {
			x.rotated[string(k)] = string(r.Key)
		}
	default:
		if x.authors[s.Asset] == nil {
			x.authors[s.Asset] = map[string]bool{}
		}
		x.authors[s.Asset][string(r.Key)] = true
	}
	return nil
}

func (x *Retractions) checkRetraction(r *ledger.Record, s *Step, earlier ReadRecord) error {
	ref := s.Retracts
	if ref.Seq >= r.Seq {
		return fmt.Errorf("retraction of record %d, which is not an earlier record", ref.Seq)
	}
	tr, ts, err := earlier(ref.Seq)
	if err != nil {
		return fmt.Errorf("retraction of record %d, which cannot be read: %v", ref.Seq, err)
	}
	if h := tr.Hash(); hex.EncodeToString(h[:]) != ref.Hash {
		return fmt.Errorf("retraction names record %d with leaf hash %.16s…, but that record's is %x…", ref.Seq, ref.Hash, h[:8])
	}
	switch ts.Kind {
	case KindIdentity, KindRotate:
		return fmt.Errorf("retraction of record %d, an %s record: keys are retired by rotation (cairn id rotate), not retracted", ref.Seq, ts.Kind)
	case KindAsset, KindAssetSet:
		return fmt.Errorf("retraction of record %d, an %s record: the asset's other records depend on it; correct its details with cairn asset set", ref.Seq, ts.Kind)
	case KindRetract:
		return fmt.Errorf("retraction of record %d, itself a retraction; record the step again instead", ref.Seq)
	}
	if ts.Asset != s.Asset {
		return fmt.Errorf("retraction for asset %q of record %d, which belongs to asset %q", s.Asset, ref.Seq, ts.Asset)
	}
	if by, ok := x.retracted[ref.Seq]; ok {
		return fmt.Errorf("record %d was already retracted by record %d", ref.Seq, by)
	}
	if !tr.Key.Equal(r.Key) && !x.isAuthor(s.Asset, string(r.Key)) {
		return fmt.Errorf("retraction of record %d signed by key %s, which neither signed that record nor any earlier record of asset %q", ref.Seq, ledger.KeyID(r.Key), s.Asset)
	}
	return nil
}

// isAuthor reports whether key, or a key it replaced by rotation, signed a
// record of the asset.
func (x *Retractions) isAuthor(asset, key string) bool {
	for seen := map[string]bool{}; key != "" && !seen[key]; key = x.rotated[key] {
		if x.authors[asset][key] {
			return true
		}
		seen[key] = true
	}
	return false
}

// Retraction builds the retract step for record seq of the book, signed by
// key, and checks it with the same rules a verifier applies (Retractions), so
// that an invalid retraction is refused before anything is recorded.
func (b *Book) Retraction(seq int64, why string, key ed25519.PublicKey) (*Step, error) {
	size := b.Ledger.Size()
	if seq < 0 || seq >= size {
		return nil, inputErrorf("no record %d: the ledger has %d records (0 to %d)", seq, size, size-1)
	}
	target, err := b.Ledger.Get(seq)
	if err != nil {
		return nil, err
	}
	ts, err := DecodeStep(target.Payload)
	if err != nil {
		return nil, fmt.Errorf("record %d: %w", seq, err)
	}
	h := target.Hash()
	s := &Step{Kind: KindRetract, Asset: ts.Asset, Why: why, Retracts: &RecordRef{Seq: seq, Hash: hex.EncodeToString(h[:])}}
	x := NewRetractions()
	read := b.readRecord
	err = b.Scan(0, func(sr StepRecord) error { return x.Check(sr.Rec, sr.Step, read) })
	if err != nil {
		return nil, err
	}
	if err := x.Check(&ledger.Record{Seq: size, Key: key}, s, read); err != nil {
		return nil, inputErrorf("%v; nothing was recorded", err)
	}
	return s, s.Normalize()
}

// readRecord reads and decodes one record of the book's ledger.
func (b *Book) readRecord(seq int64) (*ledger.Record, *Step, error) {
	r, err := b.Ledger.Get(seq)
	if err != nil {
		return nil, nil, err
	}
	s, err := DecodeStep(r.Payload)
	return r, s, err
}
