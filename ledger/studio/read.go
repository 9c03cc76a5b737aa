package studio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/transparency-dev/tessera/api/layout"
	"github.com/transparency-dev/tessera/client"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/cairn-ledger/cairn/ledger"
)

// A Source reads a studio log from its directory or from the URL prefix a web
// server serves it at, with Tessera's tile client.
type Source struct {
	Where string
	// fetchers for the checkpoint, tiles and entry bundles, and for cairn's
	// other files (the timestamps), by path relative to the log's root.
	checkpoint func(context.Context) ([]byte, error)
	tile       client.TileFetcherFunc
	bundle     client.EntryBundleFetcherFunc
	file       func(context.Context, string) ([]byte, error)
}

// maxResource bounds what is read of one file of a log: a full entry bundle of
// 256 entries of at most 64 KiB, with their length prefixes.
const maxResource = 256 * (MaxEntrySize + 2)

// OpenSource returns a reader of the studio log at where: an http:// or
// https:// URL prefix, or a directory. hc is the HTTP client (nil: a default
// with a timeout); every answer is read to at most what a log file can hold.
func OpenSource(where string, hc *http.Client) (*Source, error) {
	s := &Source{Where: where}
	if strings.HasPrefix(where, "http://") || strings.HasPrefix(where, "https://") {
		u, err := url.Parse(where)
		if err != nil {
			return nil, fmt.Errorf("studio log URL %q: %v", where, err)
		}
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
		if hc == nil {
			hc = &http.Client{Timeout: 30 * time.Second}
		}
		bounded := &http.Client{Timeout: hc.Timeout, Jar: hc.Jar, CheckRedirect: hc.CheckRedirect,
			Transport: limitTransport{base: hc.Transport, max: maxResource}}
		f, err := client.NewHTTPFetcher(u, bounded)
		if err != nil {
			return nil, err
		}
		s.checkpoint, s.tile, s.bundle = f.ReadCheckpoint, f.ReadTile, f.ReadEntryBundle
		s.file = func(ctx context.Context, p string) ([]byte, error) {
			ref, err := u.Parse(p)
			if err != nil {
				return nil, err
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, ref.String(), nil)
			if err != nil {
				return nil, err
			}
			resp, err := bounded.Do(req)
			if err != nil {
				return nil, err
			}
			defer resp.Body.Close()
			switch resp.StatusCode {
			case http.StatusOK:
				return io.ReadAll(resp.Body)
			case http.StatusNotFound:
				return nil, fmt.Errorf("%s: %w", ref, fs.ErrNotExist)
			}
			return nil, fmt.Errorf("%s: %s", ref, resp.Status)
		}
		return s, nil
	}
	fi, err := os.Stat(where)
	if err != nil {
		return nil, fmt.Errorf("studio log: %v", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("studio log %s is not a directory (or give an http:// or https:// URL)", where)
	}
	f := client.FileFetcher{Root: where}
	s.checkpoint, s.tile, s.bundle = f.ReadCheckpoint, f.ReadTile, f.ReadEntryBundle
	s.file = func(_ context.Context, p string) ([]byte, error) {
		return readBounded(filepath.Join(where, filepath.FromSlash(p)))
	}
	return s, nil
}

func readBounded(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxResource+1))
	if err == nil && len(data) > maxResource {
		err = fmt.Errorf("%s: larger than any file of a studio log", p)
	}
	return data, err
}

// limitTransport refuses an answer larger than max bytes (a hostile or broken
// server must not fill the reader's memory).
type limitTransport struct {
	base http.RoundTripper
	max  int64
}

func (t limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{rc: resp.Body, left: t.max}
	return resp, nil
}

type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		var one [1]byte
		if n, _ := b.rc.Read(one[:]); n > 0 {
			return 0, errors.New("the answer is larger than any file of a studio log")
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// Checkpoint returns the log's current checkpoint note, parsed. Its signature
// is not checked here.
func (s *Source) Checkpoint(ctx context.Context) (*ledger.Checkpoint, error) {
	data, err := s.checkpoint(ctx)
	if err != nil {
		return nil, fmt.Errorf("studio log %s: reading its checkpoint: %v", s.Where, err)
	}
	c, err := ledger.ParseCheckpoint(data)
	if err != nil {
		return nil, fmt.Errorf("studio log %s: %v", s.Where, err)
	}
	return c, nil
}

// A Timestamped checkpoint is a checkpoint of the log with an RFC 3161 token
// over its exact bytes.
type Timestamped struct {
	Checkpoint *ledger.Checkpoint // with Note, the bytes the token is over
	Token      []byte             // DER TimeStampResp
}

// Timestamped returns the newest timestamped checkpoint, or nil if the log
// keeps none (its witness has no TSA). A log whose witness has a TSA but has
// not timestamped a checkpoint yet gives a Timestamped with no Checkpoint.
func (s *Source) Timestamped(ctx context.Context) (*Timestamped, error) {
	data, err := s.file(ctx, TimestampDir+"/"+latestName)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("studio log %s: %v", s.Where, err)
	}
	name := strings.TrimSuffix(string(data), "\n")
	n, err := strconv.ParseInt(name, 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != name {
		return nil, fmt.Errorf("studio log %s: %s/%s holds %q, not a size", s.Where, TimestampDir, latestName, data)
	}
	if n == 0 {
		return &Timestamped{}, nil
	}
	note, err := s.file(ctx, TimestampDir+"/"+name+".checkpoint")
	if err != nil {
		return nil, fmt.Errorf("studio log %s: %v", s.Where, err)
	}
	tok, err := s.file(ctx, TimestampDir+"/"+name+".tsr")
	if err != nil {
		return nil, fmt.Errorf("studio log %s: %v", s.Where, err)
	}
	c, err := ledger.ParseCheckpoint(note)
	if err != nil {
		return nil, fmt.Errorf("studio log %s: %s/%s.checkpoint: %v", s.Where, TimestampDir, name, err)
	}
	if strconv.FormatInt(c.Size, 10) != name {
		return nil, fmt.Errorf("studio log %s: %s/%s.checkpoint is of size %d", s.Where, TimestampDir, name, c.Size)
	}
	return &Timestamped{Checkpoint: c, Token: tok}, nil
}

// Entries calls fn with each entry of the first size entries, in order.
func (s *Source) Entries(ctx context.Context, size int64, fn func(index int64, entry []byte) error) error {
	for b := int64(0); b*layout.EntryBundleWidth < size; b++ {
		bundle, err := client.GetEntryBundle(ctx, s.bundle, uint64(b), uint64(size))
		if err != nil {
			return fmt.Errorf("studio log %s: %v", s.Where, err)
		}
		want := min(size-b*layout.EntryBundleWidth, layout.EntryBundleWidth)
		if int64(len(bundle.Entries)) < want {
			return fmt.Errorf("studio log %s: entry bundle %d holds %d entries, the checkpoint needs %d", s.Where, b, len(bundle.Entries), want)
		}
		for i, e := range bundle.Entries[:want] {
			if err := fn(b*layout.EntryBundleWidth+int64(i), e); err != nil {
				return err
			}
		}
	}
	return nil
}

// Entry returns entry index of a log of size entries.
func (s *Source) Entry(ctx context.Context, index, size int64) ([]byte, error) {
	if index < 0 || index >= size {
		return nil, fmt.Errorf("studio log %s: no entry %d in a log of %d", s.Where, index, size)
	}
	b := index / layout.EntryBundleWidth
	bundle, err := client.GetEntryBundle(ctx, s.bundle, uint64(b), uint64(size))
	if err != nil {
		return nil, fmt.Errorf("studio log %s: %v", s.Where, err)
	}
	i := index % layout.EntryBundleWidth
	if int64(len(bundle.Entries)) <= i {
		return nil, fmt.Errorf("studio log %s: entry bundle %d has no entry %d", s.Where, b, index)
	}
	return bundle.Entries[i], nil
}

// Prove returns the inclusion proof of entry index in the tree of cp, from the
// log's tiles, checked against cp's root.
func (s *Source) Prove(ctx context.Context, index int64, cp *ledger.Checkpoint, entry []byte) (*Proof, error) {
	pb, err := client.NewProofBuilder(ctx, uint64(cp.Size), s.tile)
	if err != nil {
		return nil, err
	}
	hashes, err := pb.InclusionProof(ctx, uint64(index))
	if err != nil {
		return nil, fmt.Errorf("studio log %s: proving entry %d: %v", s.Where, index, err)
	}
	p := &Proof{Index: index, Checkpoint: cp.Note}
	for _, h := range hashes {
		if len(h) != tlog.HashSize {
			return nil, fmt.Errorf("studio log %s: a tile holds a hash of %d bytes", s.Where, len(h))
		}
		p.Path = append(p.Path, tlog.Hash(h))
	}
	if _, err := p.Check(entry, nil); err != nil {
		return nil, fmt.Errorf("studio log %s: %v", s.Where, err)
	}
	return p, nil
}

// ErrNotYet is wrapped when the studio log has no checkpoint covering an entry
// yet (with a TSA: no timestamped one).
var ErrNotYet = errors.New("the studio log has not published a checkpoint covering the entry yet")

// A Fetched proof is what a designer keeps of their cosigned checkpoint's
// entry in a studio log.
type Fetched struct {
	Entry []byte // the entry, as the log holds it
	Proof *Proof
	Token []byte // RFC 3161 token over Proof.Checkpoint, if the log has one
}

// Fetch returns the entry at index with its inclusion proof in the newest
// timestamped checkpoint of the log, or, when the log keeps no timestamps, in
// its current checkpoint; ErrNotYet if that does not cover the entry yet.
func (s *Source) Fetch(ctx context.Context, index int64) (*Fetched, error) {
	ts, err := s.Timestamped(ctx)
	if err != nil {
		return nil, err
	}
	var cp *ledger.Checkpoint
	var tok []byte
	switch {
	case ts == nil:
		if cp, err = s.Checkpoint(ctx); err != nil {
			return nil, err
		}
	case ts.Checkpoint == nil:
		return nil, fmt.Errorf("%w (entry %d; the log has timestamped no checkpoint yet)", ErrNotYet, index)
	default:
		cp, tok = ts.Checkpoint, ts.Token
	}
	if cp.Size <= index {
		return nil, fmt.Errorf("%w (entry %d; its checkpoint covers %d)", ErrNotYet, index, cp.Size)
	}
	entry, err := s.Entry(ctx, index, cp.Size)
	if err != nil {
		return nil, err
	}
	p, err := s.Prove(ctx, index, cp, entry)
	if err != nil {
		return nil, err
	}
	return &Fetched{Entry: entry, Proof: p, Token: tok}, nil
}
