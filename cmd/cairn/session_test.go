package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/internal/c2patest"
)

// TestFiveStepSession plays the making the legal advice describes, as a
// designer records it: a prompt worked out with ChatGPT; a Midjourney grid and
// a choice; variations and a choice; the designer's own sketch refined by an AI
// upscaler; a Photoshop generative fill that places it, ending in a real file
// with Adobe Content Credentials (shared/samples/c2pa/ocsp.jpg: Firefly, then
// Photoshop). Then it reads every statement cairn makes about the work with
// tools that know nothing of cairn: the pack's pages (pdftotext), the XMP
// sidecar (exiftool), asset show --json, and the C2PA manifest signed with the
// C2PA SDK (c2pa-node) and read back with another (c2pa-wasm).
//
// The Midjourney files are built here to the layout Midjourney writes (PNG tEXt
// Description: the prompt, then "Job ID: <uuid>"; Author): no public sample
// keeps a Midjourney file's metadata.
func TestFiveStepSession(t *testing.T) {
	samples, _ := filepath.Abs("../../../shared/samples")
	if _, err := os.Stat(filepath.Join(samples, "c2pa", "ocsp.jpg")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skipf("the shared samples are not beside the repository: %v", err)
	}
	ocsp := filepath.Join(samples, "c2pa", "ocsp.jpg")
	c := newCLI(t)
	file := func(name string, data []byte) string {
		t.Helper()
		if err := os.WriteFile(filepath.Join(c.dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		return name
	}
	sum := func(name string) string {
		data, err := os.ReadFile(filepath.Join(c.dir, name))
		if err != nil {
			data, err = os.ReadFile(name)
		}
		if err != nil {
			t.Fatal(err)
		}
		s := sha256.Sum256(data)
		return hex.EncodeToString(s[:])
	}
	const prompt = "A red fox curled in deep snow under a violet dusk sky, Japanese woodcut style --ar 2:3 --v 7"
	mj := func(name, job string, shade uint8) string {
		return file(name, withText(solidPNG(24, 36, color.RGBA{200, shade, 40, 255}),
			[][2]string{{"Description", prompt + " Job ID: " + job}, {"Author", "mira"}}))
	}

	c.must("init", "--name", "Mira Jansen", "--email", "mira@studio-noord.example")
	c.must("asset", "new", "fox-poster", "--title", "Winterfest poster", "--owner", "Studio Noord B.V.", "--basis", "employment")
	c.must("use", "fox-poster")

	// 1. A prompt worked out with ChatGPT: both halves of the chat, then the
	// prompt the designer wrote from it.
	chat := c.must("import-chat", filepath.Join(samples, "chat", "mitkury__example-conversation.json"))
	if strings.Count(chat, "recorded prompt") != 4 || strings.Count(chat, "the assistant's reply, written by an AI") != 2 {
		t.Fatalf("import-chat:\n%s", chat)
	}
	c.must("prompt", prompt, "--tool", "Midjourney", "--by", "both")

	// 2. A Midjourney grid of four, and a choice.
	var grid, vars []string
	for i := range 4 {
		grid = append(grid, mj(fmt.Sprintf("mira_fox_%d.png", i), "5f0c1c1e-0000-4000-8000-000000000001", uint8(10*i)))
	}
	if out := c.must(append([]string{"import"}, grid...)...); !strings.Contains(out, "recorded generate #7 for fox-poster: mira_fox_0.png, mira_fox_1.png, mira_fox_2.png, mira_fox_3.png: Midjourney") || strings.Count(out, "recorded") != 1 {
		t.Fatalf("the grid is not one generation:\n%s", out)
	}
	c.must("select", grid[2], "--from", grid[0], grid[1], grid[2], grid[3], "--why", "the fox looks back at the viewer")

	// 3. Variations of the chosen one, and a choice.
	for i := range 4 {
		vars = append(vars, mj(fmt.Sprintf("mira_fox_var_%d.png", i), "9a9a9a9a-0000-4000-8000-000000000003", uint8(100+10*i)))
	}
	if out := c.must(append(append([]string{"import"}, vars...), "--in", grid[2])...); !strings.Contains(out, "recorded generate #9") || !strings.Contains(out, "from mira_fox_2.png") {
		t.Fatalf("variations:\n%s", out)
	}
	c.must("select", vars[1], "--from", vars[0], vars[1], vars[2], vars[3], "--why", "calmer snow")

	// 4. The designer's own sketch, refined by an AI upscaler they directed.
	file("lettering-sketch.png", solidPNG(32, 12, color.RGBA{20, 20, 30, 255}))
	file("lettering-magnific.png", solidPNG(64, 24, color.RGBA{22, 20, 30, 255}))
	c.must("sketch", "lettering-sketch.png", "--note", "hand-drawn WINTERFEST lettering, brush pen")
	c.must("edit", "--before", "lettering-sketch.png", "--after", "lettering-magnific.png", "--by", "both", "--tool", "Magnific",
		"--model", "creative upscaler", "--text", "ink texture, keep my letter shapes", "--note", "upscaled my lettering")

	// 5. Photoshop generative fill, placing the lettering into the chosen
	// variation: the export carries Adobe's Content Credentials.
	if out := c.must("import", ocsp, "--in", vars[1], "--in", "lettering-magnific.png"); !strings.Contains(out, "recorded edit #13 for fox-poster: ocsp.jpg: an AI-assisted edit of mira_fox_var_1.png in Adobe Photoshop (C2PA: opened, cropped, edited by Adobe Firefly)") {
		t.Fatalf("the Photoshop export:\n%s", out)
	}
	c.must("final", ocsp)

	// A disclosure in the future is refused, and nothing is recorded.
	before := c.must("log", "--raw")
	if code, _, stderr := c.status("disclose", "--date", time.Now().AddDate(0, 2, 0).Format("2006-01-02"), "--where", "Winterfest"); code != exitUsage || !strings.Contains(stderr, "is in the future") {
		t.Errorf("a future disclosure: exit %d, %s", code, stderr)
	}
	if c.must("log", "--raw") != before {
		t.Error("the refused disclosure recorded something")
	}
	today := time.Now().Format("2006-01-02")
	c.must("disclose", "--where", "studio-noord.example/work/winterfest")

	rejected := map[string]string{}
	for _, n := range []string{grid[0], grid[1], grid[3], vars[0], vars[2], vars[3]} {
		rejected[sum(n)] = n
	}
	t.Run("asset show --json", func(t *testing.T) { checkSessionAccount(t, c) })
	t.Run("label --xmp", func(t *testing.T) { checkSessionXMP(t, c) })
	t.Run("pack", func(t *testing.T) { checkSessionPack(t, c, today) })
	t.Run("C2PA", func(t *testing.T) { checkSessionC2PA(t, c, ocsp, rejected) })
	if out := c.must("verify"); !strings.Contains(out, "OK") {
		t.Errorf("verify:\n%s", out)
	}
}

// status runs cairn and returns its exit status and output.
func (c *proc) status(args ...string) (int, string, string) {
	cmd := exec.Command(c.bin, args...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(c.dir, "config"), "CAIRN_DIR=", "CAIRN_KEY=")
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), out.String(), errb.String()
	}
	if err != nil {
		c.t.Fatal(err)
	}
	return 0, out.String(), errb.String()
}

func checkSessionAccount(t *testing.T, c *proc) {
	var show struct {
		Account map[string]any          `json:"account"`
		Human   []string                `json:"human"`
		AI      []string                `json:"ai"`
		Draft   evidence.CopyrightDraft `json:"copyright_draft"`
	}
	if err := json.Unmarshal([]byte(c.must("asset", "show", "--json")), &show); err != nil {
		t.Fatal(err)
	}
	a := show.Account
	for k, want := range map[string]any{
		"steps": 15.0, "prompts_human": 2.0, "prompts_ai": 2.0, "prompts_both": 1.0, "generations": 2.0, "generations_from_input": 1.0,
		"candidates": 8.0, "selections": 2.0, "edits_by_hand": 0.0, "edits_ai_assisted": 2.0, "edits_by_ai": 0.0, "sketches": 1.0,
		"files_unknown_origin": 0.0, "steps_human": 8.0, "steps_ai": 4.0, "steps_both": 3.0, "steps_unknown": 0.0, "retracted": 0.0,
		"digital_source_type": evidence.SourceComposite,
	} {
		if a[k] != want {
			t.Errorf("account %s = %v, want %v", k, a[k], want)
		}
	}
	if fmt.Sprint(a["chosen_out_of"]) != "[4 4]" {
		t.Errorf("chosen_out_of %v", a["chosen_out_of"])
	}
	wantHuman := []string{
		"wrote 3 prompts (1 of them together with an AI assistant)",
		"made 2 selections among AI-generated candidates: 1 of 4, 1 of 4",
		"directed 2 AI-assisted edits (a person steering an AI tool on part of the work; the AI made the new content)",
		"added 1 piece of their own (sketches or material)",
		"declared the final work",
	}
	sameLines(t, "human", show.Human, wantHuman)
	wantAI := []string{
		"2 generations produced 8 candidates (Midjourney), 1 of them from input images",
		"2 AI-assisted edits made new content under human direction (Magnific (creative upscaler), Adobe Photoshop (Adobe Firefly))",
		"2 texts written by an AI",
		"1 prompt co-written with an AI",
	}
	sameLines(t, "AI", show.AI, wantAI)
	wantAuthored := []string{
		`selection of AI-generated material: 2 recorded selections, each choosing one candidate among several (#8: 1 of 4, "the fox looks back at the viewer"; #10: 1 of 4, "calmer snow")`,
		"arrangement of material: in record #13 the author combined 2 elements (mira_fox_var_1.png, lettering-magnific.png) in an AI-assisted edit",
		`AI-assisted modification directed by the author: 2 recorded edits (#12 with Magnific (creative upscaler): instruction "ink texture, keep my letter shapes"; note "upscaled my lettering"; #13 with Adobe Photoshop (Adobe Firefly): the direction given is not recorded); the content the AI tools made in them is excluded below`,
		"the author's own material: lettering-sketch.png (record #11), where it remains visible in the final work",
	}
	sameLines(t, "authored", show.Draft.Authored, wantAuthored)
	wantExcluded := []string{
		"the AI-generated image mira_fox_2.png (record #7, Midjourney: 1 of the 4 candidates it produced)",
		"the image mira_fox_var_1.png that AI generated from mira_fox_2.png (record #9, Midjourney: 1 of the 4 candidates it produced)",
		"the content Magnific (creative upscaler) generated in the AI-assisted edit of record #12 (result lettering-magnific.png)",
		"the content Adobe Photoshop (Adobe Firefly) generated in the AI-assisted edit of record #13 (result ocsp.jpg)",
	}
	sameLines(t, "excluded", show.Draft.Excluded, wantExcluded)
	sameLines(t, "not claimed", show.Draft.NotClaimed, nil)
}

// sameLines reports when got is not want, line for line.
func sameLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s\n got %q\nwant %q", what, got, want)
	}
}

func checkSessionXMP(t *testing.T, c *proc) {
	out := c.must("label", "--xmp", "poster.xmp")
	if !strings.HasPrefix(out, "Made with the help of AI, edited by a human\n") {
		t.Errorf("label:\n%s", out)
	}
	exiftool, err := exec.LookPath("exiftool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("exiftool is not installed")
		}
		t.Skip("exiftool is not installed")
	}
	raw, err := exec.Command(exiftool, "-j", "-XMP:all", filepath.Join(c.dir, "poster.xmp")).Output()
	if err != nil {
		t.Fatal(err)
	}
	var tags []map[string]any
	if err := json.Unmarshal(raw, &tags); err != nil || len(tags) != 1 {
		t.Fatalf("exiftool -j: %v\n%s", err, raw)
	}
	x := tags[0]
	want := "Made with the help of AI, edited by a human. AI made the base (2 AI generations with Midjourney); a human then changed it: " +
		"1 sketch of their own and 2 AI-assisted edits they directed (with Magnific (creative upscaler), Adobe Photoshop (Adobe Firefly))."
	for k, v := range map[string]string{
		"DigitalSourceType": evidence.SourceComposite,
		"Description":       want,
		"DataMining":        evidence.DataMiningProhibited,
	} {
		if x[k] != v {
			t.Errorf("exiftool %s = %q, want %q", k, x[k], v)
		}
	}
	if d := fmt.Sprint(x["Description"]); strings.Contains(d, "by hand") {
		t.Errorf("the XMP counts an edit by hand: %s", d)
	}
}

func checkSessionPack(t *testing.T, c *proc, today string) {
	c.must("export", "-o", "pack.pdf")
	pdftotext, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftotext is not installed")
		}
		t.Skip("pdftotext is not installed")
	}
	raw, err := exec.Command(pdftotext, "-layout", "-enc", "UTF-8", filepath.Join(c.dir, "pack.pdf"), "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(string(raw)), " ")
	filing, _ := time.Parse("2006-01-02", today)
	for _, want := range []string{
		// The counts, each in the words that are true of it.
		"Prompts written 2 by the human, 1 together with an AI, 2 by an AI",
		"Generations 2, producing 8 candidates (1 from input images)",
		"Selections 2 (chosen: 1 of 4, 1 of 4)",
		"Edits by hand 0 (non-generative tools)",
		"AI-assisted edits 2 (a person directing an AI tool on part of the work; not edits by hand)",
		"Own sketches/material 1",
		"Third-party inputs 0 (0 with unknown permission)",
		"Notes on decisions 0",
		"Steps by actor 8 human, 4 AI, 3 both, 0 unknown",
		"Captured from tools 7 of 15 (values read from the tools' own metadata)",
		"Final work's source type compositeWithTrainedAlgorithmicMedia (IPTC digital source type, from the final file's recorded making and its own credentials)",
		// What the human did and what AI produced.
		"• wrote 3 prompts (1 of them together with an AI assistant)",
		"• made 2 selections among AI-generated candidates: 1 of 4, 1 of 4",
		"• directed 2 AI-assisted edits (a person steering an AI tool on part of the work; the AI made the new content)",
		"• added 1 piece of their own (sketches or material)",
		"• 2 generations produced 8 candidates (Midjourney), 1 of them from input images",
		"• 2 AI-assisted edits made new content under human direction (Magnific (creative upscaler), Adobe Photoshop (Adobe Firefly))",
		// The USCO draft: only what the record shows, the AI material element by element.
		`Material created by the author - selection of AI-generated material: 2 recorded selections, each choosing one candidate among several (#8: 1 of 4, "the fox looks back at the viewer"; #10: 1 of 4, "calmer snow");`,
		"- arrangement of material: in record #13 the author combined 2 elements (mira_fox_var_1.png, lettering-magnific.png) in an AI-assisted edit;",
		`- AI-assisted modification directed by the author: 2 recorded edits (#12 with Magnific (creative upscaler): instruction "ink texture, keep my letter shapes"; note "upscaled my lettering"; #13 with Adobe Photoshop (Adobe Firefly): the direction given is not recorded); the content the AI tools made in them is excluded below;`,
		"- the author's own material: lettering-sketch.png (record #11), where it remains visible in the final work.",
		"AI-generated material to exclude - the AI-generated image mira_fox_2.png (record #7, Midjourney: 1 of the 4 candidates it produced);",
		"- the image mira_fox_var_1.png that AI generated from mira_fox_2.png (record #9, Midjourney: 1 of the 4 candidates it produced);",
		"- the content Magnific (creative upscaler) generated in the AI-assisted edit of record #12 (result lettering-magnific.png);",
		"- the content Adobe Photoshop (Adobe Firefly) generated in the AI-assisted edit of record #13 (result ocsp.jpg).",
		"The 3 prompts the human wrote or co-wrote are listed in full in the timeline.",
		// The timeline.
		"Kind of edit AI-assisted: a person directing an AI tool, which made the new content",
		"Instruction ink texture, keep my letter shapes",
		"Chose 1 of 4 candidates (marked); the others were not chosen in this selection",
		"4 candidates generated",
		"Input image (image-to-image: the generation started from it)",
		"Placed into the work in this edit",
		// Rights and dates.
		"Basis employment (made in employment: the rights in an employee's work usually belong to the employer)",
		"Disclosure " + today + ", studio-noord.example/work/winterfest (record #15, recorded ",
		"Deadlines run from the earliest declared disclosure, " + today + " (record #15)",
		"Filing deadline " + filing.AddDate(1, 0, 0).Format("2006-01-02"),
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the pack lacks %q", want)
		}
	}
	for _, wrong := range []string{
		"edits by hand (", "1 recorded edits", "1 recorded selections", "coordination", "candidate(s)", "slots of 0 seconds",
		"Edits by hand 2", "DECLARED, NOT RECORDED", "freelancer",
	} {
		if strings.Contains(text, wrong) {
			t.Errorf("the pack says %q", wrong)
		}
	}
	if n := strings.Count(text, "in the final work"); n < 10 {
		t.Errorf("%d steps marked as in the final work, want the 10 of its making (and the legend)", n)
	}
}

func checkSessionC2PA(t *testing.T, c *proc, final string, rejected map[string]string) {
	kit := c2patest.New(t)
	out := c.must("export", "--c2pa", "c2pa")
	if !strings.Contains(out, "has Content Credentials of its own") {
		t.Errorf("export --c2pa does not say how to keep the final file's credentials:\n%s", out)
	}
	dir := filepath.Join(c.dir, "c2pa")
	signed := filepath.Join(c.dir, "signed.jpg")
	kit.Sign(t, dir, final, signed)
	st := kit.Read(t, signed, "image/jpeg")
	if st.ValidationState != "Trusted" || len(st.Status) > 0 {
		t.Fatalf("validation %q %+v, want Trusted", st.ValidationState, st.Status)
	}
	// Adobe's two manifests are kept as the parent chain: cairn's manifest's
	// parent is Photoshop's, whose ingredient is Firefly's.
	const photoshop, firefly = "adobe:urn:uuid:f3a46a78-8103-4e04-9f98-abcf03ebab19", "urn:uuid:83875007-1e81-4027-847f-4137f13027db"
	if len(st.Manifests) != 3 {
		t.Fatalf("%d manifests in the signed file, want cairn's, Photoshop's and Firefly's", len(st.Manifests))
	}
	active := st.Active
	if active.ClaimGeneratorInfo[0].Name != "cairn" || len(active.Ingredients) == 0 {
		t.Fatalf("active manifest %+v", active)
	}
	parents := 0
	for _, ing := range active.Ingredients {
		if ing.Relationship == "parentOf" {
			parents++
			if ing.ActiveManifest != photoshop {
				t.Errorf("the parent ingredient's manifest is %q, want Photoshop's", ing.ActiveManifest)
			}
		}
	}
	if parents != 1 {
		t.Errorf("%d parentOf ingredients, want 1", parents)
	}
	ps := st.Manifests[photoshop]
	if ps.ClaimGeneratorInfo[0].Name != "Adobe Photoshop" || len(ps.Ingredients) != 1 || ps.Ingredients[0].ActiveManifest != firefly {
		t.Errorf("Photoshop's manifest %+v does not lead to Firefly's", ps)
	}
	if _, ok := st.Manifests[firefly]; !ok {
		t.Error("Firefly's manifest is gone")
	}

	// The actions: the final work's making, with its source types; none for
	// a rejected candidate.
	var got []string
	for _, a := range active.Actions(t) {
		got = append(got, fmt.Sprintf("%s %s #%v", a.Action, strings.TrimPrefix(a.DigitalSourceType, "http://cv.iptc.org/newscodes/digitalsourcetype/"), a.Parameters["org.cairn.seq"]))
		if a.Action == "org.cairn.selected" {
			continue
		}
		for _, k := range []string{"org.cairn.before", "org.cairn.after", "org.cairn.chosen"} {
			if n, ok := rejected[fmt.Sprint(a.Parameters[k])]; ok {
				t.Errorf("action %s is about %s, a rejected candidate", a.Action, n)
			}
		}
		if strings.Contains(a.Description, "mira_fox_0") || strings.Contains(a.Description, "mira_fox_var_0") {
			t.Errorf("action %s describes a rejected candidate: %s", a.Action, a.Description)
		}
	}
	want := []string{
		"c2pa.opened compositeWithTrainedAlgorithmicMedia #14",
		"c2pa.edited trainedAlgorithmicMedia #7",
		"org.cairn.selected  #8",
		"c2pa.edited trainedAlgorithmicMedia #9",
		"org.cairn.selected  #10",
		"c2pa.placed compositeWithTrainedAlgorithmicMedia #13",
		"c2pa.edited compositeWithTrainedAlgorithmicMedia #13",
		"c2pa.published  #15",
	}
	sameLines(t, "actions", got, want)
	var lg struct {
		DigitalSourceType string `json:"digital_source_type"`
	}
	active.Assertion(t, "org.cairn.ledger", &lg)
	if lg.DigitalSourceType != evidence.SourceComposite {
		t.Errorf("org.cairn.ledger digital_source_type %q", lg.DigitalSourceType)
	}
	// The prompts of the work's generations, with who wrote them.
	var prompts []string
	for _, ing := range active.Ingredients {
		if len(ing.DataTypes) == 1 && ing.DataTypes[0].Type == "c2pa.types.generator.prompt" {
			prompts = append(prompts, ing.Description[strings.Index(ing.Description, "; ")+2:])
		}
	}
	if w := "written by the human (record #2)|written by an AI (record #3)|written by the human (record #4)|written by an AI (record #5)|written by the human together with an AI (record #6)"; strings.Join(prompts, "|") != w {
		t.Errorf("prompt ingredients %q, want %q", prompts, w)
	}
}
