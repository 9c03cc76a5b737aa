package evidence

import (
	"fmt"
	"strings"

	"github.com/cairn-ledger/cairn/internal/msg"
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

// CopyrightDraft draws up the draft for the final work, in m's words.
func (h *History) CopyrightDraft(m *msg.Catalogue) *CopyrightDraft {
	w := &m.Draft
	d := &CopyrightDraft{}
	if h.Final == nil {
		d.Caveat = w.NoFinal.String()
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
		d.exclude(m, h, sr)
	}
	if len(sels) > 0 {
		var parts []string
		for _, sr := range sels {
			p := fmt.Sprintf("#%d: ", sr.Rec.Seq) + m.Account.OneOf.F(len(sr.Step.From))
			if sr.Step.Why != "" {
				p += fmt.Sprintf(", %q", sr.Step.Why)
			}
			parts = append(parts, p)
		}
		d.Authored = append(d.Authored, w.Selection.F(w.RecordedSelections.N(len(sels)), w.Choosing.N(len(sels)), strings.Join(parts, "; ")))
	}
	for _, sr := range arranged {
		s := sr.Step
		names := []string{s.Before.Name}
		for _, f := range s.In {
			names = append(names, f.Name)
		}
		how := w.ByHand
		if s.By == ActorBoth {
			how = w.InAssistedEdit
		}
		d.Authored = append(d.Authored, w.Arrangement.F(sr.Rec.Seq, w.Elements.N(len(names)), strings.Join(names, ", "), how))
	}
	if len(hand) > 0 {
		d.Authored = append(d.Authored, w.ModifiedByHand.F(m.Account.RecordedEdits.N(len(hand)), describeEdits(m, hand)))
	}
	if len(assisted) > 0 {
		d.Authored = append(d.Authored, w.ModifiedAssisted.F(m.Account.RecordedEdits.N(len(assisted)), describeEdits(m, assisted)))
	}
	for _, sr := range sketches {
		d.Authored = append(d.Authored, w.OwnMaterial.F(sr.Step.File.Name, sr.Rec.Seq))
	}
	for _, sr := range h.Steps {
		s := sr.Step
		if s.Kind != KindInput || h.InFinal(sr.Rec.Seq) || s.Use == "reference" {
			continue
		}
		how := w.UseNotRecorded
		if s.Use == "component" {
			how = w.UsedAsComponent
		}
		d.NotClaimed = append(d.NotClaimed, w.ThirdPartyUnused.F(s.File.Name, sr.Rec.Seq, orText(s.Source, w.NotRecorded.String()), msg.Name(m.Permission, s.Permission), how))
	}
	if len(d.Authored) == 0 {
		d.Authored = append(d.Authored, w.NoAuthorship.String())
	}
	return d
}

// describeEdits names each edit with its tool and the direction recorded.
func describeEdits(m *msg.Catalogue, edits []StepRecord) string {
	w := &m.Draft
	var out []string
	for _, sr := range edits {
		s := sr.Step
		p := fmt.Sprintf("#%d", sr.Rec.Seq)
		if t := toolWith(s); t != "" {
			p += w.EditWith.F(t)
		}
		var dir []string
		if s.Text != "" {
			dir = append(dir, w.Instruction.F(s.Text))
		}
		if s.Note != "" {
			dir = append(dir, w.Note.F(s.Note))
		}
		if len(dir) == 0 && s.By == ActorBoth {
			dir = append(dir, w.NoDirection.String())
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
func (d *CopyrightDraft) exclude(m *msg.Catalogue, h *History, sr StepRecord) {
	w := &m.Draft
	s := sr.Step
	tool := toolWith(s)
	if tool == "" {
		tool = w.AnAITool.String()
	}
	switch s.Kind {
	case KindGenerate:
		var used []string
		for _, f := range s.Out {
			if h.FileInFinal(f.SHA256) {
				used = append(used, f.Name)
			}
		}
		noun := w.Images.N(len(used))
		what := w.Generated.F(noun, strings.Join(used, ", "))
		if len(s.In) > 0 {
			what = w.GeneratedFrom.F(noun, strings.Join(used, ", "), s.In[0].Name)
		}
		share := w.Share.F(len(used), m.Account.Candidates.N(len(s.Out)))
		if len(s.Out) == 1 {
			share = w.OnlyCandidate.String()
		}
		d.Excluded = append(d.Excluded, w.ExcludedGeneration.F(what, sr.Rec.Seq, tool, share))
	case KindEdit:
		switch s.By {
		case ActorBoth:
			d.Excluded = append(d.Excluded, w.ExcludedAssisted.F(tool, sr.Rec.Seq, s.After.Name))
		case ActorAI:
			d.Excluded = append(d.Excluded, w.ExcludedByAI.F(tool, sr.Rec.Seq, s.After.Name))
		case ActorUnknown:
			d.NotClaimed = append(d.NotClaimed, w.UnknownChange.F(sr.Rec.Seq, s.Before.Name, s.After.Name))
		}
	case KindInput:
		d.NotClaimed = append(d.NotClaimed, w.ThirdParty.F(s.File.Name, sr.Rec.Seq, orText(s.Source, w.NotRecorded.String()), msg.Name(m.Permission, s.Permission)))
	case KindFile:
		if IsAI(SourceType(s)) {
			d.Excluded = append(d.Excluded, w.FileAI.F(s.File.Name, sr.Rec.Seq))
		} else {
			d.NotClaimed = append(d.NotClaimed, w.FileUnknown.F(s.File.Name, sr.Rec.Seq))
		}
	}
	if s.Kind == KindEdit {
		for _, f := range consumes(s) {
			if _, ok := h.Producer(f.SHA256, sr.Rec.Seq); !ok {
				d.NotClaimed = append(d.NotClaimed, w.MakingNotRecorded.F(f.Name, sr.Rec.Seq))
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
