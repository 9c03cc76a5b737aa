package main

import (
	"errors"
	"fmt"
	"io"
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
inclusion proof against the checkpoint, and the checkpoint's signature; every
key rotation the pack relies on; and every embedded file against its SHA-256 and
the steps that name it.

Then what third parties said: each earlier checkpoint in the pack is checked
against its signature and a consistency proof to the pack's checkpoint, each RFC
3161 timestamp token against the exact bytes of the checkpoint it dates, and each
witness cosignature. A timestamp is checked against the TSA roots you trust
(--tsa-roots FILE); without them the token is checked for everything else and
the TSA is reported as NOT checked. A cosignature is checked with the witness
keys you give (--witness VKEY, repeatable); others are listed as unchecked. A
studio log's inclusion proof of a cosigned checkpoint is checked against the
studio keys you give (--studio VKEY, from cairn witness id --log): the pack then
proves that the studio saw the checkpoint, and by when (the studio log's own
timestamp). It prints, for every record, the earliest time a timestamp fixes
for it.

It prints each check and exits 0 only if all pass; 1 if any fails (a changed
byte anywhere fails), 2 if the file cannot be read or is not a PDF.`,
		Flags: append([]cli.Flag{jsonFlag("print the report as JSON")}, trustFlags()...),
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
			// The pack's own tsa_roots are never trusted: the anchors are
			// the verifier's (flags and own settings).
			trust, err := loadTrust(c, "")
			if err != nil {
				return err
			}
			rep, err := export.VerifyPackWith(data, export.VerifyOptions{Trust: trust})
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
				printPackPeople(w, rep)
				if err == nil {
					printPackTimes(w, rep)
				}
			}
			if err != nil {
				return &exitError{exitVerify, fmt.Errorf("%s: verification FAILED; do not rely on this pack", path)}
			}
			if !c.Bool("json") {
				fmt.Fprintf(w, "OK: %s is an intact evidence pack for asset %s, signed by %s (key %s)\n", path, rep.Asset, safeLine(rep.SignerName, 80), rep.Exporter.Key)
			}
			return nil
		},
	}
}

// printPackPeople names the authors and the exporter apart, each with the key
// that identifies them, and warns of names shared by different people.
func printPackPeople(w io.Writer, rep *export.Report) {
	for _, a := range rep.Authors {
		fmt.Fprintf(w, "author  %s (key %s, identity record %d)\n", safeLine(a.Name, 80), a.Key, a.Introduced)
	}
	if e := rep.Exporter; e != nil {
		fmt.Fprintf(w, "signer  %s (key %s) signed this PDF\n", safeLine(e.Name, 80), e.Key)
	}
	for _, warn := range rep.Warnings {
		fmt.Fprintf(w, "WARNING %s\n", safeLine(warn, 400))
	}
}

// printPackTimes says, for every record of a verified pack, the earliest time a
// timestamp fixes for it, and whether its TSA was checked against trusted roots.
func printPackTimes(w io.Writer, rep *export.Report) {
	const stamp = "2006-01-02T15:04:05Z"
	for _, rt := range rep.Times {
		line := fmt.Sprintf("step %d (%s) ", rt.Index, rt.Kind)
		if rt.NoLaterThan.IsZero() {
			line += fmt.Sprintf("has no timestamp: its time %s is the ledger's own clock", rt.Clock.Format(stamp))
		} else {
			trust := "checked against the given roots"
			if !rt.TSAChecked {
				trust = "TSA not checked against trusted roots"
			}
			line += fmt.Sprintf("existed no later than %s (TSA: %s; %s)", rt.NoLaterThan.Format(stamp), safeLine(rt.TSA, 120), trust)
		}
		if !rt.WitnessTime.IsZero() {
			line += fmt.Sprintf("; witness %s saw it no later than %s", safeLine(rt.Witness, 80), rt.WitnessTime.Format(stamp))
		}
		if !rt.StudioTime.IsZero() {
			trust := "TSA checked against the given roots"
			if !rt.StudioTSAChecked {
				trust = "TSA not checked against trusted roots"
			}
			line += fmt.Sprintf("; the studio log %s held it no later than %s (%s)", safeLine(rt.Studio, 80), rt.StudioTime.Format(stamp), trust)
		}
		fmt.Fprintf(w, "time  %s\n", line)
	}
}
