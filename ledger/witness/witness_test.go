package witness

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/cairn-ledger/cairn/ledger"
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
	dir   string
	clock time.Time
	pub   ed25519.PublicKey
	key   ed25519.PrivateKey
	// sizes is what the client believes the witness cosigned last, per origin.
	studio *fakeStudio
}

const witnessName = "legal.example.com/cairn-witness"

func newFixture(t testing.TB) *fixture {
	t.Helper()
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{log: newTestLog(t, testOrigin), dir: filepath.Join(t.TempDir(), "state"),
		clock: time.Unix(1_760_000_000, 0), pub: pub, key: key}
	f.w = f.open(t)
	if _, err := f.w.AddLog(testOrigin, f.log.vkey); err != nil {
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
	st, err := OpenStore(f.dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w := New(st, c)
	w.SetClock(func() time.Time { return f.clock })
	return w
}

// reopen closes the witness's store and opens it again, as a restart does.
func (f *fixture) reopen(t testing.TB) {
	t.Helper()
	if err := f.w.Store().Close(); err != nil {
		t.Fatal(err)
	}
	f.w = f.open(t)
	if f.studio != nil {
		f.w.SetStudioLog(f.studio)
	}
}

// add sends the log's checkpoint of n records from old, with the honest proof.
func (f *fixture) add(t testing.TB, old, n int64) (*Cosigned, error) {
	t.Helper()
	cp := f.log.checkpoint(t, n)
	var proof tlog.TreeProof
	if old > 0 && old < n {
		proof = f.log.tree.proof(t, old, n)
	}
	return f.w.AddCheckpoint(context.Background(), old, proof, cp)
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
		f.clock = f.clock.Add(time.Minute)
		cs, err := f.add(t, last, n)
		if err != nil {
			t.Fatalf("AddCheckpoint size %d from %d: %v", n, last, err)
		}
		if n != last { // the same checkpoint again keeps its first cosignature
			f.checkCosigned(t, cs.Note, f.log.checkpoint(t, n))
		}
		if !bytes.HasSuffix(cs.Note, cs.Line) || !bytes.HasPrefix(cs.Line, []byte("— "+witnessName+" ")) {
			t.Fatalf("line %q is not the note's last line:\n%s", cs.Line, cs.Note)
		}
		last = n
	}
	r, err := f.w.Record(testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	if r.Size != 1000 || r.Root != f.log.tree.root(t, 1000) || r.Time != f.clock.Unix() || r.Checkpoint != string(f.log.checkpoint(t, 1000)) {
		t.Errorf("record = %+v", r)
	}
}

func TestRefusesFork(t *testing.T) {
	f := newFixture(t)
	f.studio = &fakeStudio{origin: "studio.example/log"}
	f.w.SetStudioLog(f.studio)
	if _, err := f.add(t, 0, 5); err != nil {
		t.Fatal(err)
	}

	// Same size, another root: the log shows two histories.
	fork := &memTree{}
	fork.grow(t, 5, "rewritten ")
	forked := f.log.sign(t, 5, fork.root(t, 5))
	_, err := f.w.AddCheckpoint(context.Background(), 5, nil, forked)
	wantErr(t, err, ErrFork, "at size 5 has root")
	if Status(err) != 422 {
		t.Errorf("status %d", Status(err))
	}
	// With a stale old size it is a conflict, but still kept as evidence.
	_, err = f.w.AddCheckpoint(context.Background(), 3, fork.proof(t, 3, 5), forked)
	wantErr(t, err, ErrStale, "cosigned size 5")

	// Larger, but built on the rewritten history: its honest proof from the
	// rewritten size 5 does not lead from the root the witness cosigned.
	fork.grow(t, 9, "rewritten ")
	_, err = f.w.AddCheckpoint(context.Background(), 5, fork.proof(t, 5, 9), f.log.sign(t, 9, fork.root(t, 9)))
	wantErr(t, err, ErrInconsistent, "at size 9 from size 5")

	// Larger with no proof, and with a proof for other sizes.
	f.log.tree.grow(t, 9, "record ")
	_, err = f.w.AddCheckpoint(context.Background(), 5, nil, f.log.checkpoint(t, 9))
	wantErr(t, err, ErrInconsistent, "")
	_, err = f.w.AddCheckpoint(context.Background(), 5, f.log.tree.proof(t, 4, 9), f.log.checkpoint(t, 9))
	wantErr(t, err, ErrInconsistent, "")

	// The studio log holds the cosigned checkpoint and, as evidence, each
	// refused one the log signed: the fork (twice: once per request) and the
	// rewritten 9. Honest ones that lacked a proof are not evidence of anything
	// and are not kept, but they are refused all the same.
	if len(f.studio.entries) != 1 || len(f.studio.refused) != 5 {
		t.Fatalf("studio log: %d entries, %d refused; want 1 and 5", len(f.studio.entries), len(f.studio.refused))
	}
	if !bytes.Equal(f.studio.refused[0], forked) {
		t.Errorf("refused entry:\n%s\nwant\n%s", f.studio.refused[0], forked)
	}

	// Nothing above changed the state: the honest extension still cosigns.
	if _, err := f.add(t, 5, 9); err != nil {
		t.Fatal(err)
	}
}

func TestRefusesRollback(t *testing.T) {
	f := newFixture(t)
	if _, err := f.add(t, 0, 4); err != nil {
		t.Fatal(err)
	}
	if _, err := f.add(t, 4, 6); err != nil {
		t.Fatal(err)
	}
	_, err := f.add(t, 4, 4)
	wantErr(t, err, ErrRollback, "but the witness cosigned size 6")
	var ce *ConflictError
	if !errors.As(err, &ce) || ce.Size != 6 || Status(err) != 409 {
		t.Errorf("error %v: want a conflict at size 6", err)
	}
	// A stale old size on a good checkpoint is a conflict that names the size.
	_, err = f.add(t, 4, 8)
	if !errors.As(err, &ce) || ce.Size != 6 || ce.Rollback {
		t.Fatalf("error %v: want a conflict at size 6, no rollback", err)
	}
	if _, err := f.add(t, ce.Size, 8); err != nil {
		t.Fatal(err)
	}
}

func TestRefusesBadRequests(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// Signed by another key under the same name and origin.
	impostor := newTestLog(t, testOrigin)
	_, err := f.w.AddCheckpoint(ctx, 0, nil, impostor.checkpoint(t, 3))
	wantErr(t, err, ErrUntrusted, "")
	if Status(err) != 403 {
		t.Errorf("status %d", Status(err))
	}
	// A signature line with the trusted key's name and ID that fails.
	cp := f.log.checkpoint(t, 3)
	_, err = f.w.AddCheckpoint(ctx, 0, nil, corruptLastSignature(t, cp))
	wantErr(t, err, ErrUntrusted, "does not verify")

	// A log the witness was never told about is not trusted on first use.
	other := newTestLog(t, "cairn.example/ledger/other")
	_, err = f.w.AddCheckpoint(ctx, 0, nil, other.checkpoint(t, 3))
	wantErr(t, err, ErrUnknownLog, "trust its key first")
	if Status(err) != 404 {
		t.Errorf("status %d", Status(err))
	}
	// A log key whose name is not the origin is fine if it was added.
	if _, err := f.w.AddLog(other.origin, other.vkey); err != nil {
		t.Fatal(err)
	}
	if _, err := f.w.AddCheckpoint(ctx, 0, nil, other.checkpoint(t, 3)); err != nil {
		t.Fatal(err)
	}
	// An old size above the checkpoint's is malformed; so is a note that is not one.
	_, err = f.w.AddCheckpoint(ctx, 4, nil, cp)
	wantErr(t, err, ErrMalformed, "larger than the checkpoint's 3")
	if Status(err) != 400 {
		t.Errorf("status %d", Status(err))
	}
	_, err = f.w.AddCheckpoint(ctx, 0, nil, []byte(testOrigin+"\n3\n"))
	wantErr(t, err, ErrMalformed, "")
	// A proof from size 0 must be empty.
	_, err = f.w.AddCheckpoint(ctx, 0, tlog.TreeProof{{}}, cp)
	wantErr(t, err, ErrInconsistent, "from size 0 must be empty")
	// A size-0 checkpoint must have the empty tree's root.
	_, err = f.w.AddCheckpoint(ctx, 0, nil, f.log.sign(t, 0, tlog.Hash{1}))
	wantErr(t, err, ErrInconsistent, "empty tree's root")
	if _, err := f.w.AddCheckpoint(ctx, 0, nil, f.log.sign(t, 0, ledger.EmptyRoot)); err != nil {
		t.Errorf("the empty checkpoint: %v", err)
	}
	// No refused checkpoint became the witness's state.
	r, _ := f.w.Record(testOrigin)
	if r.Size != 0 || r.Root != ledger.EmptyRoot {
		t.Errorf("record = %+v", r)
	}
}

func TestCosignatureLayout(t *testing.T) {
	f := newFixture(t)
	f.log.ext = "extension line one\n"
	cp := f.log.checkpoint(t, 3)
	cs, err := f.w.AddCheckpoint(context.Background(), 0, nil, cp)
	if err != nil {
		t.Fatal(err)
	}
	cosigned := cs.Note
	// The last line is the witness's: "— <name> base64(keyID || u64 time || sig)".
	lines := strings.Split(strings.TrimSuffix(string(cosigned), "\n"), "\n")
	line := lines[len(lines)-1]
	prefix := "— " + witnessName + " "
	if !strings.HasPrefix(line, prefix) || string(cs.Line) != line+"\n" {
		t.Fatalf("last line %q, answer %q", line, cs.Line)
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

func TestResendIsIdempotent(t *testing.T) {
	f := newFixture(t)
	first, err := f.add(t, 0, 3)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := f.w.Record(testOrigin)
	f.clock = f.clock.Add(time.Hour)
	// The same checkpoint, with the witness's own cosignature on it already and
	// an unknown signature: the same answer, and the state does not change.
	again := append(bytes.Clone(first.Note), []byte("— someone.else AAAAAAAAAAAAAAAAAAAA\n")...)
	second, err := f.w.AddCheckpoint(context.Background(), 3, nil, again)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(second.Line, first.Line) || !bytes.Equal(second.Note, first.Note) {
		t.Fatalf("second answer differs:\n%s\n%s", first.Note, second.Note)
	}
	after, _ := f.w.Record(testOrigin)
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Errorf("record changed: %+v, then %+v", before, after)
	}
	if n := strings.Count(string(second.Note), "— "+witnessName+" "); n != 1 {
		t.Fatalf("%d cosignature lines, want 1:\n%s", n, second.Note)
	}

	// The clock stepping back does not date a cosignature before the last one.
	f.clock = f.clock.Add(-24 * time.Hour)
	third, err := f.add(t, 3, 4)
	if err != nil {
		t.Fatal(err)
	}
	at, _ := CosignedAt(third.Note, f.verifier(t))
	if want := f.clock.Add(23 * time.Hour); !at.Equal(want) {
		t.Errorf("cosignature at %v, want %v", at, want)
	}
}

func TestStateSurvivesReopen(t *testing.T) {
	f := newFixture(t)
	if _, err := f.add(t, 0, 10); err != nil {
		t.Fatal(err)
	}
	f.reopen(t)
	_, err := f.add(t, 9, 9)
	wantErr(t, err, ErrRollback, "")
	if _, err := f.add(t, 10, 12); err != nil {
		t.Fatal(err)
	}
	fork := &memTree{}
	fork.grow(t, 12, "rewritten ")
	_, err = f.w.AddCheckpoint(context.Background(), 12, nil, f.log.sign(t, 12, fork.root(t, 12)))
	wantErr(t, err, ErrFork, "")

	// The store is one process's: a second cannot open it while the first has it.
	if _, err := OpenStore(f.dir, 10*time.Millisecond); !errors.Is(err, ErrStoreLocked) || !strings.Contains(err.Error(), "held by process") {
		t.Errorf("second OpenStore: %v", err)
	}
	// The monitoring lookup finds the log by the SHA-256 of its origin.
	latest, err := f.w.Latest(sha256.Sum256([]byte(testOrigin)))
	if err != nil || !bytes.HasPrefix(latest, f.log.checkpoint(t, 12)) {
		t.Errorf("Latest: %v\n%s", err, latest)
	}
	if latest, err := f.w.Latest(sha256.Sum256([]byte("nobody"))); latest != nil || err != nil {
		t.Errorf("Latest of an unknown log: %q, %v", latest, err)
	}
}

// A fakeStudio is a studio log in memory; it fails while fail is set.
type fakeStudio struct {
	origin  string
	entries [][]byte
	refused [][]byte
	fail    bool
}

func (s *fakeStudio) Origin() string { return s.origin }
func (s *fakeStudio) Append(_ context.Context, e []byte) (int64, error) {
	if s.fail {
		return 0, errors.New("disk full")
	}
	s.entries = append(s.entries, bytes.Clone(e))
	return int64(len(s.entries) - 1), nil
}
func (s *fakeStudio) Refused(e []byte) { s.refused = append(s.refused, bytes.Clone(e)) }

func TestStudioLogGetsEveryCosignature(t *testing.T) {
	f := newFixture(t)
	// Cosigned before the witness kept a studio log.
	if _, err := f.add(t, 0, 2); err != nil {
		t.Fatal(err)
	}
	f.studio = &fakeStudio{origin: "studio.example/log"}
	f.w.SetStudioLog(f.studio)
	if n, err := f.w.CatchUpStudio(context.Background()); n != 1 || err != nil {
		t.Fatalf("CatchUpStudio = %d, %v", n, err)
	}
	cs, err := f.add(t, 2, 5)
	if err != nil {
		t.Fatal(err)
	}
	if cs.Studio == nil || cs.Studio.Index != 1 || !bytes.Equal(f.studio.entries[1], cs.Note) {
		t.Fatalf("studio ref %+v, entries %q", cs.Studio, f.studio.entries)
	}
	// The studio log fails: the checkpoint is recorded but not answered (503);
	// sending it again, or a restart, logs it.
	f.studio.fail = true
	_, err = f.add(t, 5, 7)
	wantErr(t, err, ErrUnavailable, "disk full")
	if Status(err) != 503 {
		t.Errorf("status %d", Status(err))
	}
	f.studio.fail = false
	f.reopen(t)
	if n, err := f.w.CatchUpStudio(context.Background()); n != 1 || err != nil {
		t.Fatalf("CatchUpStudio = %d, %v", n, err)
	}
	cs, err = f.add(t, 7, 7)
	if err != nil {
		t.Fatal(err)
	}
	if cs.Studio == nil || cs.Studio.Index != 2 || len(f.studio.entries) != 3 {
		t.Fatalf("studio ref %+v, %d entries", cs.Studio, len(f.studio.entries))
	}
	f.checkCosigned(t, f.studio.entries[2], f.log.checkpoint(t, 7))
}

func TestImportJSONState(t *testing.T) {
	f := newFixture(t)
	cp := f.log.checkpoint(t, 4)
	// What an earlier release wrote: the note as received, with a stranger's line.
	received := string(cp) + "— someone.else AAAAAAAAAAAAAAAAAAAA\n"
	state := fmt.Sprintf(`{"version": 1, "logs": {%q: {"keys": [%q], "size": 4, "root": %q, "checkpoint": %q, "time": 1760000000}}}`,
		testOrigin, f.log.vkey, base64.StdEncoding.EncodeToString(func() []byte { r := f.log.tree.root(t, 4); return r[:] }()), received)
	// Not into a store that has logs.
	if _, err := f.w.Store().Import([]byte(state)); err == nil || !strings.Contains(err.Error(), "only into a new one") {
		t.Fatalf("Import into a used store: %v", err)
	}
	f.dir = filepath.Join(t.TempDir(), "fresh")
	f.w = f.open(t)
	if !f.w.Store().Created() {
		t.Error("a new store does not say it was created")
	}
	if n, err := f.w.Store().Import([]byte(state)); n != 1 || err != nil {
		t.Fatalf("Import = %d, %v", n, err)
	}
	r, err := f.w.Record(testOrigin)
	if err != nil || r.Size != 4 || r.Checkpoint != string(cp) || r.Cosignature != "" || r.Time != 1760000000 {
		t.Fatalf("imported record %+v, %v", r, err)
	}
	// The imported state is the witness's: a rollback is refused, and the next
	// checkpoint must be proven from size 4.
	_, err = f.add(t, 3, 3)
	wantErr(t, err, ErrRollback, "")
	if _, err := f.add(t, 4, 6); err != nil {
		t.Fatal(err)
	}
	f.reopen(t)
	if f.w.Store().Created() {
		t.Error("a reopened store says it was created")
	}
}

func TestParseStateRejects(t *testing.T) {
	f := newFixture(t)
	cp := f.log.checkpoint(t, 2)
	root := f.log.tree.root(t, 2)
	good := fmt.Sprintf("{\n\t\"version\": 1,\n\t\"logs\": {%q: {\"keys\": [%q], \"size\": 2, \"root\": %q, \"checkpoint\": %q}}}",
		testOrigin, f.log.vkey, base64.StdEncoding.EncodeToString(root[:]), cp)
	if _, err := ParseState([]byte(good)); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(string) string{
		"version":       func(s string) string { return strings.Replace(s, `"version": 1`, `"version": 2`, 1) },
		"unknown field": func(s string) string { return strings.Replace(s, `"version": 1`, `"version": 1, "x": 0`, 1) },
		"size":          func(s string) string { return strings.Replace(s, `"size": 2`, `"size": 3`, 1) },
		"trailing":      func(s string) string { return s + "{}" },
		"key":           func(s string) string { return strings.Replace(s, f.log.vkey, "nope", 1) },
	} {
		if _, err := ParseState([]byte(edit(good))); err == nil {
			t.Errorf("%s: ParseState accepted the edited state", name)
		}
	}
}

func TestParseRequest(t *testing.T) {
	f := newFixture(t)
	cp := f.log.checkpoint(t, 9)
	proof := f.log.tree.proof(t, 4, 9)
	body := FormatRequest(4, proof, cp)
	old, p, c, err := ParseRequest(body)
	if err != nil || old != 4 || fmt.Sprint(p) != fmt.Sprint(proof) || !bytes.Equal(c, cp) {
		t.Fatalf("ParseRequest = %d, %v, %q, %v", old, p, c, err)
	}
	h := base64.StdEncoding.EncodeToString(make([]byte, 32))
	for name, b := range map[string]string{
		"no newline":    "old 4",
		"leading zero":  "old 04\n\n" + string(cp),
		"negative":      "old -1\n\n" + string(cp),
		"no empty line": "old 4\n" + h + "\n",
		"short hash":    "old 4\nAAAA\n\n" + string(cp),
		"64 hashes":     "old 4\n" + strings.Repeat(h+"\n", 64) + "\n" + string(cp),
		"no checkpoint": "old 0\n\n",
		"OLD":           "OLD 4\n\n" + string(cp),
		"two spaces":    "old  4\n\n" + string(cp),
		"spaced hash":   "old 4\n " + h + "\n\n" + string(cp),
	} {
		if _, _, _, err := ParseRequest([]byte(b)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: ParseRequest error %v, want ErrMalformed", name, err)
		}
	}
	if _, _, _, err := ParseRequest([]byte("old 4\n" + strings.Repeat(h+"\n", 63) + "\n" + string(cp))); err != nil {
		t.Errorf("63 hashes: %v", err)
	}
}

// corruptLastSignature flips a bit of the Ed25519 signature in the note's last
// signature line, keeping its name, key ID and base64 form.
func corruptLastSignature(t testing.TB, n []byte) []byte {
	t.Helper()
	text := strings.TrimSuffix(string(n), "\n")
	i := strings.LastIndex(text, " ")
	raw, err := base64.StdEncoding.DecodeString(text[i+1:])
	if err != nil || len(raw) < 10 {
		t.Fatalf("last signature line of %q", n)
	}
	raw[len(raw)-10] ^= 1
	return []byte(text[:i+1] + base64.StdEncoding.EncodeToString(raw) + "\n")
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
