package evidence

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cairn-ledger/cairn/evidence/capture"
	"github.com/cairn-ledger/cairn/ledger"
)

// An Imported file is one file given to cairn import or seen by cairn watch,
// stored, with what its own metadata says (nil: it has none).
type Imported struct {
	Ref     FileRef
	Capture *capture.Capture
}

// Known is what an importer links new files to: the files an asset's records
// already name, by the label of their C2PA active manifest and by name.
type Known struct {
	byManifest map[string]FileRef
	byName     map[string][]FileRef
}

// KnownFiles collects the files the asset's records name.
func KnownFiles(h *History) *Known {
	k := &Known{byManifest: map[string]FileRef{}, byName: map[string][]FileRef{}}
	for _, sr := range h.Steps {
		s := sr.Step
		if s.Captured != nil {
			if l := s.Captured.Fields["c2pa.active_manifest"]; l != "" {
				for _, f := range produces(s) {
					k.byManifest[l] = f
				}
			}
		}
		for _, f := range s.Files() {
			if !containsFile(k.byName[f.Name], f) {
				k.byName[f.Name] = append(k.byName[f.Name], f)
			}
		}
	}
	return k
}

func (k *Known) add(f Imported) {
	if f.Capture != nil && f.Capture.C2PA != nil && f.Capture.C2PA.ActiveLabel != "" {
		k.byManifest[f.Capture.C2PA.ActiveLabel] = f.Ref
	}
	if !containsFile(k.byName[f.Ref.Name], f.Ref) {
		k.byName[f.Ref.Name] = append(k.byName[f.Ref.Name], f.Ref)
	}
}

// ImportSteps builds the steps for files imported together, in order, and a
// line for each saying what it was recorded as. Each file is recorded as what
// its own metadata says it is, never as more:
//   - a generator's record (AUTOMATIC1111, ComfyUI, InvokeAI, NovelAI, Fooocus,
//     Midjourney), or Content Credentials whose first action is c2pa.created,
//     make a generation; files of one generation job (the same Midjourney job
//     ID and prompt) make one generation with all of them as candidates;
//   - Content Credentials that begin from an earlier file (c2pa.opened: a
//     Photoshop edit, with Firefly or without) make an edit of that file, by
//     both a person and an AI if an action states AI content;
//   - anything else, and a file without metadata, is a file of unknown origin.
//
// in are the files given with --in: the source of a variation, or the file an
// edit began from (the first) and files it placed (the others). Without them,
// a parent the file's own metadata names is linked when the asset's records
// (or an earlier file of the same import) hold it: a C2PA ingredient by its
// manifest's label, a ComfyUI LoadImage input by its file name if one recorded
// file has that name.
func ImportSteps(files []Imported, in []FileRef, known *Known) ([]*Step, []string) {
	var steps []*Step
	var lines []string
	for _, group := range jobGroups(files) {
		s, line := importStep(group, in, known)
		steps = append(steps, s)
		lines = append(lines, line)
		for _, f := range group {
			known.add(f)
		}
	}
	return steps, lines
}

// jobGroups groups files of one generation job, keeping the order of first
// appearance. A job is a generator's job ID with the same prompt.
func jobGroups(files []Imported) [][]Imported {
	var groups [][]Imported
	at := map[string]int{}
	for _, f := range files {
		key := ""
		if c := f.Capture; c != nil && c.JobID != "" && isGenerator(c.Tool) {
			key = c.Tool + "\x00" + c.JobID + "\x00" + c.Prompt
		}
		if i, ok := at[key]; ok && key != "" {
			groups[i] = append(groups[i], f)
			continue
		}
		at[key] = len(groups)
		groups = append(groups, []Imported{f})
	}
	return groups
}

// isGenerator reports whether a capture's tool is an image generator's own
// record, rather than XMP or C2PA, which any tool writes.
func isGenerator(tool string) bool {
	return tool != "" && tool != "XMP" && tool != "C2PA"
}

func importStep(group []Imported, in []FileRef, known *Known) (*Step, string) {
	f := group[0]
	c := f.Capture
	name := f.Ref.Name
	if c == nil || isEmptyCapture(c) {
		what := "no metadata"
		if c != nil {
			what = "no metadata that says what made it"
		}
		if len(in) > 0 {
			// The designer says where it came from; nothing says how.
			s := &Step{Kind: KindEdit, By: ActorUnknown, Before: &in[0], After: &f.Ref, In: in[1:]}
			return s, fmt.Sprintf("%s: %s; recorded as a change of %s by an unknown hand", name, what, in[0].Name)
		}
		return &Step{Kind: KindFile, By: ActorUnknown, File: &f.Ref}, name + ": " + what + "; recorded as a file of unknown origin, counted neither as human nor as AI"
	}
	captured := CapturedOf(c)
	if cp := c.C2PA; cp != nil && len(cp.Actions) > 0 && !isGenerator(c.Tool) {
		return c2paStep(f, captured, in, known)
	}
	if isGenerator(c.Tool) || strings.Contains(c.DigitalSourceType, "trainedAlgorithmicMedia") {
		s := &Step{Kind: KindGenerate, By: ActorAI, Tool: orUnknownTool(c.Tool), Model: c.Model, Text: c.Prompt, Captured: captured}
		for _, g := range group {
			s.Out = append(s.Out, g.Ref)
		}
		s.In, captured.Fields["linked_input"] = generationInputs(c, in, known)
		if captured.Fields["linked_input"] == "" {
			delete(captured.Fields, "linked_input")
		}
		if len(group) > 1 {
			captured.Fields["job_outputs"] = fmt.Sprint(len(group))
		}
		return s, generationLine(s, group)
	}
	// XMP alone, or credentials without actions: the file says something about
	// itself, but not that a generation made it.
	s := &Step{Kind: KindFile, By: ActorUnknown, File: &f.Ref, Captured: captured}
	return s, fmt.Sprintf("%s: %s metadata that does not say what made it; recorded as a file of unknown origin", name, c.Tool)
}

// generationInputs are the images a generation started from: those given
// with --in, else the ones its own record names by file name, where exactly
// one recorded file has that name. The second result says how they were linked.
func generationInputs(c *capture.Capture, in []FileRef, known *Known) ([]FileRef, string) {
	if len(in) > 0 {
		return in, ""
	}
	var out []FileRef
	var how []string
	for _, name := range c.InputImages {
		if fs := known.byName[name]; len(fs) == 1 {
			out = append(out, fs[0])
			how = append(how, fmt.Sprintf("%s by file name, from the tool's record", name))
		}
	}
	return out, strings.Join(how, "; ")
}

func generationLine(s *Step, group []Imported) string {
	var parts []string
	parts = append(parts, s.Tool)
	if s.Model != "" {
		parts = append(parts, "model "+s.Model)
	}
	if v := s.Captured.Fields["seed"]; v != "" {
		parts = append(parts, "seed "+v)
	}
	if s.Text != "" {
		parts = append(parts, fmt.Sprintf("prompt %q", clipLine(s.Text, 50)))
	}
	if v := s.Captured.Fields["c2pa.claim_generator"]; v != "" {
		parts = append(parts, "C2PA by "+clipLine(v, 40))
	}
	if len(s.In) > 0 {
		parts = append(parts, "from "+s.In[0].Name)
	}
	names := group[0].Ref.Name
	if len(group) > 1 {
		parts = append(parts, fmt.Sprintf("job %s: one generation of %d candidates", group[0].Capture.JobID, len(group)))
		var ns []string
		for _, g := range group {
			ns = append(ns, g.Ref.Name)
		}
		names = strings.Join(ns, ", ")
	}
	return names + ": " + strings.Join(parts, ", ")
}

// c2paStep records a file as its Content Credentials describe the last
// change: c2pa.created is a generation; anything else began from an earlier
// file, and is an edit of it when cairn knows that file.
func c2paStep(f Imported, captured *Captured, in []FileRef, known *Known) (*Step, string) {
	cp := f.Capture.C2PA
	tool, _ := capture.ToolName(cp.ClaimGenerator)
	if tool == "" {
		tool = "unknown (C2PA claim without a generator)"
	}
	ai, aiAgent := false, ""
	for _, a := range cp.Actions {
		if IsAI(a.DigitalSourceType) {
			ai = true
			if aiAgent == "" {
				aiAgent = a.SoftwareAgent
			}
		}
	}
	name := f.Ref.Name
	if cp.Actions[0].Action == "c2pa.created" {
		s := &Step{Kind: KindGenerate, By: ActorAI, Tool: tool, Model: cp.Actions[0].SoftwareAgent, Out: []FileRef{f.Ref}, In: in, Captured: captured}
		return s, fmt.Sprintf("%s: created by %s (C2PA), recorded as a generation", name, tool)
	}
	before, placed, how := in, []FileRef(nil), "given with --in"
	if len(before) == 0 {
		before, how = credentialParents(cp, known)
	}
	if len(before) > 1 {
		before, placed = before[:1], before[1:]
	}
	if len(before) == 0 {
		s := &Step{Kind: KindFile, By: ActorUnknown, File: &f.Ref, Captured: captured}
		return s, fmt.Sprintf("%s: its Content Credentials say %s changed an earlier file that is not recorded; recorded as a file (link it to that file with --in FILE)", name, tool)
	}
	s := &Step{Kind: KindEdit, By: ActorHuman, Tool: tool, Before: &before[0], After: &f.Ref, In: placed, Captured: captured}
	what := "an edit"
	if ai {
		// A person used the tool; an AI made content in it: AI-assisted.
		s.By, s.Model, what = ActorBoth, aiAgent, "an AI-assisted edit"
	}
	if how != "" {
		captured.Fields["linked_before"] = fmt.Sprintf("%s (%s)", before[0].Name, how)
	}
	return s, fmt.Sprintf("%s: %s of %s in %s (C2PA: %s)", name, what, before[0].Name, tool, actionList(cp.Actions))
}

// credentialParents are the recorded files the credentials' ingredients name,
// the parent first.
func credentialParents(cp *capture.C2PAInfo, known *Known) ([]FileRef, string) {
	var out []FileRef
	ings := append([]capture.C2PAIngredient(nil), cp.Ingredients...)
	sort.SliceStable(ings, func(i, j int) bool { return ings[i].Relationship == "parentOf" && ings[j].Relationship != "parentOf" })
	for _, ing := range ings {
		if f, ok := known.byManifest[ing.Manifest]; ok && ing.Relationship != "inputTo" && !containsFile(out, f) {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return nil, ""
	}
	return out, "named by the file's C2PA ingredient"
}

func actionList(acts []capture.C2PAAction) string {
	var out []string
	for _, a := range acts {
		x := strings.TrimPrefix(a.Action, "c2pa.")
		if a.SoftwareAgent != "" {
			x += " by " + a.SoftwareAgent
		}
		out = append(out, x)
	}
	return strings.Join(out, ", ")
}

func orUnknownTool(t string) string {
	if t == "" {
		return "unknown"
	}
	return t
}

// CapturedOf keeps what the file's metadata says, every value as written.
func CapturedOf(c *capture.Capture) *Captured {
	fields := map[string]string{}
	set := func(k, v string) {
		if v != "" {
			fields[k] = v
		}
	}
	set("tool", c.Tool)
	set("tool_version", c.ToolVersion)
	set("prompt", c.Prompt)
	set("negative_prompt", c.NegativePrompt)
	set("model", c.Model)
	set("seed", c.Seed)
	set("sampler", c.Sampler)
	set("steps", c.Steps)
	set("guidance", c.Guidance)
	set("size", c.Size)
	set("job_id", c.JobID)
	set("author", c.Author)
	set("description", c.Description)
	set("digital_source_type", c.DigitalSourceType)
	set("input_images", strings.Join(c.InputImages, ", "))
	for k, v := range c.Params {
		set("param."+k, v)
	}
	if cp := c.C2PA; cp != nil {
		set("c2pa.container", cp.Container)
		set("c2pa.manifest_sha256", cp.ManifestSHA256)
		set("c2pa.claim_generator", cp.ClaimGenerator)
		set("c2pa.digital_source_type", cp.DigitalSourceType)
		set("c2pa.active_manifest", cp.ActiveLabel)
		set("c2pa.actions", actionList(cp.Actions))
		var ings []string
		for _, i := range cp.Ingredients {
			ings = append(ings, strings.TrimSpace(fmt.Sprintf("%s %s %s", i.Relationship, i.Title, i.Manifest)))
		}
		set("c2pa.ingredients", strings.Join(ings, "; "))
		var chain []string
		for _, m := range cp.Manifests {
			n, _ := capture.ToolName(m.ClaimGenerator)
			chain = append(chain, n)
		}
		if len(chain) > 1 {
			set("c2pa.manifests", strings.Join(chain, ", then "))
		}
	}
	var from []string
	for _, src := range c.Sources {
		from = append(from, strings.TrimSpace(src.Container+" "+src.Key))
		set("source."+src.Container+" "+src.Key+".sha256", src.SHA256)
	}
	return &Captured{From: metadataFrom(c.Tool, from), Fields: keepFields(fields)}
}

// keepFields makes captured values recordable (FORMAT.md §5.4): a field the
// source left empty is left out, a name is cut to 256 bytes and a value to 64
// KiB, each at a character boundary, so that what a tool wrote is kept as far
// as a step can hold it.
func keepFields(fields map[string]string) map[string]string {
	out := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(fields)) { // two names cut alike: the first stays
		v := fields[k]
		if k = cutUTF8(k, 256); k != "" && v != "" && out[k] == "" {
			out[k] = cutUTF8(v, 64<<10)
		}
	}
	return out
}

// cutUTF8 cuts s to at most max bytes without splitting a character.
func cutUTF8(s string, max int) string {
	if len(s) <= max {
		return s
	}
	for max > 0 && !utf8.RuneStart(s[max]) {
		max--
	}
	return s[:max]
}

func isEmptyCapture(c *capture.Capture) bool {
	return c.Tool == "" && c.Prompt == "" && c.Model == "" && c.Seed == "" && c.C2PA == nil &&
		c.DigitalSourceType == "" && c.Description == "" && len(c.Params) == 0
}

func metadataFrom(tool string, carriers []string) string {
	sort.Strings(carriers)
	uniq := carriers[:0]
	for i, c := range carriers {
		if i == 0 || c != carriers[i-1] {
			uniq = append(uniq, c)
		}
	}
	if tool == "" {
		tool = "embedded"
	}
	return fmt.Sprintf("%s metadata in the file (%s)", tool, strings.Join(uniq, ", "))
}

// clipLine shortens text for a one-line summary.
func clipLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		return string(r[:max]) + "…"
	}
	return s
}

// PromptsFromChat builds the steps of one chat conversation, in order: the
// user's messages as prompts by the human, the assistant's replies as
// prompts written by an AI (by=ai), so that a prompt worked out with a
// chatbot shows both halves. The record's own time stays the time of
// recording; the time the export claims is kept in Captured.ClaimedTime.
// With userOnly, the assistant's replies are left out.
func PromptsFromChat(conv *capture.Conversation, exportName string, exportSHA256 string, userOnly bool) []*Step {
	var out []*Step
	tool := conv.Source
	for i, p := range conv.Messages {
		if strings.TrimSpace(p.Text) == "" || userOnly && p.Role != "user" {
			continue
		}
		fields := map[string]string{
			"conversation_id":    conv.ID,
			"conversation_title": conv.Title,
			"message_id":         p.MessageID,
			"role":               p.Role,
			"position":           fmt.Sprint(i + 1),
			"export_file":        exportName,
			"export_sha256":      exportSHA256,
		}
		if p.SkippedParts > 0 {
			fields["skipped_parts"] = fmt.Sprint(p.SkippedParts)
		}
		c := &Captured{From: fmt.Sprintf("%s chat export %s", conv.Source, exportName), Fields: keepFields(fields)}
		if !p.ClaimedTime.IsZero() {
			c.ClaimedTime = p.ClaimedTime.UTC().Format(time.RFC3339Nano)
		}
		by := ActorHuman
		if p.Role == "assistant" {
			by = ActorAI
		}
		out = append(out, &Step{Kind: KindPrompt, By: by, Text: p.Text, Tool: tool, Model: p.Model, Captured: c})
	}
	return out
}

// RecordedFiles maps the SHA-256 of every file a record that counts names (in
// any asset) to the first such record: an importer says so instead of
// recording the same file again.
func (b *Book) RecordedFiles() (map[string]StepRecord, error) {
	var all []StepRecord
	retracted := map[int64]bool{}
	err := b.Scan(0, func(sr StepRecord) error {
		if sr.Step.Kind == KindRetract {
			retracted[sr.Step.Retracts.Seq] = true
			return nil
		}
		all = append(all, StepRecord{Rec: &ledger.Record{Seq: sr.Rec.Seq}, Step: sr.Step})
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := map[string]StepRecord{}
	for _, sr := range all {
		if retracted[sr.Rec.Seq] {
			continue
		}
		for _, f := range sr.Step.Files() {
			if _, ok := out[f.SHA256]; !ok {
				out[f.SHA256] = sr
			}
		}
	}
	return out, nil
}
