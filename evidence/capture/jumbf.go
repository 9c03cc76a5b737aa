package capture

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// JUMBF (ISO/IEC 19566-5) boxes: a 4-byte big-endian length (1: an 8-byte
// extended length follows; 0: to the end), a 4-byte type, then content. A
// "jumb" superbox starts with a "jumd" description box: a 16-byte UUID
// naming the content type, a toggles byte, and an optional NUL-terminated
// label. C2PA UUIDs start with four ASCII letters ("c2pa", "c2ma", "c2as",
// "c2cl", "cbor", "json") followed by 0011-0010-8000-00AA00389B71.

const maxJUMBFDepth = 32

type jumbfBox struct {
	typ      string
	content  []byte     // for plain boxes
	uuid     [16]byte   // for superboxes, from jumd
	label    string     // for superboxes, from jumd
	children []jumbfBox // for superboxes, after jumd
}

// kind returns the four ASCII letters a C2PA UUID starts with.
func (b *jumbfBox) kind() string { return string(b.uuid[:4]) }

// parseJUMBF parses the boxes in b.
func parseJUMBF(b []byte, depth int) ([]jumbfBox, error) {
	if depth > maxJUMBFDepth {
		return nil, fmt.Errorf("JUMBF boxes nest more than %d deep", maxJUMBFDepth)
	}
	var boxes []jumbfBox
	for off := 0; off < len(b); {
		hdr, n, err := jumbfHeaderLen(b[off:])
		if err != nil {
			return nil, fmt.Errorf("JUMBF box at byte %d: %w", off, err)
		}
		if n == 0 {
			n = int64(len(b) - off)
		}
		if n < int64(hdr) {
			return nil, fmt.Errorf("JUMBF box at byte %d declares length %d, shorter than its header", off, n)
		}
		if n > int64(len(b)-off) {
			return nil, fmt.Errorf("JUMBF box at byte %d is truncated: want %d bytes, have %d", off, n, len(b)-off)
		}
		box := jumbfBox{typ: string(b[off+4 : off+8])}
		content := b[off+hdr : off+int(n)]
		if box.typ == "jumb" {
			children, err := parseJUMBF(content, depth+1)
			if err != nil {
				return nil, err
			}
			if len(children) == 0 || children[0].typ != "jumd" {
				return nil, fmt.Errorf("JUMBF superbox at byte %d does not start with a jumd box", off)
			}
			if err := box.describe(children[0].content); err != nil {
				return nil, fmt.Errorf("JUMBF superbox at byte %d: %w", off, err)
			}
			box.children = children[1:]
		} else {
			box.content = content
		}
		boxes = append(boxes, box)
		off += int(n)
	}
	return boxes, nil
}

// describe reads a jumd box's UUID and label.
func (b *jumbfBox) describe(d []byte) error {
	if len(d) < 17 {
		return fmt.Errorf("jumd box is %d bytes, want at least 17", len(d))
	}
	copy(b.uuid[:], d[:16])
	toggles := d[16]
	if toggles&0x02 != 0 {
		label, _, ok := bytes.Cut(d[17:], []byte{0})
		if !ok {
			return fmt.Errorf("jumd label is not NUL-terminated")
		}
		b.label = string(label)
	}
	return nil
}

// isC2PAStore reports whether b starts with a C2PA manifest store box.
func isC2PAStore(b []byte) bool {
	// box header (8) + jumd header (8) + UUID: "jumb", then "jumd", then "c2pa".
	return len(b) >= 20 && string(b[4:8]) == "jumb" && string(b[12:16]) == "jumd" && string(b[16:20]) == "c2pa"
}

// readC2PA reads the claim generator and actions of every manifest in a
// C2PA manifest store. It does not validate signatures or hashes.
func readC2PA(b []byte, container string) (*C2PAInfo, error) {
	if !isC2PAStore(b) {
		return nil, fmt.Errorf("not a C2PA manifest store: want a jumb box labelled c2pa")
	}
	_, n, err := jumbfHeaderLen(b)
	if err != nil {
		return nil, err
	}
	if n == 0 || n > int64(len(b)) {
		n = int64(len(b))
	}
	store := b[:n]
	boxes, err := parseJUMBF(store, 0)
	if err != nil {
		return nil, fmt.Errorf("C2PA manifest store: %w", err)
	}
	sum := sha256.Sum256(store)
	info := &C2PAInfo{Container: container, ManifestSHA256: hex.EncodeToString(sum[:])}
	for _, mb := range boxes[0].children {
		if mb.typ != "jumb" || (mb.kind() != "c2ma" && mb.kind() != "c2um") {
			continue
		}
		man, err := readC2PAManifest(&mb)
		if err != nil {
			return nil, fmt.Errorf("C2PA manifest %q: %w", mb.label, err)
		}
		info.Manifests = append(info.Manifests, man)
	}
	if len(info.Manifests) > 0 {
		active := info.Manifests[len(info.Manifests)-1]
		info.ClaimGenerator = active.ClaimGenerator
		info.Actions = active.Actions
		info.ActiveLabel = active.Label
		info.Ingredients = active.Ingredients
		for _, a := range active.Actions {
			if a.DigitalSourceType != "" {
				info.DigitalSourceType = a.DigitalSourceType
				break
			}
		}
	}
	return info, nil
}

func readC2PAManifest(mb *jumbfBox) (C2PAManifest, error) {
	man := C2PAManifest{Label: mb.label}
	for i := range mb.children {
		c := &mb.children[i]
		if c.typ != "jumb" {
			continue
		}
		switch c.kind() {
		case "c2cl": // claim
			v, err := cborContent(c)
			if err != nil {
				return man, fmt.Errorf("claim: %w", err)
			}
			man.ClaimGenerator = claimGenerator(v)
		case "c2as": // assertion store
			for j := range c.children {
				a := &c.children[j]
				label, _, _ := strings.Cut(a.label, "__") // "c2pa.actions__1" is a second instance
				isActions := label == "c2pa.actions" || label == "c2pa.actions.v2"
				isIngredient := label == "c2pa.ingredient" || label == "c2pa.ingredient.v2" || label == "c2pa.ingredient.v3"
				if a.typ != "jumb" || !isActions && !isIngredient {
					continue
				}
				v, err := cborContent(a)
				if err != nil {
					return man, fmt.Errorf("assertion %s: %w", a.label, err)
				}
				if isActions {
					man.Actions = append(man.Actions, c2paActions(v)...)
				} else {
					man.Ingredients = append(man.Ingredients, c2paIngredient(v))
				}
			}
		}
	}
	return man, nil
}

// c2paIngredient reads an ingredient assertion: v1 and v2 name the
// ingredient's manifest in c2pa_manifest and its title in dc:title, v3 in
// activeManifest and title.
func c2paIngredient(v any) C2PAIngredient {
	m, _ := v.(map[string]any)
	in := C2PAIngredient{Title: cborText(m["dc:title"]), Relationship: cborText(m["relationship"])}
	if in.Title == "" {
		in.Title = cborText(m["title"])
	}
	for _, k := range []string{"activeManifest", "c2pa_manifest"} {
		if ref, ok := m[k].(map[string]any); ok {
			in.Manifest = manifestOfURI(cborText(ref["url"]))
			break
		}
	}
	return in
}

// manifestOfURI returns the manifest label a JUMBF URI points into:
// "self#jumbf=/c2pa/urn:uuid:…/c2pa.assertions/…" names "urn:uuid:…".
func manifestOfURI(uri string) string {
	_, path, ok := strings.Cut(uri, "#jumbf=")
	if !ok {
		return ""
	}
	path = strings.TrimPrefix(strings.TrimPrefix(path, "/"), "c2pa/")
	label, _, _ := strings.Cut(path, "/")
	return label
}

// ToolName turns a claim generator into the name of the tool that made the
// claim. A C2PA 1.x claim_generator is a list of product tokens, most specific
// first, with underscores for spaces ("Adobe_Photoshop/26.9.0 adobe_c2pa/0.14.2
// c2pa-rs/0.43.0": Adobe Photoshop, version 26.9.0; "Adobe_Firefly
// adobe_c2pa/0.12.4": Adobe Firefly, no version); a claim_generator_info name
// is a name as it is ("OpenAI Media Service API").
func ToolName(claimGenerator string) (name, version string) {
	cg := strings.TrimSpace(claimGenerator)
	if !strings.Contains(cg, "/") {
		return cg, ""
	}
	first, _, _ := strings.Cut(cg, " ")
	product, ver, _ := strings.Cut(first, "/")
	return strings.ReplaceAll(product, "_", " "), ver
}

// cborContent decodes the first cbor box of a superbox.
func cborContent(sb *jumbfBox) (any, error) {
	for _, c := range sb.children {
		if c.typ == "cbor" {
			return decodeCBOR(c.content)
		}
	}
	return nil, fmt.Errorf("no cbor box")
}

// claimGenerator returns claim_generator (claims v1), else the name of the
// first claim_generator_info entry (a list in v1, one map in v2).
func claimGenerator(claim any) string {
	m, _ := claim.(map[string]any)
	if s, ok := m["claim_generator"].(string); ok && s != "" {
		return s
	}
	info := m["claim_generator_info"]
	if list, ok := info.([]any); ok && len(list) > 0 {
		info = list[0]
	}
	if im, ok := info.(map[string]any); ok {
		s, _ := im["name"].(string)
		return s
	}
	return ""
}

func c2paActions(v any) []C2PAAction {
	m, _ := v.(map[string]any)
	list, _ := m["actions"].([]any)
	var out []C2PAAction
	for _, it := range list {
		am, ok := it.(map[string]any)
		if !ok {
			continue
		}
		a := C2PAAction{
			Action:            cborText(am["action"]),
			DigitalSourceType: cborText(am["digitalSourceType"]),
			SoftwareAgent:     softwareAgent(am["softwareAgent"]),
			When:              cborText(am["when"]),
		}
		if a.DigitalSourceType == "" {
			// Early writers put it among the parameters.
			if p, ok := am["parameters"].(map[string]any); ok {
				a.DigitalSourceType = cborText(p["digitalSourceType"])
			}
		}
		out = append(out, a)
	}
	return out
}

// softwareAgent formats a softwareAgent: a string (actions v1) or a
// generator-info map (v2), given as "name version".
func softwareAgent(v any) string {
	if m, ok := v.(map[string]any); ok {
		name, ver := cborText(m["name"]), cborText(m["version"])
		if ver != "" {
			return name + " " + ver
		}
		return name
	}
	return cborText(v)
}

func cborText(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case []byte, []any, map[string]any:
		return ""
	}
	return fmt.Sprint(v)
}

// addC2PA records the file's manifest store. A store that cannot be read
// is still reported, by its hash, along with the error; a second store is
// noted, since C2PA allows only one per asset.
func (m *metadata) addC2PA(store []byte, container string) error {
	info, err := readC2PA(store, container)
	if err != nil {
		sum := sha256.Sum256(store)
		info = &C2PAInfo{Container: container, ManifestSHA256: hex.EncodeToString(sum[:])}
	}
	if m.c2pa != nil {
		m.warnf("file holds more than one C2PA manifest store; the first is reported")
		return err
	}
	m.c2pa = info
	return err
}
