package main

import (
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cairn-ledger/cairn/evidence"
)

// Flags shared by the step commands.
func stepFlags(extra ...cli.Flag) []cli.Flag {
	return append([]cli.Flag{dirFlag(), assetFlag(), jsonFlag("print the recorded step as JSON")}, extra...)
}

func toolFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "tool", Usage: "the tool used (midjourney, chatgpt, photoshop, comfyui, ...)"},
		&cli.StringFlag{Name: "model", Usage: "the model or version used"},
		&cli.StringSliceFlag{Name: "param", Usage: "a setting as name=value (repeatable): seed, steps, guidance, size, ..."},
	}
}

func cmdPrompt() *cli.Command {
	return &cli.Command{
		Name:      "prompt",
		Usage:     "record a prompt, exactly as written",
		ArgsUsage: "TEXT | -",
		Description: `prompt records the text you gave an AI tool. Put it in quotes, or give - to
read it from standard input (for long or multi-line prompts). Any Unicode is kept
exactly; invalid UTF-8 is refused.

--by says who wrote it: human (default), ai (for example a prompt a chatbot
wrote for you), or both (co-written).

Examples:
  cairn prompt "a fox in the snow, woodcut style" --tool midjourney --param ar=3:4
  pbpaste | cairn prompt - --tool chatgpt --by both`,
		Flags: stepFlags(append(toolFlags(),
			&cli.StringFlag{Name: "by", Usage: "who wrote it: human, ai or both", Value: evidence.ActorHuman})...),
		Action: func(c *cli.Context) error {
			text, err := readText(c, "prompt")
			if err != nil {
				return err
			}
			params, err := parseParams(c.StringSlice("param"))
			if err != nil {
				return err
			}
			return record(c, func(b *evidence.Book, asset string) (*evidence.Step, error) {
				return &evidence.Step{Kind: evidence.KindPrompt, Text: text, Tool: c.String("tool"), Model: c.String("model"), Params: params, By: c.String("by")}, nil
			})
		},
	}
}

func cmdGenerate() *cli.Command {
	return &cli.Command{
		Name:  "generate",
		Usage: "record what an AI tool generated: every candidate",
		Description: `generate stores every output file (candidate) and records them as one AI
step. Keep all candidates, not only the one you like: the choice among them is
part of your contribution, and cairn select records it.

--in names the images the generation started from (image-to-image, a
variation of a chosen candidate, an init image from your own sketch). --by
says who acted: ai (default), or both when you directed the tool on your own
input. Either way the output is AI-generated content (IPTC
trainedAlgorithmicMedia); your input stays yours.

Examples:
  cairn generate --tool midjourney --model v7 --param seed=42 \
      --out fox-1.png --out fox-2.png --out fox-3.png --out fox-4.png
  cairn generate --tool midjourney --in fox-3.png --out var-1.png --out var-2.png   # variations
  cairn generate --tool comfyui --in my-sketch.png --by both --text "ink wash, same pose" --out wash.png`,
		Flags: stepFlags(append(toolFlags(),
			&cli.StringSliceFlag{Name: "out", Aliases: []string{"o"}, Usage: "an output file (repeatable)"},
			&cli.StringSliceFlag{Name: "in", Usage: "an input file the tool used, such as an init image (repeatable)"},
			&cli.StringFlag{Name: "by", Value: evidence.ActorAI, Usage: "who acted: ai, or both when you directed the tool on your own input"},
			&cli.StringFlag{Name: "text", Usage: "the prompt given for this generation"},
		)...),
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErrorf("generate takes its files with --out (got argument %q); write --out %s", c.Args().First(), c.Args().First())
			}
			outs, ins := c.StringSlice("out"), c.StringSlice("in")
			if len(outs) == 0 {
				return usageErrorf("generate needs at least one output: --out FILE (repeat it for every candidate)")
			}
			if c.String("tool") == "" {
				return usageErrorf("generate needs the tool that made the files: --tool NAME (for example --tool midjourney)")
			}
			if err := checkFilesExist(append(outs, ins...)...); err != nil {
				return err
			}
			params, err := parseParams(c.StringSlice("param"))
			if err != nil {
				return err
			}
			return record(c, func(b *evidence.Book, asset string) (*evidence.Step, error) {
				out, err := addFiles(b, outs)
				if err != nil {
					return nil, err
				}
				in, err := addFiles(b, ins)
				if err != nil {
					return nil, err
				}
				return &evidence.Step{Kind: evidence.KindGenerate, By: c.String("by"), Tool: c.String("tool"), Model: c.String("model"), Params: params, Out: out, In: in, Text: c.String("text")}, nil
			})
		},
	}
}

func cmdSelect() *cli.Command {
	return &cli.Command{
		Name:      "select",
		Usage:     "record which candidate you chose, out of which, and why",
		ArgsUsage: "CHOSEN",
		Description: `select records a human choice: the chosen file and every candidate considered.
The rejected candidates are recorded by hash too. Selection among AI output is
a creative act the US Copyright Office recognises; say why in --why.

Example:
  cairn select fox-3.png --from fox-1.png fox-2.png fox-3.png fox-4.png --why "the fox looks at the viewer"`,
		Flags: stepFlags(
			&cli.StringSliceFlag{Name: "from", Usage: "a candidate (repeatable; files after --from are candidates too)"},
			&cli.StringFlag{Name: "why", Usage: "why this one"},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usageErrorf("give the chosen file: cairn select CHOSEN --from CANDIDATE...")
			}
			chosen := c.Args().First()
			// Extra arguments are candidates: `--from a.png b.png c.png` puts b and c here.
			from := append(c.StringSlice("from"), c.Args().Slice()[1:]...)
			if len(from) < 2 {
				return usageErrorf("select needs the candidates it chose among: --from FILE at least twice")
			}
			if err := checkFilesExist(append([]string{chosen}, from...)...); err != nil {
				return err
			}
			return record(c, func(b *evidence.Book, asset string) (*evidence.Step, error) {
				f, err := addFile(b, chosen)
				if err != nil {
					return nil, err
				}
				fr, err := addFiles(b, from)
				if err != nil {
					return nil, err
				}
				return &evidence.Step{Kind: evidence.KindSelect, File: f, From: fr, Why: c.String("why")}, nil
			})
		},
	}
}

func cmdEdit() *cli.Command {
	return &cli.Command{
		Name:  "edit",
		Usage: "record an edit, with the file before and after, and who made it",
		Description: `edit records a change to the work, with both versions stored. --by says who
made it, and the pack counts each apart:
  human  you, with non-generative tools (painting, retouching, layout): an edit
         by hand (the default)
  both   you directing an AI tool on part of the work: generative fill,
         inpainting, Vary Region, an AI upscaler such as Magnific run on your
         own sketch. The AI made the new content; you chose where and how.
         Give the instruction with --text and the tool and model.
  ai     an AI tool on its own (automatic enhancement you did not steer)

--in names files you placed into the work in this edit (your sketch, a
texture): the record then shows the arrangement.

Examples:
  cairn edit --before fox-3.png --after fox-3-eyes.png --tool krita --note "redrew the eyes"
  cairn edit --before poster.png --after poster-fill.png --by both --tool photoshop \
      --model firefly --text "snow on the branches, top left" --note "kept the fox as it was"
  cairn edit --before var-2.png --after layout.png --in lettering.png --tool affinity --note "placed my lettering"`,
		Flags: stepFlags(
			&cli.StringFlag{Name: "before", Usage: "the file before the edit"},
			&cli.StringFlag{Name: "after", Usage: "the file after the edit"},
			&cli.StringSliceFlag{Name: "in", Usage: "a file placed into the work in this edit (repeatable)"},
			&cli.StringFlag{Name: "by", Value: evidence.ActorHuman, Usage: "who made it: human (by hand), both (you directing an AI tool) or ai"},
			&cli.StringFlag{Name: "tool", Usage: "the tool used"},
			&cli.StringFlag{Name: "model", Usage: "the AI model, for an AI-assisted edit"},
			&cli.StringSliceFlag{Name: "param", Usage: "a setting as name=value (repeatable)"},
			&cli.StringFlag{Name: "text", Usage: "the instruction or prompt given to the AI tool"},
			&cli.StringFlag{Name: "note", Usage: "what you changed"},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErrorf("edit takes its files with --before and --after (got argument %q)", c.Args().First())
			}
			before, after, ins := c.String("before"), c.String("after"), c.StringSlice("in")
			if before == "" || after == "" {
				return usageErrorf("edit needs both --before FILE and --after FILE")
			}
			if err := checkFilesExist(append([]string{before, after}, ins...)...); err != nil {
				return err
			}
			params, err := parseParams(c.StringSlice("param"))
			if err != nil {
				return err
			}
			return record(c, func(b *evidence.Book, asset string) (*evidence.Step, error) {
				bf, err := addFile(b, before)
				if err != nil {
					return nil, err
				}
				af, err := addFile(b, after)
				if err != nil {
					return nil, err
				}
				in, err := addFiles(b, ins)
				if err != nil {
					return nil, err
				}
				if len(in) == 0 {
					in = nil
				}
				return &evidence.Step{Kind: evidence.KindEdit, By: c.String("by"), Before: bf, After: af, In: in, Tool: c.String("tool"),
					Model: c.String("model"), Params: params, Text: c.String("text"), Note: c.String("note")}, nil
			})
		},
	}
}

// fileStep builds the commands that record one file: sketch, input, final.
func fileStep(kind, usage, desc string, extra []cli.Flag, fill func(c *cli.Context, s *evidence.Step) error) *cli.Command {
	return &cli.Command{
		Name:        kind,
		Usage:       usage,
		ArgsUsage:   "FILE",
		Description: desc,
		Flags:       stepFlags(extra...),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageErrorf("%s takes one FILE (got %d arguments)", kind, c.NArg())
			}
			path := c.Args().First()
			if err := checkFilesExist(path); err != nil {
				return err
			}
			s := &evidence.Step{Kind: kind}
			if err := fill(c, s); err != nil {
				return err
			}
			return record(c, func(b *evidence.Book, asset string) (*evidence.Step, error) {
				f, err := addFile(b, path)
				if err != nil {
					return nil, err
				}
				s.File = f
				return s, nil
			})
		},
	}
}

func cmdSketch() *cli.Command {
	return fileStep(evidence.KindSketch, "record your own drawing or material, added to the work",
		`sketch records expressive material of your own: a drawing, a photo you took,
a layout. Where it stays visible in the final work, it is yours in the full
sense, and the pack says so.

Example:
  cairn sketch fox-pencil.jpg --note "pencil sketch used as the init image"`,
		[]cli.Flag{&cli.StringFlag{Name: "note", Usage: "what it is and how it was used"}},
		func(c *cli.Context, s *evidence.Step) error { s.Note = c.String("note"); return nil })
}

func cmdInput() *cli.Command {
	return fileStep(evidence.KindInput, "record third-party material you used, with its source and licence",
		`input records material that is not yours: a photo, a texture, a reference
image, a font. Feeding someone else's protected work into a tool needs their
permission; say what you have with --permission:
  granted        the rights holder allowed this use
  licensed       used under a licence (give it with --license)
  public-domain  no rights apply
  own            it is yours after all
  unknown        not known yet (the pack flags it)
Say how you used it with --use: component (it is part of the work) or
reference (you looked at it, or gave it to a tool as a reference). The C2PA
manifest lists only components as components of the work.

Examples:
  cairn input texture.jpg --source https://example.com/t/123 --license CC-BY-4.0 --permission licensed --use component
  cairn input mood-board.jpg --source "Pinterest board" --permission unknown --use reference`,
		[]cli.Flag{
			&cli.StringFlag{Name: "source", Usage: "where it came from (a URL or a description)"},
			&cli.StringFlag{Name: "license", Usage: "its licence (an SPDX id such as CC-BY-4.0, or text)"},
			&cli.StringFlag{Name: "permission", Usage: "granted, licensed, public-domain, own or unknown", Value: "unknown"},
			&cli.StringFlag{Name: "use", Usage: "component (part of the work) or reference (looked at, or given to a tool as a reference; not part of the work)"},
			&cli.StringFlag{Name: "note", Usage: "how it was used"},
		},
		func(c *cli.Context, s *evidence.Step) error {
			s.Source, s.License, s.Permission, s.Note, s.Use = c.String("source"), c.String("license"), c.String("permission"), c.String("note"), c.String("use")
			for _, p := range evidence.Permissions {
				if p == s.Permission {
					return nil
				}
			}
			return usageErrorf("--permission %q is not one of %s", s.Permission, strings.Join(evidence.Permissions, ", "))
		})
}

func cmdFinal() *cli.Command {
	return fileStep(evidence.KindFinal, "declare the finished work",
		`final records the file you deliver as the finished work. The evidence pack
shows it on its cover with its SHA-256.

Example:
  cairn final poster-final.png`,
		[]cli.Flag{&cli.StringFlag{Name: "note", Usage: "a remark"}},
		func(c *cli.Context, s *evidence.Step) error { s.Note = c.String("note"); return nil })
}

func cmdNote() *cli.Command {
	return &cli.Command{
		Name:      "note",
		Usage:     "record a note: a decision, a reason, an idea",
		ArgsUsage: "TEXT | -",
		Description: `Example:
  cairn note "chose the warmer palette after the client call"`,
		Flags: stepFlags(),
		Action: func(c *cli.Context) error {
			text, err := readText(c, "note")
			if err != nil {
				return err
			}
			return record(c, func(b *evidence.Book, asset string) (*evidence.Step, error) {
				return &evidence.Step{Kind: evidence.KindNote, Text: text}, nil
			})
		},
	}
}

func cmdDisclose() *cli.Command {
	return &cli.Command{
		Name:  "disclose",
		Usage: "record the first public disclosure (starts design-right deadlines)",
		Description: `disclose records when and where the work was first made public. In the EU an
unregistered design lives 3 years from first disclosure, and a registration
filed within 12 months of your own disclosure is not harmed by it. The pack
computes both dates from the earliest disclosure recorded, and lists every one.

A date that has not come yet is refused (record a disclosure when it has
happened). A date earlier than the asset's first record is kept, and the pack
marks it as declared: the ledger cannot confirm it.

Examples:
  cairn disclose --where "studio-noord.example/work/winterfest"      # today
  cairn disclose --date 2026-11-20 --where "Dutch Design Week, Eindhoven"`,
		Flags: stepFlags(
			&cli.StringFlag{Name: "date", Usage: "the date, YYYY-MM-DD (default: today)"},
			&cli.StringFlag{Name: "where", Usage: "where or how (an event, a URL, a publication)"},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErrorf("disclose takes --date and --where, not arguments (got %q)", c.Args().First())
			}
			date := c.String("date")
			if date == "" {
				date = time.Now().Format("2006-01-02")
			}
			if _, err := time.Parse("2006-01-02", date); err != nil {
				return usageErrorf("--date %q is not a date; write YYYY-MM-DD", date)
			}
			return record(c, func(b *evidence.Book, asset string) (*evidence.Step, error) {
				return &evidence.Step{Kind: evidence.KindDisclose, Date: date, Where: c.String("where")}, nil
			})
		},
	}
}
