package rfc3161

import (
	"bytes"
	"crypto/sha256"
	"testing"
)

// FuzzVerify feeds Verify arbitrary responses. It must never panic, and whatever
// it accepts must be a token over the data it was given.
//
// Inputs that reach signature checking cost milliseconds, so minimizing a new
// one by the default 60 s stalls the run; use -fuzzminimizetime=200x:
//
//	go test -run '^$' -fuzz FuzzVerify -fuzztime 20s -fuzzminimizetime 200x ./ledger/rfc3161
func FuzzVerify(f *testing.F) {
	tsa := newTestTSA(f, ekuCritical, true)
	good, _ := tsa.stamp(f, checkpoint)
	f.Add(good)
	tsa.status = 1
	withMods, _ := tsa.stamp(f, checkpoint)
	f.Add(withMods)
	f.Add([]byte{})
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x02})
	sum := sha256.Sum256(checkpoint)
	f.Fuzz(func(t *testing.T, resp []byte) {
		tok, err := Verify(resp, checkpoint, tsa.roots, nil)
		if err != nil {
			return
		}
		if !bytes.Equal(tok.HashedMessage, sum[:]) || !bytes.Equal(tok.Response, resp) {
			t.Fatalf("accepted token %+v", tok)
		}
	})
}
