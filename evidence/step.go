// Package evidence is cairn's domain: assets, the steps of their making, the files
// those steps used and produced, identities, and the account of what a human and
// what an AI contributed. Each step becomes one ledger record whose payload is the
// step's JSON encoding (FORMAT.md, "Steps").
package evidence

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// StepVersion is the version of the step encoding written by this package.
const StepVersion = 1

// Step kinds. The names are the commands that record them.
const (
	KindIdentity = "identity" // a person's keys, introduced into a ledger
	KindRotate   = "rotate"   // a person's new keys, introduced by their old key
	KindAsset    = "asset"    // a new asset and its rights
	KindAssetSet = "asset-set"
	KindPrompt   = "prompt"
	KindGenerate = "generate"
	KindSelect   = "select"
	KindEdit     = "edit"
	KindSketch   = "sketch"
	KindInput    = "input"
	KindNote     = "note"
	KindDisclose = "disclose"
	KindFinal    = "final"
)

// StepKinds lists the kinds a person or a script may record, in the order a
// typical asset goes through them.
var StepKinds = []string{KindPrompt, KindGenerate, KindSelect, KindEdit, KindSketch, KindInput, KindNote, KindDisclose, KindFinal}

// Actors: who did a step.
const (
	ActorHuman = "human"
	ActorAI    = "ai"
	ActorBoth  = "both"
)

// IPTC digital source types (https://cv.iptc.org/newscodes/digitalsourcetype/) used
// to describe steps in the C2PA vocabulary.
const (
	SourceTrainedAlgorithmic = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
	SourceHumanEdits         = "http://cv.iptc.org/newscodes/digitalsourcetype/humanEdits"
	SourceDigitalCreation    = "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCreation"
	SourceComposite          = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
)

// FileRef names a stored file by content. Name is the file's base name when it was
// recorded, kept for people; SHA256 is what identifies it.
type FileRef struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	Type   string `json:"type,omitempty"` // MIME type sniffed from the content
}

// Short returns the first 12 hex digits of the hash, for people.
func (f FileRef) Short() string {
	if len(f.SHA256) < 12 {
		return f.SHA256
	}
	return f.SHA256[:12]
}

// IsImage reports whether the file is an image cairn can draw.
func (f FileRef) IsImage() bool { return strings.HasPrefix(f.Type, "image/") }

// A Step is one recorded event. Fields are used according to Kind; unused fields
// are empty and omitted from the encoding. The field names are those of the
// command-line flags, so that `cairn batch` lines and `cairn log --json` agree.
type Step struct {
	V     int    `json:"v"`
	Kind  string `json:"kind"`
	Asset string `json:"asset,omitempty"`
	By    string `json:"by,omitempty"` // human, ai or both

	Tool   string            `json:"tool,omitempty"`
	Model  string            `json:"model,omitempty"`
	Params map[string]string `json:"params,omitempty"`
	Text   string            `json:"text,omitempty"` // prompt or note text, exactly as given

	Out      []FileRef `json:"out,omitempty"`      // generate: every candidate
	In       []FileRef `json:"in,omitempty"`       // generate: input images
	File     *FileRef  `json:"file,omitempty"`     // select (the chosen one), sketch, input, final
	From     []FileRef `json:"from,omitempty"`     // select: every candidate considered
	Rejected []FileRef `json:"rejected,omitempty"` // select: the candidates not chosen
	Why      string    `json:"why,omitempty"`
	Before   *FileRef  `json:"before,omitempty"`
	After    *FileRef  `json:"after,omitempty"`
	Note     string    `json:"note,omitempty"`

	Source     string `json:"source,omitempty"`     // input: where it came from
	License    string `json:"license,omitempty"`    // input: its licence
	Permission string `json:"permission,omitempty"` // input: granted|licensed|public-domain|own|unknown

	Date  string `json:"date,omitempty"`  // disclose: YYYY-MM-DD
	Where string `json:"where,omitempty"` // disclose: place or medium

	// Asset fields (kinds asset and asset-set).
	Title     string `json:"title,omitempty"`
	AssetKind string `json:"asset_kind,omitempty"`
	Owner     string `json:"owner,omitempty"`
	Basis     string `json:"basis,omitempty"`
	Contract  string `json:"contract,omitempty"`
	TDM       string `json:"tdm,omitempty"`

	// Identity fields.
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	Key   string `json:"key,omitempty"`  // Ed25519 public key, base64
	Cert  string `json:"cert,omitempty"` // X.509 certificate (DER, base64) of the PDF-signing key

	// Captured holds values read from a file's embedded metadata or a chat export:
	// what the tool wrote down, not what the designer typed.
	Captured *Captured `json:"captured,omitempty"`
}

// Captured is the part of a step that cairn read from a tool's own records.
type Captured struct {
	From        string            `json:"from"`                   // "png tEXt parameters", "ChatGPT export", ...
	Fields      map[string]string `json:"fields,omitempty"`       // prompt, negative_prompt, seed, ...
	ClaimedTime string            `json:"claimed_time,omitempty"` // the time the source claims, RFC 3339; not verified
}

// Enumerations.
var (
	AssetKinds  = []string{"illustration", "logo", "text", "product-design", "photo", "other"}
	Bases       = []string{"employment", "commission", "own", "other"}
	Permissions = []string{"granted", "licensed", "public-domain", "own", "unknown"}
	Actors      = []string{ActorHuman, ActorAI, ActorBoth}
	TDMChoices  = []string{"allowed", "prohibited"}
)

// MaxTextBytes bounds a prompt or note. Longer texts belong in a file (`cairn input`),
// which is stored and hashed however large it is.
const MaxTextBytes = 256 << 10

var assetIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidAssetID reports whether id can name an asset.
func ValidAssetID(id string) bool { return assetIDPattern.MatchString(id) }

// InputError is an error in what the user gave; the CLI exits 2 on it.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

func inputErrorf(format string, args ...any) error {
	return &InputError{fmt.Sprintf(format, args...)}
}

// IsInputError reports whether err is (or wraps) an *InputError.
func IsInputError(err error) bool {
	var ie *InputError
	return errors.As(err, &ie)
}

func oneOf(field, v string, allowed []string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return inputErrorf("%s %q is not one of %s", field, v, strings.Join(allowed, ", "))
}

// checkText refuses text that cannot be recorded exactly.
func checkText(field, s string, max int) error {
	if !utf8.ValidString(s) {
		i := 0
		for i < len(s) {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			i += n
		}
		return inputErrorf("%s is not valid UTF-8 (bad byte 0x%02x at offset %d); convert it to UTF-8 first, for example with iconv", field, s[i], i)
	}
	if len(s) > max {
		return inputErrorf("%s is %s; cairn records at most %s of text per step. Record a longer text as a file instead: cairn input FILE --permission own", field, HumanSize(int64(len(s))), HumanSize(int64(max)))
	}
	if strings.ContainsRune(s, 0) {
		return inputErrorf("%s contains a NUL byte", field)
	}
	return nil
}

// HumanSize writes a byte count for people: 1.5 MiB.
func HumanSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// Normalize fills in what follows from the kind (the actor of most steps, the
// rejected candidates of a selection) and validates the step.
func (s *Step) Normalize() error {
	s.V = StepVersion
	switch s.Kind {
	case KindGenerate:
		if s.By == "" {
			s.By = ActorAI
		}
	case KindPrompt:
		if s.By == "" {
			s.By = ActorHuman
		}
	case KindSelect, KindEdit, KindSketch, KindInput, KindNote, KindDisclose, KindFinal, KindAsset, KindAssetSet:
		if s.By == "" {
			s.By = ActorHuman
		}
	}
	if s.Kind == KindSelect && s.File != nil && len(s.Rejected) == 0 {
		for _, f := range s.From {
			if f.SHA256 != s.File.SHA256 {
				s.Rejected = append(s.Rejected, f)
			}
		}
	}
	return s.Validate()
}

// Validate checks that the step is complete and consistent for its kind.
func (s *Step) Validate() error {
	textName := "text"
	if s.Kind == KindPrompt || s.Kind == KindNote {
		textName = "the " + s.Kind
	}
	for _, f := range []struct{ name, v string }{
		{textName, s.Text}, {"--why", s.Why}, {"--note", s.Note},
	} {
		if err := checkText(f.name, f.v, MaxTextBytes); err != nil {
			return err
		}
	}
	for _, f := range []struct{ name, v string }{
		{"tool", s.Tool}, {"model", s.Model}, {"source", s.Source}, {"license", s.License},
		{"where", s.Where}, {"title", s.Title}, {"owner", s.Owner}, {"contract", s.Contract},
		{"name", s.Name}, {"email", s.Email},
	} {
		if err := checkText(f.name, f.v, 4096); err != nil {
			return err
		}
	}
	for k, v := range s.Params {
		if err := checkText("parameter name", k, 256); err != nil {
			return err
		}
		if err := checkText("parameter "+k, v, 64<<10); err != nil {
			return err
		}
		if k == "" {
			return inputErrorf("a parameter has an empty name; write --param name=value")
		}
	}
	if s.By != "" {
		if err := oneOf("--by", s.By, Actors); err != nil {
			return err
		}
	}
	needAsset := s.Kind != KindIdentity && s.Kind != KindRotate
	if needAsset && !ValidAssetID(s.Asset) {
		if s.Asset == "" {
			return inputErrorf("no asset: name one with --asset ID, or choose the current one with: cairn use ID")
		}
		return inputErrorf("asset ID %q is not valid: use up to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", s.Asset)
	}
	switch s.Kind {
	case KindIdentity, KindRotate:
		if s.Key == "" || s.Name == "" || s.Cert == "" {
			return inputErrorf("%s needs a name, a key and a certificate", s.Kind)
		}
	case KindAsset, KindAssetSet:
		if s.AssetKind != "" {
			if err := oneOf("--kind", s.AssetKind, AssetKinds); err != nil {
				return err
			}
		}
		if s.Basis != "" {
			if err := oneOf("--basis", s.Basis, Bases); err != nil {
				return err
			}
		}
		if s.TDM != "" {
			if err := oneOf("--tdm", s.TDM, TDMChoices); err != nil {
				return err
			}
		}
	case KindPrompt:
		if strings.TrimSpace(s.Text) == "" {
			return inputErrorf("the prompt is empty; give its text as an argument, or - to read it from standard input")
		}
	case KindGenerate:
		if len(s.Out) == 0 {
			return inputErrorf("generate needs at least one output: --out FILE (repeat it for every candidate)")
		}
		if s.Tool == "" && s.Captured == nil {
			return inputErrorf("generate needs the tool that made the files: --tool NAME (for example --tool midjourney)")
		}
	case KindSelect:
		if s.File == nil {
			return inputErrorf("select needs the chosen file: cairn select CHOSEN --from CANDIDATE...")
		}
		if len(s.From) < 2 {
			return inputErrorf("select needs the candidates it chose among: --from FILE at least twice (the chosen one may be among them)")
		}
		found := false
		for _, f := range s.From {
			found = found || f.SHA256 == s.File.SHA256
		}
		if !found {
			s.From = append([]FileRef{*s.File}, s.From...)
		}
	case KindEdit:
		if s.Before == nil || s.After == nil {
			return inputErrorf("edit needs both --before FILE and --after FILE")
		}
	case KindSketch, KindFinal:
		if s.File == nil {
			return inputErrorf("%s needs a FILE argument", s.Kind)
		}
	case KindInput:
		if s.File == nil {
			return inputErrorf("input needs a FILE argument")
		}
		if s.Permission == "" {
			s.Permission = "unknown"
		}
		if err := oneOf("--permission", s.Permission, Permissions); err != nil {
			return err
		}
	case KindNote:
		if strings.TrimSpace(s.Text) == "" {
			return inputErrorf("the note is empty")
		}
	case KindDisclose:
		if _, err := time.Parse("2006-01-02", s.Date); err != nil {
			return inputErrorf("--date %q is not a date; write YYYY-MM-DD", s.Date)
		}
	default:
		return inputErrorf("unknown step kind %q; the kinds are %s", s.Kind, strings.Join(StepKinds, ", "))
	}
	return nil
}

// Encode returns the step's canonical payload: compact JSON, fields in declaration
// order, map keys sorted, no HTML escaping, so that text is stored as given.
func (s *Step) Encode() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// DecodeStep parses a payload written by Encode. Unknown fields are an error: a
// payload this version cannot fully read must not be summarised as if it could.
func DecodeStep(payload []byte) (*Step, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	var s Step
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("step payload: %w", err)
	}
	if dec.More() {
		return nil, errors.New("step payload: trailing data")
	}
	if s.V != StepVersion {
		return nil, fmt.Errorf("step payload: version %d, this cairn reads version %d", s.V, StepVersion)
	}
	return &s, nil
}

// Files returns every file the step refers to, without duplicates.
func (s *Step) Files() []FileRef {
	var out []FileRef
	seen := map[string]bool{}
	add := func(fs ...FileRef) {
		for _, f := range fs {
			if !seen[f.SHA256] {
				seen[f.SHA256] = true
				out = append(out, f)
			}
		}
	}
	add(s.Out...)
	add(s.In...)
	add(s.From...)
	for _, f := range []*FileRef{s.File, s.Before, s.After} {
		if f != nil {
			add(*f)
		}
	}
	return out
}

// SortedParams returns the parameter names in order.
func (s *Step) SortedParams() []string {
	keys := make([]string, 0, len(s.Params))
	for k := range s.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
