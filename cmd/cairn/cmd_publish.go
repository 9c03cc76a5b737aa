package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/mod/sumdb/note"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/ledger"
	"github.com/cairn-ledger/cairn/ledger/witness"
)

// autoPublishTimeout bounds how long recording a step may wait for the witness.
const autoPublishTimeout = 2 * time.Second

// autoRetryAfter is how long automatic publishing waits after a failed try.
const autoRetryAfter = time.Minute

func cmdPublish() *cli.Command {
	return &cli.Command{
		Name:      "publish",
		Usage:     "send the newest checkpoint to the studio's witness, and keep its cosignature",
		ArgsUsage: "[URL]",
		Description: `publish signs a checkpoint of the ledger as it is now (or takes the newest one)
and sends it to a witness server (cairn witness serve) by C2SP tlog-witness,
with an RFC 6962 consistency proof from the last checkpoint that witness
cosigned. The witness cosigns it only if it extends everything the witness saw
of this ledger; the cosignature is stored beside the checkpoint, and cairn
verify and evidence packs show it.

If the witness keeps a studio log, publish then fetches the log's inclusion
proof of the cosigned checkpoint, with the log's RFC 3161 timestamp, and keeps
it beside the cosignature: a pack then proves that the studio saw the
checkpoint, and by when. A proof the log has not published yet (it timestamps
at most once per its TSA interval) is fetched by a later command.

The URL is the witness's address; without it, the one configured with cairn
config witness.url. The witness's key must be configured (cairn config witness
VKEY, from the operator's cairn witness id); with several, give --witness. With
witness.url set, cairn publishes on its own after recording, at most once per
witness.every (default 15m); recording never waits more than 2 seconds for
the witness and never fails because of it.

Exit status: 1 if the witness refused the checkpoint because the ledger no
longer extends what it saw (a rewrite or rollback); 2 for a witness that does
not follow this ledger or trust its key; 3 when it cannot be reached (the next
command tries again).

Examples:
  cairn config witness "$(cat legal-witness.vkey)"
  cairn config witness.url https://witness.studio-x.example
  cairn publish
  cairn publish http://127.0.0.1:7380 --json`,
		Flags: []cli.Flag{
			dirFlag(),
			&cli.StringFlag{Name: "witness", Usage: "the witness's verifier key (default: the one configured with cairn config witness)"},
			&cli.DurationFlag{Name: "wait", Value: 10 * time.Second, Usage: "how long to wait for the studio log's proof"},
			jsonFlag("print the result as JSON"),
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return usageErrorf("give at most one witness URL (got %d arguments)", c.NArg())
			}
			id, b, err := openSigning(c)
			if err != nil {
				return err
			}
			defer b.Close()
			opts, err := publishOptions(c, b, c.Args().First(), c.String("witness"))
			if err != nil {
				return err
			}
			if opts == nil {
				return usageErrorf("which witness? Give its URL (cairn publish URL), or configure it: cairn config witness.url URL")
			}
			cp, err := publishable(b, id)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second+c.Duration("wait"))
			defer cancel()
			pub, err := b.Publish(ctx, cp, *opts)
			if err != nil {
				return publishError(opts.URL, cp, err)
			}
			out := map[string]any{"origin": cp.Origin, "size": pub.Size, "witness": pub.Witness, "witness_had": pub.Old,
				"cosigned_at": pub.Time.UTC().Format(time.RFC3339)}
			if !c.Bool("json") {
				fmt.Fprintf(c.App.Writer, "cosigned by %s at %s: the checkpoint of %d records (the witness had seen %d)\n",
					pub.Witness, pub.Time.UTC().Format(time.RFC3339), pub.Size, pub.Old)
			}
			if pub.StudioIndex >= 0 {
				out["studio_log"], out["studio_index"] = pub.StudioLog, pub.StudioIndex
				if !c.Bool("json") {
					fmt.Fprintf(c.App.ErrWriter, "the studio log %s holds it as entry %d; fetching its inclusion proof (up to %s)\n", pub.StudioLog, pub.StudioIndex, c.Duration("wait"))
				}
			}
			fetched, ferr := b.FetchStudioProofs(ctx, *opts, c.Duration("wait"))
			var proofs []map[string]any
			for _, fp := range fetched {
				proofs = append(proofs, proofJSON(fp))
				if !c.Bool("json") {
					printFetched(c.App.Writer, fp)
				}
			}
			out["studio_proofs"] = proofs
			pending, _ := b.PendingProofs()
			out["pending_proofs"] = len(pending)
			if c.Bool("json") {
				if ferr != nil {
					out["studio_error"] = ferr.Error()
				}
				return printJSON(c.App.Writer, out)
			}
			if ferr != nil {
				fmt.Fprintf(c.App.ErrWriter, "cairn: the studio log proof is still to fetch: %v; the next command tries again\n", ferr)
			} else if len(pending) > 0 {
				fmt.Fprintf(c.App.ErrWriter, "the studio log has not published a (timestamped) checkpoint covering %d cosignature(s) yet; the next command fetches the proof\n", len(pending))
			}
			return nil
		},
	}
}

func proofJSON(fp evidence.FetchedProof) map[string]any {
	m := map[string]any{"size": fp.Size, "witness": fp.Witness, "studio_log": fp.Log, "index": fp.Index,
		"studio_size": fp.StudioSize, "studio_key_checked": fp.Checked}
	if !fp.Time.IsZero() {
		m["no_later_than"], m["tsa"] = fp.Time.UTC().Format(time.RFC3339), fp.TSA
	}
	return m
}

func printFetched(w io.Writer, fp evidence.FetchedProof) {
	line := fmt.Sprintf("studio log %s: the cosigned checkpoint of %d records is entry %d of its checkpoint of %d entries", fp.Log, fp.Size, fp.Index, fp.StudioSize)
	if !fp.Time.IsZero() {
		line += fmt.Sprintf(", timestamped no later than %s (TSA: %s)", fp.Time.UTC().Format(time.RFC3339), safeLine(fp.TSA, 120))
	}
	if !fp.Checked {
		line += " (studio key not configured, not checked yet: cairn config studio VKEY)"
	}
	fmt.Fprintln(w, line)
}

// publishOptions gathers where to publish and whom to trust: the URL (given,
// else configured), the witness's key (given, else the one configured) and
// the studio log keys. It returns nil when no witness URL is known.
func publishOptions(c *cli.Context, b *evidence.Book, url, vkey string) (*evidence.PublishOptions, error) {
	cfg, err := evidence.ReadConfig(b.Dir)
	if err != nil {
		return nil, err
	}
	opts := &evidence.PublishOptions{URL: url, HTTPClient: &http.Client{Timeout: 30 * time.Second}}
	if cfg.Publish != nil {
		if opts.URL == "" {
			opts.URL = cfg.Publish.URL
		}
		opts.StudioURL = cfg.Publish.StudioURL
	}
	if opts.URL == "" {
		return nil, nil
	}
	if !strings.HasPrefix(opts.URL, "http://") && !strings.HasPrefix(opts.URL, "https://") {
		return nil, usageErrorf("the witness URL %q is not an http:// or https:// URL", opts.URL)
	}
	user, err := evidence.ReadUserConfig()
	if err != nil {
		return nil, err
	}
	keys := append(append([]string{}, cfg.Witnesses...), user.Witnesses...)
	switch {
	case vkey != "":
	case len(uniq(keys)) == 1:
		vkey = keys[0]
	case len(keys) == 0:
		return nil, usageErrorf("the witness's key is not configured: get it from the witness operator (cairn witness id) and run: cairn config witness VKEY")
	default:
		return nil, usageErrorf("%d witness keys are configured; say which witness this is: --witness VKEY", len(uniq(keys)))
	}
	if opts.Witness, err = witness.NewVerifier(vkey); err != nil {
		return nil, usageErrorf("witness key: %v", err)
	}
	for _, k := range append(append([]string{}, cfg.Studios...), user.Studios...) {
		v, err := note.NewVerifier(k)
		if err != nil {
			return nil, usageErrorf("studio key %q in your settings: %v", k, err)
		}
		opts.Studios = append(opts.Studios, v)
	}
	return opts, nil
}

func uniq(list []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// publishable returns the checkpoint to publish: the newest stored one if it
// covers the whole ledger, else a new one.
func publishable(b *evidence.Book, id *evidence.Identity) (*ledger.Checkpoint, error) {
	if b.Ledger.Size() == 0 {
		return nil, usageErrorf("the ledger has no records yet; nothing to publish")
	}
	text, err := b.Ledger.LatestCheckpoint()
	if err != nil {
		return nil, err
	}
	if text != nil {
		if cp, err := ledger.ParseCheckpoint(text); err == nil && cp.Size == b.Ledger.Size() {
			return cp, nil
		}
	}
	return b.Ledger.SignCheckpoint(id.Key)
}

// publishError turns a refusal into a message that says what to do, with the
// exit code of its kind.
func publishError(url string, cp *ledger.Checkpoint, err error) error {
	var netErr net.Error
	switch {
	case errors.Is(err, evidence.ErrWitnessRefused):
		return &exitError{exitVerify, fmt.Errorf("refused: %v", err)}
	case errors.Is(err, witness.ErrUnknownLog):
		return usageErrorf("the witness at %s does not follow %s yet: give its operator your key (cairn id --vkey) to run cairn witness trust VKEY", url, cp.Origin)
	case errors.Is(err, witness.ErrUntrusted):
		return usageErrorf("the witness at %s does not trust the key that signed this checkpoint of %s: give its operator your key (cairn id --vkey) to run cairn witness trust VKEY", url, cp.Origin)
	case errors.As(err, &netErr), errors.Is(err, context.DeadlineExceeded), errors.Is(err, witness.ErrUnavailable):
		return fmt.Errorf("the witness at %s could not be reached (%v); nothing was lost: the checkpoint is kept, and cairn publish (or the next recorded step, with witness.url set) sends it again", url, err)
	}
	return fmt.Errorf("publishing to %s: %w", url, err)
}

// autoPublish runs after a command recorded something. With a witness server
// configured (witness.url), it publishes a checkpoint when records are not yet
// cosigned and witness.every has passed since the last try (a minute after a
// failed one), then fetches the studio log proofs still queued. It waits at most
// autoPublishTimeout, and never fails the command.
func autoPublish(c *cli.Context, b *evidence.Book, id *evidence.Identity) {
	cfg, err := evidence.ReadConfig(b.Dir)
	if err != nil || cfg.Publish == nil || cfg.Publish.URL == "" {
		return
	}
	opts, err := publishOptions(c, b, "", "")
	if err != nil || opts == nil {
		if err != nil {
			fmt.Fprintf(c.App.ErrWriter, "cairn: publish skipped: %v\n", err)
		}
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), autoPublishTimeout)
	defer cancel()
	opts.HTTPClient = &http.Client{Timeout: autoPublishTimeout}
	every := evidence.DefaultPublishEvery
	if d, err := time.ParseDuration(cfg.Publish.Every); err == nil {
		every = d
	}
	pending, lastTry, failed, err := b.PublishPending(opts.Witness.Name())
	if err != nil {
		return
	}
	since := time.Since(lastTry)
	if pending && (since >= every || failed != "" && since >= min(every, autoRetryAfter) || lastTry.IsZero()) {
		cp, err := publishable(b, id)
		if err == nil {
			var pub *evidence.Published
			if pub, err = b.Publish(ctx, cp, *opts); err == nil {
				fmt.Fprintf(c.App.ErrWriter, "published: %s cosigned the checkpoint of %d records\n", pub.Witness, pub.Size)
			}
		}
		if err != nil {
			fmt.Fprintf(c.App.ErrWriter, "cairn: step recorded; publishing queued (%v). It is retried by a later command, or now with: cairn publish\n", publishError(opts.URL, cp, err))
			return
		}
	}
	fetched, err := b.FetchStudioProofs(ctx, *opts, 0)
	for _, fp := range fetched {
		printFetched(c.App.ErrWriter, fp)
	}
	_ = err // still queued: a later command tries again
}
