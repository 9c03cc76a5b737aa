package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/mod/sumdb/note"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/ledger/rfc3161"
	"github.com/cairn-ledger/cairn/ledger/studio"
	"github.com/cairn-ledger/cairn/ledger/witness"
)

func cmdStudio() *cli.Command {
	return &cli.Command{
		Name:      "studio",
		Usage:     "read a studio log: every ledger's checkpoints over time, with forks and rollbacks flagged",
		ArgsUsage: "DIR|URL",
		Description: `studio reads the studio log a witness server keeps (cairn witness serve --log),
from its directory or from the URL it is served at (the witness serves it at
/log/), and checks it: the log's checkpoint against the studio key you trust
(--studio VKEY, or cairn config --user studio VKEY), the root of all its
entries against that checkpoint, its newest timestamp against the TSA roots you
trust, and each entry's cosignature against the witness keys you trust.

Then it lists, for each ledger, the checkpoints the witness saw, in order, and
when it cosigned them. It flags a ledger with two roots at one size (a fork:
its owner showed two histories) or a checkpoint smaller than one already
cosigned (a size going back). The witness refuses both, and keeps them in the
log as evidence.

Exit status: 0 if the log verifies and shows neither; 1 if it does not verify,
or a fork or rollback is in it; 2 if it cannot be read.

Examples:
  cairn studio /srv/studio-log --studio "$(cairn witness id --log)" --witness "$(cairn witness id)"
  cairn studio https://witness.studio-x.example/log/ --origin cairn.ledger/abc…
  cairn studio /srv/studio-log --json`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "origin", Usage: "list only this ledger"},
			jsonFlag("print the view as JSON"),
		}, trustFlags()...),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageErrorf("give the studio log's directory or URL: cairn studio DIR|URL")
			}
			trust, err := loadTrust(c, "")
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			src, err := studio.OpenSource(c.Args().First(), &http.Client{Timeout: time.Minute})
			if err != nil {
				return usageErrorf("%v", err)
			}
			cp, err := src.Checkpoint(ctx)
			if err != nil {
				return usageErrorf("%v; is it a studio log (one that cairn witness serve --log DIR keeps, or its URL, ending in /log/)?", err)
			}
			key, anchor, trusted := trust.Studio(cp.Origin)
			var ws []note.Verifier
			for _, a := range trust.Witnesses {
				if v, err := witness.NewVerifier(a.VKey); err == nil {
					ws = append(ws, v)
				}
			}
			prog := newProgress(c.App.ErrWriter, "reading the studio log", cp.Size)
			view, err := studio.Read(ctx, src, key, ws, prog.set)
			prog.done()
			if errors.Is(err, studio.ErrBadLog) {
				return &exitError{exitVerify, fmt.Errorf("verification FAILED: %v", err)}
			}
			if err != nil {
				return err
			}
			var tsLine string
			var tsOK bool
			var tok *rfc3161.Token
			if ts := view.Timestamped; ts != nil {
				if trust.TSA != nil {
					tok, err = rfc3161.Verify(ts.Token, ts.Checkpoint.Note, trust.TSA.Pool, nil)
				} else {
					tok, err = rfc3161.VerifyUntrusted(ts.Token, ts.Checkpoint.Note)
				}
				if err != nil {
					return &exitError{exitVerify, fmt.Errorf("verification FAILED: the studio log's timestamp on its checkpoint of %d entries: %v", ts.Checkpoint.Size, err)}
				}
				tsOK = trust.TSA != nil
				how := "TSA NOT checked against trusted roots (give --tsa-roots FILE)"
				if tsOK {
					how = "TSA chains to the roots from " + trust.TSA.Describe()
				}
				tsLine = fmt.Sprintf("the first %d entries existed no later than %s (TSA: %s; %s)", ts.Checkpoint.Size,
					tok.Latest().Format(time.RFC3339), safeLine(tok.TSA, 120), how)
			}
			origins := view.Origins
			if o := c.String("origin"); o != "" {
				if _, ok := view.Ledgers[o]; !ok {
					return usageErrorf("the studio log holds no checkpoint of %s", o)
				}
				origins = []string{o}
			}
			var alerts []studio.Alert
			for _, a := range view.Alerts {
				for _, o := range origins {
					if a.Origin == o {
						alerts = append(alerts, a)
					}
				}
			}
			if c.Bool("json") {
				out := map[string]any{"ok": len(alerts) == 0, "log": view.Log, "size": view.Size,
					"root": base64.StdEncoding.EncodeToString(view.Root[:]), "signed": view.Signed, "cosigners": view.Cosigners,
					"origins": origins, "ledgers": pick(view.Ledgers, origins), "alerts": alerts, "bad_entries": view.Bad}
				if tok != nil {
					out["timestamp"] = map[string]any{"size": view.Timestamped.Checkpoint.Size, "no_later_than": tok.Latest(), "tsa": tok.TSA, "tsa_checked": tsOK}
				}
				printJSON(c.App.Writer, out)
			} else {
				printStudio(c.App.Writer, view, origins, alerts, trusted, anchor, len(ws) > 0, tsLine)
			}
			if len(alerts) > 0 {
				return &exitError{exitVerify, fmt.Errorf("the studio log shows %d fork(s) or rollback(s): a ledger's owner showed the witness two histories", len(alerts))}
			}
			return nil
		},
	}
}

func pick(m map[string][]studio.Sighting, keys []string) map[string][]studio.Sighting {
	out := map[string][]studio.Sighting{}
	for _, k := range keys {
		out[k] = m[k]
	}
	return out
}

func printStudio(w io.Writer, v *studio.View, origins []string, alerts []studio.Alert, trusted bool, anchor evidence.Anchor, witnessKeys bool, tsLine string) {
	const stamp = "2006-01-02T15:04:05Z"
	sig := "signed by the studio key from " + anchor.Describe()
	if !trusted {
		sig = "signature NOT checked: you trust no key of this studio log (give --studio VKEY, from cairn witness id --log)"
	}
	fmt.Fprintf(w, "studio log  %s: %d entries, root %s (recomputed from the entries); %s\n", v.Log, v.Size, v.Root, sig)
	if tsLine != "" {
		fmt.Fprintf(w, "timestamp   %s\n", tsLine)
	}
	names := make([]string, 0, len(v.Cosigners))
	for n := range v.Cosigners {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "cosigned    the log's checkpoint, by %s at %s\n", n, v.Cosigners[n].Format(stamp))
	}
	if !witnessKeys {
		fmt.Fprintln(w, "witness     cosignatures NOT checked: give --witness VKEY (cairn witness id)")
	}
	for _, b := range v.Bad {
		fmt.Fprintf(w, "BAD ENTRY   %d: %s\n", b.Index, safeLine(b.Problem, 200))
	}
	for _, o := range origins {
		ss := v.Ledgers[o]
		fmt.Fprintf(w, "ledger      %s: %d checkpoint(s)\n", o, len(ss))
		for _, s := range ss {
			what := "REFUSED by the witness, kept as evidence"
			switch {
			case s.Checked:
				what = fmt.Sprintf("cosigned by %s at %s", s.Witness, s.Time.Format(stamp))
			case s.Cosigned:
				what = fmt.Sprintf("cosigned by %s (not checked)", safeLine(s.Witness, 80))
			}
			fmt.Fprintf(w, "  entry %-6d size %-8d root %s  %s\n", s.Index, s.Size, s.Root, what)
		}
	}
	for _, a := range alerts {
		switch a.Kind {
		case "fork":
			fmt.Fprintf(w, "FORK        %s has two roots at size %d: %s (entry %d) and %s (entry %d)\n", a.Origin, a.Entry.Size, a.Prior.Root, a.Prior.Index, a.Entry.Root, a.Entry.Index)
		default:
			fmt.Fprintf(w, "ROLLBACK    %s: entry %d is a checkpoint of %d records, after the witness cosigned %d (entry %d)\n", a.Origin, a.Entry.Index, a.Entry.Size, a.Prior.Size, a.Prior.Index)
		}
	}
	if len(alerts) == 0 {
		fmt.Fprintln(w, "OK          no ledger shows two roots at one size, or a size going back")
	}
}
