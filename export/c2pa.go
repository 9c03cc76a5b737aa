package export

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/evidence/capture"
)

// C2PA manifest definitions (FORMAT.md §9). cairn does not sign C2PA itself: it
// writes the definition that c2patool, or any C2PA SDK, signs onto the final
// file with the signer's own C2PA certificate. The definition says, in the C2PA
// and IPTC vocabularies, what the ledger recorded, and carries the ledger
// evidence for the final record, so that whoever holds the signed file can reach
// the ledger.

// C2PAOptions controls C2PA.
type C2PAOptions struct {
	// RedactPrompts puts only the SHA-256 of each prompt's text in the
	// manifest, not the text.
	RedactPrompts bool
	// Version is cairn's version, for claim_generator_info.
	Version string
	// Now is the time the definition is made, which decides whether a
	// disclosure's date has come; zero: the clock.
	Now time.Time
}

// C2PALedgerLabel is the label of cairn's own assertion.
const C2PALedgerLabel = "org.cairn.ledger"

// C2PALedgerFormat is the "format" of that assertion's data.
const C2PALedgerFormat = "cairn.c2pa-ledger/v1"

// A C2PADefinition is a manifest definition and the resource files it names.
type C2PADefinition struct {
	Manifest  []byte            // manifest.json
	Resources map[string][]byte // by the relative name the manifest uses
	Final     evidence.FileRef  // the file the manifest is for
	// Parent, when the final file has Content Credentials of its own, is the
	// parentOf ingredient that keeps them: the signer adds it from the final
	// file itself (C2PAParentFile), so the SDK copies its manifests over.
	Parent *c2paIngredient
}

// WriteDir writes manifest.json and the resources into dir.
func (d *C2PADefinition) WriteDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, data := range d.Resources {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	parent := filepath.Join(dir, C2PAParentFile)
	if d.Parent != nil {
		data, err := encodeJSON(d.Parent)
		if err != nil {
			return err
		}
		if err := os.WriteFile(parent, data, 0o644); err != nil {
			return err
		}
	} else if err := os.Remove(parent); err != nil && !os.IsNotExist(err) {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "manifest.json"), d.Manifest, 0o644)
}

// The C2PA data type of a prompt ingredient.
const promptType = "c2pa.types.generator.prompt"

type c2paManifest struct {
	ClaimGeneratorInfo []c2paAgent      `json:"claim_generator_info"`
	Title              string           `json:"title"`
	Format             string           `json:"format"`
	Ingredients        []c2paIngredient `json:"ingredients,omitempty"`
	Assertions         []c2paAssertion  `json:"assertions"`
}

type c2paAgent struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
}

type c2paIngredient struct {
	Title        string         `json:"title"`
	Format       string         `json:"format"`
	Relationship string         `json:"relationship"` // parentOf, componentOf, inputTo
	Label        string         `json:"label"`
	Description  string         `json:"description,omitempty"`
	Data         *c2paResource  `json:"data,omitempty"`
	DataTypes    []c2paDataType `json:"data_types,omitempty"`
}

type c2paResource struct {
	Format     string `json:"format"`
	Identifier string `json:"identifier"`
}

type c2paDataType struct {
	Type string `json:"type"`
}

type c2paAssertion struct {
	Label string `json:"label"`
	Data  any    `json:"data"`
}

type c2paAction struct {
	Action            string         `json:"action"`
	When              string         `json:"when"`
	SoftwareAgent     *c2paAgent     `json:"softwareAgent,omitempty"`
	DigitalSourceType string         `json:"digitalSourceType,omitempty"`
	Description       string         `json:"description,omitempty"`
	Parameters        map[string]any `json:"parameters,omitempty"`
}

// C2PALedger is the data of the org.cairn.ledger assertion: the checkpoint the
// manifest was anchored to and the final record with its inclusion proof in it.
type C2PALedger struct {
	Format     string        `json:"format"`
	Origin     string        `json:"origin"`
	Asset      string        `json:"asset"`
	Size       int64         `json:"size"`
	Root       string        `json:"root"`       // base64
	Checkpoint string        `json:"checkpoint"` // the signed note, verbatim
	Final      BundleRecord  `json:"final"`      // the record that declared the final file
	File       c2paLedgerRef `json:"file"`
	// DigitalSourceType is the final work's IPTC digital source type, derived
	// from its recorded making and its own credentials; absent when unknown.
	DigitalSourceType string `json:"digital_source_type,omitempty"`
}

type c2paLedgerRef struct {
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// C2PAParentLabel is the label of the parentOf ingredient that stands for the
// final file's own Content Credentials (FORMAT.md §9).
const C2PAParentLabel = "final-credentials"

// C2PAParentFile is the name, in the definition's directory, of that
// ingredient's definition: the signer adds it from the final file itself.
const C2PAParentFile = "parent-ingredient.json"

// C2PA returns the manifest definition for the final file of asset: the file
// of its last final step that counts. It anchors to a checkpoint as Export does
// (signed with key and stored if none covers the ledger).
func C2PA(b *evidence.Book, key ed25519.PrivateKey, asset string, opts C2PAOptions) (*C2PADefinition, error) {
	v, err := b.ViewAsset(asset)
	if err != nil {
		return nil, err
	}
	h := evidence.NewHistory(asset, v.Steps)
	final := h.Final
	if final == nil {
		return nil, &evidence.InputError{Msg: fmt.Sprintf("asset %q has no final file, and a C2PA manifest describes one; declare it with: cairn final FILE --asset %s", asset, asset)}
	}
	cp, err := Anchor(b, key)
	if err != nil {
		return nil, err
	}
	proof, err := b.Ledger.InclusionProof(final.Rec.Seq, cp.Size)
	if err != nil {
		return nil, err
	}
	ff := *final.Step.File
	version := opts.Version
	if version == "" {
		version = "dev"
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	def := &C2PADefinition{Resources: map[string][]byte{}, Final: ff}
	m := c2paManifest{
		ClaimGeneratorInfo: []c2paAgent{{Name: "cairn", Version: version}},
		Title:              ff.Name,
		Format:             mimeOrDefault(ff.Type),
	}
	w := &manifestWriter{h: h, m: &m, def: def, opts: opts}
	own, err := finalCredentials(b, ff)
	if err != nil {
		return nil, err
	}
	finalType, _ := h.FinalSourceType()
	w.actions(own, finalType)
	w.unplacedInputs()
	w.disclosures(now)

	use := "notAllowed"
	if v.Info.TDM == "allowed" {
		use = "allowed"
	}
	tdm := func(prefix string) map[string]any {
		e := map[string]any{}
		for _, k := range []string{"ai_generative_training", "ai_inference", "ai_training", "data_mining"} {
			e[prefix+"."+k] = map[string]string{"use": use}
		}
		return map[string]any{"entries": e}
	}
	path := make([]string, len(proof))
	for i, h := range proof {
		path[i] = base64.StdEncoding.EncodeToString(h[:])
	}
	m.Assertions = []c2paAssertion{
		{Label: "c2pa.actions.v2", Data: map[string]any{"actions": w.acts}},
		{Label: "cawg.training-mining", Data: tdm("cawg")},
		{Label: "c2pa.training-mining", Data: tdm("c2pa")},
		{Label: C2PALedgerLabel, Data: C2PALedger{
			Format: C2PALedgerFormat, Origin: cp.Origin, Asset: asset, Size: cp.Size,
			Root: base64.StdEncoding.EncodeToString(cp.Root[:]), Checkpoint: string(cp.Note),
			Final:             BundleRecord{Index: final.Rec.Seq, Entry: base64.StdEncoding.EncodeToString(final.Rec.Entry), Proof: path},
			File:              c2paLedgerRef{SHA256: ff.SHA256, Size: ff.Size},
			DigitalSourceType: finalType,
		}},
	}
	def.Manifest, err = encodeJSON(m)
	if err != nil {
		return nil, err
	}
	return def, nil
}

func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// finalCredentials reads the Content Credentials the stored final file carries
// itself, if any.
func finalCredentials(b *evidence.Book, ff evidence.FileRef) (*capture.C2PAInfo, error) {
	f, err := b.Files.Open(ff.SHA256)
	if err != nil {
		return nil, fmt.Errorf("the final file %s (%s) is missing from the store; run cairn verify", ff.Short(), ff.Name)
	}
	defer f.Close()
	c, err := capture.Inspect(f)
	if err != nil || c == nil {
		return nil, nil // not an image cairn reads credentials from, or none
	}
	return c.C2PA, nil
}

// manifestWriter builds the ingredients and actions of one definition.
type manifestWriter struct {
	h      *evidence.History
	m      *c2paManifest
	def    *C2PADefinition
	opts   C2PAOptions
	acts   []c2paAction
	nFile  int
	nPrmpt int
	placed map[string]bool // files already an ingredient of the work
}

func when(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func agent(s *evidence.Step) *c2paAgent {
	if s.Tool == "" {
		return nil
	}
	return &c2paAgent{Name: s.Tool}
}

// fileIngredient adds a file as an ingredient and returns its label.
func (w *manifestWriter) fileIngredient(f evidence.FileRef, rel, desc string) string {
	w.nFile++
	label := fmt.Sprintf("file-%d", w.nFile)
	if desc != "" {
		desc += "; "
	}
	w.m.Ingredients = append(w.m.Ingredients, c2paIngredient{
		Title: f.Name, Format: mimeOrDefault(f.Type), Relationship: rel, Label: label,
		Description: desc + "SHA-256 " + f.SHA256,
	})
	if w.placed == nil {
		w.placed = map[string]bool{}
	}
	w.placed[f.SHA256] = true
	return label
}

// promptIngredients adds a generation's prompts as inputTo ingredients.
func (w *manifestWriter) promptIngredients(gen int64) []string {
	var labels []string
	for _, sr := range w.h.PromptsOf(gen) {
		w.nPrmpt++
		label := fmt.Sprintf("prompt-%d", w.nPrmpt)
		sum := sha256.Sum256([]byte(sr.Step.Text))
		ing := c2paIngredient{
			Title: fmt.Sprintf("prompt %d", w.nPrmpt), Format: "text/plain", Relationship: "inputTo", Label: label,
			Description: fmt.Sprintf("SHA-256 of the prompt text (UTF-8): %s; written by %s (record #%d)", hex.EncodeToString(sum[:]), writtenBy(sr.Step.By), sr.Rec.Seq),
			DataTypes:   []c2paDataType{{promptType}},
		}
		if w.opts.RedactPrompts {
			ing.Title += " (text withheld)"
		} else {
			name := label + ".txt"
			w.def.Resources[name] = []byte(sr.Step.Text)
			ing.Data = &c2paResource{Format: "text/plain", Identifier: name}
		}
		w.m.Ingredients = append(w.m.Ingredients, ing)
		labels = append(labels, label)
	}
	return labels
}

func writtenBy(by string) string {
	return map[string]string{evidence.ActorHuman: "the human", evidence.ActorAI: "an AI", evidence.ActorBoth: "the human together with an AI"}[by]
}

// actions writes the actions of the final work's recorded making: the steps of
// its main chain (from where it began, through each version, to the final
// file), the selections that chose them, and each file an edit placed in it.
// Steps off that path (rejected candidates, their edits, unplaced material)
// are not actions of this work. C2PA allows one c2pa.created or c2pa.opened,
// first: the final file's own credentials are opened (and kept as the parent)
// if it has them; else a generation that began the work is c2pa.created, and
// material that began it is c2pa.opened with that material as the parent.
func (w *manifestWriter) actions(own *capture.C2PAInfo, finalType string) {
	chain, start := w.h.MainChain()
	first := w.h.Final
	begun := false
	if own != nil {
		tool, _ := capture.ToolName(own.ClaimGenerator)
		w.def.Parent = &c2paIngredient{
			Title: first.Step.File.Name, Format: mimeOrDefault(first.Step.File.Type), Relationship: "parentOf", Label: C2PAParentLabel,
			Description: fmt.Sprintf("the final file's own Content Credentials (%s; manifest store SHA-256 %s), kept as the parent so that their chain stays", orNone(tool, "claim generator not stated"), own.ManifestSHA256),
		}
		w.acts = append(w.acts, c2paAction{Action: "c2pa.opened", When: when(first.Rec.Time), DigitalSourceType: finalType,
			Description: "the final file, with its own Content Credentials; the actions after this one restate, each with its own time, the steps cairn recorded of its making",
			Parameters:  map[string]any{"ingredientIds": []string{C2PAParentLabel}, "org.cairn.seq": first.Rec.Seq}})
		begun = true
	}
	if start != nil && len(chain) > 0 {
		w.open(*start, chain[0], "the file the work began from; its making is not recorded", "", &begun)
	}
	onChain := map[int64]bool{}
	for _, sr := range chain {
		onChain[sr.Rec.Seq] = true
	}
	for _, sr := range w.h.Lineage() {
		s := sr.Step
		switch {
		case s.Kind == evidence.KindSelect:
			w.selected(sr, &begun)
		case !onChain[sr.Rec.Seq]:
			// Off the main path: reached only as a file an edit placed,
			// which the placed action describes.
		case s.Kind == evidence.KindGenerate:
			w.generated(sr, &begun)
		case s.Kind == evidence.KindEdit:
			w.edited(sr)
		default: // sketch, input, file: where the work began
			w.open(*s.File, sr, materialDesc(s), evidence.SourceType(s), &begun)
		}
	}
	if !begun {
		// Only the final file is recorded: it is where the work began.
		w.open(*first.Step.File, *first, "the final file; no earlier step is recorded", "", &begun)
	}
}

// open writes the first action for material the work began from, or, when
// something was opened before it, places the material.
func (w *manifestWriter) open(f evidence.FileRef, sr evidence.StepRecord, desc, dst string, begun *bool) {
	if *begun {
		label := w.fileIngredient(f, "componentOf", desc)
		w.acts = append(w.acts, c2paAction{Action: "c2pa.placed", When: when(sr.Rec.Time), DigitalSourceType: dst, Description: desc,
			Parameters: map[string]any{"ingredientIds": []string{label}, "org.cairn.seq": sr.Rec.Seq, "org.cairn.step": sr.Step.Kind}})
		return
	}
	label := w.fileIngredient(f, "parentOf", desc)
	w.acts = append(w.acts, c2paAction{Action: "c2pa.opened", When: when(sr.Rec.Time), DigitalSourceType: dst, Description: "work began from " + f.Name,
		Parameters: map[string]any{"ingredientIds": []string{label}, "org.cairn.seq": sr.Rec.Seq, "org.cairn.step": sr.Step.Kind}})
	*begun = true
}

func materialDesc(s *evidence.Step) string {
	switch s.Kind {
	case evidence.KindSketch:
		return "the author's own sketch"
	case evidence.KindInput:
		return fmt.Sprintf("third-party input; source %q, licence %q, permission %s", s.Source, s.License, s.Permission)
	}
	return "a file of unknown origin"
}

// generated writes a generation of the main chain: c2pa.created when it began
// the work, else c2pa.edited (a generation from an earlier version).
func (w *manifestWriter) generated(sr evidence.StepRecord, begun *bool) {
	s := sr.Step
	params := map[string]any{"org.cairn.seq": sr.Rec.Seq, "org.cairn.step": s.Kind}
	var outs []string
	for _, f := range s.Out {
		outs = append(outs, f.SHA256)
	}
	params["org.cairn.outputs"] = outs
	if s.Model != "" {
		params["org.cairn.model"] = s.Model
	}
	if len(s.Params) > 0 {
		params["org.cairn.params"] = s.Params
	}
	if ids := w.promptIngredients(sr.Rec.Seq); len(ids) > 0 {
		params["ingredientIds"] = ids
	}
	desc := fmt.Sprintf("AI generation of %s", evidence.Plural(len(s.Out), "candidate", "candidates"))
	if len(s.In) > 0 {
		desc += " from " + s.In[0].Name
	}
	a := c2paAction{Action: "c2pa.created", When: when(sr.Rec.Time), SoftwareAgent: agent(s), DigitalSourceType: evidence.SourceType(s), Description: desc, Parameters: params}
	if *begun {
		a.Action = "c2pa.edited"
	}
	w.acts = append(w.acts, a)
	*begun = true
}

// selected writes a human choice among candidates. C2PA has no action for it,
// and c2pa.edited would claim a change of content that did not happen; C2PA
// allows namespaced custom actions, and readers list them as they are.
func (w *manifestWriter) selected(sr evidence.StepRecord, begun *bool) {
	s := sr.Step
	if !*begun {
		// The candidates' making is not recorded: the chosen one is where the
		// work began.
		w.open(*s.File, sr, "the chosen candidate", "", begun)
	}
	var rejected []string
	for _, f := range s.Rejected {
		rejected = append(rejected, f.SHA256)
	}
	desc := fmt.Sprintf("a human chose 1 of %d candidates", len(s.From))
	if s.Why != "" {
		desc += ": " + s.Why
	}
	w.acts = append(w.acts, c2paAction{Action: "org.cairn.selected", When: when(sr.Rec.Time), Description: desc, Parameters: map[string]any{
		"org.cairn.seq": sr.Rec.Seq, "org.cairn.step": s.Kind, "org.cairn.candidates": len(s.From),
		"org.cairn.chosen": s.File.SHA256, "org.cairn.rejected": rejected,
	}})
}

// edited writes an edit of the main chain, each file it placed first.
func (w *manifestWriter) edited(sr evidence.StepRecord) {
	s := sr.Step
	for _, f := range s.In {
		desc := w.placedDesc(f, sr.Rec.Seq)
		label := w.fileIngredient(f, "componentOf", desc)
		w.acts = append(w.acts, c2paAction{Action: "c2pa.placed", When: when(sr.Rec.Time), DigitalSourceType: w.h.FileSourceTypeAt(f.SHA256, sr.Rec.Seq),
			Description: "placed into the work: " + desc, Parameters: map[string]any{"ingredientIds": []string{label}, "org.cairn.seq": sr.Rec.Seq, "org.cairn.step": s.Kind}})
	}
	params := map[string]any{"org.cairn.seq": sr.Rec.Seq, "org.cairn.step": s.Kind, "org.cairn.before": s.Before.SHA256, "org.cairn.after": s.After.SHA256, "org.cairn.by": s.By}
	if s.Model != "" {
		params["org.cairn.model"] = s.Model
	}
	if s.Text != "" {
		params["org.cairn.instruction"] = s.Text
	}
	desc := map[string]string{evidence.ActorHuman: "an edit by hand", evidence.ActorBoth: "an AI-assisted edit a person directed",
		evidence.ActorAI: "an edit by an AI tool on its own", evidence.ActorUnknown: "a change whose author is not recorded"}[s.By]
	if s.Note != "" {
		desc += ": " + s.Note
	}
	w.acts = append(w.acts, c2paAction{Action: "c2pa.edited", When: when(sr.Rec.Time), SoftwareAgent: agent(s), DigitalSourceType: evidence.SourceType(s),
		Description: desc, Parameters: params})
}

// placedDesc says what a placed file is, from its own recorded making.
func (w *manifestWriter) placedDesc(f evidence.FileRef, seq int64) string {
	p, ok := w.h.Producer(f.SHA256, seq)
	if !ok {
		return f.Name + ", whose making is not recorded"
	}
	s := p.Step
	switch s.Kind {
	case evidence.KindEdit:
		d := fmt.Sprintf("%s, made from %s in record #%d (%s", f.Name, s.Before.Name, p.Rec.Seq, editWords(s.By))
		if s.Tool != "" {
			d += " with " + s.Tool
		}
		if b, ok := w.h.Producer(s.Before.SHA256, p.Rec.Seq); ok && b.Step.Kind == evidence.KindSketch {
			d += "; " + s.Before.Name + " is the author's own sketch, record #" + fmt.Sprint(b.Rec.Seq)
		}
		return d + ")"
	case evidence.KindGenerate:
		return fmt.Sprintf("%s, AI-generated in record #%d", f.Name, p.Rec.Seq)
	}
	return fmt.Sprintf("%s, %s (record #%d)", f.Name, materialDesc(s), p.Rec.Seq)
}

func editWords(by string) string {
	return map[string]string{evidence.ActorHuman: "edited by hand", evidence.ActorBoth: "an AI-assisted edit", evidence.ActorAI: "edited by AI", evidence.ActorUnknown: "changed by an unknown hand"}[by]
}

// unplacedInputs lists third-party inputs the work's recorded making does not
// place: a declared component as componentOf with c2pa.placed; a reference,
// or one whose use is not recorded, as inputTo, which claims no more than
// that it was an input to the making.
func (w *manifestWriter) unplacedInputs() {
	for _, sr := range w.h.Steps {
		s := sr.Step
		if s.Kind != evidence.KindInput || w.placed[s.File.SHA256] {
			continue
		}
		desc := materialDesc(s) + "; use " + orNone(s.Use, "not recorded")
		if s.Use != "component" {
			w.fileIngredient(*s.File, "inputTo", desc)
			continue
		}
		label := w.fileIngredient(*s.File, "componentOf", desc)
		w.acts = append(w.acts, c2paAction{Action: "c2pa.placed", When: when(sr.Rec.Time), Description: desc,
			Parameters: map[string]any{"ingredientIds": []string{label}, "org.cairn.seq": sr.Rec.Seq, "org.cairn.step": s.Kind}})
	}
}

// disclosures writes c2pa.published for each recorded disclosure whose date
// has come; one dated in the future is not a publication.
func (w *manifestWriter) disclosures(now time.Time) {
	first := w.h.All[0].Rec.Time
	for _, sr := range w.h.Steps {
		s := sr.Step
		if s.Kind != evidence.KindDisclose || !evidence.DateHasCome(s.Date, now) {
			continue
		}
		params := map[string]any{"org.cairn.seq": sr.Rec.Seq, "org.cairn.step": s.Kind, "org.cairn.date": s.Date}
		if s.Where != "" {
			params["org.cairn.where"] = s.Where
		}
		desc := "disclosure on " + s.Date + " as the designer declared it"
		if evidence.DateBefore(s.Date, first) {
			desc += "; the date is earlier than the asset's first record"
		}
		w.acts = append(w.acts, c2paAction{Action: "c2pa.published", When: when(sr.Rec.Time), Description: desc, Parameters: params})
	}
}
