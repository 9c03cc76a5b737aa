package main

import (
	"fmt"
	"os"

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
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "also write the checkpoint to this file"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErrorf("checkpoint takes no arguments (got %q); to write a file use --out %s", c.Args().First(), c.Args().First())
			}
			id, err := loadIdentity(c)
			if err != nil {
				return err
			}
			b, err := openBook(c)
			if err != nil {
				return err
			}
			defer b.Close()
			cp, err := b.Ledger.SignCheckpoint(id.Key)
			if err != nil {
				return err
			}
			if out := c.String("out"); out != "" {
				if err := os.WriteFile(out, cp.Note, 0o644); err != nil {
					return fmt.Errorf("checkpoint signed and stored, but writing %s failed: %w", out, err)
				}
				fmt.Fprintf(c.App.ErrWriter, "wrote %s (checkpoint of %d records)\n", out, cp.Size)
			}
			_, err = c.App.Writer.Write(cp.Note)
			return err
		},
	}
}
