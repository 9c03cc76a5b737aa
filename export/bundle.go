package export

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/internal/strict"
	"github.com/cairn-ledger/cairn/ledger"
	"github.com/cairn-ledger/cairn/ledger/rfc3161"
	"github.com/cairn-ledger/cairn/ledger/studio"
)

// BundleFormat is the newest value of the bundle's "format" field (FORMAT.md
// §7.3): v2 with the studio log's inclusion proof of a cosignature. Export
// writes it only for a bundle that carries such a proof, and v2 otherwise, so
// that readers of v2 still read every pack that needs nothing new.
const BundleFormat = "cairn.evidence-bundle/v3"

// BundleFormatV2 is v3 without studio log proofs.
const BundleFormatV2 = "cairn.evidence-bundle/v2"

// BundleFormatV1 is the format of packs made before key rotations, earlier
// checkpoints and timestamp tokens were carried. It is still read: a v1 bundle is
// a v2 bundle without those fields. The version changed because v1 readers refuse
// unknown fields, so a v2 bundle must not claim to be v1.
const BundleFormatV1 = "cairn.evidence-bundle/v1"

// BundleName is the name of the embedded file that holds the bundle.
const BundleName = "evidence.json"

// A Bundle is the machine-readable content of an evidence pack: one asset's
// records as their exact bytes, the records that introduced their authors' keys
// and the pack's signer's, each with an inclusion proof, and the checkpoint the
// proofs lead to; then what third parties said about that checkpoint and earlier
// ones. Everything in it is checked against the checkpoint; nothing is trusted
// because it is in the bundle. FORMAT.md §7.3 specifies it.
type Bundle struct {
	Format     string      `json:"format"`
	Origin     string      `json:"origin"`
	Asset      string      `json:"asset"`
	Checkpoint string      `json:"checkpoint"` // the signed note, verbatim
	Keys       []BundleKey `json:"keys"`
	// Identities are the self-introduced identity records of the keys, in
	// ledger order.
	Identities []BundleRecord `json:"identities"`
	// Rotations are the key rotation records that introduced a key of the pack
	// or retired one, in ledger order.
	Rotations []BundleRecord `json:"rotations,omitempty"`
	// Records are the asset's records, in ledger order.
	Records []BundleRecord `json:"records"`
	// Checkpoints are the stored checkpoints, up to and including the anchor,
	// that carry a timestamp token or a cosignature, by size.
	Checkpoints []BundleCheckpoint `json:"checkpoints,omitempty"`
	// TSARoots are the DER certificates (base64) the exporting ledger was
	// configured to trust as TSA roots. Informative: a verifier names the roots it
	// trusts itself, and may compare them with these.
	TSARoots []string `json:"tsa_roots,omitempty"`
}

// A BundleCheckpoint is a stored checkpoint with what third parties said about
// it, and the proof that the anchor checkpoint extends it.
type BundleCheckpoint struct {
	Note string `json:"note"` // the signed note exactly as stored: the bytes the token is over
	// Consistency is the RFC 6962 consistency proof from this checkpoint's tree
	// to the anchor's, base64 hashes; empty for the anchor itself.
	Consistency  []string            `json:"consistency"`
	Timestamp    string              `json:"timestamp,omitempty"` // DER TimeStampResp over Note, base64
	Cosignatures []BundleCosignature `json:"cosignatures,omitempty"`
}

// A BundleCosignature is the checkpoint note with a witness's cosignature line.
type BundleCosignature struct {
	Witness string `json:"witness"` // the witness's key name
	Note    string `json:"note"`
	// Studio is the witness's studio log's proof that it holds Note (v3).
	Studio *BundleStudio `json:"studio,omitempty"`
}

// A BundleStudio proves that a studio log holds a cosigned checkpoint note, and
// by when: the C2SP tlog-proof of the note in the log, and the RFC 3161 token
// over the proof's checkpoint (FORMAT.md §3.3).
type BundleStudio struct {
	Proof     string `json:"proof"`               // the tlog-proof text
	Timestamp string `json:"timestamp,omitempty"` // DER TimeStampResp over the proof's checkpoint note, base64
}

// A BundleKey describes one author's keys, for people and for tools that want
// them without decoding the identity records. Verification checks it against
// those records.
type BundleKey struct {
	Ed25519    string `json:"ed25519"`     // public key, base64
	KeyID      string `json:"key_id"`      // ledger.KeyID: first 8 bytes of SHA-256(key), hex
	VKey       string `json:"vkey"`        // signed-note verifier key for the checkpoint
	CertSHA256 string `json:"cert_sha256"` // SHA-256 of the P-256 certificate's DER, hex
}

// A BundleRecord is one ledger entry and its RFC 6962 inclusion proof in the
// tree of the bundle's checkpoint.
type BundleRecord struct {
	Index int64    `json:"index"` // leaf index; the entry's own seq must equal it
	Entry string   `json:"entry"` // the exact entry bytes, base64
	Proof []string `json:"proof"` // audit path, base64 hashes, from the leaf upward
}

// bundleShape is the JSON shape of a bundle, derived from Bundle's json tags.
var bundleShape = strict.ShapeOf(reflect.TypeOf(Bundle{}))

// Limits that keep ParseBundle's work proportional to a sane pack.
const (
	maxBundleSize     = 512 << 20
	maxBundleRecords  = 1 << 20
	maxProofLen       = 64
	maxConsistencyLen = 128 // an RFC 6962 consistency proof has at most 2 hashes per level
	maxCheckpoints    = 1 << 16
	maxCosignatures   = 64
	maxTSARoots       = 64
)

// Encode returns the bundle's canonical bytes: JSON indented by two spaces,
// fields in declaration order, HTML characters not escaped, ending in a newline.
func (bd *Bundle) Encode() []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(bd); err != nil {
		panic(err) // only strings and integers: cannot fail
	}
	return b.Bytes()
}

// parsedRecord is a BundleRecord decoded and checked for form.
type parsedRecord struct {
	rec   *ledger.Record
	step  *evidence.Step
	proof tlog.RecordProof
	index int64
	err   error // why the entry or its step does not decode, if it does not
}

// parsedCheckpoint is a BundleCheckpoint decoded and checked for form.
type parsedCheckpoint struct {
	note   []byte
	cp     *ledger.Checkpoint // parsed, its signature not yet checked
	proof  tlog.TreeProof
	token  []byte // nil if none
	cosigs []BundleCosignature
	studio map[string]*parsedStudio // by witness name
}

// parsedStudio is a BundleStudio decoded and checked for form.
type parsedStudio struct {
	proof *studio.Proof
	token []byte // nil if none
}

// parsedBundle is a bundle decoded and checked for form.
type parsedBundle struct {
	bd              *Bundle
	anchor          *ledger.Checkpoint // parsed, its signature not yet checked
	ids, rots, recs []*parsedRecord
	cps             []*parsedCheckpoint
	roots           []*x509.Certificate
}

// ParseBundle decodes a bundle and checks its form: every field present and
// well-formed, every entry base64 that decodes as a ledger entry, every proof
// hash 32 bytes, checkpoints in order and no larger than the anchor. It checks
// no signature or proof; VerifyPack does.
func ParseBundle(data []byte) (*Bundle, error) {
	pb, err := parseBundle(data)
	if err != nil {
		return nil, err
	}
	return pb.bd, nil
}

func parseBundle(data []byte) (*parsedBundle, error) {
	if len(data) > maxBundleSize {
		return nil, fmt.Errorf("bundle: %d bytes is larger than the limit of %d", len(data), maxBundleSize)
	}
	// One reading of the bytes: exact field names, none twice, no null, valid
	// UTF-8 (FORMAT.md §7.3); then encoding/json can decode it safely.
	if err := strict.Check(data, bundleShape); err != nil {
		return nil, fmt.Errorf("bundle: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	bd := new(Bundle)
	if err := dec.Decode(bd); err != nil {
		return nil, fmt.Errorf("bundle: not valid JSON of the expected shape: %v", err)
	}
	if dec.More() {
		return nil, errors.New("bundle: data after the JSON object")
	}
	switch bd.Format {
	case BundleFormat, BundleFormatV2:
	case BundleFormatV1:
		if bd.Rotations != nil || bd.Checkpoints != nil || bd.TSARoots != nil {
			return nil, fmt.Errorf("bundle: format %q has no rotations, checkpoints or tsa_roots", BundleFormatV1)
		}
	default:
		return nil, fmt.Errorf("bundle: format %q, this cairn reads %q, %q and %q", bd.Format, BundleFormat, BundleFormatV2, BundleFormatV1)
	}
	if !ledger.ValidOrigin(bd.Origin) {
		return nil, fmt.Errorf("bundle: invalid origin %q", bd.Origin)
	}
	if !evidence.ValidAssetID(bd.Asset) {
		return nil, fmt.Errorf("bundle: invalid asset ID %q", bd.Asset)
	}
	anchor, err := ledger.ParseCheckpoint([]byte(bd.Checkpoint))
	if err != nil {
		return nil, fmt.Errorf("bundle: %v", err)
	}
	if n := len(bd.Records) + len(bd.Identities) + len(bd.Rotations); n > maxBundleRecords {
		return nil, fmt.Errorf("bundle: %d records, more than the limit of %d", n, maxBundleRecords)
	}
	if len(bd.Identities) == 0 {
		return nil, errors.New("bundle: no identity records")
	}
	if len(bd.Keys) == 0 {
		return nil, errors.New("bundle: no keys")
	}
	for i, k := range bd.Keys {
		if b, err := strict.Base64(k.Ed25519); err != nil || len(b) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("bundle: keys[%d]: ed25519 is not a base64 Ed25519 public key", i)
		}
	}
	pb := &parsedBundle{bd: bd, anchor: anchor}
	if pb.ids, err = parseRecords("identities", bd.Identities); err != nil {
		return nil, err
	}
	if pb.rots, err = parseRecords("rotations", bd.Rotations); err != nil {
		return nil, err
	}
	if pb.recs, err = parseRecords("records", bd.Records); err != nil {
		return nil, err
	}
	if pb.cps, err = parseCheckpoints(bd.Checkpoints, anchor); err != nil {
		return nil, err
	}
	studios := false
	for _, pc := range pb.cps {
		studios = studios || len(pc.studio) > 0
	}
	if studios != (bd.Format == BundleFormat) {
		if studios {
			return nil, fmt.Errorf("bundle: format %q has no studio log proofs; a bundle with them is %q", bd.Format, BundleFormat)
		}
		return nil, fmt.Errorf("bundle: a %q bundle carries a studio log proof; one without is %q", BundleFormat, BundleFormatV2)
	}
	if len(bd.TSARoots) > maxTSARoots {
		return nil, fmt.Errorf("bundle: %d TSA roots, more than the limit of %d", len(bd.TSARoots), maxTSARoots)
	}
	for i, r := range bd.TSARoots {
		der, err := strict.Base64(r)
		if err != nil {
			return nil, fmt.Errorf("bundle: tsa_roots[%d] is not base64", i)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("bundle: tsa_roots[%d] is not an X.509 certificate: %v", i, err)
		}
		pb.roots = append(pb.roots, c)
	}
	return pb, nil
}

func parseCheckpoints(in []BundleCheckpoint, anchor *ledger.Checkpoint) ([]*parsedCheckpoint, error) {
	if len(in) > maxCheckpoints {
		return nil, fmt.Errorf("bundle: %d checkpoints, more than the limit of %d", len(in), maxCheckpoints)
	}
	out := make([]*parsedCheckpoint, len(in))
	last := int64(0)
	for i, bc := range in {
		cp, err := ledger.ParseCheckpoint([]byte(bc.Note))
		if err != nil {
			return nil, fmt.Errorf("bundle: checkpoints[%d]: %v", i, err)
		}
		where := fmt.Sprintf("bundle: checkpoints[%d] (size %d)", i, cp.Size)
		switch {
		case cp.Size <= last:
			return nil, fmt.Errorf("%s: not larger than the previous checkpoint's %d; checkpoints must be in order of size", where, last)
		case cp.Size > anchor.Size:
			return nil, fmt.Errorf("%s: larger than the anchor checkpoint's %d", where, anchor.Size)
		case len(bc.Consistency) > maxConsistencyLen:
			return nil, fmt.Errorf("%s: consistency proof has %d hashes, at most %d are possible", where, len(bc.Consistency), maxConsistencyLen)
		case len(bc.Cosignatures) > maxCosignatures:
			return nil, fmt.Errorf("%s: %d cosignatures, more than the limit of %d", where, len(bc.Cosignatures), maxCosignatures)
		case cp.Size == anchor.Size && bc.Timestamp == "" && len(bc.Cosignatures) == 0:
			return nil, fmt.Errorf("%s: the anchor is listed without a timestamp or a cosignature", where)
		case cp.Size == anchor.Size && bc.Note != string(anchor.Note):
			return nil, fmt.Errorf("%s: the note is not the anchor's, byte for byte", where)
		}
		last = cp.Size
		p := &parsedCheckpoint{note: []byte(bc.Note), cp: cp, proof: make(tlog.TreeProof, len(bc.Consistency)), cosigs: bc.Cosignatures}
		for j, h := range bc.Consistency {
			b, err := strict.Base64(h)
			if err != nil || len(b) != tlog.HashSize {
				return nil, fmt.Errorf("%s: consistency proof hash %d is not a base64 SHA-256 hash", where, j)
			}
			copy(p.proof[j][:], b)
		}
		if bc.Timestamp != "" {
			if p.token, err = strict.Base64(bc.Timestamp); err != nil {
				return nil, fmt.Errorf("%s: timestamp is not base64: %v", where, err)
			}
			if len(p.token) > rfc3161.MaxResponseSize {
				return nil, fmt.Errorf("%s: timestamp is larger than %d bytes", where, rfc3161.MaxResponseSize)
			}
		}
		seen := map[string]bool{}
		for j, cs := range bc.Cosignatures {
			if cs.Witness == "" || strings.ContainsAny(cs.Witness, " \n+") || seen[cs.Witness] {
				return nil, fmt.Errorf("%s: cosignatures[%d]: invalid or repeated witness name %q", where, j, cs.Witness)
			}
			seen[cs.Witness] = true
			if cs.Studio == nil {
				continue
			}
			ps := &parsedStudio{}
			if ps.proof, err = studio.ParseProof([]byte(cs.Studio.Proof)); err != nil {
				return nil, fmt.Errorf("%s: cosignatures[%d]: studio: %v", where, j, err)
			}
			if cs.Studio.Timestamp != "" {
				if ps.token, err = strict.Base64(cs.Studio.Timestamp); err != nil {
					return nil, fmt.Errorf("%s: cosignatures[%d]: studio: timestamp is not base64: %v", where, j, err)
				}
				if len(ps.token) > rfc3161.MaxResponseSize {
					return nil, fmt.Errorf("%s: cosignatures[%d]: studio: timestamp is larger than %d bytes", where, j, rfc3161.MaxResponseSize)
				}
			}
			if p.studio == nil {
				p.studio = map[string]*parsedStudio{}
			}
			p.studio[cs.Witness] = ps
		}
		out[i] = p
	}
	return out, nil
}

func parseRecords(field string, in []BundleRecord) ([]*parsedRecord, error) {
	out := make([]*parsedRecord, len(in))
	last := int64(-1)
	for i, br := range in {
		if br.Index <= last {
			return nil, fmt.Errorf("bundle: %s[%d]: index %d is not after the previous record's %d; records must be in ledger order", field, i, br.Index, last)
		}
		last = br.Index
		entry, err := strict.Base64(br.Entry)
		if err != nil {
			return nil, fmt.Errorf("bundle: %s[%d] (index %d): entry is not base64: %v", field, i, br.Index, err)
		}
		if len(br.Proof) > maxProofLen {
			return nil, fmt.Errorf("bundle: %s[%d] (index %d): proof has %d hashes, at most %d are possible", field, i, br.Index, len(br.Proof), maxProofLen)
		}
		p := &parsedRecord{index: br.Index, proof: make(tlog.RecordProof, len(br.Proof))}
		for j, h := range br.Proof {
			b, err := strict.Base64(h)
			if err != nil || len(b) != tlog.HashSize {
				return nil, fmt.Errorf("bundle: %s[%d] (index %d): proof hash %d is not a base64 SHA-256 hash", field, i, br.Index, j)
			}
			copy(p.proof[j][:], b)
		}
		// A record that does not decode is a verification failure, named by
		// Verify with its index, not a reason to refuse the whole bundle. Its
		// step is read by the rule book, in ledger order.
		if p.rec, p.err = ledger.DecodeEntry(entry); p.rec == nil {
			p.rec = &ledger.Record{Seq: br.Index, Entry: entry}
		}
		out[i] = p
	}
	return out, nil
}

// BuildBundle gathers the bundle for asset from the book, with inclusion proofs
// against cp, which must be a checkpoint of b's ledger covering every record.
// signer is the key that signs the pack; the records that introduced it are
// included even if it recorded no step of the asset, so that the pack's
// signature can be bound to the ledger.
func BuildBundle(b *evidence.Book, asset string, cp *ledger.Checkpoint, signer ed25519.PublicKey) (*Bundle, error) {
	c, err := collect(b, asset, signer)
	if err != nil {
		return nil, err
	}
	return c.bundle(b, cp)
}

// collected is what one pass over the ledger finds for an asset, all of it
// from signed records (evidence.ViewAsset), never from the cache.
type collected struct {
	info  *evidence.AssetInfo
	steps []evidence.StepRecord
	ids   []evidence.StepRecord // identity records that go into the pack, ledger order
	rots  []evidence.StepRecord // rotation records that go into the pack, ledger order
	// names and emails are what the introducing records say of each key (raw).
	names, emails map[string]string
	signer        ed25519.PublicKey
	// custodian is set when the signer is no key holder of the ledger: legal
	// staff exporting a designer's ledger, or an archive, with their own
	// identity. They sign the PDF; they are never an author, and the pack's
	// anchor is a checkpoint an author signed.
	custodian     bool
	custodianName string
	// caSigner is the CA-issued certificate that signs the PDF instead of
	// the exporter's own key (export --sign-with), or nil.
	caSigner *x509.Certificate
	// sigTSA is the URL of the service that timestamps the PDF signature, or "".
	sigTSA string

	rules   *evidence.RuleBook
	keyRecs map[int64]evidence.StepRecord // every identity and rotation record, by seq
	need    map[string]bool               // keys the pack must show the introduction of
	// attested are the stored checkpoints, up to the anchor, with a token or a
	// cosignature; bundle fills it. studios says whether a cosignature of them
	// carries a studio log proof (the bundle is then v3).
	attested []BundleCheckpoint
	studios  bool
}

// collect reads the ledger once through a rule book, keeping the asset's records
// and the records that introduce keys. Nothing else is kept: other assets must
// not reach the pack.
func collect(b *evidence.Book, asset string, signer ed25519.PublicKey) (*collected, error) {
	v, err := b.ViewAsset(asset)
	if err != nil {
		return nil, err
	}
	if len(v.Steps) == 0 {
		return nil, fmt.Errorf("asset %s has no records", asset)
	}
	c := &collected{info: v.Info, steps: v.Steps, names: map[string]string{}, emails: map[string]string{}, signer: signer,
		rules: v.Rules, keyRecs: map[int64]evidence.StepRecord{}, need: map[string]bool{}}
	for _, sr := range v.KeyRecords {
		c.keyRecs[sr.Rec.Seq] = sr
	}
	for _, k := range v.Rules.Keys() {
		c.names[string(k.Key)], c.emails[string(k.Key)] = k.Name, k.Email
	}
	for _, sr := range c.steps {
		c.need[string(sr.Rec.Key)] = true
	}
	if v.Rules.Key(signer) == nil {
		c.custodian = true
	} else {
		c.need[string(signer)] = true
	}
	if err := c.resolve(); err != nil {
		return nil, err
	}
	return c, nil
}

// rotatedKey is the key a rotation record introduces, or nil.
func rotatedKey(sr evidence.StepRecord) ed25519.PublicKey {
	k, _, err := sr.Step.IntroducedKey()
	if err != nil {
		return nil
	}
	return k
}

// resolve chooses the identity and rotation records the pack needs so that a
// verifier can follow every needed key back to a self-introduced identity: a key
// introduced by a rotation needs the rotation and, in turn, the key that signed
// it. The rotation that retired a needed key is included too: a pack must not
// hide that a key it relies on was retired.
func (c *collected) resolve() error {
	for changed := true; changed; {
		changed = false
		for k := range c.need {
			ks := c.rules.Key(ed25519.PublicKey(k))
			if ks != nil && ks.IntroducedBy != nil && !c.need[string(ks.IntroducedBy)] {
				c.need[string(ks.IntroducedBy)] = true
				changed = true
			}
		}
	}
	seqs := map[int64]bool{}
	for k := range c.need {
		ks := c.rules.Key(ed25519.PublicKey(k))
		if ks == nil {
			return fmt.Errorf("the ledger has no identity or key rotation record for key %s, which signed records of %s or a checkpoint; run cairn verify", ledger.KeyID(ed25519.PublicKey(k)), c.info.ID)
		}
		seqs[ks.Introduced] = true
		if ks.Retired >= 0 {
			seqs[ks.Retired] = true
		}
	}
	order := make([]int64, 0, len(seqs))
	for seq := range seqs {
		order = append(order, seq)
	}
	sort.Slice(order, func(i, j int) bool { return order[i] < order[j] })
	c.ids, c.rots = nil, nil
	for _, seq := range order {
		sr, ok := c.keyRecs[seq]
		if !ok {
			return fmt.Errorf("record %d, which introduces or retires a key of the pack, is missing; run cairn verify", seq)
		}
		if sr.Step.Kind == evidence.KindRotate {
			c.rots = append(c.rots, sr)
		} else {
			c.ids = append(c.ids, sr)
		}
	}
	return nil
}

// gatherAttested collects the stored checkpoints up to cp, each with a consistency
// proof to cp and its timestamp token and witness cosignatures if any, and makes
// the keys that signed them needed.
func (c *collected) gatherAttested(b *evidence.Book, cp *ledger.Checkpoint) error {
	toks, err := b.Ledger.Timestamps()
	if err != nil {
		return err
	}
	cos, err := b.Ledger.Cosignatures()
	if err != nil {
		return err
	}
	proofs, err := b.Ledger.StudioProofs()
	if err != nil {
		return err
	}
	studioOf := map[string]*BundleStudio{}
	for _, sp := range proofs {
		bs := &BundleStudio{Proof: string(sp.Proof)}
		if sp.Token != nil {
			bs.Timestamp = base64.StdEncoding.EncodeToString(sp.Token)
		}
		studioOf[fmt.Sprint(sp.Size, " ", sp.Witness)] = bs
	}
	bySize := map[int64]*BundleCheckpoint{}
	get := func(size int64) (*BundleCheckpoint, error) {
		if bc, ok := bySize[size]; ok {
			return bc, nil
		}
		note, err := b.Ledger.CheckpointAt(size)
		if err != nil {
			return nil, err
		}
		if size == cp.Size && !bytes.Equal(note, cp.Note) {
			// The anchor replaced the stored note: attestations of the old bytes
			// would no longer match. Anchor prevents this; say so if it happens.
			return nil, fmt.Errorf("the stored checkpoint of %d records is not the pack's anchor", size)
		}
		bc := &BundleCheckpoint{Note: string(note), Consistency: []string{}}
		if size < cp.Size {
			p, err := b.Ledger.ConsistencyProof(size, cp.Size)
			if err != nil {
				return nil, err
			}
			for _, h := range p {
				bc.Consistency = append(bc.Consistency, base64.StdEncoding.EncodeToString(h[:]))
			}
		}
		bySize[size] = bc
		return bc, nil
	}
	for size, resp := range toks {
		if size < 1 || size > cp.Size {
			continue
		}
		bc, err := get(size)
		if err != nil {
			return err
		}
		bc.Timestamp = base64.StdEncoding.EncodeToString(resp)
	}
	for _, cs := range cos { // by size, then witness name: a stable order
		if cs.Size < 1 || cs.Size > cp.Size {
			continue
		}
		bc, err := get(cs.Size)
		if err != nil {
			return err
		}
		bc.Cosignatures = append(bc.Cosignatures, BundleCosignature{Witness: cs.Witness, Note: string(cs.Note), Studio: studioOf[fmt.Sprint(cs.Size, " ", cs.Witness)]})

	}
	// Every other checkpoint the ledger recorded comes too: one handed to someone
	// earlier (cairn checkpoint --out) can then be held against the pack, which
	// proves that the anchor extends it.
	notes, err := b.Ledger.Checkpoints()
	if err != nil {
		return err
	}
	for _, n := range notes {
		old, err := ledger.ParseCheckpoint(n)
		if err != nil {
			return err
		}
		if old.Size < 1 || old.Size >= cp.Size {
			continue
		}
		if _, err := get(old.Size); err != nil {
			return err
		}
	}
	sizes := make([]int64, 0, len(bySize))
	for s := range bySize {
		sizes = append(sizes, s)
	}
	sort.Slice(sizes, func(i, j int) bool { return sizes[i] < sizes[j] })
	c.attested = c.attested[:0]
	c.studios = false
	for _, bc := range bySize {
		for _, cs := range bc.Cosignatures {
			c.studios = c.studios || cs.Studio != nil
		}
	}
	for _, s := range sizes {
		bc := bySize[s]
		c.attested = append(c.attested, *bc)
		// The pack must carry the introduction of a key that signed the note, so
		// that the verifier can check the signature. Prefer the pack's own keys.
		var signer ed25519.PublicKey
		for _, k := range c.rules.CheckpointSigners(s) {
			if _, err := ledger.OpenCheckpoint([]byte(bc.Note), k); err == nil {
				signer = k
				if c.need[string(k)] {
					break
				}
			}
		}
		if signer == nil {
			return fmt.Errorf("the stored checkpoint of %d records is signed by no key this ledger introduced; run cairn verify", s)
		}
		c.need[string(signer)] = true
	}
	return c.resolve()
}

func (c *collected) bundle(b *evidence.Book, cp *ledger.Checkpoint) (*Bundle, error) {
	if cp.Origin != b.Ledger.Origin() {
		return nil, fmt.Errorf("checkpoint is for %s, not this ledger (%s)", cp.Origin, b.Ledger.Origin())
	}
	if err := c.gatherAttested(b, cp); err != nil {
		return nil, err
	}
	format := BundleFormatV2
	if c.studios {
		format = BundleFormat
	}
	bd := &Bundle{
		Format:      format,
		Origin:      cp.Origin,
		Asset:       c.info.ID,
		Checkpoint:  string(cp.Note),
		Keys:        []BundleKey{},
		Identities:  []BundleRecord{},
		Records:     []BundleRecord{},
		Checkpoints: c.attested,
	}
	prove := func(sr evidence.StepRecord) (BundleRecord, error) {
		if sr.Rec.Seq >= cp.Size {
			return BundleRecord{}, fmt.Errorf("record %d is not covered by the checkpoint of %d records", sr.Rec.Seq, cp.Size)
		}
		p, err := b.Ledger.InclusionProof(sr.Rec.Seq, cp.Size)
		if err != nil {
			return BundleRecord{}, err
		}
		br := BundleRecord{Index: sr.Rec.Seq, Entry: base64.StdEncoding.EncodeToString(sr.Rec.Entry), Proof: make([]string, len(p))}
		for i, h := range p {
			br.Proof[i] = base64.StdEncoding.EncodeToString(h[:])
		}
		return br, nil
	}
	// Keys are listed in the order they were introduced, by identity or rotation.
	intro := mergeSteps(c.ids, c.rots)
	seenKey := map[string]bool{}
	for _, sr := range intro {
		if sr.Rec.Seq >= cp.Size {
			// A custodian's anchor may end before a later rotation: what
			// happened to a key after the anchor is not what it proves.
			continue
		}
		br, err := prove(sr)
		if err != nil {
			return nil, err
		}
		k := sr.Rec.Key
		if sr.Step.Kind == evidence.KindRotate {
			bd.Rotations = append(bd.Rotations, br)
			k = rotatedKey(sr)
		} else {
			bd.Identities = append(bd.Identities, br)
		}
		if seenKey[string(k)] {
			continue
		}
		seenKey[string(k)] = true
		der, _ := base64.StdEncoding.DecodeString(sr.Step.Cert)
		sum := sha256.Sum256(der)
		bd.Keys = append(bd.Keys, BundleKey{
			Ed25519:    base64.StdEncoding.EncodeToString(k),
			KeyID:      ledger.KeyID(k),
			VKey:       ledger.VerifierKey(cp.Origin, k),
			CertSHA256: hex.EncodeToString(sum[:]),
		})
	}
	for _, sr := range c.steps {
		br, err := prove(sr)
		if err != nil {
			return nil, err
		}
		bd.Records = append(bd.Records, br)
	}
	roots, err := configuredRoots(b)
	if err != nil {
		return nil, err
	}
	for _, r := range roots {
		bd.TSARoots = append(bd.TSARoots, base64.StdEncoding.EncodeToString(r.Raw))
	}
	return bd, nil
}

// configuredRoots returns the TSA roots the book's config names, or none.
func configuredRoots(b *evidence.Book) ([]*x509.Certificate, error) {
	cfg, err := evidence.ReadConfig(b.Dir)
	if err != nil {
		return nil, err
	}
	if cfg.TSA == nil || cfg.TSA.Roots == "" {
		return nil, nil
	}
	p := cfg.TSA.Roots
	if !filepath.IsAbs(p) {
		p = filepath.Join(b.Dir, p)
	}
	_, certs, err := evidence.LoadRoots(p)
	if err != nil {
		return nil, fmt.Errorf("the configured TSA roots: %w", err)
	}
	return certs, nil
}

// mergeSteps returns the records of both lists ordered by sequence number.
func mergeSteps(a, b []evidence.StepRecord) []evidence.StepRecord {
	out := make([]evidence.StepRecord, 0, len(a)+len(b))
	out = append(append(out, a...), b...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Rec.Seq < out[j].Rec.Seq })
	return out
}

// identityCert returns the certificate of an identity step, or nil.
func identityCert(s *evidence.Step) *x509.Certificate {
	der, err := strict.Base64(s.Cert)
	if err != nil {
		return nil
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil
	}
	return cert
}

// stepFiles returns every file the steps refer to, by SHA-256, with the first
// reference seen (for its name and type), sorted by hash so that the order of
// attachments does not depend on map iteration.
func stepFiles(steps []*evidence.Step) []evidence.FileRef {
	m := map[string]evidence.FileRef{}
	for _, s := range steps {
		for _, f := range s.Files() {
			if _, ok := m[f.SHA256]; !ok {
				m[f.SHA256] = f
			}
		}
	}
	out := make([]evidence.FileRef, 0, len(m))
	for _, f := range m {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SHA256 < out[j].SHA256 })
	return out
}
