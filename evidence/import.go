package evidence

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/cairn-ledger/cairn/evidence/capture"
)

// UnknownTool is the tool of a file recorded without any metadata. Such a file is
// counted as AI output: when its origin is unknown, the account claims less human
// authorship, never more.
const UnknownTool = "unknown (no metadata)"

// GenerateFromCapture builds the generation step for an imported file: the file as
// the output, and what the tool's own metadata says in Captured. Values the
// metadata gives are copied into the step's fields too (prompt, tool, model), and
// Captured.From says they were read, not typed. c may be nil: the file is then a
// plain output.
func GenerateFromCapture(file FileRef, c *capture.Capture) *Step {
	s := &Step{Kind: KindGenerate, By: ActorAI, Out: []FileRef{file}}
	if c == nil || isEmptyCapture(c) {
		s.Tool = UnknownTool
		return s
	}
	s.Tool = c.Tool
	if s.Tool == "" {
		s.Tool = "unknown"
	}
	s.Model = c.Model
	s.Text = c.Prompt
	fields := map[string]string{}
	set := func(k, v string) {
		if v != "" {
			fields[k] = v
		}
	}
	set("tool", c.Tool)
	set("tool_version", c.ToolVersion)
	set("prompt", c.Prompt)
	set("negative_prompt", c.NegativePrompt)
	set("model", c.Model)
	set("seed", c.Seed)
	set("sampler", c.Sampler)
	set("steps", c.Steps)
	set("guidance", c.Guidance)
	set("size", c.Size)
	set("job_id", c.JobID)
	set("author", c.Author)
	set("description", c.Description)
	set("digital_source_type", c.DigitalSourceType)
	for k, v := range c.Params {
		set("param."+k, v)
	}
	if c.C2PA != nil {
		set("c2pa.container", c.C2PA.Container)
		set("c2pa.manifest_sha256", c.C2PA.ManifestSHA256)
		set("c2pa.claim_generator", c.C2PA.ClaimGenerator)
		set("c2pa.digital_source_type", c.C2PA.DigitalSourceType)
		var acts []string
		for _, a := range c.C2PA.Actions {
			x := a.Action
			if a.SoftwareAgent != "" {
				x += " by " + a.SoftwareAgent
			}
			acts = append(acts, x)
		}
		set("c2pa.actions", strings.Join(acts, "; "))
	}
	var from []string
	for _, src := range c.Sources {
		from = append(from, strings.TrimSpace(src.Container+" "+src.Key))
		set("source."+src.Container+" "+src.Key+".sha256", src.SHA256)
	}
	for k, v := range fields {
		if len(v) > 64<<10 {
			fields[k] = v[:64<<10]
		}
	}
	s.Captured = &Captured{From: metadataFrom(c.Tool, from), Fields: fields}
	// The human did not act here; a C2PA or XMP source type may say otherwise
	// (for example humanEdits), and then the step keeps it.
	if c.DigitalSourceType != "" && !strings.Contains(c.DigitalSourceType, "trainedAlgorithmic") && !strings.Contains(c.DigitalSourceType, "algorithmicMedia") {
		s.By = ActorBoth
	}
	return s
}

func isEmptyCapture(c *capture.Capture) bool {
	return c.Tool == "" && c.Prompt == "" && c.Model == "" && c.Seed == "" && c.C2PA == nil &&
		c.DigitalSourceType == "" && c.Description == "" && len(c.Params) == 0
}

func metadataFrom(tool string, carriers []string) string {
	sort.Strings(carriers)
	uniq := carriers[:0]
	for i, c := range carriers {
		if i == 0 || c != carriers[i-1] {
			uniq = append(uniq, c)
		}
	}
	if tool == "" {
		tool = "embedded"
	}
	return fmt.Sprintf("%s metadata in the file (%s)", tool, strings.Join(uniq, ", "))
}

// PromptsFromChat builds the prompt steps of one chat conversation, in order. The
// record's own time stays the time of recording; the time the export claims is
// kept in Captured.ClaimedTime.
func PromptsFromChat(conv *capture.Conversation, exportName string, exportSHA256 string) []*Step {
	var out []*Step
	tool := conv.Source
	for i, p := range conv.Prompts {
		if strings.TrimSpace(p.Text) == "" {
			continue
		}
		fields := map[string]string{
			"conversation_id":    conv.ID,
			"conversation_title": conv.Title,
			"message_id":         p.MessageID,
			"position":           fmt.Sprint(i + 1),
			"export_file":        exportName,
			"export_sha256":      exportSHA256,
		}
		if p.SkippedParts > 0 {
			fields["skipped_parts"] = fmt.Sprint(p.SkippedParts)
		}
		c := &Captured{From: fmt.Sprintf("%s chat export %s", conv.Source, exportName), Fields: fields}
		if !p.ClaimedTime.IsZero() {
			c.ClaimedTime = p.ClaimedTime.UTC().Format(time.RFC3339Nano)
		}
		out = append(out, &Step{Kind: KindPrompt, By: ActorHuman, Text: p.Text, Tool: tool, Model: p.Model, Captured: c})
	}
	return out
}
