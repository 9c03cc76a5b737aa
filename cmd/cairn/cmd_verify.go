package main

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/internal/userfile"
	"github.com/cairn-ledger/cairn/ledger"
)

// maxCheckpointFile bounds a checkpoint handed back to verify --since: a signed
// note is a few hundred bytes, and each cosignature adds a line.
const maxCheckpointFile = 64 << 10

// trustFlags are the anchors a verifier gives: verify and verify-pack take them.
func trustFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "tsa-roots", Usage: "PEM file of the TSA roots you trust; timestamps must chain to one of them"},
		&cli.StringSliceFlag{Name: "witness", Usage: "a witness's verifier key you trust (repeatable); its cosignatures are checked"},
		&cli.StringSliceFlag{Name: "key", Usage: "a ledger's checkpoint key you expect (cairn id --vkey; repeatable): checkpoints must be signed by it or a key rotated from it"},
		&cli.StringSliceFlag{Name: "studio", Usage: "a studio log's key you trust (cairn witness id --log; repeatable): its inclusion proofs are checked"},
	}
}

// stringFlag is the value of a string flag the command may not define.
func stringFlag(c *cli.Context, name string) string {
	if c.IsSet(name) {
		return c.String(name)
	}
	return ""
}

// loadTrust reads the verifier's anchors: flags, then the verifier's own
// settings, then (marked as not independent) those in ledgerDir.
func loadTrust(c *cli.Context, ledgerDir string) (*evidence.Trust, error) {
	flags := evidence.TrustFlags{TSARoots: c.String("tsa-roots"), Witnesses: c.StringSlice("witness"), Keys: c.StringSlice("key"), Studios: c.StringSlice("studio"), CARoots: stringFlag(c, "ca-roots")}
	t, err := evidence.LoadTrust(flags, ledgerDir)
	if err != nil && !evidence.IsInputError(err) {
		return nil, usageErrorf("%v", err)
	}
	return t, err
}

func cmdVerify() *cli.Command {
	return &cli.Command{
		Name:  "verify",
		Usage: "check the whole ledger: every record, signature, link, hash and file",
		Description: `verify reads every record in order and checks its layout, its place in the
chain, that time never goes backwards, its signature, that its step is read
exactly one way and obeys the rules (keys introduced and not retired, assets
created before use), and the Merkle tree built from all records against the
stored tree and every stored checkpoint. Then it re-hashes every stored file a
step names, and checks that the cache (.cairn/index.json) agrees with the
signed records. It reports the first bad record and what is wrong, and exits 1.

Trust comes from you, not from the ledger's folder: give the TSA roots you
trust (--tsa-roots FILE), the witnesses (--witness VKEY) and the ledger keys you
expect (--key VKEY), or keep them in your own settings (cairn config --user).
Anchors found only in the ledger's folder are used, but reported as NOT
independent: whoever can write to the folder could have put them there. A
timestamp or cosignature dated before the records it covers fails.

--since FILE proves that today's ledger extends a checkpoint handed out earlier
(cairn checkpoint --out FILE): nothing it covered was removed or rewritten. A
rollback or a fork fails.

--archive FILE checks an archive written by cairn archive, without a ledger:
every member against the manifest, every record, the root and checkpoints, and
every file; a damaged member is named.

Examples:
  cairn verify
  cairn verify --tsa-roots freetsa-cacert.pem --key "$(cat ada.vkey)"
  cairn verify --since handed-to-client.cp
  cairn verify --archive ledger.tar --json`,
		Flags: append([]cli.Flag{
			dirFlag(),
			jsonFlag("print the result as JSON"),
			&cli.StringFlag{Name: "since", Usage: "an earlier checkpoint file the ledger must extend"},
			&cli.StringFlag{Name: "archive", Usage: "check an archive written by cairn archive instead of the ledger"},
			&cli.BoolFlag{Name: "all", Usage: "report every problem (up to 1,000), not only the first"},
		}, trustFlags()...),
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
			trust, err := loadTrust(c, b.Dir)
			if err != nil {
				return err
			}
			prog := newProgress(c.App.ErrWriter, "verifying records", b.Ledger.Size())
			rep, err := b.Verify(evidence.VerifyOptions{Since: since, Progress: prog.set, Trust: trust, All: c.Bool("all")})
			prog.done()
			var ve *ledger.VerifyError
			if errors.As(err, &ve) {
				return verifyFailed(c, ve)
			}
			if err != nil {
				return err
			}
			if c.Bool("json") {
				return printJSON(c.App.Writer, verifyJSON(rep))
			}
			printVerify(c.App.Writer, b, rep)
			return nil
		},
	}
}

// verifyFailed reports what verification found wrong: the first problem, or
// with --all every one, each on a FAIL line (and in --json).
func verifyFailed(c *cli.Context, ve *ledger.VerifyError) error {
	all := ve.All()
	if c.Bool("json") {
		var list []map[string]any
		for _, e := range all {
			list = append(list, map[string]any{"seq": e.Seq, "problem": e.Problem})
		}
		printJSON(c.App.Writer, map[string]any{"ok": false, "seq": ve.Seq, "problem": ve.Problem, "problems": list})
	} else if c.Bool("all") {
		for _, e := range all {
			fmt.Fprintf(c.App.Writer, "FAIL %s\n", safeLine(e.Error(), 1000))
		}
	}
	msg := fmt.Errorf("verification FAILED: %w", ve)
	if len(all) > 1 {
		msg = fmt.Errorf("verification FAILED: %d problems, the first: %w", len(all), ve)
	}
	return &exitError{exitVerify, msg}
}

// keyJSON describes a key for scripts.
func keyJSON(k *evidence.KeyState) map[string]any {
	m := map[string]any{"key": k.ID(), "name": k.Name, "introduced_by_record": k.Introduced}
	if k.Email != "" {
		m["email"] = k.Email
	}
	if k.Retired >= 0 {
		m["retired_by_record"] = k.Retired
	}
	return m
}

func verifyJSON(rep *evidence.VerifyReport) map[string]any {
	lr := rep.Ledger
	var keys []map[string]any
	for _, k := range rep.Rules.Keys() {
		keys = append(keys, keyJSON(k))
	}
	out := map[string]any{
		"ok": true, "origin": lr.Origin, "records": lr.Size,
		"root": base64.StdEncoding.EncodeToString(lr.Root[:]), "keys": keys,
		"assets": rep.Assets, "files": rep.Files, "file_bytes": rep.Bytes,
		"first": lr.First, "last": lr.Last, "checkpoints": len(lr.Checkpoints),
		"timestamps": rep.Times, "cosignatures": rep.Cosignatures, "pending_timestamps": rep.Pending,
		"studio_proofs": rep.Studio, "pending_studio_proofs": len(rep.PendingProofs),
		"keys_pinned": rep.Pinned, "name_clashes": nameClashes(rep.Rules),
	}
	if lr.Since != nil {
		out["since"] = map[string]any{"size": lr.Since.Size, "consistent": true}
	}
	return out
}

func nameClashes(rb *evidence.RuleBook) []map[string]any {
	var out []map[string]any
	for _, nc := range rb.NameClashes() {
		var ids []string
		for _, k := range nc.Keys {
			ids = append(ids, k.ID())
		}
		out = append(out, map[string]any{"name": nc.Name, "keys": ids})
	}
	return out
}

// keyLine names a key's holder, by the signed records, with its fingerprint.
func keyLine(k *evidence.KeyState) string {
	s := k.ID() + " (" + safeLine(k.Name, 40)
	if k.Retired >= 0 {
		s += fmt.Sprintf(", retired by record %d", k.Retired)
	}
	return s + ")"
}

// warnNameClashes prints a warning for each name that identity records give to
// different people: they are told apart only by their keys.
func warnNameClashes(w io.Writer, rb *evidence.RuleBook) {
	for _, nc := range rb.NameClashes() {
		var ids []string
		for _, k := range nc.Keys {
			ids = append(ids, fmt.Sprintf("%s (record %d)", k.ID(), k.Introduced))
		}
		fmt.Fprintf(w, "WARNING     %d different keys are named %q: %s. They may be different people; tell them apart by key.\n", len(nc.Keys), safeLine(nc.Name, 60), strings.Join(ids, ", "))
	}
}

func printVerify(w io.Writer, b *evidence.Book, rep *evidence.VerifyReport) {
	lr := rep.Ledger
	fmt.Fprintf(w, "ledger      %s (%s)\n", lr.Origin, shortPath(b.Dir))
	fmt.Fprintf(w, "records     %d, each signed, chained, in time order, and read exactly one way\n", lr.Size)
	if lr.Size > 0 {
		fmt.Fprintf(w, "period      %s to %s (the authors' clocks)\n", lr.First.Format("2006-01-02 15:04:05Z"), lr.Last.Format("2006-01-02 15:04:05Z"))
		fmt.Fprintf(w, "tree root   %s (RFC 6962, matches the stored tree)\n", base64.StdEncoding.EncodeToString(lr.Root[:]))
	}
	var names []string
	for _, k := range rep.Rules.Keys() {
		names = append(names, keyLine(k))
	}
	fmt.Fprintf(w, "keys        %s\n", strings.Join(names, ", "))
	if rep.Pinned {
		fmt.Fprintf(w, "            the checkpoints are signed by a key you pinned, or one rotated from it\n")
	}
	warnNameClashes(w, rep.Rules)
	fmt.Fprintf(w, "assets      %d\n", rep.Assets)
	printRetracted(w, rep.Retracted)
	fmt.Fprintf(w, "files       %d re-hashed (%s), all match\n", rep.Files, evidence.HumanSize(rep.Bytes))
	if n := len(lr.Checkpoints); n > 0 {
		last := lr.Checkpoints[n-1]
		fmt.Fprintf(w, "checkpoints %d, signatures and roots match; newest covers %d records\n", n, last.Size)
	} else {
		fmt.Fprintf(w, "checkpoints none yet (make one with: cairn checkpoint --out FILE, and hand it to someone)\n")
	}
	for _, t := range rep.Times {
		trust := "TSA NOT checked: you gave no TSA roots (--tsa-roots FILE, or cairn config --user tsa.roots FILE)"
		if t.Checked {
			trust = "TSA chains to the roots from " + t.Anchor.Describe()
		}
		fmt.Fprintf(w, "timestamp   records 0-%d existed no later than %s (TSA: %s; %s)\n", t.Size-1, t.Time.UTC().Format("2006-01-02T15:04:05Z"), safeLine(t.TSA, 120), trust)
	}
	if n := len(rep.Pending); n > 0 {
		fmt.Fprintf(w, "pending     %s for a timestamp (newest covers %d records); fetch them with: cairn timestamp --pending\n", evidence.Plural(n, "checkpoint still waits", "checkpoints still wait"), rep.Pending[0])
	}
	for _, cs := range rep.Cosignatures {
		if cs.Checked {
			fmt.Fprintf(w, "witness     %s cosigned the checkpoint of %d records at %s (key from %s)\n", cs.Witness, cs.Size, cs.Time.UTC().Format("2006-01-02T15:04:05Z"), cs.Anchor.Describe())
		} else {
			fmt.Fprintf(w, "witness     %s cosigned the checkpoint of %d records (NOT checked: you trust no key of this witness; give --witness VKEY)\n", cs.Witness, cs.Size)
		}
	}
	for _, sp := range rep.Studio {
		line := fmt.Sprintf("studio log  %s holds %s's cosignature of the checkpoint of %d records (entry %d of its %d)", sp.Log, sp.Witness, sp.Size, sp.Index, sp.StudioCheck.Size)
		if !sp.Time.IsZero() {
			trust := "TSA chains to the roots you trust"
			if !sp.TSAChecked {
				trust = "TSA NOT checked against trusted roots"
			}
			line += fmt.Sprintf(", no later than %s (TSA: %s; %s)", sp.Time.UTC().Format("2006-01-02T15:04:05Z"), safeLine(sp.TSA, 120), trust)
		}
		if sp.Checked {
			line += " (studio key from " + sp.Anchor.Describe() + ")"
		} else {
			line += " (NOT checked: you trust no key of this studio log; give --studio VKEY)"
		}
		fmt.Fprintln(w, line)
	}
	if n := len(rep.PendingProofs); n > 0 {
		fmt.Fprintf(w, "pending     %s still to fetch; cairn publish fetches them\n", evidence.Plural(n, "studio log proof", "studio log proofs"))
	}
	if lr.Since != nil {
		fmt.Fprintf(w, "since       the ledger extends the given checkpoint (%d records) by %d: nothing it covered was changed or removed\n", lr.Since.Size, lr.Size-lr.Since.Size)
	}
	fmt.Fprintln(w, "OK")
}
