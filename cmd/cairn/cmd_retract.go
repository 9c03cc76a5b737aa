package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/ledger"
)

func cmdRetract() *cli.Command {
	return &cli.Command{
		Name:      "retract",
		Usage:     "record that an earlier step was recorded in error",
		ArgsUsage: "SEQ",
		Description: `retract records that step SEQ (the number cairn log prints) was a mistake: a
step recorded on the wrong asset because you forgot cairn use, a wrong file, a
duplicate. Nothing is rewritten or removed: the ledger only grows. The
retraction names the record by its number and its leaf hash, and belongs to
the same asset. From then on cairn log, verify and the evidence pack show the
original struck through beside the retraction, and no count includes it.

A retraction is refused (exit 2, nothing recorded) unless the record is an
earlier step of an asset, not an identity, key rotation, asset or asset-set
record (correct an asset's details with cairn asset set), not a retraction and
not retracted already, and unless you signed it or signed an earlier record of
the same asset. To record the step where it belongs, record it again there.

Example:
  cairn retract 14 --why "recorded on the wrong asset; it belongs to logo"`,
		Flags: []cli.Flag{
			dirFlag(),
			&cli.StringFlag{Name: "why", Usage: "why the step was recorded in error (required)"},
			jsonFlag("print the recorded step as JSON"),
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageErrorf("retract takes one record number, as cairn log prints it: cairn retract 14 --why \"...\"")
			}
			seq, err := strconv.ParseInt(strings.TrimPrefix(c.Args().First(), "#"), 10, 64)
			if err != nil || seq < 0 {
				return usageErrorf("%q is not a record number; cairn log prints them as #14", c.Args().First())
			}
			why := c.String("why")
			if strings.TrimSpace(why) == "" {
				return usageErrorf("say why the step was recorded in error: --why \"recorded on the wrong asset\"")
			}
			return recordStep(c, func(b *evidence.Book, id *evidence.Identity) (*evidence.Step, error) {
				return b.Retraction(seq, why, id.Public())
			}, func(r *ledger.Record, s *evidence.Step) string {
				return fmt.Sprintf("recorded retract #%d for %s: record #%d is retracted (%s); it stays in the ledger and counts nowhere", r.Seq, s.Asset, seq, safeLine(why, 80))
			})
		},
	}
}

// printRetracted is verify's line on retractions: each retracted record beside
// the retraction that names it, in order.
func printRetracted(w io.Writer, retracted map[int64]int64) {
	seqs := make([]int64, 0, len(retracted))
	for t := range retracted {
		seqs = append(seqs, t)
	}
	slices.Sort(seqs)
	for _, t := range seqs {
		fmt.Fprintf(w, "retracted   record #%d, by record #%d (the rules of a retraction hold; it counts nowhere)\n", t, retracted[t])
	}
}
