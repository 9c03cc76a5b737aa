// Package export makes the signed PDF evidence pack of one asset and verifies
// a pack offline.
//
// A pack is a PDF for people (the story of the asset: who did what, when, with
// which tools, what the human contributed, what is AI material) with the
// evidence for machines embedded in it: evidence.json, the bundle of the
// asset's ledger records with inclusion proofs against a signed checkpoint
// (BUNDLE.md), and optionally the stored files. The whole file is signed with
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
	"github.com/cairn-ledger/cairn/ledger"
)

// Options controls Export.
type Options struct {
	// WithFiles embeds every stored file the asset's steps refer to, named by
	// its SHA-256 and an extension for its type.
	WithFiles bool
}

// Export returns the signed evidence pack of asset, signed by id. It anchors the
// pack to a checkpoint of the whole ledger (see Anchor), which it may store.
//
// The result depends only on the ledger, the stored files and id, except for
// the signature value inside /Contents (ECDSA is randomised): exporting the
// same state twice gives the same bytes elsewhere.
func Export(b *evidence.Book, id *evidence.Identity, asset string, opts Options) ([]byte, error) {
	c, err := collect(b, asset, id.Public())
	if err != nil {
		return nil, err
	}
	cp, err := Anchor(b, id.Key)
	if err != nil {
		return nil, err
	}
	bd, err := c.bundle(b, cp)
	if err != nil {
		return nil, err
	}
	// One time for every date in the file, taken from the ledger so that the
	// output is reproducible: the asset's last record, or the signer's identity
	// record if that is later (a certificate must exist before it signs).
	t := c.steps[len(c.steps)-1].Rec.Time
	for _, sr := range c.ids {
		if sr.Rec.Key.Equal(id.Public()) && sr.Rec.Time.After(t) {
			t = sr.Rec.Time
		}
	}
	t = t.UTC().Truncate(time.Second)

	body, err := render(b, c, bd, cp, t, opts)
	if err != nil {
		return nil, err
	}
	files := []pdfsign.Attachment{{
		Name:        BundleName,
		Description: "cairn evidence bundle (" + BundleFormat + "): the records of asset " + asset + " with inclusion proofs",
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
				Description: "stored file " + ref.SHA256,
				MIMEType:    mimeOrDefault(ref.Type),
				Data:        data,
				ModTime:     t,
			})
		}
	}
	name, _ := safeText(faceRegular, id.Name, false)
	return pdfsign.Sign(body, files, pdfsign.Signer{
		Key:    id.PDFKey,
		Chain:  []*x509.Certificate{id.Cert},
		Name:   name,
		Reason: "cairn evidence pack for asset " + asset,
		Time:   t,
	})
}

// Anchor returns the checkpoint a pack is anchored to: the newest stored
// checkpoint if it covers every record and is signed by key, else a new one
// signed with key and stored. Re-using it keeps repeated exports identical.
func Anchor(b *evidence.Book, key ed25519.PrivateKey) (*ledger.Checkpoint, error) {
	pub := key.Public().(ed25519.PublicKey)
	if note, err := b.Ledger.LatestCheckpoint(); err == nil && note != nil {
		if cp, err := ledger.OpenCheckpoint(note, pub); err == nil && cp.Size == b.Ledger.Size() && cp.Origin == b.Ledger.Origin() {
			if root, err := b.Ledger.TreeHash(cp.Size); err == nil && root == cp.Root {
				return cp, nil
			}
		}
	}
	return b.Ledger.SignCheckpoint(key)
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
		return nil, fmt.Errorf("file %s (%s) is missing from the store; run cairn verify", ref.Short(), ref.Name)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != ref.SHA256 {
		return nil, fmt.Errorf("stored file %s (%s) was changed since it was recorded; run cairn verify", ref.Short(), ref.Name)
	}
	return data, nil
}
