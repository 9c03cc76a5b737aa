package witness

import (
	"bytes"
	"context"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// FuzzParseState: ParseState never panics, and what it accepts survives a
// Marshal and ParseState round trip unchanged.
func FuzzParseState(f *testing.F) {
	f.Add([]byte(`{"version":1,"logs":{}}`))
	f.Add([]byte(`{"version":1,"logs":{"a":null}}`))
	f.Add([]byte(`{"version":1,"logs":{"cairn.example/x":{"keys":["cairn.example/x+01234567+AQ=="],"size":0,"root":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}}}`))
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

// FuzzAddCheckpoint feeds the witness arbitrary request bodies, as the HTTP
// server would. It never panics; whatever it cosigns carries the trusted log's
// signature and a valid cosignature, and the answer's status is one C2SP
// tlog-witness defines.
func FuzzAddCheckpoint(f *testing.F) {
	fx := newFixture(f)
	cp3 := fx.log.checkpoint(f, 3)
	f.Add(FormatRequest(0, nil, cp3))
	f.Add(FormatRequest(0, nil, fx.log.checkpoint(f, 1)))
	cp5 := fx.log.checkpoint(f, 5)
	f.Add(FormatRequest(3, fx.log.tree.proof(f, 3, 5), cp5))
	f.Add([]byte("old 0\n\n" + testOrigin + "\n3\n\n"))
	logV, err := note.NewVerifier(fx.log.vkey)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		old, proof, cp, err := ParseRequest(body)
		var cs *Cosigned
		if err == nil {
			cs, err = fx.w.AddCheckpoint(context.Background(), old, proof, cp)
		}
		switch Status(err) {
		case 200, 400, 403, 404, 409, 422:
		default:
			t.Fatalf("status %d for %v", Status(err), err)
		}
		if err != nil {
			return
		}
		if _, err := note.Open(cs.Note, note.VerifierList(logV)); err != nil {
			t.Fatalf("cosigned a note the log did not sign: %v\n%s", err, cs.Note)
		}
		if _, err := CosignedAt(cs.Note, fx.verifier(t)); err != nil {
			t.Fatal(err)
		}
	})
}
