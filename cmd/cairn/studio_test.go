package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	f_note "github.com/transparency-dev/formats/note"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera/client"
	"golang.org/x/mod/sumdb/note"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/internal/testtsa"
	"github.com/cairn-ledger/cairn/ledger"
	"github.com/cairn-ledger/cairn/ledger/rfc3161"
	"github.com/cairn-ledger/cairn/ledger/studio"
	"github.com/cairn-ledger/cairn/ledger/witness"
)

// A studioEnv is a studio on 127.0.0.1: a witness (its key and state), its
// studio log, a TSA, and designers, each with an identity and a ledger of
// their own. Designers run cairn as separate processes.
type studioEnv struct {
	t      *testing.T
	bin    string
	root   string
	wcfg   string // the witness's config directory
	logDir string
	addr   string
	url    string
	wvkey  string
	svkey  string
	tsa    *testtsa.TSA
	roots  *x509.CertPool
	server *exec.Cmd
	serr   *bytes.Buffer
	people []*designer
	// certFile, if set, is the only root clients trust (SSL_CERT_FILE).
	certFile string
}

type designer struct {
	home   string // XDG_CONFIG_HOME
	dir    string // the ledger's .cairn
	origin string
}

func newStudioEnv(t *testing.T, designers int) *studioEnv {
	t.Helper()
	bin, err := buildCairn()
	if err != nil {
		t.Fatal(err)
	}
	e := &studioEnv{t: t, bin: bin, root: t.TempDir()}
	e.wcfg = filepath.Join(e.root, "witness")
	e.logDir = filepath.Join(e.root, "studiolog")
	if e.tsa, err = testtsa.Start("studio test TSA"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.tsa.Close)
	e.roots = e.tsa.Roots()
	if err := os.WriteFile(filepath.Join(e.root, "tsa.pem"), e.tsa.RootPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	e.cairn(e.wcfg, "", "witness", "init", "--name", "legal.studio-x")
	e.wvkey = strings.TrimSpace(e.cairn(e.wcfg, "", "witness", "id"))
	e.svkey = strings.TrimSpace(e.cairn(e.wcfg, "", "witness", "id", "--log"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.addr = ln.Addr().String()
	ln.Close()
	e.url = "http://" + e.addr

	// The designers, made in this process (recording is not what is tested);
	// the witness is told to follow each.
	st, err := witness.OpenStore(filepath.Join(e.wcfg, "cairn", "witness-state"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	w := witness.New(st, nil)
	for i := range designers {
		d := &designer{home: filepath.Join(e.root, fmt.Sprintf("d%02d", i), "config"), dir: filepath.Join(e.root, fmt.Sprintf("d%02d", i), ".cairn")}
		id, err := evidence.NewIdentity(fmt.Sprintf("Designer %d", i), "", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := id.Save(filepath.Join(d.home, "cairn", "identity.json"), nil); err != nil {
			t.Fatal(err)
		}
		b, _, err := evidence.Init(d.dir, id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Record(id, []*evidence.Step{{Kind: evidence.KindAsset, Asset: "poster"}, {Kind: evidence.KindNote, Asset: "poster", Text: "an idea"}}); err != nil {
			t.Fatal(err)
		}
		cfg := &evidence.Config{Asset: "poster", Witnesses: []string{e.wvkey}, Studios: []string{e.svkey}}
		if err := b.WriteConfig(cfg); err != nil {
			t.Fatal(err)
		}
		d.origin = b.Ledger.Origin()
		if _, err := w.AddLog(d.origin, ledger.VerifierKey(d.origin, id.Public())); err != nil {
			t.Fatal(err)
		}
		b.Close()
		e.people = append(e.people, d)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return e
}

// cairn runs cairn with home as XDG_CONFIG_HOME in dir's parent and returns
// its standard output; it fails the test if cairn fails.
func (e *studioEnv) cairn(home, dir string, args ...string) string {
	e.t.Helper()
	out, err := e.run(home, dir, args...)
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

func (e *studioEnv) run(home, dir string, args ...string) (string, error) {
	cmd := exec.Command(e.bin, args...)
	cmd.Dir = e.root
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+home, "CAIRN_DIR="+dir, "CAIRN_KEY=", "CAIRN_WITNESS_KEY=")
	if e.certFile != "" {
		cmd.Env = append(cmd.Env, "SSL_CERT_FILE="+e.certFile)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("cairn %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), nil
}

// serve starts the witness server with its studio log, and waits until it listens.
func (e *studioEnv) serve(extra ...string) {
	e.t.Helper()
	urlFile := filepath.Join(e.root, "url")
	os.Remove(urlFile)
	cmd := exec.Command(e.bin, append([]string{"witness", "serve", "--listen", e.addr, "--url-file", urlFile,
		"--log", e.logDir, "--log-interval", "200ms", "--rate", "0",
		"--tsa", e.tsa.URL, "--tsa-roots", filepath.Join(e.root, "tsa.pem"), "--tsa-every", "0"}, extra...)...)
	cmd.Dir = e.root
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+e.wcfg, "CAIRN_WITNESS_KEY=")
	e.serr = &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = e.serr, e.serr
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.server = cmd
	e.t.Cleanup(func() {
		if e.server != nil {
			e.server.Process.Kill()
			e.server.Wait()
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(urlFile); err == nil {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("the witness server did not start:\n%s", e.serr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop stops the server as an operator does (SIGINT), and waits for it.
func (e *studioEnv) stop() {
	e.t.Helper()
	e.server.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- e.server.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			e.t.Fatalf("the witness server: %v\n%s", err, e.serr)
		}
	case <-time.After(60 * time.Second):
		e.t.Fatalf("the witness server did not stop within 60s:\n%s", e.serr)
	}
	e.server = nil
}

// kill9 kills the server with SIGKILL: no defer, no shutdown.
func (e *studioEnv) kill9() {
	e.t.Helper()
	e.server.Process.Signal(syscall.SIGKILL)
	e.server.Wait()
	e.server = nil
}

// publishAll runs cairn publish in every designer's ledger at once, each a
// process of its own, and returns their JSON answers.
func (e *studioEnv) publishAll(extra ...string) []map[string]any {
	e.t.Helper()
	out := make([]map[string]any, len(e.people))
	errs := make([]error, len(e.people))
	var wg sync.WaitGroup
	for i, d := range e.people {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := e.run(d.home, d.dir, append([]string{"publish", e.url, "--json", "--wait", "60s"}, extra...)...)
			if err == nil {
				err = json.Unmarshal([]byte(s), &out[i])
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			e.t.Fatalf("designer %d: %v", i, err)
		}
	}
	return out
}

// record appends a note to each designer's ledger, in this process.
func (e *studioEnv) record(text string) {
	e.t.Helper()
	for _, d := range e.people {
		id, err := evidence.LoadIdentity(filepath.Join(d.home, "cairn", "identity.json"), nil)
		if err != nil {
			e.t.Fatal(err)
		}
		b, err := evidence.Open(d.dir, nil)
		if err != nil {
			e.t.Fatal(err)
		}
		if _, err := b.Record(id, []*evidence.Step{{Kind: evidence.KindNote, Asset: "poster", Text: text}}); err != nil {
			e.t.Fatal(err)
		}
		b.Close()
	}
}

// checkLedgers checks every designer's (cosignsEach of them each, unless -1) stored cosignatures and studio log
// proofs with implementations that are not cairn's: the witness's cosignature
// with transparency-dev/formats' cosignature/v1 verifier, the studio log
// checkpoint with x/mod's note verifier and the studio key, the inclusion with
// transparency-dev/merkle, the studio log's timestamp with rfc3161 against the
// TSA's root. It returns every cosigned note the designers hold.
func (e *studioEnv) checkLedgers(cosignsEach int) map[string]bool {
	e.t.Helper()
	wv, err := f_note.NewVerifierForCosignatureV1(e.wvkey)
	if err != nil {
		e.t.Fatal(err)
	}
	sv, err := note.NewVerifier(e.svkey)
	if err != nil {
		e.t.Fatal(err)
	}
	held := map[string]bool{}
	for i, d := range e.people {
		b, err := evidence.Open(d.dir, nil)
		if err != nil {
			e.t.Fatal(err)
		}
		cos, err := b.Ledger.Cosignatures()
		if err != nil {
			e.t.Fatal(err)
		}
		proofs, err := b.Ledger.StudioProofs()
		if err != nil {
			e.t.Fatal(err)
		}
		b.Close()
		if cosignsEach >= 0 && len(cos) != cosignsEach || len(proofs) != len(cos) {
			e.t.Fatalf("designer %d holds %d cosignatures and %d studio log proofs, want as many proofs (and %d cosignatures)", i, len(cos), len(proofs), cosignsEach)
		}
		for j, cs := range cos {
			if _, err := note.Open(cs.Note, note.VerifierList(wv)); err != nil {
				e.t.Fatalf("designer %d, cosignature of size %d: %v\n%s", i, cs.Size, err, cs.Note)
			}
			held[string(cs.Note)] = true
			sp := proofs[j]
			p, err := studio.ParseProof(sp.Proof)
			if err != nil || sp.Size != cs.Size {
				e.t.Fatalf("designer %d: proof of size %d for the cosignature of %d: %v", i, sp.Size, cs.Size, err)
			}
			n, err := note.Open(p.Checkpoint, note.VerifierList(sv))
			if err != nil {
				e.t.Fatalf("designer %d: the studio log checkpoint: %v", i, err)
			}
			c, err := ledger.ParseCheckpoint([]byte(n.Text + "\n"))
			if err != nil {
				e.t.Fatal(err)
			}
			var path [][]byte
			for _, h := range p.Path {
				path = append(path, h[:])
			}
			if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(p.Index), uint64(c.Size), rfc6962.DefaultHasher.HashLeaf(cs.Note), path, c.Root[:]); err != nil {
				e.t.Fatalf("designer %d: the cosigned checkpoint of %d records is not entry %d of the studio log: %v", i, cs.Size, p.Index, err)
			}
			if _, err := rfc3161.Verify(sp.Token, p.Checkpoint, e.roots, nil); err != nil {
				e.t.Fatalf("designer %d: the studio log's token: %v", i, err)
			}
		}
	}
	return held
}

// checkStudioLog proves every entry of the studio log from its tiles, with
// Tessera's proof builder and transparency-dev/merkle, against the log's
// checkpoint signed by the studio key, and returns the entries.
func (e *studioEnv) checkStudioLog() [][]byte {
	e.t.Helper()
	ctx := context.Background()
	f := client.FileFetcher{Root: e.logDir}
	raw, err := f.ReadCheckpoint(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	sv, _ := note.NewVerifier(e.svkey)
	if _, err := note.Open(raw, note.VerifierList(sv)); err != nil {
		e.t.Fatalf("studio log checkpoint: %v", err)
	}
	cp, err := ledger.ParseCheckpoint(raw)
	if err != nil {
		e.t.Fatal(err)
	}
	pb, err := client.NewProofBuilder(ctx, uint64(cp.Size), f.ReadTile)
	if err != nil {
		e.t.Fatal(err)
	}
	var entries [][]byte
	for b := uint64(0); b*256 < uint64(cp.Size); b++ {
		bundle, err := client.GetEntryBundle(ctx, f.ReadEntryBundle, b, uint64(cp.Size))
		if err != nil {
			e.t.Fatal(err)
		}
		entries = append(entries, bundle.Entries...)
	}
	entries = entries[:cp.Size]
	for i, entry := range entries {
		path, err := pb.InclusionProof(ctx, uint64(i))
		if err != nil {
			e.t.Fatal(err)
		}
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(i), uint64(cp.Size), rfc6962.DefaultHasher.HashLeaf(entry), path, cp.Root[:]); err != nil {
			e.t.Fatalf("entry %d is not proven in the studio log's tree: %v", i, err)
		}
	}
	return entries
}

// TestStudio50Ledgers: a studio witness with its Tessera log, and 50 ledgers
// publishing at once, each from a process of its own, twice (the second time
// with a consistency proof). Every cosignature verifies, every entry of the log
// is proven from the tiles, and the log holds exactly what was cosigned.
func TestStudio50Ledgers(t *testing.T) {
	if testing.Short() {
		t.Skip("50 processes")
	}
	e := newStudioEnv(t, 50)
	e.serve()
	start := time.Now()
	for round, want := range []struct{ had, size float64 }{{0, 3}, {3, 4}} {
		if round == 1 {
			e.record("a second idea")
		}
		for i, ans := range e.publishAll() {
			if ans["witness_had"] != want.had || ans["size"] != want.size {
				t.Fatalf("round %d, designer %d: %v", round, i, ans)
			}
			if ans["pending_proofs"] != 0.0 {
				t.Fatalf("round %d, designer %d: proofs still pending: %v", round, i, ans)
			}
		}
	}
	t.Logf("100 publishes from 50 processes in %v", time.Since(start).Round(time.Millisecond))
	held := e.checkLedgers(2)
	entries := e.checkStudioLog()
	if len(entries) != 100 {
		t.Fatalf("the studio log has %d entries, want 100", len(entries))
	}
	for _, entry := range entries {
		if !held[string(entry)] {
			t.Fatalf("the studio log holds a checkpoint no designer holds:\n%s", entry)
		}
		delete(held, string(entry))
	}
	if len(held) != 0 {
		t.Fatalf("%d cosigned checkpoints are not in the studio log", len(held))
	}
	e.stop()
	// Stopped, the log is not written to any more.
	before, _ := os.ReadFile(filepath.Join(e.logDir, "checkpoint"))
	time.Sleep(500 * time.Millisecond)
	after, _ := os.ReadFile(filepath.Join(e.logDir, "checkpoint"))
	if !bytes.Equal(before, after) {
		t.Error("the studio log's checkpoint changed after the witness stopped")
	}
	// Legal's view agrees: 50 ledgers, two checkpoints each, no alert.
	out := e.cairn(e.wcfg, "", "studio", e.logDir, "--json", "--studio", e.svkey, "--witness", e.wvkey, "--tsa-roots", filepath.Join(e.root, "tsa.pem"))
	var view struct {
		OK      bool                        `json:"ok"`
		Ledgers map[string][]map[string]any `json:"ledgers"`
	}
	if err := json.Unmarshal([]byte(out), &view); err != nil || !view.OK || len(view.Ledgers) != 50 {
		t.Fatalf("cairn studio: %v\n%s", err, out)
	}
}

// TestWitnessKill9: the witness server is killed with SIGKILL while designers
// record and publish (each step publishes on its own). Recording never fails;
// after a restart, every cosignature a designer holds is in the witness's state
// (nothing it cosigned was forgotten) and in the studio log, and sending the
// same checkpoints again changes nothing.
func TestWitnessKill9(t *testing.T) {
	e := newStudioEnv(t, 6)
	for _, d := range e.people {
		e.cairn(d.home, d.dir, "config", "witness.url", e.url)
		e.cairn(d.home, d.dir, "config", "witness.every", "0s")
	}
	e.serve()
	var mu sync.Mutex
	published, queued := 0, 0
	steps := func(from, n int) {
		var wg sync.WaitGroup
		for i, d := range e.people {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := from; k < from+n; k++ {
					// Recording succeeds whether the witness is up or not.
					cmd := exec.Command(e.bin, "note", fmt.Sprintf("step %d", k))
					cmd.Dir = e.root
					cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+d.home, "CAIRN_DIR="+d.dir, "CAIRN_KEY=")
					out, err := cmd.CombinedOutput()
					if err != nil {
						t.Errorf("designer %d, step %d: %v\n%s", i, k, err, out)
						return
					}
					mu.Lock()
					if bytes.Contains(out, []byte("published:")) {
						published++
					}
					if bytes.Contains(out, []byte("publishing queued")) {
						queued++
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
	}
	done := make(chan struct{})
	go func() { steps(0, 8); close(done) }()
	// Kill the witness once it has cosigned some of them, while the rest are
	// under way.
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := published
		mu.Unlock()
		if n >= 8 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.kill9()
	time.Sleep(300 * time.Millisecond)
	e.serve()
	<-done
	steps(8, 2)
	if t.Failed() {
		return
	}
	// Catch up: every designer publishes its newest checkpoint and fetches
	// every proof still queued.
	e.publishAll()
	mu.Lock()
	t.Logf("%d steps were published on their own, %d queued while the witness was down", published, queued)
	if queued == 0 {
		t.Error("no step was recorded while the witness was down: the kill did not happen during the publishes")
	}
	mu.Unlock()
	held := e.checkLedgers(-1)

	// Every cosignature a designer holds is in the studio log, and the
	// witness's state is at least as far along, on the same history.
	entries := map[string]bool{}
	for _, entry := range e.checkStudioLog() {
		entries[string(entry)] = true
	}
	for n := range held {
		if !entries[n] {
			t.Errorf("a cosigned checkpoint a designer holds is not in the studio log:\n%s", n)
		}
	}
	var recs map[string]*witness.Record
	if err := json.Unmarshal([]byte(e.cairn(e.wcfg, "", "witness", "list", "--json")), &recs); err != nil {
		t.Fatal(err)
	}
	for i, d := range e.people {
		b, err := evidence.Open(d.dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		cos, _ := b.Ledger.Cosignatures()
		r := recs[d.origin]
		newest := cos[len(cos)-1]
		root, err := b.Ledger.TreeHash(r.Size)
		b.Close()
		if err != nil || r.Size < newest.Size || root != r.Root {
			t.Errorf("designer %d: the witness's state (size %d) lost a cosignature it gave (size %d), or is on another history: %v", i, r.Size, newest.Size, err)
		}
	}

	// Sending again is idempotent: the same answers, the same state, no new entry.
	before := e.cairn(e.wcfg, "", "witness", "list", "--json")
	sizeBefore := logSize(t, e.logDir)
	for i, ans := range e.publishAll() {
		if ans["witness_had"] != ans["size"] {
			t.Errorf("designer %d: sending again: %v", i, ans)
		}
	}
	again := e.checkLedgers(-1)
	for n := range held {
		if !again[n] {
			t.Errorf("sending again changed a cosignature a designer holds:\n%s", n)
		}
	}
	if after := e.cairn(e.wcfg, "", "witness", "list", "--json"); after != before {
		t.Errorf("sending again changed the witness's state:\n%s\n%s", before, after)
	}
	time.Sleep(500 * time.Millisecond)
	if got := logSize(t, e.logDir); got != sizeBefore {
		t.Errorf("sending again added entries to the studio log: %d, then %d", sizeBefore, got)
	}
	e.stop()
}

func logSize(t *testing.T, dir string) int64 {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "checkpoint"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := ledger.ParseCheckpoint(data)
	if err != nil {
		t.Fatal(err)
	}
	return c.Size
}

// TestWitnessTLS: given a certificate, the server speaks HTTPS; a designer
// whose system trusts that certificate publishes over it, and one that does
// not is refused by TLS, with a message that says the witness was not reached.
func TestWitnessTLS(t *testing.T) {
	e := newStudioEnv(t, 1)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "witness.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	certFile, keyFile := filepath.Join(e.root, "cert.pem"), filepath.Join(e.root, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
	e.serve("--tls-cert", certFile, "--tls-key", keyFile)
	e.url = "https://" + e.addr
	d := e.people[0]
	_, err = e.run(d.home, d.dir, "publish", e.url)
	if err == nil || !strings.Contains(err.Error(), "could not be reached") || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("publishing to a witness whose certificate is not trusted: %v", err)
	}
	e.certFile = certFile
	out := e.cairn(d.home, d.dir, "publish", e.url)
	if !strings.Contains(out, "cosigned by legal.studio-x") || !strings.Contains(out, "studio log legal.studio-x/log") {
		t.Fatalf("publish over HTTPS: %s", out)
	}
	e.stop()
}
