package evidence

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"fmt"
	"slices"
	"sort"

	"github.com/cairn-ledger/cairn/ledger"
)

// A RuleBook rules on records taken in ledger order: each is a step read
// strictly (DecodeStep), signed by a key that may sign it, for an asset that
// exists (FORMAT.md §1.4 rule 6 and §5.3). It is the only statement of these
// rules: cairn verify, verify --archive, restore, export and verify-pack all
// feed their records through one. A pack holds only some records (its asset's,
// and the identity and rotation records of its keys); the rules hold for such a
// subsequence too, because every record they depend on is in it.
//
// As it goes, the book keeps what the signed records say: each key's holder and
// certificate, which keys were retired and when, each asset's details, and the
// files steps name. Those, and never a cache, are what cairn prints.
type RuleBook struct {
	keys   map[string]*KeyState
	order  []*KeyState
	assets map[string]*AssetInfo
	files  map[string]int // SHA-256 -> index in uses
	uses   []FileUse

	earlier   ReadRecord                 // reads a record already applied, for retractions
	authors   map[string]map[string]bool // asset -> keys that signed its records
	retracted map[int64]int64            // a retracted record -> its retraction
}

// A KeyState is what the identity and rotation records say of one key.
type KeyState struct {
	Key         ed25519.PublicKey
	Cert        *x509.Certificate // the PDF-signing certificate bound to the key
	Name, Email string
	// Introduced is the identity or rotation record that introduced the key;
	// IntroducedBy the key that signed that rotation (nil for an identity).
	Introduced   int64
	IntroducedBy ed25519.PublicKey
	// Retired is the rotation record that retired the key, or -1.
	Retired int64
}

// InUseAt reports whether the key may sign record seq: introduced by an
// earlier record, and not retired by an earlier rotation.
func (k *KeyState) InUseAt(seq int64) bool {
	return k != nil && k.Introduced < seq && (k.Retired < 0 || k.Retired >= seq)
}

// MaySignCheckpoint reports whether the key may sign a checkpoint of size
// records: introduced inside that tree and not retired inside it. The rotation
// that retires a key may be the tree's last record: the old key still vouched
// for the tree up to it. A key retired earlier may have leaked.
func (k *KeyState) MaySignCheckpoint(size int64) bool {
	return k != nil && k.Introduced < size && (k.Retired < 0 || size <= k.Retired+1)
}

// ID is the key's short fingerprint (ledger.KeyID).
func (k *KeyState) ID() string { return ledger.KeyID(k.Key) }

// A FileUse is a stored file a step names, the first record that names it,
// and the assets whose records name it.
type FileUse struct {
	Ref    FileRef
	Seq    int64
	Assets []string
}

// NewRuleBook returns a book that has seen no record. earlier reads a record
// the book was already given (by its sequence number), when a retraction names
// it; a verifier that cannot (nil) refuses every retraction.
func NewRuleBook(earlier ReadRecord) *RuleBook {
	return &RuleBook{keys: map[string]*KeyState{}, assets: map[string]*AssetInfo{}, files: map[string]int{},
		earlier: earlier, authors: map[string]map[string]bool{}, retracted: map[int64]int64{}}
}

// Apply reads the record's step strictly and rules on it. Records must come in
// ledger order. It returns the step, or what is wrong with the record.
func (rb *RuleBook) Apply(r *ledger.Record) (*Step, error) {
	s, err := DecodeStep(r.Payload)
	if err != nil {
		return nil, err
	}
	if err := rb.ruleOnKey(r, s); err != nil {
		return nil, err
	}
	if err := rb.ruleOnAsset(r, s); err != nil {
		return nil, err
	}
	if err := rb.ruleOnRetraction(r, s); err != nil {
		return nil, err
	}
	// Before ruleOnFiles, which counts this record's files as named.
	if err := rb.ruleOnSimilarity(r, s); err != nil {
		return nil, err
	}
	if err := rb.ruleOnFiles(r, s); err != nil {
		return nil, err
	}
	return s, nil
}

// ruleOnKey checks that the record's key may sign it, and applies what an
// identity or rotation step says of keys.
func (rb *RuleBook) ruleOnKey(r *ledger.Record, s *Step) error {
	signer := rb.keys[string(r.Key)]
	if signer != nil && signer.Retired >= 0 {
		// An identity record does not bring a retired key back.
		return fmt.Errorf("signed by key %s, which record %d retired (key rotation)", signer.ID(), signer.Retired)
	}
	switch s.Kind {
	case KindIdentity:
		k, cert, _ := s.IntroducedKey() // DecodeStep checked the encodings
		if !bytes.Equal(k, r.Key) {
			return fmt.Errorf("identity record for %q is signed by another key (%s); an identity must be signed by the key it introduces", s.Name, ledger.KeyID(r.Key))
		}
		if signer != nil {
			return fmt.Errorf("identity record for key %s, which record %d already introduced", signer.ID(), signer.Introduced)
		}
		return rb.introduce(r, s, k, cert, nil)
	case KindRotate:
		if signer == nil {
			return fmt.Errorf("key rotation signed by key %s, which no identity record introduced", ledger.KeyID(r.Key))
		}
		k, cert, _ := s.IntroducedKey()
		if bytes.Equal(k, r.Key) {
			return fmt.Errorf("key rotation to the key that signs it")
		}
		if known := rb.keys[string(k)]; known != nil {
			return fmt.Errorf("key rotation to key %s, which record %d already introduced", known.ID(), known.Introduced)
		}
		if err := rb.introduce(r, s, k, cert, r.Key); err != nil {
			return err
		}
		signer.Retired = r.Seq
		return nil
	}
	if signer == nil {
		return fmt.Errorf("signed by key %s, which no identity record introduced", ledger.KeyID(r.Key))
	}
	return nil
}

func (rb *RuleBook) introduce(r *ledger.Record, s *Step, k ed25519.PublicKey, cert *x509.Certificate, by ed25519.PublicKey) error {
	if err := ledger.CheckPublicKey(k); err != nil {
		return fmt.Errorf("%s record: %v", s.Kind, err)
	}
	if err := CheckBinding(cert, k); err != nil {
		return fmt.Errorf("%s record: %v", s.Kind, err)
	}
	if cn, _ := CertName(cert); cn != s.Name { // CheckBinding refused all but one name
		return fmt.Errorf("%s record names %q, its certificate %q; they must be the same person", s.Kind, s.Name, cn)
	}
	ks := &KeyState{Key: k, Cert: cert, Name: s.Name, Email: s.Email, Introduced: r.Seq, IntroducedBy: by, Retired: -1}
	rb.keys[string(k)] = ks
	rb.order = append(rb.order, ks)
	return nil
}

// ruleOnAsset checks that an asset is created once and used only after, and
// applies what asset steps say of it.
func (rb *RuleBook) ruleOnAsset(r *ledger.Record, s *Step) error {
	switch s.Kind {
	case KindIdentity, KindRotate:
		return nil
	case KindAsset:
		if a := rb.assets[s.Asset]; a != nil {
			return fmt.Errorf("asset %q is created a second time (first by record %d)", s.Asset, a.Seq)
		}
		rb.assets[s.Asset] = &AssetInfo{ID: s.Asset, Seq: r.Seq, Created: r.Time}
	default:
		if rb.assets[s.Asset] == nil {
			return fmt.Errorf("step for asset %q, which no earlier record created", s.Asset)
		}
	}
	rb.assets[s.Asset].apply(r, s)
	return nil
}

// ruleOnFiles keeps the first record naming each stored file and the assets
// whose records name it, and refuses a step that gives a file another size than
// an earlier one did: one SHA-256 is one file, and its size is checked once,
// against the first.
func (rb *RuleBook) ruleOnFiles(r *ledger.Record, s *Step) error {
	for _, f := range s.AllFiles() {
		i, ok := rb.files[f.SHA256]
		if !ok {
			i = len(rb.uses)
			rb.files[f.SHA256] = i
			rb.uses = append(rb.uses, FileUse{Ref: f, Seq: r.Seq})
		}
		u := &rb.uses[i]
		if u.Ref.Size != f.Size {
			return fmt.Errorf("names file %s with %d bytes; record %d named it with %d", f.Short(), f.Size, u.Seq, u.Ref.Size)
		}
		if s.Asset != "" && !slices.Contains(u.Assets, s.Asset) {
			u.Assets = append(u.Assets, s.Asset)
		}
	}
	return nil
}

// Key returns what the records say of a key, or nil if none introduced it.
func (rb *RuleBook) Key(k ed25519.PublicKey) *KeyState { return rb.keys[string(k)] }

// Keys returns every key introduced, in the order of the records that did.
func (rb *RuleBook) Keys() []*KeyState { return rb.order }

// CheckpointSigners returns the keys that may sign a checkpoint of size records.
func (rb *RuleBook) CheckpointSigners(size int64) []ed25519.PublicKey {
	var out []ed25519.PublicKey
	for _, k := range rb.order {
		if k.MaySignCheckpoint(size) {
			out = append(out, k.Key)
		}
	}
	return out
}

// whyNotSigner explains why no allowed key signed a checkpoint note: the key
// that did was retired inside its tree, or introduced only later.
func (rb *RuleBook) whyNotSigner(note []byte) string {
	c, err := ledger.ParseCheckpoint(note)
	if err != nil {
		return ""
	}
	for _, k := range rb.order {
		if _, err := ledger.OpenCheckpoint(note, k.Key); err != nil {
			continue
		}
		if k.Introduced >= c.Size {
			return fmt.Sprintf(": it is signed by key %s, which record %d introduces only later", k.ID(), k.Introduced)
		}
		return fmt.Sprintf(": it is signed by key %s, which record %d retired (key rotation) inside the checkpoint's tree", k.ID(), k.Retired)
	}
	return ""
}

// AllKeys returns every key introduced, retired ones included.
func (rb *RuleBook) AllKeys() []ed25519.PublicKey {
	out := make([]ed25519.PublicKey, len(rb.order))
	for i, k := range rb.order {
		out[i] = k.Key
	}
	return out
}

// Asset returns what the signed records say of an asset, or nil.
func (rb *RuleBook) Asset(id string) *AssetInfo { return rb.assets[id] }

// Assets returns every asset, in the order they were created.
func (rb *RuleBook) Assets() []*AssetInfo {
	out := make([]*AssetInfo, 0, len(rb.assets))
	for _, a := range rb.assets {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out
}

// Files returns every stored file a step names, with the first record that
// names it, in that order.
func (rb *RuleBook) Files() []FileUse { return rb.uses }

// Person returns the identity key a key descends from through rotations: keys
// with the same person are one holder who rotated, not two people.
func (rb *RuleBook) Person(k *KeyState) *KeyState {
	for k != nil && k.IntroducedBy != nil {
		k = rb.keys[string(k.IntroducedBy)]
	}
	return k
}

// DescendsFrom reports whether key k is pinned, or was introduced by a chain of
// rotations that starts at a pinned key.
func (rb *RuleBook) DescendsFrom(k ed25519.PublicKey, pinned []ed25519.PublicKey) bool {
	for k != nil {
		for _, p := range pinned {
			if bytes.Equal(p, k) {
				return true
			}
		}
		ks := rb.keys[string(k)]
		if ks == nil {
			return false
		}
		k = ks.IntroducedBy
	}
	return false
}

// A NameClash is a name that identity records give to more than one person
// (keys not joined by rotations): a reader must tell them apart by key.
type NameClash struct {
	Name string
	Keys []*KeyState // the identity key of each person, in ledger order
}

// NameClashes lists the names shared by different people.
func (rb *RuleBook) NameClashes() []NameClash {
	byName := map[string][]*KeyState{}
	var names []string
	for _, k := range rb.order {
		p := rb.Person(k)
		if p == nil || p != k && p.Name == k.Name {
			continue
		}
		if _, ok := byName[k.Name]; !ok {
			names = append(names, k.Name)
		}
		dup := false
		for _, q := range byName[k.Name] {
			dup = dup || q == p
		}
		if !dup {
			byName[k.Name] = append(byName[k.Name], p)
		}
	}
	var out []NameClash
	for _, n := range names {
		if len(byName[n]) > 1 {
			out = append(out, NameClash{n, byName[n]})
		}
	}
	return out
}
