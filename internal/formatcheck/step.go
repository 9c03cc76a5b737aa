package formatcheck

import (
	"crypto/x509"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
)

// A step is what a verifier needs from a payload once it has been read
// strictly (§5, §5.4).
type step struct {
	kind  string
	asset string // "" for identity and rotate
	by    string // "" for identity and rotate
	name  string // identity, rotate
	key   []byte // identity, rotate: 32 bytes
	cert  []byte // identity, rotate: DER
	files []fileRef
	// retract: the record withdrawn (§5.6)
	retractsSeq  int64
	retractsHash string
}

// A fileRef is §5's file ref.
type fileRef struct {
	name   string
	sha256 string
	size   int64
	typ    string
	where  string // the field it was read from, for messages
}

// same reports whether two refs are equal "in all four fields" (§5.2).
func (f fileRef) same(g fileRef) bool {
	return f.name == g.name && f.sha256 == g.sha256 && f.size == g.size && f.typ == g.typ
}

const secStep = "§5"

// stepFields is every top-level member name §5's field table lists.
var stepFields = []string{
	"v", "kind", "asset", "by", "tool", "model", "params", "text",
	"out", "in", "from", "rejected", "file", "before", "after",
	"why", "note", "source", "license", "permission", "use", "date", "where",
	"title", "asset_kind", "owner", "basis", "contract", "tdm", "retracts",
	"name", "email", "key", "cert", "captured",
}

// kindSpec is one row of §5's table of kinds.
type kindSpec struct {
	by       []string // allowed values of by; nil: the kind has no by (and no asset)
	required []string
	optional []string
}

var kinds = map[string]kindSpec{
	"identity":  {nil, []string{"name", "key", "cert"}, []string{"email"}},
	"rotate":    {nil, []string{"name", "key", "cert"}, []string{"email"}},
	"asset":     {[]string{"human"}, nil, []string{"title", "asset_kind", "owner", "basis", "contract", "tdm"}},
	"asset-set": {[]string{"human"}, nil, []string{"title", "asset_kind", "owner", "basis", "contract", "tdm"}},
	"prompt":    {[]string{"human", "ai", "both"}, []string{"text"}, []string{"tool", "model", "params", "captured"}},
	// generate: "tool unless captured" is checked in readStep.
	"generate": {[]string{"ai", "both"}, []string{"out"}, []string{"tool", "in", "model", "params", "text", "captured"}},
	"select":   {[]string{"human"}, []string{"file", "from", "rejected"}, []string{"why", "note", "captured"}},
	"edit":     {[]string{"human", "ai", "both", "unknown"}, []string{"before", "after"}, []string{"in", "tool", "model", "params", "text", "note", "captured"}},
	"sketch":   {[]string{"human"}, []string{"file"}, []string{"tool", "note", "captured"}},
	"input":    {[]string{"human"}, []string{"file", "permission"}, []string{"use", "source", "license", "note", "captured"}},
	"file":     {[]string{"unknown"}, []string{"file"}, []string{"tool", "note", "captured"}},
	"note":     {[]string{"human"}, []string{"text"}, []string{"captured"}},
	"disclose": {[]string{"human"}, []string{"date"}, []string{"where"}},
	"final":    {[]string{"human"}, []string{"file"}, []string{"note", "captured"}},
	"retract":  {[]string{"human"}, []string{"retracts", "why"}, nil},
}

// Enumerations of §5's field table.
var (
	permissions = []string{"granted", "licensed", "public-domain", "own", "unknown"}
	assetKinds  = []string{"illustration", "logo", "text", "product-design", "photo", "other"}
	bases       = []string{"employment", "commission", "assignment", "own", "other"}
	tdms        = []string{"allowed", "prohibited"}
	uses        = []string{"component", "reference"}
)

// Length limits of §5, in bytes of UTF-8: "text, why and note at most
// 262144; params names 256 and values 65536; captured.fields names 256 and
// values 65536; a file ref's name 4096 and type 256; every other string 4096
// (captured.from included)".
const (
	maxLong     = 262144
	maxMapName  = 256
	maxMapValue = 65536
	maxRefName  = 4096
	maxRefType  = 256
	maxOther    = 4096
)

// assetID is §5's asset ID: 1 to 64 of A-Z a-z 0-9 . _ -, starting with a
// letter or digit.
var assetID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// readStep reads a payload strictly (§5.4 rules 1–5) and returns the step.
func readStep(payload []byte) (*step, error) {
	v, err := parseStrict(payload)
	if err != nil {
		return nil, err
	}
	for _, m := range v.members {
		if !contains(stepFields, m.name) {
			return nil, fmt.Errorf("§5.4 rule 2: member %q is not a field of §5", m.name)
		}
	}
	// Rule 3: "no string, array or object anywhere is empty ..., except a
	// file ref's name and a params value, which may be """.
	if err := noEmpty(v, ""); err != nil {
		return nil, err
	}
	kv := v.get("kind")
	if kv == nil || kv.kind != jString {
		return nil, fmt.Errorf("§5.4 rule 5: no kind string")
	}
	spec, ok := kinds[kv.str]
	if !ok {
		return nil, fmt.Errorf("§5.4 rule 5: unknown kind %q", kv.str)
	}
	st := &step{kind: kv.str, retractsSeq: -1}
	required := append([]string{"v", "kind"}, spec.required...)
	if spec.by != nil {
		required = append(required, "asset", "by")
	}
	optional := spec.optional
	if st.kind == "generate" && v.get("captured") == nil {
		required = append(required, "tool") // "tool unless captured"
	}
	for _, m := range v.members {
		if !contains(required, m.name) && !contains(optional, m.name) {
			return nil, fmt.Errorf("§5.4 rule 5 (kinds table): %s %s step has no field %q", article(st.kind), st.kind, m.name)
		}
	}
	if err := checkNames(v, "the "+st.kind+" step", "§5.4 rule 5 (kinds table)", required, optional); err != nil {
		return nil, err
	}
	if vv := v.get("v"); vv.kind != jNumber || vv.str != "1" {
		return nil, fmt.Errorf("§5.4 rule 3: v is not 1")
	}
	for _, m := range v.members {
		if err := st.field(m.name, m.val, spec); err != nil {
			return nil, err
		}
	}
	if err := st.kindRules(v); err != nil {
		return nil, err
	}
	return st, nil
}

// fileRefFields are the members that hold a file ref or an array of them.
var fileRefFields = []string{"out", "in", "from", "rejected", "file", "before", "after"}

// noEmpty is §5.4 rule 3 over a whole step: no string, array or object
// anywhere is empty, except a file ref's name and a params value. Member
// names are not values: params names are refused when empty by the field
// table ("names are not empty"), captured.fields names may be (rule 2:
// captured.fields "take any names"); see the report.
func noEmpty(v *jvalue, path string) error {
	var walk func(v *jvalue, path string, exempt bool) error
	walk = func(v *jvalue, path string, exempt bool) error {
		if isEmpty(v) && !(exempt && v.kind == jString) {
			if path == "" {
				path = "the payload"
			}
			return fmt.Errorf("§5.4 rule 3: %s is an empty %s", path, v.kind)
		}
		switch v.kind {
		case jObject:
			for _, m := range v.members {
				p := m.name
				if path != "" {
					p = path + "." + m.name
				}
				ex := false
				switch {
				case path == "params":
					ex = true // "a params value ... may be """
				case m.name == "name" && isFileRefPath(path):
					ex = true // "a file ref's name ... may be """
				}
				if err := walk(m.val, p, ex); err != nil {
					return err
				}
			}
		case jArray:
			for i, el := range v.elems {
				if err := walk(el, fmt.Sprintf("%s[%d]", path, i), false); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk(v, path, false)
}

// isFileRefPath reports whether path names a file ref of a step: "file",
// "before", "after", or an element "out[3]" of an array of file refs.
func isFileRefPath(path string) bool {
	if i := strings.IndexByte(path, '['); i >= 0 && strings.HasSuffix(path, "]") && !strings.Contains(path[i:], ".") {
		path = path[:i]
		return contains([]string{"out", "in", "from", "rejected"}, path)
	}
	return contains([]string{"file", "before", "after"}, path)
}

// field checks one top-level member's value against §5's field table.
func (st *step) field(name string, v *jvalue, spec kindSpec) error {
	where := name
	const sec = "§5.4 rule 5"
	switch name {
	case "v", "kind":
		return nil // checked in readStep
	case "asset":
		s, err := wantString(v, where, sec, maxOther)
		if err != nil {
			return err
		}
		if !assetID.MatchString(s) {
			return fmt.Errorf("%s: asset %q is not an asset ID (§5)", sec, s)
		}
		st.asset = s
	case "by":
		s, err := wantString(v, where, sec, maxOther)
		if err != nil {
			return err
		}
		if !contains(spec.by, s) {
			return fmt.Errorf("%s (§5.1): by %q is not allowed for a %s step", sec, s, st.kind)
		}
		st.by = s
	case "tool", "model", "source", "license", "where", "title", "owner", "contract", "email":
		_, err := wantString(v, where, sec, maxOther)
		return err
	case "name":
		s, err := wantString(v, where, sec, maxOther)
		st.name = s
		return err
	case "text", "why", "note":
		_, err := wantString(v, where, sec, maxLong)
		return err
	case "permission":
		return wantEnum(v, where, permissions)
	case "use":
		return wantEnum(v, where, uses)
	case "asset_kind":
		return wantEnum(v, where, assetKinds)
	case "basis":
		return wantEnum(v, where, bases)
	case "tdm":
		return wantEnum(v, where, tdms)
	case "date":
		s, err := wantString(v, where, sec, maxOther)
		if err != nil {
			return err
		}
		if !validDate(s) {
			return fmt.Errorf("%s: date %q is not a valid YYYY-MM-DD", sec, s)
		}
	case "params":
		return checkStringMap(v, "params", maxMapName, maxMapValue, true)
	case "captured":
		return checkCaptured(v)
	case "retracts":
		return st.readRetracts(v)
	case "out", "in", "from", "rejected":
		els, err := wantArray(v, where, sec)
		if err != nil {
			return err
		}
		for i, el := range els {
			f, err := readFileRef(el, fmt.Sprintf("%s[%d]", name, i))
			if err != nil {
				return err
			}
			st.files = append(st.files, f)
		}
	case "file", "before", "after":
		f, err := readFileRef(v, name)
		if err != nil {
			return err
		}
		st.files = append(st.files, f)
	case "key":
		s, err := wantString(v, where, sec, maxOther)
		if err != nil {
			return err
		}
		b, err := strictBase64(s)
		if err != nil {
			return fmt.Errorf("%s: key: %v", sec, err)
		}
		if len(b) != 32 {
			return fmt.Errorf("%s: key is %d bytes, not 32", sec, len(b))
		}
		st.key = b
	case "cert":
		// A DER certificate is longer than 4096 bytes of base64 only if
		// it is not what §5.3 describes; the limit of "every other string"
		// applies.
		s, err := wantString(v, where, sec, maxOther)
		if err != nil {
			return err
		}
		b, err := strictBase64(s)
		if err != nil {
			return fmt.Errorf("%s: cert: %v", sec, err)
		}
		if _, err := x509.ParseCertificate(b); err != nil {
			return fmt.Errorf("%s: cert is not a DER X.509 certificate: %v", sec, err)
		}
		st.cert = b
	default:
		return fmt.Errorf("%s: unexpected field %q", sec, name)
	}
	return nil
}

// readRetracts is §5.4 rule 5: "retracts has exactly the members seq (a
// whole number, 0 allowed) and hash (64 lowercase hex digits)".
func (st *step) readRetracts(v *jvalue) error {
	const sec = "§5.4 rule 5 (retracts)"
	if err := checkNames(v, "retracts", sec, []string{"seq", "hash"}, nil); err != nil {
		return err
	}
	n, err := wantUint(v.get("seq"), "retracts.seq", sec)
	if err != nil {
		return err
	}
	h, err := wantString(v.get("hash"), "retracts.hash", sec, maxOther)
	if err != nil {
		return err
	}
	if !isLowerHex(h, 64) {
		return fmt.Errorf("%s: retracts.hash is not 64 lowercase hex digits", sec)
	}
	st.retractsSeq, st.retractsHash = n, h
	return nil
}

// kindRules checks what the table of kinds, §5.1 and §5.2 say beyond the
// types of single fields.
func (st *step) kindRules(v *jvalue) error {
	switch st.kind {
	case "prompt", "note":
		if onlyWhiteSpace(v.get("text").str) {
			return fmt.Errorf("§5.4 rule 5 (kinds table): a %s's text is only white space (Unicode White_Space)", st.kind)
		}
	case "select":
		return checkSelect(v)
	}
	return nil
}

// onlyWhiteSpace: "Not only white space" means some character outside
// Unicode's White_Space property (§5).
func onlyWhiteSpace(s string) bool {
	for _, r := range s {
		if !unicode.Is(unicode.White_Space, r) {
			return false
		}
	}
	return true
}

// checkSelect is §5.2: from has at least 2 elements, at least two different
// files by SHA-256, and includes the chosen file by SHA-256; rejected is
// exactly the elements of from whose SHA-256 differs from the chosen file's,
// in the order of from, each equal to its element in all four fields.
func checkSelect(v *jvalue) error {
	chosen, _ := readFileRef(v.get("file"), "file")
	from := v.get("from").elems
	rejected := v.get("rejected").elems
	if len(from) < 2 {
		return fmt.Errorf("§5.4 rule 5 (kinds table): select has %d candidates in from, fewer than 2", len(from))
	}
	var want []fileRef
	found := false
	distinct := map[string]bool{}
	for i, el := range from {
		f, _ := readFileRef(el, fmt.Sprintf("from[%d]", i))
		distinct[f.sha256] = true
		if f.sha256 == chosen.sha256 {
			found = true
		} else {
			want = append(want, f)
		}
	}
	if len(distinct) < 2 {
		return fmt.Errorf("§5.2: from holds %d different file (by SHA-256), fewer than two", len(distinct))
	}
	if !found {
		return fmt.Errorf("§5.2: the chosen file %s is not among the candidates in from", chosen.sha256)
	}
	if len(rejected) != len(want) {
		return fmt.Errorf("§5.2: rejected has %d elements, but from has %d not chosen", len(rejected), len(want))
	}
	for i, el := range rejected {
		f, _ := readFileRef(el, fmt.Sprintf("rejected[%d]", i))
		if !f.same(want[i]) {
			return fmt.Errorf("§5.2: rejected[%d] (%s) is not, in all four fields, the %d-th candidate of from that differs from the chosen file", i, f.sha256, i+1)
		}
	}
	return nil
}

// readFileRef reads §5's file ref: name, sha256 (64 lowercase hex) and size
// (a whole number) always, type when known.
func readFileRef(v *jvalue, where string) (fileRef, error) {
	const sec = "§5.4 rule 5 (file ref)"
	if err := checkNames(v, where, sec, []string{"name", "sha256", "size"}, []string{"type"}); err != nil {
		return fileRef{}, err
	}
	f := fileRef{where: where}
	var err error
	if f.name, err = wantString(v.get("name"), where+".name", sec, maxRefName); err != nil {
		return f, err
	}
	if f.sha256, err = wantString(v.get("sha256"), where+".sha256", sec, maxOther); err != nil {
		return f, err
	}
	if !isLowerHex(f.sha256, 64) {
		return f, fmt.Errorf("%s: %s.sha256 is not 64 lowercase hex digits", sec, where)
	}
	if f.size, err = wantUint(v.get("size"), where+".size", sec); err != nil {
		return f, err
	}
	if t := v.get("type"); t != nil {
		if f.typ, err = wantString(t, where+".type", sec, maxRefType); err != nil {
			return f, err
		}
	}
	return f, nil
}

// checkStringMap checks an "object of strings" (params, captured.fields):
// names and values within their limits and without U+0000.
func checkStringMap(v *jvalue, where string, maxName, maxValue int, namesNonEmpty bool) error {
	const sec = "§5.4 rule 5"
	if v.kind != jObject {
		return fmt.Errorf("%s: %s must be an object of strings", sec, where)
	}
	for _, m := range v.members {
		if namesNonEmpty && m.name == "" {
			return fmt.Errorf("%s: %s has an empty name", sec, where)
		}
		if strings.IndexByte(m.name, 0) >= 0 {
			return fmt.Errorf("%s: a name in %s holds U+0000", sec, where)
		}
		if len(m.name) > maxName {
			return fmt.Errorf("%s: a name in %s is %d bytes, more than %d", sec, where, len(m.name), maxName)
		}
		if _, err := wantString(m.val, where+"."+m.name, sec, maxValue); err != nil {
			return err
		}
	}
	return nil
}

// checkCaptured reads captured: from (always present, never empty), fields
// (object of strings), claimed_time (RFC 3339).
func checkCaptured(v *jvalue) error {
	const sec = "§5.4 rule 5 (captured)"
	if err := checkNames(v, "captured", sec, []string{"from"}, []string{"fields", "claimed_time"}); err != nil {
		return err
	}
	from, err := wantString(v.get("from"), "captured.from", sec, maxOther)
	if err != nil {
		return err
	}
	if from == "" {
		return fmt.Errorf("%s: captured.from is empty", sec)
	}
	if f := v.get("fields"); f != nil {
		if err := checkStringMap(f, "captured.fields", maxMapName, maxMapValue, false); err != nil {
			return err
		}
	}
	if t := v.get("claimed_time"); t != nil {
		s, err := wantString(t, "captured.claimed_time", sec, maxOther)
		if err != nil {
			return err
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return fmt.Errorf("%s: claimed_time %q is not RFC 3339", sec, s)
		}
	}
	return nil
}

func wantEnum(v *jvalue, where string, values []string) error {
	s, err := wantString(v, where, "§5.4 rule 5", maxOther)
	if err != nil {
		return err
	}
	if !contains(values, s) {
		return fmt.Errorf("§5.4 rule 5: %s %q is not one of %s", where, s, strings.Join(values, ", "))
	}
	return nil
}

// validDate: "a valid YYYY-MM-DD".
func validDate(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	for i, c := range []byte(s) {
		if i != 4 && i != 7 && !isDigit(c) {
			return false
		}
	}
	_, err := time.Parse("2006-01-02", s)
	return err == nil
}
