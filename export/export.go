// Package export makes the signed PDF evidence pack of one asset and verifies
// a pack offline.
//
// A pack is a PDF for people (the story of the asset: who did what, when, with
// which tools, what the human contributed, what is AI material) with the
// evidence for machines embedded in it: evidence.json, the bundle of the
// asset's ledger records with inclusion proofs against a signed checkpoint
// (FORMAT.md §7.3), and optionally the stored files. The whole file is signed with
// the exporter's P-256 key, whose certificate is bound to their Ed25519 ledger
// key. Only the asset's own records go in; other assets appear only as hashes
// inside the proofs.
package export

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/export/pdfsign"
	"github.com/cairn-ledger/cairn/internal/msg"
	"github.com/cairn-ledger/cairn/ledger"
	"github.com/cairn-ledger/cairn/ledger/rfc3161"
)

// Options controls Export.
type Options struct {
	// WithFiles embeds every stored file the asset's steps refer to, named by
	// its SHA-256 and an extension for its type.
	WithFiles bool
	// Now is the clock that dates the pack (its signing time, its creation
	// date, its cover); nil: time.Now. Tests fix it to compare two exports.
	Now func() time.Time
	// DoneReading, if set, is called once the ledger has been read, before
	// the pages are drawn and signed, so that the caller can release the
	// ledger's lock: an export must not keep the designer waiting.
	DoneReading func()
	// TSA, if set, timestamps the PDF signature (FORMAT.md §7.1). If no
	// token can be had, Export fails (a *TSAError) and writes nothing.
	TSA *TSAOptions
	// SignWith, if set, signs the PDF with a certificate a CA issued instead
	// of the exporter's own P-256 key. The exporter's identity may then be
	// nil: the signer is a custodian known by the certificate alone.
	SignWith *CertSigner
	// Lang is the language of the pack's words (msg.Catalogues); nil: English.
	Lang *msg.Catalogue
	// Zone is the time zone the pack shows times in, beside UTC; nil: UTC
	// alone.
	Zone *time.Location
	// Fonts are TrueType files for what the Go fonts cannot draw (CJK and
	// other scripts), in order of preference; with SystemFonts, fontconfig's
	// fonts follow them.
	Fonts       []string
	SystemFonts bool
}

// A Pack is a signed evidence pack and what was learnt making it.
type Pack struct {
	PDF []byte
	// Timestamp is the signature timestamp (Options.TSA), or nil. Checked
	// reports that its TSA chains to TSAOptions.Roots.
	Timestamp *rfc3161.Token
	Checked   bool
}

func (o Options) lang() *msg.Catalogue {
	if o.Lang == nil {
		return msg.English
	}
	return o.Lang
}

// Export returns the signed evidence pack of asset, signed by id. It anchors the
// pack to a checkpoint of the whole ledger (see Anchor), which it may store.
//
// The pack is dated when it is made: the PDF's signing time, its creation date
// and its cover say so (the exporter's clock); each record keeps its own time.
// Given the same clock reading, exporting the same state twice gives the same
// bytes except for the signature value inside /Contents (ECDSA is randomised).
func Export(b *evidence.Book, id *evidence.Identity, asset string, opts Options) ([]byte, error) {
	p, err := ExportPack(b, id, asset, opts)
	if err != nil {
		return nil, err
	}
	return p.PDF, nil
}

// ExportPack is Export, with what it learnt: the signature timestamp.
func ExportPack(b *evidence.Book, id *evidence.Identity, asset string, opts Options) (*Pack, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	t := now().UTC().Truncate(time.Second)
	signer, err := pdfSigner(id, opts.SignWith, t)
	if err != nil {
		return nil, err
	}
	var key ed25519.PublicKey // nil: a custodian known by a CA-issued certificate alone
	if id != nil {
		key = id.Public()
	}
	c, err := collect(b, asset, key)
	if err != nil {
		return nil, err
	}
	if opts.SignWith != nil {
		c.caSigner = opts.SignWith.Chain[0]
	}
	if opts.TSA != nil {
		c.sigTSA = opts.TSA.URL // a pack is written only with the token
	}
	var cp *ledger.Checkpoint
	if c.custodian {
		// A custodian writes nothing to the ledger: the pack is anchored to a
		// checkpoint an author signed and the ledger stored.
		if id != nil {
			c.custodianName = id.Name
		}
		if c.caSigner != nil {
			c.custodianName = c.caSigner.Subject.CommonName
		}
		cp, err = storedAnchor(b, c)
	} else {
		cp, err = anchor(b, id.Key, c.rules)
	}
	if err != nil {
		return nil, err
	}
	bd, err := c.bundle(b, cp)
	if err != nil {
		return nil, err
	}

	// The pack states what the attestations prove, so it checks them as
	// verify-pack would, with the exporter's trust: their own settings, and the
	// ledger's (reported as not independent). A pack that would not verify is
	// not written.
	self, err := selfCheck(b, bd, signer.Chain)
	if err != nil {
		return nil, err
	}
	if opts.DoneReading != nil {
		opts.DoneReading()
	}
	body, err := render(b, c, bd, cp, self, t, opts)
	if err != nil {
		return nil, err
	}
	files := []pdfsign.Attachment{{
		Name:        BundleName,
		Description: opts.lang().Pack.BundleDesc.F(bd.Format, asset),
		MIMEType:    "application/json",
		Data:        bd.Encode(),
		ModTime:     t,
	}}
	if opts.WithFiles {
		steps := make([]*evidence.Step, len(c.steps))
		for i, sr := range c.steps {
			steps[i] = sr.Step
		}
		for _, ref := range stepFiles(steps) {
			data, err := readStored(b.Files, ref)
			if err != nil {
				return nil, err
			}
			files = append(files, pdfsign.Attachment{
				Name:        AttachmentName(ref),
				Description: opts.lang().Pack.StoredFileDesc.F(ref.SHA256),
				MIMEType:    mimeOrDefault(ref.Type),
				Data:        data,
				ModTime:     t,
			})
		}
	}
	signer.Name, _ = safeText(faceRegular, signer.Name, false)
	signer.Reason = opts.lang().Pack.Reason.F(asset)
	var stamp *stamper
	if opts.TSA != nil {
		stamp = opts.TSA.stamper()
		signer.Timestamp = stamp.stamp
	}
	pdf, err := pdfsign.Sign(body, files, signer)
	if stamp != nil {
		stamp.cancel()
	}
	if err != nil {
		if stamp != nil && stamp.err != nil {
			return nil, &TSAError{URL: opts.TSA.URL, Err: stamp.err}
		}
		return nil, err
	}
	p := &Pack{PDF: pdf}
	if stamp != nil {
		// The signature covers the records: a token earlier than the newest
		// of them says the pack existed before what it holds, which is false.
		if err := checkSignatureTime(stamp.last.Latest(), c.latest()); err != nil {
			return nil, &TSAError{URL: opts.TSA.URL, Err: fmt.Errorf("%v (is this computer's clock ahead of the TSA's?)", err)}
		}
		p.Timestamp, p.Checked = stamp.last, opts.TSA.Roots != nil
	}
	return p, nil
}

// Anchor returns the checkpoint a pack is anchored to: the checkpoint stored for
// the current size if it is signed by key, else a new one signed with key and
// stored. Re-using it keeps repeated exports identical.
//
// A stored checkpoint for the current size that a TSA or a witness attested is
// kept even if another author signed it: storing a new note for that size would
// replace the exact bytes the attestation is over.
func Anchor(b *evidence.Book, key ed25519.PrivateKey) (*ledger.Checkpoint, error) {
	return anchor(b, key, nil)
}

// anchor is Anchor with the ledger's rule book, if the caller has one; it is
// needed only when a stored, attested checkpoint signed by someone else must be
// checked, and read then if rules is nil.
func anchor(b *evidence.Book, key ed25519.PrivateKey, rules *evidence.RuleBook) (*ledger.Checkpoint, error) {
	pub := key.Public().(ed25519.PublicKey)
	size := b.Ledger.Size()
	if note, err := b.Ledger.CheckpointAt(size); err == nil {
		root, err := b.Ledger.TreeHash(size)
		if err != nil {
			return nil, err
		}
		ok := func(cp *ledger.Checkpoint, err error) bool {
			return err == nil && cp.Size == size && cp.Origin == b.Ledger.Origin() && cp.Root == root
		}
		if cp, err := ledger.OpenCheckpoint(note, pub); ok(cp, err) {
			return cp, nil
		}
		attested, err := isAttested(b, size)
		if err != nil {
			return nil, err
		}
		if attested {
			if rules == nil {
				if rules, err = b.Rules(); err != nil {
					return nil, err
				}
			}
			if cp, err := ledger.OpenCheckpoint(note, rules.CheckpointSigners(size)...); ok(cp, err) {
				return cp, nil
			}
		}
	}
	return b.Ledger.SignCheckpoint(key)
}

// storedAnchor is a custodian's anchor: the largest stored checkpoint that an
// author's key may sign and that covers every record of the asset.
func storedAnchor(b *evidence.Book, c *collected) (*ledger.Checkpoint, error) {
	notes, err := b.Ledger.Checkpoints()
	if err != nil {
		return nil, err
	}
	last := c.steps[len(c.steps)-1].Rec.Seq
	var best *ledger.Checkpoint
	for _, n := range notes {
		p, err := ledger.ParseCheckpoint(n)
		if err != nil || p.Size <= last || best != nil && p.Size <= best.Size {
			continue
		}
		if cp, err := ledger.OpenCheckpointAmong(n, c.rules.CheckpointSigners(p.Size), c.rules.AllKeys()); err == nil && cp.Origin == b.Ledger.Origin() {
			best = cp
		}
	}
	if best == nil {
		return nil, &evidence.InputError{Msg: fmt.Sprintf("you are not an author of this ledger, so the pack must be anchored to a checkpoint an author signed, and none stored covers record %d, the asset's last; ask the designer for one (cairn checkpoint), or for an archive (cairn archive)", last)}
	}
	return best, nil
}

// isAttested reports whether a timestamp token or a cosignature is stored for
// the checkpoint of size.
func isAttested(b *evidence.Book, size int64) (bool, error) {
	toks, err := b.Ledger.Timestamps()
	if err != nil {
		return false, err
	}
	if _, ok := toks[size]; ok {
		return true, nil
	}
	cos, err := b.Ledger.Cosignatures()
	if err != nil {
		return false, err
	}
	for _, c := range cos {
		if c.Size == size {
			return true, nil
		}
	}
	return false, nil
}

// selfCheck verifies the bundle as verify-pack will, with the book's configured
// TSA roots and witness keys, and returns the report. chain is the PDF
// signer's certificate and its issuers.
func selfCheck(b *evidence.Book, bd *Bundle, chain []*x509.Certificate) (*Report, error) {
	trust, err := evidence.LoadTrust(evidence.TrustFlags{}, b.Dir)
	if err != nil {
		return nil, fmt.Errorf("the exporter's trust settings: %w", err)
	}
	rep := &Report{pdfCerts: chain}
	verifyBundle(rep, bd.Encode(), chain[0], nil, VerifyOptions{Trust: trust})
	if err := rep.err(); err != nil {
		return nil, fmt.Errorf("the pack would not verify (run cairn verify): %w", err)
	}
	return rep, nil
}

// AttachmentName is the name under which a stored file is embedded:
// its SHA-256 in hex and an extension for its type.
func AttachmentName(ref evidence.FileRef) string {
	return ref.SHA256 + extensionFor(ref.Type)
}

func extensionFor(mime string) string {
	switch mime {
	case "image/png":
		return ".png"
	case "image/jpeg":
		return ".jpg"
	case "image/gif":
		return ".gif"
	case "image/webp":
		return ".webp"
	case "image/avif":
		return ".avif"
	case "image/bmp":
		return ".bmp"
	case "application/pdf":
		return ".pdf"
	case "text/plain":
		return ".txt"
	case "text/html":
		return ".html"
	case "application/json":
		return ".json"
	case "application/zip":
		return ".zip"
	}
	return ".bin"
}

func mimeOrDefault(t string) string {
	if t == "" || !strings.Contains(t, "/") {
		return "application/octet-stream"
	}
	return t
}

// readStored reads a stored file and checks it against its reference: a pack
// must not carry a file that the ledger does not commit to.
func readStored(store *evidence.FileStore, ref evidence.FileRef) ([]byte, error) {
	f, err := store.Open(ref.SHA256)
	if err != nil {
		return nil, &ledger.VerifyError{Seq: -1, Problem: fmt.Sprintf("file %s (%s) is missing from the store; run cairn verify", ref.Short(), ref.Name)}
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != ref.SHA256 {
		return nil, &ledger.VerifyError{Seq: -1, Problem: fmt.Sprintf("stored file %s (%s) was changed since it was recorded; run cairn verify", ref.Short(), ref.Name)}
	}
	return data, nil
}
