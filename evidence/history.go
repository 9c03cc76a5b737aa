package evidence

import (
	"encoding/hex"
	"slices"
	"strings"
)

// History is one asset's records read as the story of the work: the steps that
// count (a retracted record and the retraction itself are set apart), the final
// work, and, for every file, the step that made it, so that what the final work
// contains can be traced back through the links the records state (an edit's
// before and placed files, a generation's inputs). Everything cairn says about
// an asset (the account, the label, the XMP, the pack, the C2PA manifest) is
// derived from a History, so they cannot disagree.
type History struct {
	Asset string
	// Steps are the asset's records that count, in ledger order: neither
	// retracted nor retractions.
	Steps []StepRecord
	// All is every record of the asset, in ledger order, for display.
	All []StepRecord
	// Retracted maps a retracted record's sequence number to its retraction.
	Retracted map[int64]StepRecord
	// Retractions are the retract records, in ledger order.
	Retractions []StepRecord
	// Final is the last final step that counts, if any.
	Final *StepRecord

	lineage map[int64]bool  // steps the final work's recorded making goes through
	files   map[string]bool // files the final work's recorded making goes through
	prompts map[int64]int64 // a prompt's seq -> the generation it preceded
	types   map[typeKey]string
}

type typeKey struct {
	sha    string
	before int // index in Steps: the file as it was before this step
}

// NewHistory reads the records of asset (others are ignored) in ledger order.
func NewHistory(asset string, records []StepRecord) *History {
	h := &History{Asset: asset, Retracted: map[int64]StepRecord{}, types: map[typeKey]string{}}
	bySeq := map[int64]StepRecord{}
	for _, sr := range records {
		if sr.Step.Asset != asset || sr.Step.Kind == KindIdentity || sr.Step.Kind == KindRotate {
			continue
		}
		h.All = append(h.All, sr)
		bySeq[sr.Rec.Seq] = sr
		if s := sr.Step; s.Kind == KindRetract && s.Retracts != nil {
			if t, ok := bySeq[s.Retracts.Seq]; ok && t.Step.Kind != KindRetract && leafHex(t) == s.Retracts.Hash {
				if _, done := h.Retracted[t.Rec.Seq]; !done {
					h.Retracted[t.Rec.Seq] = sr
				}
			}
			h.Retractions = append(h.Retractions, sr)
		}
	}
	for _, sr := range h.All {
		if _, gone := h.Retracted[sr.Rec.Seq]; !gone && sr.Step.Kind != KindRetract {
			h.Steps = append(h.Steps, sr)
		}
	}
	for i := range h.Steps {
		if h.Steps[i].Step.Kind == KindFinal {
			h.Final = &h.Steps[i]
		}
	}
	h.tracePrompts()
	h.traceLineage()
	return h
}

// leafHex is a record's RFC 6962 leaf hash in hex, as a retraction names it.
func leafHex(sr StepRecord) string {
	l := sr.Rec.Hash()
	return hex.EncodeToString(l[:])
}

// IsRetracted reports whether the record with this sequence number was retracted.
func (h *History) IsRetracted(seq int64) (StepRecord, bool) {
	r, ok := h.Retracted[seq]
	return r, ok
}

// produces lists the files a step brings into being.
func produces(s *Step) []FileRef {
	switch s.Kind {
	case KindGenerate:
		return s.Out
	case KindEdit:
		return []FileRef{*s.After}
	case KindSketch, KindInput, KindFile:
		return []FileRef{*s.File}
	}
	return nil
}

// consumes lists the files a producing step made its result from: an edit's
// version before and the files it placed, a generation's input images.
func consumes(s *Step) []FileRef {
	switch s.Kind {
	case KindGenerate:
		return s.In
	case KindEdit:
		return append([]FileRef{*s.Before}, s.In...)
	}
	return nil
}

// producer returns the index in h.Steps of the latest step before index i that
// produced the file, or -1: the file's making is not recorded.
func (h *History) producer(sha string, i int) int {
	for j := i - 1; j >= 0; j-- {
		for _, f := range produces(h.Steps[j].Step) {
			if f.SHA256 == sha {
				return j
			}
		}
	}
	return -1
}

// tracePrompts attaches each prompt to the generation that follows it: the
// prompts recorded since the previous generation are that generation's.
func (h *History) tracePrompts() {
	h.prompts = map[int64]int64{}
	var pending []int64
	for _, sr := range h.Steps {
		switch sr.Step.Kind {
		case KindPrompt:
			pending = append(pending, sr.Rec.Seq)
		case KindGenerate:
			for _, p := range pending {
				h.prompts[p] = sr.Rec.Seq
			}
			pending = nil
		}
	}
}

// traceLineage marks the steps and files the final work was made through:
// from the final file back to the step that produced it, and from each such
// step to the producers of what it consumed. A selection that chose a file of
// the lineage belongs to it too. Without a final work, nothing is marked.
func (h *History) traceLineage() {
	h.lineage, h.files = map[int64]bool{}, map[string]bool{}
	if h.Final == nil {
		return
	}
	var visit func(sha string, before int)
	seen := map[typeKey]bool{}
	visit = func(sha string, before int) {
		k := typeKey{sha, before}
		if seen[k] {
			return
		}
		seen[k] = true
		h.files[sha] = true
		j := h.producer(sha, before)
		if j < 0 {
			return
		}
		h.lineage[h.Steps[j].Rec.Seq] = true
		for _, f := range consumes(h.Steps[j].Step) {
			visit(f.SHA256, j)
		}
	}
	visit(h.Final.Step.File.SHA256, h.index(h.Final.Rec.Seq))
	for _, sr := range h.Steps {
		s := sr.Step
		if s.Kind == KindSelect && h.files[s.File.SHA256] && h.producedBefore(s.File.SHA256, sr.Rec.Seq) {
			h.lineage[sr.Rec.Seq] = true
		}
		if s.Kind == KindPrompt && h.lineage[h.prompts[sr.Rec.Seq]] {
			h.lineage[sr.Rec.Seq] = true
		}
	}
}

// producedBefore reports whether a lineage step produced the file before seq.
func (h *History) producedBefore(sha string, seq int64) bool {
	j := h.producer(sha, h.index(seq))
	return j >= 0 && h.lineage[h.Steps[j].Rec.Seq]
}

func (h *History) index(seq int64) int {
	for i, sr := range h.Steps {
		if sr.Rec.Seq == seq {
			return i
		}
	}
	return len(h.Steps)
}

// InFinal reports whether a step is part of the final work's recorded making:
// it produced the final file or something the final file was made from, chose
// such a file, or was a prompt of such a generation.
func (h *History) InFinal(seq int64) bool { return h.lineage[seq] }

// FileInFinal reports whether the final work's recorded making goes through
// the file.
func (h *History) FileInFinal(sha string) bool { return h.files[sha] }

// SourceType is the IPTC digital source type of what one step brought into the
// work (FORMAT.md §5.7): "" when the step brings in no content, or when cairn
// does not know what made it. A source type the file's own metadata states (C2PA
// or XMP, captured on import) is kept when it says as much AI as the step's actor
// would, or more: metadata can reveal AI, never hide it.
func SourceType(s *Step) string {
	var t string
	switch s.Kind {
	case KindGenerate:
		t = SourceTrainedAlgorithmic
	case KindEdit:
		t = map[string]string{ActorHuman: SourceHumanEdits, ActorBoth: SourceComposite, ActorAI: SourceTrainedAlgorithmic}[s.By]
	case KindSketch:
		t = SourceDigitalCreation
	case KindInput, KindFile:
		// Third-party material, or a file of unknown origin: what made it is
		// not recorded.
	default:
		return ""
	}
	// Only a statement of AI or algorithmic content is taken: a file that
	// says of itself that people made it is not thereby known to be so.
	if c := capturedSourceType(s); aiRank(c) > 0 && aiRank(c) >= aiRank(t) {
		t = c
	}
	return t
}

// capturedSourceType is the digital source type a step's file states about
// itself, as captured on import.
func capturedSourceType(s *Step) string {
	if s.Captured == nil {
		return ""
	}
	for _, k := range []string{"c2pa.digital_source_type", "digital_source_type"} {
		if v := s.Captured.Fields[k]; strings.HasPrefix(v, iptcPrefix) {
			return v
		}
	}
	return ""
}

const iptcPrefix = "http://cv.iptc.org/newscodes/digitalsourcetype/"

// aiRank orders source types by how much AI they say a work holds: 3 made by
// AI, 2 with AI elements, 1 changed by a non-generative algorithm, 0 made or
// changed by people (or captured from life).
func aiRank(t string) int {
	switch strings.TrimPrefix(t, iptcPrefix) {
	case "trainedAlgorithmicMedia", "algorithmicMedia":
		return 3
	case "compositeWithTrainedAlgorithmicMedia", "compositeSynthetic":
		return 2
	case "algorithmicallyEnhanced":
		return 1
	}
	return 0
}

// IsAI reports whether a source type says the content holds AI output.
func IsAI(t string) bool { return aiRank(t) >= 2 }

// FileSourceType is the source type of a file as it was before step index i of
// h.Steps, from the step that produced it and, recursively, what that step
// consumed. "" means unknown: its making is not recorded, or part of it is of
// unknown origin and no AI is known in it.
func (h *History) fileSourceType(sha string, i int) string {
	k := typeKey{sha, i}
	if t, ok := h.types[k]; ok {
		return t
	}
	h.types[k] = "" // a file cannot be made from itself
	t := ""
	if j := h.producer(sha, i); j >= 0 {
		s := h.Steps[j].Step
		t = SourceType(s)
		if s.Kind == KindEdit {
			parts := []string{t}
			for _, f := range consumes(s) {
				parts = append(parts, h.fileSourceType(f.SHA256, j))
			}
			t = combineTypes(parts)
		}
	}
	h.types[k] = t
	return t
}

// combineTypes is the source type of a work made of parts (an edit: the change
// and what it changed or placed). All AI: made by AI. Some AI: a composite with
// AI elements, whatever else is unknown. No AI but something unknown: unknown.
// Otherwise the work is human-made, changed by an algorithm if a part was.
func combineTypes(parts []string) string {
	ai, mixed, unknown, enhanced := 0, false, false, false
	for _, t := range parts {
		switch {
		case t == "":
			unknown = true
		case aiRank(t) == 3:
			ai++
		case aiRank(t) == 2:
			mixed = true
		case aiRank(t) == 1:
			enhanced = true
		}
	}
	switch {
	case ai == len(parts):
		return SourceTrainedAlgorithmic
	case ai > 0 || mixed:
		return SourceComposite
	case unknown:
		return ""
	case enhanced:
		return SourceEnhanced
	case len(parts) > 1:
		return SourceHumanEdits
	}
	return parts[0]
}

// Why a work's source type is unknown: the reason codes FinalSourceType gives.
// Their words are in the message catalogue (msg.Catalogue.Unknown).
const (
	UnknownNoContent    = "no-content"   // nothing that makes content is recorded
	UnknownSomeMaterial = "some-unknown" // the origin of some recorded material is unknown
	UnknownNoMaking     = "no-making"    // no step records how the final file was made
	UnknownPart         = "part-unknown" // part of the final work is of unknown origin
	UnknownUnlinkedAI   = "unlinked-ai"  // AI output is recorded, not linked to the final work
)

// FinalSourceType is the IPTC digital source type of the final work, with the
// reason code when it is unknown (""): from the recorded making of the final file
// and the file's own credentials. When no AI is linked to the final file but
// the asset records AI output, cairn cannot tell whether that output is in the
// work, and says unknown rather than human-made. Without a final work, it is
// the type of everything recorded taken together.
func (h *History) FinalSourceType() (t string, unknownWhy string) {
	if h.Final == nil {
		var parts []string
		for i, sr := range h.Steps {
			for _, f := range produces(sr.Step) {
				if !h.consumedAfter(f.SHA256, i) {
					parts = append(parts, h.fileSourceType(f.SHA256, i+1))
				}
			}
		}
		if len(parts) == 0 {
			return "", UnknownNoContent
		}
		if t = combineTypes(parts); t == "" {
			return "", UnknownSomeMaterial
		}
		return t, ""
	}
	t = h.fileSourceType(h.Final.Step.File.SHA256, h.index(h.Final.Rec.Seq))
	switch {
	case t == "" && h.producer(h.Final.Step.File.SHA256, h.index(h.Final.Rec.Seq)) < 0:
		return "", UnknownNoMaking
	case t == "":
		return "", UnknownPart
	case !IsAI(t) && h.unlinkedAI():
		return "", UnknownUnlinkedAI
	}
	return t, ""
}

// consumedAfter reports whether a step after index i uses the file.
func (h *History) consumedAfter(sha string, i int) bool {
	for _, sr := range h.Steps[i+1:] {
		for _, f := range consumes(sr.Step) {
			if f.SHA256 == sha {
				return true
			}
		}
	}
	return false
}

// unlinkedAI reports whether a step outside the final work's lineage brought
// in AI content.
func (h *History) unlinkedAI() bool {
	for _, sr := range h.Steps {
		if !h.lineage[sr.Rec.Seq] && IsAI(SourceType(sr.Step)) {
			return true
		}
	}
	return false
}

// Lineage returns the steps of the final work's recorded making, in ledger order.
func (h *History) Lineage() []StepRecord {
	var out []StepRecord
	for _, sr := range h.Steps {
		if h.lineage[sr.Rec.Seq] {
			out = append(out, sr)
		}
	}
	return out
}

// PromptsOf returns the prompts recorded before a generation (since the
// previous one), in order.
func (h *History) PromptsOf(genSeq int64) []StepRecord {
	var out []StepRecord
	for _, sr := range h.Steps {
		if sr.Step.Kind == KindPrompt && h.prompts[sr.Rec.Seq] == genSeq {
			out = append(out, sr)
		}
	}
	return out
}

// Producer returns the step that made the file as it was before the record
// seq, if the record shows one.
func (h *History) Producer(sha string, seq int64) (StepRecord, bool) {
	j := h.producer(sha, h.index(seq))
	if j < 0 {
		return StepRecord{}, false
	}
	return h.Steps[j], true
}

// MainChain follows the final file back through what each step began from
// (an edit's version before, a generation's first input image) and returns
// those steps in ledger order, the step where the work began first. When the
// first file of the chain has no recorded making, start is that file, and the
// chain begins with the step that used it.
func (h *History) MainChain() (chain []StepRecord, start *FileRef) {
	if h.Final == nil {
		return nil, nil
	}
	f, i := *h.Final.Step.File, h.index(h.Final.Rec.Seq)
	for {
		j := h.producer(f.SHA256, i)
		if j < 0 {
			slices.Reverse(chain)
			return chain, &f
		}
		chain = append(chain, h.Steps[j])
		s := h.Steps[j].Step
		switch {
		case s.Kind == KindEdit:
			f = *s.Before
		case s.Kind == KindGenerate && len(s.In) > 0:
			f = s.In[0]
		default:
			slices.Reverse(chain)
			return chain, nil
		}
		i = j
	}
}

// Base is the kind of the step where the final work's recorded making began
// (a generation, the author's sketch, a third-party input, a file of unknown
// origin), or "" when its first file's making is not recorded. An image
// generated from the author's sketch began with the sketch.
func (h *History) Base() string {
	chain, start := h.MainChain()
	if start != nil || len(chain) == 0 {
		return ""
	}
	return chain[0].Step.Kind
}

// FileSourceTypeAt is the source type of a file as it was just before the
// record seq: see History.FinalSourceType.
func (h *History) FileSourceTypeAt(sha string, seq int64) string {
	return h.fileSourceType(sha, h.index(seq))
}
