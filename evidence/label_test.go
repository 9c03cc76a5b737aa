package evidence

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-ledger/cairn/ledger"
)

// steps builds records of one asset from kinds: "g" a generation of two
// candidates, "s" a sketch, "e" an edit, "f" a final file that is either the
// last AI candidate ("fa") or the last edit's result ("fe").
func labelSteps(asset string, kinds ...string) []StepRecord {
	var out []StepRecord
	ai := FileRef{Name: "ai.png", SHA256: strings.Repeat("a", 64), Size: 1}
	ed := FileRef{Name: "ed.png", SHA256: strings.Repeat("e", 64), Size: 1}
	sk := FileRef{Name: "sk.png", SHA256: strings.Repeat("5", 64), Size: 1}
	t := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	add := func(s *Step) {
		s.Asset = asset
		s.Normalize()
		out = append(out, StepRecord{Rec: &ledger.Record{Seq: int64(len(out)), Time: t}, Step: s})
		t = t.Add(time.Minute)
	}
	for _, k := range kinds {
		switch k {
		case "g":
			add(&Step{Kind: KindGenerate, Tool: "midjourney", Out: []FileRef{ai, {Name: "b.png", SHA256: strings.Repeat("b", 64)}}})
		case "s":
			add(&Step{Kind: KindSketch, File: &sk})
		case "e":
			add(&Step{Kind: KindEdit, Before: &ai, After: &ed})
		case "fa":
			add(&Step{Kind: KindFinal, File: &ai})
		case "fe":
			add(&Step{Kind: KindFinal, File: &ed})
		}
	}
	return out
}

func TestDiscloseClasses(t *testing.T) {
	for _, c := range []struct {
		kinds []string
		class string
		dst   string
		en    string
		nl    string
	}{
		{[]string{"g", "fa"}, ClassAIGenerated, SourceTrainedAlgorithmic, "Generated with AI", "Gegenereerd met AI"},
		// Edits that the final file does not contain change nothing: it is AI output.
		{[]string{"g", "e", "fa"}, ClassAIGenerated, SourceTrainedAlgorithmic, "Generated with AI", "Gegenereerd met AI"},
		{[]string{"g"}, ClassAIGenerated, SourceTrainedAlgorithmic, "Generated with AI", "Gegenereerd met AI"},
		{[]string{"g", "e", "fe"}, ClassAIAssisted, SourceComposite, "Made with the help of AI, edited by a human", "Gemaakt met behulp van AI, bewerkt door een mens"},
		// A sketch that comes after the AI base does not make it human work.
		{[]string{"g", "s", "e", "fe"}, ClassAIAssisted, SourceComposite, "Made with the help of AI, edited by a human", "Gemaakt met behulp van AI, bewerkt door een mens"},
		{[]string{"s", "g", "e", "fe"}, ClassHumanWithAI, SourceComposite, "Made with the help of AI: human work with AI elements", "Gemaakt met behulp van AI: menselijk werk met AI-elementen"},
		// Began with a sketch, but AI did most: assisted, not human work.
		{[]string{"s", "g", "g", "g", "e", "fe"}, ClassAIAssisted, SourceComposite, "Made with the help of AI, edited by a human", "Gemaakt met behulp van AI, bewerkt door een mens"},
		{[]string{"s", "e", "fe"}, ClassHuman, SourceDigitalCreation, "Made without generative AI", "Gemaakt zonder generatieve AI"},
	} {
		info := &AssetInfo{ID: "a"}
		for lang, want := range map[string]string{"en": c.en, "nl": c.nl} {
			d, err := Disclose(info, labelSteps("a", c.kinds...), lang)
			if err != nil {
				t.Fatal(err)
			}
			if d.Class != c.class || d.DigitalSourceType != c.dst || d.Label != want || d.LabelEN != c.en || d.Explanation == "" {
				t.Errorf("%v in %s: %s %s %q (%q), want %s %s %q", c.kinds, lang, d.Class, d.DigitalSourceType, d.Label, d.Explanation, c.class, c.dst, want)
			}
		}
	}
	if _, err := Disclose(&AssetInfo{ID: "a"}, nil, "de"); !IsInputError(err) {
		t.Errorf("an unknown language: %v", err)
	}
}

func TestDiscloseTDM(t *testing.T) {
	for tdm, want := range map[string]string{"": DataMiningProhibited, "prohibited": DataMiningProhibited, "allowed": DataMiningAllowed} {
		d, err := Disclose(&AssetInfo{ID: "a", TDM: tdm}, labelSteps("a", "g"), "en")
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
	d, err := Disclose(&AssetInfo{ID: "a"}, labelSteps("a", "g", "e", "fe"), "nl")
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
