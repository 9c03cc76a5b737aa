package archive_test

import (
	"archive/tar"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/ledger"
	"github.com/cairn-ledger/cairn/ledger/archive"
	"github.com/cairn-ledger/cairn/ledger/studio"
)

// addStudioProof stores, beside the fixture's cosignature, a studio log proof:
// the cosigned note is entry 1 of a two-entry studio log, whose checkpoint has a
// token.
func addStudioProof(t *testing.T, f *fixture) ledger.StudioProof {
	t.Helper()
	l := f.book.Ledger
	cos, err := l.Cosignatures()
	if err != nil || len(cos) != 1 {
		t.Fatalf("cosignatures %v, %v", cos, err)
	}
	other := tlog.RecordHash([]byte("another ledger's checkpoint"))
	leaf := tlog.RecordHash(cos[0].Note)
	_, skey, _ := ed25519.GenerateKey(rand.Reader)
	body := (&ledger.Checkpoint{Origin: "studio.example/log", Size: 2, Root: tlog.NodeHash(other, leaf)}).Body()
	cp, err := note.Sign(&note.Note{Text: body}, ledger.NoteSigner("studio.example/log", skey))
	if err != nil {
		t.Fatal(err)
	}
	p := &studio.Proof{Index: 1, Path: tlog.RecordProof{other}, Checkpoint: cp}
	sp := ledger.StudioProof{Size: cos[0].Size, Witness: cos[0].Witness, Proof: p.Marshal(), Token: tsaToken(t, cp)}
	if err := l.PutStudioProof(sp); err != nil {
		t.Fatal(err)
	}
	return sp
}

// TestStudioProofsArchived: an archive carries the studio log's proofs of
// cosignatures (format v2, a tlog-proof and a token member after the
// cosignature), checks them, and restores them; a v1 label on it is refused.
func TestStudioProofsArchived(t *testing.T) {
	f := newFixture(t, 3)
	plain := f.archive(t)
	sp := addStudioProof(t, f)
	data := f.archive(t)

	rep, err := archive.Verify(bytes.NewReader(data), archive.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Manifest.Format != archive.Format || rep.Studio != 1 {
		t.Fatalf("format %q, %d studio log proofs", rep.Manifest.Format, rep.Studio)
	}
	if rep, err := archive.Verify(bytes.NewReader(plain), archive.Options{}); err != nil || rep.Manifest.Format != archive.FormatV1 {
		t.Fatalf("an archive without studio log proofs: %v, %v", rep, err)
	}
	names := tarNames(t, data)
	want := []string{"cosignatures/", "studio/", ".tlog-proof", "studio/", ".tsr"}
	if !strings.Contains(strings.Join(names, " "), "-0.note studio/") || !containsAll(names, want) {
		t.Errorf("members %v", names)
	}

	dir := filepath.Join(t.TempDir(), "restored")
	store := evidence.NewFileStore(filepath.Join(dir, "files"))
	if _, err := archive.Restore(bytes.NewReader(data), filepath.Join(dir, "ledger"), func(r io.Reader) (string, error) {
		ref, err := store.AddReader(r)
		return ref.SHA256, err
	}, archive.Options{}); err != nil {
		t.Fatal(err)
	}
	nb, err := evidence.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer nb.Close()
	got, err := nb.Ledger.StudioProofs()
	if err != nil || len(got) != 1 || !bytes.Equal(got[0].Proof, sp.Proof) || !bytes.Equal(got[0].Token, sp.Token) {
		t.Fatalf("restored studio log proofs %v, %v", got, err)
	}

	// A v1 label on an archive with studio log proofs, and a proof that does
	// not lead to its checkpoint's root, are refused.
	m := manifestOf(t, data)
	m.Format = archive.FormatV1
	if _, err := archive.ParseManifest(mustJSON(t, m)); err == nil || !strings.Contains(err.Error(), "has no studio log proofs") {
		t.Errorf("v1 with studio members: %v", err)
	}
	sp.Proof = bytes.Replace(sp.Proof, []byte("index 1\n"), []byte("index 0\n"), 1)
	if err := f.book.Ledger.PutStudioProof(sp); err != nil {
		t.Fatal(err)
	}
	if _, err := archive.Verify(bytes.NewReader(f.archive(t)), archive.Options{}); err == nil || !strings.Contains(err.Error(), "member studio/") || !strings.Contains(err.Error(), "is not entry 0 of the studio log") {
		t.Errorf("a wrong studio log proof: %v", err)
	}
}

func tarNames(t *testing.T, data []byte) []string {
	t.Helper()
	var out []string
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, h.Name)
	}
}

func containsAll(names, parts []string) bool {
	all := strings.Join(names, " ")
	for _, p := range parts {
		if !strings.Contains(all, p) {
			return false
		}
	}
	return true
}

func manifestOf(t *testing.T, data []byte) *archive.Manifest {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(data))
	if _, err := tr.Next(); err != nil {
		t.Fatal(err)
	}
	mj, _ := io.ReadAll(tr)
	m, err := archive.ParseManifest(mj)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}
