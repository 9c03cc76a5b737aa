package export

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
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

	// Attested are the bundle's attested checkpoints and what was found about
	// each; Times says, for every record of the pack, the earliest time a
	// timestamp or a checked cosignature fixes for it.
	Attested []AttestedCheckpoint `json:"checkpoints,omitempty"`
	Times    []RecordTime         `json:"times,omitempty"`
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
	// made it: the time is not a trusted time.
	Checked bool `json:"checked"`
	// PackRoot names a root listed in the bundle (tsa_roots) the token chains to,
	// when the verifier gave none. It is the exporter's choice, not a proof.
	PackRoot  string `json:"pack_root,omitempty"`
	Qualified bool   `json:"qualified_claim,omitempty"` // the token's own eIDAS claim
}

// A CosignatureCheck is a witness's cosignature of a checkpoint.
type CosignatureCheck struct {
	Witness string    `json:"witness"`
	Time    time.Time `json:"time,omitzero"` // the time the witness states; only when Checked
	Checked bool      `json:"checked"`       // false: no key for this witness was given
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
}

// VerifyOptions says what, beyond the pack, a verifier trusts.
type VerifyOptions struct {
	// TSARoots are the roots a timestamp's TSA must chain to. Nil: tokens are
	// checked for everything but trust, and reported as not checked.
	TSARoots *x509.CertPool
	// Witnesses are cosignature verifier keys (C2SP tlog-cosignature vkeys).
	// A cosignature by a witness not listed is reported as present, unchecked.
	Witnesses []string
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
	// Only the bundle is needed in memory; stored files are checked by the
	// hash pdfsign takes as it decodes them.
	sig, err := pdfsign.VerifyWith(pdf, pdfsign.VerifyOptions{Keep: func(name string) bool { return name == BundleName }})
	switch {
	case err == nil:
		rep.pass("pdf signature", "valid ECDSA signature (%s) over the whole file (%d bytes)", sig.SubFilter, len(pdf))
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

// keyState is what the pack's identity and rotation records say of one key.
type keyState struct {
	cert       *x509.Certificate // from the first record that introduced it
	introduced int64             // index of that record
	retired    int64             // index of the rotation that retired it; -1 if none
}

// signsCheckpoint reports whether the key may sign a checkpoint of size records:
// introduced inside that tree and not retired inside it. The rotation that
// retires a key may itself be the last record of the tree: the old key still
// vouched for the tree up to it.
func (k *keyState) signsCheckpoint(size int64) bool {
	return k != nil && k.introduced < size && (k.retired < 0 || k.retired >= size)
}

// usableAt reports whether the key may sign at leaf index i: introduced by an
// earlier record and not retired by one.
func (k *keyState) usableAt(i int64) bool {
	return k != nil && k.introduced < i && (k.retired < 0 || k.retired > i)
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
	rep.pass("evidence bundle", "%s: %d records of asset %s, %d identity records, %d key rotations, %d earlier checkpoints", bd.Format, len(recs), bd.Asset, len(ids), len(rots), len(pb.cps))

	// 3. Identity records introduce their own key and carry a certificate;
	// rotation records, signed by a key in use, introduce a new key and retire
	// the signer. They are read in ledger order, as a verifier of the whole
	// ledger would.
	keys := map[string]*keyState{}
	certs := map[string]ed25519.PublicKey{} // certificate DER -> the key it is bound to
	var pubs []ed25519.PublicKey
	introduce := func(k ed25519.PublicKey, cert *x509.Certificate, at int64) {
		if _, ok := keys[string(k)]; !ok {
			keys[string(k)] = &keyState{cert: cert, introduced: at, retired: -1}
			pubs = append(pubs, k)
		}
		certs[string(cert.Raw)] = k
	}
	idOK, rotOK := true, true
	isRot := map[*parsedRecord]bool{}
	for _, p := range rots {
		isRot[p] = true
	}
	for _, p := range mergeByIndex(ids, rots) {
		if isRot[p] {
			msg, k, cert := checkRotation(p, bd.Origin, keys)
			if msg != "" {
				rep.fail("key rotations", "record %d: %s", p.index, msg)
				rotOK = false
				continue
			}
			introduce(k, cert, p.index)
			keys[string(p.rec.Key)].retired = p.index
			continue
		}
		if msg := checkIdentity(p, bd.Origin); msg != "" {
			rep.fail("identity records", "record %d: %s", p.index, msg)
			idOK = false
			continue
		}
		introduce(p.rec.Key, identityCert(p.step), p.index)
	}
	if idOK {
		rep.pass("identity records", "%d, each signed by the key it introduces, with a P-256 certificate bound to that key", len(ids))
	}
	if rotOK {
		if len(rots) == 0 {
			rep.pass("key rotations", "none")
		} else {
			rep.pass("key rotations", "%d, each signed by a key in use, introducing a new key with its certificate and retiring the signer", len(rots))
		}
	}
	keysOK := len(bd.Keys) == len(keys)
	for _, bk := range bd.Keys {
		pub, _ := base64.StdEncoding.DecodeString(bk.Ed25519)
		ks, ok := keys[string(pub)]
		if !ok || bk.KeyID != ledger.KeyID(pub) || bk.VKey != ledger.VerifierKey(bd.Origin, pub) {
			keysOK = false
			continue
		}
		sum := sha256.Sum256(ks.cert.Raw)
		keysOK = keysOK && bk.CertSHA256 == hex.EncodeToString(sum[:])
	}
	if keysOK {
		rep.pass("key list", "%d keys, matching the identity and rotation records", len(bd.Keys))
	} else {
		rep.fail("key list", "the bundle's \"keys\" do not match its identity and rotation records")
	}

	// 4. The checkpoint, signed by a key in use at its size.
	cp, err := openCheckpoint([]byte(bd.Checkpoint), bd.Origin, keys, pubs)
	if err != nil {
		rep.fail("checkpoint", "%v", err)
	} else {
		rep.Checkpoint = cp
		rep.pass("checkpoint", "%s, %d records, root %s, signed by an author's key", cp.Origin, cp.Size, base64.StdEncoding.EncodeToString(cp.Root[:]))
	}

	// 5. The PDF signer is an author: its certificate is the one an identity or
	// rotation record introduced, it names that record's key, and that key was
	// not retired inside the checkpoint.
	if signer == nil {
		rep.fail("signer binding", "the signature names no signer certificate")
	} else if pub, ok := certs[string(signer.Raw)]; !ok {
		rep.fail("signer binding", "the PDF was signed with certificate %q, which no identity or rotation record in the pack carries", signer.Subject.CommonName)
	} else if err := evidence.CheckBinding(signer, pub); err != nil {
		rep.fail("signer binding", "%v", err)
	} else if ks := keys[string(pub)]; ks.retired >= 0 {
		rep.fail("signer binding", "signed with the certificate of key %s, which rotation record %d retired", ledger.KeyID(pub), ks.retired)
	} else {
		rep.SignerKey = pub
		rep.pass("signer binding", "signed by %q with the P-256 key certified for Ed25519 key %s (record %d in the pack)", signer.Subject.CommonName, ledger.KeyID(pub), ks.introduced)
	}

	// 6. The asset's records.
	recOK := true
	var steps []evidence.StepRecord
	for _, p := range recs {
		msg := ""
		switch {
		case p.err != nil:
			msg = p.err.Error()
		case p.rec.Seq != p.index:
			msg = fmt.Sprintf("the entry says it is record %d, its proof is for leaf %d", p.rec.Seq, p.index)
		case !p.rec.CheckSignature(bd.Origin):
			msg = "the Ed25519 signature does not verify (the record was changed)"
		case keys[string(p.rec.Key)] == nil:
			msg = fmt.Sprintf("signed by key %s, which no identity or rotation record in the pack introduces", ledger.KeyID(p.rec.Key))
		case !keys[string(p.rec.Key)].usableAt(p.index):
			ks := keys[string(p.rec.Key)]
			if ks.introduced > p.index {
				msg = fmt.Sprintf("signed by key %s, which record %d introduces only later", ledger.KeyID(p.rec.Key), ks.introduced)
			} else {
				msg = fmt.Sprintf("signed by key %s, which rotation record %d retired", ledger.KeyID(p.rec.Key), ks.retired)
			}
		case p.step.Kind == evidence.KindIdentity || p.step.Kind == evidence.KindRotate:
			msg = "a " + p.step.Kind + " record among the asset's records"
		case p.step.Asset != bd.Asset:
			msg = fmt.Sprintf("the record is for asset %q, not %q", p.step.Asset, bd.Asset)
		}
		if msg != "" {
			rep.fail("records", "record %d: %s", p.index, msg)
			recOK = false
			continue
		}
		steps = append(steps, evidence.StepRecord{Rec: p.rec, Step: p.step})
	}
	if recOK {
		rep.pass("records", "%d, each signed by its author for %s", len(recs), bd.Origin)
	}
	rep.Steps = steps

	// 7. Chain links and time order between records that are neighbours in
	// the ledger (identity and rotation records included).
	all := mergeByIndex(mergeByIndex(ids, rots), recs)
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
		rep.pass("chain", "%d links between consecutive records match", links)
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
			rep.pass("inclusion proofs", "%d records, each proven in the tree of %d records", len(all), cp.Size)
		}
	}

	// 9. Embedded files.
	verifyFiles(rep, steps, files)

	// 10–12. Earlier checkpoints, their timestamps and cosignatures, and the
	// time they fix for each record.
	verifyAttested(rep, pb, cp, keys, pubs, all, opts)
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
		rep.Files = len(files)
		if len(files) == 0 {
			rep.pass("files", "none embedded (%d referenced by hash; export with --with-files to embed them)", len(refs))
		} else {
			rep.pass("files", "%d embedded, each matching its SHA-256 and a step of the asset (%d referenced)", len(files), len(refs))
		}
	}
}

// openCheckpoint checks a checkpoint note of origin: signed by a key that was
// introduced inside the tree it describes and not retired there. A key retired
// by a rotation may have leaked; a checkpoint only it signed proves nothing.
func openCheckpoint(note []byte, origin string, keys map[string]*keyState, pubs []ed25519.PublicKey) (*ledger.Checkpoint, error) {
	cp, err := ledger.OpenCheckpoint(note, pubs...)
	if err != nil {
		return nil, err
	}
	if cp.Origin != origin {
		return nil, fmt.Errorf("checkpoint is for %s, the bundle says %s", cp.Origin, origin)
	}
	for _, k := range pubs {
		if _, err := ledger.OpenCheckpoint(note, k); err == nil && keys[string(k)].signsCheckpoint(cp.Size) {
			return cp, nil
		}
	}
	return nil, fmt.Errorf("checkpoint of %d records is signed only by keys not in use at that size (introduced later or retired by a rotation)", cp.Size)
}

// checkRotation checks a rotation record against the keys introduced before it.
// It returns what is wrong, or the key and certificate the rotation introduces.
func checkRotation(p *parsedRecord, origin string, keys map[string]*keyState) (string, ed25519.PublicKey, *x509.Certificate) {
	switch {
	case p.err != nil:
		return p.err.Error(), nil, nil
	case p.step.Kind != evidence.KindRotate:
		return fmt.Sprintf("a %s record among the rotation records", p.step.Kind), nil, nil
	case p.rec.Seq != p.index:
		return fmt.Sprintf("the entry says it is record %d, its proof is for leaf %d", p.rec.Seq, p.index), nil, nil
	case !p.rec.CheckSignature(origin):
		return "the Ed25519 signature does not verify (the record was changed)", nil, nil
	case !keys[string(p.rec.Key)].usableAt(p.index):
		return fmt.Sprintf("the rotation is signed by key %s, which is not in use at this record (never introduced before it, or already retired)", ledger.KeyID(p.rec.Key)), nil, nil
	}
	k, err := base64.StdEncoding.Strict().DecodeString(p.step.Key)
	if err != nil || len(k) != ed25519.PublicKeySize {
		return "the rotation's new key is not a base64 Ed25519 public key", nil, nil
	}
	if bytes.Equal(k, p.rec.Key) {
		return "the rotation introduces the key that signs it", nil, nil
	}
	cert := identityCert(p.step)
	if cert == nil {
		return "the rotation carries no valid certificate", nil, nil
	}
	if err := evidence.CheckBinding(cert, k); err != nil {
		return err.Error(), nil, nil
	}
	return "", k, cert
}

// verifyAttested checks the bundle's attested checkpoints: each is signed by a
// key in use at its size, and the anchor extends it (RFC 6962 consistency); its
// timestamp token is over its exact note bytes; its cosignatures are of the same
// checkpoint. It then dates every record in all by the earliest of them that
// covers it.
func verifyAttested(rep *Report, pb *parsedBundle, anchor *ledger.Checkpoint, keys map[string]*keyState, pubs []ed25519.PublicKey, all []*parsedRecord, opts VerifyOptions) {
	witnesses := map[string]note.Verifier{}
	var bad []string
	for _, vk := range opts.Witnesses {
		v, err := witness.NewVerifier(vk)
		if err != nil {
			bad = append(bad, err.Error())
			continue
		}
		witnesses[v.Name()] = v
	}
	var packRoots *x509.CertPool
	if len(pb.roots) > 0 {
		packRoots = x509.NewCertPool()
		for _, c := range pb.roots {
			packRoots.AddCert(c)
		}
	}

	consOK, tokOK, cosOK := true, true, len(bad) == 0
	if !cosOK {
		rep.fail("cosignatures", "witness keys given: %s", strings.Join(bad, "; "))
	}
	ntok, ncos, nchecked := 0, 0, 0
	cosigners := map[string]bool{}
	for _, pc := range pb.cps {
		ac := AttestedCheckpoint{Size: pc.cp.Size, Root: base64.StdEncoding.EncodeToString(pc.cp.Root[:])}
		for _, h := range pc.proof {
			ac.Proof = append(ac.Proof, base64.StdEncoding.EncodeToString(h[:]))
		}
		// The signature, then the proof that the anchor extends this tree.
		if _, err := openCheckpoint(pc.note, pb.bd.Origin, keys, pubs); err != nil {
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
			if opts.TSARoots != nil {
				tok, err = rfc3161.Verify(pc.token, pc.note, opts.TSARoots, nil)
			} else {
				tok, err = rfc3161.VerifyUntrusted(pc.token, pc.note)
			}
			if err != nil {
				rep.fail("timestamps", "token on the checkpoint of %d records: %v", pc.cp.Size, err)
				tokOK = false
			} else {
				tc := &TokenCheck{Time: tok.Time.UTC(), TSA: tok.TSA, Checked: opts.TSARoots != nil, Qualified: tok.Qualified}
				if !tc.Checked && packRoots != nil {
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
			cc := CosignatureCheck{Witness: cs.Witness}
			if v, ok := witnesses[cs.Witness]; ok {
				t, err := witness.CosignedAt([]byte(cs.Note), v)
				if err != nil {
					rep.fail("cosignatures", "checkpoint of %d records: %v", pc.cp.Size, err)
					cosOK = false
					continue
				}
				cc.Time, cc.Checked = t.UTC(), true
				nchecked++
			}
			ac.Cosignatures = append(ac.Cosignatures, cc)
		}
		rep.Attested = append(rep.Attested, ac)
	}

	switch {
	case !consOK:
	case len(pb.cps) == 0:
		rep.pass("consistency", "no earlier checkpoint is attested in the pack")
	default:
		rep.pass("consistency", "%d earlier checkpoints, each signed by an author and proven a prefix of the anchor (RFC 6962 consistency)", len(pb.cps))
	}
	switch {
	case !tokOK:
	case ntok == 0:
		rep.pass("timestamps", "none: the records' times are the ledger's own clock")
	case opts.TSARoots != nil:
		rep.pass("timestamps", "%d RFC 3161 tokens, each over its checkpoint's exact bytes, TSA checked against the given roots", ntok)
	default:
		rep.pass("timestamps", "%d RFC 3161 tokens, each over its checkpoint's exact bytes and signed by its TSA's certificate; TSA not checked against trusted roots (give --tsa-roots FILE)", ntok)
	}
	if cosOK {
		var missing []string
		for name := range witnesses {
			if !cosigners[name] {
				missing = append(missing, name)
			}
		}
		sort.Strings(missing)
		detail := fmt.Sprintf("%d, %d checked with the given witness keys", ncos, nchecked)
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

	// Each record is dated by the earliest valid attestation that covers it.
	for _, p := range all {
		if p.err != nil {
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
			}
		}
		rep.Times = append(rep.Times, rt)
	}
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

// checkIdentity returns what is wrong with an identity record, or "".
func checkIdentity(p *parsedRecord, origin string) string {
	switch {
	case p.err != nil:
		return p.err.Error()
	case p.rec.Seq != p.index:
		return fmt.Sprintf("the entry says it is record %d, its proof is for leaf %d", p.rec.Seq, p.index)
	case p.step.Kind != evidence.KindIdentity:
		return fmt.Sprintf("a %s record among the identity records", p.step.Kind)
	case !p.rec.CheckSignature(origin):
		return "the Ed25519 signature does not verify (the record was changed)"
	}
	k, err := base64.StdEncoding.Strict().DecodeString(p.step.Key)
	if err != nil || !bytes.Equal(k, p.rec.Key) {
		return "the identity's key is not the key that signed it"
	}
	cert := identityCert(p.step)
	if cert == nil {
		return "the identity carries no valid certificate"
	}
	if err := evidence.CheckBinding(cert, p.rec.Key); err != nil {
		return err.Error()
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
