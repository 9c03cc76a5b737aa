package main

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/internal/strict"
	"github.com/cairn-ledger/cairn/internal/tmpfile"
	"github.com/cairn-ledger/cairn/internal/userfile"
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
starting with # are skipped. A line may be up to 8 MiB long; the step it
describes must encode to at most 1 MiB (texts at most 256 KiB).

A batch is recorded whole or not at all: every line is checked first, and a bad
line is reported with its number and nothing is recorded. If recording stops
part-way (the process is killed, the disk fills up), running the same batch
again records only the steps that are missing: it never records one twice.`,
		Flags: []cli.Flag{dirFlag(), jsonFlag("print each recorded step as JSON")},
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return usageErrorf("batch takes one FILE (or - for standard input)")
			}
			in, name, err := batchInput(c)
			if err != nil {
				return err
			}
			defer in.Close()
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
			if id, err = signingIdentity(c, b, id); err != nil {
				return err
			}
			checked, err := checkBatch(b, in, name)
			if err != nil {
				return err
			}
			defer checked.remove()
			done, err := recordBatch(c, b, id, checked)
			if err != nil {
				return err
			}
			if done.recorded > 0 {
				autoTimestamp(c, b, id)
			}
			return nil
		},
	}
}

// maxBatchLine bounds one line of a batch. A step encodes to at most 1 MiB, but
// JSON may spell a character in up to twelve bytes ("\ud83e\udd8a"), so a line
// that describes a valid step can be longer than the step.
const maxBatchLine = 8 << 20

// batchInput opens FILE, or standard input for "-" or no argument.
func batchInput(c *cli.Context) (io.ReadCloser, string, error) {
	p := c.Args().First()
	if p == "" || p == "-" {
		return io.NopCloser(c.App.Reader), "standard input", nil
	}
	f, err := userfile.Open(p, "batch file", -1)
	if err != nil {
		return nil, "", err
	}
	return f, p, nil
}

// checkedBatch is a batch whose every line was checked: its lines are kept in
// a spool file beside the ledger, to be read again for recording.
type checkedBatch struct {
	name  string // where it came from, for messages
	spool *tmpfile.File
	sum   string // SHA-256 of the input: the batch's idempotency key
	steps int
}

func (cb *checkedBatch) remove() { cb.spool.Discard() }

// checkBatch reads the whole batch, line by line, and checks every step as
// recording will (its fields, its files, its asset, its size), storing
// nothing. A bad line is a usage error and nothing has been recorded.
func checkBatch(b *evidence.Book, in io.Reader, name string) (*checkedBatch, error) {
	spool, err := tmpfile.Create(b.Dir, evidence.BatchPattern)
	if err != nil {
		return nil, fmt.Errorf("spooling the batch: %w; nothing was recorded", err)
	}
	cb := &checkedBatch{name: name, spool: spool}
	h := sha256.New()
	pending := map[string]bool{}
	err = eachBatchLine(io.TeeReader(in, io.MultiWriter(spool, h)), func(lineNo int, line []byte) error {
		s, err := checkBatchLine(line)
		if err == nil {
			err = checkBatchAsset(b, s, pending)
		}
		if err != nil {
			return err
		}
		cb.steps++
		return nil
	})
	if err == nil {
		_, err = spool.Seek(0, io.SeekStart)
	}
	if err != nil {
		cb.remove()
		var le *lineError
		if errors.As(err, &le) {
			return nil, usageErrorf("%s, line %d: %v. Nothing was recorded: a batch is recorded whole or not at all", name, le.n, le.err)
		}
		return nil, fmt.Errorf("reading %s: %w; nothing was recorded", name, err)
	}
	cb.sum = hex.EncodeToString(h.Sum(nil))
	return cb, nil
}

// lineError is a problem with one line of a batch.
type lineError struct {
	n   int
	err error
}

func (e *lineError) Error() string { return fmt.Sprintf("line %d: %v", e.n, e.err) }
func (e *lineError) Unwrap() error { return e.err }

// eachBatchLine calls fn with every line of r that holds a step (not empty, not
// a # comment), numbered from 1, streaming: one line is in memory at a time.
func eachBatchLine(r io.Reader, fn func(n int, line []byte) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	for n := 1; ; n++ {
		line, err := readLine(br, maxBatchLine)
		if errors.Is(err, errLineTooLong) {
			return &lineError{n, fmt.Errorf("the line is longer than %d MiB; a step is at most 1 MiB when encoded, and a longer text belongs in a file (\"kind\":\"input\")", maxBatchLine>>20)}
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			if ferr := fn(n, t); ferr != nil {
				return &lineError{n, ferr}
			}
		}
		if err != nil {
			return nil // io.EOF
		}
	}
}

var errLineTooLong = errors.New("line too long")

// readLine returns the next line of br without its newline, up to max bytes;
// io.EOF comes with the last line if it has no newline.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		if len(line)+len(frag) > max+1 {
			return nil, errLineTooLong
		}
		line = append(line, frag...)
		switch {
		case err == nil:
			return bytes.TrimSuffix(line, []byte("\n")), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return line, err
		}
	}
}

// batchJournal marks a batch whose recording has begun: the first of its steps
// is record Start. It is written, durably, before the first append, and
// removed once the batch is recorded and reported. A journal left behind (the
// process was killed, the disk filled up) lets the same batch, run again, find
// the steps already recorded and record only the rest.
type batchJournal struct {
	Input  string `json:"input_sha256"`
	Origin string `json:"origin"`
	Key    string `json:"key"`
	Start  int64  `json:"start"`
	Steps  int    `json:"steps"`
}

func journalPath(b *evidence.Book, sum string) string {
	return filepath.Join(b.Dir, "batches", sum+".json")
}

// readJournal returns the journal of an interrupted run of this batch, signed
// with key, in this ledger, or nil.
func readJournal(b *evidence.Book, cb *checkedBatch, key ed25519.PublicKey) *batchJournal {
	data, err := os.ReadFile(journalPath(b, cb.sum))
	if err != nil {
		return nil
	}
	var j batchJournal
	if json.Unmarshal(data, &j) != nil || j.Input != cb.sum || j.Origin != b.Ledger.Origin() ||
		j.Key != hex.EncodeToString(key) || j.Steps != cb.steps || j.Start < 0 || j.Start > b.Ledger.Size() {
		return nil
	}
	return &j
}

// batchResult is what recordBatch did.
type batchResult struct {
	recorded, resumed int
}

// recordBatch records a checked batch in chunks, resuming an interrupted run
// of the same batch: a step equal to the record at its place since the
// journal's start is already there and is not recorded again.
func recordBatch(c *cli.Context, b *evidence.Book, id *evidence.Identity, cb *checkedBatch) (*batchResult, error) {
	res := &batchResult{}
	if cb.steps == 0 {
		fmt.Fprintf(c.App.Writer, "recorded 0 step(s) from %s\n", cb.name)
		return res, nil
	}
	// The identity goes first, on its own, so that a resumed run finds the
	// batch's steps where the first run put them.
	introduced := false
	if !b.KeyIntroduced(id.Public()) {
		if _, err := b.Record(id, nil); err != nil {
			return nil, err
		}
		introduced = true
	}
	j := readJournal(b, cb, id.Public())
	resuming := j != nil
	if j == nil {
		j = &batchJournal{Input: cb.sum, Origin: b.Ledger.Origin(), Key: hex.EncodeToString(id.Public()), Start: b.Ledger.Size(), Steps: cb.steps}
		data, _ := json.Marshal(j)
		if err := evidence.WriteFileDurable(journalPath(b, cb.sum), data, 0o644); err != nil {
			return nil, fmt.Errorf("starting the batch: %w; nothing was recorded", err)
		}
	}
	var chunk []*evidence.Step
	chunkBytes := 0
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		recs, err := b.Record(id, chunk)
		if err != nil {
			return err
		}
		if c.Bool("json") {
			for i, r := range recs {
				if err := printJSONStep(c.App.Writer, recordedBy(b, r), evidence.StepRecord{Rec: r, Step: chunk[i]}); err != nil {
					return err
				}
			}
		}
		res.recorded += len(recs)
		chunk, chunkBytes = chunk[:0], 0
		return nil
	}
	i := 0
	err := eachBatchLine(cb.spool, func(lineNo int, line []byte) error {
		s, err := batchStep(b, line)
		if err != nil {
			return err
		}
		if resuming {
			if resuming, err = alreadyRecorded(c, b, id, j.Start+int64(i), s); err != nil {
				return err
			} else if resuming {
				res.resumed++
				i++
				return nil
			}
		}
		i++
		chunk = append(chunk, s)
		if chunkBytes += len(line); len(chunk) >= batchChunk || chunkBytes >= batchChunkBytes {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		var le *lineError
		if errors.As(err, &le) {
			err = fmt.Errorf("%s, line %d: %w", cb.name, le.n, le.err)
		}
		if done := res.resumed + res.recorded; done > 0 || introduced {
			// Part of the batch is in the ledger: whatever went wrong, this
			// is not "nothing was written" (exit 2).
			return nil, &exitError{exitFailure, fmt.Errorf("%w. %d of the batch's %d steps are recorded; run the same batch again to record the rest (nothing is recorded twice)",
				err, done, cb.steps)}
		}
		return nil, fmt.Errorf("%w. Nothing was recorded; run the same batch again when it is fixed", err)
	}
	if !c.Bool("json") {
		fmt.Fprintf(c.App.Writer, "recorded %d step(s) from %s\n", res.recorded, cb.name)
	}
	if res.resumed > 0 {
		fmt.Fprintf(c.App.ErrWriter, "cairn: %d step(s) of this batch had been recorded by an interrupted run (from record #%d on) and were not recorded again\n", res.resumed, j.Start)
	}
	// Only now, after the report: a run killed before it resumes instead.
	os.Remove(journalPath(b, cb.sum))
	return res, nil
}

// Chunks of a batch recorded in one append: each is synced before the next.
const (
	batchChunk      = 1024
	batchChunkBytes = 2 << 20
)

// alreadyRecorded reports whether record seq holds step s signed by id: the
// step was recorded by an interrupted run of the batch. With --json it prints
// the record, as the run that recorded it would have.
func alreadyRecorded(c *cli.Context, b *evidence.Book, id *evidence.Identity, seq int64, s *evidence.Step) (bool, error) {
	if seq >= b.Ledger.Size() {
		return false, nil
	}
	r, err := b.Ledger.Get(seq)
	if err != nil {
		return false, err
	}
	if err := s.Normalize(); err != nil {
		return false, err
	}
	p, err := s.Encode()
	if err != nil || !r.Key.Equal(id.Public()) || !bytes.Equal(p, r.Payload) {
		return false, err
	}
	if c.Bool("json") {
		return true, printJSONStep(c.App.Writer, recordedBy(b, r), evidence.StepRecord{Rec: r, Step: s})
	}
	return true, nil
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

// parseBatchLine decodes one line into its fields and the step they describe,
// without the step's files.
func parseBatchLine(line []byte) (*batchLine, *evidence.Step, error) {
	// encoding/json would turn invalid UTF-8 and a lone surrogate into U+FFFD
	// and let the last of two equal names win: text that is not what the line
	// says. Refuse them, as cairn prompt refuses invalid UTF-8.
	if err := strict.Check(line, strict.AnyValue); err != nil {
		return nil, nil, fmt.Errorf("not a valid step: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	var l batchLine
	if err := dec.Decode(&l); err != nil {
		msg := err.Error()
		msg = strings.TrimPrefix(msg, "json: ")
		return nil, nil, fmt.Errorf("not a valid step: %s", msg)
	}
	if l.Kind == "" {
		return nil, nil, errors.New(`no "kind": say which step this is, for example "kind":"prompt"`)
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
	if s.Kind == evidence.KindIdentity || s.Kind == evidence.KindRotate {
		return nil, nil, fmt.Errorf("%s records are made by cairn itself", s.Kind)
	}
	return &l, s, nil
}

// checkBatchLine checks one line as recording it would, with the files
// hashed but not stored, and returns its step.
func checkBatchLine(line []byte) (*evidence.Step, error) {
	l, s, err := parseBatchLine(line)
	if err != nil {
		return nil, err
	}
	if err := l.fillFiles(s, evidence.HashFile); err != nil {
		return nil, err
	}
	if err := s.Normalize(); err != nil {
		return nil, err
	}
	p, err := s.Encode()
	if err != nil {
		return nil, err
	}
	if len(p) > ledger.MaxPayload {
		return nil, fmt.Errorf("the step is %s encoded; the limit is %s", evidence.HumanSize(int64(len(p))), evidence.HumanSize(ledger.MaxPayload))
	}
	return s, nil
}

// batchStep decodes one line (checked before) and stores the files it names.
func batchStep(b *evidence.Book, line []byte) (*evidence.Step, error) {
	l, s, err := parseBatchLine(line)
	if err != nil {
		return nil, err
	}
	if err := l.fillFiles(s, b.Files.Add); err != nil {
		return nil, err
	}
	return s, nil
}

// fillFiles sets the step's file references, made by ref from each path.
func (l *batchLine) fillFiles(s *evidence.Step, ref func(path string) (evidence.FileRef, error)) error {
	list := func(fs []fileArg) ([]evidence.FileRef, error) {
		if len(fs) == 0 {
			return nil, nil
		}
		out := make([]evidence.FileRef, len(fs))
		for i, f := range fs {
			if f.Path == "" {
				return nil, errors.New("an empty file name was given")
			}
			r, err := ref(f.Path)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	var err error
	if s.Out, err = list(l.Out); err != nil {
		return err
	}
	if s.In, err = list(l.In); err != nil {
		return err
	}
	if s.From, err = list(l.From); err != nil {
		return err
	}
	for _, f := range []struct {
		arg *fileArg
		dst **evidence.FileRef
	}{{l.File, &s.File}, {l.Before, &s.Before}, {l.After, &s.After}} {
		if f.arg == nil {
			continue
		}
		refs, err := list([]fileArg{*f.arg})
		if err != nil {
			return err
		}
		*f.dst = &refs[0]
	}
	return nil
}
