package pdfsign

import (
	"testing"
	"time"
)

// bigInput is a PDF of about 5 MB (a page with an incompressible image) and
// about 4 MB of attachments, one compressible and one not.
func bigInput(b *testing.B) ([]byte, []Attachment, Signer) {
	b.Helper()
	pdf := makePDF(b, 20, noisePNG(b, 1300, 1300, 1))
	files := []Attachment{
		{Name: "evidence.json", MIMEType: "application/json", Data: evidenceJSON(15000), ModTime: fixedTime},
		{Name: "video-frames.png", MIMEType: "image/png", Data: noisePNG(b, 1000, 800, 2), ModTime: fixedTime},
	}
	return pdf, files, makeSigner(b, "Marie Dvořáková")
}

func BenchmarkSign(b *testing.B) {
	pdf, files, s := bigInput(b)
	n := len(pdf)
	for _, f := range files {
		n += len(f.Data)
	}
	b.SetBytes(int64(n))
	start := time.Now()
	out, err := Sign(pdf, files, s)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("input PDF %d bytes, attachments %d+%d bytes, signed PDF %d bytes (first Sign %v)",
		len(pdf), len(files[0].Data), len(files[1].Data), len(out), time.Since(start))
	for b.Loop() {
		if _, err := Sign(pdf, files, s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	pdf, files, s := bigInput(b)
	out, err := Sign(pdf, files, s)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(out)))
	for b.Loop() {
		if _, err := Verify(out); err != nil {
			b.Fatal(err)
		}
	}
}
