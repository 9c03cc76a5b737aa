package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/export"
	"github.com/cairn-ledger/cairn/internal/tmpfile"
)

func cmdExport() *cli.Command {
	return &cli.Command{
		Name:      "export",
		Usage:     "write the signed PDF evidence pack of one asset",
		ArgsUsage: "[ASSET]",
		Description: `export writes a PDF that tells the story of one asset for people who have never
heard of hashes: who holds the rights, what the human did and what the AI made
(with draft wording for a copyright registration), every step with its full
text and pictures, the third-party inputs, and how to check it all.

The exact signed records of the asset, with proofs that they are in the ledger,
are attached as evidence.json; --with-files attaches the stored files too. The
pack is anchored to a checkpoint of the whole ledger (signed now and stored, or
the newest one if it already covers everything), and the PDF is signed with
your key. Only this asset is in the pack: other assets appear only as hashes.

The pack is written in English or Dutch (--lang nl: every sentence in Dutch,
for a Dutch court or IP lawyer; what people typed stays as typed). Times are
shown in UTC, and with --tz, or in a Dutch pack, also in the designer's time
zone (Europe/Amsterdam unless --tz or the setting tz says otherwise). A
studio sets its defaults once: cairn config lang nl; cairn config tz Europe/Amsterdam.

Everything people type is drawn, emoji too (as outlines from the Noto Emoji
font built into cairn). CJK and other scripts the built-in fonts lack are
drawn with a TrueType font from the machine: one named with cairn config
--user font FILE.ttf, or one fontconfig finds; without one, such a character
is shown as [U+XXXX]. The exact text is always in evidence.json.

ASSET defaults to the current asset (cairn use).

Examples:
  cairn export poster -o poster.pdf
  cairn export poster -o poster-nl.pdf --lang nl
  cairn export poster -o poster.pdf --tz America/New_York
  cairn export poster --archive mira-ledger.tar -o poster.pdf

Check a pack with:
  cairn verify-pack FILE.pdf`,
		Flags: []cli.Flag{
			dirFlag(),
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "the PDF file to write (required)"},
			&cli.BoolFlag{Name: "with-files", Usage: "also embed the stored files the steps refer to"},
			&cli.StringFlag{Name: "c2pa", Usage: "also write a C2PA manifest definition for the final file into this directory"},
			&cli.BoolFlag{Name: "redact-prompts", Usage: "with --c2pa: put only the prompts' SHA-256 in the manifest, not their text"},
			&cli.StringFlag{Name: "archive", Usage: "export from an archive written by cairn archive (checked, never restored) instead of a ledger"},
			langFlag("write the pack"),
			tzFlag(),
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return usageErrorf("export takes at most one asset (got %d arguments)", c.NArg())
			}
			out := c.String("out")
			if out == "" && c.String("c2pa") == "" {
				return usageErrorf("where should the pack go? Give -o FILE.pdf")
			}
			if fi, err := os.Stat(out); err == nil && fi.IsDir() {
				return usageErrorf("-o %s is a directory; give a file name such as %s", out, filepath.Join(out, "evidence.pdf"))
			}
			var id *evidence.Identity
			var b *evidence.Book
			var err error
			if a := c.String("archive"); a != "" {
				var cleanup func()
				id, b, cleanup, err = openArchiveToExport(c, a)
				if cleanup != nil {
					defer cleanup()
				}
			} else {
				id, b, err = openSigningToRead(c)
			}
			if err != nil {
				return err
			}
			// The ledger is locked only while it is read: drawing and signing
			// the pack must not keep the designer waiting.
			var once sync.Once
			release := func() { once.Do(func() { b.Close() }) }
			defer release()
			cfg, m, err := settings(c, b)
			if err != nil {
				return err
			}
			loc, err := zone(c, cfg, m)
			if err != nil {
				return err
			}
			asset := c.Args().First()
			if asset == "" {
				if cfg.Asset == "" {
					return usageErrorf("which asset? Give it as an argument (cairn export ASSET -o FILE.pdf), or choose one with: cairn use ID")
				}
				asset = cfg.Asset
			}
			var writeC2PA func() error
			if dir := c.String("c2pa"); dir != "" {
				if writeC2PA, err = prepareC2PA(c, b, id, asset, dir); err != nil {
					return err
				}
			}
			if out != "" {
				user, err := evidence.ReadUserConfig()
				if err != nil {
					return err
				}
				pdf, err := export.Export(b, id, asset, export.Options{WithFiles: c.Bool("with-files"), DoneReading: release, Lang: m, Zone: loc,
					Fonts: user.Fonts, SystemFonts: true})
				if err != nil {
					return err
				}
				if err := writeFileAtomic(out, pdf); err != nil {
					return fmt.Errorf("writing %s: %w", out, err)
				}
				fmt.Fprintf(c.App.Writer, "wrote %s: evidence pack for %s (%s), signed by %s\n", out, asset, evidence.HumanSize(int64(len(pdf))), id.Fingerprint())
			}
			if writeC2PA != nil {
				return writeC2PA()
			}
			return nil
		},
	}
}

// writeFileAtomic writes data to a temporary file next to path and renames it,
// so that a failed export never leaves half a PDF under the final name.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	// An export killed part-way leaves its temporary file; the next one here
	// removes it.
	tmpfile.Sweep(dir, exportPattern)
	tmp, err := tmpfile.Create(dir, exportPattern)
	if err != nil {
		return err
	}
	defer tmp.Discard()
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	tmp.Chmod(0o644)
	return tmp.Commit(path)
}

const exportPattern = ".cairn-export-*"

// openArchiveToExport checks an archive and rebuilds its ledger in a private
// temporary directory, removed when the book is closed, so that legal staff
// can export from an archive a designer handed over without restoring it.
func openArchiveToExport(c *cli.Context, path string) (*evidence.Identity, *evidence.Book, func(), error) {
	id, err := loadIdentity(c)
	if err != nil {
		return nil, nil, nil, err
	}
	tmp, err := os.MkdirTemp("", "cairn-export-archive-*")
	if err != nil {
		return nil, nil, nil, err
	}
	cleanup := func() { os.RemoveAll(tmp) }
	dir := filepath.Join(tmp, evidence.DirName)
	if _, err := rebuild(c, path, dir, "export"); err != nil {
		cleanup()
		return nil, nil, nil, err
	}
	b, err := evidence.Open(dir, &evidence.OpenOptions{ReadOnly: true})
	if err != nil {
		cleanup()
		return nil, nil, nil, err
	}
	return id, b, cleanup, nil
}
