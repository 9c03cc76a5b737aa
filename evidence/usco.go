package evidence

import (
	"fmt"
	"strings"
)

// CopyrightDraft is a starting point for the statement of human authorship in
// a US Copyright Office application, drawn from the final work's recorded
// making only: a category is named only where records show it, with the
// records it rests on, and the AI material to disclaim is listed element by
// element. It states facts; it is not legal advice.
type CopyrightDraft struct {
	// Authored is "material created by the author", one category a line.
	Authored []string `json:"authored"`
	// Excluded is the AI-generated material to disclaim, one element a line.
	Excluded []string `json:"excluded"`
	// NotClaimed is material that is not shown to be the author's and not
	// known to be AI output: third-party inputs, files of unknown origin,
	// changes nobody described.
	NotClaimed []string `json:"not_claimed,omitempty"`
	// Caveat is set when the record supports no draft, and says why.
	Caveat string `json:"caveat,omitempty"`
}

// CopyrightDraft draws up the draft for the final work.
func (h *History) CopyrightDraft() *CopyrightDraft {
	d := &CopyrightDraft{}
	if h.Final == nil {
		d.Caveat = "No final work is declared (cairn final FILE). The draft describes what the final work contains, so it cannot be drawn up yet."
		return d
	}
	var sels, arranged, hand, assisted []StepRecord
	var sketches []StepRecord
	for _, sr := range h.Lineage() {
		s := sr.Step
		switch s.Kind {
		case KindSelect:
			sels = append(sels, sr)
		case KindSketch:
			sketches = append(sketches, sr)
		case KindEdit:
			if len(s.In) > 0 && (s.By == ActorHuman || s.By == ActorBoth) {
				arranged = append(arranged, sr)
			}
			switch s.By {
			case ActorHuman:
				hand = append(hand, sr)
			case ActorBoth:
				assisted = append(assisted, sr)
			}
		}
		d.exclude(h, sr)
	}
	if len(sels) > 0 {
		var parts []string
		for _, sr := range sels {
			p := fmt.Sprintf("#%d: 1 of %d", sr.Rec.Seq, len(sr.Step.From))
			if sr.Step.Why != "" {
				p += fmt.Sprintf(", %q", sr.Step.Why)
			}
			parts = append(parts, p)
		}
		d.Authored = append(d.Authored, fmt.Sprintf("selection of AI-generated material: %s, %s one candidate among several (%s)",
			Plural(len(sels), "recorded selection", "recorded selections"), PluralWord(len(sels), "choosing", "each choosing"), strings.Join(parts, "; ")))
	}
	for _, sr := range arranged {
		s := sr.Step
		names := []string{s.Before.Name}
		for _, f := range s.In {
			names = append(names, f.Name)
		}
		how := "by hand"
		if s.By == ActorBoth {
			how = "in an AI-assisted edit"
		}
		d.Authored = append(d.Authored, fmt.Sprintf("arrangement of material: in record #%d the author combined %s (%s) %s", sr.Rec.Seq,
			Plural(len(names), "element", "elements"), strings.Join(names, ", "), how))
	}
	if len(hand) > 0 {
		d.Authored = append(d.Authored, fmt.Sprintf("modification by hand, with non-generative tools: %s (%s), before and after shown in the timeline",
			Plural(len(hand), "recorded edit", "recorded edits"), describeEdits(hand)))
	}
	if len(assisted) > 0 {
		d.Authored = append(d.Authored, fmt.Sprintf("AI-assisted modification directed by the author: %s (%s); the content the AI tools made in them is excluded below",
			Plural(len(assisted), "recorded edit", "recorded edits"), describeEdits(assisted)))
	}
	for _, sr := range sketches {
		d.Authored = append(d.Authored, fmt.Sprintf("the author's own material: %s (record #%d), where it remains visible in the final work", sr.Step.File.Name, sr.Rec.Seq))
	}
	for _, sr := range h.Steps {
		s := sr.Step
		if s.Kind != KindInput || h.InFinal(sr.Rec.Seq) || s.Use == "reference" {
			continue
		}
		how := "whose use is not recorded"
		if s.Use == "component" {
			how = "recorded as a component of the work"
		}
		d.NotClaimed = append(d.NotClaimed, fmt.Sprintf("third-party material %s (record #%d; source %s, permission %s), %s", s.File.Name, sr.Rec.Seq, orText(s.Source, "not recorded"), s.Permission, how))
	}
	if len(d.Authored) == 0 {
		d.Authored = append(d.Authored, "no selection, arrangement, modification or material of the author's own is recorded in the making of the final work; the record may not support a claim of human authorship")
	}
	return d
}

// describeEdits names each edit with its tool and the direction recorded.
func describeEdits(edits []StepRecord) string {
	var out []string
	for _, sr := range edits {
		s := sr.Step
		p := fmt.Sprintf("#%d", sr.Rec.Seq)
		if t := toolWith(s); t != "" {
			p += " with " + t
		}
		var dir []string
		if s.Text != "" {
			dir = append(dir, fmt.Sprintf("instruction %q", s.Text))
		}
		if s.Note != "" {
			dir = append(dir, fmt.Sprintf("note %q", s.Note))
		}
		if len(dir) == 0 && s.By == ActorBoth {
			dir = append(dir, "the direction given is not recorded")
		}
		if len(dir) > 0 {
			p += ": " + strings.Join(dir, "; ")
		}
		out = append(out, p)
	}
	return strings.Join(out, "; ")
}

// toolWith names a step's tool and model: "Adobe Photoshop with Adobe Firefly".
func toolWith(s *Step) string {
	switch {
	case s.Tool != "" && s.Model != "":
		return s.Tool + " (" + s.Model + ")"
	case s.Tool != "":
		return s.Tool
	}
	return s.Model
}

// exclude lists what one lineage step brought in that is AI output, or that
// is not shown to be the author's.
func (d *CopyrightDraft) exclude(h *History, sr StepRecord) {
	s := sr.Step
	tool := toolWith(s)
	if tool == "" {
		tool = "an AI tool"
	}
	switch s.Kind {
	case KindGenerate:
		var used []string
		for _, f := range s.Out {
			if h.FileInFinal(f.SHA256) {
				used = append(used, f.Name)
			}
		}
		noun := PluralWord(len(used), "image", "images")
		what := fmt.Sprintf("the AI-generated %s %s", noun, strings.Join(used, ", "))
		if len(s.In) > 0 {
			what = fmt.Sprintf("the %s %s that AI generated from %s", noun, strings.Join(used, ", "), s.In[0].Name)
		}
		share := fmt.Sprintf("%d of the %s it produced", len(used), Plural(len(s.Out), "candidate", "candidates"))
		if len(s.Out) == 1 {
			share = "the only candidate it produced"
		}
		d.Excluded = append(d.Excluded, fmt.Sprintf("%s (record #%d, %s: %s)", what, sr.Rec.Seq, tool, share))
	case KindEdit:
		switch s.By {
		case ActorBoth:
			d.Excluded = append(d.Excluded, fmt.Sprintf("the content %s generated in the AI-assisted edit of record #%d (result %s)", tool, sr.Rec.Seq, s.After.Name))
		case ActorAI:
			d.Excluded = append(d.Excluded, fmt.Sprintf("the changes %s made on its own in record #%d (result %s)", tool, sr.Rec.Seq, s.After.Name))
		case ActorUnknown:
			d.NotClaimed = append(d.NotClaimed, fmt.Sprintf("the change in record #%d (%s to %s), whose author is not recorded", sr.Rec.Seq, s.Before.Name, s.After.Name))
		}
	case KindInput:
		d.NotClaimed = append(d.NotClaimed, fmt.Sprintf("third-party material %s (record #%d; source %s, permission %s)", s.File.Name, sr.Rec.Seq, orText(s.Source, "not recorded"), s.Permission))
	case KindFile:
		if IsAI(SourceType(s)) {
			d.Excluded = append(d.Excluded, fmt.Sprintf("%s (record #%d), AI-generated material by its own metadata", s.File.Name, sr.Rec.Seq))
		} else {
			d.NotClaimed = append(d.NotClaimed, fmt.Sprintf("%s (record #%d), a file of unknown origin: cairn cannot tell whether it is AI-generated", s.File.Name, sr.Rec.Seq))
		}
	}
	if s.Kind == KindEdit {
		for _, f := range consumes(s) {
			if _, ok := h.Producer(f.SHA256, sr.Rec.Seq); !ok {
				d.NotClaimed = append(d.NotClaimed, fmt.Sprintf("%s, used in record #%d, whose making is not recorded", f.Name, sr.Rec.Seq))
			}
		}
	}
}

func orText(s, none string) string {
	if s == "" {
		return none
	}
	return s
}
