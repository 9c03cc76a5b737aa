package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/evidence/capture"
	"github.com/cairn-ledger/cairn/internal/userfile"
)

func cmdImport() *cli.Command {
	return &cli.Command{
		Name:      "import",
		Usage:     "record generated images with the prompt and settings their tool embedded",
		ArgsUsage: "FILE...",
		Description: `import reads the metadata AI tools write into their images and records each
image as a generation step: the image as the output, with the prompt, negative
prompt, model, seed, sampler, steps, guidance, size and tool version where the
file has them. Values read this way are marked as captured from the file, which
is not the same as typed by the designer; the evidence pack shows the difference.

It reads AUTOMATIC1111/Forge (PNG text, JPEG/WebP EXIF UserComment), ComfyUI
(prompt and workflow graphs), InvokeAI (v2 and v3), NovelAI, Fooocus,
Midjourney, XMP (dc:description, Iptc4xmpExt:DigitalSourceType) and C2PA
Content Credentials (JPEG APP11, PNG caBX; detected and summarised, not
validated).

A file without metadata is recorded as a plain output of an unknown tool, and
cairn says so. If any file cannot be read (truncated, malformed), nothing is
recorded and every problem is listed.

Example:
  cairn import ~/Downloads/00012-235284042.png ~/Downloads/ComfyUI_00007_.png`,
		Flags: stepFlags(),
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usageErrorf("give one or more image files: cairn import FILE...")
			}
			files := c.Args().Slice()
			if err := checkFilesExist(files...); err != nil {
				return err
			}
			caps := make([]*capture.Capture, len(files))
			var problems []string
			for i, f := range files {
				cp, err := inspectFile(f)
				if err != nil {
					problems = append(problems, err.Error())
					continue
				}
				caps[i] = cp
			}
			if len(problems) > 0 {
				return usageErrorf("nothing was recorded:\n  %s", strings.Join(problems, "\n  "))
			}
			return recordMany(c, func(b *evidence.Book, asset string) ([]*evidence.Step, []string, error) {
				var steps []*evidence.Step
				var lines []string
				for i, f := range files {
					ref, err := b.Files.Add(f)
					if err != nil {
						return nil, nil, err
					}
					s := evidence.GenerateFromCapture(ref, caps[i])
					steps = append(steps, s)
					lines = append(lines, importSummary(f, s))
				}
				return steps, lines, nil
			})
		},
	}
}

// inspectFile reads a file's embedded metadata. A file that is not an image cairn
// reads metadata from yields nil, like an image without metadata.
func inspectFile(path string) (*capture.Capture, error) {
	f, err := userfile.Open(path, "file to import", -1) // capture bounds what it reads
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cp, err := capture.Inspect(f)
	if errors.Is(err, capture.ErrUnknownFormat) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, strings.TrimPrefix(err.Error(), "capture: "))
	}
	return cp, nil
}

func importSummary(path string, s *evidence.Step) string {
	name := filepath.Base(path)
	if s.Captured == nil {
		return fmt.Sprintf("%s: no generator metadata; recorded as a plain output of an unknown tool", name)
	}
	var parts []string
	parts = append(parts, s.Tool)
	if s.Model != "" {
		parts = append(parts, "model "+safeLine(s.Model, 30))
	}
	if v := s.Captured.Fields["seed"]; v != "" {
		parts = append(parts, "seed "+v)
	}
	if s.Text != "" {
		parts = append(parts, "prompt "+fmt.Sprintf("%q", safeLine(s.Text, 50)))
	}
	if v := s.Captured.Fields["c2pa.claim_generator"]; v != "" {
		parts = append(parts, "C2PA by "+safeLine(v, 40))
	}
	return fmt.Sprintf("%s: %s", name, strings.Join(parts, ", "))
}

func cmdImportChat() *cli.Command {
	return &cli.Command{
		Name:      "import-chat",
		Usage:     "record your prompts from a ChatGPT or Claude conversation export",
		ArgsUsage: "FILE",
		Description: `import-chat reads conversations.json from a ChatGPT or Claude data export and
records your prompts of one conversation, in order, each with the model that
answered and the time the export claims. The record's own timestamp stays the
time of recording; the claimed time is kept beside it, labelled as a claim. For a
branched ChatGPT conversation it takes the branch you last saw.

Choose the conversation with --conversation ID or --title TITLE; --list shows
them.

Example:
  cairn import-chat conversations.json --title "Poster ideas"`,
		Flags: stepFlags(
			&cli.StringFlag{Name: "conversation", Usage: "the conversation's ID"},
			&cli.StringFlag{Name: "title", Usage: "the conversation's title"},
			&cli.BoolFlag{Name: "list", Usage: "list the conversations and record nothing"},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageErrorf("give the export file: cairn import-chat conversations.json --title TITLE")
			}
			path := c.Args().First()
			if err := checkFilesExist(path); err != nil {
				return err
			}
			f, err := userfile.Open(path, "chat export", -1) // capture bounds what it reads
			if err != nil {
				return err
			}
			h := sha256.New()
			convs, err := capture.ReadChatExport(io.TeeReader(f, h))
			f.Close()
			if err != nil {
				return usageErrorf("%s: %v", path, err)
			}
			if c.Bool("list") {
				for _, cv := range convs {
					fmt.Fprintf(c.App.Writer, "%s  %-40s %d prompt(s) (%s)\n", cv.ID, safeLine(cv.Title, 40), len(cv.Prompts), cv.Source)
				}
				return nil
			}
			key := c.String("conversation")
			if key == "" {
				key = c.String("title")
			}
			var conv *capture.Conversation
			switch {
			case key != "":
				if conv, err = capture.SelectConversation(convs, key); err != nil {
					return usageErrorf("%v", err)
				}
			case len(convs) == 1:
				conv = &convs[0]
			default:
				return usageErrorf("%s holds %d conversations; choose one with --title or --conversation (see --list)", path, len(convs))
			}
			steps := evidence.PromptsFromChat(conv, filepath.Base(path), hex.EncodeToString(h.Sum(nil)))
			if len(steps) == 0 {
				return usageErrorf("conversation %q has no prompts of yours to record", conv.Title)
			}
			return recordMany(c, func(b *evidence.Book, asset string) ([]*evidence.Step, []string, error) {
				lines := make([]string, len(steps))
				for i, s := range steps {
					claimed := "no time in the export"
					if s.Captured.ClaimedTime != "" {
						claimed = "export claims " + s.Captured.ClaimedTime
					}
					lines[i] = fmt.Sprintf("%q (%s, %s)", safeLine(s.Text, 50), conv.Source, claimed)
				}
				return steps, lines, nil
			})
		},
	}
}
