package pdfsign

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/big"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-pdf/fpdf"
	"github.com/smallstep/pkcs7"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

var fixedTime = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// makePDF writes a small fpdf document the way cairn does: reproducible,
// with a link annotation on page 1 that the signature widget must not displace.
func makePDF(t testing.TB, pages int, img []byte) []byte {
	t.Helper()
	f := fpdf.New("P", "mm", "A4", "")
	f.SetCatalogSort(true)
	f.SetCreationDate(fixedTime)
	f.SetModificationDate(fixedTime)
	f.SetTitle("Evidence pack", true)
	f.SetFont("Helvetica", "", 12)
	if img != nil {
		f.RegisterImageOptionsReader("noise", fpdf.ImageOptions{ImageType: "PNG"}, bytes.NewReader(img))
	}
	for i := range pages {
		f.AddPage()
		f.Cell(0, 10, fmt.Sprintf("Evidence pack, page %d of %d", i+1, pages))
		f.Ln(12)
		f.MultiCell(0, 6, strings.Repeat("The designer chose candidate 3 of 4 and repainted the sky. ", 8), "", "L", false)
		if i == 0 {
			f.LinkString(10, 10, 60, 10, "https://example.com/cairn")
		}
		if img != nil && i == 0 {
			f.ImageOptions("noise", 10, 80, 150, 0, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, "")
		}
	}
	var b bytes.Buffer
	if err := f.Output(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func makeSigner(t testing.TB, cn string) Signer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(0x5eed),
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"Studio Brno"}},
		NotBefore:             time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              time.Date(2034, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment | x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	cert := mustCert(t, tmpl, tmpl, &key.PublicKey, key)
	return Signer{Key: key, Chain: []*x509.Certificate{cert}, Name: cn,
		Reason: "Evidence pack for asset a1", Location: "Brno, Česko", Time: fixedTime}
}

func mustCert(t testing.TB, tmpl, parent *x509.Certificate, pub, priv any) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// noisePNG is a binary file that does not compress.
func noisePNG(t testing.TB, w, h int, seed uint64) []byte {
	t.Helper()
	r := mrand.New(mrand.NewPCG(seed, 1))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(r.Uint32())
	}
	for y := range h {
		for x := range w {
			img.Pix[(y*w+x)*4+3] = 255
		}
	}
	img.Set(0, 0, color.RGBA{1, 2, 3, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func testFiles(t testing.TB) []Attachment {
	return []Attachment{
		{Name: "evidence.json", Description: "Ledger entries for asset a1", MIMEType: "application/json",
			Data: evidenceJSON(40), ModTime: fixedTime},
		{Name: "náčrt – skica.png", Description: "Designer's own sketch, ručně", MIMEType: "image/png",
			Data: noisePNG(t, 40, 30, 7), ModTime: fixedTime.Add(-time.Hour)},
	}
}

// evidenceJSON is a text file that compresses, so that it is stored
// FlateDecode-compressed.
func evidenceJSON(steps int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"asset":"a1","steps":[`)
	for i := range steps {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"seq":%d,"kind":"edit","text":"inpaint the (cheese) \\ slice, step %d"}`, i, i)
	}
	b.WriteString("]}\n")
	return b.Bytes()
}

type fixture struct {
	pdf, signed []byte
	signer      Signer
	files       []Attachment
}

var (
	fixOnce sync.Once
	fix     fixture
	fixErr  error
)

// signedFixture signs one document once per test binary.
func signedFixture(t testing.TB) fixture {
	t.Helper()
	fixOnce.Do(func() {
		fix.pdf = makePDF(t, 3, nil)
		fix.signer = makeSigner(t, "Marie Dvořáková")
		fix.files = testFiles(t)
		fix.signed, fixErr = Sign(fix.pdf, fix.files, fix.signer)
	})
	if fixErr != nil {
		t.Fatal(fixErr)
	}
	return fix
}

func TestSignVerify(t *testing.T) {
	f := signedFixture(t)
	if !bytes.HasPrefix(f.signed, f.pdf) {
		t.Fatal("Sign changed the bytes fpdf wrote")
	}
	rep, err := Verify(f.signed)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.WholeFileCovered || rep.ByteRange[0] != 0 || rep.ByteRange[2]+rep.ByteRange[3] != int64(len(f.signed)) {
		t.Errorf("byte range %v does not cover the %d-byte file", rep.ByteRange, len(f.signed))
	}
	if got := rep.ByteRange[2] - rep.ByteRange[1]; got != 2*ContentsSize+2 {
		t.Errorf("gap is %d bytes, want the /Contents string of %d", got, 2*ContentsSize+2)
	}
	if !rep.SignerCert.Equal(f.signer.Chain[0]) || len(rep.Certificates) != 1 {
		t.Errorf("signer certificate not returned")
	}
	if !rep.SigningTime.Equal(fixedTime) {
		t.Errorf("SigningTime = %v, want %v", rep.SigningTime, fixedTime)
	}
	if rep.SubFilter != "ETSI.CAdES.detached" || rep.Name != f.signer.Name || rep.Location != f.signer.Location || rep.Reason != f.signer.Reason {
		t.Errorf("report %q %q %q %q", rep.SubFilter, rep.Name, rep.Reason, rep.Location)
	}
	if len(rep.Attachments) != len(f.files) {
		t.Fatalf("got %d attachments, want %d", len(rep.Attachments), len(f.files))
	}
	for i, want := range f.files { // the name tree is sorted; these already are
		got := rep.Attachments[i]
		if got.Name != want.Name || got.Description != want.Description || got.MIMEType != want.MIMEType ||
			!bytes.Equal(got.Data, want.Data) || !got.ModTime.Equal(want.ModTime) {
			t.Errorf("attachment %d = %q %q %q %d bytes %v, want %q %q %q %d bytes %v", i,
				got.Name, got.Description, got.MIMEType, len(got.Data), got.ModTime,
				want.Name, want.Description, want.MIMEType, len(want.Data), want.ModTime)
		}
	}
}

// TestUpdateStructure checks the incremental update against PDF 32000-1
// §7.5.4–7.5.6 directly, without trusting the package's own parser.
func TestUpdateStructure(t *testing.T) {
	f := signedFixture(t)
	update := string(f.signed[len(f.pdf):])
	oldStart := regexp.MustCompile(`startxref\s+(\d+)\s+%%EOF\s*$`).FindStringSubmatch(string(f.pdf))[1]

	xref := regexp.MustCompile(`(?s)\nxref\n(.*)trailer\n(<<.*>>)\nstartxref\n(\d+)\n%%EOF\n$`).FindStringSubmatch(update)
	if xref == nil {
		t.Fatalf("no xref/trailer/startxref at the end of the update:\n%s", update[max(0, len(update)-600):])
	}
	if at, _ := strconv.Atoi(xref[3]); !strings.HasPrefix(string(f.signed[at:]), "xref\n") {
		t.Errorf("startxref %d does not point at the xref", at)
	}
	lines := strings.SplitAfter(xref[1], "\n")
	entries := 0
	for i := 0; i < len(lines) && lines[i] != ""; {
		var first, count int
		if _, err := fmt.Sscanf(lines[i], "%d %d\n", &first, &count); err != nil {
			t.Fatalf("subsection header %q: %v", lines[i], err)
		}
		i++
		for n := first; n < first+count; n++ {
			e := lines[i]
			i++
			if len(e) != 20 || !strings.HasSuffix(e, " n \n") {
				t.Errorf("xref entry %q is not 20 bytes ending in \" n \\n\"", e)
			}
			off, _ := strconv.Atoi(e[:10])
			if want := fmt.Sprintf("%d 0 obj", n); !strings.HasPrefix(string(f.signed[off:]), want) {
				t.Errorf("xref offset %d for object %d points at %q", off, n, f.signed[off:off+10])
			}
			entries++
		}
	}
	// catalog, page 1, two files with two objects each, AcroForm, widget, signature
	if entries != 2+2*2+3 {
		t.Errorf("update has %d xref entries, want 9", entries)
	}
	oldTrailer := regexp.MustCompile(`(?s)trailer\s*(<<.*?>>)\s*startxref`).FindStringSubmatch(string(f.pdf))[1]
	root := regexp.MustCompile(`/Root \d+ 0 R`).FindString(oldTrailer)
	info := regexp.MustCompile(`/Info \d+ 0 R`).FindString(oldTrailer)
	if root == "" || info == "" {
		t.Fatalf("fpdf trailer without /Root or /Info:\n%s", oldTrailer)
	}
	for _, want := range []string{"/Prev " + oldStart, root, info, "/ID [<"} {
		if !strings.Contains(xref[2], want) {
			t.Errorf("trailer lacks %q:\n%s", want, xref[2])
		}
	}
	if n := strings.Count(update, "/Filter /FlateDecode"); n != 1 {
		t.Errorf("%d streams compressed, want 1: the JSON, not the PNG", n)
	}
	for _, want := range []string{"/SigFlags 3", "/SubFilter /ETSI.CAdES.detached", "/Filter /Adobe.PPKLite",
		"/AFRelationship /Data", "/Subtype /application#2Fjson", "/Type /EmbeddedFile", "/FT /Sig",
		"/Subtype /Link", "/M (D:20250314092653Z)", "/Filter /FlateDecode", "/UF <FEFF006E00E1010D", "/F (n__rt _ skica.png)"} {
		if !strings.Contains(update, want) {
			t.Errorf("update lacks %q", want)
		}
	}
}

// TestCMSIndependently parses the signature with smallstep/pkcs7, a second
// CMS implementation.
func TestCMSIndependently(t *testing.T) {
	f := signedFixture(t)
	der, content := extractCMS(t, f.signed)
	p7, err := pkcs7.Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	p7.Content = content
	if err := p7.Verify(); err != nil {
		t.Fatal(err)
	}
	var st time.Time
	if err := p7.UnmarshalSignedAttribute(pkcs7.OIDAttributeSigningTime, &st); err != nil || !st.Equal(fixedTime) {
		t.Errorf("signing time %v, %v", st, err)
	}
	p7.Content = append(content, 'x')
	if err := p7.Verify(); err == nil {
		t.Error("smallstep/pkcs7 accepted changed content")
	}
}

// extractCMS returns the DER in /Contents, without padding, and the signed bytes.
func extractCMS(t testing.TB, pdf []byte) (der, content []byte) {
	t.Helper()
	doc, err := parseDocument(pdf)
	if err != nil {
		t.Fatal(err)
	}
	_, sig, br, err := doc.lastSignature()
	if err != nil {
		t.Fatal(err)
	}
	s := cryptobyte.String(sig.get("Contents").(pdfString).b)
	var el cryptobyte.String
	var tag cbasn1.Tag
	if !s.ReadAnyASN1Element(&el, &tag) {
		t.Fatal("no DER in /Contents")
	}
	content = append(append([]byte{}, pdf[:br[1]]...), pdf[br[2]:br[2]+br[3]]...)
	return el, content
}

func TestDeterministic(t *testing.T) {
	f := signedFixture(t)
	again, err := Sign(f.pdf, f.files, f.signer)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(again)
	if err != nil {
		t.Fatal(err)
	}
	a, b := rep.ByteRange[1], rep.ByteRange[2]
	if len(again) != len(f.signed) || !bytes.Equal(again[:a], f.signed[:a]) || !bytes.Equal(again[b:], f.signed[b:]) {
		t.Fatal("two signatures of the same input differ outside /Contents")
	}
	if bytes.Equal(again, f.signed) {
		t.Fatal("two ECDSA signatures are identical: is the signature randomised?")
	}
}

func TestTamper(t *testing.T) {
	f := signedFixture(t)
	rep, err := Verify(f.signed)
	if err != nil {
		t.Fatal(err)
	}
	a, b := int(rep.ByteRange[1]), int(rep.ByteRange[2])
	der, _ := extractCMS(t, f.signed)
	var positions []int
	for p := 0; p < len(f.pdf); p += len(f.pdf)/60 + 1 {
		positions = append(positions, p) // fpdf's bytes
	}
	for p := len(f.pdf); p < a; p += 23 {
		positions = append(positions, p) // the update, attachment streams included
	}
	for p := b; p < len(f.signed); p += 7 {
		positions = append(positions, p) // the rest of the update: xref and trailer
	}
	png := bytes.Index(f.signed[len(f.pdf):], []byte("/Subtype /image#2Fpng")) + len(f.pdf)
	streamAt := bytes.Index(f.signed[png:], []byte("stream\n")) + png + len("stream\n")
	for p := streamAt; p < streamAt+len(f.files[1].Data)-10; p += 97 {
		positions = append(positions, p) // inside the PNG's embedded stream
	}
	json := bytes.Index(f.signed[len(f.pdf):], []byte("/Subtype /application#2Fjson")) + len(f.pdf)
	jsonAt := bytes.Index(f.signed[json:], []byte("stream\n")) + json + len("stream\n")
	for p := jsonAt; p < jsonAt+200; p += 11 {
		positions = append(positions, p) // inside the compressed JSON stream
	}
	for p := a + 1; p < a+1+2*len(der); p += 5 {
		positions = append(positions, p) // the CMS, as hex
	}
	positions = append(positions, a+1+2*len(der)+3, b-2) // the zero padding
	for _, p := range positions {
		bad := bytes.Clone(f.signed)
		if a < p && p < b-1 {
			bad[p] = "10"[min(1, int(bad[p]-'0'))] // another hex digit
		} else {
			bad[p] ^= 0x01
		}
		if _, err := Verify(bad); err == nil {
			t.Errorf("Verify accepted a file with byte %d changed from %q to %q", p, f.signed[p], bad[p])
		}
	}

	// The unsigned /Contents gap holds hex digits only: a padding zero turned
	// into white space (which PDF readers skip in hex strings) is refused, as
	// are an upper-case digit and a character that is no digit.
	for _, c := range []byte{' ', '\n', 'A', 'g'} {
		bad := bytes.Clone(f.signed)
		bad[b-2] = c
		if _, err := Verify(bad); err == nil || c != 'g' && !strings.Contains(err.Error(), "lowercase hex digits") {
			t.Errorf("/Contents padding zero replaced by %q: %v", c, err)
		}
	}

	// Where the error should say why.
	content := bytes.Index(f.pdf, []byte("stream\n")) + 20
	bad := bytes.Clone(f.signed)
	bad[content] ^= 0x01
	if _, err := Verify(bad); err == nil || !strings.Contains(err.Error(), "does not match the signed bytes") {
		t.Errorf("changed page content: %v", err)
	}
	sigValue := a + 1 + 2*len(der) - 6 // inside the ECDSA signature, the last field of the CMS
	bad = bytes.Clone(f.signed)
	bad[sigValue] = "10"[min(1, int(bad[sigValue]-'0'))]
	if _, err := Verify(bad); err == nil || !strings.Contains(err.Error(), "CMS signature does not verify") {
		t.Errorf("changed signature value: %v", err)
	}
	bad = bytes.Clone(f.signed)
	bad[streamAt+100] ^= 0x01
	if _, err := Verify(bad); err == nil || !strings.Contains(err.Error(), "does not match the signed bytes") {
		t.Errorf("changed attachment: %v", err)
	}
}

func TestAppended(t *testing.T) {
	f := signedFixture(t)
	bad := append(bytes.Clone(f.signed), "% appended after signing\n"...)
	rep, err := Verify(bad)
	if !errors.Is(err, ErrNotWholeFile) {
		t.Fatalf("Verify = %v, want ErrNotWholeFile", err)
	}
	if !strings.Contains(err.Error(), "leaves 25 bytes unsigned at the end of the file") {
		t.Errorf("error %q does not say how many bytes are unsigned", err)
	}
	if rep == nil || rep.WholeFileCovered || len(rep.Attachments) != 2 {
		t.Errorf("report of the signed revision: %+v", rep)
	}
}

func TestSignErrors(t *testing.T) {
	f := signedFixture(t)
	other := makeSigner(t, "Jan Novák")
	noTime := f.signer
	noTime.Time = time.Time{}
	wrongKey := f.signer
	wrongKey.Key = other.Key
	longChain := f.signer
	for range 60 {
		longChain.Chain = append(longChain.Chain, other.Chain[0])
	}
	for _, tc := range []struct {
		name  string
		pdf   []byte
		files []Attachment
		s     Signer
		want  string
	}{
		{"no time", f.pdf, nil, noTime, "Signer.Time is required"},
		{"wrong key", f.pdf, nil, wrongKey, "not the certificate of Signer.Key"},
		{"same name", f.pdf, []Attachment{{Name: "a"}, {Name: "a"}}, f.signer, "two attachments are named"},
		{"path", f.pdf, []Attachment{{Name: "../a"}}, f.signer, "path separator"},
		{"dotdot", f.pdf, []Attachment{{Name: ".."}}, f.signer, "not a file name"},
		{"mime", f.pdf, []Attachment{{Name: "a", MIMEType: "json"}}, f.signer, "type/subtype"},
		{"signed twice", f.signed, nil, f.signer, "already has an /AcroForm"},
		{"not a pdf", []byte("hello"), nil, f.signer, "no startxref"},
		{"too big", f.pdf, nil, longChain, "more than the 16384 reserved"},
	} {
		_, err := Sign(tc.pdf, tc.files, tc.s)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Sign = %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := Verify(f.pdf); err == nil || !strings.Contains(err.Error(), "not signed") {
		t.Errorf("Verify(unsigned) = %v", err)
	}
}

func TestNoAttachments(t *testing.T) {
	f := signedFixture(t)
	out, err := Sign(f.pdf, nil, f.signer)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(out)
	if err != nil || len(rep.Attachments) != 0 {
		t.Fatalf("Verify = %v, %d attachments", err, len(rep.Attachments))
	}
}

// needTool finds an external program; CI installs them, so there a missing
// tool fails the test instead of skipping it.
func needTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed", name)
		}
		t.Skipf("%s is not installed", name)
	}
	return p
}

func run(t testing.TB, name string, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command(needTool(t, name), args...).CombinedOutput()
	return string(out), err
}

func writeTemp(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPdfsig(t *testing.T) {
	f := signedFixture(t)
	out, err := run(t, "pdfsig", writeTemp(t, "signed.pdf", f.signed))
	if err != nil {
		t.Fatalf("pdfsig: %v\n%s", err, out)
	}
	for _, want := range []string{"Signature Validation: Signature is Valid.", "Total document signed", "Signer Certificate Common Name: Marie Dvořáková"} {
		if !strings.Contains(out, want) {
			t.Errorf("pdfsig output lacks %q:\n%s", want, out)
		}
	}

	rep, _ := Verify(f.signed)
	der, _ := extractCMS(t, f.signed)
	for _, tc := range []struct {
		name string
		pos  int
		want string
	}{
		{"page content", bytes.Index(f.pdf, []byte("stream\n")) + 20, "Digest Mismatch"},
		{"update", len(f.pdf) + 30, "Digest Mismatch"},
		{"signature value", int(rep.ByteRange[1]) + 1 + 2*len(der) - 6, "Signature is Invalid"},
	} {
		bad := bytes.Clone(f.signed)
		if tc.name == "signature value" {
			bad[tc.pos] = "10"[min(1, int(bad[tc.pos]-'0'))]
		} else {
			bad[tc.pos] ^= 0x01
		}
		out, _ := run(t, "pdfsig", writeTemp(t, "bad.pdf", bad))
		if !strings.Contains(out, tc.want) || strings.Contains(out, "Signature is Valid") {
			t.Errorf("%s changed: pdfsig output lacks %q:\n%s", tc.name, tc.want, out)
		}
	}

	appended := append(bytes.Clone(f.signed), "% appended after signing\n"...)
	out, _ = run(t, "pdfsig", writeTemp(t, "appended.pdf", appended))
	if !strings.Contains(out, "Not total document signed") {
		t.Errorf("appended bytes: pdfsig output lacks %q:\n%s", "Not total document signed", out)
	}
}

func TestQpdfCheck(t *testing.T) {
	f := signedFixture(t)
	out, err := run(t, "qpdf", "--check", writeTemp(t, "signed.pdf", f.signed))
	if err != nil {
		t.Fatalf("qpdf --check: %v\n%s", err, out)
	}
	if !strings.Contains(out, "No syntax or stream encoding errors found") {
		t.Errorf("qpdf --check:\n%s", out)
	}
}

func TestPdfdetach(t *testing.T) {
	f := signedFixture(t)
	in := writeTemp(t, "signed.pdf", f.signed)
	out, err := run(t, "pdfdetach", "-enc", "UTF-8", "-list", in)
	if err != nil {
		t.Fatalf("pdfdetach -list: %v\n%s", err, out)
	}
	if !strings.HasPrefix(out, "2 embedded files\n") {
		t.Errorf("pdfdetach -list:\n%s", out)
	}
	for i, want := range f.files { // name tree order is the order of testFiles
		if !strings.Contains(out, fmt.Sprintf("%d: %s\n", i+1, want.Name)) {
			t.Errorf("pdfdetach -list does not show %d: %s:\n%s", i+1, want.Name, out)
		}
		dst := filepath.Join(t.TempDir(), "out")
		if out, err := run(t, "pdfdetach", "-save", strconv.Itoa(i+1), "-o", dst, in); err != nil {
			t.Fatalf("pdfdetach -save: %v\n%s", err, out)
		}
		got, err := os.ReadFile(dst)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want.Data) {
			t.Errorf("pdfdetach extracted %d bytes for %s, not the %d embedded", len(got), want.Name, len(want.Data))
		}
	}
}

func TestOpensslCMS(t *testing.T) {
	f := signedFixture(t)
	der, content := extractCMS(t, f.signed)
	dir := t.TempDir()
	sig, data, ca := filepath.Join(dir, "sig.der"), filepath.Join(dir, "signed-bytes"), filepath.Join(dir, "cert.pem")
	os.WriteFile(sig, der, 0o644)
	os.WriteFile(data, content, 0o644)
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.signer.Chain[0].Raw}), 0o644)
	args := []string{"cms", "-verify", "-binary", "-inform", "DER", "-in", sig, "-content", data, "-CAfile", ca, "-purpose", "any", "-out", os.DevNull}
	if out, err := run(t, "openssl", args...); err != nil || !strings.Contains(out, "Verification successful") {
		t.Fatalf("openssl cms -verify: %v\n%s", err, out)
	}
	content[len(content)/2] ^= 1
	os.WriteFile(data, content, 0o644)
	if out, err := run(t, "openssl", args...); err == nil {
		t.Fatalf("openssl cms -verify accepted changed content:\n%s", out)
	}
}

func TestPdftoppm(t *testing.T) {
	f := signedFixture(t)
	prefix := filepath.Join(t.TempDir(), "page")
	if out, err := run(t, "pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", writeTemp(t, "signed.pdf", f.signed), prefix); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	m, _ := filepath.Glob(prefix + "*.png")
	if len(m) != 1 {
		t.Fatalf("pdftoppm wrote %v", m)
	}
	fi, err := os.Stat(m[0])
	if err != nil || fi.Size() < 1000 {
		t.Fatalf("page 1 image: %v, %v", fi, err)
	}
}
