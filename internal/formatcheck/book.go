package formatcheck

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"
)

// A book follows what the rules of §5 (file sizes), §5.5 (assets) and §5.6
// (retractions) need from the records before the one being checked. The
// whole-ledger walker (Ledger, Archive) and the pack verifier (Bundle) share
// it; a pack holds only some records, so a rule that names a record the book
// has not seen fails ("the pack holds every record those rules depend on",
// §7.4).
type book struct {
	recs      map[int64]*recInfo
	created   map[string]int64           // asset → the record that created it (§5.5)
	authors   map[string]map[string]bool // asset → keys that signed a record of it
	retracted map[int64]int64            // record → the retraction that names it
	sizes     map[string]sizeAt          // SHA-256 → the size its first ref gave (§5)
}

type recInfo struct {
	kind  string
	asset string
	key   []byte
	leaf  []byte
}

type sizeAt struct {
	size int64
	seq  int64
}

func newBook() *book {
	return &book{
		recs:      map[int64]*recInfo{},
		created:   map[string]int64{},
		authors:   map[string]map[string]bool{},
		retracted: map[int64]int64{},
		sizes:     map[string]sizeAt{},
	}
}

// check takes record i (its layout, signature and strict reading already
// checked, and §5.3 applied to ks) through §5.5, §5.6 and §5's one size per
// SHA-256, in that order. inPack says the book may lack records (a pack).
func (b *book) check(i int64, e *entry, st *step, ks *keyState, inPack bool) error {
	if err := b.assetRule(st); err != nil {
		return err
	}
	if st.kind == "retract" {
		if err := b.retractRule(i, e, st, ks, inPack); err != nil {
			return err
		}
	}
	return b.sizeRule(i, st)
}

// assetRule is §5.5: an asset step creates its asset, which no earlier
// record created; every other step naming an asset comes after it.
func (b *book) assetRule(st *step) error {
	if st.asset == "" {
		return nil
	}
	at, seen := b.created[st.asset]
	if st.kind == "asset" {
		if seen {
			return fmt.Errorf("§5.5: asset %q was already created by record %d", st.asset, at)
		}
		return nil
	}
	if !seen {
		return fmt.Errorf("§5.5: a %s step names asset %q, which no earlier record created", st.kind, st.asset)
	}
	return nil
}

// retractRule is §5.6 rules 1–4.
func (b *book) retractRule(i int64, e *entry, st *step, ks *keyState, inPack bool) error {
	n := st.retractsSeq
	// Rule 1: an earlier record, and its leaf hash.
	if n >= i {
		return fmt.Errorf("§5.6 rule 1: the retraction names record %d, which is not an earlier record", n)
	}
	r := b.recs[n]
	if r == nil {
		if inPack {
			return fmt.Errorf("§5.6 rule 1: the retraction names record %d, which is not in the pack (a pack holds every record the rules depend on, §7.4)", n)
		}
		return fmt.Errorf("§5.6 rule 1: the retraction names record %d, which does not exist", n)
	}
	if hex.EncodeToString(r.leaf) != st.retractsHash {
		return fmt.Errorf("§5.6 rule 1: retracts.hash is not the leaf hash (§1.1) of record %d", n)
	}
	// Rule 2: a step of the same asset; not identity, rotate, asset,
	// asset-set, nor retract.
	switch r.kind {
	case "identity", "rotate", "asset", "asset-set", "retract":
		return fmt.Errorf("§5.6 rule 2: the retraction names record %d, %s %s record, which cannot be retracted", n, article(r.kind), r.kind)
	}
	if r.asset != st.asset {
		return fmt.Errorf("§5.6 rule 2: the retraction (asset %q) names record %d of asset %q", st.asset, n, r.asset)
	}
	// Rule 3: not retracted before.
	if by, done := b.retracted[n]; done {
		return fmt.Errorf("§5.6 rule 3: record %d was already retracted by record %d", n, by)
	}
	// Rule 4: signed by the record's signer, or by an author of the asset.
	if !bytes.Equal(e.key, r.key) && !b.isAuthor(st.asset, e.key, ks) {
		return fmt.Errorf("§5.6 rule 4: the retraction of record %d is signed by key %s, which neither signed that record nor is an author of asset %q", n, keyID(e.key), st.asset)
	}
	return nil
}

// isAuthor: "an author of the asset: a key that signed an earlier record of
// the asset, or a key introduced by a rotation signed by such a key" (§5.6
// rule 4), read transitively: a chain of rotations from an author leads to
// authors (see the report).
func (b *book) isAuthor(asset string, key []byte, ks *keyState) bool {
	seen := map[string]bool{}
	for k := key; k != nil && !seen[string(k)]; {
		seen[string(k)] = true
		if b.authors[asset][string(k)] {
			return true
		}
		ki := ks.lookup(k)
		if ki == nil {
			return false
		}
		k = ki.rotatedFrom
	}
	return false
}

// sizeRule is §5: "One SHA-256 is one file: every ref to it in the ledger
// has the same size (a step that gives another size than an earlier one is
// invalid)". Refs within one step count too.
func (b *book) sizeRule(i int64, st *step) error {
	local := map[string]sizeAt{}
	for _, f := range st.files {
		if prev, ok := b.sizes[f.sha256]; ok && prev.size != f.size {
			return fmt.Errorf("§5 (file ref): %s gives file %s the size %d; record %d gave it %d (one SHA-256 is one file)", f.where, f.sha256, f.size, prev.seq, prev.size)
		}
		if prev, ok := local[f.sha256]; ok && prev.size != f.size {
			return fmt.Errorf("§5 (file ref): %s gives file %s the size %d; another ref of the same step gives %d (one SHA-256 is one file)", f.where, f.sha256, f.size, prev.size)
		}
		local[f.sha256] = sizeAt{f.size, i}
	}
	return nil
}

// add records what record i says, once it has passed every rule.
func (b *book) add(i int64, e *entry, st *step) {
	b.recs[i] = &recInfo{kind: st.kind, asset: st.asset, key: e.key, leaf: leafHash(e.raw)}
	if st.asset != "" {
		if st.kind == "asset" {
			b.created[st.asset] = i
		}
		if b.authors[st.asset] == nil {
			b.authors[st.asset] = map[string]bool{}
		}
		b.authors[st.asset][string(e.key)] = true
	}
	if st.kind == "retract" {
		b.retracted[st.retractsSeq] = i
	}
	for _, f := range st.files {
		if _, ok := b.sizes[f.sha256]; !ok {
			b.sizes[f.sha256] = sizeAt{f.size, i}
		}
	}
}

func article(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}
