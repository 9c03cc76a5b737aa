package capture

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
)

// interpret turns what the container readers collected into a Capture. The
// generator is recognised from the keys its record uses, most specific
// first, because files can carry several records (an A1111 "parameters"
// chunk beside XMP and a C2PA store, say).
func (m *metadata) interpret() (*Capture, error) {
	if len(m.sources) == 0 && m.c2pa == nil && len(m.warnings) == 0 {
		return nil, nil
	}
	c := &Capture{
		Params:   map[string]string{},
		Sources:  m.sources,
		C2PA:     m.c2pa,
		Warnings: m.warnings,
	}
	m.expandUserComment()

	switch {
	case m.has("prompt") && m.comfy(c):
	case m.has("workflow"):
		c.Tool = "ComfyUI" // editor graph only: no executed values to read
	case m.has("invokeai_metadata") && m.invokeAI3(c):
	case m.has("sd-metadata") && m.invokeAI2(c):
	case m.has("Dream") && m.invokeAIDream(c):
	case m.has("parameters") && m.parameters(c):
	case m.isNovelAI() && m.novelAI(c):
	case m.has("Description") && m.midjourney(c):
	}

	for _, x := range m.xmp {
		setIfEmpty(&c.Description, x.Description)
		setIfEmpty(&c.DigitalSourceType, x.DigitalSourceType)
		setIfEmpty(&c.JobID, x.DigImageGUID)
		setIfEmpty(&c.Author, x.Creator)
		if x.CreatorTool != "" {
			c.Params["xmp:CreatorTool"] = x.CreatorTool
		}
	}
	if c.C2PA != nil {
		setIfEmpty(&c.DigitalSourceType, c.C2PA.DigitalSourceType)
	}
	switch {
	case c.Tool != "":
	case c.Description != "" || c.DigitalSourceType != "" && c.C2PA == nil:
		// XMP said something about the making, and nothing else did.
		c.Tool = "XMP"
	case c.C2PA != nil:
		c.Tool = "C2PA"
	}
	return c, nil
}

func setIfEmpty(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

func (m *metadata) has(key string) bool {
	_, ok := m.text(key)
	return ok
}

// expandUserComment gives EXIF UserComment the role its writer meant: the
// A1111 and Fooocus "parameters" text, or (NovelAI) a JSON object of what
// would be PNG text chunks in a PNG.
func (m *metadata) expandUserComment() {
	uc, ok := m.text("exif:UserComment")
	if !ok {
		return
	}
	if obj, ok := jsonObject(uc); ok {
		_, hasSoftware := obj["Software"]
		_, hasComment := obj["Comment"]
		if hasSoftware && hasComment {
			for _, k := range sortedKeys(obj) {
				m.texts = append(m.texts, textField{k, jsonText(obj[k])})
			}
			return
		}
	}
	if !m.has("parameters") {
		m.texts = append(m.texts, textField{"parameters", uc})
	}
}

// jsonObject decodes text as a JSON object, keeping member values raw so
// that numbers keep their exact text.
func jsonObject(text string) (map[string]json.RawMessage, bool) {
	t := strings.TrimSpace(text)
	if !strings.HasPrefix(t, "{") {
		return nil, false
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal([]byte(t), &obj) != nil {
		return nil, false
	}
	return obj, true
}

// jsonText returns a string's value, or any other value's JSON text.
func jsonText(raw json.RawMessage) string {
	if s, ok := jsonScalar(raw); ok {
		return s
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) == nil {
		return b.String()
	}
	return string(raw)
}

// take removes obj[key] and returns its text.
func take(obj map[string]json.RawMessage, key string) string {
	raw, ok := obj[key]
	if !ok {
		return ""
	}
	delete(obj, key)
	if string(bytes.TrimSpace(raw)) == "null" {
		return ""
	}
	return jsonText(raw)
}

// putRest copies the members not taken into params, with a key prefix.
func putRest(params map[string]string, prefix string, obj map[string]json.RawMessage) {
	for k, v := range obj {
		params[prefix+k] = jsonText(v)
	}
}

func sortedKeys(obj map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
