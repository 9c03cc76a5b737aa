package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/export"
	"github.com/cairn-ledger/cairn/internal/msg"
)

func cmdLabel() *cli.Command {
	return &cli.Command{
		Name:      "label",
		Usage:     "say how a work must be labelled for AI (EU AI Act art. 50), with an XMP sidecar",
		ArgsUsage: "[ASSET]",
		Description: `label derives, from what was recorded, how much of the work an AI made and
prints the disclosure to show with it, and why. It follows the final file back
through the steps that made it (an edit's file before and the files it placed,
a generation's inputs), and takes the file's own Content Credentials into
account:

  Generated with AI             the final work is AI output no human step changed
  Made with the help of AI, edited by a human
                                AI made the base; a human changed it by hand or
                                added their own material
  Made with AI, edited with AI tools under human direction
                                AI made the base and the changes (generative
                                fill, inpainting), a human directed them
  Made with the help of AI: human work with AI elements
                                it began with the author's sketch; AI added to it
  Contains AI-generated elements
                                AI output on material whose origin is not recorded
  Made without generative AI    no AI output in its making, none recorded at all
  AI use not established        cairn cannot tell: part of it is of unknown
                                origin, or AI output is recorded for the asset
                                that the record does not link to the final file

--xmp FILE writes an XMP sidecar with the IPTC digital source type, the label
as dc:description (English as x-default, and --lang) and the text-and-data-
mining reservation (plus:DataMining): prohibited unless the asset was recorded
with --tdm allowed, because EU law lets miners in unless the rights holder
opts out in a machine-readable way. Put it next to the file with the same base
name (poster.png -> poster.xmp), or merge it: exiftool -tagsfromfile poster.xmp poster.png

With --lang nl (or the setting lang nl) everything label prints is Dutch, and
the XMP carries the Dutch text beside the English x-default.

ASSET defaults to the current asset (cairn use).

Examples:
  cairn label poster
  cairn label poster --lang nl --xmp poster.xmp
  cairn label poster --json`,
		Flags: []cli.Flag{
			dirFlag(),
			langFlag("write the label"),
			&cli.StringFlag{Name: "xmp", Usage: "write an XMP sidecar to this file"},
			jsonFlag("print the disclosure as JSON"),
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return usageErrorf("label takes at most one asset (got %d arguments)", c.NArg())
			}
			if _, err := language(c, nil); err != nil {
				return err
			}
			b, err := openBook(c)
			if err != nil {
				return err
			}
			defer b.Close()
			cfg, m, err := settings(c, b)
			if err != nil {
				return err
			}
			asset := c.Args().First()
			if asset == "" {
				if cfg.Asset == "" {
					return usageErrorf("which asset? Give it as an argument (cairn label ASSET), or choose one with: cairn use ID")
				}
				asset = cfg.Asset
			}
			// From the signed records, never the cache.
			v, err := b.ViewAsset(asset)
			if err != nil {
				return err
			}
			d, err := evidence.Disclose(v.Info, v.Steps, m.Code)
			if err != nil {
				return err
			}
			if p := c.String("xmp"); p != "" {
				if fi, err := os.Stat(p); err == nil && fi.IsDir() {
					return usageErrorf("--xmp %s is a directory; give a file name such as %s.xmp", p, asset)
				}
				if err := writeFileAtomic(p, d.XMP()); err != nil {
					return fmt.Errorf("writing %s: %w", p, err)
				}
			}
			if c.Bool("json") {
				return printJSON(c.App.Writer, d)
			}
			w, l := c.App.Writer, &m.Label
			fmt.Fprintln(w, d.Label)
			fmt.Fprintln(w, d.Explanation)
			tdm := msg.Name(m.TDM, d.TDM)
			if !d.TDMRecorded {
				tdm = l.TDMDefault.F(tdm)
			}
			if d.DigitalSourceType == "" {
				fmt.Fprintln(w, l.SourceUnknown)
			} else {
				fmt.Fprintln(w, l.SourceType.F(d.DigitalSourceType))
			}
			fmt.Fprintln(w, l.DataMining.F(tdm))
			if p := c.String("xmp"); p != "" {
				fmt.Fprintln(w, l.Wrote.F(p))
			}
			return nil
		},
	}
}

// prepareC2PA is cairn export --c2pa DIR: the C2PA manifest definition of the
// asset's final file, for c2patool or a C2PA SDK to sign onto it. It returns
// the function that writes it, for the export to call once nothing else can
// fail: an export that fails writes no manifest.
func prepareC2PA(c *cli.Context, b *evidence.Book, id *evidence.Identity, asset, dir string) (write func() error, err error) {
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return nil, usageErrorf("--c2pa %s is a file; give a directory for manifest.json and its resources", dir)
	}
	def, err := export.C2PA(b, id.Key, asset, export.C2PAOptions{RedactPrompts: c.Bool("redact-prompts"), Version: version})
	if err != nil {
		return nil, err
	}
	return func() error { return writeC2PA(c, b, def, dir) }, nil
}

func writeC2PA(c *cli.Context, b *evidence.Book, def *export.C2PADefinition, dir string) error {
	if err := def.WriteDir(dir); err != nil {
		return fmt.Errorf("writing %s: %w", dir, err)
	}
	p, _ := b.Files.Path(def.Final.SHA256)
	fmt.Fprintf(c.App.Writer, "wrote %s: C2PA manifest definition for %s (sha256 %s) and %s\n",
		filepath.Join(dir, "manifest.json"), def.Final.Name, def.Final.Short(), evidence.Plural(len(def.Resources), "resource", "resources"))
	if def.Parent == nil {
		fmt.Fprintf(c.App.Writer, "sign it with your C2PA certificate, for example: c2patool %s -m %s -o signed-%s\n",
			shortPath(p), filepath.Join(dir, "manifest.json"), def.Final.Name)
		return nil
	}
	fmt.Fprintf(c.App.Writer, "%s has Content Credentials of its own: %s is their parentOf ingredient. Add it from the final file itself when you sign\n"+
		"(a C2PA SDK: Builder.addIngredient(the JSON of %s, the final file)), so that the new manifest keeps their chain;\n"+
		"a signer that does not add it stops with \"ingredientId not found: %s\" rather than dropping them\n",
		def.Final.Name, filepath.Join(dir, export.C2PAParentFile), export.C2PAParentFile, export.C2PAParentLabel)
	return nil
}
