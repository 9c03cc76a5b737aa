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
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/export/pdfsign"
	"github.com/cairn-ledger/cairn/ledger"
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
	Files      int                   `json:"files"` // embedded stored files, each verified
	Bundle     *Bundle               `json:"-"`
	Steps      []evidence.StepRecord `json:"-"` // the asset's records, decoded, once verified
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

// VerifyPack checks an evidence pack offline, without the ledger: the PDF
// signature and that it covers the whole file; the signer's certificate's
// binding to an Ed25519 key whose identity record is in the pack; every
// record's signature, step, chain link and inclusion proof; the checkpoint's
// signature; and every embedded file against its hash and the steps that name
// it. It returns the report and, if any check failed, an error wrapping
// ErrVerify that names the failures.
func VerifyPack(pdf []byte) (*Report, error) {
	rep := &Report{}
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		return rep, fmt.Errorf("%w: the file does not start with %%PDF-", ErrNotPDF)
	}
	verifyPack(rep, pdf)
	if rep.OK() {
		return rep, nil
	}
	var failed []string
	for _, c := range rep.Checks {
		if !c.OK {
			failed = append(failed, c.Name+": "+c.Detail)
		}
	}
	return rep, fmt.Errorf("%w: %s", ErrVerify, strings.Join(failed, "; "))
}

func verifyPack(rep *Report, pdf []byte) {
	// 1. The PDF signature. Without it nothing else in the file can be trusted,
	// but the checks below still run so that the report says what else is wrong.
	sig, err := pdfsign.Verify(pdf)
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
	bd, ids, recs, err := parseBundle(data)
	if err != nil {
		rep.fail("evidence bundle", "%v", err)
		return
	}
	rep.Bundle, rep.Asset, rep.Origin = bd, bd.Asset, bd.Origin
	rep.Records, rep.Identities = len(recs), len(ids)
	rep.pass("evidence bundle", "%s: %d records of asset %s, %d identity records", BundleFormat, len(recs), bd.Asset, len(ids))

	// 3. Identity records: each introduces its own key and carries a certificate.
	keys := map[string]*x509.Certificate{}  // Ed25519 key -> a certificate it introduced
	certs := map[string]ed25519.PublicKey{} // certificate DER -> the key that introduced it
	var pubs []ed25519.PublicKey
	idOK := true
	for _, p := range ids {
		if msg := checkIdentity(p, bd.Origin); msg != "" {
			rep.fail("identity records", "record %d: %s", p.index, msg)
			idOK = false
			continue
		}
		k := string(p.rec.Key)
		cert := identityCert(p.step)
		if _, ok := keys[k]; !ok {
			keys[k] = cert
			pubs = append(pubs, p.rec.Key)
		}
		certs[string(cert.Raw)] = p.rec.Key
	}
	if idOK {
		rep.pass("identity records", "%d, each signed by the key it introduces, with a P-256 certificate bound to that key", len(ids))
	}
	keysOK := len(bd.Keys) == len(keys)
	for _, bk := range bd.Keys {
		pub, _ := base64.StdEncoding.DecodeString(bk.Ed25519)
		cert, ok := keys[string(pub)]
		if !ok || bk.KeyID != ledger.KeyID(pub) || bk.VKey != ledger.VerifierKey(bd.Origin, pub) {
			keysOK = false
			continue
		}
		sum := sha256.Sum256(cert.Raw)
		keysOK = keysOK && bk.CertSHA256 == hex.EncodeToString(sum[:])
	}
	if keysOK {
		rep.pass("key list", "%d keys, matching the identity records", len(bd.Keys))
	} else {
		rep.fail("key list", "the bundle's \"keys\" do not match its identity records")
	}

	// 4. The checkpoint, signed by one of those keys.
	cp, err := ledger.OpenCheckpoint([]byte(bd.Checkpoint), pubs...)
	switch {
	case err != nil:
		rep.fail("checkpoint", "%v", err)
	case cp.Origin != bd.Origin:
		rep.fail("checkpoint", "checkpoint is for %s, the bundle says %s", cp.Origin, bd.Origin)
		cp = nil
	default:
		rep.Checkpoint = cp
		rep.pass("checkpoint", "%s, %d records, root %s, signed by an author's key", cp.Origin, cp.Size, base64.StdEncoding.EncodeToString(cp.Root[:]))
	}

	// 5. The PDF signer is an author: its certificate is the one an identity
	// record introduced, and it names that record's key.
	if sig.SignerCert == nil {
		rep.fail("signer binding", "the signature names no signer certificate")
	} else if pub, ok := certs[string(sig.SignerCert.Raw)]; !ok {
		rep.fail("signer binding", "the PDF was signed with certificate %q, which no identity record in the pack carries", sig.SignerCert.Subject.CommonName)
	} else if err := evidence.CheckBinding(sig.SignerCert, pub); err != nil {
		rep.fail("signer binding", "%v", err)
	} else {
		rep.SignerKey = pub
		rep.pass("signer binding", "signed by %q with the P-256 key certified for Ed25519 key %s (identity record in the pack)", sig.SignerCert.Subject.CommonName, ledger.KeyID(pub))
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
			msg = fmt.Sprintf("signed by key %s, which has no identity record in the pack", ledger.KeyID(p.rec.Key))
		case p.step.Kind == evidence.KindIdentity:
			msg = "an identity record among the asset's records"
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
	// the ledger (identity records included).
	all := mergeByIndex(ids, recs)
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
	refs := map[string]evidence.FileRef{}
	for _, sr := range steps {
		for _, f := range sr.Step.Files() {
			refs[f.SHA256] = f
		}
	}
	filesOK := true
	for _, a := range files {
		sum := sha256.Sum256(a.Data)
		got := hex.EncodeToString(sum[:])
		ref, ok := refs[got]
		switch {
		case !strings.HasPrefix(a.Name, got):
			rep.fail("files", "attachment %q: its content hashes to %s, not to the hash in its name", a.Name, got[:12])
			filesOK = false
		case !ok:
			rep.fail("files", "attachment %q is not named by any step of the asset", a.Name)
			filesOK = false
		case int64(len(a.Data)) != ref.Size:
			rep.fail("files", "attachment %q has %d bytes, the steps recorded %d", a.Name, len(a.Data), ref.Size)
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
