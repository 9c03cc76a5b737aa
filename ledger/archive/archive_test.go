package archive

import (
	"archive/tar"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/ledger"
)

// fixture is a book with files, two checkpoints, a stored timestamp token and a
// witness cosignature: everything an archive carries.
type fixture struct {
	book  *evidence.Book
	files []File
	data  map[string][]byte // file content by hash
	token []byte
}

func newFixture(t testing.TB, notes int) *fixture {
	t.Helper()
	dir := filepath.Join(t.TempDir(), ".cairn")
	id, err := evidence.NewIdentity("Ada", "ada@example.com", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := evidence.Init(dir, id)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	f := &fixture{book: b, data: map[string][]byte{}}
	rec := func(s ...*evidence.Step) {
		t.Helper()
		if _, err := b.Record(id, s); err != nil {
			t.Fatal(err)
		}
	}
	rec(&evidence.Step{Kind: evidence.KindAsset, Asset: "poster", Title: "Poster"})
	var refs []evidence.FileRef
	for i, content := range []string{"FILE-ONE-CONTENT-" + strings.Repeat("a", 3000), "FILE-TWO-CONTENT-" + strings.Repeat("b", 100)} {
		ref, err := b.Files.AddReader(strings.NewReader(content))
		if err != nil {
			t.Fatal(err)
		}
		ref.Name = []string{"a.txt", "b.txt"}[i]
		refs = append(refs, ref)
		f.data[ref.SHA256] = []byte(content)
	}
	rec(&evidence.Step{Kind: evidence.KindSketch, Asset: "poster", File: &refs[0]})
	if _, err := b.Ledger.SignCheckpoint(id.Key); err != nil {
		t.Fatal(err)
	}
	for i := range notes {
		rec(&evidence.Step{Kind: evidence.KindNote, Asset: "poster", Text: "note " + strings.Repeat("x", i%50)})
	}
	rec(&evidence.Step{Kind: evidence.KindFinal, Asset: "poster", File: &refs[1]})
	cp, err := b.Ledger.SignCheckpoint(id.Key)
	if err != nil {
		t.Fatal(err)
	}
	f.token = tsaToken(t, cp.Note)
	if err := b.Ledger.PutTimestamp(cp.Size, f.token); err != nil {
		t.Fatal(err)
	}
	_, wkey, _ := ed25519.GenerateKey(rand.Reader)
	cosigned, err := note.Sign(&note.Note{Text: cp.Body()}, ledger.NoteSigner(cp.Origin, id.Key), ledger.NoteSigner("witness.example/w1", wkey))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Ledger.PutCosignature(cp.Size, "witness.example/w1", cosigned); err != nil {
		t.Fatal(err)
	}
	for _, ref := range refs {
		ref := ref
		f.files = append(f.files, File{SHA256: ref.SHA256, Size: ref.Size, Open: func() (io.ReadCloser, error) { return b.Files.Open(ref.SHA256) }})
	}
	return f
}

func (f *fixture) archive(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := Write(&buf, f.book.Ledger, WriteOptions{Files: f.files}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	f := newFixture(t, 40)
	data := f.archive(t)
	l := f.book.Ledger
	root, _ := l.TreeHash(l.Size())

	rep, err := Verify(bytes.NewReader(data), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Root != root || rep.Manifest.Size != l.Size() || len(rep.Checkpoints) != 2 || rep.Timestamps != 1 || rep.Cosigned != 1 || len(rep.Files) != 2 {
		t.Fatalf("report: root %v size %d checkpoints %d timestamps %d cosigned %d files %d",
			rep.Root, rep.Manifest.Size, len(rep.Checkpoints), rep.Timestamps, rep.Cosigned, len(rep.Files))
	}

	// The same ledger archives to the same bytes.
	if again := f.archive(t); !bytes.Equal(again, data) {
		t.Error("archiving the same ledger twice gave different bytes")
	}

	dir := filepath.Join(t.TempDir(), "restored")
	store := evidence.NewFileStore(filepath.Join(dir, "files"))
	_, err = Restore(bytes.NewReader(data), filepath.Join(dir, "ledger"), func(r io.Reader) (string, error) {
		ref, err := store.AddReader(r)
		return ref.SHA256, err
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	nb, err := evidence.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer nb.Close()
	nl := nb.Ledger
	if nl.Origin() != l.Origin() || nl.Size() != l.Size() {
		t.Fatalf("restored %s with %d records, want %s with %d", nl.Origin(), nl.Size(), l.Origin(), l.Size())
	}
	if nroot, _ := nl.TreeHash(nl.Size()); nroot != root {
		t.Fatal("restored root differs")
	}
	for seq := int64(0); seq < l.Size(); seq++ {
		a, _ := l.Get(seq)
		b, _ := nl.Get(seq)
		if !bytes.Equal(a.Entry, b.Entry) {
			t.Fatalf("record %d differs after restore", seq)
		}
	}
	same := func(what string, a, b any) {
		t.Helper()
		if !equalJSON(a, b) {
			t.Errorf("%s differ after restore", what)
		}
	}
	ca, _ := l.Checkpoints()
	cb, _ := nl.Checkpoints()
	same("checkpoints", ca, cb)
	ta, _ := l.Timestamps()
	tb, _ := nl.Timestamps()
	same("timestamps", ta, tb)
	wa, _ := l.Cosignatures()
	wb, _ := nl.Cosignatures()
	same("cosignatures", wa, wb)
	vr, err := nb.Verify(evidence.VerifyOptions{})
	if err != nil {
		t.Fatalf("restored book does not verify: %v", err)
	}
	if vr.Files != 2 {
		t.Errorf("restored book has %d files, want 2", vr.Files)
	}
}

func equalJSON(a, b any) bool {
	var x, y bytes.Buffer
	writeJSON(&x, a)
	writeJSON(&y, b)
	return x.String() == y.String()
}

// TestDamage flips one byte in each kind of member and cuts the archive short;
// every time Verify must refuse and name the member.
func TestDamage(t *testing.T) {
	f := newFixture(t, 10)
	data := f.archive(t)
	cps, _ := f.book.Ledger.Checkpoints()
	at := func(needle []byte, off int) int {
		i := bytes.Index(data, needle)
		if i < 0 {
			t.Fatalf("%q not in the archive", needle)
		}
		return i + off
	}
	var fileOne string
	for sum, d := range f.data {
		if bytes.HasPrefix(d, []byte("FILE-ONE")) {
			fileOne = sum
		}
	}
	cases := []struct {
		name   string
		pos    int
		member string
		what   string
	}{
		{"record payload", at([]byte(`"kind":"note"`), 3), "records", "record "},
		{"record signature", at([]byte("cairn/1\n"), 92+300), "records", "record "},
		{"file", at([]byte("FILE-ONE-CONTENT"), 100), "files/" + fileOne, "does not match"},
		{"manifest root", at([]byte(`"root": "`), 12), "manifest.json", "root"},
		{"manifest hash", at([]byte(`"sha256": "`), 13), "records", "manifest says"},
		{"checkpoint", at(cps[len(cps)-1], 20), "checkpoints/", ""},
		{"timestamp", at(f.token, len(f.token)-70), "timestamps/", "timestamp"},
		{"tar header", bytes.LastIndex(data, []byte("files/"+fileOne)) + 2, "", "tar header"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bad := bytes.Clone(data)
			bad[c.pos] ^= 0x01
			if c.name == "manifest hash" {
				// Keep it a hex digit, so the manifest still parses.
				bad[c.pos] = map[bool]byte{true: '1', false: '0'}[data[c.pos] == '0']
			}
			_, err := Verify(bytes.NewReader(bad), Options{})
			var ae *Error
			if !errors.As(err, &ae) {
				t.Fatalf("Verify after flipping byte %d: %v, want an *Error", c.pos, err)
			}
			found := false
			for _, p := range ae.Problems {
				found = found || strings.HasPrefix(p.Member, c.member) && strings.Contains(p.String(), c.what)
			}
			if !found {
				t.Fatalf("problems %v do not name %q with %q", ae.Problems, c.member, c.what)
			}
		})
	}
	for _, cut := range []int{100, 700, len(data) / 2, len(data) - 1500} {
		_, err := Verify(bytes.NewReader(data[:cut]), Options{})
		var ae *Error
		if !errors.As(err, &ae) {
			t.Fatalf("Verify of the first %d bytes: %v, want an *Error", cut, err)
		}
		if !strings.Contains(ae.Error(), "truncated") && !strings.Contains(ae.Error(), "missing") {
			t.Errorf("cut at %d: %v does not say the archive is truncated", cut, ae)
		}
	}
}

// TestRestoreRefusesDamage: a damaged archive never becomes a ledger.
func TestRestoreRefusesDamage(t *testing.T) {
	f := newFixture(t, 5)
	data := f.archive(t)
	i := bytes.Index(data, []byte(`"kind":"note"`))
	data[i+3] ^= 1
	dir := t.TempDir()
	_, err := Restore(bytes.NewReader(data), filepath.Join(dir, "ledger"), func(r io.Reader) (string, error) {
		io.Copy(io.Discard, r)
		return "", nil
	}, Options{})
	var ae *Error
	if !errors.As(err, &ae) {
		t.Fatalf("Restore of a damaged archive: %v, want an *Error", err)
	}
}

func TestRestoreIntoExisting(t *testing.T) {
	f := newFixture(t, 1)
	data := f.archive(t)
	dir := filepath.Join(t.TempDir(), "ledger")
	l, err := ledger.Create(dir, ledger.NewOrigin(), nil)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	_, err = Restore(bytes.NewReader(data), dir, func(r io.Reader) (string, error) { return "", nil }, Options{})
	if !errors.Is(err, ledger.ErrExist) {
		t.Fatalf("Restore into an existing ledger: %v, want ErrExist", err)
	}
}

// TestStrictLayout: FORMAT.md §8 fixes each member's mode and owner and that
// nothing follows the archive's end; an archive that differs only there, its
// contents intact, is still refused, naming the member.
func TestStrictLayout(t *testing.T) {
	f := newFixture(t, 3)
	data := f.archive(t)
	if _, err := Verify(bytes.NewReader(data), Options{}); err != nil {
		t.Fatalf("the archive as written: %v", err)
	}
	// rewrite copies the archive through Go's tar, letting edit change the
	// header of member i.
	rewrite := func(edit func(i int, h *tar.Header)) []byte {
		var out bytes.Buffer
		tr, tw := tar.NewReader(bytes.NewReader(data)), tar.NewWriter(&out)
		for i := 0; ; i++ {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			edit(i, h)
			body, _ := io.ReadAll(tr)
			if err := tw.WriteHeader(h); err != nil {
				t.Fatal(err)
			}
			tw.Write(body)
		}
		tw.Close()
		return out.Bytes()
	}
	if _, err := Verify(bytes.NewReader(rewrite(func(int, *tar.Header) {})), Options{}); err != nil {
		t.Fatalf("an unchanged copy: %v", err)
	}
	for _, c := range []struct {
		name  string
		data  []byte
		where string
		what  string
	}{
		{"writable member", rewrite(func(i int, h *tar.Header) {
			if i == 1 {
				h.Mode = 0o644
			}
		}), "records", "mode 0644"},
		{"another owner", rewrite(func(i int, h *tar.Header) {
			if i == 0 {
				h.Uname = "mallory"
			}
		}), "manifest.json", `owner "mallory"`},
		{"data after the end", append(bytes.Clone(data), []byte("hidden text")...), "", "data follows the end"},
		{"zeros after the end", append(bytes.Clone(data), make([]byte, 1024)...), "", "data follows the end"},
	} {
		_, err := Verify(bytes.NewReader(c.data), Options{})
		var ae *Error
		if !errors.As(err, &ae) || !strings.HasPrefix(ae.Problems[0].Member, c.where) || !strings.Contains(ae.Error(), c.what) {
			t.Errorf("%s: %v, want a problem of member %q saying %q", c.name, err, c.where, c.what)
		}
	}
}
