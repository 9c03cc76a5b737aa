package evidence

import (
	"fmt"
	"strings"
	"time"

	"github.com/cairn-ledger/cairn/internal/msg"
)

// Account is the human-versus-AI account of one asset: what was done, by whom,
// counted from the records that count (a retracted record and the retractions
// are counted apart, as Retracted and Retractions, and in nothing else).
type Account struct {
	Asset       string `json:"asset"`
	Steps       int    `json:"steps"`       // records that count
	Retracted   int    `json:"retracted"`   // records withdrawn by a retraction
	Retractions int    `json:"retractions"` // the retract records themselves

	Prompts     int `json:"prompts_human"` // written by the human (by=human)
	PromptsAI   int `json:"prompts_ai"`    // written by an AI (by=ai), such as a chatbot's suggestion
	PromptsBoth int `json:"prompts_both"`  // co-written (by=both)

	Generations     int   `json:"generations"`
	FromInput       int   `json:"generations_from_input"` // generations that started from input images (image-to-image, variations)
	Candidates      int   `json:"candidates"`             // outputs of all generations
	Selections      int   `json:"selections"`
	ChosenOutOf     []int `json:"chosen_out_of"` // for each selection, how many candidates it chose among
	EditsByHand     int   `json:"edits_by_hand"` // by=human: non-generative tools
	EditsAIAssisted int   `json:"edits_ai_assisted"`
	EditsByAI       int   `json:"edits_by_ai"`
	EditsUnknown    int   `json:"edits_unknown"` // who or what made the change is not recorded
	Sketches        int   `json:"sketches"`
	Inputs          int   `json:"inputs"`
	InputsUnknown   int   `json:"inputs_unknown_permission"` // third-party inputs whose permission is unknown
	UnknownFiles    int   `json:"files_unknown_origin"`      // files whose making cairn cannot tell
	Notes           int   `json:"notes"`
	Finals          int   `json:"finals"`
	// SimilarityChecks compared the work with reference images after it was
	// made; they are not steps of its making, so no other count includes them.
	SimilarityChecks int `json:"similarity_checks"`

	HumanSteps   int `json:"steps_human"`
	AISteps      int `json:"steps_ai"`
	BothSteps    int `json:"steps_both"`
	UnknownSteps int `json:"steps_unknown"`
	Captured     int `json:"steps_captured"` // steps whose values were read from tool metadata

	// First and Last are the times of the asset's first and last records,
	// retracted ones included: the period the record covers.
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`

	Tools   []string `json:"tools,omitempty"`    // distinct, in order of first use
	Models  []string `json:"models,omitempty"`   // distinct, in order of first use
	AITools []string `json:"ai_tools,omitempty"` // the tools of generations and of AI and AI-assisted edits
	// GenerationTools made the generations; EditTools the AI and AI-assisted
	// edits (tool and model).
	GenerationTools []string `json:"generation_tools,omitempty"`
	EditTools       []string `json:"ai_edit_tools,omitempty"`

	// Disclosures are every disclosure that counts, in ledger order.
	Disclosures []DisclosureRecord `json:"disclosures,omitempty"`

	// SourceType is the IPTC digital source type of the final work
	// (History.FinalSourceType); "" when unknown, and then UnknownWhy is the
	// reason code and SourceUnknown says it in English.
	SourceType    string `json:"digital_source_type"`
	SourceUnknown string `json:"digital_source_type_unknown,omitempty"`
	UnknownWhy    string `json:"-"`

	history *History
}

// DisclosureRecord is one recorded disclosure and what the record says of its
// date.
type DisclosureRecord struct {
	Seq      int64     `json:"seq"`
	Date     string    `json:"date"`
	Where    string    `json:"where,omitempty"`
	Recorded time.Time `json:"recorded"`
	// BeforeRecord: the declared date is earlier than the asset's first record,
	// so the ledger cannot confirm it; it is the designer's declaration.
	BeforeRecord bool `json:"before_first_record"`
	// NotYet: the date had not come when the step was recorded.
	NotYet bool `json:"not_yet_when_recorded"`
}

// NewAccount counts the records of one asset.
func NewAccount(asset string, steps []StepRecord) *Account {
	return NewHistory(asset, steps).Account()
}

// Account counts the history's steps.
func (h *History) Account() *Account {
	a := &Account{Asset: h.Asset, Retracted: len(h.Retracted), Retractions: len(h.Retractions), history: h}
	if len(h.All) > 0 {
		a.First, a.Last = h.All[0].Rec.Time, h.All[len(h.All)-1].Rec.Time
	}
	for _, sr := range h.Steps {
		a.count(sr)
	}
	a.SourceType, a.UnknownWhy = h.FinalSourceType()
	if a.UnknownWhy != "" {
		a.SourceUnknown = msg.Name(msg.English.Unknown, a.UnknownWhy)
	}
	return a
}

func (a *Account) count(sr StepRecord) {
	s := sr.Step
	if s.Kind == KindSimilarity {
		a.SimilarityChecks++
		return
	}
	a.Steps++
	switch s.By {
	case ActorHuman:
		a.HumanSteps++
	case ActorAI:
		a.AISteps++
	case ActorBoth:
		a.BothSteps++
	case ActorUnknown:
		a.UnknownSteps++
	}
	if s.Captured != nil {
		a.Captured++
	}
	if s.Tool != "" && !contains(a.Tools, s.Tool) {
		a.Tools = append(a.Tools, s.Tool)
	}
	if s.Model != "" && !contains(a.Models, s.Model) {
		a.Models = append(a.Models, s.Model)
	}
	if IsAI(SourceType(s)) && s.Tool != "" && !contains(a.AITools, s.Tool) {
		a.AITools = append(a.AITools, s.Tool)
	}
	if t := toolWith(s); t != "" && s.Kind == KindGenerate && !contains(a.GenerationTools, s.Tool) {
		a.GenerationTools = append(a.GenerationTools, s.Tool)
	} else if t != "" && s.Kind == KindEdit && IsAI(SourceType(s)) && !contains(a.EditTools, t) {
		a.EditTools = append(a.EditTools, t)
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
		a.Generations++
		a.Candidates += len(s.Out)
		if len(s.In) > 0 {
			a.FromInput++
		}
	case KindSelect:
		a.Selections++
		a.ChosenOutOf = append(a.ChosenOutOf, len(s.From))
	case KindEdit:
		switch s.By {
		case ActorHuman:
			a.EditsByHand++
		case ActorBoth:
			a.EditsAIAssisted++
		case ActorAI:
			a.EditsByAI++
		default:
			a.EditsUnknown++
		}
	case KindSketch:
		a.Sketches++
	case KindInput:
		a.Inputs++
		if s.Permission == "unknown" {
			a.InputsUnknown++
		}
	case KindFile:
		a.UnknownFiles++
	case KindNote:
		a.Notes++
	case KindFinal:
		a.Finals++
	case KindDisclose:
		a.Disclosures = append(a.Disclosures, DisclosureRecord{
			Seq: sr.Rec.Seq, Date: s.Date, Where: s.Where, Recorded: sr.Rec.Time,
			BeforeRecord: DateBefore(s.Date, a.First), NotYet: !DateHasCome(s.Date, sr.Rec.Time),
		})
	}
}

// History is what the account was counted from.
func (a *Account) History() *History { return a.history }

// DeadlineDisclosure is the disclosure the design-right deadlines run from:
// the one with the earliest declared date (the first disclosure starts them),
// the earlier record on equal dates. Nil if none is recorded.
func (a *Account) DeadlineDisclosure() *DisclosureRecord {
	var first *DisclosureRecord
	for i := range a.Disclosures {
		if d := &a.Disclosures[i]; first == nil || d.Date < first.Date {
			first = d
		}
	}
	return first
}

// Edits is the number of edits of any kind.
func (a *Account) Edits() int {
	return a.EditsByHand + a.EditsAIAssisted + a.EditsByAI + a.EditsUnknown
}

// Span is the time between the first and last record.
func (a *Account) Span() time.Duration { return a.Last.Sub(a.First) }

// HumanContribution lists, in plain words, what the human did. These are the facts
// that copyright in AI-assisted work rests on: selection, arrangement, modification
// and the author's own material. An AI-assisted edit is named as such: it is a
// person directing an AI tool, never an edit by hand. The words are m's.
func (a *Account) HumanContribution(m *msg.Catalogue) []string {
	w := &m.Account
	var out []string
	if n := a.Prompts + a.PromptsBoth; n > 0 {
		s := w.WrotePrompts.N(n)
		if a.PromptsBoth > 0 {
			s += w.WithAssistant.F(a.PromptsBoth)
		}
		out = append(out, s)
	}
	if a.Selections > 0 {
		out = append(out, w.MadeSelections.F(w.Selections.N(a.Selections), chosenList(m, a.ChosenOutOf)))
	}
	if a.EditsByHand > 0 {
		out = append(out, w.EditsByHand.F(w.RecordedEdits.N(a.EditsByHand)))
	}
	if a.EditsAIAssisted > 0 {
		out = append(out, w.DirectedEdits.F(w.AIAssistedEdits.N(a.EditsAIAssisted)))
	}
	if a.Sketches > 0 {
		out = append(out, w.AddedOwn.F(w.Pieces.N(a.Sketches)))
	}
	if a.Notes > 0 {
		out = append(out, w.RecordedNotes.F(w.Notes.N(a.Notes)))
	}
	if a.Finals > 0 {
		out = append(out, w.DeclaredFinal.String())
	}
	return out
}

// AIContribution lists what AI systems produced, in m's words.
func (a *Account) AIContribution(m *msg.Catalogue) []string {
	w := &m.Account
	var out []string
	if a.Generations > 0 {
		s := w.Produced.F(w.Generations.N(a.Generations), w.Candidates.N(a.Candidates))
		if len(a.GenerationTools) > 0 {
			s += " (" + strings.Join(a.GenerationTools, ", ") + ")"
		}
		if a.FromInput > 0 {
			s += w.FromInputImages.F(a.FromInput)
		}
		out = append(out, s)
	}
	tools := ""
	if len(a.EditTools) > 0 {
		tools = " (" + strings.Join(a.EditTools, ", ") + ")"
	}
	if a.EditsAIAssisted > 0 {
		out = append(out, w.MadeUnderDirection.F(w.AIAssistedEdits.N(a.EditsAIAssisted), tools))
	}
	if a.EditsByAI > 0 {
		out = append(out, w.MadeByAIAlone.F(w.Edits.N(a.EditsByAI), tools))
	}
	if a.PromptsAI > 0 {
		out = append(out, w.WrittenByAI.F(w.Texts.N(a.PromptsAI)))
	}
	if a.PromptsBoth > 0 {
		out = append(out, w.CoWritten.F(w.Prompts.N(a.PromptsBoth)))
	}
	return out
}

// UnknownContribution lists what the record cannot attribute to a human or an
// AI, in m's words. It is counted as neither.
func (a *Account) UnknownContribution(m *msg.Catalogue) []string {
	w := &m.Account
	var out []string
	if a.UnknownFiles > 0 {
		out = append(out, w.UnknownFiles.F(w.Files.N(a.UnknownFiles), w.ItThem.N(a.UnknownFiles)))
	}
	if a.EditsUnknown > 0 {
		out = append(out, w.UnknownChanges.F(w.Changes.N(a.EditsUnknown)))
	}
	return out
}

func chosenList(m *msg.Catalogue, ns []int) string {
	parts := make([]string, 0, len(ns))
	for _, n := range ns {
		parts = append(parts, m.Account.OneOf.F(n))
	}
	if len(parts) > 6 {
		return strings.Join(parts[:6], ", ") + m.Account.MoreChosen.F(len(parts)-6)
	}
	return strings.Join(parts, ", ")
}

// Plural writes a count with its noun in the right number: "1 edit", "2 edits".
func Plural(n int, one, many string) string {
	return fmt.Sprintf("%d %s", n, PluralWord(n, one, many))
}

// PluralWord is the noun for a count: one or many.
func PluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
