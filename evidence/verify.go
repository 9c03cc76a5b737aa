package evidence

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"sort"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/cairn-ledger/cairn/ledger"
	"github.com/cairn-ledger/cairn/ledger/witness"
)

// VerifyOptions controls Book.Verify.
type VerifyOptions struct {
	Since     []byte           // an earlier checkpoint note the ledger must extend
	Progress  func(done int64) // records read so far
	FileDone  func(done, total int)
	TSARoots  *x509.CertPool // trusted TSA roots; nil: tokens are checked but their TSA is not known to be trusted
	Witnesses []string       // verifier keys of witnesses whose cosignatures to check
}

// VerifyReport describes a book that verified.
type VerifyReport struct {
	Ledger *ledger.VerifyReport
	Assets int
	Files  int   // distinct stored files re-hashed
	Bytes  int64 // their total size
	Steps  map[string]int

	Times        []TrustedTime // from the stored timestamp tokens, by checkpoint size
	Cosignatures []CheckedCosignature
	// Retracted maps each retracted record to the retraction that names it.
	Retracted map[int64]int64
}

// CheckedCosignature is a stored witness cosignature and what verification found.
type CheckedCosignature struct {
	Size    int64
	Witness string
	Time    time.Time // the time the witness states, if checked
	Checked bool      // false: no configured key for this witness
}

// Verify checks the ledger (every record, the tree, the checkpoints and opts.Since),
// then the domain rules on every record: it is a step this version reads, its key
// was introduced by an identity record, its asset exists. Then it re-hashes every
// stored file a step names. The first problem is returned as a *ledger.VerifyError.
func (b *Book) Verify(opts VerifyOptions) (*VerifyReport, error) {
	rep := &VerifyReport{Steps: map[string]int{}}
	keys := map[string]bool{}
	retired := map[string]int64{} // key -> the rotation record that retired it
	assets := map[string]bool{}
	files := map[string]fileUse{}
	retractions := NewRetractions()
	check := func(r *ledger.Record) error {
		s, err := DecodeStep(r.Payload)
		if err != nil {
			return err
		}
		if err := retractions.Check(r, s, b.readRecord); err != nil {
			return err
		}
		if at, ok := retired[string(r.Key)]; ok {
			return fmt.Errorf("signed by key %s, which record %d retired (key rotation)", ledger.KeyID(r.Key), at)
		}
		if s.Kind == KindRotate {
			if !keys[string(r.Key)] {
				return fmt.Errorf("key rotation signed by key %s, which no identity record introduced", ledger.KeyID(r.Key))
			}
			k, cert, err := introducedKey(s)
			if err != nil {
				return err
			}
			if bytes.Equal(k, r.Key) {
				return fmt.Errorf("key rotation to the key that signs it")
			}
			if err := CheckBinding(cert, k); err != nil {
				return err
			}
			keys[string(k)] = true
			retired[string(r.Key)] = r.Seq
		} else if s.Kind == KindIdentity {
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
		case KindIdentity, KindRotate:
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
	rep.Retracted = retractions.retracted
	// A key retired by a rotation at record R may have signed checkpoints of up
	// to R+1 records (the rotation itself being the last), never a later one.
	for _, c := range lr.Checkpoints {
		for k, at := range retired {
			if c.Size > at+1 {
				if _, err := ledger.OpenCheckpoint(c.Note, ed25519.PublicKey(k)); err == nil {
					return nil, &ledger.VerifyError{Seq: -1, Problem: fmt.Sprintf("the stored checkpoint of %d records is signed by key %s, which record %d retired (key rotation)", c.Size, ledger.KeyID(ed25519.PublicKey(k)), at)}
				}
			}
		}
	}
	rep.Assets = len(assets)
	if rep.Times, err = b.verifyTimestamps(opts.TSARoots); err != nil {
		return nil, err
	}
	if rep.Cosignatures, err = b.verifyCosignatures(opts.Witnesses); err != nil {
		return nil, err
	}
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

// introducedKey decodes the key and certificate a rotation step introduces.
func introducedKey(s *Step) (ed25519.PublicKey, *x509.Certificate, error) {
	k, err := base64.StdEncoding.DecodeString(s.Key)
	if err != nil || len(k) != ed25519.PublicKeySize {
		return nil, nil, fmt.Errorf("%s record has an invalid key", s.Kind)
	}
	der, err := base64.StdEncoding.DecodeString(s.Cert)
	if err != nil {
		return nil, nil, fmt.Errorf("%s record has an invalid certificate", s.Kind)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("%s record has an invalid certificate: %v", s.Kind, err)
	}
	return k, cert, nil
}

// verifyCosignatures checks each stored cosigned checkpoint against the configured
// witness keys. A cosignature by a witness whose key is not configured is listed
// as unchecked, never as valid.
func (b *Book) verifyCosignatures(vkeys []string) ([]CheckedCosignature, error) {
	stored, err := b.Ledger.Cosignatures()
	if err != nil {
		return nil, err
	}
	verifiers := map[string]note.Verifier{}
	for _, vk := range vkeys {
		v, err := witness.NewVerifier(vk)
		if err != nil {
			return nil, fmt.Errorf("configured witness key %q: %v", vk, err)
		}
		verifiers[v.Name()] = v
	}
	var out []CheckedCosignature
	for _, c := range stored {
		cc := CheckedCosignature{Size: c.Size, Witness: c.Witness}
		if v, ok := verifiers[c.Witness]; ok {
			t, err := witness.CosignedAt(c.Note, v)
			if err != nil {
				return nil, &ledger.VerifyError{Seq: -1, Problem: fmt.Sprintf("cosignature of witness %s on the checkpoint of %d records: %v", c.Witness, c.Size, err)}
			}
			cc.Time, cc.Checked = t, true
		}
		out = append(out, cc)
	}
	return out, nil
}

type fileUse struct {
	ref FileRef
	seq int64
}
