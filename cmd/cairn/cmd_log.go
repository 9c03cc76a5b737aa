package main

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/ledger"
)

func cmdLog() *cli.Command {
	return &cli.Command{
		Name:  "log",
		Usage: "print the timeline of recorded steps",
		Description: `log prints every recorded step in order, or those the filters choose. On a
terminal the output goes through a pager ($PAGER, else less -FRX), as git
does; piped, it does not.

  --asset ID        only this asset's steps
  --kind KIND       only steps of this kind (repeatable: --kind prompt --kind edit)
  --since TIME      only steps recorded at or after TIME (2026-11-20 or RFC 3339)
  --until TIME      only steps recorded before TIME
  --grep REGEXP     only steps whose text, reasons, notes, names, tools or file
                    names match (Go regexp; (?i) for any case)
  -n N              only the last N of the steps chosen
  --json            one JSON object per line: the step's fields (the same names
                    as the command flags and cairn batch), plus seq, time,
                    author and hash
  --raw             every record's exact stored bytes, base64, one per line, in
                    order; with FORMAT.md this is enough to recompute the
                    ledger's Merkle root with any RFC 6962 implementation

Examples:
  cairn log --asset poster --kind edit
  cairn log --since 2026-11-01 --until 2026-12-01 --grep '(?i)fox'
  cairn log -n 20 --json | jq .text`,
		Flags: []cli.Flag{
			dirFlag(),
			&cli.StringFlag{Name: "asset", Aliases: []string{"a"}, Usage: "only this asset's steps"},
			&cli.StringSliceFlag{Name: "kind", Usage: "only steps of this kind (repeatable)"},
			&cli.StringFlag{Name: "since", Usage: "only steps recorded at or after this time (YYYY-MM-DD or RFC 3339)"},
			&cli.StringFlag{Name: "until", Usage: "only steps recorded before this time (YYYY-MM-DD or RFC 3339)"},
			&cli.StringFlag{Name: "grep", Usage: "only steps whose texts match this regular expression"},
			&cli.IntFlag{Name: "n", Usage: "only the last N of the steps chosen"},
			jsonFlag("one JSON object per line"),
			&cli.BoolFlag{Name: "raw", Usage: "every record's exact bytes, base64, one per line"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErrorf("log takes no arguments (got %q); to filter by asset use --asset %s", c.Args().First(), c.Args().First())
			}
			sel, err := logSelection(c)
			if err != nil {
				return err
			}
			b, err := openBook(c)
			if err != nil {
				return err
			}
			defer b.Close()
			if c.Bool("raw") {
				if sel.filters() {
					return usageErrorf("--raw prints every record of the ledger; it cannot be combined with filters or --json")
				}
				return b.Ledger.Scan(0, func(r *ledger.Record) error {
					_, err := fmt.Fprintln(c.App.Writer, base64.StdEncoding.EncodeToString(r.Entry))
					return err
				})
			}
			if sel.asset != "" {
				if _, err := b.Asset(sel.asset); err != nil {
					return err
				}
			}
			w, done := startPager(c)
			defer done()
			return printLog(c, w, b, sel)
		},
	}
}

// logSelect is what log --asset, --kind, --since, --until, --grep and -n choose.
type logSelect struct {
	asset        string
	kinds        map[string]bool
	since, until time.Time
	grep         *regexp.Regexp
	last         int
	json         bool
}

func logSelection(c *cli.Context) (*logSelect, error) {
	sel := &logSelect{asset: c.String("asset"), last: c.Int("n"), json: c.Bool("json")}
	if sel.last < 0 {
		return nil, usageErrorf("-n %d: give a positive number of steps", sel.last)
	}
	for _, k := range c.StringSlice("kind") {
		if !slices.Contains(evidence.AllKinds(), k) {
			return nil, usageErrorf("--kind %q is not a step kind; the kinds are %s", k, strings.Join(evidence.AllKinds(), ", "))
		}
		if sel.kinds == nil {
			sel.kinds = map[string]bool{}
		}
		sel.kinds[k] = true
	}
	var err error
	if sel.since, err = parseWhen("--since", c.String("since")); err != nil {
		return nil, err
	}
	if sel.until, err = parseWhen("--until", c.String("until")); err != nil {
		return nil, err
	}
	if g := c.String("grep"); g != "" {
		if sel.grep, err = regexp.Compile(g); err != nil {
			return nil, usageErrorf("--grep %q: %v", g, err)
		}
	}
	return sel, nil
}

func (sel *logSelect) filters() bool {
	return sel.asset != "" || sel.kinds != nil || !sel.since.IsZero() || !sel.until.IsZero() || sel.grep != nil || sel.last > 0 || sel.json
}

// parseWhen reads a date (midnight UTC) or an RFC 3339 time.
func parseWhen(flag, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, usageErrorf("%s %q is not a date (YYYY-MM-DD) or an RFC 3339 time (2026-11-20T14:05:00Z)", flag, v)
	}
	return t, nil
}

// takes reports whether the selection keeps the step.
func (sel *logSelect) takes(sr evidence.StepRecord) bool {
	s, t := sr.Step, sr.Rec.Time
	switch {
	case sel.asset != "" && s.Asset != sel.asset,
		sel.kinds != nil && !sel.kinds[s.Kind],
		!sel.since.IsZero() && t.Before(sel.since),
		!sel.until.IsZero() && !t.Before(sel.until):
		return false
	case sel.grep == nil:
		return true
	}
	for _, text := range s.Texts() {
		if sel.grep.MatchString(text) {
			return true
		}
	}
	return false
}

// printLog prints the chosen steps. Authors are named by the records that
// introduced their keys, read as the log goes (a key is introduced before it
// signs); with -n, only the last N chosen are kept while reading.
func printLog(c *cli.Context, w io.Writer, b *evidence.Book, sel *logSelect) error {
	rb := evidence.NewRuleBook(b.ReadRecord)
	retracted, err := retractedRecords(b)
	if err != nil {
		return err
	}
	strike := isTerminal(w)
	type line struct {
		sr     evidence.StepRecord
		author *evidence.KeyState
	}
	var kept []line
	print := func(l line) error {
		if sel.json {
			return printJSONStep(w, l.author, l.sr)
		}
		return printStepLine(w, l.author, l.sr, retracted[l.sr.Rec.Seq], strike)
	}
	n := 0
	err = b.Ledger.Scan(0, func(r *ledger.Record) error {
		s, err := rb.Apply(r)
		if err != nil {
			return &ledger.VerifyError{Seq: r.Seq, Problem: err.Error() + " (run cairn verify)"}
		}
		sr := evidence.StepRecord{Rec: r, Step: s}
		if !sel.takes(sr) {
			return nil
		}
		n++
		l := line{sr, rb.Key(r.Key)}
		if sel.last == 0 {
			return print(l)
		}
		if kept = append(kept, l); len(kept) > sel.last {
			kept = kept[1:]
		}
		return nil
	})
	for _, l := range kept {
		if err == nil {
			err = print(l)
		}
	}
	if err == nil && n == 0 && !sel.json {
		if sel.filters() {
			fmt.Fprintln(w, "no step matches")
		} else {
			fmt.Fprintln(w, "no steps recorded yet")
		}
	}
	if err == nil {
		warnNameClashes(c.App.ErrWriter, rb)
	}
	return err
}

// startPager sends the command's output through a pager when it goes to a
// terminal, as git does: $PAGER, else "less -FRX" (which quits at once when the
// output fits). Piped or redirected, it is printed as it is. done waits for
// the pager.
func startPager(c *cli.Context) (io.Writer, func()) {
	w := c.App.Writer
	pager, set := os.LookupEnv("PAGER")
	cmdline := pagerCommand(isTerminal(w), pager, set)
	if cmdline == "" {
		return w, func() {}
	}
	fields := strings.Fields(cmdline)
	cmd := exec.Command(fields[0], fields[1:]...)
	cmd.Stdout, cmd.Stderr = w, c.App.ErrWriter
	in, err := cmd.StdinPipe()
	if err != nil || cmd.Start() != nil {
		return w, func() {}
	}
	return in, func() {
		in.Close()
		cmd.Wait()
	}
}

// pagerCommand is the pager to run, or "" for none: none unless the output is
// a terminal, and none for PAGER=cat or an empty PAGER= (git's conventions).
func pagerCommand(terminal bool, pager string, set bool) string {
	switch {
	case !terminal, set && (pager == "" || pager == "cat"):
		return ""
	case set:
		return pager
	}
	if _, err := exec.LookPath("less"); err != nil {
		return ""
	}
	return "less -FRX"
}

// printStepLine prints one step as a line for people: its author is named with
// the key that signed it, since two people can share a name. A retracted step
// is struck through (on a terminal) and marked with its retraction.
func printStepLine(w io.Writer, author *evidence.KeyState, sr evidence.StepRecord, retractedBy *evidence.StepRecord, strike bool) error {
	s, r := sr.Step, sr.Rec
	h := r.Hash()
	line := fmt.Sprintf("#%-4d %s  %-12s %-9s %-7s %s  [%x] %s", r.Seq, r.Time.Local().Format("2006-01-02 15:04:05"),
		safeLine(s.Asset, 12), s.Kind, s.By, describe(s), h[:4], authorLabel(author, r.Key))
	if retractedBy != nil {
		if strike {
			line = "\x1b[9m" + line + "\x1b[0m"
		}
		line += fmt.Sprintf("  RETRACTED by #%d: %s", retractedBy.Rec.Seq, safeLine(retractedBy.Step.Why, 60))
	}
	_, err := fmt.Fprintln(w, line)
	return err
}

// authorLabel is "Name (key 0123456789abcdef)", or the key alone.
func authorLabel(k *evidence.KeyState, pub ed25519.PublicKey) string {
	if k == nil || k.Name == "" {
		return "key " + ledger.KeyID(pub)
	}
	return safeLine(k.Name, 40) + " (key " + k.ID() + ")"
}

// retractedRecords maps each record a retraction names to the retraction.
// That the retraction is valid is verify's to check.
func retractedRecords(b *evidence.Book) (map[int64]*evidence.StepRecord, error) {
	out := map[int64]*evidence.StepRecord{}
	err := b.Scan(0, func(sr evidence.StepRecord) error {
		if sr.Step.Kind == evidence.KindRetract {
			if _, done := out[sr.Step.Retracts.Seq]; !done {
				out[sr.Step.Retracts.Seq] = &sr
			}
		}
		return nil
	})
	return out, err
}

// isTerminal reports whether w is a terminal, where escape codes show.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
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
		parts = append(parts, evidence.Plural(len(s.Out), "candidate", "candidates"))
		if len(s.In) > 0 {
			parts = append(parts, "from "+safeLine(s.In[0].Name, 25))
		}
	case evidence.KindSelect:
		parts = append(parts, fmt.Sprintf("chose %s of %d", safeLine(s.File.Name, 30), len(s.From)))
		if s.Why != "" {
			parts = append(parts, "why: "+strconv.Quote(safeLine(s.Why, 40)))
		}
	case evidence.KindEdit:
		parts = append(parts, fmt.Sprintf("%s -> %s", safeLine(s.Before.Name, 25), safeLine(s.After.Name, 25)))
		if len(s.In) > 0 {
			parts = append(parts, fmt.Sprintf("placing %s", evidence.Plural(len(s.In), "file", "files")))
		}
	case evidence.KindSketch, evidence.KindFinal:
		parts = append(parts, safeLine(s.File.Name, 40))
	case evidence.KindInput:
		parts = append(parts, fmt.Sprintf("%s (%s)", safeLine(s.File.Name, 30), s.Permission))
	case evidence.KindDisclose:
		parts = append(parts, s.Date+" "+safeLine(s.Where, 40))
	case evidence.KindFile:
		parts = append(parts, safeLine(s.File.Name, 40)+" (origin unknown)")
	case evidence.KindRetract:
		parts = append(parts, fmt.Sprintf("retracts #%d: %s", s.Retracts.Seq, strconv.Quote(safeLine(s.Why, 50))))
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
			printField("use", s.Use)
			if s.Retracts != nil {
				printField("retracts", fmt.Sprintf("#%d (leaf hash %s)", s.Retracts.Seq, s.Retracts.Hash))
			}
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
