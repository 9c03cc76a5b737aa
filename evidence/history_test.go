package evidence

import (
	"strings"
	"testing"
	"time"

	"github.com/cairn-ledger/cairn/internal/msg"
)

// session is the making the issue describes, in steps: a generation of four
// candidates and a choice; variations of the chosen one and a choice; the
// author's sketch refined by an AI upscaler; a generative fill that placed the
// refined sketch into the chosen variation.
func session() []*Step {
	four := func(prefix string) []FileRef {
		var out []FileRef
		for i := 1; i <= 4; i++ {
			out = append(out, file(prefix+string(rune('0'+i))+".png"))
		}
		return out
	}
	grid, vars := four("mj-"), four("var-")
	return []*Step{
		{Kind: KindPrompt, By: ActorAI, Text: "a fox in snow, woodcut", Tool: "chatgpt"},
		{Kind: KindPrompt, By: ActorBoth, Text: "a red fox curled in deep snow, woodcut", Tool: "midjourney"},
		{Kind: KindGenerate, Tool: "midjourney", Out: grid},
		{Kind: KindSelect, File: &grid[2], From: grid, Why: "the fox looks back"},
		{Kind: KindGenerate, Tool: "midjourney", In: []FileRef{grid[2]}, Out: vars},
		{Kind: KindSelect, File: &vars[1], From: vars},
		sketch(),
		{Kind: KindEdit, By: ActorBoth, Before: fileP("sk.png"), After: fileP("sk-up.png"), Tool: "magnific", Text: "ink, keep my lines"},
		{Kind: KindEdit, By: ActorBoth, Before: &vars[1], After: fileP("final.jpg"), In: []FileRef{file("sk-up.png")}, Tool: "Adobe Photoshop", Model: "Adobe Firefly"},
		final("final.jpg"),
	}
}

func TestAccountKeepsAIAssistedEditsApart(t *testing.T) {
	steps := append(session(), edit(ActorHuman, "mj-1.png", "mj-1-fixed.png"))
	a := NewAccount("a", records(t, "a", steps...))
	if a.EditsByHand != 1 || a.EditsAIAssisted != 2 || a.Edits() != 3 || a.FromInput != 1 || a.Candidates != 8 {
		t.Errorf("by hand %d, AI-assisted %d, all %d, from input %d, candidates %d; want 1, 2, 3, 1, 8", a.EditsByHand, a.EditsAIAssisted, a.Edits(), a.FromInput, a.Candidates)
	}
	human := strings.Join(a.HumanContribution(msg.English), "\n")
	mustContain(t, "the human contribution", human, "made 1 recorded edit by hand", "directed 2 AI-assisted edits",
		"made 2 selections among AI-generated candidates: 1 of 4, 1 of 4", "wrote 1 prompt (1 of them together with an AI assistant)")
	if strings.Contains(human, "edits by hand") || strings.Contains(human, "3 recorded") {
		t.Errorf("an AI-assisted edit is counted as an edit by hand:\n%s", human)
	}
	mustContain(t, "the AI contribution", strings.Join(a.AIContribution(msg.English), "\n"), "2 generations produced 8 candidates (midjourney), 1 of them from input images", "2 AI-assisted edits made new content under human direction (magnific, Adobe Photoshop (Adobe Firefly))", "1 text written by an AI")
	if a.SourceType != SourceComposite {
		t.Errorf("final source type %q, want composite", a.SourceType)
	}
}

func TestLineage(t *testing.T) {
	h := NewHistory("a", records(t, "a", append(session(), edit(ActorHuman, "mj-1.png", "mj-1-fixed.png"))...))
	var kinds []string
	for _, sr := range h.Lineage() {
		kinds = append(kinds, sr.Step.Kind)
	}
	// Both prompts precede the first generation; the edit of a rejected
	// candidate is not part of the final work.
	if got := strings.Join(kinds, " "); got != "prompt prompt generate select generate select sketch edit edit" {
		t.Errorf("lineage %s", got)
	}
	for _, rejected := range []string{"mj-1.png", "mj-4.png", "var-1.png", "mj-1-fixed.png"} {
		if h.FileInFinal(file(rejected).SHA256) {
			t.Errorf("%s, a rejected candidate, is in the final work's making", rejected)
		}
	}
	chain, start := h.MainChain()
	var seqs []int64
	for _, sr := range chain {
		seqs = append(seqs, sr.Rec.Seq)
	}
	if start != nil || len(seqs) != 3 || seqs[0] != 2 || seqs[1] != 4 || seqs[2] != 8 {
		t.Errorf("main chain %v (start %v), want records 2, 4, 8", seqs, start)
	}
	if h.Base() != KindGenerate {
		t.Errorf("base %q", h.Base())
	}
}

func TestCopyrightDraftClaimsOnlyWhatTheRecordShows(t *testing.T) {
	d := NewHistory("a", records(t, "a", session()...)).CopyrightDraft(msg.English)
	authored := strings.Join(d.Authored, "\n")
	mustContain(t, "the draft", authored,
		"selection of AI-generated material: 2 recorded selections, each choosing one candidate among several (#3: 1 of 4, \"the fox looks back\"; #5: 1 of 4)",
		"arrangement of material: in record #8 the author combined 2 elements (var-2.png, sk-up.png) in an AI-assisted edit",
		"AI-assisted modification directed by the author: 2 recorded edits (#7 with magnific: instruction \"ink, keep my lines\"; #8 with Adobe Photoshop (Adobe Firefly): the direction given is not recorded)",
		"the author's own material: sk.png (record #6), where it remains visible in the final work",
	)
	for _, wrong := range []string{"by hand", "coordination", "recorded edits by"} {
		if strings.Contains(authored, wrong) {
			t.Errorf("draft claims %q:\n%s", wrong, authored)
		}
	}
	excluded := strings.Join(d.Excluded, "\n")
	mustContain(t, "the exclusions", excluded,
		"the AI-generated image mj-3.png (record #2, midjourney: 1 of the 4 candidates it produced)",
		"the image var-2.png that AI generated from mj-3.png (record #4, midjourney: 1 of the 4 candidates it produced)",
		"the content magnific generated in the AI-assisted edit of record #7 (result sk-up.png)",
		"the content Adobe Photoshop (Adobe Firefly) generated in the AI-assisted edit of record #8 (result final.jpg)",
	)
	if len(d.Excluded) != 4 || len(d.NotClaimed) != 0 {
		t.Errorf("%d exclusions, %d not claimed: %q %q", len(d.Excluded), len(d.NotClaimed), d.Excluded, d.NotClaimed)
	}

	// One choice of one variant: a selection, and nothing more.
	one := NewHistory("a", records(t, "a", gen(), &Step{Kind: KindSelect, File: fileP("b.png"), From: []FileRef{file("ai.png"), file("b.png")}}, final("b.png"))).CopyrightDraft(msg.English)
	if len(one.Authored) != 1 || one.Authored[0] != "selection of AI-generated material: 1 recorded selection, choosing one candidate among several (#1: 1 of 2)" {
		t.Errorf("one selection: %q", one.Authored)
	}
	if c := NewHistory("a", records(t, "a", gen())).CopyrightDraft(msg.English); c.Caveat == "" || len(c.Authored) != 0 {
		t.Errorf("no final work: %+v", c)
	}
	unknown := NewHistory("a", records(t, "a", &Step{Kind: KindFile, By: ActorUnknown, File: fileP("x.png")}, edit(ActorHuman, "x.png", "y.png"), final("y.png"))).CopyrightDraft(msg.English)
	if len(unknown.NotClaimed) != 1 || !strings.Contains(unknown.NotClaimed[0], "x.png (record #0), a file of unknown origin") {
		t.Errorf("unknown origin not set apart: %q", unknown.NotClaimed)
	}
}

func TestRetractedRecordsCountNowhere(t *testing.T) {
	recs := records(t, "a", gen(), &Step{Kind: KindGenerate, Tool: "midjourney", Out: []FileRef{file("stray.png")}}, final("ai.png"))
	target := recs[1]
	retract := &Step{Kind: KindRetract, Asset: "a", Why: "wrong asset", Retracts: &RecordRef{Seq: 1, Hash: leafHex(target)}}
	bogus := &Step{Kind: KindRetract, Asset: "a", Why: "names another record", Retracts: &RecordRef{Seq: 0, Hash: leafHex(target)}}
	recs = append(recs, records(t, "a", retract, bogus)...)
	recs[3].Rec.Seq, recs[4].Rec.Seq = 3, 4
	h := NewHistory("a", recs)
	a := h.Account()
	if a.Generations != 1 || a.Candidates != 2 || a.Retracted != 1 || a.Retractions != 2 || a.Steps != 2 {
		t.Errorf("generations %d, candidates %d, retracted %d, retractions %d, steps %d; want 1, 2, 1, 2, 2", a.Generations, a.Candidates, a.Retracted, a.Retractions, a.Steps)
	}
	if r, ok := h.IsRetracted(1); !ok || r.Rec.Seq != 3 {
		t.Errorf("record 1 retracted by %v %v, want record 3", r.Rec, ok)
	}
	if _, ok := h.IsRetracted(0); ok {
		t.Error("a retraction whose leaf hash is another record's was applied")
	}
	if len(h.All) != 5 {
		t.Errorf("%d records shown, want all 5", len(h.All))
	}
}

func TestDisclosureDates(t *testing.T) {
	now := time.Date(2026, 12, 1, 22, 0, 0, 0, time.UTC)
	for date, want := range map[string]bool{"2026-12-01": true, "2026-12-02": true, "2026-12-03": false, "2027-01-01": false, "2025-06-01": true} {
		if got := DateHasCome(date, now); got != want {
			t.Errorf("DateHasCome(%s) at %s = %v, want %v (Dec 2 has begun at UTC+14)", date, now, got, want)
		}
	}
	first := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	for date, want := range map[string]bool{"2026-11-20": true, "2026-11-22": false, "2026-11-23": false, "2026-11-24": false} {
		if got := DateBefore(date, first); got != want {
			t.Errorf("DateBefore(%s, %s) = %v, want %v", date, first, got, want)
		}
	}
	future := time.Now().AddDate(0, 0, 3).Format("2006-01-02")
	s := &Step{Kind: KindDisclose, Asset: "a", Date: future}
	if err := s.Normalize(); !IsInputError(err) || !strings.Contains(err.Error(), "is in the future") {
		t.Errorf("a disclosure dated %s: %v", future, err)
	}
	recs := records(t, "a", gen(), &Step{Kind: KindDisclose, Date: "2026-01-10"}, &Step{Kind: KindDisclose, Date: "2026-02-28", Where: "shop"})
	a := NewAccount("a", recs)
	if len(a.Disclosures) != 2 || !a.Disclosures[0].BeforeRecord || a.Disclosures[1].BeforeRecord || a.DeadlineDisclosure().Seq != 1 {
		t.Errorf("disclosures %+v, deadline from %+v", a.Disclosures, a.DeadlineDisclosure())
	}
}

// mustContain reports each of wants that text lacks.
func mustContain(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, text)
		}
	}
}
