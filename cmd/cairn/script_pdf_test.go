package main

import (
	"encoding/asn1"
	"encoding/hex"
	"os"
	"regexp"
	"strconv"

	"github.com/rogpeppe/go-internal/testscript"
)

// pdfCMS extracts the CMS signature of a signed PDF and the bytes it signs,
// from nothing but the last /ByteRange [0 a b c] the file states, as a shell
// user would with dd and xxd, so that openssl can check them:
// pdf-cms PDF SIG.der SIGNED.bin.
func pdfCMS(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: pdf-cms PDF SIG.der SIGNED.bin")
	}
	pdf, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	all := regexp.MustCompile(`/ByteRange\s*\[\s*0\s+(\d+)\s+(\d+)\s+(\d+)\s*\]`).FindAllSubmatch(pdf, -1)
	if len(all) == 0 {
		ts.Fatalf("%s has no /ByteRange", args[0])
	}
	m := all[len(all)-1]
	n := func(i int) int {
		v, err := strconv.Atoi(string(m[i]))
		ts.Check(err)
		return v
	}
	a, b, c := n(1), n(2), n(3)
	if b+c > len(pdf) || a < 1 || b <= a+1 || pdf[a] != '<' || pdf[b-1] != '>' {
		ts.Fatalf("%s: /ByteRange [0 %d %d %d] does not frame a <hex> string", args[0], a, b, c)
	}
	raw, err := hex.DecodeString(string(pdf[a+1 : b-1]))
	ts.Check(err)
	var der asn1.RawValue
	_, err = asn1.Unmarshal(raw, &der) // the DER, without the zero padding after it
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), der.FullBytes, 0o644))
	ts.Check(os.WriteFile(ts.MkAbs(args[2]), append(append([]byte{}, pdf[:a]...), pdf[b:b+c]...), 0o644))
}
