package main

import (
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v2"
)

func cmdCheckpoint() *cli.Command {
	return &cli.Command{
		Name:  "checkpoint",
		Usage: "sign a checkpoint of the ledger, to hand to someone or keep",
		Description: `checkpoint signs the ledger's current size and Merkle root as a C2SP
tlog-checkpoint in a C2SP signed note, stores it in the ledger and prints it.

Give the checkpoint file to someone else (legal, a client, an IP office). Later,
cairn verify --since FILE proves that the ledger still contains everything the
checkpoint covered, unchanged: the owner cannot quietly rewrite history that
someone else has seen. Check its signature with the key from cairn id --vkey.`,
		Flags: []cli.Flag{
			dirFlag(),
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "also write the checkpoint to this file (and its timestamp to FILE.tsr)"},
			&cli.StringFlag{Name: "tsa", Usage: "timestamp it with this RFC 3161 service (default: cairn config tsa.url)"},
			&cli.StringFlag{Name: "tsa-roots", Usage: "PEM roots the TSA must chain to (default: cairn config tsa.roots)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErrorf("checkpoint takes no arguments (got %q); to write a file use --out %s", c.Args().First(), c.Args().First())
			}
			id, b, err := openSigningToRead(c)
			if err != nil {
				return err
			}
			defer b.Close()
			url, roots, err := tsaSettings(c, b)
			if err != nil {
				return err
			}
			cp, err := b.Ledger.SignCheckpoint(id.Key)
			if err != nil {
				return err
			}
			var tokErr error
			var resp []byte
			if url != "" {
				tok, err := fetchToken(b, cp.Size, url, roots)
				if err != nil {
					tokErr = fmt.Errorf("checkpoint signed and stored, but not timestamped: %w; retry with: cairn timestamp --pending", err)
				} else {
					resp = tok.Response
					fmt.Fprintf(c.App.ErrWriter, "timestamped: these %d records existed no later than %s (TSA: %s)\n", cp.Size, tok.Latest().Format(time.RFC3339), tok.TSA)
				}
			}
			if out := c.String("out"); out != "" {
				if err := os.WriteFile(out, cp.Note, 0o644); err != nil {
					return fmt.Errorf("checkpoint signed and stored, but writing %s failed: %w", out, err)
				}
				fmt.Fprintf(c.App.ErrWriter, "wrote %s (checkpoint of %d records)\n", out, cp.Size)
				if resp != nil {
					if err := os.WriteFile(out+".tsr", resp, 0o644); err != nil {
						return err
					}
					fmt.Fprintf(c.App.ErrWriter, "wrote %s.tsr (RFC 3161 response; check it with: openssl ts -verify -data %s -in %s.tsr -CAfile ROOTS.pem)\n", out, out, out)
				}
			}
			if _, err := c.App.Writer.Write(cp.Note); err != nil {
				return err
			}
			return tokErr
		},
	}
}
