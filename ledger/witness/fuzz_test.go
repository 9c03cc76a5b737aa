package witness

import (
	"bytes"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// FuzzParseState: ParseState never panics, and what it accepts survives a
// Marshal and ParseState round trip unchanged.
func FuzzParseState(f *testing.F) {
	fx := newFixture(f)
	if _, err := fx.w.Cosign(fx.log.checkpoint(f, 3), nil); err != nil {
		f.Fatal(err)
	}
	s, err := fx.w.State()
	if err != nil {
		f.Fatal(err)
	}
	good, _ := s.Marshal()
	f.Add(good)
	f.Add([]byte(`{"version":1,"logs":{}}`))
	f.Add([]byte(`{"version":1,"logs":{"a":null}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseState(data)
		if err != nil {
			return
		}
		b, err := s.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		s2, err := ParseState(b)
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, b)
		}
		b2, _ := s2.Marshal()
		if !bytes.Equal(b, b2) {
			t.Fatalf("round trip changed the state:\n%s\n%s", b, b2)
		}
	})
}

// FuzzCosign feeds the witness arbitrary notes. It never panics, and whatever it
// cosigns carries the trusted log's signature and a valid cosignature.
func FuzzCosign(f *testing.F) {
	fx := newFixture(f)
	f.Add(fx.log.checkpoint(f, 3))
	f.Add(fx.log.checkpoint(f, 1))
	f.Add([]byte(testOrigin + "\n3\n\n"))
	logV, err := note.NewVerifier(fx.log.vkey)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		out, err := fx.w.Cosign(text, nil)
		if err != nil {
			return
		}
		if _, err := note.Open(out, note.VerifierList(logV)); err != nil {
			t.Fatalf("cosigned a note the log did not sign: %v\n%s", err, out)
		}
		if _, err := CosignedAt(out, fx.verifier(t)); err != nil {
			t.Fatal(err)
		}
	})
}
