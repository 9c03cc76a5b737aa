package export

import (
	"bytes"
	"os"
	"testing"
)

// FuzzParseBundle feeds the bundle parser arbitrary bytes: it must not panic,
// and what it accepts must re-encode to a bundle it accepts again.
func FuzzParseBundle(f *testing.F) {
	good, err := os.ReadFile("testdata/bundle.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(bytes.Replace(good, []byte(`"index": 1,`), []byte(`"index": 0,`), 1))
	f.Add(bytes.Replace(good, []byte(`"proof": [`), []byte(`"proof": ["AAAA", `), 1))
	f.Add([]byte(`{"format":"cairn.evidence-bundle/v1"}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		bd, ids, recs, err := parseBundle(data)
		if err != nil {
			return
		}
		if len(ids) != len(bd.Identities) || len(recs) != len(bd.Records) {
			t.Fatalf("parsed %d/%d records from %d/%d", len(ids), len(recs), len(bd.Identities), len(bd.Records))
		}
		if _, err := ParseBundle(bd.Encode()); err != nil {
			t.Fatalf("a bundle that parsed does not parse after re-encoding: %v", err)
		}
	})
}

// TestWriteFuzzSeed regenerates testdata/bundle.json, the fuzzer's seed, when
// CAIRN_WRITE_SEED is set. A static seed keeps fuzz workers from each building
// a ledger before they can start.
func TestWriteFuzzSeed(t *testing.T) {
	if os.Getenv("CAIRN_WRITE_SEED") == "" {
		t.Skip("set CAIRN_WRITE_SEED=1 to regenerate testdata/bundle.json")
	}
	fx := newFixture(t)
	cp, err := Anchor(fx.book, fx.id.Key)
	if err != nil {
		t.Fatal(err)
	}
	bd, err := BuildBundle(fx.book, "poster", cp, fx.id.Public())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("testdata/bundle.json", bd.Encode(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestFuzzSeedParses keeps the seed in step with the format.
func TestFuzzSeedParses(t *testing.T) {
	data, err := os.ReadFile("testdata/bundle.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseBundle(data); err != nil {
		t.Fatalf("testdata/bundle.json: %v (regenerate it with CAIRN_WRITE_SEED=1 go test -run TestWriteFuzzSeed)", err)
	}
}
