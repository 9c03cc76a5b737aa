// Package studio is a studio's shared record: a transparency log, run by
// Trillian Tessera on its POSIX driver, to which a studio's witness appends
// every checkpoint it cosigns (FORMAT.md §3.3).
//
// The log holds no content: each entry is one cosigned checkpoint note (a
// ledger's origin, size and root, the ledger's signature and the witness's
// cosignature), and, as evidence, checkpoints the witness refused. The log's
// own checkpoints are signed with the studio key, dated by an RFC 3161
// time-stamping service, and may be cosigned by outside witnesses. Its files are
// plain C2SP tlog-tiles, which any static web server can serve.
//
// A designer keeps the log's inclusion proof of their cosigned checkpoint (a
// C2SP tlog-proof) beside the cosignature; an evidence pack carries it, and
// proves that the studio saw that checkpoint, and by when.
package studio

import (
	"context"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/storage/posix"

	"github.com/cairn-ledger/cairn/ledger"
	"github.com/cairn-ledger/cairn/ledger/rfc3161"
)

// MaxEntrySize is the largest entry the log takes (C2SP tlog-tiles entry
// bundles prefix each entry with a 16-bit length).
const MaxEntrySize = 1<<16 - 1

// Files and directories of a studio log beside Tessera's (FORMAT.md §3.3).
const (
	// TimestampDir holds, for some of the log's checkpoints, the exact note
	// bytes that were timestamped (<size>.checkpoint), the RFC 3161 token over
	// them (<size>.tsr), and "latest", the size of the newest.
	TimestampDir = "timestamps"
	latestName   = "latest"
	writerLock   = "cairn-writer.lock"
)

// DeriveKey returns the studio log's signing key for origin, derived from the
// witness's Ed25519 seed with HKDF-SHA-256 (info "cairn studio log key v1",
// salt the origin): a key of its own, never used to cosign, kept in no file.
func DeriveKey(witnessSeed []byte, origin string) (ed25519.PrivateKey, error) {
	seed, err := hkdf.Key(sha256.New, witnessSeed, []byte(origin), "cairn studio log key v1", ed25519.SeedSize)
	if err != nil {
		return nil, err
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// Options configure a studio log writer.
type Options struct {
	// Key signs the log's checkpoints; the log's origin is the key's name
	// (ledger.NoteSigner(origin, key)).
	Origin string
	Key    ed25519.PrivateKey

	// Witnesses, if any, must cosign each of the log's checkpoints before
	// it is published (Tessera's witness policy).
	Witnesses *tessera.WitnessGroup

	// CheckpointInterval is how often a new checkpoint is published while
	// entries arrive (default 1s); BatchMaxAge how long an entry waits for
	// others before it is written (default 50ms).
	CheckpointInterval time.Duration
	BatchMaxAge        time.Duration

	// TSA, if set, timestamps a published checkpoint at most once per
	// TSAEvery (0: every new one); TSARoots, if set, is what its tokens must
	// chain to.
	TSA      string
	TSARoots *x509.CertPool
	TSAEvery time.Duration

	// HTTPClient reaches the TSA and the witnesses.
	HTTPClient *http.Client
	// Log gets a line for each problem that cannot be returned to a caller.
	Log *log.Logger
}

// A Log is a studio log open for writing: the only writer of its directory.
type Log struct {
	dir      string
	origin   string
	appender *tessera.Appender
	shutdown func(context.Context) error
	reader   tessera.LogReader
	cancel   context.CancelFunc
	lock     *ledger.FileLock
	opts     Options
	loops    sync.WaitGroup // the timestamp loop
	closed   sync.Once

	// refused counts the refused entries whose futures are not resolved yet:
	// Close waits for them before it stops Tessera, whose queue would
	// otherwise never flush them, and their waiters would wait for ever.
	mu      sync.Mutex
	closing bool
	refused sync.WaitGroup
}

// ErrLocked is wrapped when another process writes the log directory.
var ErrLocked = errors.New("another process writes this studio log")

// Open opens (or creates) the studio log in dir. Only one process may write a
// log: Open fails at once, naming the holder, when another has it. Close stops
// Tessera, and must be called.
func Open(dir string, opts Options) (*Log, error) {
	if !ledger.ValidOrigin(opts.Origin) {
		return nil, fmt.Errorf("studio log: invalid origin %q", opts.Origin)
	}
	if len(opts.Key) != ed25519.PrivateKeySize {
		return nil, errors.New("studio log: no signing key")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("studio log: %v", err)
	}
	lockPath := filepath.Join(dir, writerLock)
	lock, err := ledger.LockFile(lockPath, dir, 0)
	if errors.Is(err, ledger.ErrLocked) {
		return nil, fmt.Errorf("%w: %s%s; run one witness per studio log", ErrLocked, dir, ledger.LockHolder(lockPath))
	}
	if err != nil {
		return nil, fmt.Errorf("studio log: %v", err)
	}
	if err := checkOrigin(dir, opts.Origin); err != nil {
		lock.Release()
		return nil, err
	}
	if opts.CheckpointInterval == 0 {
		opts.CheckpointInterval = time.Second
	}
	if opts.BatchMaxAge == 0 {
		opts.BatchMaxAge = 10 * time.Millisecond
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if opts.Log == nil {
		opts.Log = log.New(os.Stderr, "studio log: ", log.LstdFlags)
	}
	// Every goroutine Tessera starts watches this context: it is cancelled
	// on Close, after Tessera's own shutdown, so that no appender goes on
	// publishing once the witness has stopped.
	ctx, cancel := context.WithCancel(context.Background())
	driver, err := posix.New(ctx, posix.Config{Path: dir, HTTPClient: opts.HTTPClient})
	if err != nil {
		cancel()
		lock.Release()
		return nil, fmt.Errorf("studio log: %v", err)
	}
	ao := tessera.NewAppendOptions().
		WithCheckpointSigner(ledger.NoteSigner(opts.Origin, opts.Key)).
		WithCheckpointInterval(opts.CheckpointInterval).
		WithBatching(256, opts.BatchMaxAge).
		WithShutdownTimeout(30 * time.Second)
	if opts.Witnesses != nil {
		ao = ao.WithWitnesses(*opts.Witnesses, nil)
	}
	app, shutdown, reader, err := tessera.NewAppender(ctx, driver, ao)
	if err != nil {
		cancel()
		lock.Release()
		return nil, fmt.Errorf("studio log: %v", err)
	}
	l := &Log{dir: dir, origin: opts.Origin, appender: app, shutdown: shutdown, reader: reader, cancel: cancel, lock: lock, opts: opts}
	if opts.TSA != "" {
		// Say that this log is timestamped before the first token: a reader
		// then waits for one instead of taking an untimestamped checkpoint.
		if err := markTimestamped(dir); err != nil {
			l.Close()
			return nil, fmt.Errorf("studio log: %v", err)
		}
		l.loops.Add(1)
		go l.timestampLoop(ctx)
	}
	return l, nil
}

// checkOrigin records the log's origin in its directory the first time, and
// refuses to write a log under another origin later.
func checkOrigin(dir, origin string) error {
	p := filepath.Join(dir, "cairn-origin")
	data, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return writeAtomic(p, []byte(origin+"\n"))
	}
	if err != nil {
		return fmt.Errorf("studio log: %v", err)
	}
	if have := strings.TrimSuffix(string(data), "\n"); have != origin {
		return fmt.Errorf("studio log %s is the log %q, not %q; give its own origin, or another directory", dir, have, origin)
	}
	return nil
}

// Origin returns the log's origin.
func (l *Log) Origin() string { return l.origin }

// Dir returns the log's directory.
func (l *Log) Dir() string { return l.dir }

// VerifierKey returns the verifier key of the log's checkpoints.
func (l *Log) VerifierKey() string {
	return ledger.VerifierKey(l.origin, l.opts.Key.Public().(ed25519.PublicKey))
}

// Append adds entry and returns its index once Tessera has durably sequenced
// and integrated it (the POSIX driver's future resolves only then). A
// checkpoint that covers it is published within the checkpoint interval.
func (l *Log) Append(ctx context.Context, entry []byte) (int64, error) {
	if len(entry) > MaxEntrySize {
		return 0, fmt.Errorf("studio log: an entry of %d bytes is larger than %d", len(entry), MaxEntrySize)
	}
	idx, err := l.appender.Add(ctx, tessera.NewEntry(entry))()
	if err != nil {
		return 0, fmt.Errorf("studio log: %v", err)
	}
	return int64(idx.Index), nil
}

// Refused adds a checkpoint the witness refused, as evidence, without waiting.
func (l *Log) Refused(entry []byte) {
	if len(entry) > MaxEntrySize {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closing {
		return
	}
	f := l.appender.Add(context.Background(), tessera.NewEntry(entry))
	l.refused.Add(1)
	go func() {
		defer l.refused.Done()
		if _, err := f(); err != nil {
			l.opts.Log.Printf("keeping a refused checkpoint: %v", err)
		}
	}()
}

// Close waits for the entries added so far to be published, then stops every
// goroutine Tessera started and releases the directory.
func (l *Log) Close() error {
	var err error
	l.closed.Do(func() {
		l.mu.Lock()
		l.closing = true
		l.mu.Unlock()
		waited := make(chan struct{})
		go func() { l.refused.Wait(); close(waited) }()
		select {
		case <-waited:
		case <-time.After(30 * time.Second):
			l.opts.Log.Printf("some refused checkpoints were not kept: the log did not take them within 30s")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
		defer cancel()
		err = l.shutdown(ctx)
		l.cancel()
		l.loops.Wait()
		if lerr := l.lock.Release(); err == nil {
			err = lerr
		}
	})
	if err != nil {
		return fmt.Errorf("studio log: shutting down: %v", err)
	}
	return nil
}

// timestampLoop timestamps the published checkpoint whenever it has grown and
// TSAEvery has passed since the last token.
func (l *Log) timestampLoop(ctx context.Context) {
	defer l.loops.Done()
	last, lastAt := latestTimestamped(l.dir), time.Time{}
	tick := time.NewTicker(max(l.opts.CheckpointInterval/2, 100*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if time.Since(lastAt) < l.opts.TSAEvery {
			continue
		}
		cp, err := l.reader.ReadCheckpoint(ctx)
		if err != nil {
			continue // none published yet
		}
		c, err := ledger.ParseCheckpoint(cp)
		if err != nil || c.Size <= last {
			continue
		}
		if err := l.timestamp(ctx, c.Size, cp); err != nil {
			if ctx.Err() == nil {
				l.opts.Log.Printf("timestamping the checkpoint of %d entries: %v (tried again later)", c.Size, err)
			}
			lastAt = time.Now() // back off for TSAEvery
			continue
		}
		last, lastAt = c.Size, time.Now()
	}
}

func (l *Log) timestamp(ctx context.Context, size int64, cp []byte) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	tok, err := rfc3161.Fetch(ctx, l.opts.TSA, cp, l.opts.HTTPClient, l.opts.TSARoots)
	if err != nil {
		return err
	}
	dir := filepath.Join(l.dir, TimestampDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	name := strconv.FormatInt(size, 10)
	if err := writeAtomic(filepath.Join(dir, name+".checkpoint"), cp); err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(dir, name+".tsr"), tok.Response); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, latestName), []byte(name+"\n"))
}

// markTimestamped writes "latest" as 0 if the log has no timestamp yet.
func markTimestamped(dir string) error {
	p := filepath.Join(dir, TimestampDir, latestName)
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return writeAtomic(p, []byte("0\n"))
}

// latestTimestamped returns the size of the newest timestamped checkpoint in
// the log directory dir, or 0.
func latestTimestamped(dir string) int64 {
	data, err := os.ReadFile(filepath.Join(dir, TimestampDir, latestName))
	if err != nil {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSuffix(string(data), "\n"), 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// writeAtomic replaces path with data: a crash leaves the old file or the new
// one, complete (write a temporary file, sync it, rename it, sync the directory).
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Handler serves the log's public files read-only, as a static web server
// would: the checkpoint, the tiles and entry bundles (C2SP tlog-tiles), and the
// timestamps. Nothing else in the directory is served.
func Handler(dir string) http.Handler {
	files := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		ok := p == "/checkpoint" || p == "/cairn-origin" ||
			strings.HasPrefix(p, "/tile/") || strings.HasPrefix(p, "/"+TimestampDir+"/")
		if r.Method != http.MethodGet && r.Method != http.MethodHead || !ok || strings.Contains(p, "/.") || strings.HasSuffix(p, "/") {
			http.NotFound(w, r)
			return
		}
		switch {
		case p == "/checkpoint" || strings.HasSuffix(p, "/"+latestName):
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Cache-Control", "no-cache")
		case strings.HasSuffix(p, ".checkpoint"):
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		default:
			w.Header().Set("Content-Type", "application/octet-stream")
		}
		files.ServeHTTP(w, r)
	})
}
