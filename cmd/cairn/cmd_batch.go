package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/ledger"
)

// batchLine is one line of cairn batch: a step kind and the flags of its command.
type batchLine struct {
	Kind  string `json:"kind"`
	Asset string `json:"asset"`

	Text       string         `json:"text"`
	Tool       string         `json:"tool"`
	Model      string         `json:"model"`
	Params     map[string]any `json:"params"`
	By         string         `json:"by"`
	Out        []fileArg      `json:"out"`
	In         []fileArg      `json:"in"`
	From       []fileArg      `json:"from"`
	File       *fileArg       `json:"file"`
	Before     *fileArg       `json:"before"`
	After      *fileArg       `json:"after"`
	Why        string         `json:"why"`
	Note       string         `json:"note"`
	Source     string         `json:"source"`
	License    string         `json:"license"`
	Permission string         `json:"permission"`
	Use        string         `json:"use"`
	Date       string         `json:"date"`
	Where      string         `json:"where"`
	Title      string         `json:"title"`
	AssetKind  string         `json:"asset_kind"`
	Owner      string         `json:"owner"`
	Basis      string         `json:"basis"`
	Contract   string         `json:"contract"`
	TDM        string         `json:"tdm"`

	// Fields that cairn log --json adds; accepted and ignored so that its output
	// can be fed back in.
	V          int             `json:"v"`
	Seq        json.RawMessage `json:"seq"`
	Time       json.RawMessage `json:"time"`
	Author     json.RawMessage `json:"author"`
	AuthorName json.RawMessage `json:"author_name"`
	Hash       json.RawMessage `json:"hash"`
	Rejected   json.RawMessage `json:"rejected"`
}

// fileArg is a path, given as a string or as {"path": ...}.
type fileArg struct{ Path string }

func (f *fileArg) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &f.Path)
	}
	var o struct {
		Path string `json:"path"`
		Name string `json:"name"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return errors.New("a file must be a path string or an object with \"path\"")
	}
	f.Path = o.Path
	if f.Path == "" {
		return errors.New("a file object needs \"path\"")
	}
	return nil
}

func paths(fs []fileArg) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Path
	}
	return out
}

func cmdBatch() *cli.Command {
	return &cli.Command{
		Name:      "batch",
		Usage:     "record many steps from JSON Lines (scripts, plugins, bulk)",
		ArgsUsage: "[FILE | -]",
		Description: `batch reads one step per line. A line names the kind (the command: prompt,
generate, select, edit, sketch, input, note, disclose, final, asset, asset-set),
the asset, and the command's flags as fields of the same names:

  {"kind":"asset","asset":"poster","title":"Festival poster","owner":"Studio X","basis":"commission"}
  {"kind":"prompt","asset":"poster","text":"a fox in the snow","tool":"midjourney","params":{"seed":42}}
  {"kind":"generate","asset":"poster","tool":"midjourney","out":["a.png","b.png"]}
  {"kind":"select","asset":"poster","file":"b.png","from":["a.png","b.png"],"why":"sharper"}
  {"kind":"note","asset":"poster","text":"chose the warmer palette"}

Files are paths (relative to the current directory). Empty lines and lines
starting with # are skipped. A bad line is reported with its line number; the
lines before it are recorded, nothing after it is.`,
		Flags: []cli.Flag{dirFlag(), jsonFlag("print each recorded step as JSON")},
		Action: func(c *cli.Context) error {
			var r io.Reader = c.App.Reader
			name := "standard input"
			if c.NArg() > 1 {
				return usageErrorf("batch takes one FILE (or - for standard input)")
			}
			if p := c.Args().First(); p != "" && p != "-" {
				f, err := os.Open(p)
				if err != nil {
					return usageErrorf("%v", err)
				}
				defer f.Close()
				r, name = f, p
			}
			id, err := loadIdentity(c)
			if err != nil {
				return err
			}
			// The bulk profile commits thousands of records per transaction.
			b, err := openBookWith(c, &evidence.OpenOptions{Bulk: true})
			if err != nil {
				return err
			}
			defer b.Close()
			var steps []*evidence.Step
			var lineErr error
			pending := map[string]bool{}
			sc := bufio.NewScanner(r)
			sc.Buffer(make([]byte, 64<<10), 2*evidence.MaxTextBytes+64<<10)
			lineNo := 0
			for sc.Scan() {
				lineNo++
				line := bytes.TrimSpace(sc.Bytes())
				if len(line) == 0 || line[0] == '#' {
					continue
				}
				s, err := batchStep(b, line)
				if err == nil {
					err = checkBatchAsset(b, s, pending)
				}
				if err != nil {
					lineErr = usageErrorf("%s, line %d: %v", name, lineNo, err)
					break
				}
				steps = append(steps, s)
			}
			if err := sc.Err(); err != nil && lineErr == nil {
				lineErr = usageErrorf("%s, line %d: %v", name, lineNo+1, err)
			}
			var recs = 0
			if len(steps) > 0 {
				rs, err := recordBatch(b, id, steps)
				if err != nil {
					if lineErr != nil {
						return fmt.Errorf("%v (and the lines before it could not be recorded: %v)", lineErr, err)
					}
					return err
				}
				recs = len(rs)
				defer autoTimestamp(c, b, id)
				if c.Bool("json") {
					for i, r := range rs[len(rs)-len(steps):] {
						if err := printJSONStep(c.App.Writer, recordedBy(b, r), evidence.StepRecord{Rec: r, Step: steps[i]}); err != nil {
							return err
						}
					}
				}
			}
			if !c.Bool("json") {
				fmt.Fprintf(c.App.Writer, "recorded %d step(s) from %s\n", len(steps), name)
			}
			_ = recs
			return lineErr
		},
	}
}

// checkBatchAsset checks, line by line, that a step's asset exists (or that an
// asset step's does not), counting assets created earlier in the batch.
func checkBatchAsset(b *evidence.Book, s *evidence.Step, pending map[string]bool) error {
	_, err := b.Asset(s.Asset)
	exists := err == nil || pending[s.Asset]
	switch {
	case s.Kind == evidence.KindAsset && exists:
		return fmt.Errorf("asset %q already exists", s.Asset)
	case s.Kind == evidence.KindAsset:
		pending[s.Asset] = true
	case !exists:
		return err
	}
	return nil
}

// recordBatch records the steps in one call; the book validates them all first,
// so an invalid step found there records none of them.
func recordBatch(b *evidence.Book, id *evidence.Identity, steps []*evidence.Step) ([]*ledger.Record, error) {
	return b.Record(id, steps)
}

// batchStep decodes and checks one line, storing the files it names.
func batchStep(b *evidence.Book, line []byte) (*evidence.Step, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	var l batchLine
	if err := dec.Decode(&l); err != nil {
		msg := err.Error()
		msg = strings.TrimPrefix(msg, "json: ")
		return nil, fmt.Errorf("not a valid step: %s", msg)
	}
	if l.Kind == "" {
		return nil, errors.New(`no "kind": say which step this is, for example "kind":"prompt"`)
	}
	params := map[string]string{}
	for k, v := range l.Params {
		switch v := v.(type) {
		case string:
			params[k] = v
		case json.Number:
			params[k] = v.String()
		case bool:
			params[k] = fmt.Sprint(v)
		default:
			raw, _ := json.Marshal(v)
			params[k] = string(raw)
		}
	}
	if len(params) == 0 {
		params = nil
	}
	s := &evidence.Step{
		Kind: l.Kind, Asset: l.Asset, Text: l.Text, Tool: l.Tool, Model: l.Model, Params: params, By: l.By,
		Why: l.Why, Note: l.Note, Source: l.Source, License: l.License, Permission: l.Permission, Use: l.Use,
		Date: l.Date, Where: l.Where, Title: l.Title, AssetKind: l.AssetKind, Owner: l.Owner,
		Basis: l.Basis, Contract: l.Contract, TDM: l.TDM,
	}
	if s.Kind == evidence.KindIdentity {
		return nil, errors.New("identity records are made by cairn itself")
	}
	var all []string
	all = append(all, paths(l.Out)...)
	all = append(all, paths(l.In)...)
	all = append(all, paths(l.From)...)
	for _, f := range []*fileArg{l.File, l.Before, l.After} {
		if f != nil {
			all = append(all, f.Path)
		}
	}
	if err := checkFilesExist(all...); err != nil {
		return nil, err
	}
	// Validate with placeholder references before storing anything.
	probe := *s
	ph := evidence.FileRef{SHA256: strings.Repeat("0", 64)}
	fill := func(fs []fileArg) []evidence.FileRef {
		out := make([]evidence.FileRef, len(fs))
		for i := range out {
			out[i] = ph
			out[i].SHA256 = fmt.Sprintf("%064d", i+1)
		}
		return out
	}
	probe.Out, probe.In, probe.From = fill(l.Out), fill(l.In), fill(l.From)
	if l.File != nil {
		probe.File = &ph
	}
	if l.Before != nil {
		probe.Before = &ph
	}
	if l.After != nil {
		probe.After = &ph
	}
	if err := probe.Normalize(); err != nil {
		return nil, err
	}
	var err error
	if s.Out, err = addFiles(b, paths(l.Out)); err != nil {
		return nil, err
	}
	if s.In, err = addFiles(b, paths(l.In)); err != nil {
		return nil, err
	}
	if s.From, err = addFiles(b, paths(l.From)); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		arg *fileArg
		dst **evidence.FileRef
	}{{l.File, &s.File}, {l.Before, &s.Before}, {l.After, &s.After}} {
		if f.arg != nil {
			if *f.dst, err = addFile(b, f.arg.Path); err != nil {
				return nil, err
			}
		}
	}
	if len(s.Out) == 0 {
		s.Out = nil
	}
	if len(s.In) == 0 {
		s.In = nil
	}
	if len(s.From) == 0 {
		s.From = nil
	}
	return s, nil
}
