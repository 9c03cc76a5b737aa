package export

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cairn-ledger/cairn/evidence"
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
	// The same bundle as v2, and with an attested checkpoint: the anchor, with a
	// cosignature that is the note itself (malformed as evidence, well-formed).
	v2 := bytes.Replace(good, []byte(BundleFormatV1), []byte(BundleFormatV2), 1)
	f.Add(v2)
	if pb, err := parseBundle(v2); err == nil {
		bd := pb.bd
		bd.Checkpoints = []BundleCheckpoint{{Note: bd.Checkpoint, Consistency: []string{}, Timestamp: "MAA=",
			Cosignatures: []BundleCosignature{{Witness: "w.example", Note: bd.Checkpoint}}}}
		f.Add(bd.Encode())
	}
	f.Add([]byte(`{"format":"cairn.evidence-bundle/v1"}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		pb, err := parseBundle(data)
		if err != nil {
			return
		}
		bd := pb.bd
		if len(pb.ids) != len(bd.Identities) || len(pb.recs) != len(bd.Records) || len(pb.rots) != len(bd.Rotations) || len(pb.cps) != len(bd.Checkpoints) {
			t.Fatalf("parsed %d/%d/%d records and %d checkpoints from %d/%d/%d and %d", len(pb.ids), len(pb.rots), len(pb.recs), len(pb.cps), len(bd.Identities), len(bd.Rotations), len(bd.Records), len(bd.Checkpoints))
		}
		if _, err := ParseBundle(bd.Encode()); err != nil {
			t.Fatalf("a bundle that parsed does not parse after re-encoding: %v", err)
		}
	})
}

// TestWriteFuzzSeed regenerates testdata/bundle.json, the fuzzer's seed, when
// CAIRN_WRITE_SEED is set. A static seed keeps fuzz workers from each building
// a ledger before they can start. It is the bundle of the smallest asset (one
// record besides the identity): parsing is mostly JSON, which coverage
// instrumentation slows most, and the full fixture's eleven records let a
// 4-second run try only 3,000 inputs.
func TestWriteFuzzSeed(t *testing.T) {
	if os.Getenv("CAIRN_WRITE_SEED") == "" {
		t.Skip("set CAIRN_WRITE_SEED=1 to regenerate testdata/bundle.json")
	}
	id, err := evidence.NewIdentity("Ada Lovelace", "ada@example.com", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := evidence.Init(filepath.Join(t.TempDir(), ".cairn"), id)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	steps := []*evidence.Step{
		{Kind: evidence.KindAsset, Asset: "poster", Title: "Festival poster", Owner: "Studio X", Basis: "commission"},
	}
	if _, err := b.Record(id, steps); err != nil {
		t.Fatal(err)
	}
	cp, err := Anchor(b, id.Key)
	if err != nil {
		t.Fatal(err)
	}
	bd, err := BuildBundle(b, "poster", cp, id.Public())
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
