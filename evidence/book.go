package evidence

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/cairn-ledger/cairn/ledger"
)

// A Book is a cairn directory (.cairn): the ledger, the file store, local settings
// and a cache of what the ledger holds.
//
//	.cairn/ledger/      the ledger (Badger)
//	.cairn/files/       stored files, by SHA-256
//	.cairn/config.json  local settings: the current asset (not evidence)
//	.cairn/index.json   a cache of assets and keys, rebuilt from the ledger when stale
//	.cairn/batches/     journals of batches being recorded (cairn batch), not evidence
type Book struct {
	Dir    string
	Ledger *ledger.Ledger
	Files  *FileStore
	idx    *index
	broken error // a record the cache could not read; set by Open
}

// DirName is the name of the directory cairn looks for, as git looks for .git.
const DirName = ".cairn"

// ErrNoBook is wrapped when there is no cairn directory.
var ErrNoBook = errors.New("no cairn ledger")

// FindDir returns the .cairn directory to use: explicit if given, else the first
// .cairn in start or its parents.
func FindDir(explicit, start string) (string, error) {
	if explicit != "" {
		return explicit, nil
	}
	dir := start
	for {
		p := filepath.Join(dir, DirName)
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%w in %s or any parent directory; create one with: cairn init (or point to one with --dir or CAIRN_DIR)", ErrNoBook, start)
		}
		dir = parent
	}
}

// index is the cache in index.json. It is derived data: if it is missing or does
// not match the ledger, it is rebuilt by reading the ledger.
type index struct {
	Size   int64                 `json:"size"`
	Head   string                `json:"head"` // leaf hash of record Size-1, hex
	Assets map[string]*AssetInfo `json:"assets"`
	Keys   map[string]int64      `json:"keys"` // hex public key -> seq of its identity record
	Names  map[string]string     `json:"names"`
	// Retired maps a hex public key to the rotation record that retired it.
	Retired map[string]int64 `json:"retired,omitempty"`
}

// AssetInfo summarises an asset from its records.
type AssetInfo struct {
	ID        string    `json:"id"`
	Seq       int64     `json:"seq"` // the asset record
	Title     string    `json:"title,omitempty"`
	Kind      string    `json:"asset_kind,omitempty"`
	Owner     string    `json:"owner,omitempty"`
	Basis     string    `json:"basis,omitempty"`
	Contract  string    `json:"contract,omitempty"`
	TDM       string    `json:"tdm,omitempty"`
	Steps     int       `json:"steps"`
	Created   time.Time `json:"created"`
	Updated   time.Time `json:"updated"`
	FinalFile string    `json:"final,omitempty"` // SHA-256 of the last declared final file
}

func newIndex() *index {
	return &index{Assets: map[string]*AssetInfo{}, Keys: map[string]int64{}, Names: map[string]string{}}
}

// Init creates a new book in dir and records the identity that created it.
func Init(dir string, id *Identity) (*Book, *ledger.Record, error) {
	if _, err := os.Stat(filepath.Join(dir, "ledger", "MANIFEST")); err == nil {
		return nil, nil, inputErrorf("%s already holds a cairn ledger; nothing was changed", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	l, err := ledger.Create(filepath.Join(dir, "ledger"), ledger.NewOrigin(), nil)
	if err != nil {
		return nil, nil, err
	}
	b := &Book{Dir: dir, Ledger: l, Files: NewFileStore(filepath.Join(dir, "files")), idx: newIndex()}
	recs, err := b.Record(id, []*Step{id.Step()})
	if err != nil {
		b.Close()
		return nil, nil, err
	}
	return b, recs[0], nil
}

// OpenOptions controls Open.
type OpenOptions struct {
	LockTimeout time.Duration
	Bulk        bool
	// ReadOnly opens the ledger without writing to it until something is
	// recorded or stored (ledger.Options.ReadOnly); the index cache is not
	// saved either.
	ReadOnly bool
}

// Open opens the book in dir.
func Open(dir string, opts *OpenOptions) (*Book, error) {
	lo := &ledger.Options{}
	if opts != nil {
		lo.LockTimeout, lo.Bulk, lo.ReadOnly = opts.LockTimeout, opts.Bulk, opts.ReadOnly
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("%w at %s; create one with: cairn init", ErrNoBook, dir)
	}
	l, err := ledger.Open(filepath.Join(dir, "ledger"), lo)
	if errors.Is(err, ledger.ErrNotExist) {
		return nil, fmt.Errorf("%w at %s (the directory has no ledger); create one with: cairn init", ErrNoBook, dir)
	}
	if err != nil {
		return nil, err
	}
	b := &Book{Dir: dir, Ledger: l, Files: NewFileStore(filepath.Join(dir, "files"))}
	b.sweepLeftovers()
	if err := b.loadIndex(); err != nil {
		l.Close()
		return nil, err
	}
	return b, nil
}

// Close closes the ledger.
func (b *Book) Close() error { return b.Ledger.Close() }

func (b *Book) indexPath() string { return filepath.Join(b.Dir, "index.json") }

// loadIndex reads the cache and brings it up to date with the ledger, reading only
// the records it has not seen when its head still matches.
func (b *Book) loadIndex() error {
	idx := newIndex()
	if data, err := os.ReadFile(b.indexPath()); err == nil {
		if json.Unmarshal(data, idx) != nil || idx.Assets == nil || idx.Keys == nil || idx.Names == nil {
			idx = newIndex()
		}
	}
	size := b.Ledger.Size()
	valid := idx.Size <= size
	if valid && idx.Size > 0 {
		r, err := b.Ledger.Get(idx.Size - 1)
		h := r.Hash()
		valid = err == nil && hex.EncodeToString(h[:]) == idx.Head
	}
	if !valid {
		idx = newIndex()
	}
	b.idx = idx
	if idx.Size == size {
		return nil
	}
	err := b.Ledger.Scan(idx.Size, func(r *ledger.Record) error {
		s, err := DecodeStep(r.Payload)
		if err != nil {
			return &ledger.VerifyError{Seq: r.Seq, Problem: err.Error()}
		}
		b.idx.add(r, s)
		return nil
	})
	var ve *ledger.VerifyError
	if errors.As(err, &ve) {
		// The book stays open, so that cairn verify can report the record;
		// nothing is appended after it, and the cache is not saved.
		b.broken = fmt.Errorf("%w; nothing can be recorded after it (run cairn verify)", ve)
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the ledger: %w (run cairn verify)", err)
	}
	b.saveIndex()
	return nil
}

func (x *index) add(r *ledger.Record, s *Step) {
	x.Size = r.Seq + 1
	h := r.Hash()
	x.Head = hex.EncodeToString(h[:])
	switch s.Kind {
	case KindIdentity, KindRotate:
		if s.Kind == KindRotate {
			if x.Retired == nil {
				x.Retired = map[string]int64{}
			}
			x.Retired[hex.EncodeToString(r.Key)] = r.Seq
		}
		if k, err := base64.StdEncoding.DecodeString(s.Key); err == nil {
			hk := hex.EncodeToString(k)
			if _, ok := x.Keys[hk]; !ok {
				x.Keys[hk] = r.Seq
			}
			x.Names[hk] = s.Name
		}
		return
	case KindAsset:
		x.Assets[s.Asset] = &AssetInfo{ID: s.Asset, Seq: r.Seq, Created: r.Time}
	}
	if a := x.Assets[s.Asset]; a != nil {
		a.apply(r, s)
	}
}

// apply updates what is known of an asset with one of its records: an asset
// or asset-set step sets the details it names, a final step the final file.
// The cache and the rule book both call it, so that they cannot disagree
// except by tampering.
func (a *AssetInfo) apply(r *ledger.Record, s *Step) {
	if s.Kind == KindAsset || s.Kind == KindAssetSet {
		set := func(dst *string, v string) {
			if v != "" {
				*dst = v
			}
		}
		set(&a.Title, s.Title)
		set(&a.Kind, s.AssetKind)
		set(&a.Owner, s.Owner)
		set(&a.Basis, s.Basis)
		set(&a.Contract, s.Contract)
		set(&a.TDM, s.TDM)
	}
	if s.Kind == KindFinal && s.File != nil {
		a.FinalFile = s.File.SHA256
	}
	a.Steps++
	a.Updated = r.Time
}

// saveIndex writes the cache. It is not synced: a lost cache is rebuilt. A
// book that has only been read writes nothing.
func (b *Book) saveIndex() {
	if b.Ledger.ReadOnly() {
		return
	}
	data, err := json.Marshal(b.idx)
	if err != nil {
		return
	}
	tmp := b.indexPath() + ".tmp"
	if os.WriteFile(tmp, data, 0o644) == nil {
		os.Rename(tmp, b.indexPath())
	}
}

// Asset returns what is known of an asset, or an input error naming the known ones.
func (b *Book) Asset(id string) (*AssetInfo, error) {
	if a, ok := b.idx.Assets[id]; ok {
		return a, nil
	}
	if len(b.idx.Assets) == 0 {
		return nil, inputErrorf("unknown asset %q: this ledger has no assets yet; create it with: cairn asset new %s", id, id)
	}
	return nil, inputErrorf("unknown asset %q; known assets: %s (create a new one with: cairn asset new %s)", id, listIDs(b.Assets(), 8), id)
}

func listIDs(as []*AssetInfo, max int) string {
	var b bytes.Buffer
	for i, a := range as {
		if i == max {
			fmt.Fprintf(&b, ", … (%d more)", len(as)-max)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(a.ID)
	}
	return b.String()
}

// Assets lists the assets in the order they were created.
func (b *Book) Assets() []*AssetInfo {
	out := make([]*AssetInfo, 0, len(b.idx.Assets))
	for _, a := range b.idx.Assets {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out
}

// KeyIntroduced reports whether an identity or rotation record of this ledger
// introduced pub.
func (b *Book) KeyIntroduced(pub ed25519.PublicKey) bool {
	_, ok := b.idx.Keys[hex.EncodeToString(pub)]
	return ok
}

// AuthorName returns the name the signed record that introduced the key gives
// its holder, or "". The cache only finds that record; the name is read from
// the record itself, whose signature is checked.
func (b *Book) AuthorName(pub ed25519.PublicKey) string {
	seq, ok := b.idx.Keys[hex.EncodeToString(pub)]
	if !ok {
		return ""
	}
	r, err := b.Ledger.Get(seq)
	if err != nil || !r.CheckSignature(b.Ledger.Origin()) {
		return ""
	}
	s, err := DecodeStep(r.Payload)
	if err != nil || (s.Kind != KindIdentity && s.Kind != KindRotate) {
		return ""
	}
	if k, _, err := s.IntroducedKey(); err != nil || !k.Equal(pub) {
		return ""
	}
	return s.Name
}

// Record validates the steps, stores nothing if any is invalid, introduces the
// signer's identity if this ledger has not seen it, and appends the steps in order.
func (b *Book) Record(id *Identity, steps []*Step) ([]*ledger.Record, error) {
	if b.broken != nil {
		return nil, b.broken
	}
	if at, ok := b.idx.Retired[hex.EncodeToString(id.Public())]; ok {
		return nil, inputErrorf("key %s was retired by the key rotation in record %d; sign with the new key (your identity file) instead", id.Fingerprint(), at)
	}
	pending := map[string]bool{} // assets created earlier in this call
	for i, s := range steps {
		if err := s.Normalize(); err != nil {
			if len(steps) > 1 {
				return nil, inputErrorf("step %d: %v", i+1, err)
			}
			return nil, err
		}
		switch {
		case s.Kind == KindIdentity, s.Kind == KindRotate:
		case s.Kind == KindAsset:
			if _, ok := b.idx.Assets[s.Asset]; ok || pending[s.Asset] {
				return nil, inputErrorf("asset %q already exists; change its details with: cairn asset set %s", s.Asset, s.Asset)
			}
			pending[s.Asset] = true
		case !pending[s.Asset]:
			if _, err := b.Asset(s.Asset); err != nil {
				return nil, err
			}
		}
	}
	if _, ok := b.idx.Keys[hex.EncodeToString(id.Public())]; !ok && (len(steps) == 0 || (steps[0].Kind != KindIdentity && steps[0].Kind != KindRotate)) {
		steps = append([]*Step{id.Step()}, steps...)
	}
	payloads := make([][]byte, len(steps))
	for i, s := range steps {
		p, err := s.Encode()
		if err != nil {
			return nil, err
		}
		if len(p) > ledger.MaxPayload {
			return nil, inputErrorf("step %d is %s encoded; the limit is %s", i+1, HumanSize(int64(len(p))), HumanSize(ledger.MaxPayload))
		}
		payloads[i] = p
	}
	recs, err := b.Ledger.AppendBatch(id.Key, payloads)
	for i, r := range recs {
		b.idx.add(r, steps[i])
	}
	if len(recs) > 0 {
		b.saveIndex()
	}
	return recs, err
}

// StepRecord is a decoded record.
type StepRecord struct {
	Rec  *ledger.Record
	Step *Step
}

// Scan calls fn for every record from seq from on, decoded. Records that do not
// decode as steps are an error: the ledger holds nothing else.
func (b *Book) Scan(from int64, fn func(StepRecord) error) error {
	return b.Ledger.Scan(from, func(r *ledger.Record) error {
		s, err := DecodeStep(r.Payload)
		if err != nil {
			return fmt.Errorf("record %d: %w", r.Seq, err)
		}
		return fn(StepRecord{r, s})
	})
}

// An AssetView is what the signed records say of one asset: its details (title,
// rights holder, …) from its own asset and asset-set records, its records in
// ledger order, every identity and rotation record, and the rule book over the
// whole ledger (who holds each key). It never comes from the cache.
type AssetView struct {
	Info       *AssetInfo
	Steps      []StepRecord
	KeyRecords []StepRecord // identity and rotation records, in ledger order
	Rules      *RuleBook
}

// ViewAsset reads the whole ledger through a rule book and returns what it says
// of asset. Every record it returns has a valid signature and obeys the rules;
// the first that does not is an error that says to run cairn verify. The cache
// only says whether the asset exists.
func (b *Book) ViewAsset(asset string) (*AssetView, error) {
	if _, err := b.Asset(asset); err != nil {
		return nil, err
	}
	v := &AssetView{Rules: NewRuleBook(b.ReadRecord)}
	origin := b.Ledger.Origin()
	err := b.Ledger.Scan(0, func(r *ledger.Record) error {
		s, err := v.Rules.Apply(r)
		if err != nil {
			return &ledger.VerifyError{Seq: r.Seq, Problem: err.Error() + " (run cairn verify)"}
		}
		mine := s.Asset == asset && s.Kind != KindIdentity && s.Kind != KindRotate
		if !mine && s.Kind != KindIdentity && s.Kind != KindRotate {
			return nil
		}
		if !r.CheckSignature(origin) {
			return &ledger.VerifyError{Seq: r.Seq, Problem: "signature does not verify (run cairn verify)"}
		}
		if mine {
			v.Steps = append(v.Steps, StepRecord{r, s})
		} else {
			v.KeyRecords = append(v.KeyRecords, StepRecord{r, s})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if v.Info = v.Rules.Asset(asset); v.Info == nil {
		return nil, &ledger.VerifyError{Seq: -1, Problem: fmt.Sprintf("the cache names asset %q, but no record creates it; delete %s (it is rebuilt from the ledger)", asset, b.indexPath())}
	}
	return v, nil
}

// AssetSteps returns the records of one asset, in order, and the identity records
// of their authors (see ViewAsset).
func (b *Book) AssetSteps(asset string) (steps []StepRecord, identities []StepRecord, err error) {
	v, err := b.ViewAsset(asset)
	if err != nil {
		return nil, nil, err
	}
	authors := map[string]bool{}
	for _, sr := range v.Steps {
		authors[string(sr.Rec.Key)] = true
	}
	for _, sr := range v.KeyRecords {
		if sr.Step.Kind == KindIdentity && authors[string(sr.Rec.Key)] {
			identities = append(identities, sr)
		}
	}
	return v.Steps, identities, nil
}

// ReadConfig and WriteConfig keep local settings that are not evidence.
type Config struct {
	Asset string `json:"asset,omitempty"` // the current asset (cairn use)

	// TSA is the RFC 3161 time-stamping service cairn asks on its own.
	TSA *TSAConfig `json:"tsa,omitempty"`

	// Witnesses are the verifier keys (C2SP tlog-cosignature) of witnesses whose
	// cosignatures verify checks.
	Witnesses []string `json:"witnesses,omitempty"`

	// Publish is the witness server cairn sends checkpoints to (cairn publish).
	Publish *PublishConfig `json:"publish,omitempty"`

	// Studios are the verifier keys of studio logs whose inclusion proofs are
	// checked as they arrive, and by verify (FORMAT.md §3.3).
	Studios []string `json:"studios,omitempty"`

	// Lang is the language packs and labels are written in when no --lang is
	// given ("" English); TZ the designer's time zone, in which packs show
	// times beside UTC (an IANA name; "" the language's default).
	Lang string `json:"lang,omitempty"`
	TZ   string `json:"tz,omitempty"`
}

// PublishConfig says where cairn publish sends checkpoints, and how often it
// does so on its own after recording.
type PublishConfig struct {
	URL       string `json:"url,omitempty"`        // the witness's submission prefix
	Every     string `json:"every,omitempty"`      // at most one automatic publish per this duration (default 15m)
	StudioURL string `json:"studio_url,omitempty"` // where the studio log is served (default: URL/log/)
}

// TSAConfig says where to get trusted time and how to check it.
type TSAConfig struct {
	URL   string `json:"url,omitempty"`
	Roots string `json:"roots,omitempty"` // PEM file of trusted roots, relative to the cairn directory
	Every string `json:"every,omitempty"` // at most one automatic timestamp per this duration (default 15m)
}

func (b *Book) configPath() string { return filepath.Join(b.Dir, "config.json") }

// ReadConfig reads the local settings of the book in dir.
func ReadConfig(dir string) (*Config, error) {
	var c Config
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return &c, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("%s: %v", filepath.Join(dir, "config.json"), err)
	}
	return &c, nil
}

// WriteConfig saves the local settings.
func (b *Book) WriteConfig(c *Config) error {
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	tmp := b.configPath() + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, b.configPath())
}

// Rules reads the whole ledger through a rule book (without checking
// signatures; cairn verify does) and returns it: who holds each key, which may
// sign checkpoints of which sizes.
func (b *Book) Rules() (*RuleBook, error) {
	rb := NewRuleBook(b.ReadRecord)
	err := b.Ledger.Scan(0, func(r *ledger.Record) error {
		if _, err := rb.Apply(r); err != nil {
			return &ledger.VerifyError{Seq: r.Seq, Problem: err.Error() + " (run cairn verify)"}
		}
		return nil
	})
	return rb, err
}
