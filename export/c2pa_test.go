package export

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/internal/c2patest"
	"github.com/cairn-ledger/cairn/ledger"
)

func TestC2PADefinition(t *testing.T) {
	f := newFixture(t)
	def, err := C2PA(f.book, f.id.Key, "poster", C2PAOptions{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	var m c2patest.Manifest
	if err := json.Unmarshal(def.Manifest, &m); err != nil {
		t.Fatal(err)
	}
	if m.Title != "edited.png" || m.Format != "image/png" {
		t.Errorf("title %q format %q, want the final file edited.png, image/png", m.Title, m.Format)
	}
	acts := m.Actions(t)
	var got []string
	for _, a := range acts {
		got = append(got, a.Action+" "+strings.TrimPrefix(a.DigitalSourceType, "http://cv.iptc.org/newscodes/digitalsourcetype/"))
		if a.When == "" {
			t.Errorf("action %s has no time", a.Action)
		}
	}
	// The texture input's use is not recorded: it is an input to the making,
	// not a component of the work, and no action places it.
	want := []string{"c2pa.created trainedAlgorithmicMedia", "org.cairn.selected ", "c2pa.edited humanEdits", "c2pa.published "}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("actions\n got %q\nwant %q", got, want)
	}
	texture := 0
	for _, ing := range m.Ingredients {
		if ing.Title == "texture.txt" {
			texture++
			if ing.Relationship != "inputTo" {
				t.Errorf("an input whose use is not recorded is %s, want inputTo", ing.Relationship)
			}
		}
	}
	if texture != 1 {
		t.Errorf("%d texture ingredients, want 1", texture)
	}
	// Every prompt is an inputTo ingredient of the generation, with its text.
	prompts := 0
	for _, ing := range m.Ingredients {
		if ing.Relationship == "inputTo" && ing.Title != "texture.txt" {
			prompts++
			if ing.Data == nil || len(ing.DataTypes) != 1 || ing.DataTypes[0].Type != "c2pa.types.generator.prompt" {
				t.Errorf("prompt ingredient %+v lacks its text or type", ing)
				continue
			}
			if text := string(def.Resources[ing.Data.Identifier]); text != fixturePrompts[prompts-1] {
				t.Errorf("prompt %d resource %q, want %q", prompts, text, fixturePrompts[prompts-1])
			}
		}
	}
	if prompts != len(fixturePrompts) {
		t.Errorf("%d prompt ingredients, want %d", prompts, len(fixturePrompts))
	}
	if ids := acts[0].Parameters["ingredientIds"]; len(ids.([]any)) != len(fixturePrompts) {
		t.Errorf("the generation names %v as ingredients", ids)
	}
	// Nothing of the other asset leaks.
	if s := string(def.Manifest); strings.Contains(s, secretPrompt) || strings.Contains(s, secretTitle) {
		t.Error("the manifest leaks the other asset")
	}

	// Training and mining: the fixture records no choice, so it is reserved.
	var tm struct {
		Entries map[string]struct{ Use string }
	}
	m.Assertion(t, "cawg.training-mining", &tm)
	if len(tm.Entries) != 4 || tm.Entries["cawg.ai_training"].Use != "notAllowed" {
		t.Errorf("cawg.training-mining %+v", tm)
	}
	m.Assertion(t, "c2pa.training-mining", &tm)
	if tm.Entries["c2pa.data_mining"].Use != "notAllowed" {
		t.Errorf("c2pa.training-mining %+v", tm)
	}

	// The ledger assertion proves the final record against its checkpoint.
	var lg C2PALedger
	m.Assertion(t, C2PALedgerLabel, &lg)
	cp, err := ledger.OpenCheckpoint([]byte(lg.Checkpoint), f.id.Public())
	if err != nil {
		t.Fatal(err)
	}
	entry, _ := base64.StdEncoding.DecodeString(lg.Final.Entry)
	var proof tlog.RecordProof
	for _, p := range lg.Final.Proof {
		b, _ := base64.StdEncoding.DecodeString(p)
		var h tlog.Hash
		copy(h[:], b)
		proof = append(proof, h)
	}
	if err := tlog.CheckRecord(proof, cp.Size, cp.Root, lg.Final.Index, tlog.RecordHash(entry)); err != nil {
		t.Fatalf("inclusion proof of the final record: %v", err)
	}
	rec, err := ledger.DecodeEntry(entry)
	if err != nil {
		t.Fatal(err)
	}
	s, err := evidence.DecodeStep(rec.Payload)
	if err != nil || s.Kind != evidence.KindFinal || s.File.SHA256 != def.Final.SHA256 || lg.File.SHA256 != def.Final.SHA256 {
		t.Fatalf("the ledger assertion's record is not the final step for the file: %+v %v", s, err)
	}

	// Redacted: the hashes stay, the texts go.
	red, err := C2PA(f.book, f.id.Key, "poster", C2PAOptions{RedactPrompts: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(red.Resources) != 0 {
		t.Errorf("redacted definition has resources %v", red.Resources)
	}
	for _, p := range fixturePrompts {
		if strings.Contains(string(red.Manifest), p) {
			t.Errorf("redacted manifest holds the prompt %q", p)
		}
	}
	if strings.Count(string(red.Manifest), "SHA-256 of the prompt text") != len(fixturePrompts) {
		t.Error("redacted manifest lacks the prompts' hashes")
	}
}

func TestC2PANeedsFinal(t *testing.T) {
	f := newFixture(t)
	_, err := C2PA(f.book, f.id.Key, secretAsset, C2PAOptions{})
	if !evidence.IsInputError(err) || !strings.Contains(err.Error(), "no final file") {
		t.Fatalf("C2PA of an asset without a final file: %v", err)
	}
}

// TestC2PASignAndRead signs the definition onto the final file with the C2PA
// SDK (c2pa-node) and the SDK's test certificates, then reads it back with an
// independent reader (c2pa-wasm) against the test trust anchors.
func TestC2PASignAndRead(t *testing.T) {
	kit := c2patest.New(t)
	f := newFixture(t)
	if _, err := f.book.Record(f.id, []*evidence.Step{{Kind: evidence.KindAssetSet, Asset: "poster", TDM: "allowed"}}); err != nil {
		t.Fatal(err)
	}
	def, err := C2PA(f.book, f.id.Key, "poster", C2PAOptions{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := def.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	in, err := f.book.Files.Path(def.Final.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "signed.png")
	kit.Sign(t, dir, in, out)
	got := kit.Read(t, out, "image/png")
	if got.ValidationState != "Trusted" || len(got.Status) > 0 {
		t.Fatalf("validation state %q, status %+v; want Trusted with no failures", got.ValidationState, got.Status)
	}
	m := &got.Active
	var names, sources []string
	for _, a := range m.Actions(t) {
		names = append(names, a.Action)
		if a.DigitalSourceType != "" {
			sources = append(sources, a.DigitalSourceType)
		}
	}
	if w := "c2pa.created org.cairn.selected c2pa.edited c2pa.published"; strings.Join(names, " ") != w {
		t.Errorf("signed actions %v, want %s", names, w)
	}
	if w := evidence.SourceTrainedAlgorithmic + " " + evidence.SourceHumanEdits; strings.Join(sources, " ") != w {
		t.Errorf("digital source types %v, want %s", sources, w)
	}
	var tm struct {
		Entries map[string]struct{ Use string }
	}
	m.Assertion(t, "cawg.training-mining", &tm)
	if tm.Entries["cawg.ai_generative_training"].Use != "allowed" {
		t.Errorf("cawg.training-mining %+v, want allowed (the asset says so)", tm)
	}
	m.Assertion(t, "c2pa.training-mining", &tm)
	if tm.Entries["c2pa.ai_training"].Use != "allowed" {
		t.Errorf("c2pa.training-mining %+v", tm)
	}
	var lg C2PALedger
	m.Assertion(t, C2PALedgerLabel, &lg)
	if lg.Origin != f.book.Ledger.Origin() || lg.File.SHA256 != def.Final.SHA256 || lg.Final.Entry == "" {
		t.Errorf("org.cairn.ledger %+v", lg)
	}
	prompts := 0
	for _, ing := range m.Ingredients {
		if ing.Relationship == "inputTo" && len(ing.DataTypes) == 1 && ing.DataTypes[0].Type == "c2pa.types.generator.prompt" {
			prompts++
		}
	}
	if prompts != len(fixturePrompts) {
		t.Errorf("signed manifest has %d prompt ingredients, want %d", prompts, len(fixturePrompts))
	}
}

// A disclosure whose date has not come when the definition is made is not a
// publication.
func TestC2PANoPublicationBeforeItsDate(t *testing.T) {
	f := newFixture(t) // discloses on 2026-03-01
	for now, want := range map[string]int{"2026-02-27T12:00:00Z": 0, "2026-03-01T09:00:00Z": 1} {
		at, _ := time.Parse(time.RFC3339, now)
		def, err := C2PA(f.book, f.id.Key, "poster", C2PAOptions{Now: at})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Count(string(def.Manifest), `"action": "c2pa.published"`); got != want {
			t.Errorf("at %s: %d c2pa.published, want %d", now, got, want)
		}
	}
}

// A final file with Content Credentials of its own: they become the parentOf
// ingredient the signer adds from the file, and the first action opens it.
func TestC2PAKeepsTheFinalFilesCredentials(t *testing.T) {
	data, err := os.ReadFile("../../shared/samples/c2pa/ocsp.jpg")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	f := newFixture(t)
	ps := addFile(t, f.book, "ocsp.jpg", data)
	edited := finalOf(t, f)
	record(t, f, &evidence.Step{Kind: evidence.KindEdit, Asset: "poster", By: evidence.ActorBoth, Before: &edited, After: &ps, Tool: "Adobe Photoshop", Model: "Adobe Firefly"},
		&evidence.Step{Kind: evidence.KindFinal, Asset: "poster", File: &ps})
	def, err := C2PA(f.book, f.id.Key, "poster", C2PAOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if def.Parent == nil || def.Parent.Relationship != "parentOf" || def.Parent.Label != C2PAParentLabel || !strings.Contains(def.Parent.Description, "Adobe Photoshop") {
		t.Fatalf("parent ingredient %+v", def.Parent)
	}
	var m c2patest.Manifest
	if err := json.Unmarshal(def.Manifest, &m); err != nil {
		t.Fatal(err)
	}
	acts := m.Actions(t)
	first := acts[0]
	if first.Action != "c2pa.opened" || first.DigitalSourceType != evidence.SourceComposite || first.Parameters["ingredientIds"].([]any)[0] != C2PAParentLabel {
		t.Errorf("first action %+v, want c2pa.opened of the final file's credentials, composite", first)
	}
	// The generation that began the work can no longer be c2pa.created.
	for _, a := range acts[1:] {
		if a.Action == "c2pa.created" || a.Action == "c2pa.opened" {
			t.Errorf("a second %s", a.Action)
		}
	}
	dir := t.TempDir()
	if err := def.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, C2PAParentFile)); err != nil || !strings.Contains(string(b), `"relationship": "parentOf"`) {
		t.Errorf("%s: %v %s", C2PAParentFile, err, b)
	}
}

// finalOf is the fixture's final file.
func finalOf(t *testing.T, f *fixture) evidence.FileRef {
	steps, _, err := f.book.AssetSteps("poster")
	if err != nil {
		t.Fatal(err)
	}
	return *evidence.NewHistory("poster", steps).Final.Step.File
}
