package evidence

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"

	"github.com/cairn-ledger/cairn/ledger"
)

// The rules for retract records (FORMAT.md §5.6) are the rule book's: a
// retraction is valid if the record it names (by sequence number and leaf hash)
// is earlier, belongs to the same asset, is a step of the work (not an
// identity, rotation, asset or asset-set record, and not a retraction), and is
// not already retracted; and if it is signed by the key that signed the record
// or by an author of the asset: a key that signed one of its earlier records,
// or a key rotated from such a key. Asset records are not retracted because the
// asset's other records depend on them; wrong details are corrected with a new
// asset-set record. A retraction is not itself retracted: a mistaken one is
// followed by recording the step again.
//
// The book remembers, per asset, the keys that signed its records, and which
// records are retracted: its memory grows with assets, authors and
// retractions, not with the ledger's length. A target is read again, by its
// sequence number, through the ReadRecord the verifier gives.

// ReadRecord reads an earlier record of the ledger being checked: one the rule
// book was already given.
type ReadRecord func(seq int64) (*ledger.Record, *Step, error)

// ruleOnRetraction checks a retract step, then remembers who authored what.
func (rb *RuleBook) ruleOnRetraction(r *ledger.Record, s *Step) error {
	if s.Kind == KindRetract {
		if err := rb.checkRetraction(r, s); err != nil {
			return err
		}
		rb.retracted[s.Retracts.Seq] = r.Seq
	}
	switch s.Kind {
	case KindIdentity, KindRotate:
	default:
		if rb.authors[s.Asset] == nil {
			rb.authors[s.Asset] = map[string]bool{}
		}
		rb.authors[s.Asset][string(r.Key)] = true
	}
	return nil
}

func (rb *RuleBook) checkRetraction(r *ledger.Record, s *Step) error {
	ref := s.Retracts
	if ref.Seq >= r.Seq {
		return fmt.Errorf("retraction of record %d, which is not an earlier record", ref.Seq)
	}
	if rb.earlier == nil {
		return fmt.Errorf("retraction of record %d, which this verifier cannot read", ref.Seq)
	}
	tr, ts, err := rb.earlier(ref.Seq)
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
	if by, ok := rb.retracted[ref.Seq]; ok {
		return fmt.Errorf("record %d was already retracted by record %d", ref.Seq, by)
	}
	if !tr.Key.Equal(r.Key) && !rb.isAuthor(s.Asset, r.Key) {
		return fmt.Errorf("retraction of record %d signed by key %s, which neither signed that record nor any earlier record of asset %q", ref.Seq, ledger.KeyID(r.Key), s.Asset)
	}
	return nil
}

// isAuthor reports whether key, or a key it was rotated from, signed a record
// of the asset.
func (rb *RuleBook) isAuthor(asset string, key ed25519.PublicKey) bool {
	for seen := map[string]bool{}; key != nil && !seen[string(key)]; {
		if rb.authors[asset][string(key)] {
			return true
		}
		seen[string(key)] = true
		ks := rb.keys[string(key)]
		if ks == nil {
			return false
		}
		key = ks.IntroducedBy
	}
	return false
}

// Retracted maps each retracted record to the retraction that names it.
func (rb *RuleBook) Retracted() map[int64]int64 { return rb.retracted }

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
	rb, err := b.Rules()
	if err != nil {
		return nil, err
	}
	if err := rb.checkRetraction(&ledger.Record{Seq: size, Key: key}, s); err != nil {
		return nil, inputErrorf("%v; nothing was recorded", err)
	}
	return s, s.Normalize()
}

// ReadRecord reads and decodes one record of the book's ledger.
func (b *Book) ReadRecord(seq int64) (*ledger.Record, *Step, error) {
	r, err := b.Ledger.Get(seq)
	if err != nil {
		return nil, nil, err
	}
	s, err := DecodeStep(r.Payload)
	return r, s, err
}
