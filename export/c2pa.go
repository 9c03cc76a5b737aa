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
	return os.WriteFile(filepath.Join(dir, "manifest.json"), d.Manifest, 0o644)
}

// IPTC and C2PA terms used below.
const (
	iptcTrained    = evidence.SourceTrainedAlgorithmic
	iptcHumanEdits = evidence.SourceHumanEdits
	promptType     = "c2pa.types.generator.prompt"
)

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
}

type c2paLedgerRef struct {
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// C2PA returns the manifest definition for the final file of asset: the file
// of its last final step. It anchors to a checkpoint as Export does (signed with
// key and stored if none covers the ledger).
func C2PA(b *evidence.Book, key ed25519.PrivateKey, asset string, opts C2PAOptions) (*C2PADefinition, error) {
	v, err := b.ViewAsset(asset)
	if err != nil {
		return nil, err
	}
	steps := v.Steps
	var final *evidence.StepRecord
	for i := range steps {
		if steps[i].Step.Kind == evidence.KindFinal && steps[i].Step.File != nil {
			final = &steps[i]
		}
	}
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
	def := &C2PADefinition{Resources: map[string][]byte{}, Final: ff}
	m := c2paManifest{
		ClaimGeneratorInfo: []c2paAgent{{Name: "cairn", Version: version}},
		Title:              ff.Name,
		Format:             mimeOrDefault(ff.Type),
	}

	var (
		actions  []c2paAction
		pending  []string // prompt ingredients not yet used by a generation
		nPrompt  int
		nFile    int
		begun    bool // the first action (created or opened) is written
		when     = func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
		fileIngr = func(f evidence.FileRef, rel, desc string) string {
			nFile++
			label := fmt.Sprintf("file-%d", nFile)
			if desc != "" {
				desc += "; "
			}
			m.Ingredients = append(m.Ingredients, c2paIngredient{
				Title: f.Name, Format: mimeOrDefault(f.Type), Relationship: rel, Label: label,
				Description: desc + "SHA-256 " + f.SHA256,
			})
			return label
		}
	)
	// C2PA allows one c2pa.created or c2pa.opened, and it must come first. A
	// generation that starts the work is c2pa.created; material that starts it
	// (a sketch, an input, the file an edit began from) is c2pa.opened with that
	// material as the parentOf ingredient.
	open := func(f evidence.FileRef, t time.Time, seq int64, desc string) {
		label := fileIngr(f, "parentOf", desc)
		actions = append(actions, c2paAction{Action: "c2pa.opened", When: when(t), Description: "work began from " + f.Name,
			Parameters: map[string]any{"ingredientIds": []string{label}, "org.cairn.seq": seq}})
		begun = true
	}
	for _, sr := range steps {
		s, t, seq := sr.Step, sr.Rec.Time, sr.Rec.Seq
		params := map[string]any{"org.cairn.seq": seq, "org.cairn.step": s.Kind}
		agent := func() *c2paAgent {
			if s.Tool == "" {
				return nil
			}
			return &c2paAgent{Name: s.Tool}
		}
		switch s.Kind {
		case evidence.KindPrompt:
			nPrompt++
			label := fmt.Sprintf("prompt-%d", nPrompt)
			sum := sha256.Sum256([]byte(s.Text))
			ing := c2paIngredient{
				Title: fmt.Sprintf("prompt %d", nPrompt), Format: "text/plain", Relationship: "inputTo", Label: label,
				Description: "SHA-256 of the prompt text (UTF-8): " + hex.EncodeToString(sum[:]),
				DataTypes:   []c2paDataType{{promptType}},
			}
			if opts.RedactPrompts {
				ing.Title += " (text withheld)"
			} else {
				name := label + ".txt"
				def.Resources[name] = []byte(s.Text)
				ing.Data = &c2paResource{Format: "text/plain", Identifier: name}
			}
			m.Ingredients = append(m.Ingredients, ing)
			pending = append(pending, label)
		case evidence.KindGenerate:
			a := c2paAction{Action: "c2pa.created", When: when(t), SoftwareAgent: agent(), DigitalSourceType: iptcTrained,
				Description: fmt.Sprintf("AI generation of %d candidate(s)", len(s.Out))}
			if begun {
				// A later generation changes the work with AI output.
				a.Action = "c2pa.edited"
			}
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
			if len(pending) > 0 {
				params["ingredientIds"] = pending
				pending = nil
			}
			a.Parameters = params
			actions = append(actions, a)
			begun = true
		case evidence.KindSelect:
			// C2PA has no action for choosing one of several candidates, and
			// c2pa.edited would claim a change of content that did not happen.
			// C2PA allows namespaced custom actions; readers list them as they are.
			var rejected []string
			for _, f := range s.Rejected {
				rejected = append(rejected, f.SHA256)
			}
			params["org.cairn.candidates"] = len(s.From)
			params["org.cairn.chosen"] = s.File.SHA256
			params["org.cairn.rejected"] = rejected
			desc := fmt.Sprintf("a human chose 1 of %d candidates", len(s.From))
			if s.Why != "" {
				desc += ": " + s.Why
			}
			if !begun {
				open(*s.File, t, seq, "the chosen candidate")
			}
			actions = append(actions, c2paAction{Action: "org.cairn.selected", When: when(t), Description: desc, Parameters: params})
		case evidence.KindEdit:
			if !begun {
				open(*s.Before, t, seq, "the version the edit began from")
			}
			dst := iptcHumanEdits
			if s.By == evidence.ActorAI {
				dst = iptcTrained
			}
			params["org.cairn.before"] = s.Before.SHA256
			params["org.cairn.after"] = s.After.SHA256
			actions = append(actions, c2paAction{Action: "c2pa.edited", When: when(t), SoftwareAgent: agent(), DigitalSourceType: dst,
				Description: s.Note, Parameters: params})
		case evidence.KindSketch, evidence.KindInput:
			desc := "the author's own sketch"
			if s.Kind == evidence.KindInput {
				desc = fmt.Sprintf("third-party input; source %q, licence %q, permission %s", s.Source, s.License, s.Permission)
			}
			if !begun {
				open(*s.File, t, seq, desc)
				continue
			}
			label := fileIngr(*s.File, "componentOf", desc)
			params["ingredientIds"] = []string{label}
			actions = append(actions, c2paAction{Action: "c2pa.placed", When: when(t), Description: desc, Parameters: params})
		case evidence.KindDisclose:
			params["org.cairn.date"] = s.Date
			if s.Where != "" {
				params["org.cairn.where"] = s.Where
			}
			actions = append(actions, c2paAction{Action: "c2pa.published", When: when(t), Description: "first disclosure", Parameters: params})
		}
	}
	if !begun {
		// Nothing but the final file is recorded: it is where the work began.
		open(ff, final.Rec.Time, final.Rec.Seq, "the final file; no earlier step is recorded")
		// open appended after the others; it must be first.
		actions = append(actions[len(actions)-1:], actions[:len(actions)-1]...)
	}

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
		{Label: "c2pa.actions.v2", Data: map[string]any{"actions": actions}},
		{Label: "cawg.training-mining", Data: tdm("cawg")},
		{Label: "c2pa.training-mining", Data: tdm("c2pa")},
		{Label: C2PALedgerLabel, Data: C2PALedger{
			Format: C2PALedgerFormat, Origin: cp.Origin, Asset: asset, Size: cp.Size,
			Root: base64.StdEncoding.EncodeToString(cp.Root[:]), Checkpoint: string(cp.Note),
			Final: BundleRecord{Index: final.Rec.Seq, Entry: base64.StdEncoding.EncodeToString(final.Rec.Entry), Proof: path},
			File:  c2paLedgerRef{SHA256: ff.SHA256, Size: ff.Size},
		}},
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	def.Manifest = buf.Bytes()
	return def, nil
}
