package witness

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const testOrigin = "cairn.example/ledger/3f2a"

// memTree is an RFC 6962 tree kept in memory with tlog's stored-hash layout.
type memTree struct {
	hashes []tlog.Hash
	n      int64
}

func (m *memTree) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(m.hashes)) {
			return nil, fmt.Errorf("no hash %d", x)
		}
		out[i] = m.hashes[x]
	}
	return out, nil
}

// grow appends records named prefix0, prefix1, ... until the tree has n.
func (m *memTree) grow(t testing.TB, n int64, prefix string) {
	t.Helper()
	for size := m.size(); size < n; size++ {
		hs, err := tlog.StoredHashes(size, []byte(fmt.Sprintf("%s%d", prefix, size)), m)
		if err != nil {
			t.Fatal(err)
		}
		m.hashes = append(m.hashes, hs...)
		m.n++
	}
}

func (m *memTree) size() int64 { return m.n }

func (m *memTree) root(t testing.TB, n int64) tlog.Hash {
	t.Helper()
	h, err := tlog.TreeHash(n, m)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (m *memTree) proof(t testing.TB, from, to int64) tlog.TreeProof {
	t.Helper()
	p, err := tlog.ProveTree(to, from, m)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A testLog signs checkpoints of a memTree.
type testLog struct {
	tree   *memTree
	signer note.Signer
	vkey   string
	origin string
	ext    string // extension lines, if any
}

func newTestLog(t testing.TB, origin string) *testLog {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return &testLog{tree: &memTree{}, signer: s, vkey: vkey, origin: origin}
}

func (l *testLog) body(size int64, root tlog.Hash) string {
	return fmt.Sprintf("%s\n%d\n%s\n%s", l.origin, size, base64.StdEncoding.EncodeToString(root[:]), l.ext)
}

// checkpoint signs a checkpoint of the first n records.
func (l *testLog) checkpoint(t testing.TB, n int64) []byte {
	t.Helper()
	l.tree.grow(t, n, "record ")
	return l.sign(t, n, l.tree.root(t, n))
}

func (l *testLog) sign(t testing.TB, n int64, root tlog.Hash) []byte {
	t.Helper()
	msg, err := note.Sign(&note.Note{Text: l.body(n, root)}, l.signer)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

type fixture struct {
	log   *testLog
	w     *Witness
	path  string
	clock time.Time
	pub   ed25519.PublicKey
	key   ed25519.PrivateKey
}

const witnessName = "legal.example.com/cairn-witness"

func newFixture(t testing.TB) *fixture {
	t.Helper()
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{log: newTestLog(t, testOrigin), path: filepath.Join(t.TempDir(), "witness.json"),
		clock: time.Unix(1_760_000_000, 0), pub: pub, key: key}
	f.w = f.open(t)
	if err := f.w.AddLog(testOrigin, f.log.vkey); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) open(t testing.TB) *Witness {
	t.Helper()
	c, err := NewCosigner(witnessName, f.key)
	if err != nil {
		t.Fatal(err)
	}
	w, err := Open(f.path, c)
	if err != nil {
		t.Fatal(err)
	}
	w.SetClock(func() time.Time { return f.clock })
	return w
}

func (f *fixture) verifier(t testing.TB) note.Verifier {
	t.Helper()
	v, err := CosignatureVerifier(witnessName, f.pub)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// checkCosigned checks that cosigned carries both the log's signature and the
// witness's cosignature at the fixture's clock, over the checkpoint's body.
func (f *fixture) checkCosigned(t testing.TB, cosigned, checkpoint []byte) {
	t.Helper()
	logV, err := note.NewVerifier(f.log.vkey)
	if err != nil {
		t.Fatal(err)
	}
	n, err := note.Open(cosigned, note.VerifierList(logV, f.verifier(t)))
	if err != nil {
		t.Fatalf("open cosigned note: %v\n%s", err, cosigned)
	}
	if len(n.Sigs) != 2 || len(n.UnverifiedSigs) != 0 {
		t.Fatalf("cosigned note has %d verified and %d unverified signatures, want 2 and 0:\n%s", len(n.Sigs), len(n.UnverifiedSigs), cosigned)
	}
	if !bytes.HasPrefix(cosigned, checkpoint) {
		t.Fatalf("cosigned note does not extend the checkpoint note:\n%s\nwant prefix\n%s", cosigned, checkpoint)
	}
	at, err := CosignedAt(cosigned, f.verifier(t))
	if err != nil {
		t.Fatal(err)
	}
	if !at.Equal(f.clock) {
		t.Errorf("cosignature time %v, want %v", at, f.clock)
	}
}

func TestCosignConsistentSequence(t *testing.T) {
	f := newFixture(t)
	last := int64(0)
	for _, n := range []int64{1, 2, 3, 3, 7, 8, 100, 1000} {
		cp := f.log.checkpoint(t, n)
		var proof tlog.TreeProof
		if last > 0 && n != last {
			proof = f.log.tree.proof(t, last, n)
		}
		f.clock = f.clock.Add(time.Minute)
		cosigned, err := f.w.Cosign(cp, proof)
		if err != nil {
			t.Fatalf("Cosign size %d after %d: %v", n, last, err)
		}
		f.checkCosigned(t, cosigned, cp)
		last = n
	}
	s, err := f.w.State()
	if err != nil {
		t.Fatal(err)
	}
	l := s.Logs[testOrigin]
	if l.Size != 1000 || l.Root != f.log.tree.root(t, 1000) || l.Time != f.clock.Unix() || l.Checkpoint != string(f.log.checkpoint(t, 1000)) {
		t.Errorf("state = %+v", l)
	}
}

func TestRefusesFork(t *testing.T) {
	f := newFixture(t)
	if _, err := f.w.Cosign(f.log.checkpoint(t, 5), nil); err != nil {
		t.Fatal(err)
	}

	// Same size, another root: the log shows two histories.
	fork := &memTree{}
	fork.grow(t, 5, "rewritten ")
	_, err := f.w.Cosign(f.log.sign(t, 5, fork.root(t, 5)), nil)
	wantErr(t, err, ErrFork, "at size 5 has root")

	// Larger, but built on the rewritten history: its honest proof from the
	// rewritten size 5 does not lead from the root the witness cosigned.
	fork.grow(t, 9, "rewritten ")
	_, err = f.w.Cosign(f.log.sign(t, 9, fork.root(t, 9)), fork.proof(t, 5, 9))
	wantErr(t, err, ErrInconsistent, "at size 9 from size 5")

	// Larger with no proof, and with a proof for other sizes.
	f.log.tree.grow(t, 9, "record ")
	_, err = f.w.Cosign(f.log.checkpoint(t, 9), nil)
	wantErr(t, err, ErrInconsistent, "")
	_, err = f.w.Cosign(f.log.checkpoint(t, 9), f.log.tree.proof(t, 4, 9))
	wantErr(t, err, ErrInconsistent, "")

	// Nothing above changed the state: the honest extension still cosigns.
	if _, err := f.w.Cosign(f.log.checkpoint(t, 9), f.log.tree.proof(t, 5, 9)); err != nil {
		t.Fatal(err)
	}
}

func TestRefusesRollback(t *testing.T) {
	f := newFixture(t)
	old := f.log.checkpoint(t, 4)
	if _, err := f.w.Cosign(old, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.w.Cosign(f.log.checkpoint(t, 6), f.log.tree.proof(t, 4, 6)); err != nil {
		t.Fatal(err)
	}
	_, err := f.w.Cosign(old, nil)
	wantErr(t, err, ErrRollback, "at size 4, but the witness cosigned size 6")
}

func TestRefusesUntrustedKey(t *testing.T) {
	f := newFixture(t)
	// Signed by another key under the same name and origin.
	impostor := newTestLog(t, testOrigin)
	_, err := f.w.Cosign(impostor.checkpoint(t, 3), nil)
	wantErr(t, err, ErrUntrusted, "")

	// A log the witness was never told about is not trusted on first use.
	other := newTestLog(t, "cairn.example/ledger/other")
	_, err = f.w.Cosign(other.checkpoint(t, 3), nil)
	wantErr(t, err, ErrUnknownLog, "add its key with AddLog")

	// A log key whose name is not the origin is fine if it was added.
	if err := f.w.AddLog(other.origin, other.vkey); err != nil {
		t.Fatal(err)
	}
	if _, err := f.w.Cosign(other.checkpoint(t, 3), nil); err != nil {
		t.Fatal(err)
	}
	// An impostor's checkpoint must not become the witness's state.
	s, _ := f.w.State()
	if s.Logs[testOrigin].Checkpoint != "" {
		t.Error("refused checkpoint was recorded")
	}
}

func TestCosignatureLayout(t *testing.T) {
	f := newFixture(t)
	f.log.ext = "extension line one\n"
	cp := f.log.checkpoint(t, 3)
	cosigned, err := f.w.Cosign(cp, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The last line is the witness's: "— <name> base64(keyID || u64 time || sig)".
	lines := strings.Split(strings.TrimSuffix(string(cosigned), "\n"), "\n")
	line := lines[len(lines)-1]
	prefix := "— " + witnessName + " "
	if !strings.HasPrefix(line, prefix) {
		t.Fatalf("last line %q", line)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(line, prefix))
	if err != nil || len(raw) != 4+8+64 {
		t.Fatalf("signature %q: %d bytes, %v", line, len(raw), err)
	}
	id := sha256.Sum256(append([]byte(witnessName+"\n\x04"), f.pub...))
	if !bytes.Equal(raw[:4], id[:4]) {
		t.Errorf("key ID %x, want %x", raw[:4], id[:4])
	}
	if ts := binary.BigEndian.Uint64(raw[4:12]); ts != uint64(f.clock.Unix()) {
		t.Errorf("timestamp %d, want %d", ts, f.clock.Unix())
	}
	body := f.log.body(3, f.log.tree.root(t, 3))
	msg := fmt.Sprintf("cosignature/v1\ntime %d\n%s", f.clock.Unix(), body)
	if !strings.Contains(msg, "extension line one\n") || !ed25519.Verify(f.pub, []byte(msg), raw[12:]) {
		t.Error("signature does not verify over cosignature/v1, time and the whole body")
	}

	// The verifier key has the C2SP vkey form and parses back.
	vkey, err := VerifierKey(witnessName, f.pub)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%s+%x+%s", witnessName, id[:4], base64.StdEncoding.EncodeToString(append([]byte{4}, f.pub...)))
	if vkey != want || f.w.Cosigner().VerifierKey() != want {
		t.Errorf("VerifierKey = %q, want %q", vkey, want)
	}
	v, err := NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CosignedAt(cosigned, v); err != nil {
		t.Error(err)
	}
	// A plain Ed25519 (0x01) key is not a cosignature key, and a cosignature key
	// is not a plain note key: the algorithm byte keeps them apart.
	if _, err := NewVerifier(f.log.vkey); err == nil {
		t.Error("NewVerifier accepted an Ed25519 note key")
	}
	if _, err := note.NewVerifier(vkey); err == nil {
		t.Error("note.NewVerifier accepted a cosignature key")
	}

	// A changed body or time fails.
	if v.Verify([]byte(strings.Replace(body, "\n3\n", "\n4\n", 1)), raw[4:]) {
		t.Error("cosignature verified over another body")
	}
	bad := bytes.Clone(raw[4:])
	bad[7]++
	if v.Verify([]byte(body), bad) {
		t.Error("cosignature verified with another time")
	}
}

func TestRecosignReplacesOwnLine(t *testing.T) {
	f := newFixture(t)
	cp := f.log.checkpoint(t, 3)
	first, err := f.w.Cosign(cp, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.clock = f.clock.Add(time.Hour)
	second, err := f.w.Cosign(first, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(second), "— "+witnessName+" "); n != 1 {
		t.Fatalf("%d cosignature lines, want 1:\n%s", n, second)
	}
	f.checkCosigned(t, second, cp)

	// The clock stepping back does not date a cosignature before the last one.
	f.clock = f.clock.Add(-24 * time.Hour)
	third, err := f.w.Cosign(cp, nil)
	if err != nil {
		t.Fatal(err)
	}
	at, _ := CosignedAt(third, f.verifier(t))
	if want := f.clock.Add(24 * time.Hour); !at.Equal(want) {
		t.Errorf("cosignature at %v, want %v", at, want)
	}
}

func TestStateSurvivesReopen(t *testing.T) {
	f := newFixture(t)
	if _, err := f.w.Cosign(f.log.checkpoint(t, 10), nil); err != nil {
		t.Fatal(err)
	}
	w2 := f.open(t)
	_, err := w2.Cosign(f.log.checkpoint(t, 9), nil)
	wantErr(t, err, ErrRollback, "")
	if _, err := w2.Cosign(f.log.checkpoint(t, 12), f.log.tree.proof(t, 10, 12)); err != nil {
		t.Fatal(err)
	}
	// The first handle sees the second's update: state is reread per operation,
	// so two processes sharing the file cannot cosign two histories.
	fork := &memTree{}
	fork.grow(t, 12, "rewritten ")
	_, err = f.w.Cosign(f.log.sign(t, 12, fork.root(t, 12)), nil)
	wantErr(t, err, ErrFork, "")

	data, err := os.ReadFile(f.path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseState(data)
	if err != nil {
		t.Fatal(err)
	}
	if l := s.Logs[testOrigin]; l.Size != 12 || len(l.Keys) != 1 || l.Keys[0] != f.log.vkey {
		t.Errorf("state = %+v", l)
	}
	// No temporary files are left beside the state.
	ents, _ := os.ReadDir(filepath.Dir(f.path))
	for _, e := range ents {
		if e.Name() != "witness.json" && e.Name() != "witness.json.lock" {
			t.Errorf("stray file %s", e.Name())
		}
	}
	// A corrupt state file is an error, not a fresh start.
	os.WriteFile(f.path, []byte(`{"version":1,"logs":{"x":{"keys":[]}}}`), 0o644)
	if _, err := Open(f.path, f.w.Cosigner()); err == nil {
		t.Error("Open accepted a corrupt state file")
	}
}

func TestParseStateRejects(t *testing.T) {
	f := newFixture(t)
	cp := f.log.checkpoint(t, 2)
	if _, err := f.w.Cosign(cp, nil); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(f.path)
	if _, err := ParseState(good); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(string) string{
		"version":       func(s string) string { return strings.Replace(s, `"version": 1`, `"version": 2`, 1) },
		"unknown field": func(s string) string { return strings.Replace(s, `"version": 1`, `"version": 1, "x": 0`, 1) },
		"size":          func(s string) string { return strings.Replace(s, `"size": 2`, `"size": 3`, 1) },
		"trailing":      func(s string) string { return s + "{}" },
		"key":           func(s string) string { return strings.Replace(s, f.log.vkey, "nope", 1) },
	} {
		if _, err := ParseState([]byte(edit(string(good)))); err == nil {
			t.Errorf("%s: ParseState accepted the edited state", name)
		}
	}
}

func wantErr(t *testing.T, err, kind error, substr string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", kind)
	}
	if !errors.Is(err, kind) || !strings.Contains(err.Error(), substr) {
		t.Fatalf("error %q, want %v containing %q", err, kind, substr)
	}
}
