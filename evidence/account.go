package evidence

import (
	"fmt"
	"strings"
	"time"
)

// Account is the human-versus-AI account of one asset: what was done, by whom,
// counted from its records.
type Account struct {
	Asset           string
	Steps           int
	Prompts         int // written by the human (by=human)
	PromptsAI       int // written by an AI (by=ai)
	PromptsBoth     int // co-written (by=both)
	Generations     int
	Candidates      int // outputs of all generations
	Selections      int
	ChosenOutOf     []int // for each selection, how many candidates it chose among
	Edits           int
	Sketches        int
	Inputs          int
	InputsUnknown   int // third-party inputs whose permission is unknown
	Notes           int
	Finals          int
	Disclosures     int
	HumanSteps      int
	AISteps         int
	BothSteps       int
	Captured        int // steps whose values were read from tool metadata
	First, Last     time.Time
	Tools, Models   []string // distinct, in order of first use
	AITools         []string // the tools of generations
	FirstDisclosure string   // YYYY-MM-DD
	DisclosureWhere string
}

// NewAccount counts the steps of one asset.
func NewAccount(asset string, steps []StepRecord) *Account {
	a := &Account{Asset: asset}
	seenTool, seenModel := map[string]bool{}, map[string]bool{}
	for _, sr := range steps {
		s := sr.Step
		if s.Asset != asset || s.Kind == KindIdentity {
			continue
		}
		a.Steps++
		if a.First.IsZero() {
			a.First = sr.Rec.Time
		}
		a.Last = sr.Rec.Time
		switch s.By {
		case ActorHuman:
			a.HumanSteps++
		case ActorAI:
			a.AISteps++
		case ActorBoth:
			a.BothSteps++
		}
		if s.Captured != nil {
			a.Captured++
		}
		if s.Tool != "" && !seenTool[s.Tool] {
			seenTool[s.Tool] = true
			a.Tools = append(a.Tools, s.Tool)
		}
		if s.Model != "" && !seenModel[s.Model] {
			seenModel[s.Model] = true
			a.Models = append(a.Models, s.Model)
		}
		switch s.Kind {
		case KindPrompt:
			switch s.By {
			case ActorAI:
				a.PromptsAI++
			case ActorBoth:
				a.PromptsBoth++
			default:
				a.Prompts++
			}
		case KindGenerate:
			if s.Tool != "" && !contains(a.AITools, s.Tool) {
				a.AITools = append(a.AITools, s.Tool)
			}
			a.Generations++
			a.Candidates += len(s.Out)
		case KindSelect:
			a.Selections++
			a.ChosenOutOf = append(a.ChosenOutOf, len(s.From))
		case KindEdit:
			a.Edits++
		case KindSketch:
			a.Sketches++
		case KindInput:
			a.Inputs++
			if s.Permission == "unknown" {
				a.InputsUnknown++
			}
		case KindNote:
			a.Notes++
		case KindFinal:
			a.Finals++
		case KindDisclose:
			a.Disclosures++
			if a.FirstDisclosure == "" || s.Date < a.FirstDisclosure {
				a.FirstDisclosure = s.Date
				a.DisclosureWhere = s.Where
			}
		}
	}
	return a
}

// Span is the time between the first and last step.
func (a *Account) Span() time.Duration { return a.Last.Sub(a.First) }

// HumanContribution lists, in plain words, what the human did. These are the facts
// that copyright in AI-assisted work rests on: selection, arrangement, modification
// and the author's own material.
func (a *Account) HumanContribution() []string {
	var out []string
	if a.Prompts+a.PromptsBoth > 0 {
		s := fmt.Sprintf("wrote %s", plural(a.Prompts+a.PromptsBoth, "prompt"))
		if a.PromptsBoth > 0 {
			s += fmt.Sprintf(" (%d of them together with an AI assistant)", a.PromptsBoth)
		}
		out = append(out, s)
	}
	if a.Selections > 0 {
		out = append(out, fmt.Sprintf("made %s among AI-generated candidates: %s", plural(a.Selections, "selection"), chosenList(a.ChosenOutOf)))
	}
	if a.Edits > 0 {
		out = append(out, fmt.Sprintf("made %s by hand", plural(a.Edits, "recorded edit")))
	}
	if a.Sketches > 0 {
		out = append(out, fmt.Sprintf("added %s of their own (sketches or material)", plural(a.Sketches, "piece")))
	}
	if a.Notes > 0 {
		out = append(out, fmt.Sprintf("recorded %s on their decisions", plural(a.Notes, "note")))
	}
	if a.Finals > 0 {
		out = append(out, "declared the final work")
	}
	return out
}

// AIContribution lists what AI systems produced.
func (a *Account) AIContribution() []string {
	var out []string
	if a.Generations > 0 {
		s := fmt.Sprintf("%s produced %s", plural(a.Generations, "generation"), plural(a.Candidates, "candidate"))
		if len(a.AITools) > 0 {
			s += " (" + strings.Join(a.AITools, ", ") + ")"
		}
		out = append(out, s)
	}
	if a.PromptsAI > 0 {
		out = append(out, fmt.Sprintf("%s written by an AI", plural(a.PromptsAI, "prompt")))
	}
	if a.PromptsBoth > 0 {
		out = append(out, fmt.Sprintf("%s co-written with an AI", plural(a.PromptsBoth, "prompt")))
	}
	return out
}

func chosenList(ns []int) string {
	parts := make([]string, 0, len(ns))
	for _, n := range ns {
		parts = append(parts, fmt.Sprintf("1 of %d", n))
	}
	if len(parts) > 6 {
		return strings.Join(parts[:6], ", ") + fmt.Sprintf(", … (%d more)", len(parts)-6)
	}
	return strings.Join(parts, ", ")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
