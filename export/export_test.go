package export

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/cairn-ledger/cairn/export/pdfsign"
)

func TestExportVerifies(t *testing.T) {
	f := newFixture(t)
	pdf := f.export(t, Options{WithFiles: true})
	rep, err := VerifyPack(pdf)
	if err != nil {
		t.Fatalf("VerifyPack: %v", err)
	}
	if rep.Asset != "poster" || rep.Records != 11 || rep.Identities != 1 || rep.Files != 6 {
		t.Errorf("report: asset %q, %d records, %d identities, %d files; want poster, 11, 1, 6", rep.Asset, rep.Records, rep.Identities, rep.Files)
	}
	if !rep.SignerKey.Equal(f.id.Public()) {
		t.Errorf("signer key %x, want %x", rep.SignerKey, f.id.Public())
	}
	if rep.Checkpoint.Size != f.book.Ledger.Size() {
		t.Errorf("checkpoint covers %d records, the ledger has %d", rep.Checkpoint.Size, f.book.Ledger.Size())
	}
}

// TestPdfsig checks the signature with poppler, which knows nothing of cairn.
func TestPdfsig(t *testing.T) {
	f := newFixture(t)
	path := writeTemp(t, "pack.pdf", f.export(t, Options{}))
	out := run(t, "pdfsig", path)
	for _, want := range []string{"Signature is Valid.", "Total document signed", "Ada Lovelace"} {
		if !strings.Contains(out, want) {
			t.Errorf("pdfsig output lacks %q:\n%s", want, out)
		}
	}
}

func TestQpdfCheck(t *testing.T) {
	f := newFixture(t)
	path := writeTemp(t, "pack.pdf", f.export(t, Options{WithFiles: true}))
	out := run(t, "qpdf", "--check", path)
	if !strings.Contains(out, "No syntax or stream encoding errors found") {
		t.Errorf("qpdf --check:\n%s", out)
	}
}

// TestPdftotext checks that every prompt can be read back from the pages as
// typed, the emoji too: it is drawn as an outline in a span whose ActualText
// is the emoji, and there is no fallback marker for it.
func TestPdftotext(t *testing.T) {
	f := newFixture(t)
	path := writeTemp(t, "pack.pdf", f.export(t, Options{}))
	text := run(t, "pdftotext", "-enc", "UTF-8", path, "-")
	for _, p := range fixturePrompts {
		if !strings.Contains(text, p) {
			t.Errorf("pdftotext output lacks the prompt %q", p)
		}
	}
	for _, want := range []string{"één", "Привет", "🦊", "captured from png tEXt parameters", "entered by the designer",
		"1 of 4", "2027-03-01", "2029-03-01", "Material created by the author", "AI-generated material to exclude", "not legal advice"} {
		if !strings.Contains(text, want) {
			t.Errorf("pdftotext output lacks %q", want)
		}
	}
	if strings.Contains(text, "[U+1F98A]") || strings.Contains(text, "Characters shown as [U+XXXX]") {
		t.Errorf("the emoji is shown as a marker; it should be drawn")
	}
}

// detach extracts every attachment with pdfdetach into a directory.
func detach(t *testing.T, path string) string {
	dir := t.TempDir()
	run(t, "pdfdetach", "-saveall", "-o", dir, path)
	return dir
}

func TestPdfdetachBundle(t *testing.T) {
	f := newFixture(t)
	path := writeTemp(t, "pack.pdf", f.export(t, Options{WithFiles: true}))
	dir := detach(t, path)
	got, err := os.ReadFile(filepath.Join(dir, BundleName))
	if err != nil {
		t.Fatal(err)
	}
	// The export stored its checkpoint; Anchor returns the same one again.
	cp, err := Anchor(f.book, f.id.Key)
	if err != nil {
		t.Fatal(err)
	}
	bd, err := BuildBundle(f.book, "poster", cp, f.id.Public())
	if err != nil {
		t.Fatal(err)
	}
	if want := bd.Encode(); !bytes.Equal(got, want) {
		t.Fatalf("pdfdetach gave %d bytes of evidence.json, the bundle is %d bytes, and they differ", len(got), len(want))
	}
	// The entries are the ledger's exact bytes.
	for _, br := range append(bd.Identities, bd.Records...) {
		r, err := f.book.Ledger.Get(br.Index)
		if err != nil {
			t.Fatal(err)
		}
		if br.Entry != base64.StdEncoding.EncodeToString(r.Entry) {
			t.Errorf("record %d: bundle entry differs from the ledger's bytes", br.Index)
		}
	}
	// Every other attachment is a stored file named by its hash.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 7 {
		t.Errorf("pdfdetach extracted %d files, want evidence.json and 6 stored files", len(entries))
	}
	for _, e := range entries {
		if e.Name() == BundleName {
			continue
		}
		data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		sum := sha256.Sum256(data)
		if !strings.HasPrefix(e.Name(), hex.EncodeToString(sum[:])+".") {
			t.Errorf("attachment %s hashes to %x", e.Name(), sum)
		}
	}
}

// TestInclusionProofsIndependently checks every proof in the bundle with
// transparency-dev/merkle and a JSON decoding of its own, not cairn's code.
func TestInclusionProofsIndependently(t *testing.T) {
	f := newFixture(t)
	pdf := f.export(t, Options{})
	sig, err := pdfsign.Verify(pdf)
	if err != nil {
		t.Fatal(err)
	}
	var raw []byte
	for _, a := range sig.Attachments {
		if a.Name == "evidence.json" {
			raw = a.Data
		}
	}
	var bd struct {
		Checkpoint string
		Records    []struct {
			Index uint64
			Entry string
			Proof []string
		}
		Identities []struct {
			Index uint64
			Entry string
			Proof []string
		}
	}
	if err := json.Unmarshal(raw, &bd); err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(bd.Checkpoint, "\n", 4)
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil {
		t.Fatal(err)
	}
	all := append(bd.Records, bd.Identities...)
	if len(all) != 12 {
		t.Fatalf("%d records in the bundle, want 12", len(all))
	}
	for _, r := range all {
		entry, err := base64.StdEncoding.DecodeString(r.Entry)
		if err != nil {
			t.Fatal(err)
		}
		var path [][]byte
		for _, h := range r.Proof {
			b, err := base64.StdEncoding.DecodeString(h)
			if err != nil {
				t.Fatal(err)
			}
			path = append(path, b)
		}
		leaf := rfc6962.DefaultHasher.HashLeaf(entry)
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, r.Index, size, leaf, path, root); err != nil {
			t.Errorf("record %d: %v", r.Index, err)
		}
		// And a wrong index must fail.
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, (r.Index+1)%size, size, leaf, path, root); err == nil {
			t.Errorf("record %d: the proof also holds for index %d", r.Index, (r.Index+1)%size)
		}
	}
}

// TestSelectiveDisclosure looks for the other asset's prompt, title, file name,
// file hash and ID everywhere in the pack: raw bytes, decompressed objects,
// extracted text, attachments and the decoded records inside the bundle.
func TestSelectiveDisclosure(t *testing.T) {
	f := newFixture(t)
	pdf := f.export(t, Options{WithFiles: true})
	path := writeTemp(t, "pack.pdf", pdf)
	secrets := []string{secretPrompt, secretTitle, secretFile, f.secretSHA, f.secretSHA[:12], secretAsset}
	check := func(where string, data []byte) {
		t.Helper()
		for _, s := range secrets {
			if bytes.Contains(data, []byte(s)) {
				t.Errorf("%s contains %q from the other asset", where, s)
			}
		}
	}
	check("the PDF", pdf)
	needTool(t, "qpdf")
	qdf := filepath.Join(t.TempDir(), "qdf.pdf")
	if out, err := exec.Command("qpdf", "--qdf", "--object-streams=disable", path, qdf).CombinedOutput(); err != nil {
		// qpdf exits 3 for warnings only; the output file is still written.
		if ee := (*exec.ExitError)(nil); !errors.As(err, &ee) || ee.ExitCode() != 3 {
			t.Fatalf("qpdf --qdf: %v\n%s", err, out)
		}
	}
	data, err := os.ReadFile(qdf)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(fixturePrompts[0][:10])) && !bytes.Contains(data, []byte("evidence.json")) {
		t.Fatalf("the decompressed PDF does not look decompressed")
	}
	check("the decompressed PDF", data)
	check("pdftotext output", []byte(run(t, "pdftotext", "-enc", "UTF-8", path, "-")))
	dir := detach(t, path)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		check("attachment "+e.Name(), data)
	}
	bd, err := ParseBundle(mustRead(t, filepath.Join(dir, BundleName)))
	if err != nil {
		t.Fatal(err)
	}
	for _, br := range append(bd.Records, bd.Identities...) {
		entry, _ := base64.StdEncoding.DecodeString(br.Entry)
		check("record "+strconv.FormatInt(br.Index, 10), entry)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestReproducible exports the same ledger state twice: the files may differ
// only inside the signature value.
func TestReproducible(t *testing.T) {
	f := newFixture(t)
	at := time.Now()
	clock := func() time.Time { return at }
	a := f.export(t, Options{WithFiles: true, Now: clock})
	b := f.export(t, Options{WithFiles: true, Now: clock})
	if len(a) != len(b) {
		t.Fatalf("two exports are %d and %d bytes long", len(a), len(b))
	}
	ra, err := pdfsign.Verify(a)
	if err != nil {
		t.Fatal(err)
	}
	br := ra.ByteRange
	if !bytes.Equal(a[:br[1]], b[:br[1]]) || !bytes.Equal(a[br[2]:], b[br[2]:]) {
		t.Fatal("two exports of the same ledger differ outside /Contents")
	}
	if bytes.Equal(a, b) {
		t.Log("the signatures are equal too (unexpected for ECDSA, harmless)")
	}
}

// TestPackDatedWhenMade checks that the pack says when it was made, not when its
// last record was: pdfsig's signing time, the PDF's creation date and the
// cover all carry the time of the export.
func TestPackDatedWhenMade(t *testing.T) {
	f := newFixture(t)
	later := time.Now().Add(90 * time.Minute).UTC().Truncate(time.Second)
	pdf := f.export(t, Options{Now: func() time.Time { return later }})
	path := writeTemp(t, "pack.pdf", pdf)
	out := run(t, "pdfsig", path)
	m := regexp.MustCompile(`Signing Time: (.*)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("pdfsig shows no signing time:\n%s", out)
	}
	signed, err := time.Parse("Jan 02 2006 15:04:05", strings.TrimSpace(m[1]))
	if err != nil {
		t.Fatalf("pdfsig signing time %q: %v", m[1], err)
	}
	// pdfsig prints local time; allow the zone offset of any time zone.
	if d := signed.Sub(later); d < -14*time.Hour || d > 14*time.Hour || signed.Minute() != later.Minute() || signed.Second() != later.Second() {
		t.Errorf("pdfsig signing time %s, want the export time %s", signed, later)
	}
	// With the real clock: pdfsig's signing time (local time) is at or after
	// the start of the export.
	start := time.Now().Truncate(time.Second)
	now := writeTemp(t, "now.pdf", f.export(t, Options{}))
	m = regexp.MustCompile(`Signing Time: (.*)`).FindStringSubmatch(run(t, "pdfsig", now))
	if m == nil {
		t.Fatal("pdfsig shows no signing time")
	}
	if at, err := time.ParseInLocation("Jan 02 2006 15:04:05", strings.TrimSpace(m[1]), time.Local); err != nil || at.Before(start) {
		t.Errorf("pdfsig signing time %q (%v) is before the export started (%s)", m[1], err, start)
	}
	info := run(t, "pdfinfo", path)
	if !strings.Contains(info, "CreationDate:") {
		t.Fatalf("pdfinfo shows no creation date:\n%s", info)
	}
	text := strings.Join(strings.Fields(run(t, "pdftotext", "-layout", "-enc", "UTF-8", "-l", "1", path, "-")), " ")
	if want := "Exported " + later.Format("2006-01-02 15:04:05 UTC"); !strings.Contains(text, want) {
		t.Errorf("the cover does not say %q:\n%s", want, text)
	}
	last := f.book.Ledger.Last().Time.UTC().Format("2006-01-02 15:04:05")
	if strings.Contains(text, "Exported "+last) && last != later.Format("2006-01-02 15:04:05") {
		t.Errorf("the cover dates the export by the last record (%s)", last)
	}
}

// TestTamper flips one byte at many positions: verify-pack must fail at every
// one, and pdfsig must report the damage for positions it signs.
func TestTamper(t *testing.T) {
	f := newFixture(t)
	pdf := f.export(t, Options{WithFiles: true})
	sig, err := pdfsign.Verify(pdf)
	if err != nil {
		t.Fatal(err)
	}
	br := sig.ByteRange
	positions := []int{0, 5, 100, int(br[1]) - 1, int(br[1]), int(br[1]) + 1, int(br[1]) + 100, int(br[2]) - 2, int(br[2]), len(pdf) - 1, len(pdf) - 10}
	for i := 1; i < 40; i++ {
		positions = append(positions, len(pdf)*i/40+i)
	}
	_, havePdfsig := exec.LookPath("pdfsig")
	for _, pos := range positions {
		bad := bytes.Clone(pdf)
		bad[pos] ^= 0x01
		if _, err := VerifyPack(bad); err == nil {
			t.Errorf("byte %d flipped: VerifyPack passed", pos)
		}
		inSigned := pos < int(br[1]) || pos >= int(br[2])
		if havePdfsig != nil || !inSigned || pos%3 != 0 && pos > 1000 && pos < int(br[1])-1000 {
			continue // pdfsig on a third of the positions is enough, and fast
		}
		path := writeTemp(t, "bad.pdf", bad)
		out, _ := exec.Command("pdfsig", path).CombinedOutput()
		if strings.Contains(string(out), "Signature is Valid.") {
			t.Errorf("byte %d flipped: pdfsig still says the signature is valid:\n%s", pos, out)
		}
		// When the flip leaves the signature readable, pdfsig must name the
		// mismatch; a flip in the PDF's structure can leave it unreadable.
		if bytes.Contains(out, []byte("Signing Hash Algorithm: SHA-256")) && !bytes.Contains(out, []byte("Digest Mismatch")) {
			t.Errorf("byte %d flipped: pdfsig found the signature but no digest mismatch:\n%s", pos, out)
		}
	}
	if havePdfsig != nil && os.Getenv("CI") != "" {
		t.Fatal("pdfsig is not installed")
	}
}

// TestVerifyPackNames checks that verification says what failed.
func TestVerifyPackNames(t *testing.T) {
	f := newFixture(t)
	pdf := f.export(t, Options{})
	if _, err := VerifyPack([]byte("hello")); !errors.Is(err, ErrNotPDF) {
		t.Errorf("VerifyPack(non-PDF) = %v, want ErrNotPDF", err)
	}
	appended := append(bytes.Clone(pdf), []byte("\n% appended\n")...)
	rep, err := VerifyPack(appended)
	if !errors.Is(err, ErrVerify) || rep.Checks[0].OK || !strings.Contains(rep.Checks[0].Detail, "does not cover the whole file") {
		t.Errorf("appended bytes: %v", err)
	}
}
