package evidence

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/cairn-ledger/cairn/internal/strict"
)

// A kindSpec says what a step of one kind holds (FORMAT.md §5, the table of
// kinds). It is the one statement of these rules: recording (Normalize),
// verifying a ledger, an archive or a pack (DecodeStep) all check it.
type kindSpec struct {
	// by lists the actors the step may name, the default first; empty: the
	// step names none (identities and rotations are not acts on a work).
	by []string
	// required and optional are the JSON names of the fields the step must and
	// may hold, besides v, kind, asset (present exactly when by is) and by.
	required, optional []string
}

var (
	humanOnly = []string{ActorHuman}
	anyActor  = []string{ActorHuman, ActorAI, ActorBoth}
	// An edit may be of unknown authorship: cairn watch sees a file change but
	// not who changed it.
	editActors = []string{ActorHuman, ActorAI, ActorBoth, ActorUnknown}
)

var kindSpecs = map[string]kindSpec{
	KindIdentity: {required: []string{"name", "key", "cert"}, optional: []string{"email"}},
	KindRotate:   {required: []string{"name", "key", "cert"}, optional: []string{"email"}},
	KindAsset:    {by: humanOnly, optional: []string{"title", "asset_kind", "owner", "basis", "contract", "tdm"}},
	KindAssetSet: {by: humanOnly, optional: []string{"title", "asset_kind", "owner", "basis", "contract", "tdm"}},
	KindPrompt:   {by: anyActor, required: []string{"text"}, optional: []string{"tool", "model", "params", "captured"}},
	KindGenerate: {by: []string{ActorAI, ActorBoth}, required: []string{"out"}, optional: []string{"in", "tool", "model", "params", "text", "captured"}},
	KindSelect:   {by: humanOnly, required: []string{"file", "from", "rejected"}, optional: []string{"why", "note", "captured"}},
	KindEdit:     {by: editActors, required: []string{"before", "after"}, optional: []string{"in", "tool", "model", "params", "text", "note", "captured"}},
	KindSketch:   {by: humanOnly, required: []string{"file"}, optional: []string{"tool", "note", "captured"}},
	KindInput:    {by: humanOnly, required: []string{"file", "permission"}, optional: []string{"use", "source", "license", "note", "captured"}},
	KindFile:     {by: []string{ActorUnknown}, required: []string{"file"}, optional: []string{"tool", "note", "captured"}},
	KindNote:     {by: humanOnly, required: []string{"text"}, optional: []string{"captured"}},
	KindDisclose: {by: humanOnly, required: []string{"date"}, optional: []string{"where"}},
	KindFinal:    {by: humanOnly, required: []string{"file"}, optional: []string{"note", "captured"}},
	KindRetract:  {by: humanOnly, required: []string{"retracts", "why"}},
	// A similarity check: the asset's files compared (in) and what was found.
	KindSimilarity: {by: humanOnly, required: []string{"in", "similarity"}, optional: []string{"source", "note"}},
}

// requiredHint is what to tell a person who left out a required field.
var requiredHint = map[string]string{
	"prompt.text":      "the prompt is empty; give its text as an argument, or - to read it from standard input",
	"note.text":        "the note is empty",
	"generate.out":     "generate needs at least one output: --out FILE (repeat it for every candidate)",
	"select.file":      "select needs the chosen file: cairn select CHOSEN --from CANDIDATE...",
	"select.from":      "select needs the candidates it chose among: --from FILE at least twice (the chosen one may be among them)",
	"edit.before":      "edit needs both --before FILE and --after FILE",
	"edit.after":       "edit needs both --before FILE and --after FILE",
	"disclose.date":    "disclose needs --date YYYY-MM-DD",
	"identity.name":    "identity needs a name, a key and a certificate",
	"rotate.name":      "rotate needs a name, a key and a certificate",
	"input.permission": "input needs --permission (granted, licensed, public-domain, own or unknown)",
	"retract.retracts": "retract needs the record it withdraws: cairn retract SEQ --why \"...\"",
	"retract.why":      "retract needs the reason: --why \"recorded on the wrong asset\"",
	"file.file":        "a file step needs the file",
}

// stepFieldNames maps each Step field's index to its JSON name, and fieldBit
// each JSON name to a bit of a fieldSet.
var stepFieldNames, fieldBit = func() ([]string, map[string]fieldSet) {
	t := reflect.TypeOf(Step{})
	names := make([]string, t.NumField())
	bits := map[string]fieldSet{}
	for i := range names {
		names[i], _, _ = strings.Cut(t.Field(i).Tag.Get("json"), ",")
		bits[names[i]] = 1 << i
	}
	return names, bits
}()

// A fieldSet is a set of Step fields, one bit per field (Step has fewer than 64).
type fieldSet uint64

func fieldsOf(names ...string) fieldSet {
	var f fieldSet
	for _, n := range names {
		if fieldBit[n] == 0 {
			panic("evidence: no step field " + n)
		}
		f |= fieldBit[n]
	}
	return f
}

// present is the set of fields the step sets (those Encode writes). It runs on
// every record verification reads, so it is a bit set, not a map.
func (s *Step) present() fieldSet {
	v := reflect.ValueOf(s).Elem()
	var out fieldSet
	for i := range stepFieldNames {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.Slice, reflect.Map:
			if f.Len() > 0 {
				out |= 1 << i
			}
		default:
			if !f.IsZero() {
				out |= 1 << i
			}
		}
	}
	return out
}

// Validate checks the step against the rules of its kind (kindSpecs), and the
// values of its fields: texts, enumerations, file references, dates, keys, and
// the selection rule of FORMAT.md §5.2. It changes nothing: a recorded step is
// checked exactly as it was signed.
func (s *Step) Validate() error {
	spec, ok := kindSpecs[s.Kind]
	if !ok {
		return inputErrorf("unknown step kind %q; the kinds are %s", s.Kind, strings.Join(StepKinds, ", "))
	}
	if s.V != StepVersion {
		return inputErrorf("step version %d; this cairn reads version %d", s.V, StepVersion)
	}
	if err := spec.checkFields(s); err != nil {
		return err
	}
	if err := s.checkTexts(); err != nil {
		return err
	}
	for _, f := range s.Files() {
		if err := f.check(); err != nil {
			return err
		}
	}
	for _, e := range []struct{ field, v string }{
		{"by", s.By}, {"permission", s.Permission}, {"use", s.Use}, {"asset_kind", s.AssetKind}, {"basis", s.Basis}, {"tdm", s.TDM},
	} {
		if e.v == "" {
			continue
		}
		allowed := map[string][]string{"by": spec.by, "permission": Permissions, "use": InputUses, "asset_kind": AssetKinds, "basis": Bases, "tdm": TDMChoices}[e.field]
		flag := map[string]string{"asset_kind": "--kind"}[e.field]
		if flag == "" {
			flag = "--" + e.field
		}
		if err := oneOf(flag, e.v, allowed); err != nil {
			if e.field == "by" && contains(Actors, e.v) {
				return inputErrorf("--by %q is not allowed for a %s step: it is %s", s.By, s.Kind, strings.Join(spec.by, " or "))
			}
			return err
		}
	}
	return s.checkKind()
}

// checkFields checks which fields are present.
func (spec kindSpec) checkFields(s *Step) error {
	have := s.present() &^ fieldsOf("v", "kind")
	if len(spec.by) > 0 {
		if !ValidAssetID(s.Asset) {
			if s.Asset == "" {
				return inputErrorf("no asset: name one with --asset ID, or choose the current one with: cairn use ID")
			}
			return inputErrorf("asset ID %q is not valid: use up to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", s.Asset)
		}
		if s.By == "" {
			return inputErrorf("a %s step must say who acted (by: %s)", s.Kind, strings.Join(spec.by, ", "))
		}
		have &^= fieldsOf("asset", "by")
	}
	for _, r := range spec.required {
		if have&fieldBit[r] == 0 {
			if h, ok := requiredHint[s.Kind+"."+r]; ok {
				return inputErrorf("%s", h)
			}
			return inputErrorf("a %s step needs %s", s.Kind, r)
		}
	}
	if extra := have &^ kindAllowed[s.Kind]; extra != 0 {
		var names []string
		for i, name := range stepFieldNames {
			if extra&(1<<i) != 0 {
				names = append(names, name)
			}
		}
		return inputErrorf("a %s step does not take %s", s.Kind, strings.Join(names, ", "))
	}
	return nil
}

// kindAllowed holds each kind's allowed fields, computed once.
var kindAllowed = func() map[string]fieldSet {
	out := map[string]fieldSet{}
	for k, spec := range kindSpecs {
		out[k] = fieldsOf(spec.required...) | fieldsOf(spec.optional...)
	}
	return out
}()

func (s *Step) checkTexts() error {
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
		{"name", s.Name}, {"email", s.Email}, {"key", s.Key}, {"cert", s.Cert},
	} {
		if err := checkText(f.name, f.v, 4096); err != nil {
			return err
		}
	}
	for k, v := range s.Params {
		if k == "" {
			return inputErrorf("a parameter has an empty name; write --param name=value")
		}
		if err := checkText("parameter name", k, 256); err != nil {
			return err
		}
		if err := checkText("parameter "+k, v, 64<<10); err != nil {
			return err
		}
	}
	if c := s.Captured; c != nil {
		if err := checkText("captured.from", c.From, 4096); err != nil {
			return err
		}
		if c.From == "" {
			return inputErrorf("captured.from is empty: say where the values were read")
		}
		for k, v := range c.Fields {
			if err := checkText("captured field name", k, 256); err != nil {
				return err
			}
			if err := checkText("captured field "+k, v, 64<<10); err != nil {
				return err
			}
			if v == "" {
				return inputErrorf("captured field %q is empty; leave out a field the file does not state", k)
			}
		}
		if err := checkText("captured.claimed_time", c.ClaimedTime, 4096); err != nil {
			return err
		}
		if c.ClaimedTime != "" {
			if _, err := time.Parse(time.RFC3339Nano, c.ClaimedTime); err != nil {
				return inputErrorf("captured.claimed_time %q is not an RFC 3339 time", c.ClaimedTime)
			}
		}
	}
	return nil
}

// check validates a file reference: a lowercase hex SHA-256, a size, a name
// and type that are text.
func (f FileRef) check() error {
	if _, err := strict.Hex(f.SHA256, 32); err != nil {
		return inputErrorf("file %q: sha256: %v", f.Name, err)
	}
	if f.Size < 0 {
		return inputErrorf("file %q: negative size", f.Name)
	}
	if err := checkText("file name", f.Name, 4096); err != nil {
		return err
	}
	return checkText("file type", f.Type, 256)
}

// checkKind checks the values particular to a kind.
func (s *Step) checkKind() error {
	switch s.Kind {
	case KindIdentity, KindRotate:
		if _, _, err := s.IntroducedKey(); err != nil {
			return err
		}
	case KindPrompt, KindNote:
		if strings.TrimSpace(s.Text) == "" {
			return inputErrorf("%s", requiredHint[s.Kind+".text"])
		}
	case KindGenerate:
		if s.Tool == "" && s.Captured == nil {
			return inputErrorf("generate needs the tool that made the files: --tool NAME (for example --tool midjourney)")
		}
	case KindSelect:
		return s.checkSelection()
	case KindSimilarity:
		return s.checkSimilarity()
	case KindDisclose:
		if _, err := time.Parse("2006-01-02", s.Date); err != nil {
			return inputErrorf("--date %q is not a date; write YYYY-MM-DD", s.Date)
		}
	case KindRetract:
		if _, err := strict.Hex(s.Retracts.Hash, 32); err != nil {
			return inputErrorf("retracts.hash: %v", err)
		}
	}
	return nil
}

// checkSelection is FORMAT.md §5.2: the chosen file is one of the candidates,
// and the rejected ones are exactly the other candidates, in order.
func (s *Step) checkSelection() error {
	distinct := map[string]bool{}
	for _, f := range s.From {
		distinct[f.SHA256] = true
	}
	if len(s.From) < 2 {
		return inputErrorf("%s", requiredHint["select.from"])
	}
	if len(distinct) < 2 {
		return inputErrorf("the candidates are all the same file (SHA-256 %s): a choice needs at least two different ones", s.File.Short())
	}
	if !containsFile(s.From, *s.File) {
		return inputErrorf("the chosen file %s is not among the candidates (from)", s.File.Short())
	}
	want := notChosen(s.From, *s.File)
	if len(want) != len(s.Rejected) {
		return inputErrorf("rejected lists %d files; the candidates other than the chosen one are %d", len(s.Rejected), len(want))
	}
	for i := range want {
		if want[i] != s.Rejected[i] {
			return inputErrorf("rejected file %d (%s) is not candidate %s, the next one not chosen", i+1, s.Rejected[i].Short(), want[i].Short())
		}
	}
	return nil
}

// IntroducedKey decodes the Ed25519 key and the certificate an identity or
// rotation step introduces. Both must be standard base64 without line breaks.
// Whether the certificate is bound to the key is the rule book's check.
func (s *Step) IntroducedKey() (ed25519.PublicKey, *x509.Certificate, error) {
	k, err := strict.Base64(s.Key)
	if err != nil || len(k) != ed25519.PublicKeySize {
		return nil, nil, inputErrorf("%s record has an invalid key (want 32 bytes of base64)", s.Kind)
	}
	der, err := strict.Base64(s.Cert)
	if err != nil {
		return nil, nil, inputErrorf("%s record has an invalid certificate (not base64: %v)", s.Kind, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, inputErrorf("%s record has an invalid certificate: %v", s.Kind, err)
	}
	return ed25519.PublicKey(k), cert, nil
}

// stepShape is the JSON shape of a step payload, derived from Step's json tags.
var stepShape = strict.ShapeOf(reflect.TypeOf(Step{}))

// DecodeStep parses a recorded payload (FORMAT.md §5) strictly, so that every
// verifier reads one text from one byte string: valid UTF-8, one JSON object
// with member names exactly as specified and none twice, no null and no empty
// field, then the rules of its kind (Validate). Unknown fields are an error: a
// payload this version cannot fully read must not be summarised as if it could.
func DecodeStep(payload []byte) (*Step, error) {
	if err := strict.Check(payload, stepShape); err != nil {
		return nil, fmt.Errorf("step payload: %v", err)
	}
	var s Step
	if err := jsonUnmarshalExact(payload, &s); err != nil {
		return nil, fmt.Errorf("step payload: %v", err)
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("step payload: %v", err)
	}
	return &s, nil
}

// jsonUnmarshalExact decodes JSON that strict.Check has accepted: its member
// names are exact and unique, so encoding/json's case folding cannot apply.
func jsonUnmarshalExact(data []byte, v any) error {
	return json.Unmarshal(data, v)
}

// AllKinds lists every step kind, sorted.
func AllKinds() []string {
	out := make([]string, 0, len(kindSpecs))
	for k := range kindSpecs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
