package ledger

import (
	"bytes"
	"crypto/ed25519"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// fuzzSeeds are real outputs of a small ledger: entries, checkpoint notes and proofs.
type fuzzSeeds struct {
	entries, notes, inclusion, consistency [][]byte
}

func makeFuzzSeeds(f *testing.F) *fuzzSeeds {
	dir := filepath.Join(f.TempDir(), "ledger")
	l, err := Create(dir, testOrigin, nil)
	if err != nil {
		f.Fatal(err)
	}
	defer l.Close()
	s := &fuzzSeeds{}
	ps := [][]byte{{}, []byte("x"), payload(7), bytes.Repeat([]byte{0, 0xff}, 300), []byte("{\"kind\":\"prompt\",\"text\":\"a cat\"}")}
	recs, err := l.AppendBatch(testKey(0), ps)
	if err != nil {
		f.Fatal(err)
	}
	for _, r := range recs {
		s.entries = append(s.entries, r.Entry)
	}
	c, err := l.SignCheckpoint(testKey(0))
	if err != nil {
		f.Fatal(err)
	}
	cosigned, err := note.Sign(&note.Note{Text: c.Body()}, NoteSigner(testOrigin, testKey(0)), NoteSigner("witness.example/w1", testKey(1)))
	if err != nil {
		f.Fatal(err)
	}
	s.notes = append(s.notes, c.Note, cosigned, []byte(c.Body()))
	for i := int64(0); i < l.Size(); i++ {
		p, _ := l.InclusionProof(i, l.Size())
		s.inclusion = append(s.inclusion, FormatInclusionProof(i, p, c.Note))
	}
	for old := int64(1); old <= l.Size(); old++ {
		p, _ := l.ConsistencyProof(old, l.Size())
		s.consistency = append(s.consistency, FormatConsistencyProof(old, l.Size(), p))
	}
	return s
}

func FuzzDecodeEntry(f *testing.F) {
	for _, e := range makeFuzzSeeds(f).entries {
		f.Add(e)
	}
	f.Add(make([]byte, MinEntrySize))
	f.Fuzz(func(t *testing.T, entry []byte) {
		r, err := DecodeEntry(entry)
		if err != nil {
			if r != nil {
				t.Fatalf("DecodeEntry returned a record and the error %v", err)
			}
			return
		}
		if len(entry) != MinEntrySize+len(r.Payload) || len(r.Sig) != ed25519.SignatureSize || len(r.Key) != ed25519.PublicKeySize {
			t.Fatalf("decoded %d bytes into a %d-byte payload, %d-byte signature, %d-byte key", len(entry), len(r.Payload), len(r.Sig), len(r.Key))
		}
		if len(r.Payload) > MaxPayload || r.Seq < 0 {
			t.Fatalf("decoded payload of %d bytes, seq %d", len(r.Payload), r.Seq)
		}
		// The fields re-encode to exactly the input.
		re := encodeUnsigned(r.Seq, r.Time, r.Prev, r.Key, r.Payload)
		re = append(re, r.Sig...)
		if !bytes.Equal(re, entry) {
			t.Fatalf("DecodeEntry(%x) re-encodes as %x", entry, re)
		}
		if r.Time.Location() != time.UTC {
			t.Fatalf("decoded time %v is not in UTC", r.Time)
		}
		_ = r.CheckSignature(testOrigin) // must not panic
	})
}

// FuzzSplitStored feeds arbitrary bytes to the reader of stored values (an entry
// followed by its tree hashes). Seeds are the values a real ledger stores.
func FuzzSplitStored(f *testing.F) {
	dir := filepath.Join(f.TempDir(), "ledger")
	l, err := Create(dir, testOrigin, nil)
	if err != nil {
		f.Fatal(err)
	}
	ps := make([][]byte, 8)
	for i := range ps {
		ps[i] = payload(i)
	}
	if _, err := l.AppendBatch(testKey(0), ps); err != nil {
		f.Fatal(err)
	}
	l.Close()
	db := openBadger(f, dir)
	for _, x := range dump(f, db, []byte("e")) {
		if x.k[9] == 'r' {
			f.Add(x.v)
		}
	}
	db.Close()
	f.Fuzz(func(t *testing.T, v []byte) {
		entry, hashes, err := splitStored(v)
		if err != nil {
			return
		}
		if len(entry)+len(hashes) != len(v) || !bytes.Equal(entry, v[:len(entry)]) {
			t.Fatalf("split %d bytes into %d and %d", len(v), len(entry), len(hashes))
		}
		if len(hashes) == 0 || len(hashes)%32 != 0 {
			t.Fatalf("accepted %d bytes of tree hashes", len(hashes))
		}
		if r, err := DecodeEntry(entry); err == nil && !bytes.Equal(r.Entry, entry) {
			t.Fatalf("entry decodes to %d bytes of %d", len(r.Entry), len(entry))
		}
	})
}

func FuzzParseCheckpoint(f *testing.F) {
	for _, n := range makeFuzzSeeds(f).notes {
		f.Add(n)
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		c, err := ParseCheckpoint(text)
		if err == nil {
			// The parsed fields re-parse identically from their canonical body.
			c2, err := ParseCheckpoint([]byte(c.Body()))
			if err != nil {
				t.Fatalf("ParseCheckpoint(%q) = %+v, but its Body %q does not parse: %v", text, c, c.Body(), err)
			}
			if c2.Origin != c.Origin || c2.Size != c.Size || c2.Root != c.Root {
				t.Fatalf("Body round trip: %+v, then %+v", c, c2)
			}
			if !bytes.Equal(c.Note, text) {
				t.Fatalf("ParseCheckpoint kept Note %q, want the input", c.Note)
			}
		}
		oc, oerr := OpenCheckpoint(text, testPub(0), testPub(1))
		if oerr != nil {
			return
		}
		if err != nil {
			t.Fatalf("OpenCheckpoint accepted %q, which ParseCheckpoint rejects: %v", text, err)
		}
		// Whatever it accepts is signed by a given key under its origin, and canonical.
		n, err := note.Open(text, note.VerifierList(NoteVerifier(oc.Origin, testPub(0)), NoteVerifier(oc.Origin, testPub(1))))
		if err != nil {
			t.Fatalf("OpenCheckpoint accepted %q, note.Open says %v", text, err)
		}
		if n.Text != oc.Body() || oc.Size != c.Size || oc.Root != c.Root {
			t.Fatalf("OpenCheckpoint(%q) = %+v; signed text %q", text, oc, n.Text)
		}
	})
}

func FuzzParseInclusionProof(f *testing.F) {
	for _, p := range makeFuzzSeeds(f).inclusion {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		index, p, cp, err := ParseInclusionProof(text)
		if err != nil {
			return
		}
		if index < 0 || len(p) > 128 {
			t.Fatalf("ParseInclusionProof(%q): index %d, %d hashes", text, index, len(p))
		}
		if _, err := ParseCheckpoint(cp); err != nil {
			t.Fatalf("ParseInclusionProof(%q) returned a checkpoint that does not parse: %v", text, err)
		}
		re := FormatInclusionProof(index, p, cp)
		i2, p2, cp2, err := ParseInclusionProof(re)
		if err != nil || i2 != index || !bytes.Equal(cp2, cp) || len(p2) != len(p) {
			t.Fatalf("round trip of %q: %q parses as %d, %d hashes, %v", text, re, i2, len(p2), err)
		}
		for i := range p {
			if p[i] != p2[i] {
				t.Fatalf("round trip of %q: hash %d changed", text, i)
			}
		}
	})
}

func FuzzParseConsistencyProof(f *testing.F) {
	for _, p := range makeFuzzSeeds(f).consistency {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		old, size, p, err := ParseConsistencyProof(text)
		if err != nil {
			return
		}
		if old < 0 || old > size || len(p) > 128 {
			t.Fatalf("ParseConsistencyProof(%q): %d→%d, %d hashes", text, old, size, len(p))
		}
		re := FormatConsistencyProof(old, size, p)
		o2, s2, p2, err := ParseConsistencyProof(re)
		if err != nil || o2 != old || s2 != size || len(p2) != len(p) {
			t.Fatalf("round trip of %q: %q parses as %d→%d, %d hashes, %v", text, re, o2, s2, len(p2), err)
		}
		for i := range p {
			if p[i] != p2[i] {
				t.Fatalf("round trip of %q: hash %d changed", text, i)
			}
		}
	})
}
