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
	"sort"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/ledger"
)

// BundleFormat is the value of the bundle's "format" field (BUNDLE.md).
const BundleFormat = "cairn.evidence-bundle/v1"

// BundleName is the name of the embedded file that holds the bundle.
const BundleName = "evidence.json"

// A Bundle is the machine-readable content of an evidence pack: one asset's
// records as their exact bytes, the identity records of their authors and of the
// pack's signer, each with an inclusion proof, and the checkpoint the proofs lead
// to. Everything in it is checked against the checkpoint; nothing is trusted
// because it is in the bundle. BUNDLE.md specifies it.
type Bundle struct {
	Format     string      `json:"format"`
	Origin     string      `json:"origin"`
	Asset      string      `json:"asset"`
	Checkpoint string      `json:"checkpoint"` // the signed note, verbatim
	Keys       []BundleKey `json:"keys"`
	// Identities are the identity records of every key in Keys, in ledger order.
	Identities []BundleRecord `json:"identities"`
	// Records are the asset's records, in ledger order.
	Records []BundleRecord `json:"records"`
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

// Limits that keep ParseBundle's work proportional to a sane pack.
const (
	maxBundleSize    = 512 << 20
	maxBundleRecords = 1 << 20
	maxProofLen      = 64
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

// ParseBundle decodes a bundle and checks its form: every field present and
// well-formed, every entry base64 that decodes as a ledger entry, every proof
// hash 32 bytes. It checks no signature or proof; Verify does.
func ParseBundle(data []byte) (*Bundle, error) {
	bd, _, _, err := parseBundle(data)
	return bd, err
}

func parseBundle(data []byte) (bd *Bundle, ids, recs []*parsedRecord, err error) {
	if len(data) > maxBundleSize {
		return nil, nil, nil, fmt.Errorf("bundle: %d bytes is larger than the limit of %d", len(data), maxBundleSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	bd = new(Bundle)
	if err := dec.Decode(bd); err != nil {
		return nil, nil, nil, fmt.Errorf("bundle: not valid JSON of the expected shape: %v", err)
	}
	if dec.More() {
		return nil, nil, nil, errors.New("bundle: data after the JSON object")
	}
	if bd.Format != BundleFormat {
		return nil, nil, nil, fmt.Errorf("bundle: format %q, this cairn reads %q", bd.Format, BundleFormat)
	}
	if !ledger.ValidOrigin(bd.Origin) {
		return nil, nil, nil, fmt.Errorf("bundle: invalid origin %q", bd.Origin)
	}
	if !evidence.ValidAssetID(bd.Asset) {
		return nil, nil, nil, fmt.Errorf("bundle: invalid asset ID %q", bd.Asset)
	}
	if _, err := ledger.ParseCheckpoint([]byte(bd.Checkpoint)); err != nil {
		return nil, nil, nil, fmt.Errorf("bundle: %v", err)
	}
	if len(bd.Records)+len(bd.Identities) > maxBundleRecords {
		return nil, nil, nil, fmt.Errorf("bundle: %d records, more than the limit of %d", len(bd.Records)+len(bd.Identities), maxBundleRecords)
	}
	if len(bd.Identities) == 0 {
		return nil, nil, nil, errors.New("bundle: no identity records")
	}
	if len(bd.Keys) == 0 {
		return nil, nil, nil, errors.New("bundle: no keys")
	}
	for i, k := range bd.Keys {
		if b, err := base64.StdEncoding.Strict().DecodeString(k.Ed25519); err != nil || len(b) != ed25519.PublicKeySize {
			return nil, nil, nil, fmt.Errorf("bundle: keys[%d]: ed25519 is not a base64 Ed25519 public key", i)
		}
	}
	ids, err = parseRecords("identities", bd.Identities)
	if err != nil {
		return nil, nil, nil, err
	}
	recs, err = parseRecords("records", bd.Records)
	if err != nil {
		return nil, nil, nil, err
	}
	return bd, ids, recs, nil
}

func parseRecords(field string, in []BundleRecord) ([]*parsedRecord, error) {
	out := make([]*parsedRecord, len(in))
	last := int64(-1)
	for i, br := range in {
		if br.Index <= last {
			return nil, fmt.Errorf("bundle: %s[%d]: index %d is not after the previous record's %d; records must be in ledger order", field, i, br.Index, last)
		}
		last = br.Index
		entry, err := base64.StdEncoding.Strict().DecodeString(br.Entry)
		if err != nil {
			return nil, fmt.Errorf("bundle: %s[%d] (index %d): entry is not base64: %v", field, i, br.Index, err)
		}
		if len(br.Proof) > maxProofLen {
			return nil, fmt.Errorf("bundle: %s[%d] (index %d): proof has %d hashes, at most %d are possible", field, i, br.Index, len(br.Proof), maxProofLen)
		}
		p := &parsedRecord{index: br.Index, proof: make(tlog.RecordProof, len(br.Proof))}
		for j, h := range br.Proof {
			b, err := base64.StdEncoding.Strict().DecodeString(h)
			if err != nil || len(b) != tlog.HashSize {
				return nil, fmt.Errorf("bundle: %s[%d] (index %d): proof hash %d is not a base64 SHA-256 hash", field, i, br.Index, j)
			}
			copy(p.proof[j][:], b)
		}
		// A record that does not decode is a verification failure, named by
		// Verify with its index, not a reason to refuse the whole bundle.
		if p.rec, p.err = ledger.DecodeEntry(entry); p.err == nil {
			p.step, p.err = evidence.DecodeStep(p.rec.Payload)
		}
		if p.rec == nil {
			p.rec = &ledger.Record{Seq: br.Index, Entry: entry}
		}
		out[i] = p
	}
	return out, nil
}

// BuildBundle gathers the bundle for asset from the book, with inclusion proofs
// against cp, which must be a checkpoint of b's ledger covering every record.
// signer is the key that signs the pack; its identity record is included even
// if it recorded no step of the asset, so that the pack's signature can be
// bound to the ledger.
func BuildBundle(b *evidence.Book, asset string, cp *ledger.Checkpoint, signer ed25519.PublicKey) (*Bundle, error) {
	c, err := collect(b, asset, signer)
	if err != nil {
		return nil, err
	}
	return c.bundle(b, cp)
}

// collected is what one pass over the ledger finds for an asset.
type collected struct {
	info   *evidence.AssetInfo
	steps  []evidence.StepRecord
	ids    []evidence.StepRecord // identity records of the authors and the signer, ledger order
	names  map[string]string     // Ed25519 key (raw) -> the name its identity gave
	signer ed25519.PublicKey
}

// collect reads the ledger once, keeping the asset's records and the identity
// records of their authors and of signer. Nothing else is kept: other assets
// must not reach the pack.
func collect(b *evidence.Book, asset string, signer ed25519.PublicKey) (*collected, error) {
	info, err := b.Asset(asset)
	if err != nil {
		return nil, err
	}
	c := &collected{info: info, names: map[string]string{}, signer: signer}
	var allIDs []evidence.StepRecord
	authors := map[string]bool{string(signer): true}
	err = b.Scan(0, func(sr evidence.StepRecord) error {
		switch {
		case sr.Step.Kind == evidence.KindIdentity:
			allIDs = append(allIDs, sr)
		case sr.Step.Asset == asset:
			c.steps = append(c.steps, sr)
			authors[string(sr.Rec.Key)] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	found := map[string]bool{}
	for _, sr := range allIDs {
		k, err := base64.StdEncoding.DecodeString(sr.Step.Key)
		// Only self-introduced identities bind a key (FORMAT.md §5.3).
		if err != nil || !bytes.Equal(k, sr.Rec.Key) || !authors[string(k)] {
			continue
		}
		c.ids = append(c.ids, sr)
		c.names[string(k)] = sr.Step.Name
		found[string(k)] = true
	}
	if !found[string(signer)] {
		return nil, &evidence.InputError{Msg: fmt.Sprintf("your key %s has no identity record in this ledger, so a pack signed with it could not be tied to the ledger; record any step with this identity first (cairn note), or export with the identity of an author", ledger.KeyID(signer))}
	}
	for k := range authors {
		if !found[k] {
			return nil, fmt.Errorf("the ledger has no identity record for key %s, which signed records of %s; run cairn verify", ledger.KeyID(ed25519.PublicKey(k)), asset)
		}
	}
	return c, nil
}

func (c *collected) bundle(b *evidence.Book, cp *ledger.Checkpoint) (*Bundle, error) {
	if cp.Origin != b.Ledger.Origin() {
		return nil, fmt.Errorf("checkpoint is for %s, not this ledger (%s)", cp.Origin, b.Ledger.Origin())
	}
	bd := &Bundle{
		Format:     BundleFormat,
		Origin:     cp.Origin,
		Asset:      c.info.ID,
		Checkpoint: string(cp.Note),
		Keys:       []BundleKey{},
		Identities: []BundleRecord{},
		Records:    []BundleRecord{},
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
	seenKey := map[string]bool{}
	for _, sr := range c.ids {
		br, err := prove(sr)
		if err != nil {
			return nil, err
		}
		bd.Identities = append(bd.Identities, br)
		if seenKey[string(sr.Rec.Key)] {
			continue
		}
		seenKey[string(sr.Rec.Key)] = true
		der, _ := base64.StdEncoding.DecodeString(sr.Step.Cert)
		sum := sha256.Sum256(der)
		bd.Keys = append(bd.Keys, BundleKey{
			Ed25519:    base64.StdEncoding.EncodeToString(sr.Rec.Key),
			KeyID:      ledger.KeyID(sr.Rec.Key),
			VKey:       ledger.VerifierKey(cp.Origin, sr.Rec.Key),
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
	return bd, nil
}

// identityCert returns the certificate of an identity step, or nil.
func identityCert(s *evidence.Step) *x509.Certificate {
	der, err := base64.StdEncoding.Strict().DecodeString(s.Cert)
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
