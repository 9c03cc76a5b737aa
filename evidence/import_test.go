package evidence

import (
	"strings"
	"testing"

	"github.com/cairn-ledger/cairn/evidence/capture"
)

// The Firefly image and the Photoshop export whose credentials name it as
// their ingredient, as capture reads them (the layout of shared/samples'
// ocsp.jpg, whose Firefly parent is not a file of its own there).
func fireflyAndPhotoshop() (imported, exported Imported) {
	firefly := &capture.Capture{Tool: "C2PA", DigitalSourceType: SourceTrainedAlgorithmic, C2PA: &capture.C2PAInfo{
		ClaimGenerator: "Adobe_Firefly adobe_c2pa/0.12.4", ActiveLabel: "urn:uuid:firefly",
		Actions: []capture.C2PAAction{{Action: "c2pa.created", DigitalSourceType: SourceTrainedAlgorithmic, SoftwareAgent: "Adobe Firefly"}},
	}}
	ps := &capture.Capture{Tool: "C2PA", DigitalSourceType: SourceComposite, C2PA: &capture.C2PAInfo{
		ClaimGenerator: "Adobe_Photoshop/26.9.0 adobe_c2pa/0.14.2", ActiveLabel: "adobe:urn:uuid:ps",
		Actions: []capture.C2PAAction{
			{Action: "c2pa.opened", DigitalSourceType: SourceComposite},
			{Action: "c2pa.cropped"},
			{Action: "c2pa.edited", DigitalSourceType: SourceComposite, SoftwareAgent: "Adobe Firefly"},
		},
		Ingredients: []capture.C2PAIngredient{{Title: "fox.jpg", Relationship: "componentOf", Manifest: "urn:uuid:firefly"}},
	}}
	return Imported{Ref: file("fox.jpg"), Capture: firefly}, Imported{Ref: file("poster.jpg"), Capture: ps}
}

func TestImportLinksCredentialParents(t *testing.T) {
	ff, ps := fireflyAndPhotoshop()
	// Imported together: the Photoshop export is an AI-assisted edit of the
	// Firefly image its ingredient names.
	steps, lines := ImportSteps([]Imported{ff, ps}, nil, KnownFiles(NewHistory("a", nil)))
	if len(steps) != 2 || steps[0].Kind != KindGenerate || steps[0].Tool != "Adobe Firefly" || steps[0].Model != "Adobe Firefly" {
		t.Fatalf("Firefly file: %+v", steps[0])
	}
	e := steps[1]
	if e.Kind != KindEdit || e.By != ActorBoth || e.Tool != "Adobe Photoshop" || e.Model != "Adobe Firefly" || e.Before.Name != "fox.jpg" {
		t.Fatalf("Photoshop export: %+v", e)
	}
	if got := e.Captured.Fields["linked_before"]; got != "fox.jpg (named by the file's C2PA ingredient)" {
		t.Errorf("linked_before %q", got)
	}
	if !strings.Contains(lines[1], "an AI-assisted edit of fox.jpg in Adobe Photoshop") {
		t.Errorf("line %q", lines[1])
	}
	// Imported later, into an asset whose records hold the Firefly image.
	recs := records(t, "a", steps[0])
	steps, _ = ImportSteps([]Imported{ps}, nil, KnownFiles(NewHistory("a", recs)))
	if steps[0].Kind != KindEdit || steps[0].Before.SHA256 != ff.Ref.SHA256 {
		t.Errorf("a later import: %+v", steps[0])
	}
	// Nothing recorded that its ingredient names: a file, not an invented edit.
	steps, lines = ImportSteps([]Imported{ps}, nil, KnownFiles(NewHistory("a", nil)))
	if steps[0].Kind != KindFile || steps[0].By != ActorUnknown || !strings.Contains(lines[0], "link it to that file with --in FILE") {
		t.Errorf("an export whose parent is not recorded: %+v %q", steps[0], lines[0])
	}
	// Its credentials still say AI: the file's source type is composite.
	if got := SourceType(steps[0]); got != SourceComposite {
		t.Errorf("source type of that file %q, want composite", got)
	}
}

func TestImportKinds(t *testing.T) {
	none := Imported{Ref: file("plain.png")}
	xmpOnly := Imported{Ref: file("photo.jpg"), Capture: &capture.Capture{Tool: "XMP", DigitalSourceType: "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture", Description: "a photo"}}
	xmpAI := Imported{Ref: file("ai.jpg"), Capture: &capture.Capture{Tool: "XMP", DigitalSourceType: SourceTrainedAlgorithmic}}
	steps, _ := ImportSteps([]Imported{none, xmpOnly, xmpAI}, nil, KnownFiles(NewHistory("a", nil)))
	for i, want := range []string{"file unknown", "file unknown", "generate ai"} {
		if got := steps[i].Kind + " " + steps[i].By; got != want {
			t.Errorf("file %d recorded as %s, want %s", i, got, want)
		}
	}
	if steps[0].Captured != nil || steps[0].Tool != "" {
		t.Errorf("a file without metadata claims %+v", steps[0])
	}
	// Given where it came from, a file without metadata is a change of that
	// file by an unknown hand.
	src := file("src.png")
	steps, _ = ImportSteps([]Imported{none}, []FileRef{src}, KnownFiles(NewHistory("a", nil)))
	if s := steps[0]; s.Kind != KindEdit || s.By != ActorUnknown || s.Before.SHA256 != src.SHA256 {
		t.Errorf("with --in: %+v", s)
	}
	// Files of one job with different prompts are not one generation.
	mj := func(name, prompt string) Imported {
		return Imported{Ref: file(name), Capture: &capture.Capture{Tool: "Midjourney", JobID: "j1", Prompt: prompt}}
	}
	steps, _ = ImportSteps([]Imported{mj("a.png", "fox"), mj("b.png", "fox"), mj("c.png", "owl")}, nil, KnownFiles(NewHistory("a", nil)))
	if len(steps) != 2 || len(steps[0].Out) != 2 || len(steps[1].Out) != 1 {
		t.Errorf("job grouping: %d steps", len(steps))
	}
}

// A file's own word that people made it does not make its origin known; its
// word that AI did is taken.
func TestCapturedSourceTypes(t *testing.T) {
	for dst, want := range map[string]string{
		"http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture": "",
		SourceHumanEdits:         "",
		SourceEnhanced:           SourceEnhanced,
		SourceComposite:          SourceComposite,
		SourceTrainedAlgorithmic: SourceTrainedAlgorithmic,
	} {
		s := &Step{Kind: KindFile, By: ActorUnknown, File: fileP("x.jpg"), Captured: &Captured{From: "XMP", Fields: map[string]string{"digital_source_type": dst}}}
		if got := SourceType(s); got != want {
			t.Errorf("a file that says %s: %q, want %q", dst, got, want)
		}
	}
	hand := &Step{Kind: KindEdit, By: ActorHuman, Before: fileP("a"), After: fileP("b"), Captured: &Captured{From: "C2PA", Fields: map[string]string{"c2pa.digital_source_type": SourceComposite}}}
	if got := SourceType(hand); got != SourceComposite {
		t.Errorf("an edit by hand whose credentials say composite: %q", got)
	}
}
