package export

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/export/pdfsign"
	"github.com/cairn-ledger/cairn/ledger"
	"github.com/cairn-ledger/cairn/ledger/rfc3161"
	"github.com/cairn-ledger/cairn/ledger/witness"
)

// A Check is one named verification and its outcome.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// A Report is what VerifyPack found. Checks lists every check in order, passed
// or failed; the other fields are filled in as far as verification got.
type Report struct {
	Checks     []Check               `json:"checks"`
	Asset      string                `json:"asset,omitempty"`
	Origin     string                `json:"origin,omitempty"`
	Checkpoint *ledger.Checkpoint    `json:"-"`
	Signer     *x509.Certificate     `json:"-"`
	SignerKey  ed25519.PublicKey     `json:"-"`
	SignerName string                `json:"signer,omitempty"`
	Records    int                   `json:"records"`
	Identities int                   `json:"identities"`
	Rotations  int                   `json:"rotations"`
	Files      int                   `json:"files"` // embedded stored files, each verified
	Bundle     *Bundle               `json:"-"`
	Steps      []evidence.StepRecord `json:"-"` // the asset's records, decoded, once verified
	Rules      *evidence.RuleBook    `json:"-"` // what the pack's signed records say of keys
	// Authors are the keys that signed the asset's records; Exporter the key
	// the PDF is signed with. Warnings are not failures: a name given to two
	// people, say.
	Authors  []KeyReport `json:"authors,omitempty"`
	Exporter *KeyReport  `json:"exporter,omitempty"`
	Pinned   bool        `json:"pinned"` // the anchor is signed by a key the verifier pinned
	Warnings []string    `json:"warnings,omitempty"`

	// Attested are the bundle's attested checkpoints and what was found about
	// each; Times says, for every record of the pack, the earliest time a
	// timestamp or a checked cosignature fixes for it.
	Attested []AttestedCheckpoint `json:"checkpoints,omitempty"`
	Times    []RecordTime         `json:"times,omitempty"`

	// Embedded are the embedded stored files, once verified, with their data
	// if VerifyOptions.KeepFiles asked for it (cairn match reads them).
	Embedded []pdfsign.Attachment `json:"-"`

	// SignatureTimestamp is the PDF signature's RFC 3161 timestamp, once
	// verified: the PDF, and every record in it, existed no later than its
	// Time. DSSCerts counts the certificates of the PDF's DSS.
	SignatureTimestamp *TokenCheck `json:"signature_timestamp,omitempty"`
	DSSCerts           int         `json:"dss_certificates,omitempty"`

	// What the PDF signature holds, for the checks of the bundle.
	pdf         bool // false when only a bundle is checked (selfCheck, tests)
	pdfCerts    []*x509.Certificate
	signingTime time.Time
	sigToken    *rfc3161.Token // the verified signature timestamp
	sigTokenErr error
	dss         *pdfsign.DSS
	tokenCerts  []*x509.Certificate
}

// An AttestedCheckpoint is a checkpoint of the bundle with its checked
// attestations.
type AttestedCheckpoint struct {
	Size         int64              `json:"size"`
	Root         string             `json:"root"`  // base64
	Valid        bool               `json:"valid"` // signed by an author and a prefix of the anchor (consistency proof)
	Timestamp    *TokenCheck        `json:"timestamp,omitempty"`
	Cosignatures []CosignatureCheck `json:"cosignatures,omitempty"`
	Proof        []string           `json:"consistency,omitempty"` // base64 hashes, for the PDF
}

// A TokenCheck is a timestamp token that verified over its checkpoint's bytes.
type TokenCheck struct {
	Time time.Time `json:"time"`
	TSA  string    `json:"tsa"`
	// Checked reports that the TSA chains to roots the verifier trusts. When it
	// is false the token is sound and over the right bytes, but anyone could have
	// made it: the time is not a trusted time. Anchor says where the roots came
	// from (and whether that was independent of the pack).
	Checked bool            `json:"checked"`
	Anchor  evidence.Anchor `json:"anchor,omitzero"`
	// PackRoot names a root listed in the bundle (tsa_roots) the token chains to,
	// when the verifier gave none. It is the exporter's choice, not a proof.
	PackRoot  string `json:"pack_root,omitempty"`
	Qualified bool   `json:"qualified_claim,omitempty"` // the token's own eIDAS claim
}

// A CosignatureCheck is a witness's cosignature of a checkpoint.
type CosignatureCheck struct {
	Witness string                `json:"witness"`
	Time    time.Time             `json:"time,omitzero"` // the time the witness states; only when Checked
	Checked bool                  `json:"checked"`       // false: no key for this witness was given
	Anchor  evidence.Anchor       `json:"anchor,omitzero"`
	Studio  *evidence.StudioCheck `json:"studio,omitempty"`
}

// A RecordTime is what fixes the time of one record of the pack independently of
// the ledger's own clock: the earliest token, and the earliest checked witness
// cosignature, on a checkpoint that covers the record (index < size) and that
// the anchor is proven to extend.
type RecordTime struct {
	Index int64     `json:"index"`
	Kind  string    `json:"kind"`
	Clock time.Time `json:"ledger_time"` // the record's own time, from the author's clock

	NoLaterThan time.Time `json:"no_later_than,omitzero"` // the token's genTime
	TSA         string    `json:"tsa,omitempty"`
	TSAChecked  bool      `json:"tsa_checked"`
	Size        int64     `json:"checkpoint_size,omitempty"` // the checkpoint the token is over

	WitnessTime time.Time `json:"witnessed_no_later_than,omitzero"`
	Witness     string    `json:"witness,omitempty"`

	// StudioTime is the earliest time, by a studio log's timestamp, that a
	// studio log the verifier trusts held a cosigned checkpoint covering the
	// record.
	StudioTime       time.Time `json:"studio_no_later_than,omitzero"`
	Studio           string    `json:"studio,omitempty"`
	StudioTSAChecked bool      `json:"studio_tsa_checked,omitempty"`
}

// A KeyReport names a key of the pack, by what its signed records say.
type KeyReport struct {
	Key        string `json:"key"` // ledger.KeyID
	Name       string `json:"name"`
	Email      string `json:"email,omitempty"`
	Introduced int64  `json:"introduced_by_record"` // -1 for a custodian
	// Custodian marks an exporter who holds no key of the ledger.
	Custodian bool `json:"custodian,omitempty"`
	// Certificate describes an exporter known by a CA-issued certificate
	// alone (export --sign-with); Key is then empty.
	Certificate *CertReport `json:"certificate,omitempty"`
}

// A CertReport is a CA-issued certificate that signed the PDF, and what was
// checked of it.
type CertReport struct {
	Subject string `json:"subject"`
	Issuer  string `json:"issuer"`
	SHA256  string `json:"sha256"`
	// ChainChecked reports that the certificate chains, through the
	// certificates of the CMS, to a root the verifier trusts (Root, from
	// Anchor), at At: the signature timestamp's time if a timestamp checked
	// against trusted TSA roots dates the signature, else the verifier's
	// clock. Revocation is not checked.
	ChainChecked bool            `json:"chain_checked"`
	Root         string          `json:"root,omitempty"`
	Anchor       evidence.Anchor `json:"anchor,omitzero"`
	At           time.Time       `json:"checked_at,omitzero"`
}

func keyReport(k *evidence.KeyState) KeyReport {
	return KeyReport{Key: k.ID(), Name: k.Name, Email: k.Email, Introduced: k.Introduced}
}

// VerifyOptions says what, beyond the pack, a verifier trusts.
type VerifyOptions struct {
	// Trust holds the TSA roots timestamps must chain to, the witness keys
	// whose cosignatures count, and pinned ledger keys (evidence.LoadTrust).
	// Nil trusts nothing: tokens are checked for everything but their TSA, and
	// cosignatures are reported as present, unchecked.
	Trust *evidence.Trust
	// Since is a checkpoint note the verifier holds: the pack's anchor must be
	// proven to extend it (the same checkpoint, or an earlier one of the pack
	// with the same size and root, whose consistency proof was checked).
	Since []byte
	// KeepFiles returns the embedded stored files with their data in
	// Report.Embedded (cairn match compares their images). Without it only
	// their sizes and hashes are kept: a small pack can inflate to files far
	// larger than itself.
	KeepFiles bool
}

// OK reports whether every check passed.
func (r *Report) OK() bool {
	for _, c := range r.Checks {
		if !c.OK {
			return false
		}
	}
	return len(r.Checks) > 0
}

func (r *Report) pass(name, format string, args ...any) {
	r.Checks = append(r.Checks, Check{name, true, fmt.Sprintf(format, args...)})
}

func (r *Report) fail(name, format string, args ...any) {
	r.Checks = append(r.Checks, Check{name, false, fmt.Sprintf(format, args...)})
}

// ErrVerify is wrapped by VerifyPack's error when a check failed, as opposed
// to the input not being a PDF at all.
var ErrVerify = errors.New("evidence pack verification failed")

// ErrNotPDF is wrapped when the input is not a PDF file.
var ErrNotPDF = errors.New("not a PDF file")

// VerifyPack checks an evidence pack offline, without the ledger and without
// trusting any TSA or witness: VerifyPackWith with no options.
func VerifyPack(pdf []byte) (*Report, error) {
	return VerifyPackWith(pdf, VerifyOptions{})
}

// VerifyPackWith checks an evidence pack offline, without the ledger: the PDF
// signature and that it covers the whole file; the signer's certificate's
// binding to an Ed25519 key whose introduction is in the pack; key rotations;
// every record's signature, step, chain link and inclusion proof; the
// checkpoint's signature; every embedded file against its hash and the steps
// that name it; and the earlier checkpoints, their consistency with the anchor,
// their timestamp tokens (against opts.TSARoots) and cosignatures (against
// opts.Witnesses). It returns the report and, if any check failed, an error
// wrapping ErrVerify that names the failures.
func VerifyPackWith(pdf []byte, opts VerifyOptions) (*Report, error) {
	rep := &Report{}
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		return rep, fmt.Errorf("%w: the file does not start with %%PDF-", ErrNotPDF)
	}
	verifyPack(rep, pdf, opts)
	return rep, rep.err()
}

func (r *Report) err() error {
	if r.OK() {
		return nil
	}
	var failed []string
	for _, c := range r.Checks {
		if !c.OK {
			failed = append(failed, c.Name+": "+c.Detail)
		}
	}
	return fmt.Errorf("%w: %s", ErrVerify, strings.Join(failed, "; "))
}

func verifyPack(rep *Report, pdf []byte, opts VerifyOptions) {
	// 1. The PDF signature. Without it nothing else in the file can be trusted,
	// but the checks below still run so that the report says what else is wrong.
	// Only the bundle is needed in memory, unless the caller asks for the
	// files; stored files are checked by the hash pdfsign takes as it decodes
	// them.
	keep := func(name string) bool { return opts.KeepFiles || name == BundleName }
	sig, err := pdfsign.VerifyWith(pdf, pdfsign.VerifyOptions{Keep: keep})
	switch {
	case err == nil:
		rep.pass("pdf signature", "valid %s signature (%s) over the whole file (%d bytes)", keyKind(sig.SignerCert), sig.SubFilter, len(pdf))
	case errors.Is(err, pdfsign.ErrNotWholeFile) && sig != nil:
		rep.fail("pdf signature", "the signature is valid but does not cover the whole file: %d bytes were added after signing", int64(len(pdf))-sig.ByteRange[2]-sig.ByteRange[3])
	default:
		rep.fail("pdf signature", "%v", err)
		return
	}
	rep.Signer = sig.SignerCert
	if sig.SignerCert != nil {
		rep.SignerName = sig.SignerCert.Subject.CommonName
	}
	rep.pdf, rep.pdfCerts, rep.signingTime, rep.dss, rep.tokenCerts = true, sig.Certificates, sig.SigningTime, sig.DSS, sig.TimestampCerts
	if sig.SignatureTimestamp != nil {
		// Verified now, reported with the records it must not predate (16);
		// a trusted time dates the signer's certificate chain (7).
		rep.sigToken, rep.sigTokenErr = verifySignatureToken(sig.SignatureTimestamp, sig.SignatureValue, opts.Trust)
	}

	// 2. The bundle.
	var data []byte
	var files []pdfsign.Attachment
	for _, a := range sig.Attachments {
		if a.Name == BundleName {
			data = a.Data
		} else {
			files = append(files, a)
		}
	}
	if data == nil {
		rep.fail("evidence bundle", "the PDF has no attached %s; it is not a cairn evidence pack", BundleName)
		return
	}
	verifyBundle(rep, data, sig.SignerCert, files, opts)
}

// verifyBundle checks the bundle of a pack whose PDF was signed with signer,
// and the embedded files. It is separate from the PDF so that tests can check
// altered bundles without re-signing them.
func verifyBundle(rep *Report, data []byte, signer *x509.Certificate, files []pdfsign.Attachment, opts VerifyOptions) {
	pb, err := parseBundle(data)
	if err != nil {
		rep.fail("evidence bundle", "%v", err)
		return
	}
	bd, ids, rots, recs := pb.bd, pb.ids, pb.rots, pb.recs
	rep.Bundle, rep.Asset, rep.Origin = bd, bd.Asset, bd.Origin
	rep.Records, rep.Identities, rep.Rotations = len(recs), len(ids), len(rots)
	rep.pass("evidence bundle", "%s: %s of asset %s, %s, %s, %s", bd.Format, plural(len(recs), "record"), bd.Asset, plural(len(ids), "identity record"), plural(len(rots), "key rotation"), plural(len(pb.cps), "earlier checkpoint"))

	// 3–6. Identity records, rotations and the asset's records, in ledger
	// order, through one rule book: the rules cairn verify applies to a whole
	// ledger hold for the pack's records, since every record they depend on is
	// in it.
	// A retraction's target is a record of the same asset: it is in the pack.
	byIndex := map[int64]*parsedRecord{}
	rb := evidence.NewRuleBook(func(seq int64) (*ledger.Record, *evidence.Step, error) {
		if p := byIndex[seq]; p != nil && p.step != nil {
			return p.rec, p.step, nil
		}
		return nil, nil, fmt.Errorf("record %d is not in the pack (or did not verify)", seq)
	})
	rep.Rules = rb
	list := map[*parsedRecord]string{}
	for _, p := range ids {
		list[p] = "identity records"
	}
	for _, p := range rots {
		list[p] = "key rotations"
	}
	for _, p := range recs {
		list[p] = "records"
	}
	all := mergeByIndex(mergeByIndex(ids, rots), recs)
	failed := map[string]bool{}
	var steps []evidence.StepRecord
	for _, p := range all {
		byIndex[p.index] = p
		if msg := p.apply(rb, bd, list[p]); msg != "" {
			rep.fail(list[p], "record %d: %s", p.index, msg)
			failed[list[p]] = true
			continue
		}
		if list[p] == "records" {
			steps = append(steps, evidence.StepRecord{Rec: p.rec, Step: p.step})
		}
	}
	rep.Steps = steps
	if !failed["identity records"] {
		rep.pass("identity records", "%d, each signed by the key it introduces, with a P-256 certificate bound to that key", len(ids))
	}
	switch {
	case failed["key rotations"]:
	case len(rots) == 0:
		rep.pass("key rotations", "none")
	default:
		rep.pass("key rotations", "%d, each signed by a key in use, introducing a new key with its certificate and retiring the signer", len(rots))
	}
	checkKeyList(rep, bd, rb)

	// The checkpoint, signed by a key that may sign a tree of its size.
	cp, err := openCheckpoint([]byte(bd.Checkpoint), bd.Origin, rb)
	if err != nil {
		rep.fail("checkpoint", "%v", err)
	} else {
		rep.Checkpoint = cp
		rep.pass("checkpoint", "%s, %d records, root %s, signed by an author's key", cp.Origin, cp.Size, base64.StdEncoding.EncodeToString(cp.Root[:]))
		checkPinned(rep, rb, cp, opts.Trust)
	}
	checkSigner(rep, rb, signer, opts)
	if !failed["records"] {
		rep.pass("records", "%d, each signed by its author for %s", len(recs), bd.Origin)
	}
	seen := map[string]bool{}
	for _, sr := range steps {
		if k := rb.Key(sr.Rec.Key); k != nil && !seen[string(k.Key)] {
			seen[string(k.Key)] = true
			rep.Authors = append(rep.Authors, keyReport(k))
		}
	}
	if e := rep.Exporter; e != nil && e.Custodian {
		for _, a := range rep.Authors {
			switch {
			case a.Name != e.Name:
			case e.Certificate != nil:
				rep.Warnings = append(rep.Warnings, fmt.Sprintf("the CA-issued certificate that signed the PDF names %q, as author key %s is named; nothing in the pack ties that certificate to that key", e.Name, a.Key))
			default:
				rep.Warnings = append(rep.Warnings, fmt.Sprintf("the custodian who signed the PDF is named %q, as author key %s is, but signed with another key (%s)", e.Name, a.Key, e.Key))
			}
		}
	}
	for _, nc := range rb.NameClashes() {
		var keys []string
		for _, k := range nc.Keys {
			keys = append(keys, k.ID())
		}
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("%d different keys are named %q (%s): they may be different people; tell them apart by key", len(nc.Keys), nc.Name, strings.Join(keys, ", ")))
	}

	// 7. Chain links and time order between records that are neighbours in
	// the ledger (identity and rotation records included).
	links, chainOK := 0, true
	for i := 1; i < len(all); i++ {
		a, b := all[i-1], all[i]
		if a.err != nil || b.err != nil || b.index != a.index+1 {
			continue
		}
		links++
		if b.rec.Prev != tlog.Hash(sha256.Sum256(a.rec.Entry[:len(a.rec.Entry)-ed25519.SignatureSize])) {
			rep.fail("chain", "record %d's link does not match record %d", b.index, a.index)
			chainOK = false
		} else if b.rec.Time.Before(a.rec.Time) {
			rep.fail("chain", "record %d is dated before record %d", b.index, a.index)
			chainOK = false
		}
	}
	if chainOK {
		rep.pass("chain", "%s between consecutive records match", plural(links, "link"))
	}

	// 8. Inclusion proofs.
	if cp == nil {
		rep.fail("inclusion proofs", "not checked: no valid checkpoint")
	} else {
		proofOK := true
		for _, p := range all {
			if p.index >= cp.Size {
				rep.fail("inclusion proofs", "record %d is beyond the checkpoint's %d records", p.index, cp.Size)
				proofOK = false
				continue
			}
			if err := tlog.CheckRecord(p.proof, cp.Size, cp.Root, p.index, tlog.RecordHash(p.rec.Entry)); err != nil {
				rep.fail("inclusion proofs", "record %d is not leaf %d of the checkpoint's tree: %v", p.index, p.index, err)
				proofOK = false
			}
		}
		if proofOK {
			rep.pass("inclusion proofs", "%s, each proven in the tree of %s", plural(len(all), "record"), plural(int(cp.Size), "record"))
		}
	}

	// 9. Embedded files.
	verifyFiles(rep, steps, files)

	// 10–12. Earlier checkpoints, their timestamps and cosignatures, and the
	// time they fix for each record.
	verifyAttested(rep, pb, cp, rb, all, opts)

	// 16–17. The PDF signature's timestamp, and its validation data.
	if rep.pdf {
		var newest time.Time
		for _, p := range all {
			if p.err == nil && p.rec.Time.After(newest) {
				newest = p.rec.Time
			}
		}
		checkSignatureTimestamp(rep, opts.Trust, newest)
		checkValidationData(rep)
	}
}

// checkSignatureTimestamp reports the PDF signature's timestamp, verified as
// FORMAT.md §3.1 says over the signature value, and not earlier than the
// newest record the signature covers.
func checkSignatureTimestamp(rep *Report, trust *evidence.Trust, newest time.Time) {
	tok := rep.sigToken
	switch {
	case tok == nil && rep.sigTokenErr == nil:
		rep.pass("signature time", "no signature timestamp: the PDF's signing time (%s) is the exporter's clock", rep.signingTime.UTC().Format(time.RFC3339))
		return
	case rep.sigTokenErr != nil:
		rep.fail("signature time", "the signature timestamp: %v", rep.sigTokenErr)
		return
	}
	if err := checkSignatureTime(tok.Latest(), newest); err != nil {
		rep.fail("signature time", "%v", err)
		return
	}
	tc := &TokenCheck{Time: tok.Latest(), TSA: tok.TSA, Checked: trust != nil && trust.TSA != nil, Qualified: tok.Qualified}
	how := "TSA NOT checked against trusted roots (give --tsa-roots FILE): not a trusted time"
	if tc.Checked {
		tc.Anchor = trust.TSA.Anchor
		how = "TSA checked against the roots from " + trust.TSA.Describe()
	}
	rep.SignatureTimestamp = tc
	rep.pass("signature time", "RFC 3161 timestamp over the signature: the PDF, and every record in it, existed no later than %s (TSA: %s; %s)", tc.Time.Format(time.RFC3339), tok.TSA, how)
}

// checkValidationData reports the PDF's DSS, which pdfsign checked lists
// exactly the certificates of the signature and its timestamp.
func checkValidationData(rep *Report) {
	if rep.dss == nil {
		rep.pass("validation data", "none: the PDF has no DSS; the certificates are those in the signature")
		return
	}
	rep.DSSCerts = len(rep.dss.Certs)
	what := "the signer's"
	if len(rep.pdfCerts) > 1 {
		what = "the signer's chain"
	}
	if len(rep.tokenCerts) > 0 {
		what += " and the TSA's"
	}
	rep.pass("validation data", "a DSS inside the signed revision with %s: %s, exactly those the signature and its timestamp carry; no revocation data (CRL or OCSP): cairn fetches none", plural(len(rep.dss.Certs), "certificate"), what)
}

// keyKind names the algorithm of a signing certificate's key.
func keyKind(c *x509.Certificate) string {
	switch k := c.PublicKey.(type) {
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA-%d", k.N.BitLen())
	}
	return c.PublicKeyAlgorithm.String()
}

func verifyFiles(rep *Report, steps []evidence.StepRecord, files []pdfsign.Attachment) {
	refs := map[string]evidence.FileRef{}
	for _, sr := range steps {
		for _, f := range sr.Step.Files() {
			refs[f.SHA256] = f
		}
	}
	filesOK := true
	for _, a := range files {
		got := hex.EncodeToString(a.SHA256[:])
		ref, ok := refs[got]
		switch {
		case !strings.HasPrefix(a.Name, got):
			rep.fail("files", "attachment %q: its content hashes to %s, not to the hash in its name", a.Name, got[:12])
			filesOK = false
		case !ok:
			rep.fail("files", "attachment %q is not named by any step of the asset", a.Name)
			filesOK = false
		case a.Size != ref.Size:
			rep.fail("files", "attachment %q has %d bytes, the steps recorded %d", a.Name, a.Size, ref.Size)
			filesOK = false
		}
	}
	if filesOK {
		rep.Files, rep.Embedded = len(files), files
		if len(files) == 0 {
			rep.pass("files", "none embedded (%d referenced by hash; export with --with-files to embed them)", len(refs))
		} else {
			rep.pass("files", "%d embedded, each matching its SHA-256 and a step of the asset (%d referenced)", len(files), len(refs))
		}
	}
}

// verifyAttested checks the bundle's attested checkpoints: each is signed by a
// key that may sign a tree of its size, and the anchor extends it (RFC 6962
// consistency); its timestamp token is over its exact note bytes and not dated
// before the pack's records it covers; its cosignatures are of the same
// checkpoint. It then dates every record in all by the earliest of them that
// covers it.
func verifyAttested(rep *Report, pb *parsedBundle, anchor *ledger.Checkpoint, rb *evidence.RuleBook, all []*parsedRecord, opts VerifyOptions) {
	trust := opts.Trust
	if trust == nil {
		trust = &evidence.Trust{}
	}
	var packRoots *x509.CertPool
	if len(pb.roots) > 0 {
		packRoots = x509.NewCertPool()
		for _, c := range pb.roots {
			packRoots.AddCert(c)
		}
	}
	consOK, tokOK, cosOK, studioOK := true, true, true, true
	ntok, ncos, nchecked, nstudio, nstudioChecked := 0, 0, 0, 0, 0
	cosigners := map[string]bool{}
	for _, pc := range pb.cps {
		ac := AttestedCheckpoint{Size: pc.cp.Size, Root: base64.StdEncoding.EncodeToString(pc.cp.Root[:])}
		for _, h := range pc.proof {
			ac.Proof = append(ac.Proof, base64.StdEncoding.EncodeToString(h[:]))
		}
		// The latest record of the pack the checkpoint covers: no third party
		// can have seen the checkpoint before that record was made.
		var last time.Time
		for _, p := range all {
			if p.err == nil && p.index < pc.cp.Size && p.rec.Time.After(last) {
				last = p.rec.Time
			}
		}
		// The signature, then the proof that the anchor extends this tree.
		if _, err := openCheckpoint(pc.note, pb.bd.Origin, rb); err != nil {
			rep.fail("consistency", "checkpoint of %d records: %v", pc.cp.Size, err)
			consOK = false
		} else if anchor == nil {
			rep.fail("consistency", "checkpoint of %d records: not checked: no valid anchor checkpoint", pc.cp.Size)
			consOK = false
		} else if err := tlog.CheckTree(pc.proof, anchor.Size, anchor.Root, pc.cp.Size, pc.cp.Root); err != nil {
			rep.fail("consistency", "the anchor checkpoint (%d records) is not proven to extend the checkpoint of %d records: %v", anchor.Size, pc.cp.Size, err)
			consOK = false
		} else {
			ac.Valid = true
		}

		if pc.token != nil {
			ntok++
			var tok *rfc3161.Token
			var err error
			if trust.TSA != nil {
				tok, err = rfc3161.Verify(pc.token, pc.note, trust.TSA.Pool, nil)
			} else {
				tok, err = rfc3161.VerifyUntrusted(pc.token, pc.note)
			}
			if err == nil {
				err = ledger.CheckAttestedTime("the timestamp", tok.Latest(), pc.cp.Size, last)
			}
			if err != nil {
				rep.fail("timestamps", "token on the checkpoint of %d records: %v", pc.cp.Size, err)
				tokOK = false
			} else {
				tc := &TokenCheck{Time: tok.Latest(), TSA: tok.TSA, Checked: trust.TSA != nil, Qualified: tok.Qualified}
				if tc.Checked {
					tc.Anchor = trust.TSA.Anchor
				} else if packRoots != nil {
					if _, err := rfc3161.Verify(pc.token, pc.note, packRoots, nil); err == nil {
						tc.PackRoot = packRootName(pc.token, pc.note, pb.roots)
					}
				}
				ac.Timestamp = tc
			}
		}

		body := pc.cp.Body()
		for _, cs := range pc.cosigs {
			ncos++
			cosigners[cs.Witness] = true
			c, err := ledger.ParseCheckpoint([]byte(cs.Note))
			if err != nil || c.Body() != body {
				rep.fail("cosignatures", "%s's cosigned note is not the checkpoint of %d records", cs.Witness, pc.cp.Size)
				cosOK = false
				continue
			}
			if err := witness.HasCosignatureLine([]byte(cs.Note), cs.Witness); err != nil {
				rep.fail("cosignatures", "checkpoint of %d records: %v", pc.cp.Size, err)
				cosOK = false
				continue
			}
			cc := CosignatureCheck{Witness: cs.Witness}
			if ps := pc.studio[cs.Witness]; ps != nil {
				nstudio++
				sc, err := evidence.CheckStudioProof(ps.proof, ps.token, []byte(cs.Note), trust, pc.cp.Size, last)
				if err != nil {
					rep.fail("studio log", "%s's cosignature of the checkpoint of %d records: %v", cs.Witness, pc.cp.Size, err)
					studioOK = false
				} else {
					cc.Studio = sc
					if sc.Checked {
						nstudioChecked++
					}
				}
			}
			if a, ok := trust.Witness(cs.Witness); ok {
				v, _ := witness.NewVerifier(a.VKey) // LoadTrust parsed it
				t, err := witness.CosignedAt([]byte(cs.Note), v)
				if err == nil {
					err = ledger.CheckAttestedTime(cs.Witness+"'s cosignature", t, pc.cp.Size, last)
				}
				if err != nil {
					rep.fail("cosignatures", "checkpoint of %d records: %v", pc.cp.Size, err)
					cosOK = false
					continue
				}
				cc.Time, cc.Checked, cc.Anchor = t.UTC(), true, a
				nchecked++
			}
			ac.Cosignatures = append(ac.Cosignatures, cc)
		}
		rep.Attested = append(rep.Attested, ac)
	}

	switch {
	case !consOK:
	case len(pb.cps) == 0:
		rep.pass("consistency", "no earlier checkpoint is in the pack")
	default:
		rep.pass("consistency", "%s, each signed by an author and proven a prefix of the anchor (RFC 6962 consistency)", plural(len(pb.cps), "earlier checkpoint"))
	}
	switch {
	case !tokOK:
	case ntok == 0:
		rep.pass("timestamps", "none: the records' times are the ledger's own clock")
	case trust.TSA != nil:
		rep.pass("timestamps", "%s, each over its checkpoint's exact bytes, TSA checked against the roots from %s", plural(ntok, "RFC 3161 token"), trust.TSA.Describe())
	default:
		rep.pass("timestamps", "%s, each over its checkpoint's exact bytes and signed by its TSA's certificate; TSA not checked against trusted roots (give --tsa-roots FILE)", plural(ntok, "RFC 3161 token"))
	}
	if cosOK {
		var missing []string
		for _, a := range trust.Witnesses {
			if v, err := witness.NewVerifier(a.VKey); err == nil && !cosigners[v.Name()] {
				missing = append(missing, v.Name())
			}
		}
		sort.Strings(missing)
		detail := fmt.Sprintf("%d, %d checked with the witness keys you trust", ncos, nchecked)
		if ncos == 0 {
			detail = "none"
		}
		if nchecked < ncos {
			detail += fmt.Sprintf("; %d present but unchecked (give --witness VKEY)", ncos-nchecked)
		}
		if len(missing) > 0 {
			detail += "; no cosignature by " + strings.Join(missing, ", ")
		}
		rep.pass("cosignatures", "%s", detail)
	}
	switch {
	case !studioOK:
	case nstudio == 0:
		rep.pass("studio log", "none: no cosignature carries a studio log's inclusion proof")
	default:
		detail := fmt.Sprintf("%d cosigned checkpoints proven in a studio log, %d checked with the studio keys you trust", nstudio, nstudioChecked)
		if nstudioChecked < nstudio {
			detail += fmt.Sprintf("; %d not checked (give --studio VKEY)", nstudio-nstudioChecked)
		}
		rep.pass("studio log", "%s", detail)
	}

	if opts.Since != nil {
		checkSince(rep, opts.Since, anchor, rb)
	}

	// Each record is dated by the earliest valid attestation that covers it.
	for _, p := range all {
		if p.step == nil {
			continue
		}
		rt := RecordTime{Index: p.index, Kind: p.step.Kind, Clock: p.rec.Time.UTC()}
		for _, ac := range rep.Attested {
			if !ac.Valid || ac.Size <= p.index {
				continue
			}
			if t := ac.Timestamp; t != nil && (rt.NoLaterThan.IsZero() || t.Time.Before(rt.NoLaterThan)) {
				rt.NoLaterThan, rt.TSA, rt.TSAChecked, rt.Size = t.Time, t.TSA, t.Checked, ac.Size
			}
			for _, cc := range ac.Cosignatures {
				if cc.Checked && (rt.WitnessTime.IsZero() || cc.Time.Before(rt.WitnessTime)) {
					rt.WitnessTime, rt.Witness = cc.Time, cc.Witness
				}
				if sc := cc.Studio; sc != nil && sc.Checked && !sc.Time.IsZero() && (rt.StudioTime.IsZero() || sc.Time.Before(rt.StudioTime)) {
					rt.StudioTime, rt.Studio, rt.StudioTSAChecked = sc.Time, sc.Log, sc.TSAChecked
				}
			}
		}
		rep.Times = append(rep.Times, rt)
	}
}

// checkSince checks the pack against a checkpoint the verifier holds: it must be
// the ledger's, signed by a key the pack shows may sign it, and the anchor must
// extend it: the same checkpoint, or one of the pack's earlier checkpoints of
// the same size and root, whose consistency proof to the anchor was checked.
func checkSince(rep *Report, note []byte, anchor *ledger.Checkpoint, rb *evidence.RuleBook) {
	since, err := ledger.ParseCheckpoint(note)
	switch {
	case err != nil:
		rep.fail("since", "your checkpoint cannot be read: %v", err)
		return
	case anchor == nil:
		rep.fail("since", "not checked: no valid anchor checkpoint")
		return
	case since.Origin != anchor.Origin:
		rep.fail("since", "your checkpoint is of ledger %s, the pack is of %s", since.Origin, anchor.Origin)
		return
	case since.Size > anchor.Size:
		rep.fail("since", "rollback: your checkpoint covers %d records, the pack's only %d: records were removed, or this pack is older than your checkpoint", since.Size, anchor.Size)
		return
	}
	if _, err := ledger.OpenCheckpointAmong(note, rb.CheckpointSigners(since.Size), rb.AllKeys()); err != nil {
		rep.fail("since", "your checkpoint is not signed by a key of this ledger that may sign it: %v", err)
		return
	}
	if since.Size == anchor.Size {
		if since.Root != anchor.Root {
			rep.fail("since", "fork: your checkpoint and the pack's both cover %d records, with different roots: history was rewritten", since.Size)
			return
		}
		rep.pass("since", "the pack's checkpoint is yours (%d records)", since.Size)
		return
	}
	for _, ac := range rep.Attested {
		if ac.Size == since.Size && ac.Valid {
			if ac.Root != base64.StdEncoding.EncodeToString(since.Root[:]) {
				rep.fail("since", "fork: the pack's checkpoint of %d records has another root than yours: history was rewritten", since.Size)
				return
			}
			rep.pass("since", "the pack's checkpoint (%d records) is proven to extend yours (%d records, RFC 6962 consistency): nothing it covered was changed or removed", anchor.Size, since.Size)
			return
		}
	}
	rep.fail("since", "the pack holds no proof that its checkpoint (%d records) extends yours (%d records); ask for a pack exported after the ledger stored your checkpoint", anchor.Size, since.Size)
}

// apply checks one record of the pack, in ledger order, and feeds it to the
// rule book: its entry decodes, its leaf index is its seq, its signature
// verifies for origin, the rule book accepts it, and its kind fits the list it
// came in. It returns what is wrong, or "".
func (p *parsedRecord) apply(rb *evidence.RuleBook, bd *Bundle, list string) string {
	switch {
	case p.err != nil:
		return p.err.Error()
	case p.rec.Seq != p.index:
		return fmt.Sprintf("the entry says it is record %d, its proof is for leaf %d", p.rec.Seq, p.index)
	case !p.rec.CheckSignature(bd.Origin):
		return "the Ed25519 signature does not verify (the record was changed)"
	}
	s, err := rb.Apply(p.rec)
	if err != nil {
		return err.Error()
	}
	want := map[string]string{"identity records": evidence.KindIdentity, "key rotations": evidence.KindRotate}[list]
	switch {
	case want != "" && s.Kind != want:
		return fmt.Sprintf("a %s record among the %s", s.Kind, list)
	case want == "" && (s.Kind == evidence.KindIdentity || s.Kind == evidence.KindRotate):
		return "a " + s.Kind + " record among the asset's records"
	case want == "" && s.Asset != bd.Asset:
		return fmt.Sprintf("the record is for asset %q, not %q", s.Asset, bd.Asset)
	}
	p.step = s
	return ""
}

// checkKeyList checks the bundle's informative "keys" against the keys the
// identity and rotation records introduce.
func checkKeyList(rep *Report, bd *Bundle, rb *evidence.RuleBook) {
	ok := len(bd.Keys) == len(rb.Keys())
	for i, bk := range bd.Keys {
		if !ok {
			break
		}
		k := rb.Keys()[i]
		sum := sha256.Sum256(k.Cert.Raw)
		ok = bk.Ed25519 == base64.StdEncoding.EncodeToString(k.Key) && bk.KeyID == k.ID() &&
			bk.VKey == ledger.VerifierKey(bd.Origin, k.Key) && bk.CertSHA256 == hex.EncodeToString(sum[:])
	}
	if ok {
		rep.pass("key list", "%s, matching the identity and rotation records", plural(len(bd.Keys), "key"))
	} else {
		rep.fail("key list", "the bundle's \"keys\" do not match its identity and rotation records")
	}
}

// checkSigner checks that the PDF signer is a key holder of the pack: its
// certificate is the one an identity or rotation record introduced, it names
// that record's key, and that key was not retired. Otherwise the signer is a
// custodian: bound to the Ed25519 key its certificate names, or, for a
// certificate that names none, known by that CA-issued certificate alone.
func checkSigner(rep *Report, rb *evidence.RuleBook, signer *x509.Certificate, opts VerifyOptions) {
	if signer == nil {
		rep.fail("signer binding", "the signature names no signer certificate")
		return
	}
	for _, k := range rb.Keys() {
		if !bytes.Equal(k.Cert.Raw, signer.Raw) {
			continue
		}
		switch err := evidence.CheckBinding(signer, k.Key); {
		case err != nil:
			rep.fail("signer binding", "%v", err)
		case k.Retired >= 0:
			rep.fail("signer binding", "signed with the certificate of key %s, which rotation record %d retired", k.ID(), k.Retired)
		default:
			rep.SignerKey = k.Key
			kr := keyReport(k)
			rep.Exporter = &kr
			rep.pass("signer binding", "signed by %q with the P-256 key certified for Ed25519 key %s (record %d in the pack)", signer.Subject.CommonName, k.ID(), k.Introduced)
		}
		return
	}
	// Not a key holder of the ledger: a custodian (legal staff exporting with
	// their own identity). The certificate must still be bound to the Ed25519
	// key it names; the custodian vouches for the PDF, never for the records.
	k, err := evidence.CertKey(signer)
	if errors.Is(err, evidence.ErrNoCairnKey) {
		checkCASigner(rep, signer, opts)
		return
	}
	if err == nil {
		err = evidence.CheckBinding(signer, k)
	}
	if err != nil {
		rep.fail("signer binding", "the PDF was signed with certificate %q, which no identity or rotation record in the pack carries and which is not bound to an Ed25519 key: %v", signer.Subject.CommonName, err)
		return
	}
	rep.SignerKey = k
	rep.Exporter = &KeyReport{Key: ledger.KeyID(k), Name: signer.Subject.CommonName, Introduced: -1, Custodian: true}
	rep.pass("signer binding", "signed by custodian %q (key %s), who holds no key of this ledger: they vouch for the PDF; the records and the checkpoint are the authors'. The name is the custodian's own claim: compare key %s with the one they gave you (cairn id prints it)", signer.Subject.CommonName, ledger.KeyID(k), ledger.KeyID(k))
}

// checkCASigner reports a PDF signed with a certificate that names no cairn
// key (export --sign-with): a custodian known by the certificate alone. With
// CA roots from the verifier, the certificate must chain to one of them,
// through the certificates of the CMS, at the signature timestamp's time if a
// timestamp checked against trusted TSA roots dates the signature (the point
// of one: the certificate was valid when it signed), else now; and it must
// be allowed to sign. Revocation is not checked: it needs CRLs or OCSP, which
// an offline verifier does not have.
func checkCASigner(rep *Report, signer *x509.Certificate, opts VerifyOptions) {
	sum := sha256.Sum256(signer.Raw)
	cr := &CertReport{Subject: signer.Subject.String(), Issuer: signer.Issuer.String(), SHA256: hex.EncodeToString(sum[:])}
	rep.Exporter = &KeyReport{Name: signer.Subject.CommonName, Introduced: -1, Custodian: true, Certificate: cr}
	who := fmt.Sprintf("CA-issued certificate %q (issuer %q), naming no key of this ledger: its holder is the exporter, not shown to be an author", cr.Subject, cr.Issuer)
	if signer.KeyUsage != 0 && signer.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		rep.fail("signer binding", "the PDF's certificate %q may not sign documents (its key usage has neither digitalSignature nor nonRepudiation)", cr.Subject)
		return
	}
	// The CA roots are the verifier's (Trust.CA); roots inside the pack never
	// count. Without them the certificate is reported, its chain not checked.
	var roots *evidence.Roots
	if opts.Trust != nil {
		roots = opts.Trust.CA
	}
	if roots == nil {
		rep.pass("signer binding", "%s; chain NOT checked against CA roots you trust (give --ca-roots FILE, or set them: cairn config --user ca.roots FILE)", who)
		return
	}
	at, when := time.Now().UTC().Truncate(time.Second), "now: no trusted signature timestamp dates the signature"
	if t := rep.sigToken; t != nil && rep.sigTokenErr == nil && opts.Trust != nil && opts.Trust.TSA != nil {
		at, when = t.Time.UTC(), "at "+t.Time.UTC().Format(time.RFC3339)+", the signature timestamp's time"
	}
	inter := x509.NewCertPool()
	for _, c := range rep.pdfCerts {
		if !c.Equal(signer) {
			inter.AddCert(c)
		}
	}
	chains, err := signer.Verify(x509.VerifyOptions{Roots: roots.Pool, Intermediates: inter, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		rep.fail("signer binding", "the PDF's certificate %q does not chain to the CA roots from %s, checked %s: %v", cr.Subject, roots.Describe(), when, err)
		rep.Exporter.Certificate = cr
		return
	}
	root := chains[0][len(chains[0])-1]
	cr.ChainChecked, cr.Root, cr.Anchor, cr.At = true, root.Subject.String(), roots.Anchor, at
	rep.pass("signer binding", "%s; chains to %q (CA roots from %s) %s; revocation not checked", who, cr.Root, roots.Describe(), when)
}

// checkPinned checks, when the verifier pinned keys for the pack's ledger, that
// the anchor is signed by one of them or by a key rotated from one.
func checkPinned(rep *Report, rb *evidence.RuleBook, cp *ledger.Checkpoint, trust *evidence.Trust) {
	if trust == nil {
		return
	}
	pinned, err := trust.PinnedKeys(cp.Origin)
	if err != nil {
		rep.fail("pinned key", "%v", err)
		return
	}
	if len(pinned) == 0 {
		return
	}
	for _, k := range rb.CheckpointSigners(cp.Size) {
		if _, err := ledger.OpenCheckpoint(cp.Note, k); err == nil && rb.DescendsFrom(k, pinned) {
			rep.Pinned = true
			rep.pass("pinned key", "the checkpoint is signed by key %s, which you pinned or which was rotated from a key you pinned", ledger.KeyID(k))
			return
		}
	}
	rep.fail("pinned key", "the checkpoint is not signed by a key you pinned for %s, nor by one rotated from it: this is not the ledger you expect", cp.Origin)
}

// openCheckpoint checks a checkpoint note of origin: signed by a key that was
// introduced inside the tree it describes and not retired there (a key retired
// earlier may have leaked; a checkpoint only it signed proves nothing).
func openCheckpoint(note []byte, origin string, rb *evidence.RuleBook) (*ledger.Checkpoint, error) {
	c, err := ledger.ParseCheckpoint(note)
	if err != nil {
		return nil, err
	}
	if c.Origin != origin {
		return nil, fmt.Errorf("checkpoint is for %s, the bundle says %s", c.Origin, origin)
	}
	cp, err := ledger.OpenCheckpointAmong(note, rb.CheckpointSigners(c.Size), rb.AllKeys())
	if err != nil {
		return nil, fmt.Errorf("%v (only keys introduced inside its tree and not retired there may sign it)", err)
	}
	return cp, nil
}

// packRootName names the root of roots that the token's TSA chains to.
func packRootName(token, data []byte, roots []*x509.Certificate) string {
	for _, r := range roots {
		pool := x509.NewCertPool()
		pool.AddCert(r)
		if _, err := rfc3161.Verify(token, data, pool, nil); err == nil {
			sum := sha256.Sum256(r.Raw)
			return fmt.Sprintf("%s (SHA-256 %x)", r.Subject, sum[:8])
		}
	}
	return ""
}

// mergeByIndex returns the records of both lists ordered by leaf index.
func mergeByIndex(a, b []*parsedRecord) []*parsedRecord {
	out := make([]*parsedRecord, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		if j == len(b) || i < len(a) && a[i].index < b[j].index {
			out = append(out, a[i])
			i++
		} else {
			out = append(out, b[j])
			j++
		}
	}
	return out
}

// plural is a count and its noun, singular or plural ("1 record", "2 records").
func plural(n int, noun string) string { return evidence.Plural(n, noun, noun+"s") }
