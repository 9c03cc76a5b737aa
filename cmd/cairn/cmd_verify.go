package main

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/internal/userfile"
	"github.com/cairn-ledger/cairn/ledger"
)

// maxCheckpointFile bounds a checkpoint handed back to verify --since: a signed
// note is a few hundred bytes, and each cosignature adds a line.
const maxCheckpointFile = 64 << 10

func cmdVerify() *cli.Command {
	return &cli.Command{
		Name:  "verify",
		Usage: "check the whole ledger: every record, signature, link, hash and file",
		Description: `verify reads every record in order and checks its layout, its place in the
chain, that time never goes backwards, its signature, and the Merkle tree built
from all records against the stored tree and every stored checkpoint. Then it
re-hashes every stored file a step names. It reports the first bad record and
what is wrong with it, and exits 1.

--since FILE proves that today's ledger extends a checkpoint handed out earlier
(cairn checkpoint --out FILE): nothing it covered was removed or rewritten. A
rollback or a fork fails.

--archive FILE checks an archive written by cairn archive, without a ledger:
every member against the manifest, every record, the root and checkpoints, and
every file; a damaged member is named.`,
		Flags: []cli.Flag{
			dirFlag(),
			jsonFlag("print the result as JSON"),
			&cli.StringFlag{Name: "since", Usage: "an earlier checkpoint file the ledger must extend"},
			&cli.StringFlag{Name: "archive", Usage: "check an archive written by cairn archive instead of the ledger"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErrorf("verify takes no arguments (got %q); to check a checkpoint use --since FILE", c.Args().First())
			}
			if p := c.String("archive"); p != "" {
				return verifyArchive(c, p)
			}
			var since []byte
			if p := c.String("since"); p != "" {
				data, err := userfile.Read(p, "checkpoint file", maxCheckpointFile)
				if err != nil {
					return usageErrorf("--since %v", err)
				}
				if _, err := ledger.ParseCheckpoint(data); err != nil {
					return usageErrorf("--since %s: not a checkpoint: %v", p, err)
				}
				since = data
			}
			b, err := openBook(c)
			if err != nil {
				return err
			}
			defer b.Close()
			cfg, err := evidence.ReadConfig(b.Dir)
			if err != nil {
				return err
			}
			roots, err := b.TSARoots(cfg)
			if err != nil {
				return err
			}
			prog := newProgress(c.App.ErrWriter, "verifying records", b.Ledger.Size())
			rep, err := b.Verify(evidence.VerifyOptions{Since: since, Progress: prog.set, TSARoots: roots, Witnesses: cfg.Witnesses})
			prog.done()
			var ve *ledger.VerifyError
			if errors.As(err, &ve) {
				if c.Bool("json") {
					printJSON(c.App.Writer, map[string]any{"ok": false, "seq": ve.Seq, "problem": ve.Problem})
				}
				return &exitError{exitVerify, fmt.Errorf("verification FAILED: %w", err)}
			}
			if err != nil {
				return err
			}
			lr := rep.Ledger
			var keys []map[string]string
			for _, k := range lr.Keys {
				keys = append(keys, map[string]string{"key": ledger.KeyID(k), "name": b.AuthorName(k)})
			}
			if c.Bool("json") {
				out := map[string]any{
					"ok": true, "origin": lr.Origin, "records": lr.Size,
					"root": base64.StdEncoding.EncodeToString(lr.Root[:]), "keys": keys,
					"assets": rep.Assets, "files": rep.Files, "file_bytes": rep.Bytes,
					"first": lr.First, "last": lr.Last, "checkpoints": len(lr.Checkpoints),
				}
				if lr.Since != nil {
					out["since"] = map[string]any{"size": lr.Since.Size, "consistent": true}
				}
				out["timestamps"] = rep.Times
				out["cosignatures"] = rep.Cosignatures
				return printJSON(c.App.Writer, out)
			}
			w := c.App.Writer
			fmt.Fprintf(w, "ledger      %s (%s)\n", lr.Origin, shortPath(b.Dir))
			fmt.Fprintf(w, "records     %d, each signed, chained and in time order\n", lr.Size)
			if lr.Size > 0 {
				fmt.Fprintf(w, "period      %s to %s\n", lr.First.Format("2006-01-02 15:04:05Z"), lr.Last.Format("2006-01-02 15:04:05Z"))
				fmt.Fprintf(w, "tree root   %s (RFC 6962, matches the stored tree)\n", base64.StdEncoding.EncodeToString(lr.Root[:]))
			}
			var names []string
			for _, k := range keys {
				n := k["key"]
				if k["name"] != "" {
					n += " (" + safeLine(k["name"], 40) + ")"
				}
				names = append(names, n)
			}
			fmt.Fprintf(w, "keys        %s\n", strings.Join(names, ", "))
			fmt.Fprintf(w, "assets      %d\n", rep.Assets)
			fmt.Fprintf(w, "files       %d re-hashed (%s), all match\n", rep.Files, evidence.HumanSize(rep.Bytes))
			if n := len(lr.Checkpoints); n > 0 {
				last := lr.Checkpoints[n-1]
				fmt.Fprintf(w, "checkpoints %d, signatures and roots match; newest covers %d records\n", n, last.Size)
			} else {
				fmt.Fprintf(w, "checkpoints none yet (make one with: cairn checkpoint --out FILE, and hand it to someone)\n")
			}
			for _, t := range rep.Times {
				trust := "TSA chains to the configured roots"
				if !t.Checked {
					trust = "TSA NOT checked: no roots configured (cairn config tsa.roots FILE)"
				}
				fmt.Fprintf(w, "timestamp   records 0-%d existed no later than %s (TSA: %s; %s)\n", t.Size-1, t.Time.UTC().Format("2006-01-02T15:04:05Z"), t.TSA, trust)
			}
			for _, cs := range rep.Cosignatures {
				if cs.Checked {
					fmt.Fprintf(w, "witness     %s cosigned the checkpoint of %d records at %s\n", cs.Witness, cs.Size, cs.Time.UTC().Format("2006-01-02T15:04:05Z"))
				} else {
					fmt.Fprintf(w, "witness     %s cosigned the checkpoint of %d records (NOT checked: add its key with cairn config witness VKEY)\n", cs.Witness, cs.Size)
				}
			}
			if lr.Since != nil {
				fmt.Fprintf(w, "since       the ledger extends the given checkpoint (%d records) by %d: nothing it covered was changed or removed\n", lr.Since.Size, lr.Size-lr.Since.Size)
			}
			fmt.Fprintln(w, "OK")
			return nil
		},
	}
}
