package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/internal/msg"
	"github.com/cairn-ledger/cairn/ledger"
)

func assetFields(forNew bool) []cli.Flag {
	return []cli.Flag{
		dirFlag(),
		&cli.StringFlag{Name: "title", Aliases: []string{"t"}, Usage: "a human title"},
		&cli.StringFlag{Name: "kind", Usage: "illustration, logo, text, product-design, photo or other"},
		&cli.StringFlag{Name: "owner", Usage: "who holds the rights (a person or a company)"},
		&cli.StringFlag{Name: "basis", Usage: "why they hold them: employment, commission, assignment (a transfer by deed or contract), own or other"},
		&cli.StringFlag{Name: "contract", Usage: "a reference to the contract that settles the rights"},
		&cli.StringFlag{Name: "tdm", Usage: "text-and-data-mining choice: allowed or prohibited"},
		jsonFlag("print the recorded step as JSON"),
	}
}

func assetStep(c *cli.Context, kind string) (*evidence.Step, error) {
	if c.NArg() != 1 {
		return nil, usageErrorf("give exactly one asset ID, for example: cairn asset %s poster --title \"Festival poster\"", strings.TrimPrefix(kind, "asset-"))
	}
	id := c.Args().First()
	if !evidence.ValidAssetID(id) {
		return nil, usageErrorf("asset ID %q is not valid: use up to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", id)
	}
	return &evidence.Step{
		Kind: kind, Asset: id, Title: c.String("title"), AssetKind: c.String("kind"), Owner: c.String("owner"),
		Basis: c.String("basis"), Contract: c.String("contract"), TDM: c.String("tdm"),
	}, nil
}

func cmdAsset() *cli.Command {
	return &cli.Command{
		Name:  "asset",
		Usage: "create, change, list and show assets (the works you make)",
		Subcommands: []*cli.Command{
			{
				Name:      "new",
				Usage:     "create an asset and record who holds its rights",
				ArgsUsage: "ID",
				Description: `Every step belongs to an asset: one work, such as a poster or a logo.
The rights fields say who owns the result and on what basis:
  employment   made by an employee: the rights usually belong to the employer
  commission   made on commission: the maker keeps the rights unless a
               contract assigns them
  assignment   the rights were transferred to the owner by deed or contract
               (name it with --contract)
  own          the author's own work
  other        another basis (see the contract)

Examples:
  cairn asset new poster --title "Festival poster" --kind illustration \
      --owner "Studio X B.V." --basis employment
  cairn asset new logo --owner "Client B.V." --basis assignment --contract "Deed of assignment 2026-03"`,
				Flags: assetFields(true),
				Action: func(c *cli.Context) error {
					s, err := assetStep(c, evidence.KindAsset)
					if err != nil {
						return err
					}
					return recordAsset(c, s)
				},
			},
			{
				Name:      "set",
				Usage:     "change an asset's title or rights (recorded as a new step)",
				ArgsUsage: "ID",
				Flags:     assetFields(false),
				Action: func(c *cli.Context) error {
					s, err := assetStep(c, evidence.KindAssetSet)
					if err != nil {
						return err
					}
					if s.Title+s.AssetKind+s.Owner+s.Basis+s.Contract+s.TDM == "" {
						return usageErrorf("nothing to change: give at least one of --title, --kind, --owner, --basis, --contract, --tdm")
					}
					return recordAsset(c, s)
				},
			},
			{
				Name:  "list",
				Usage: "list the assets",
				Flags: []cli.Flag{dirFlag(), jsonFlag("one JSON object per line")},
				Action: func(c *cli.Context) error {
					b, err := openBook(c)
					if err != nil {
						return err
					}
					defer b.Close()
					cfg, _ := evidence.ReadConfig(b.Dir)
					// From the records, never the cache (cairn verify checks
					// their signatures).
					rb, err := b.Rules()
					if err != nil {
						return err
					}
					assets := rb.Assets()
					if c.Bool("json") {
						for _, a := range assets {
							if err := printJSONLine(c, a); err != nil {
								return err
							}
						}
						return nil
					}
					if len(assets) == 0 {
						fmt.Fprintln(c.App.Writer, "no assets yet; create one with: cairn asset new ID --title \"...\"")
						return nil
					}
					tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "  ID\tTITLE\tSTEPS\tLAST STEP")
					for _, a := range assets {
						mark := " "
						if cfg != nil && cfg.Asset == a.ID {
							mark = "*"
						}
						fmt.Fprintf(tw, "%s %s\t%s\t%d\t%s\n", mark, a.ID, safeLine(a.Title, 40), a.Steps, a.Updated.Local().Format("2006-01-02 15:04"))
					}
					return tw.Flush()
				},
			},
			{
				Name:      "show",
				Usage:     "show an asset: rights, and what the human and the AI did",
				ArgsUsage: "ID",
				Flags:     []cli.Flag{dirFlag(), jsonFlag("print as JSON")},
				Action: func(c *cli.Context) error {
					b, err := openBook(c)
					if err != nil {
						return err
					}
					defer b.Close()
					id := c.Args().First()
					if id == "" {
						if id, err = resolveAsset(c, b); err != nil {
							return err
						}
					}
					// From the signed records, never the cache.
					v, err := b.ViewAsset(id)
					if err != nil {
						return err
					}
					a, steps := v.Info, v.Steps
					h := evidence.NewHistory(id, steps)
					acc := h.Account()
					if c.Bool("json") {
						return printJSON(c.App.Writer, map[string]any{"asset": a, "account": acc,
							"human": acc.HumanContribution(msg.English), "ai": acc.AIContribution(msg.English), "unknown": acc.UnknownContribution(msg.English),
							"basis_meaning": evidence.BasisMeaning(msg.English, a.Basis, a.Contract), "copyright_draft": h.CopyrightDraft(msg.English)})
					}
					printAsset(c.App.Writer, a, acc)
					return nil
				},
			},
		},
	}
}

func recordAsset(c *cli.Context, s *evidence.Step) error {
	return recordStep(c, func(*evidence.Book, *evidence.Identity) (*evidence.Step, error) { return s, nil },
		func(r *ledger.Record, s *evidence.Step) string {
			if s.Kind == evidence.KindAsset {
				return fmt.Sprintf("created asset %s (record #%d)\nMake it the current asset with: cairn use %s", s.Asset, r.Seq, s.Asset)
			}
			return fmt.Sprintf("updated asset %s (record #%d)", s.Asset, r.Seq)
		})
}

func cmdUse() *cli.Command {
	return &cli.Command{
		Name:      "use",
		Usage:     "choose the current asset, so later steps need no --asset",
		ArgsUsage: "ID",
		Description: `use saves the current asset in .cairn/config.json. It is a local setting, not
evidence: nothing is recorded in the ledger. Without an argument it prints the
current asset.`,
		Flags: []cli.Flag{dirFlag()},
		Action: func(c *cli.Context) error {
			b, err := openBook(c)
			if err != nil {
				return err
			}
			defer b.Close()
			cfg, err := evidence.ReadConfig(b.Dir)
			if err != nil {
				return err
			}
			if c.NArg() == 0 {
				if cfg.Asset == "" {
					return usageErrorf("no current asset; choose one with: cairn use ID")
				}
				fmt.Fprintln(c.App.Writer, cfg.Asset)
				return nil
			}
			if c.NArg() > 1 {
				return usageErrorf("use takes one asset ID")
			}
			if _, err := b.Asset(c.Args().First()); err != nil {
				return err
			}
			cfg.Asset = c.Args().First()
			if err := b.WriteConfig(cfg); err != nil {
				return err
			}
			fmt.Fprintf(c.App.Writer, "current asset: %s\n", cfg.Asset)
			return nil
		},
	}
}

// printAsset writes asset show's account for people.
func printAsset(w io.Writer, a *evidence.AssetInfo, acc *evidence.Account) {
	fmt.Fprintf(w, "asset     %s\n", a.ID)
	for _, f := range [][2]string{{"title", a.Title}, {"kind", a.Kind}, {"owner", a.Owner}, {"basis", a.Basis}, {"contract", a.Contract}, {"tdm", a.TDM}} {
		if f[1] != "" {
			fmt.Fprintf(w, "%-9s %s\n", f[0], safeLine(f[1], 200))
		}
	}
	if a.Basis != "" {
		fmt.Fprintf(w, "          (%s)\n", evidence.BasisMeaning(msg.English, a.Basis, a.Contract))
	}
	fmt.Fprintf(w, "created   %s (record #%d)\n", a.Created.Local().Format("2006-01-02 15:04:05"), a.Seq)
	fmt.Fprintf(w, "steps     %d that count: %d by a human, %d by an AI, %d by both, %d by an unknown hand; over %s\n",
		acc.Steps, acc.HumanSteps, acc.AISteps, acc.BothSteps, acc.UnknownSteps, acc.Span().Round(1e9))
	if acc.Retracted+acc.Retractions > 0 {
		fmt.Fprintf(w, "retracted %s, by %s (counted nowhere)\n", evidence.Plural(acc.Retracted, "record", "records"), evidence.Plural(acc.Retractions, "retraction", "retractions"))
	}
	for _, part := range []struct {
		label string
		lines []string
	}{{"human", acc.HumanContribution(msg.English)}, {"AI", acc.AIContribution(msg.English)}, {"unknown", acc.UnknownContribution(msg.English)}} {
		if len(part.lines) > 0 {
			fmt.Fprintf(w, "%-9s %s\n", part.label, strings.Join(part.lines, "\n          "))
		}
	}
	if acc.SourceType != "" {
		fmt.Fprintf(w, "source    %s (the final work, IPTC digital source type)\n", strings.TrimPrefix(acc.SourceType, "http://cv.iptc.org/newscodes/digitalsourcetype/"))
	} else {
		fmt.Fprintf(w, "source    unknown: %s\n", acc.SourceUnknown)
	}
	if acc.Inputs > 0 {
		fmt.Fprintf(w, "inputs    %d third-party, %d with unknown permission\n", acc.Inputs, acc.InputsUnknown)
	}
	for _, d := range acc.Disclosures {
		note := ""
		if d.BeforeRecord {
			note = " (declared: earlier than the asset's first record)"
		}
		fmt.Fprintf(w, "disclosed %s %s%s\n", d.Date, safeLine(d.Where, 80), note)
	}
	if first := acc.DeadlineDisclosure(); first != nil && len(acc.Disclosures) > 1 {
		fmt.Fprintf(w, "deadlines run from %s (record #%d), the earliest declared disclosure\n", first.Date, first.Seq)
	}
}
