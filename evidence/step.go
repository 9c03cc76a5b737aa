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

	"github.com/cairn-ledger/cairn/internal/human"
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
	// KindFile records a file whose making cairn cannot tell: imported or
	// watched without any metadata that says what made it. Its actor is
	// unknown: it is counted neither as human work nor as AI output.
	KindFile = "file"
	// KindRetract records that an earlier record was made in error. The
	// record stays (nothing is rewritten); no count includes it.
	KindRetract = "retract"
	// KindSimilarity records a comparison of an asset's files with a set of
	// reference images (cairn match --against DIR --record).
	KindSimilarity = "similarity-check"
)

// StepKinds lists the kinds a person or a script may record, in the order a
// typical asset goes through them.
var StepKinds = []string{KindPrompt, KindGenerate, KindSelect, KindEdit, KindSketch, KindInput, KindFile, KindNote, KindDisclose, KindFinal, KindRetract}

// Actors: who did a step.
const (
	ActorHuman = "human"
	ActorAI    = "ai"
	ActorBoth  = "both"
	// ActorUnknown: cairn cannot tell who or what acted (a file of unknown
	// origin; a change to a watched file nobody described).
	ActorUnknown = "unknown"
)

// IPTC digital source types (https://cv.iptc.org/newscodes/digitalsourcetype/) used
// to describe steps in the C2PA vocabulary.
const (
	SourceTrainedAlgorithmic = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
	SourceHumanEdits         = "http://cv.iptc.org/newscodes/digitalsourcetype/humanEdits"
	SourceDigitalCreation    = "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCreation"
	SourceComposite          = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
	SourceEnhanced           = "http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicallyEnhanced"
	SourceAlgorithmic        = "http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia"
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
	In       []FileRef `json:"in,omitempty"`       // generate: input images; edit: files placed into the work
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
	Use        string `json:"use,omitempty"`        // input: component (part of the work) or reference

	Date  string `json:"date,omitempty"`  // disclose: YYYY-MM-DD
	Where string `json:"where,omitempty"` // disclose: place or medium

	// Retracts names the record a retract step withdraws.
	Retracts *RecordRef `json:"retracts,omitempty"`

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

	// Similarity is what a similarity check found (kind similarity-check).
	Similarity *Similarity `json:"similarity,omitempty"`
}

// RecordRef names a ledger record by its sequence number and, so that the
// reference cannot be read as another record, its RFC 6962 leaf hash (hex).
type RecordRef struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
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
	Bases       = []string{"employment", "commission", "assignment", "own", "other"}
	Permissions = []string{"granted", "licensed", "public-domain", "own", "unknown"}
	InputUses   = []string{"component", "reference"}
	Actors      = []string{ActorHuman, ActorAI, ActorBoth, ActorUnknown}
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
func HumanSize(n int64) string { return human.Size(n) }

// Normalize fills in what follows from the kind (the actor of most steps; a
// selection's chosen file among its candidates, and the candidates not chosen;
// an input's unknown permission) and validates the step. Only new steps are
// normalized: a recorded step is checked as it is (Validate).
func (s *Step) Normalize() error {
	s.V = StepVersion
	if spec, ok := kindSpecs[s.Kind]; ok && s.By == "" && len(spec.by) > 0 {
		s.By = spec.by[0]
	}
	switch s.Kind {
	case KindSelect:
		// At least two candidates besides or including the chosen one.
		if s.File != nil && len(s.From) >= 2 && !containsFile(s.From, *s.File) {
			s.From = append([]FileRef{*s.File}, s.From...)
		}
		if s.File != nil && len(s.Rejected) == 0 {
			s.Rejected = notChosen(s.From, *s.File)
		}
	case KindInput:
		if s.Permission == "" {
			s.Permission = "unknown"
		}
	}
	if err := s.Validate(); err != nil {
		return err
	}
	if s.Kind == KindDisclose {
		return checkDisclosureDate(s.Date, time.Now())
	}
	return nil
}

func containsFile(fs []FileRef, f FileRef) bool {
	for _, g := range fs {
		if g.SHA256 == f.SHA256 {
			return true
		}
	}
	return false
}

// notChosen is every candidate of from whose hash is not the chosen file's, in
// order (FORMAT.md §5.2).
func notChosen(from []FileRef, chosen FileRef) []FileRef {
	var out []FileRef
	for _, f := range from {
		if f.SHA256 != chosen.SHA256 {
			out = append(out, f)
		}
	}
	return out
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

// AllFiles returns every file reference of the step, repeats included (the
// rejected candidates are also among from): each is checked against the file.
func (s *Step) AllFiles() []FileRef {
	out := append(append(append(append([]FileRef{}, s.Out...), s.In...), s.From...), s.Rejected...)
	for _, f := range []*FileRef{s.File, s.Before, s.After} {
		if f != nil {
			out = append(out, *f)
		}
	}
	return out
}

// Texts returns the step's words a person may search for: its text, reasons,
// notes, names, tools and the names of its files.
func (s *Step) Texts() []string {
	out := []string{s.Text, s.Why, s.Note, s.Tool, s.Model, s.Source, s.License, s.Where, s.Title, s.Owner, s.Contract, s.Name, s.Email}
	for _, f := range s.Files() {
		out = append(out, f.Name)
	}
	for _, k := range s.SortedParams() {
		out = append(out, k+"="+s.Params[k])
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
