package pdfsign

import (
	"errors"
	"testing"

	"github.com/cairn-ledger/cairn/internal/testtsa"
)

// FuzzVerify checks that Verify never panics and that its results are
// consistent: a nil error comes with a report of a fully covered file, and
// ErrNotWholeFile comes with a report of a partly covered one.
//
// Minimising a new input of a few KB takes the fuzzer longer than a short
// run lasts (the minimiser is quadratic in the input length), so limit it:
//
//	go test -run=^$ -fuzz=FuzzVerify -fuzztime=60s -fuzzminimizetime=200x ./export/pdfsign/
func FuzzVerify(f *testing.F) {
	// A small signed file: the fuzzer spends its time minimising whatever
	// it finds interesting, which takes long on the 40 KB of a normal one.
	pdf := makePDF(f, 1, nil)
	files := []Attachment{
		{Name: "evidence.json", MIMEType: "application/json", Data: evidenceJSON(3), ModTime: fixedTime},
		{Name: "náčrt.png", Data: noisePNG(f, 2, 2, 1)},
	}
	signed, err := sign(pdf, files, makeSigner(f, "Marie Dvořáková"), 1000)
	if err != nil {
		f.Fatal(err)
	}
	if _, err := Verify(signed); err != nil {
		f.Fatal(err)
	}
	f.Add(signed)
	// The same with a signature timestamp and a DSS.
	tsa := startTSA(f, "fuzz TSA")
	defer tsa.Close()
	stamped := makeSigner(f, "Marie Dvořáková")
	stamped.Timestamp = (&stamper{tsas: []*testtsa.TSA{tsa}}).stamp
	withToken, err := sign(pdf, files, stamped, 2500)
	if err != nil {
		f.Fatal(err)
	}
	if _, err := Verify(withToken); err != nil {
		f.Fatal(err)
	}
	f.Add(withToken)
	f.Add(pdf)
	for _, n := range []int{len(signed) - 1, len(signed) - 30, len(signed) / 2, len(pdf), 100} {
		f.Add(signed[:n])
	}
	f.Add(append(signed[:len(signed):len(signed)], "% appended\n"...))
	f.Add(append(signed[:len(signed):len(signed)], "xref\n0 1\n0000000000 65535 f \ntrailer\n<</Prev 0>>\nstartxref\n0\n%%EOF\n"...))

	f.Fuzz(func(t *testing.T, pdf []byte) {
		rep, err := Verify(pdf)
		switch {
		case err == nil:
			if rep == nil || !rep.WholeFileCovered || rep.SignerCert == nil {
				t.Fatalf("Verify succeeded with report %+v", rep)
			}
		case errors.Is(err, ErrNotWholeFile):
			if rep == nil || rep.WholeFileCovered {
				t.Fatalf("ErrNotWholeFile with report %+v", rep)
			}
		default:
			if rep != nil {
				t.Fatalf("Verify failed (%v) but returned a report", err)
			}
		}
	})
}
