package studio

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	f_note "github.com/transparency-dev/formats/note"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera"
	"golang.org/x/mod/sumdb/note"

	"github.com/cairn-ledger/cairn/internal/testtsa"
	"github.com/cairn-ledger/cairn/ledger"
	"github.com/cairn-ledger/cairn/ledger/rfc3161"
	"github.com/cairn-ledger/cairn/ledger/witness"
)

const testOrigin = "studio.example/log"

func testKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	k, err := DeriveKey(make([]byte, 32), testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func openTestLog(t testing.TB, dir string, opts Options) *Log {
	t.Helper()
	opts.Origin, opts.Key = testOrigin, testKey(t)
	if opts.CheckpointInterval == 0 {
		opts.CheckpointInterval = 100 * time.Millisecond
	}
	l, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// waitFetch fetches entry index's proof, waiting for a checkpoint to cover it.
func waitFetch(t testing.TB, src *Source, index int64) *Fetched {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		f, err := src.Fetch(context.Background(), index)
		if err == nil {
			return f
		}
		if !errors.Is(err, ErrNotYet) || time.Now().After(deadline) {
			t.Fatalf("Fetch(%d): %v", index, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestLogAppendProveTimestamp(t *testing.T) {
	tsa, err := testtsa.Start("studio test TSA")
	if err != nil {
		t.Fatal(err)
	}
	defer tsa.Close()
	roots := x509.NewCertPool()
	roots.AddCert(tsa.Root)

	dir := t.TempDir()
	l := openTestLog(t, dir, Options{TSA: tsa.URL, TSARoots: roots})
	// A second writer of the same directory is refused at once, by name.
	if _, err := Open(dir, Options{Origin: testOrigin, Key: testKey(t)}); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "held by process") {
		t.Fatalf("second writer: %v", err)
	}
	var entries [][]byte
	for i := range 5 {
		e := []byte(fmt.Sprintf("entry %d\n", i))
		idx, err := l.Append(context.Background(), e)
		if err != nil || idx != int64(i) {
			t.Fatalf("Append %d = %d, %v", i, idx, err)
		}
		entries = append(entries, e)
	}
	srv := httptest.NewServer(Handler(dir))
	defer srv.Close()
	v, err := note.NewVerifier(l.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	for _, where := range []string{dir, srv.URL} {
		src, err := OpenSource(where, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range entries {
			f := waitFetch(t, src, int64(i))
			if string(f.Entry) != string(e) {
				t.Fatalf("%s: entry %d is %q", where, i, f.Entry)
			}
			c, err := f.Proof.Check(e, v)
			if err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			// An independent RFC 6962 implementation agrees.
			var path [][]byte
			for _, h := range f.Proof.Path {
				path = append(path, h[:])
			}
			if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(i), uint64(c.Size), rfc6962.DefaultHasher.HashLeaf(e), path, c.Root[:]); err != nil {
				t.Fatalf("%s: merkle: %v", where, err)
			}
			// The token is over the exact checkpoint bytes and chains to the TSA's root.
			if _, err := rfc3161.Verify(f.Token, f.Proof.Checkpoint, roots, nil); err != nil {
				t.Fatalf("%s: token: %v", where, err)
			}
			// The proof survives its text form.
			p2, err := ParseProof(f.Proof.Marshal())
			if err != nil || string(p2.Marshal()) != string(f.Proof.Marshal()) {
				t.Fatalf("ParseProof: %v", err)
			}
			if _, err := p2.Check([]byte("another entry"), v); err == nil {
				t.Fatal("a proof checked for another entry")
			}
		}
	}
	// The whole log's root, recomputed from its entries, is its checkpoint's.
	src, _ := OpenSource(dir, nil)
	cp, err := src.Checkpoint(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var tb ledger.TreeBuilder
	if err := src.Entries(context.Background(), cp.Size, func(i int64, e []byte) error { tb.Add(e); return nil }); err != nil {
		t.Fatal(err)
	}
	if tb.Root() != cp.Root {
		t.Fatal("root of the entries is not the checkpoint's")
	}
	// The log's files are served, and nothing of its private state.
	for path, want := range map[string]int{"/checkpoint": 200, "/tile/0/000.p/5": 200, "/.state/treeState": 404, "/cairn-writer.lock": 404, "/timestamps/latest": 200} {
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}

	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// Closed, nothing of Tessera runs on: the checkpoint is not republished.
	before, _ := os.Stat(filepath.Join(dir, "checkpoint"))
	time.Sleep(400 * time.Millisecond)
	after, _ := os.Stat(filepath.Join(dir, "checkpoint"))
	if !before.ModTime().Equal(after.ModTime()) {
		t.Error("the checkpoint was written after Close")
	}
	// Reopened, the log goes on from its size; another origin is refused.
	if _, err := Open(dir, Options{Origin: "other.example/log", Key: testKey(t)}); err == nil || !strings.Contains(err.Error(), "is the log") {
		t.Fatalf("other origin: %v", err)
	}
	l = openTestLog(t, dir, Options{})
	if idx, err := l.Append(context.Background(), []byte("entry 5\n")); err != nil || idx != 5 {
		t.Fatalf("Append after reopen = %d, %v", idx, err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestCloseStopsTessera: after Close, no goroutine of the appender is left.
func TestCloseStopsTessera(t *testing.T) {
	base := runtime.NumGoroutine()
	dir := t.TempDir()
	for range 3 {
		l := openTestLog(t, dir, Options{})
		if _, err := l.Append(context.Background(), []byte("x")); err != nil {
			t.Fatal(err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > base+1 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base+1 {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines after Close, %d before:\n%s", n, base, buf[:runtime.Stack(buf, true)])
	}
}

// TestCloseKeepsRefused: a refused checkpoint added just before Close is in
// the log after it, and Close does not wait for ever.
func TestCloseKeepsRefused(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, dir, Options{})
	if _, err := l.Append(context.Background(), []byte("cosigned")); err != nil {
		t.Fatal(err)
	}
	l.Refused([]byte("refused"))
	done := make(chan error)
	go func() { done <- l.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Close did not return")
	}
	src, _ := OpenSource(dir, nil)
	cp, err := src.Checkpoint(context.Background())
	if err != nil || cp.Size != 2 {
		t.Fatalf("checkpoint %+v, %v: want the refused entry in it", cp, err)
	}
}

// TestOutsideWitnessCosignsStudioLog: Tessera's own witness client (a C2SP
// tlog-witness client that is not cairn's) gets the studio log's checkpoints
// cosigned by a cairn witness server, through its 409 path when it guesses the
// witness's size wrong; the cosignature verifies with transparency-dev/formats'
// cosignature/v1 verifier, an implementation independent of cairn's.
func TestOutsideWitnessCosignsStudioLog(t *testing.T) {
	dir := t.TempDir()
	// A log of three entries, published before the witness was added.
	l := openTestLog(t, dir, Options{})
	for i := range 3 {
		if _, err := l.Append(context.Background(), []byte(fmt.Sprintf("early %d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	// The outside witness follows the studio log by its key.
	_, wkey, _ := ed25519.GenerateKey(nil)
	cs, err := witness.NewCosigner("outside.example/witness", wkey)
	if err != nil {
		t.Fatal(err)
	}
	st, err := witness.OpenStore(filepath.Join(t.TempDir(), "state"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	w := witness.New(st, cs)
	if _, err := w.AddLog(testOrigin, ledger.VerifierKey(testOrigin, testKey(t).Public().(ed25519.PublicKey))); err != nil {
		t.Fatal(err)
	}
	var codes []int
	var mu sync.Mutex
	h := witness.Handler(w, witness.HandlerOptions{})
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		mu.Lock()
		codes = append(codes, rec.Code)
		mu.Unlock()
		for k, v := range rec.Header() {
			rw.Header()[k] = v
		}
		rw.WriteHeader(rec.Code)
		rw.Write(rec.Body.Bytes())
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	tw, err := tessera.NewWitness(cs.VerifierKey(), u)
	if err != nil {
		t.Fatal(err)
	}
	group := tessera.NewWitnessGroup(1, tw)
	l = openTestLog(t, dir, Options{Witnesses: &group})
	for i := range 4 {
		if _, err := l.Append(context.Background(), []byte(fmt.Sprintf("late %d", i))); err != nil {
			t.Fatal(err)
		}
	}
	fv, err := f_note.NewVerifierForCosignatureV1(cs.VerifierKey())
	if err != nil {
		t.Fatal(err)
	}
	src, _ := OpenSource(dir, nil)
	deadline := time.Now().Add(15 * time.Second)
	for {
		cp, err := src.Checkpoint(context.Background())
		if err == nil && cp.Size == 7 {
			if _, err := note.Open(cp.Note, note.VerifierList(fv)); err != nil {
				t.Fatalf("the published checkpoint does not carry the witness's cosignature: %v\n%s", err, cp.Note)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no cosigned checkpoint of 7 entries: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// Tessera guessed the published size (3); the witness had seen none: 409,
	// then 200 from size 0, then 200s with consistency proofs.
	mu.Lock()
	defer mu.Unlock()
	if len(codes) < 2 || codes[0] != http.StatusConflict || codes[1] != http.StatusOK {
		t.Errorf("answers %v, want 409 then 200", codes)
	}
	r, _ := w.Record(testOrigin)
	if r.Size != 7 {
		t.Errorf("the witness cosigned size %d, want 7", r.Size)
	}
}

// FuzzParseProof: a tlog-proof from anywhere never panics the reader, and what
// it accepts marshals back to the same bytes.
func FuzzParseProof(f *testing.F) {
	f.Add([]byte("c2sp.org/tlog-proof@v1\nindex 3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\nstudio.example/log\n4\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— studio.example/log AAAA\n"))
	f.Add([]byte("c2sp.org/tlog-proof@v1\nextra AAAA\nindex 0\n\nx\n1\nAAAA\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseProof(data)
		if err != nil {
			return
		}
		if got := p.Marshal(); string(got) != string(data) {
			t.Fatalf("round trip changed the proof:\n%q\n%q", data, got)
		}
		p.Check([]byte("entry"), nil)
	})
}
