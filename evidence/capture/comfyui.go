package capture

import (
	"bytes"
	"encoding/json"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// ComfyUI stores two graphs: "prompt", the API graph that was executed
// (node id -> {class_type, inputs}), and "workflow", the editor's graph.
// Generation values are read from the API graph: find the sampler node,
// then follow its inputs. An input is either a value or a link
// [nodeId, outputIndex] to the node that produces it.

type comfyNode struct {
	ClassType string                     `json:"class_type"`
	Inputs    map[string]json.RawMessage `json:"inputs"`
}

type comfyGraph map[string]comfyNode

// maxComfyHops bounds how many links are followed in a chain, and
// maxComfyVisits how many nodes are visited to resolve one value: a graph
// whose nodes link to each other many times over must not make the search
// exponential.
const (
	maxComfyHops   = 32
	maxComfyVisits = 1000
)

// comfySamplers are the node classes that sample; others are recognised
// by name (custom nodes usually have "Sampler" in theirs).
var comfySamplers = map[string]bool{
	"KSampler":              true,
	"KSamplerAdvanced":      true,
	"SamplerCustom":         true,
	"SamplerCustomAdvanced": true,
}

// parseComfyGraph decodes an API graph. ok is false if text is not one.
func parseComfyGraph(text string) (comfyGraph, bool) {
	var g comfyGraph
	d := json.NewDecoder(strings.NewReader(text))
	d.UseNumber()
	if err := d.Decode(&g); err != nil || len(g) == 0 {
		return nil, false
	}
	for _, n := range g {
		if n.ClassType == "" {
			return nil, false
		}
	}
	return g, true
}

// samplerNodes returns the ids of sampling nodes, in numeric id order, so
// that the choice among several (a hires-fix second pass, say) is stable.
func (g comfyGraph) samplerNodes() []string {
	var ids []string
	for id, n := range g {
		if comfySamplers[n.ClassType] || strings.HasPrefix(n.ClassType, "KSampler") {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return nodeLess(ids[i], ids[j]) })
	return ids
}

// nodeLess orders node ids numerically where they are numbers.
func nodeLess(x, y string) bool {
	a, errA := strconv.Atoi(x)
	b, errB := strconv.Atoi(y)
	if errA == nil && errB == nil && a != b {
		return a < b
	}
	return x < y
}

// valueKeys name the inputs that carry a value on nodes that only pass one
// on (primitives, string and seed nodes).
var valueKeys = []string{"value", "seed", "noise_seed", "int", "number", "string", "text", "Text"}

// find resolves a value starting at node id: the first of want that the
// node has, following a link if it is one, else the first of via that is a
// link, searched the same way. It returns the exact text of a scalar.
func (w *comfyWalk) find(id string, want, via []string, hops int) (string, bool) {
	n, ok := w.g[id]
	w.visits++
	if !ok || hops > maxComfyHops || w.visits > maxComfyVisits {
		return "", false
	}
	// A zeroed conditioning carries no text: do not report the prompt
	// it was computed from as the negative prompt.
	if n.ClassType == "ConditioningZeroOut" {
		return "", false
	}
	for _, k := range want {
		raw, ok := n.Inputs[k]
		if !ok {
			continue
		}
		if to, ok := comfyLink(raw); ok {
			if v, ok := w.find(to, appendNew(want, valueKeys), via, hops+1); ok {
				return v, true
			}
			continue
		}
		if v, ok := jsonScalar(raw); ok {
			return v, true
		}
	}
	for _, k := range via {
		if to, ok := comfyLink(n.Inputs[k]); ok {
			if v, ok := w.find(to, want, via, hops+1); ok {
				return v, true
			}
		}
	}
	return "", false
}

// comfyWalk resolves values in a graph, counting the nodes it visits.
type comfyWalk struct {
	g      comfyGraph
	visits int
}

// appendNew returns a copy of a with the elements of b it lacks appended.
func appendNew(a, b []string) []string {
	out := a[:len(a):len(a)]
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// comfyLink reports whether raw is a link ["id", index] and returns the id.
func comfyLink(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '[' {
		return "", false
	}
	var link []json.RawMessage
	if json.Unmarshal(raw, &link) != nil || len(link) != 2 {
		return "", false
	}
	var id string
	if json.Unmarshal(link[0], &id) == nil {
		return id, true
	}
	var num json.Number
	if json.Unmarshal(link[0], &num) == nil {
		return num.String(), true
	}
	return "", false
}

// jsonScalar returns the exact text of a JSON string, number or boolean.
func jsonScalar(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", false
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", false
		}
		return s, true
	case '[', '{':
		return "", false
	}
	if string(raw) == "null" {
		return "", false
	}
	return string(raw), true
}

// readComfyUI fills c from an API graph.
func readComfyUI(c *Capture, g comfyGraph) {
	c.InputImages = g.loadedImages()
	samplers := g.samplerNodes()
	if len(samplers) == 0 {
		return
	}
	s := samplers[0]
	c.Params["sampler_node"] = s
	if len(samplers) > 1 {
		c.Params["sampler_nodes"] = strings.Join(samplers, ",")
	}
	text := []string{"text", "text_g", "string", "value", "prompt"}
	cond := []string{"conditioning", "conditioning_1", "conditioning_to", "clip_vision_output"}
	find := func(want, via []string) (string, bool) {
		w := &comfyWalk{g: g}
		return w.find(s, want, via, 0)
	}
	findVia := func(first, want, via []string) (string, bool) {
		w := &comfyWalk{g: g}
		return w.findVia(s, first, want, via, 0)
	}
	// BasicGuider has one "conditioning" input: the positive prompt.
	c.Prompt, _ = findVia([]string{"positive", "conditioning"}, text, cond)
	c.NegativePrompt, _ = findVia([]string{"negative"}, text, cond)
	c.Seed, _ = find([]string{"seed", "noise_seed"}, []string{"noise"})
	c.Steps, _ = find([]string{"steps"}, []string{"sigmas"})
	c.Guidance, _ = find([]string{"cfg"}, []string{"guider"})
	c.Sampler, _ = find([]string{"sampler_name"}, []string{"sampler"})
	if v, ok := find([]string{"scheduler"}, []string{"sigmas"}); ok {
		c.Params["scheduler"] = v
	}
	if v, ok := find([]string{"denoise"}, []string{"sigmas"}); ok {
		c.Params["denoise"] = v
	}
	c.Model, _ = find([]string{"ckpt_name", "unet_name", "model_name"}, []string{"model", "guider"})
	if w, ok := find([]string{"width"}, []string{"latent_image"}); ok {
		if h, ok := find([]string{"height"}, []string{"latent_image"}); ok {
			c.Size = w + "x" + h
		}
	}
}

// findVia follows the first of first (directly, or through a guider node)
// to a conditioning node, then finds its text through conditioning links.
func (w *comfyWalk) findVia(id string, first, want, via []string, hops int) (string, bool) {
	n, ok := w.g[id]
	w.visits++
	if !ok || hops > maxComfyHops || w.visits > maxComfyVisits {
		return "", false
	}
	for _, k := range first {
		if to, ok := comfyLink(n.Inputs[k]); ok {
			return w.find(to, want, via, hops+1)
		}
	}
	if to, ok := comfyLink(n.Inputs["guider"]); ok {
		return w.findVia(to, first, want, via, hops+1)
	}
	return "", false
}

// loadedImages lists the file names LoadImage nodes read (image-to-image,
// inpainting, ControlNet inputs), in node order: the graph's own statement of
// the images it started from.
func (g comfyGraph) loadedImages() []string {
	ids := make([]string, 0, len(g))
	for id, n := range g {
		if strings.HasPrefix(n.ClassType, "LoadImage") {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return nodeLess(ids[i], ids[j]) })
	var out []string
	for _, id := range ids {
		if name, ok := jsonScalar(g[id].Inputs["image"]); ok && name != "" && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}
