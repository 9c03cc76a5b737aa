package evidence

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-ledger/cairn/ledger"
)

// file is a file reference whose hash follows from its name.
func file(name string) FileRef {
	sum := sha256.Sum256([]byte(name))
	return FileRef{Name: name, SHA256: hex.EncodeToString(sum[:]), Size: 1, Type: "image/png"}
}

func fileP(name string) *FileRef { f := file(name); return &f }

// records turns steps into records of one asset, one minute apart, each
// normalized as recording would.
func records(t testing.TB, asset string, steps ...*Step) []StepRecord {
	t.Helper()
	var out []StepRecord
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for _, s := range steps {
		s.Asset = asset
		if err := s.Normalize(); err != nil {
			t.Fatalf("step %d (%s): %v", len(out), s.Kind, err)
		}
		p, _ := s.Encode()
		out = append(out, StepRecord{Rec: &ledger.Record{Seq: int64(len(out)), Time: at, Payload: p, Entry: p}, Step: s})
		at = at.Add(time.Minute)
	}
	return out
}

// Steps of a typical making, by name: a generation of ai.png and b.png, a
// sketch, and edits.
func gen() *Step {
	return &Step{Kind: KindGenerate, Tool: "midjourney", Out: []FileRef{file("ai.png"), file("b.png")}}
}
func sketch() *Step { return &Step{Kind: KindSketch, File: fileP("sk.png")} }
func edit(by, before, after string, placed ...string) *Step {
	s := &Step{Kind: KindEdit, By: by, Before: fileP(before), After: fileP(after), Tool: map[string]string{ActorBoth: "photoshop"}[by]}
	for _, p := range placed {
		s.In = append(s.In, file(p))
	}
	return s
}
func final(name string) *Step { return &Step{Kind: KindFinal, File: fileP(name)} }

func TestDiscloseClasses(t *testing.T) {
	for _, c := range []struct {
		name  string
		steps []*Step
		class string
		dst   string
		en    string
		nl    string
	}{
		{"AI output as it came", []*Step{gen(), final("ai.png")}, ClassAIGenerated, SourceTrainedAlgorithmic, "Generated with AI", "Gegenereerd met AI"},
		// An edit the final file does not contain changes nothing: it is AI output.
		{"an edit of a rejected copy", []*Step{gen(), edit(ActorHuman, "ai.png", "ed.png"), final("ai.png")}, ClassAIGenerated, SourceTrainedAlgorithmic, "Generated with AI", "Gegenereerd met AI"},
		{"no final, only AI output", []*Step{gen()}, ClassAIGenerated, SourceTrainedAlgorithmic, "Generated with AI", "Gegenereerd met AI"},
		{"AI base edited by hand", []*Step{gen(), edit(ActorHuman, "ai.png", "ed.png"), final("ed.png")}, ClassAIAssisted, SourceComposite, "Made with the help of AI, edited by a human", "Gemaakt met behulp van AI, bewerkt door een mens"},
		// A sketch the final file was not made from does not make it human work.
		{"an unused sketch", []*Step{gen(), sketch(), edit(ActorHuman, "ai.png", "ed.png"), final("ed.png")}, ClassAIAssisted, SourceComposite, "Made with the help of AI, edited by a human", "Gemaakt met behulp van AI, bewerkt door een mens"},
		// Generative fill on AI output: AI made all of it, a person directed.
		{"AI base, AI-assisted edit", []*Step{gen(), edit(ActorBoth, "ai.png", "ed.png"), final("ed.png")}, ClassAIDirected, SourceComposite, "Made with AI, edited with AI tools under human direction", "Gemaakt met AI, bewerkt met AI-tools onder menselijke regie"},
		{"sketch with AI placed in it", []*Step{sketch(), gen(), edit(ActorHuman, "sk.png", "ed.png", "ai.png"), final("ed.png")}, ClassHumanWithAI, SourceComposite, "Made with the help of AI: human work with AI elements", "Gemaakt met behulp van AI: menselijk werk met AI-elementen"},
		{"sketch refined by an AI tool", []*Step{sketch(), edit(ActorBoth, "sk.png", "ed.png"), final("ed.png")}, ClassHumanWithAI, SourceComposite, "Made with the help of AI: human work with AI elements", "Gemaakt met behulp van AI: menselijk werk met AI-elementen"},
		{"image generated from the sketch", []*Step{sketch(), {Kind: KindGenerate, Tool: "comfyui", By: ActorBoth, In: []FileRef{file("sk.png")}, Out: []FileRef{file("g.png")}}, final("g.png")}, ClassAIGenerated, SourceTrainedAlgorithmic, "Generated with AI", "Gegenereerd met AI"},
		{"sketch edited by hand", []*Step{sketch(), edit(ActorHuman, "sk.png", "ed.png"), final("ed.png")}, ClassHuman, SourceHumanEdits, "Made without generative AI", "Gemaakt zonder generatieve AI"},
		// AI output is recorded, and nothing shows whether the final work holds it.
		{"unlinked AI output", []*Step{sketch(), gen(), edit(ActorHuman, "sk.png", "ed.png"), final("ed.png")}, ClassUnknown, "", "AI use not established", "AI-gebruik niet vastgesteld"},
		{"a file of unknown origin", []*Step{{Kind: KindFile, By: ActorUnknown, File: fileP("x.png")}, final("x.png")}, ClassUnknown, "", "AI use not established", "AI-gebruik niet vastgesteld"},
		{"a final file whose making is not recorded", []*Step{final("x.png")}, ClassUnknown, "", "AI use not established", "AI-gebruik niet vastgesteld"},
		{"a change nobody described, of a sketch", []*Step{sketch(), edit(ActorUnknown, "sk.png", "ed.png"), final("ed.png")}, ClassUnknown, "", "AI use not established", "AI-gebruik niet vastgesteld"},
		{"AI on material of unknown origin", []*Step{{Kind: KindFile, By: ActorUnknown, File: fileP("x.png")}, edit(ActorBoth, "x.png", "ed.png"), final("ed.png")}, ClassAIElements, SourceComposite, "Contains AI-generated elements", "Bevat door AI gegenereerde elementen"},
		// The file's own credentials say AI: the step's actor cannot hide it.
		{"credentials reveal AI", []*Step{sketch(), {Kind: KindEdit, By: ActorHuman, Before: fileP("sk.png"), After: fileP("ps.jpg"), Captured: &Captured{From: "C2PA", Fields: map[string]string{"c2pa.digital_source_type": SourceComposite}}}, final("ps.jpg")}, ClassHumanWithAI, SourceComposite, "Made with the help of AI: human work with AI elements", "Gemaakt met behulp van AI: menselijk werk met AI-elementen"},
	} {
		info := &AssetInfo{ID: "a"}
		for lang, want := range map[string]string{"en": c.en, "nl": c.nl} {
			d, err := Disclose(info, records(t, "a", cloneSteps(c.steps)...), lang)
			if err != nil {
				t.Fatal(err)
			}
			if d.Class != c.class || d.DigitalSourceType != c.dst || d.Label != want || d.LabelEN != c.en || d.Explanation == "" {
				t.Errorf("%s in %s: %s %s %q (%q), want %s %s %q", c.name, lang, d.Class, d.DigitalSourceType, d.Label, d.Explanation, c.class, c.dst, want)
			}
		}
	}
	if _, err := Disclose(&AssetInfo{ID: "a"}, nil, "de"); !IsInputError(err) {
		t.Errorf("an unknown language: %v", err)
	}
}

func cloneSteps(steps []*Step) []*Step {
	out := make([]*Step, len(steps))
	for i, s := range steps {
		c := *s
		out[i] = &c
	}
	return out
}

// labelSteps is a generation, an edit by hand of its first candidate, and
// that edit's result as the final work.
func labelSteps(t testing.TB) []StepRecord {
	return records(t, "a", gen(), edit(ActorHuman, "ai.png", "ed.png"), final("ed.png"))
}

func TestDiscloseTDM(t *testing.T) {
	for tdm, want := range map[string]string{"": DataMiningProhibited, "prohibited": DataMiningProhibited, "allowed": DataMiningAllowed} {
		d, err := Disclose(&AssetInfo{ID: "a", TDM: tdm}, records(t, "a", gen()), "en")
		if err != nil {
			t.Fatal(err)
		}
		if d.DataMining != want || d.TDMRecorded != (tdm != "") {
			t.Errorf("tdm %q: %s recorded=%v, want %s", tdm, d.DataMining, d.TDMRecorded, want)
		}
		if !strings.Contains(string(d.XMP()), "<plus:DataMining>"+want+"</plus:DataMining>") {
			t.Errorf("tdm %q: the XMP lacks %s", tdm, want)
		}
	}
}

// TestXMPExiftool reads the sidecar back with exiftool, an independent XMP reader.
func TestXMPExiftool(t *testing.T) {
	if _, err := exec.LookPath("exiftool"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("exiftool is not installed (.ci/run installs libimage-exiftool-perl)")
		}
		t.Skip("exiftool is not installed")
	}
	d, err := Disclose(&AssetInfo{ID: "a"}, labelSteps(t), "nl")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "a.xmp")
	if err := os.WriteFile(p, d.XMP(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("exiftool", "-s", "-a", "-G1", "-XMP:all", p).CombinedOutput()
	if err != nil {
		t.Fatalf("exiftool: %v\n%s", err, out)
	}
	got := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		k, v, ok := strings.Cut(line, ": ")
		if ok {
			got[strings.Join(strings.Fields(k), " ")] = v
		}
	}
	for k, want := range map[string]string{
		"[XMP-iptcExt] DigitalSourceType": SourceComposite,
		"[XMP-dc] Description":            "Made with the help of AI, edited by a human. AI made the base (1 AI generation with midjourney); a human then changed it: 1 edit by hand.",
		"[XMP-dc] Description-nl":         "Gemaakt met behulp van AI, bewerkt door een mens. AI maakte de basis (1 AI-generatie met midjourney); een mens veranderde die daarna: 1 bewerking met de hand.",
		"[XMP-plus] DataMining":           DataMiningProhibited,
	} {
		if got[k] != want {
			t.Errorf("exiftool %s = %q, want %q\n%s", k, got[k], want, out)
		}
	}
}
