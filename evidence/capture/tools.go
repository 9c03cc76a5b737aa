package capture

import (
	"encoding/json"
	"strings"
)

func (m *metadata) comfy(c *Capture) bool {
	text, _ := m.text("prompt")
	g, ok := parseComfyGraph(text)
	if !ok {
		return false
	}
	c.Tool = "ComfyUI"
	readComfyUI(c, g)
	return true
}

// invokeAI3 reads InvokeAI 3 and later "invokeai_metadata" JSON.
func (m *metadata) invokeAI3(c *Capture) bool {
	text, _ := m.text("invokeai_metadata")
	obj, ok := jsonObject(text)
	if !ok {
		return false
	}
	c.Tool = "InvokeAI"
	c.ToolVersion = take(obj, "app_version")
	c.Prompt = take(obj, "positive_prompt")
	c.NegativePrompt = take(obj, "negative_prompt")
	c.Seed = take(obj, "seed")
	c.Steps = take(obj, "steps")
	c.Guidance = take(obj, "cfg_scale")
	c.Sampler = take(obj, "scheduler")
	if raw, ok := obj["model"]; ok {
		if model, ok := jsonObject(string(raw)); ok {
			// InvokeAI 3 says model_name, 4 and later say name.
			c.Model = take(model, "model_name")
			setIfEmpty(&c.Model, take(model, "name"))
			delete(obj, "model")
			putRest(c.Params, "model.", model)
		}
	}
	c.Size = size(take(obj, "width"), take(obj, "height"))
	putRest(c.Params, "", obj)
	return true
}

// invokeAI2 reads InvokeAI 2 "sd-metadata" JSON.
func (m *metadata) invokeAI2(c *Capture) bool {
	text, _ := m.text("sd-metadata")
	obj, ok := jsonObject(text)
	if !ok {
		return false
	}
	c.Tool = "InvokeAI"
	c.ToolVersion = take(obj, "app_version")
	c.Model = take(obj, "model_weights")
	if raw, ok := obj["image"]; ok {
		if image, ok := jsonObject(string(raw)); ok {
			delete(obj, "image")
			c.Prompt = invokeAI2Prompt(image["prompt"])
			if c.Prompt != "" {
				delete(image, "prompt")
			}
			c.Seed = take(image, "seed")
			c.Steps = take(image, "steps")
			c.Guidance = take(image, "cfg_scale")
			c.Sampler = take(image, "sampler")
			c.Size = size(take(image, "width"), take(image, "height"))
			putRest(c.Params, "image.", image)
		}
	}
	putRest(c.Params, "", obj)
	return true
}

// invokeAI2Prompt returns the prompt of sd-metadata: a string, or a list
// of weighted sub-prompts of which only a single one is taken as the
// prompt (several are left, as JSON, in Params).
func invokeAI2Prompt(raw json.RawMessage) string {
	if s, ok := jsonScalar(raw); ok {
		return s
	}
	var list []struct {
		Prompt *string `json:"prompt"`
	}
	if json.Unmarshal(raw, &list) != nil || len(list) != 1 || list[0].Prompt == nil {
		return ""
	}
	return *list[0].Prompt
}

// invokeAIDream reads InvokeAI 2's "Dream" command line:
//
//	"prompt" -s 50 -S 2980747362 -W 512 -H 768 -C 5 -A k_lms
func (m *metadata) invokeAIDream(c *Capture) bool {
	text, _ := m.text("Dream")
	prompt, flags, ok := parseDream(text)
	if !ok {
		return false
	}
	c.Tool = "InvokeAI"
	c.Prompt = prompt
	var w, h string
	for _, f := range flags {
		switch f.key {
		case "-s":
			c.Steps = f.value
		case "-S":
			c.Seed = f.value
		case "-C":
			c.Guidance = f.value
		case "-A":
			c.Sampler = f.value
		case "-W":
			w = f.value
		case "-H":
			h = f.value
		default:
			c.Params[f.key] = f.value
		}
	}
	c.Size = size(w, h)
	return true
}

// parseDream splits a Dream line into its quoted prompt and its flags.
// A flag's value is every word up to the next flag ("-U 4 0.95").
func parseDream(text string) (prompt string, flags []keyValue, ok bool) {
	if !strings.HasPrefix(text, `"`) {
		return "", nil, false
	}
	end := quotedEnd(text)
	if end == 0 {
		return "", nil, false
	}
	inner := text[1 : end-1]
	prompt = strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(inner)
	for _, w := range strings.Fields(text[end:]) {
		if isFlag(w) {
			flags = append(flags, keyValue{key: w})
			continue
		}
		if len(flags) == 0 {
			return "", nil, false
		}
		f := &flags[len(flags)-1]
		if f.value != "" {
			f.value += " "
		}
		f.value += w
	}
	return prompt, flags, true
}

func isFlag(w string) bool {
	return len(w) >= 2 && w[0] == '-' && !(w[1] >= '0' && w[1] <= '9') && w[1] != '.'
}

// parameters reads the "parameters" text chunk (or EXIF UserComment):
// Fooocus JSON, or A1111/Forge/Fooocus infotext.
func (m *metadata) parameters(c *Capture) bool {
	text, _ := m.text("parameters")
	scheme, _ := m.text("fooocus_scheme")
	if obj, ok := jsonObject(text); ok {
		version, _ := jsonScalar(obj["version"])
		_, hasScheme := obj["metadata_scheme"]
		if scheme == "" && !hasScheme && !strings.HasPrefix(version, "Fooocus") {
			return false
		}
		c.Tool = "Fooocus"
		c.ToolVersion = strings.TrimPrefix(take(obj, "version"), "Fooocus ")
		c.Prompt = take(obj, "prompt")
		c.NegativePrompt = take(obj, "negative_prompt")
		c.Seed = take(obj, "seed")
		c.Steps = take(obj, "steps")
		c.Guidance = take(obj, "guidance_scale")
		c.Sampler = take(obj, "sampler")
		c.Model = take(obj, "base_model")
		res := take(obj, "resolution")
		if c.Size = fooocusSize(res); c.Size == "" && res != "" {
			c.Params["resolution"] = res
		}
		putRest(c.Params, "", obj)
		return true
	}
	it, ok := parseInfotext(text)
	if !ok {
		return false
	}
	c.Tool = "AUTOMATIC1111"
	c.Prompt, c.NegativePrompt = it.prompt, it.negative
	for _, p := range it.params {
		switch p.key {
		case "Steps":
			c.Steps = p.value
		case "Sampler":
			c.Sampler = p.value
		case "CFG scale":
			c.Guidance = p.value
		case "Seed":
			c.Seed = p.value
		case "Size":
			c.Size = p.value
		case "Model":
			c.Model = p.value
		case "Version":
			c.ToolVersion = p.value
		default:
			c.Params[p.key] = p.value
		}
	}
	if scheme != "" || strings.HasPrefix(c.ToolVersion, "Fooocus") {
		c.Tool = "Fooocus"
		c.ToolVersion = strings.TrimPrefix(c.ToolVersion, "Fooocus ")
	}
	return true
}

// fooocusSize turns Fooocus's "(768, 1280)", Python's str((width,
// height)), into "768x1280"; other text gives "".
func fooocusSize(res string) string {
	inner, ok := strings.CutPrefix(res, "(")
	if !ok {
		return ""
	}
	inner, ok = strings.CutSuffix(inner, ")")
	if !ok {
		return ""
	}
	w, h, ok := strings.Cut(inner, ",")
	w, h = strings.TrimSpace(w), strings.TrimSpace(h)
	if !ok || !isDigits(w) || !isDigits(h) {
		return ""
	}
	return w + "x" + h
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func size(w, h string) string {
	if w == "" || h == "" {
		return ""
	}
	return w + "x" + h
}

func (m *metadata) isNovelAI() bool {
	sw, _ := m.text("Software")
	exifSW, _ := m.text("exif:Software")
	return strings.HasPrefix(sw, "NovelAI") || strings.HasPrefix(exifSW, "NovelAI")
}

// novelAI reads NovelAI's text chunks (or their copies in EXIF
// UserComment): Description is the prompt, Source the model, and Comment
// a JSON object of generation settings, whose "prompt" (V4 and later) is
// preferred to Description because Description can carry padding.
func (m *metadata) novelAI(c *Capture) bool {
	c.Tool = "NovelAI"
	desc, _ := m.text("Description")
	c.Model, _ = m.text("Source")
	c.Prompt = desc
	if t, ok := m.text("Title"); ok {
		c.Params["Title"] = t
	}
	comment, _ := m.text("Comment")
	if obj, ok := jsonObject(comment); ok {
		if p, ok := obj["prompt"]; ok {
			if s, ok := jsonScalar(p); ok {
				c.Prompt = s
				delete(obj, "prompt")
			}
		}
		c.Seed = take(obj, "seed")
		c.Steps = take(obj, "steps")
		c.Guidance = take(obj, "scale")
		c.Sampler = take(obj, "sampler")
		c.NegativePrompt = take(obj, "uc")
		c.Size = size(take(obj, "width"), take(obj, "height"))
		putRest(c.Params, "", obj)
	}
	return true
}

// midjourney reads Midjourney's PNG Description: the prompt as typed, with
// its --flags, then "Job ID: <uuid>"; Author holds the user name. The
// prompt keeps its flags because the user typed them as part of it.
func (m *metadata) midjourney(c *Capture) bool {
	desc, _ := m.text("Description")
	i := strings.LastIndex(desc, "Job ID:")
	if i < 0 {
		return false
	}
	c.Tool = "Midjourney"
	c.JobID = strings.TrimSpace(desc[i+len("Job ID:"):])
	c.Prompt = strings.TrimRight(desc[:i], " \n")
	c.Author, _ = m.text("Author")
	if j := strings.Index(c.Prompt, " --"); j >= 0 {
		var key string
		for _, w := range strings.Fields(c.Prompt[j:]) {
			if strings.HasPrefix(w, "--") {
				key = w
				c.Params[key] = ""
				continue
			}
			if key != "" {
				if c.Params[key] != "" {
					c.Params[key] += " "
				}
				c.Params[key] += w
			}
		}
		c.Seed = c.Params["--seed"]
	}
	return true
}
