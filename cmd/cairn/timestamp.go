package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/ledger/rfc3161"
)

// autoTimestampTimeout bounds how long recording a step may wait for a TSA.
const autoTimestampTimeout = 2 * time.Second

// autoTimestamp runs after a command recorded something. When a TSA is configured
// and the newest token is older than tsa.every, it signs a checkpoint and asks for a
// token, waiting at most autoTimestampTimeout. A failure never fails the command:
// the checkpoint stays pending and a later command (or cairn timestamp --pending)
// catches up. Then it publishes to the witness server, if one is configured
// (autoPublish), under the same rules.
func autoTimestamp(c *cli.Context, b *evidence.Book, id *evidence.Identity) {
	defer autoPublish(c, b, id)
	cfg, err := evidence.ReadConfig(b.Dir)
	if err != nil || cfg.TSA == nil || cfg.TSA.URL == "" {
		return
	}
	every := evidence.DefaultTimestampEvery
	if d, err := time.ParseDuration(cfg.TSA.Every); err == nil {
		every = d
	}
	last, lastSize, _ := b.LastTimestamp()
	if !last.IsZero() && (time.Since(last) < every || lastSize == b.Ledger.Size()) {
		return
	}
	roots, err := b.TSARoots(cfg)
	if err != nil {
		fmt.Fprintf(c.App.ErrWriter, "cairn: timestamp skipped: %v\n", err)
		return
	}
	pending, _ := b.PendingTimestamps()
	size := b.Ledger.Size()
	if len(pending) == 0 || pending[0] != size {
		cp, err := b.Ledger.SignCheckpoint(id.Key)
		if err != nil {
			fmt.Fprintf(c.App.ErrWriter, "cairn: timestamp skipped: %v\n", err)
			return
		}
		size = cp.Size
	}
	ctx, cancel := context.WithTimeout(context.Background(), autoTimestampTimeout)
	defer cancel()
	tok, err := b.TimestampCheckpoint(ctx, size, cfg.TSA.URL, roots)
	if err != nil {
		fmt.Fprintf(c.App.ErrWriter, "cairn: step recorded; timestamp queued (%v). It is retried by the next command, or now with: cairn timestamp --pending\n", err)
		return
	}
	fmt.Fprintf(c.App.ErrWriter, "timestamped: the %d records existed no later than %s (TSA: %s)\n", size, tok.Latest().Format(time.RFC3339), tok.TSA)
}

func cmdTimestamp() *cli.Command {
	return &cli.Command{
		Name:  "timestamp",
		Usage: "get trusted time: an RFC 3161 token over a checkpoint",
		Description: `timestamp signs a checkpoint of the ledger as it is now and asks a time-stamping
service (TSA) for an RFC 3161 token over it: independent proof that every record
existed no later than the token's time. With --pending it catches up on
checkpoints whose timestamp could not be fetched earlier.

The TSA is --tsa URL, or the one configured with cairn config tsa.url. Tokens are
checked against --tsa-roots, or the roots configured with cairn config tsa.roots.`,
		Flags: []cli.Flag{
			dirFlag(),
			&cli.StringFlag{Name: "tsa", Usage: "the time-stamping service URL (default: cairn config tsa.url)"},
			&cli.StringFlag{Name: "tsa-roots", Usage: "PEM roots the TSA must chain to (default: cairn config tsa.roots)"},
			&cli.BoolFlag{Name: "pending", Usage: "timestamp the checkpoints still waiting for one"},
		},
		Action: func(c *cli.Context) error {
			id, b, err := openSigning(c)
			if err != nil {
				return err
			}
			defer b.Close()
			url, roots, err := tsaSettings(c, b)
			if err != nil {
				return err
			}
			if url == "" {
				return usageErrorf("no time-stamping service: give --tsa URL, or configure one with cairn config tsa.url URL")
			}
			var sizes []int64
			if c.Bool("pending") {
				if sizes, err = b.PendingTimestamps(); err != nil {
					return err
				}
				if len(sizes) == 0 {
					fmt.Fprintln(c.App.Writer, "nothing pending: every checkpoint newer than the last timestamp has one")
					return nil
				}
			} else {
				cp, err := b.Ledger.SignCheckpoint(id.Key)
				if err != nil {
					return err
				}
				sizes = []int64{cp.Size}
			}
			for _, size := range sizes {
				tok, err := fetchToken(b, size, url, roots)
				if err != nil {
					return fmt.Errorf("timestamp of the checkpoint of %d records: %w", size, err)
				}
				printToken(c, size, tok, roots != nil)
			}
			return nil
		},
	}
}

// fetchToken timestamps the stored checkpoint of size. A command that asks for a
// timestamp on purpose waits up to 30 s; recording a step waits far less
// (autoTimestampTimeout).
func fetchToken(b *evidence.Book, size int64, url string, roots *x509.CertPool) (*rfc3161.Token, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return b.TimestampCheckpoint(ctx, size, url, roots)
}

func printToken(c *cli.Context, size int64, tok *rfc3161.Token, trusted bool) {
	trust := "TSA chains to the configured roots"
	if !trusted {
		trust = "TSA not checked against trusted roots (configure them: cairn config tsa.roots FILE)"
	}
	fmt.Fprintf(c.App.Writer, "timestamped the checkpoint of %d records: they existed no later than %s\n  TSA %s; %s\n",
		size, tok.Latest().Format(time.RFC3339), tok.TSA, trust)
}

// tsaSettings returns the TSA URL and roots from the flags, else the config.
func tsaSettings(c *cli.Context, b *evidence.Book) (string, *x509.CertPool, error) {
	cfg, err := evidence.ReadConfig(b.Dir)
	if err != nil {
		return "", nil, err
	}
	url := c.String("tsa")
	if url == "" && cfg.TSA != nil {
		url = cfg.TSA.URL
	}
	if p := c.String("tsa-roots"); p != "" {
		pool, _, err := evidence.LoadRoots(p)
		if err != nil {
			return "", nil, usageErrorf("--tsa-roots: %v", err)
		}
		return url, pool, nil
	}
	pool, err := b.TSARoots(cfg)
	if err != nil {
		return "", nil, err
	}
	return url, pool, nil
}
