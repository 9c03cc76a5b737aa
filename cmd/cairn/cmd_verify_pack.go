package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/export"
	"github.com/cairn-ledger/cairn/internal/userfile"
)

// maxPackFile bounds an evidence pack, which verify-pack reads whole: the
// files a pack embeds are streamed through their hashes, but the PDF is not.
const maxPackFile = 2 << 30

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
timestamp).
--key VKEY pins the ledger key you expect (cairn id --vkey of the designer).

It prints what fixes the time of the records, in one line per run of records
dated alike (-v: one line per record), and the authors and the exporter apart.

--since FILE checks the pack against a checkpoint you already hold (cairn
checkpoint --out FILE, handed to you earlier): the pack's checkpoint must be
proven to extend it, so nothing it covered was changed or removed since.

The PDF signature itself may carry an RFC 3161 signature timestamp (export
with a TSA): it is checked over the signature against the same TSA roots, and
says that the PDF, and every record in it, existed no later than its time. A
pack signed with a firm's CA-issued certificate (export --sign-with) names
that certificate's holder as the exporter; its chain is checked against the CA
roots you trust (--ca-roots FILE), at the signature timestamp's time when a
trusted one dates the signature, else now. Without --ca-roots it is reported
as NOT checked. Roots inside the pack never count.

It prints each check and exits 0 only if all pass; 1 if any fails (a changed
byte anywhere fails), 2 if the file cannot be read or is not a PDF.

Examples:
  cairn verify-pack poster.pdf
  cairn verify-pack poster.pdf --tsa-roots freetsa-cacert.pem --since handed-over.cp -v
  cairn verify-pack poster.pdf --ca-roots firm-root-ca.pem --tsa-roots freetsa-cacert.pem`,
		Flags: append([]cli.Flag{
			jsonFlag("print the report as JSON"),
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "print the time of every record, one line each"},
			&cli.StringFlag{Name: "since", Usage: "a checkpoint you hold, which the pack must be proven to extend"},
			&cli.StringFlag{Name: "ca-roots", Usage: "PEM file of the CA roots you trust for a PDF signed with a CA-issued certificate (export --sign-with)"},
		}, trustFlags()...),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageErrorf("give one evidence pack: cairn verify-pack FILE.pdf (got %d arguments)", c.NArg())
			}
			path := c.Args().First()
			data, err := userfile.Read(path, "evidence pack", maxPackFile)
			if err != nil {
				return err
			}
			// The pack's own tsa_roots are never trusted: the anchors are
			// the verifier's (flags and own settings).
			trust, err := loadTrust(c, "")
			if err != nil {
				return err
			}
			opts := export.VerifyOptions{Trust: trust}
			if p := c.String("since"); p != "" {
				if opts.Since, err = userfile.Read(p, "checkpoint", 64<<10); err != nil {
					return err
				}
			}
			rep, err := export.VerifyPackWith(data, opts)
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
					printPackTimes(w, rep, c.Bool("verbose"))
				}
			}
			if err != nil {
				return &exitError{exitVerify, fmt.Errorf("%s: verification FAILED; do not rely on this pack", path)}
			}
			if !c.Bool("json") {
				by := "key " + rep.Exporter.Key
				if cr := rep.Exporter.Certificate; cr != nil {
					by = "CA-issued certificate, chain NOT checked"
					if cr.ChainChecked {
						by = "CA-issued certificate, chain checked"
					}
				}
				fmt.Fprintf(w, "OK: %s is an intact evidence pack for asset %s, signed by %s (%s)\n", path, rep.Asset, safeLine(rep.SignerName, 80), by)
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
	if e := rep.Exporter; e != nil && e.Certificate != nil {
		cr, chain := e.Certificate, "chain NOT checked against CA roots you trust"
		if cr.ChainChecked {
			chain = "chain checked to " + cr.Root + " from " + cr.Anchor.Describe()
		}
		fmt.Fprintf(w, "signer  %s (certificate %s, issued by %s; %s) signed this PDF; the certificate names no key of this ledger, so the pack does not make them an author\n",
			safeLine(e.Name, 80), safeLine(cr.Subject, 160), safeLine(cr.Issuer, 160), safeLine(chain, 240))
	} else if e != nil && e.Custodian {
		fmt.Fprintf(w, "signer  %s (key %s), a custodian who holds no key of this ledger, signed this PDF; they are not an author\n", safeLine(e.Name, 80), e.Key)
	} else if e != nil {
		fmt.Fprintf(w, "signer  %s (key %s) signed this PDF\n", safeLine(e.Name, 80), e.Key)
	}
	for _, warn := range rep.Warnings {
		fmt.Fprintf(w, "WARNING %s\n", safeLine(warn, 400))
	}
}

// printPackTimes says, for every record of a verified pack, the earliest time a
// timestamp fixes for it, and whether its TSA was checked against trusted roots.
func printPackTimes(w io.Writer, rep *export.Report, each bool) {
	const stamp = "2006-01-02T15:04:05Z"
	say := func(rt export.RecordTime) string {
		line := "has no timestamp: its time is the ledger's own clock"
		if rep.SignatureTimestamp != nil {
			line = "has no checkpoint timestamp: its time is the ledger's own clock, bounded by the signature timestamp below"
		}
		if !rt.NoLaterThan.IsZero() {
			trust := "TSA checked against the roots you trust"
			if !rt.TSAChecked {
				trust = "TSA not checked against trusted roots"
			}
			line = fmt.Sprintf("existed no later than %s (TSA: %s; %s)", rt.NoLaterThan.Format(stamp), safeLine(rt.TSA, 120), trust)
		}
		if !rt.WitnessTime.IsZero() {
			line += fmt.Sprintf("; witness %s saw it no later than %s", safeLine(rt.Witness, 80), rt.WitnessTime.Format(stamp))
		}
		if !rt.StudioTime.IsZero() {
			trust := "TSA checked against the roots you trust"
			if !rt.StudioTSAChecked {
				trust = "TSA not checked against trusted roots"
			}
			line += fmt.Sprintf("; the studio log %s held it no later than %s (%s)", safeLine(rt.Studio, 80), rt.StudioTime.Format(stamp), trust)
		}
		return line
	}
	defer func() {
		if t := rep.SignatureTimestamp; t != nil {
			trust := "TSA checked against the roots you trust"
			if !t.Checked {
				trust = "TSA not checked against trusted roots"
			}
			fmt.Fprintf(w, "time  the PDF signature, and so every record above, existed no later than %s (signature timestamp; TSA: %s; %s)\n", t.Time.Format(stamp), safeLine(t.TSA, 120), trust)
		}
	}()
	if each {
		for _, rt := range rep.Times {
			fmt.Fprintf(w, "time  step %d (%s, %s) %s\n", rt.Index, rt.Kind, rt.Clock.Format(stamp), say(rt))
		}
		return
	}
	// One line per run of records that the same attestations date.
	for i := 0; i < len(rep.Times); {
		j, what := i+1, say(rep.Times[i])
		for j < len(rep.Times) && say(rep.Times[j]) == what {
			j++
		}
		first, last := rep.Times[i], rep.Times[j-1]
		steps := evidence.Plural(j-i, "step", "steps")
		if j-i == 1 {
			fmt.Fprintf(w, "time  record %d (1 step) %s\n", first.Index, what)
		} else {
			what = strings.NewReplacer("its time is", "their times are", "saw it", "saw them", "held it", "held them").Replace(what)
			fmt.Fprintf(w, "time  records %d to %d (%s) %s\n", first.Index, last.Index, steps, what)
		}
		i = j
	}
}
