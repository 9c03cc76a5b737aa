package main

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/urfave/cli/v2"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/ledger"
)

func cmdLog() *cli.Command {
	return &cli.Command{
		Name:  "log",
		Usage: "print the timeline of recorded steps",
		Description: `log prints every recorded step in order, or those of one asset.

  --json  one JSON object per line: the step's fields (the same names as the
          command flags and cairn batch), plus seq, time, author and hash
  --raw   every record's exact stored bytes, base64, one per line, in order;
          with FORMAT.md this is enough to recompute the ledger's Merkle root
          with any RFC 6962 implementation`,
		Flags: []cli.Flag{
			dirFlag(),
			&cli.StringFlag{Name: "asset", Aliases: []string{"a"}, Usage: "only this asset's steps"},
			jsonFlag("one JSON object per line"),
			&cli.BoolFlag{Name: "raw", Usage: "every record's exact bytes, base64, one per line"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErrorf("log takes no arguments (got %q); to filter by asset use --asset %s", c.Args().First(), c.Args().First())
			}
			b, err := openBook(c)
			if err != nil {
				return err
			}
			defer b.Close()
			w := c.App.Writer
			if c.Bool("raw") {
				if c.String("asset") != "" || c.Bool("json") {
					return usageErrorf("--raw prints every record of the ledger; it cannot be combined with --asset or --json")
				}
				return b.Ledger.Scan(0, func(r *ledger.Record) error {
					_, err := fmt.Fprintln(w, base64.StdEncoding.EncodeToString(r.Entry))
					return err
				})
			}
			asset := c.String("asset")
			if asset != "" {
				if _, err := b.Asset(asset); err != nil {
					return err
				}
			}
			// Authors are named by the records that introduced their keys,
			// read as the log goes (a key is introduced before it signs).
			rb := evidence.NewRuleBook()
			n := 0
			err = b.Ledger.Scan(0, func(r *ledger.Record) error {
				s, err := rb.Apply(r)
				if err != nil {
					return &ledger.VerifyError{Seq: r.Seq, Problem: err.Error() + " (run cairn verify)"}
				}
				if asset != "" && s.Asset != asset {
					return nil
				}
				n++
				sr := evidence.StepRecord{Rec: r, Step: s}
				if c.Bool("json") {
					return printJSONStep(w, rb.Key(r.Key), sr)
				}
				return printStepLine(w, rb.Key(r.Key), sr)
			})
			if err == nil && n == 0 && !c.Bool("json") {
				fmt.Fprintln(w, "no steps recorded yet")
			}
			if err == nil {
				warnNameClashes(c.App.ErrWriter, rb)
			}
			return err
		},
	}
}

// printStepLine prints one step as a line for people: its author is named with
// the key that signed it, since two people can share a name.
func printStepLine(w io.Writer, author *evidence.KeyState, sr evidence.StepRecord) error {
	s, r := sr.Step, sr.Rec
	h := r.Hash()
	what := describe(s)
	_, err := fmt.Fprintf(w, "#%-4d %s  %-12s %-9s %-5s %s  [%x] %s\n", r.Seq, r.Time.Local().Format("2006-01-02 15:04:05"),
		safeLine(s.Asset, 12), s.Kind, s.By, what, h[:4], authorLabel(author, r.Key))
	return err
}

// authorLabel is "Name (key 0123456789abcdef)", or the key alone.
func authorLabel(k *evidence.KeyState, pub ed25519.PublicKey) string {
	if k == nil || k.Name == "" {
		return "key " + ledger.KeyID(pub)
	}
	return safeLine(k.Name, 40) + " (key " + k.ID() + ")"
}

// describe summarises a step's content in one line.
func describe(s *evidence.Step) string {
	var parts []string
	switch s.Kind {
	case evidence.KindIdentity:
		parts = append(parts, fmt.Sprintf("%s <%s>", safeLine(s.Name, 40), safeLine(s.Email, 40)))
	case evidence.KindAsset, evidence.KindAssetSet:
		parts = append(parts, strconv.Quote(safeLine(s.Title, 50)))
		if s.Owner != "" {
			parts = append(parts, "owner "+safeLine(s.Owner, 30))
		}
	case evidence.KindPrompt, evidence.KindNote:
		parts = append(parts, strconv.Quote(safeLine(s.Text, 60)))
	case evidence.KindGenerate:
		parts = append(parts, fmt.Sprintf("%d candidate(s)", len(s.Out)))
	case evidence.KindSelect:
		parts = append(parts, fmt.Sprintf("chose %s of %d", safeLine(s.File.Name, 30), len(s.From)))
		if s.Why != "" {
			parts = append(parts, "why: "+strconv.Quote(safeLine(s.Why, 40)))
		}
	case evidence.KindEdit:
		parts = append(parts, fmt.Sprintf("%s -> %s", safeLine(s.Before.Name, 25), safeLine(s.After.Name, 25)))
	case evidence.KindSketch, evidence.KindFinal:
		parts = append(parts, safeLine(s.File.Name, 40))
	case evidence.KindInput:
		parts = append(parts, fmt.Sprintf("%s (%s)", safeLine(s.File.Name, 30), s.Permission))
	case evidence.KindDisclose:
		parts = append(parts, s.Date+" "+safeLine(s.Where, 40))
	case evidence.KindSimilarity:
		m := s.Similarity
		parts = append(parts, fmt.Sprintf("%d file(s) against %d reference image(s): %s, nearest distance %d", len(s.In), m.Count, m.Result, m.Nearest))
	}
	if s.Tool != "" {
		t := "tool " + safeLine(s.Tool, 20)
		if s.Model != "" {
			t += "/" + safeLine(s.Model, 20)
		}
		parts = append(parts, t)
	}
	if s.Captured != nil {
		parts = append(parts, "captured from "+safeLine(s.Captured.From, 30))
	}
	return strings.Join(parts, ", ")
}

// safeLine shortens text to max runes on one line, replacing control characters,
// so that a prompt cannot rewrite the terminal.
func safeLine(s string, max int) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == max {
			b.WriteString("…")
			break
		}
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			r = ' '
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Bidi_Control, r):
			r = '�'
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

func printJSONLine(c *cli.Context, v any) error {
	enc := jsonEncoder(c.App.Writer)
	return enc.Encode(v)
}

func cmdShow() *cli.Command {
	return &cli.Command{
		Name:      "show",
		Usage:     "show one record in full",
		ArgsUsage: "SEQ",
		Flags:     []cli.Flag{dirFlag(), jsonFlag("print as JSON")},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageErrorf("show takes one record number, as printed by cairn log (for example: cairn show 12)")
			}
			seq, err := strconv.ParseInt(strings.TrimPrefix(c.Args().First(), "#"), 10, 64)
			if err != nil || seq < 0 {
				return usageErrorf("%q is not a record number; cairn log prints them as #12", c.Args().First())
			}
			b, err := openBook(c)
			if err != nil {
				return err
			}
			defer b.Close()
			if seq >= b.Ledger.Size() {
				return usageErrorf("no record %d: the ledger has %d records (0 to %d)", seq, b.Ledger.Size(), b.Ledger.Size()-1)
			}
			r, err := b.Ledger.Get(seq)
			if err != nil {
				return err
			}
			s, err := evidence.DecodeStep(r.Payload)
			if err != nil {
				return err
			}
			sr := evidence.StepRecord{Rec: r, Step: s}
			if c.Bool("json") {
				m, err := stepJSON(b.AuthorName(r.Key), sr)
				if err != nil {
					return err
				}
				m["prev"] = fmt.Sprintf("%x", r.Prev[:])
				m["key"] = fmt.Sprintf("%x", []byte(r.Key))
				m["signature"] = fmt.Sprintf("%x", r.Sig)
				return printJSON(c.App.Writer, m)
			}
			w := c.App.Writer
			h := r.Hash()
			fmt.Fprintf(w, "record    #%d\n", r.Seq)
			fmt.Fprintf(w, "time      %s\n", r.Time.Format("2006-01-02T15:04:05.000000000Z"))
			author := ledger.KeyID(r.Key)
			if n := b.AuthorName(r.Key); n != "" {
				author = safeLine(n, 60) + ", key " + author
			}
			fmt.Fprintf(w, "author    %s\n", author)
			fmt.Fprintf(w, "hash      %x (RFC 6962 leaf hash)\n", h[:])
			fmt.Fprintf(w, "prev      %x\n", r.Prev[:])
			fmt.Fprintf(w, "kind      %s, by %s\n", s.Kind, s.By)
			if s.Asset != "" {
				fmt.Fprintf(w, "asset     %s\n", s.Asset)
			}
			printField := func(name, v string) {
				if v != "" {
					fmt.Fprintf(w, "%-9s %s\n", name, strings.ReplaceAll(v, "\n", "\n          "))
				}
			}
			printField("tool", s.Tool)
			printField("model", s.Model)
			for _, k := range s.SortedParams() {
				printField("param", k+"="+s.Params[k])
			}
			printField("text", s.Text)
			printField("why", s.Why)
			printField("note", s.Note)
			printField("source", s.Source)
			printField("license", s.License)
			printField("permission", s.Permission)
			printField("date", s.Date)
			printField("where", s.Where)
			printField("title", s.Title)
			printField("owner", s.Owner)
			printField("basis", s.Basis)
			printField("contract", s.Contract)
			printField("name", s.Name)
			printField("email", s.Email)
			files := func(label string, fs ...evidence.FileRef) {
				for _, f := range fs {
					fmt.Fprintf(w, "%-9s %s  sha256 %s  %d bytes %s\n", label, safeLine(f.Name, 60), f.SHA256, f.Size, f.Type)
				}
			}
			if s.File != nil {
				files("file", *s.File)
			}
			files("out", s.Out...)
			files("in", s.In...)
			files("from", s.From...)
			files("rejected", s.Rejected...)
			if s.Before != nil {
				files("before", *s.Before)
			}
			if s.After != nil {
				files("after", *s.After)
			}
			if s.Captured != nil {
				fmt.Fprintf(w, "captured  from %s (values the tool wrote, not typed by the designer)\n", s.Captured.From)
				if s.Captured.ClaimedTime != "" {
					fmt.Fprintf(w, "          claimed time %s (as the source says; not verified)\n", s.Captured.ClaimedTime)
				}
				keys := make([]string, 0, len(s.Captured.Fields))
				for k := range s.Captured.Fields {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					fmt.Fprintf(w, "          %s: %s\n", k, safeLine(s.Captured.Fields[k], 200))
				}
			}
			return nil
		},
	}
}
