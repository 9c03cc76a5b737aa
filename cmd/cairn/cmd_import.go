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
		Usage:     "record images with the prompt, settings and credentials their tools embedded",
		ArgsUsage: "FILE...",
		Description: `import reads the metadata AI tools write into their images and records each
image as what that metadata says it is, with the prompt, negative prompt,
model, seed, sampler, steps, guidance, size and tool version where the file has
them. Values read this way are marked as captured from the file, which is not
the same as typed by the designer; the evidence pack shows the difference.

  - A generator's record (AUTOMATIC1111/Forge, ComfyUI, InvokeAI, NovelAI,
    Fooocus, Midjourney) is a generation. The images of one Midjourney job
    (the same job ID and prompt) imported together are one generation with
    every image as a candidate.
  - Content Credentials (C2PA) name the tool from their claim generator (Adobe
    Photoshop, Adobe Firefly, OpenAI, ...) and are recorded as their actions
    say: c2pa.created is a generation; a file opened and edited is an edit of
    the file it began from, AI-assisted if an action states AI content (a
    Photoshop generative fill). That earlier file is the one given with --in,
    or the recorded file the credentials name as their ingredient.
  - A file without metadata, or whose metadata does not say what made it, is
    recorded as a file of unknown origin: counted neither as human work nor as
    AI output.

--in FILE names the file an image was made from: the source of a variation,
or, for an edit, the file it began from (repeat --in for files it placed in
it). Without --in, an input the file's own record names (a ComfyUI LoadImage,
a C2PA ingredient) is linked when this asset's records hold it.

A file that is already recorded (the same SHA-256, in any asset) is not
recorded again; cairn says where it is. --again records it anyway. If any file
cannot be read (truncated, malformed), nothing is recorded and every problem is
listed.

Examples:
  cairn import ~/Downloads/00012-235284042.png ~/Downloads/ComfyUI_00007_.png
  cairn import mira_fox_*_0.png mira_fox_*_1.png mira_fox_*_2.png mira_fox_*_3.png
  cairn import fox-var-*.png --in fox-3.png          # variations of fox-3.png
  cairn import poster-ps.jpg --in poster-draft.png    # a Photoshop export with Content Credentials`,
		Flags: stepFlags(
			&cli.StringSliceFlag{Name: "in", Usage: "the file these were made from (repeatable)"},
			&cli.BoolFlag{Name: "again", Usage: "record files that are already recorded once more"},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usageErrorf("give one or more image files: cairn import FILE...")
			}
			files, ins := c.Args().Slice(), c.StringSlice("in")
			if err := checkFilesExist(append(files, ins...)...); err != nil {
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
				in, err := addFiles(b, ins)
				if err != nil {
					return nil, nil, err
				}
				imported, err := newImports(c, b, files, caps)
				if err != nil {
					return nil, nil, err
				}
				known, err := knownFiles(b, asset)
				if err != nil {
					return nil, nil, err
				}
				steps, lines := evidence.ImportSteps(imported, in, known)
				return steps, lines, nil
			})
		},
	}
}

// newImports stores the files and pairs them with their metadata, leaving out
// (and saying so) those already recorded, unless --again.
func newImports(c *cli.Context, b *evidence.Book, files []string, caps []*capture.Capture) ([]evidence.Imported, error) {
	recorded, err := b.RecordedFiles()
	if err != nil {
		return nil, err
	}
	var out []evidence.Imported
	seen := map[string]bool{}
	for i, f := range files {
		ref, err := b.Files.Add(f)
		if err != nil {
			return nil, err
		}
		if seen[ref.SHA256] {
			continue // the same file named twice
		}
		seen[ref.SHA256] = true
		if sr, ok := recorded[ref.SHA256]; ok && !c.Bool("again") {
			fmt.Fprintf(c.App.Writer, "%s is already recorded (record #%d, %s for asset %s); nothing recorded for it (record it again with --again)\n",
				filepath.Base(f), sr.Rec.Seq, sr.Step.Kind, sr.Step.Asset)
			continue
		}
		out = append(out, evidence.Imported{Ref: ref, Capture: caps[i]})
	}
	return out, nil
}

// knownFiles is what an import into the asset can be linked to.
func knownFiles(b *evidence.Book, asset string) (*evidence.Known, error) {
	steps, _, err := b.AssetSteps(asset)
	if err != nil {
		return nil, err
	}
	return evidence.KnownFiles(evidence.NewHistory(asset, steps)), nil
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

func cmdImportChat() *cli.Command {
	return &cli.Command{
		Name:      "import-chat",
		Usage:     "record a ChatGPT or Claude conversation: your prompts and the assistant's replies",
		ArgsUsage: "FILE",
		Description: `import-chat reads conversations.json from a ChatGPT or Claude data export and
records one conversation, in order: your messages as prompts written by you
(by human), the assistant's replies as text written by an AI (by ai), each
with the model and the time the export claims. A prompt you worked out with
the chatbot then shows both halves: what it suggested and what you wrote.
--user-only leaves the replies out. The record's own timestamp stays the time
of recording; the claimed time is kept beside it, labelled as a claim. For a
branched ChatGPT conversation it takes the branch you last saw.

Choose the conversation with --conversation ID or --title TITLE; --list shows
them.

Example:
  cairn import-chat conversations.json --title "Poster ideas"`,
		Flags: stepFlags(
			&cli.StringFlag{Name: "conversation", Usage: "the conversation's ID"},
			&cli.StringFlag{Name: "title", Usage: "the conversation's title"},
			&cli.BoolFlag{Name: "list", Usage: "list the conversations and record nothing"},
			&cli.BoolFlag{Name: "user-only", Usage: "record only your own messages, not the assistant's replies"},
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
					fmt.Fprintf(c.App.Writer, "%s  %-40s %s, %s (%s)\n", cv.ID, safeLine(cv.Title, 40), evidence.Plural(len(cv.Prompts), "prompt", "prompts"),
						evidence.Plural(len(cv.Messages)-len(cv.Prompts), "reply", "replies"), cv.Source)
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
			steps := evidence.PromptsFromChat(conv, filepath.Base(path), hex.EncodeToString(h.Sum(nil)), c.Bool("user-only"))
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
					who := "yours"
					if s.By == evidence.ActorAI {
						who = "the assistant's reply, written by an AI"
					}
					lines[i] = fmt.Sprintf("%q (%s; %s, %s)", safeLine(s.Text, 50), who, conv.Source, claimed)
				}
				return steps, lines, nil
			})
		},
	}
}
