package evidence

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"path/filepath"
	"sort"
	"time"

	"github.com/cairn-ledger/cairn/internal/userfile"
	"github.com/cairn-ledger/cairn/ledger"
	"github.com/cairn-ledger/cairn/ledger/rfc3161"
)

// DefaultTimestampEvery is how often cairn timestamps on its own when a TSA is
// configured and the config does not say.
const DefaultTimestampEvery = 15 * time.Minute

// TSARootsFile is where cairn config keeps a ledger's trusted TSA roots.
const TSARootsFile = "tsa-roots.pem"

// MaxRootsFile bounds a PEM file of trusted roots: a few certificates take a
// few kilobytes; the EU trusted lists' TSA roots, a few hundred.
const MaxRootsFile = 4 << 20

// LoadRoots reads PEM certificates. It refuses a file without any.
func LoadRoots(path string) (*x509.CertPool, []*x509.Certificate, error) {
	data, err := userfile.Read(path, "PEM certificate file", MaxRootsFile)
	if err != nil {
		return nil, nil, err
	}
	return parseRoots(path, data)
}

// ReadRoots reads a PEM file of roots and checks it as LoadRoots does,
// returning its bytes (cairn config keeps a copy).
func ReadRoots(path string) ([]byte, error) {
	data, err := userfile.Read(path, "PEM certificate file", MaxRootsFile)
	if err != nil {
		return nil, err
	}
	if _, _, err := parseRoots(path, data); err != nil {
		return nil, err
	}
	return data, nil
}

func parseRoots(path string, data []byte) (*x509.CertPool, []*x509.Certificate, error) {
	pool := x509.NewCertPool()
	var certs []*x509.Certificate
	for len(data) > 0 {
		var blk *pem.Block
		blk, data = pem.Decode(data)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %v", path, err)
		}
		pool.AddCert(c)
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, nil, inputErrorf("%s holds no PEM certificate", path)
	}
	return pool, certs, nil
}

// TSARoots returns the configured TSA roots, or nil if none are configured.
func (b *Book) TSARoots(cfg *Config) (*x509.CertPool, error) {
	if cfg == nil || cfg.TSA == nil || cfg.TSA.Roots == "" {
		return nil, nil
	}
	p := cfg.TSA.Roots
	if !filepath.IsAbs(p) {
		p = filepath.Join(b.Dir, p)
	}
	pool, _, err := LoadRoots(p)
	return pool, err
}

// TimestampCheckpoint asks the TSA at url for a token over the checkpoint stored
// for size, checks it (against roots when given; otherwise everything but trust),
// and stores it.
func (b *Book) TimestampCheckpoint(ctx context.Context, size int64, url string, roots *x509.CertPool) (*rfc3161.Token, error) {
	note, err := b.Ledger.CheckpointAt(size)
	if err != nil {
		return nil, err
	}
	tok, err := rfc3161.Fetch(ctx, url, note, nil, roots)
	if err != nil {
		return nil, err
	}
	last, err := b.Ledger.Get(size - 1)
	if err != nil {
		return nil, err
	}
	// Stored, such a token would make verification fail for good: say what is
	// wrong now instead, while the ledger is still sound.
	if err := ledger.CheckAttestedTime("the TSA's token", tok.Latest(), size, last.Time); err != nil {
		return nil, fmt.Errorf("%w; this computer's clock is ahead of the TSA's: fix the clock (records are dated by it), nothing was stored", err)
	}
	if err := b.Ledger.PutTimestamp(size, tok.Response); err != nil {
		return nil, err
	}
	return tok, nil
}

// PendingTimestamps lists the stored checkpoints that have no timestamp token and
// are newer than the newest one that has, newest first.
func (b *Book) PendingTimestamps() ([]int64, error) {
	notes, err := b.Ledger.Checkpoints()
	if err != nil {
		return nil, err
	}
	toks, err := b.Ledger.Timestamps()
	if err != nil {
		return nil, err
	}
	var newest int64 = -1
	for s := range toks {
		newest = max(newest, s)
	}
	var out []int64
	for _, n := range notes {
		c, err := ledger.ParseCheckpoint(n)
		if err != nil {
			continue
		}
		if _, ok := toks[c.Size]; !ok && c.Size > newest {
			out = append(out, c.Size)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] > out[j] })
	return out, nil
}

// LastTimestamp returns the time of the newest stored token (as its own genTime
// claims; verification checks it) and the size it covers, or zero. It is asked
// after every recorded step when a TSA is configured, so it reads one token only:
// the one over the largest checkpoint, which is also the newest.
func (b *Book) LastTimestamp() (time.Time, int64, error) {
	size, resp, err := b.Ledger.LatestTimestamp()
	if err != nil || resp == nil {
		return time.Time{}, 0, err
	}
	note, err := b.Ledger.CheckpointAt(size)
	if err != nil {
		return time.Time{}, 0, err
	}
	// Trust is not the question here, only when the last one was made.
	t, err := tokenTime(resp, note)
	if err != nil {
		return time.Time{}, 0, err
	}
	return t, size, nil
}

// TrustedTime is a time established by a verified timestamp token: every record
// below Size existed no later than Time.
type TrustedTime struct {
	Size int64
	// Time is the token's genTime plus the accuracy it states: the latest time
	// the token allows, so that the claim is never earlier than the TSA's.
	Time time.Time
	TSA  string
	// Checked is false when the verifier trusts no TSA roots: the token is well
	// formed, signed and over the right checkpoint, but anyone could have made
	// it. When true, Anchor says where the roots came from.
	Checked bool
	Anchor  Anchor
}

// verifyTimestamps checks every stored token over its stored checkpoint note,
// against roots when the verifier trusts some, and refuses a token earlier than
// the records it covers (lastTime: the time of the last record below each size).
func (b *Book) verifyTimestamps(roots *Roots, lastTime map[int64]time.Time, probs *ledger.Problems) ([]TrustedTime, error) {
	toks, err := b.Ledger.Timestamps()
	if err != nil {
		return nil, err
	}
	var out []TrustedTime
	for size, resp := range toks {
		note, err := b.Ledger.CheckpointAt(size)
		if err != nil {
			if probs.Add(&ledger.VerifyError{Seq: -1, Problem: fmt.Sprintf("a timestamp token is stored for size %d, but no checkpoint is", size)}) {
				return nil, nil
			}
			continue
		}
		var tok *rfc3161.Token
		if roots != nil {
			tok, err = rfc3161.Verify(resp, note, roots.Pool, nil)
		} else {
			tok, err = rfc3161.VerifyUntrusted(resp, note)
		}
		if err == nil {
			err = ledger.CheckAttestedTime("the timestamp", tok.Latest(), size, lastTime[size])
		}
		if err != nil {
			if probs.Add(&ledger.VerifyError{Seq: -1, Problem: fmt.Sprintf("timestamp token for the checkpoint of %d records: %v", size, err)}) {
				return nil, nil
			}
			continue
		}
		tt := TrustedTime{Size: size, Time: tok.Latest(), TSA: tok.TSA, Checked: roots != nil}
		if roots != nil {
			tt.Anchor = roots.Anchor
		}
		out = append(out, tt)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Size < out[j].Size })
	return out, nil
}

func tokenTime(resp, note []byte) (time.Time, error) {
	tok, err := rfc3161.VerifyUntrusted(resp, note)
	if err != nil {
		return time.Time{}, err
	}
	return tok.Time, nil
}
