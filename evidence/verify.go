package evidence

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"sort"

	"github.com/cairn-ledger/cairn/ledger"
)

// VerifyOptions controls Book.Verify.
type VerifyOptions struct {
	Since    []byte           // an earlier checkpoint note the ledger must extend
	Progress func(done int64) // records read so far
	FileDone func(done, total int)
}

// VerifyReport describes a book that verified.
type VerifyReport struct {
	Ledger *ledger.VerifyReport
	Assets int
	Files  int   // distinct stored files re-hashed
	Bytes  int64 // their total size
	Steps  map[string]int
}

// Verify checks the ledger (every record, the tree, the checkpoints and opts.Since),
// then the domain rules on every record: it is a step this version reads, its key
// was introduced by an identity record, its asset exists. Then it re-hashes every
// stored file a step names. The first problem is returned as a *ledger.VerifyError.
func (b *Book) Verify(opts VerifyOptions) (*VerifyReport, error) {
	rep := &VerifyReport{Steps: map[string]int{}}
	keys := map[string]bool{}
	assets := map[string]bool{}
	files := map[string]fileUse{}
	check := func(r *ledger.Record) error {
		s, err := DecodeStep(r.Payload)
		if err != nil {
			return err
		}
		if s.Kind == KindIdentity {
			k, err := base64.StdEncoding.DecodeString(s.Key)
			if err != nil || len(k) != ed25519.PublicKeySize {
				return fmt.Errorf("identity record has an invalid key")
			}
			// An identity is introduced by its own key: the record proves possession.
			if !bytes.Equal(k, r.Key) {
				return fmt.Errorf("identity record for %q is signed by another key (%s)", s.Name, ledger.KeyID(r.Key))
			}
			der, err := base64.StdEncoding.DecodeString(s.Cert)
			if err != nil {
				return fmt.Errorf("identity record has an invalid certificate")
			}
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				return fmt.Errorf("identity record has an invalid certificate: %v", err)
			}
			if err := CheckBinding(cert, k); err != nil {
				return err
			}
			keys[string(k)] = true
		} else if !keys[string(r.Key)] {
			return fmt.Errorf("signed by key %s, which no identity record introduced", ledger.KeyID(r.Key))
		}
		switch s.Kind {
		case KindIdentity:
		case KindAsset:
			if assets[s.Asset] {
				return fmt.Errorf("asset %q is created a second time", s.Asset)
			}
			assets[s.Asset] = true
		default:
			if !assets[s.Asset] {
				return fmt.Errorf("step for asset %q, which no earlier record created", s.Asset)
			}
		}
		for _, f := range s.Files() {
			if _, ok := files[f.SHA256]; !ok {
				files[f.SHA256] = fileUse{f, r.Seq}
			}
		}
		rep.Steps[s.Kind]++
		return nil
	}
	lr, err := b.Ledger.Verify(ledger.VerifyOptions{Since: opts.Since, Progress: opts.Progress, CheckRecord: check})
	if err != nil {
		return nil, err
	}
	rep.Ledger = lr
	rep.Assets = len(assets)
	uses := make([]fileUse, 0, len(files))
	for _, u := range files {
		uses = append(uses, u)
	}
	sort.Slice(uses, func(i, j int) bool { return uses[i].seq < uses[j].seq })
	for i, u := range uses {
		if err := b.Files.Check(u.ref); err != nil {
			return nil, &ledger.VerifyError{Seq: u.seq, Problem: err.Error()}
		}
		rep.Files++
		rep.Bytes += u.ref.Size
		if opts.FileDone != nil {
			opts.FileDone(i+1, len(uses))
		}
	}
	return rep, nil
}

type fileUse struct {
	ref FileRef
	seq int64
}
