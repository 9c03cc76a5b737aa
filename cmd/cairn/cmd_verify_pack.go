package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/cairn-ledger/cairn/export"
)

func cmdVerifyPack() *cli.Command {
	return &cli.Command{
		Name:      "verify-pack",
		Usage:     "check an evidence pack on its own, offline, without the ledger",
		ArgsUsage: "FILE.pdf",
		Description: `verify-pack checks everything an evidence pack claims, with nothing but the
file: the PDF signature and that it covers the whole file; that the signing
certificate belongs to an author whose identity record is in the pack; every
record's Ed25519 signature and its chain link to its neighbours; every record's
inclusion proof against the checkpoint, and the checkpoint's signature; and every
embedded file against its SHA-256 and the steps that name it.

It prints each check and exits 0 only if all pass; 1 if any fails (a changed
byte anywhere fails), 2 if the file cannot be read or is not a PDF.`,
		Flags: []cli.Flag{jsonFlag("print the report as JSON")},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageErrorf("give one evidence pack: cairn verify-pack FILE.pdf (got %d arguments)", c.NArg())
			}
			path := c.Args().First()
			data, err := os.ReadFile(path)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				return usageErrorf("%s: no such file", path)
			case err != nil:
				return usageErrorf("%s: %v", path, err)
			}
			rep, err := export.VerifyPack(data)
			if errors.Is(err, export.ErrNotPDF) {
				return usageErrorf("%s is not an evidence pack: %v", path, err)
			}
			w := c.App.Writer
			if c.Bool("json") {
				printJSON(w, map[string]any{"ok": err == nil, "file": path, "report": rep})
			} else {
				for _, ch := range rep.Checks {
					mark := "ok  "
					if !ch.OK {
						mark = "FAIL"
					}
					fmt.Fprintf(w, "%s  %-17s %s\n", mark, ch.Name, safeLine(ch.Detail, 400))
				}
			}
			if err != nil {
				return &exitError{exitVerify, fmt.Errorf("%s: verification FAILED; do not rely on this pack", path)}
			}
			if !c.Bool("json") {
				fmt.Fprintf(w, "OK: %s is an intact evidence pack for asset %s, signed by %s\n", path, rep.Asset, safeLine(rep.SignerName, 80))
			}
			return nil
		},
	}
}
