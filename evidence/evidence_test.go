package evidence

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cairn-ledger/cairn/ledger"
)

func newBook(t *testing.T) (*Book, *Identity) {
	t.Helper()
	id, err := NewIdentity("Ada Lovelace", "ada@example.com", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := Init(filepath.Join(t.TempDir(), DirName), id)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b, id
}

func TestStepEncodingIsExact(t *testing.T) {
	s := &Step{Kind: KindPrompt, Asset: "poster", Text: "<b>één 🦊</b> & \"quotes\"\n\ttab", Params: map[string]string{"z": "1", "a": "2"}}
	if err := s.Normalize(); err != nil {
		t.Fatal(err)
	}
	p, err := s.Encode()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"v":1,"kind":"prompt","asset":"poster","by":"human","params":{"a":"2","z":"1"},"text":"<b>één 🦊</b> & \"quotes\"\n\ttab"}`
	if string(p) != want {
		t.Errorf("encoding:\n got %s\nwant %s", p, want)
	}
	back, err := DecodeStep(p)
	if err != nil {
		t.Fatal(err)
	}
	if back.Text != s.Text {
		t.Errorf("text changed in a round trip: %q", back.Text)
	}
	if _, err := DecodeStep([]byte(`{"v":1,"kind":"note","asset":"a","text":"x","surprise":1}`)); err == nil {
		t.Error("a payload with an unknown field decoded")
	}
	if _, err := DecodeStep([]byte(`{"v":2,"kind":"note"}`)); err == nil || !strings.Contains(err.Error(), "version 2") {
		t.Errorf("a version-2 payload: %v", err)
	}
}

func TestValidateRefuses(t *testing.T) {
	f := &FileRef{Name: "a.png", SHA256: strings.Repeat("a", 64)}
	g := FileRef{Name: "b.png", SHA256: strings.Repeat("b", 64)}
	for _, c := range []struct {
		s    Step
		want string
	}{
		{Step{Kind: KindPrompt, Asset: "p", Text: "  "}, "the prompt is empty"},
		{Step{Kind: KindPrompt, Asset: "p", Text: "a\xffb"}, "the prompt is not valid UTF-8 (bad byte 0xff at offset 1)"},
		{Step{Kind: KindPrompt, Asset: "p", Text: strings.Repeat("x", MaxTextBytes+1)}, "cairn records at most 256.0 KiB"},
		{Step{Kind: KindPrompt, Text: "x"}, "no asset"},
		{Step{Kind: KindPrompt, Asset: "a b", Text: "x"}, "is not valid"},
		{Step{Kind: KindPrompt, Asset: "p", Text: "x", By: "robot"}, `--by "robot"`},
		{Step{Kind: KindGenerate, Asset: "p", Tool: "mj"}, "at least one output"},
		{Step{Kind: KindGenerate, Asset: "p", Out: []FileRef{g}}, "needs the tool"},
		{Step{Kind: KindSelect, Asset: "p", File: f, From: []FileRef{g}}, "candidates it chose among"},
		{Step{Kind: KindEdit, Asset: "p", Before: f}, "both --before FILE and --after FILE"},
		{Step{Kind: KindInput, Asset: "p", File: f, Permission: "maybe"}, `--permission "maybe"`},
		{Step{Kind: KindDisclose, Asset: "p", Date: "2026-13-01"}, "is not a date"},
		{Step{Kind: KindAsset, Asset: "p", Basis: "theft"}, `--basis "theft"`},
		{Step{Kind: "dance", Asset: "p"}, `unknown step kind "dance"`},
	} {
		s := c.s
		err := s.Normalize()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %+v: error %v, want one containing %q", c.s.Kind, c.s, err, c.want)
		}
		if err != nil && !IsInputError(err) {
			t.Errorf("%s: %v is not an input error", c.s.Kind, err)
		}
	}
}

func TestSelectRecordsRejected(t *testing.T) {
	ref := func(c byte) FileRef { return FileRef{Name: string(c) + ".png", SHA256: strings.Repeat(string(c), 64)} }
	a, b, c := ref('a'), ref('b'), ref('c')
	s := &Step{Kind: KindSelect, Asset: "p", File: &b, From: []FileRef{a, c}}
	if err := s.Normalize(); err != nil {
		t.Fatal(err)
	}
	if len(s.From) != 3 || s.From[0].SHA256 != b.SHA256 {
		t.Errorf("the chosen file is not among the candidates: %+v", s.From)
	}
	if len(s.Rejected) != 2 || s.Rejected[0].SHA256 != a.SHA256 || s.Rejected[1].SHA256 != c.SHA256 {
		t.Errorf("rejected = %+v, want a and c", s.Rejected)
	}
}

// zeros yields n zero bytes without holding them.
type zeros struct{ n int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > z.n {
		p = p[:z.n]
	}
	clear(p)
	z.n -= int64(len(p))
	return len(p), nil
}

// TestFileStoreStreams stores a file much larger than the memory it may use.
func TestFileStoreStreams(t *testing.T) {
	size := int64(512 << 20)
	if testing.Short() {
		size = 32 << 20
	}
	fs := NewFileStore(t.TempDir())
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	ref, err := fs.AddReader(&zeros{size})
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 8<<20 {
		t.Errorf("storing %d MiB allocated %d MiB", size>>20, grew>>20)
	}
	h := sha256.New()
	io.Copy(h, &zeros{size})
	if want := hex.EncodeToString(h.Sum(nil)); ref.SHA256 != want || ref.Size != size {
		t.Errorf("ref %+v, want sha256 %s size %d", ref, want, size)
	}
	if err := fs.Check(ref); err != nil {
		t.Fatal(err)
	}
	// Content addressing: the same content is stored once.
	p, _ := fs.Path(ref.SHA256)
	fi1, _ := os.Stat(p)
	if _, err := fs.AddReader(&zeros{size}); err != nil {
		t.Fatal(err)
	}
	fi2, _ := os.Stat(p)
	if !os.SameFile(fi1, fi2) {
		t.Error("the same content was stored again")
	}
}

func TestFileStoreErrorsAndCheck(t *testing.T) {
	dir := t.TempDir()
	fs := NewFileStore(filepath.Join(dir, "store"))
	if _, err := fs.Add(filepath.Join(dir, "missing.png")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := fs.Add(dir); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
	src := filepath.Join(dir, "a.png")
	os.WriteFile(src, []byte("\x89PNG\r\n\x1a\n fake"), 0o644)
	ref, err := fs.Add(src)
	if err != nil {
		t.Fatal(err)
	}
	if ref.Name != "a.png" || ref.Type != "image/png" {
		t.Errorf("ref %+v", ref)
	}
	p, _ := fs.Path(ref.SHA256)
	os.Chmod(p, 0o644)
	os.WriteFile(p, []byte("\x89PNG\r\n\x1a\n fakf"), 0o644)
	if err := fs.Check(ref); err == nil || !strings.Contains(err.Error(), "was changed") {
		t.Errorf("changed file: %v", err)
	}
	os.Remove(p)
	if err := fs.Check(ref); err == nil || !strings.Contains(err.Error(), "is missing") {
		t.Errorf("removed file: %v", err)
	}
}

func TestIdentityFile(t *testing.T) {
	dir := t.TempDir()
	id, err := NewIdentity("Ada", "ada@example.com", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckBinding(id.Cert, id.Public()); err != nil {
		t.Fatalf("a fresh certificate is not bound to its key: %v", err)
	}
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	if err := CheckBinding(id.Cert, other); err == nil {
		t.Error("the certificate is bound to a key it does not name")
	}

	plain := filepath.Join(dir, "plain.json")
	if err := id.Save(plain, nil); err != nil {
		t.Fatal(err)
	}
	if err := id.Save(plain, nil); !errors.Is(err, ErrKeyExists) {
		t.Errorf("overwriting a key: %v", err)
	}
	fi, _ := os.Stat(plain)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %04o", fi.Mode().Perm())
	}
	back, err := LoadIdentity(plain, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.Key, id.Key) || !back.PDFKey.Equal(id.PDFKey) || !bytes.Equal(back.Cert.Raw, id.Cert.Raw) {
		t.Error("keys changed in a save and load")
	}

	enc := filepath.Join(dir, "enc.json")
	if err := id.Save(enc, []byte("s3cret")); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(enc)
	seedB64 := []byte(hex.EncodeToString(id.Key.Seed()))
	if bytes.Contains(data, seedB64) || bytes.Contains(data, []byte("ed25519_seed")) {
		t.Error("the encrypted file holds the seed in the clear")
	}
	if _, err := LoadIdentity(enc, func() ([]byte, error) { return []byte("wrong"), nil }); !errors.Is(err, ErrBadPassphrase) {
		t.Errorf("wrong passphrase: %v", err)
	}
	if _, err := LoadIdentity(enc, nil); err == nil || !strings.Contains(err.Error(), "CAIRN_PASSPHRASE") {
		t.Errorf("no passphrase source: %v", err)
	}
	back, err = LoadIdentity(enc, func() ([]byte, error) { return []byte("s3cret"), nil })
	if err != nil || !bytes.Equal(back.Key, id.Key) {
		t.Errorf("right passphrase: %v", err)
	}

	os.Chmod(plain, 0o644)
	if _, err := LoadIdentity(plain, nil); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("world-readable key: %v", err)
	}
}

func TestBookRules(t *testing.T) {
	b, id := newBook(t)
	if _, err := b.Record(id, []*Step{{Kind: KindNote, Asset: "poster", Text: "x"}}); err == nil || !strings.Contains(err.Error(), `unknown asset "poster"`) {
		t.Errorf("step for a missing asset: %v", err)
	}
	// An asset created earlier in the same call may be used by later steps.
	recs, err := b.Record(id, []*Step{{Kind: KindAsset, Asset: "poster", Title: "P"}, {Kind: KindNote, Asset: "poster", Text: "x"}})
	if err != nil || len(recs) != 2 {
		t.Fatalf("asset and note in one call: %v", err)
	}
	if _, err := b.Record(id, []*Step{{Kind: KindAsset, Asset: "poster"}}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("duplicate asset: %v", err)
	}
	// A second person's first step introduces their identity.
	bob, _ := NewIdentity("Bob", "", time.Now())
	recs, err = b.Record(bob, []*Step{{Kind: KindNote, Asset: "poster", Text: "from Bob"}})
	if err != nil || len(recs) != 2 {
		t.Fatalf("Bob's first step: %v, %d records", err, len(recs))
	}
	if s, _ := DecodeStep(recs[0].Payload); s.Kind != KindIdentity || s.Name != "Bob" {
		t.Errorf("Bob's first record is %+v, want his identity", s)
	}
	if _, err := b.Verify(VerifyOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := b.AuthorName(bob.Public()); got != "Bob" {
		t.Errorf("author name %q", got)
	}
}

func TestVerifyDomainRules(t *testing.T) {
	for _, c := range []struct {
		name    string
		payload func(id *Identity) []byte
		signer  func(id *Identity) ed25519.PrivateKey
		want    string
	}{
		{"a key nobody introduced", func(*Identity) []byte {
			return []byte(`{"v":1,"kind":"note","asset":"poster","by":"human","text":"x"}`)
		}, func(*Identity) ed25519.PrivateKey { _, k, _ := ed25519.GenerateKey(rand.Reader); return k },
			"which no identity record introduced"},
		{"a step for an asset never created", func(*Identity) []byte {
			return []byte(`{"v":1,"kind":"note","asset":"ghost","by":"human","text":"x"}`)
		}, func(id *Identity) ed25519.PrivateKey { return id.Key }, `asset "ghost", which no earlier record created`},
		{"a payload that is not a step", func(*Identity) []byte { return []byte("hello") },
			func(id *Identity) ed25519.PrivateKey { return id.Key }, "step payload"},
		{"an identity signed by someone else", func(*Identity) []byte {
			other, _ := NewIdentity("Mallory", "", time.Now())
			p, _ := other.Step().Encode()
			return p
		}, func(id *Identity) ed25519.PrivateKey { return id.Key }, "is signed by another key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, id := newBook(t)
			if _, err := b.Record(id, []*Step{{Kind: KindAsset, Asset: "poster"}}); err != nil {
				t.Fatal(err)
			}
			if _, err := b.Ledger.Append(c.signer(id), c.payload(id)); err != nil {
				t.Fatal(err)
			}
			_, err := b.Verify(VerifyOptions{})
			var ve *ledger.VerifyError
			if !errors.As(err, &ve) || ve.Seq != 2 || !strings.Contains(ve.Problem, c.want) {
				t.Errorf("verify: %v, want record 2: …%s…", err, c.want)
			}
		})
	}
}

func TestIndexRebuildsWhenStale(t *testing.T) {
	b, id := newBook(t)
	dir := b.Dir
	if _, err := b.Record(id, []*Step{{Kind: KindAsset, Asset: "a", Title: "first"}}); err != nil {
		t.Fatal(err)
	}
	b.Close()
	// A cache from another ledger state (or garbage) must not be believed.
	os.WriteFile(filepath.Join(dir, "index.json"), []byte(`{"size":2,"head":"00","assets":{"ghost":{"id":"ghost"}},"keys":{},"names":{}}`), 0o644)
	b2, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b2.Asset("ghost"); err == nil {
		t.Error("a stale cache invented an asset")
	}
	if a, err := b2.Asset("a"); err != nil || a.Title != "first" {
		t.Errorf("asset a after rebuild: %+v, %v", a, err)
	}
	*b = *b2 // let the cleanup close the open book
}

func TestKeyRotation(t *testing.T) {
	b, old, fresh := rotatedBook(t)
	if _, err := b.Record(fresh, []*Step{{Kind: KindNote, Asset: "poster", Text: "new key"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Verify(VerifyOptions{}); err != nil {
		t.Fatalf("a ledger that follows a rotation: %v", err)
	}
	if _, err := b.Record(old, []*Step{{Kind: KindNote, Asset: "poster", Text: "old key"}}); err == nil || !strings.Contains(err.Error(), "was retired") {
		t.Errorf("recording with the retired key: %v", err)
	}
	// Appended behind the book's back, a record by the retired key fails verification.
	p, _ := (&Step{V: 1, Kind: KindNote, Asset: "poster", By: ActorHuman, Text: "sneaky"}).Encode()
	if _, err := b.Ledger.Append(old.Key, p); err != nil {
		t.Fatal(err)
	}
	_, err := b.Verify(VerifyOptions{})
	var ve *ledger.VerifyError
	if !errors.As(err, &ve) || ve.Seq != 4 || !strings.Contains(ve.Problem, "which record 2 retired") {
		t.Errorf("verify: %v, want record 4 signed by a key record 2 retired", err)
	}
}

func TestRotationMustBeSignedByAnIntroducedKey(t *testing.T) {
	b, id := newBook(t)
	stranger, _ := NewIdentity("Mallory", "", time.Now())
	fresh, _ := NewIdentity("Mallory", "", time.Now())
	rot := fresh.Step()
	rot.Kind = KindRotate
	p, _ := rot.Encode()
	if _, err := b.Ledger.Append(stranger.Key, p); err != nil {
		t.Fatal(err)
	}
	_, err := b.Verify(VerifyOptions{})
	var ve *ledger.VerifyError
	if !errors.As(err, &ve) || ve.Seq != 1 || !strings.Contains(ve.Problem, "no identity record introduced") {
		t.Errorf("verify: %v", err)
	}
	_ = id
}

func TestCheckpointByRetiredKey(t *testing.T) {
	b, old, fresh := rotatedBook(t)
	// Right at the rotation, the old key may still sign.
	if _, err := b.Ledger.SignCheckpoint(old.Key); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Verify(VerifyOptions{}); err != nil {
		t.Fatalf("checkpoint signed by the old key at the rotation: %v", err)
	}
	if _, err := b.Record(fresh, []*Step{{Kind: KindNote, Asset: "poster", Text: "after"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Ledger.SignCheckpoint(old.Key); err != nil {
		t.Fatal(err)
	}
	_, err := b.Verify(VerifyOptions{})
	if err == nil || !strings.Contains(err.Error(), "which record 2 retired") {
		t.Errorf("checkpoint signed by the retired key after the rotation: %v", err)
	}
}

// rotatedBook is a book with an asset (record 1) and the given steps whose
// author's key was then rotated: it returns the old and the new identity.
func rotatedBook(t *testing.T, before ...*Step) (*Book, *Identity, *Identity) {
	t.Helper()
	b, old := newBook(t)
	if _, err := b.Record(old, append([]*Step{{Kind: KindAsset, Asset: "poster"}}, before...)); err != nil {
		t.Fatal(err)
	}
	fresh, _ := NewIdentity(old.Name, old.Email, time.Now())
	rot := fresh.Step()
	rot.Kind = KindRotate
	if _, err := b.Record(old, []*Step{rot}); err != nil {
		t.Fatal(err)
	}
	return b, old, fresh
}
