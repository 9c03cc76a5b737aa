package evidence

import (
	"bytes"
	"os"
	"testing"

	"github.com/cairn-ledger/cairn/evidence/percept"
	"github.com/cairn-ledger/cairn/internal/imgtest"
)

// Files stored are fingerprinted as they are stored; the files view names
// every record of a file with its role; the time book falls back to the
// ledger's clock when no trusted time covers a record.
func TestFilesViewAndFingerprints(t *testing.T) {
	b, id := newBook(t)
	var refs []FileRef
	for _, n := range []string{"tiger.png", "coffee.jpg"} {
		data, err := imgtest.Read(n)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := b.Files.AddReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		ref.Name = n
		refs = append(refs, ref)
	}
	recs, err := b.Record(id, []*Step{
		{Kind: KindAsset, Asset: "poster"},
		{Kind: KindGenerate, Asset: "poster", Tool: "t", Out: refs},
		{Kind: KindSelect, Asset: "poster", File: &refs[0], From: refs},
	})
	if err != nil {
		t.Fatal(err)
	}
	// The hook wrote the index when the files were stored.
	x, err := percept.OpenIndex(b.Files.FingerprintPath())
	if err != nil || x.Len() != 2 {
		t.Fatalf("index after storing: %d fingerprints, %v", x.Len(), err)
	}
	v, err := b.ViewFiles(nil)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := percept.ParseSum(refs[1].SHA256)
	srs, err := v.Records(key)
	if err != nil || len(srs) != 2 {
		t.Fatalf("records of coffee.jpg: %d, %v", len(srs), err)
	}
	if r := FileRoles(srs[0].Step, refs[1].SHA256); len(r) != 1 || r[0] != "generated candidate" {
		t.Errorf("roles in the generation: %v", r)
	}
	if r := FileRoles(srs[1].Step, refs[1].SHA256); len(r) != 1 || r[0] != "rejected candidate" {
		t.Errorf("roles in the selection: %v", r)
	}
	// A step that does not name the file gives it no role.
	for _, s := range []*Step{
		{Kind: KindFinal, File: &refs[0]}, {Kind: KindInput, File: &refs[0]}, {Kind: KindSketch, File: &refs[0]},
		{Kind: KindSimilarity, In: refs[:1]}, {Kind: KindGenerate, Out: refs[:1]}, {Kind: KindSelect, File: &refs[0], Rejected: refs[:1]},
	} {
		if r := FileRoles(s, refs[1].SHA256); len(r) != 0 {
			t.Errorf("a %s step that does not name the file gives it roles %v", s.Kind, r)
		}
	}
	tb, err := b.TimeBook(v.Rules, nil)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := tb.Earliest(recs[len(recs)-1])
	if err != nil || !rt.At.IsZero() || !rt.Clock.Equal(recs[len(recs)-1].Time) {
		t.Errorf("time of a record no attestation covers: %+v, %v", rt, err)
	}
	// A deleted index is rebuilt from the files.
	if err := os.Remove(b.Files.FingerprintPath()); err != nil {
		t.Fatal(err)
	}
	x, err = b.Files.Fingerprints(v.Files(), false, nil)
	if err != nil || x.Len() != 2 {
		t.Fatalf("rebuilt index: %d, %v", x.Len(), err)
	}
}
