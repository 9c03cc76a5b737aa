package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/internal/userfile"
	"github.com/cairn-ledger/cairn/ledger"
)

// bookDir finds the .cairn directory for this invocation.
func bookDir(c *cli.Context) (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	return evidence.FindDir(dirOption(c), wd)
}

// dirOption is the --dir given to the command or, failing that, to cairn itself
// (cairn --dir D note X), else $CAIRN_DIR. Both levels define the flag, and
// urfave/cli's c.String reads only the innermost one that defines it, so
// `cairn --dir two/.cairn note X` would otherwise record in the ledger found
// from the current directory.
func dirOption(c *cli.Context) string {
	env := os.Getenv("CAIRN_DIR")
	for _, x := range c.Lineage() {
		// The flag takes CAIRN_DIR as its value at every level; a value that
		// differs from it was typed at this level.
		if slices.Contains(x.LocalFlagNames(), "dir") {
			if v := x.String("dir"); v != env {
				return v
			}
		}
	}
	return env
}

// openBook opens the book to read it, waiting for other cairn processes to
// finish with it. Nothing is written unless the command stores something, which
// reopens the ledger for writing (ledger.Options.ReadOnly): reading works on a
// full disk.
func openBook(c *cli.Context) (*evidence.Book, error) {
	return openBookWith(c, &evidence.OpenOptions{ReadOnly: true})
}

// openBookToRecord opens the book for a command that records steps.
func openBookToRecord(c *cli.Context) (*evidence.Book, error) {
	return openBookWith(c, nil)
}

func openBookWith(c *cli.Context, opts *evidence.OpenOptions) (*evidence.Book, error) {
	dir, err := bookDir(c)
	if err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &evidence.OpenOptions{}
	}
	// CAIRN_LOCK_TIMEOUT: how long to wait for another cairn process (default 10s).
	if v := os.Getenv("CAIRN_LOCK_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, usageErrorf("CAIRN_LOCK_TIMEOUT=%q is not a duration such as 10s or 500ms", v)
		}
		opts.LockTimeout = d
	}
	b, err := evidence.Open(dir, opts)
	if errors.Is(err, ledger.ErrLocked) {
		return nil, fmt.Errorf("%w. Nothing was recorded; run the command again", err)
	}
	return b, err
}

// openSigning loads the identity (asking for its passphrase first, before the
// ledger is locked) and opens the book, for commands that record steps.
func openSigning(c *cli.Context) (*evidence.Identity, *evidence.Book, error) {
	return openSigningWith(c, nil)
}

// openSigningToRead is openSigning for commands that sign what they read (a
// checkpoint, a pack, an archive) and store at most a checkpoint: the ledger
// is opened read-only until they do.
func openSigningToRead(c *cli.Context) (*evidence.Identity, *evidence.Book, error) {
	return openSigningWith(c, &evidence.OpenOptions{ReadOnly: true})
}

func openSigningWith(c *cli.Context, opts *evidence.OpenOptions) (*evidence.Identity, *evidence.Book, error) {
	id, err := loadIdentity(c)
	if err != nil {
		return nil, nil, err
	}
	b, err := openBookWith(c, opts)
	if err != nil {
		return nil, nil, err
	}
	if id, err = signingIdentity(c, b, id); err != nil {
		b.Close()
		return nil, nil, err
	}
	return id, b, nil
}

// signingIdentity returns the key to sign with in b: id, or, when b retired id
// in a key rotation that was interrupted before the new key was put in place,
// the new key, which it puts in place (see evidence/rotate.go).
func signingIdentity(c *cli.Context, b *evidence.Book, id *evidence.Identity) (*evidence.Identity, error) {
	path, err := keyPath()
	if err != nil {
		return nil, err
	}
	fresh, msg, err := b.FinishRotation(path, id, passphrase(c, path))
	if msg != "" {
		fmt.Fprintf(c.App.ErrWriter, "cairn: %s\n", msg)
	}
	return fresh, err
}

// keyPath returns where the identity key lives.
func keyPath() (string, error) { return evidence.DefaultKeyPath() }

// loadIdentity reads the identity key, asking for its passphrase if it is
// encrypted, and warns when others could replace it.
func loadIdentity(c *cli.Context) (*evidence.Identity, error) {
	path, err := keyPath()
	if err != nil {
		return nil, err
	}
	id, err := evidence.LoadIdentity(path, passphrase(c, path))
	if err != nil {
		return nil, err
	}
	if w := evidence.KeyDirWarning(path); w != "" {
		fmt.Fprintf(c.App.ErrWriter, "cairn: warning: %s\n", w)
	}
	return id, nil
}

// passphrase returns a function that reads the identity key's passphrase once
// per run (a rotation opens the old key and then its pending successor with
// it) and then returns the same bytes.
func passphrase(c *cli.Context, path string) func() ([]byte, error) {
	return func() ([]byte, error) {
		if p, ok := c.App.Metadata[passphraseKey].([]byte); ok {
			return p, nil
		}
		p, err := readPassphrase(c, "Passphrase for "+path+": ", false)
		if err != nil {
			return nil, err
		}
		if c.App.Metadata == nil {
			c.App.Metadata = map[string]any{}
		}
		c.App.Metadata[passphraseKey] = p
		return p, nil
	}
}

const passphraseKey = "cairn.passphrase"

// readPassphrase takes the passphrase from CAIRN_PASSPHRASE, or asks on the terminal.
// It is never echoed or printed.
func readPassphrase(c *cli.Context, prompt string, confirm bool) ([]byte, error) {
	return readSecret("CAIRN_PASSPHRASE", "the identity key", prompt, confirm)
}

// readSecret takes a passphrase for what from the environment variable env,
// or asks on the terminal. It is never echoed or printed.
func readSecret(env, what, prompt string, confirm bool) ([]byte, error) {
	if p := os.Getenv(env); p != "" {
		return []byte(p), nil
	}
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, usageErrorf("%s needs a passphrase and there is no terminal to ask for it; set %s", what, env)
	}
	defer tty.Close()
	fmt.Fprint(tty, prompt)
	p, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	if err != nil {
		return nil, err
	}
	if confirm {
		fmt.Fprint(tty, "Again: ")
		q, err := term.ReadPassword(int(tty.Fd()))
		fmt.Fprintln(tty)
		if err != nil {
			return nil, err
		}
		if string(p) != string(q) {
			return nil, usageErrorf("the passphrases differ; nothing was written")
		}
	}
	return p, nil
}

// assetFlag is taken by every step command.
func assetFlag() cli.Flag {
	return &cli.StringFlag{Name: "asset", Aliases: []string{"a"}, Usage: "the asset this step belongs to (default: the one chosen with cairn use)"}
}

// resolveAsset returns --asset, else the current asset.
func resolveAsset(c *cli.Context, b *evidence.Book) (string, error) {
	if a := c.String("asset"); a != "" {
		return a, nil
	}
	cfg, err := evidence.ReadConfig(b.Dir)
	if err != nil {
		return "", err
	}
	if cfg.Asset == "" {
		return "", usageErrorf("which asset? Give --asset ID, or choose one for all later steps with: cairn use ID")
	}
	return cfg.Asset, nil
}

// parseParams turns repeated --param k=v into a map.
func parseParams(list []string) (map[string]string, error) {
	if len(list) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, p := range list {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, usageErrorf("--param %q: write it as name=value, for example --param seed=42", p)
		}
		m[k] = v
	}
	return m, nil
}

// addFiles stores files and returns their references; nothing is recorded yet.
func addFiles(b *evidence.Book, paths []string) ([]evidence.FileRef, error) {
	out := make([]evidence.FileRef, 0, len(paths))
	for _, p := range paths {
		if p == "" {
			return nil, usageErrorf("an empty file name was given")
		}
		ref, err := b.Files.Add(p)
		if err != nil {
			return nil, err
		}
		out = append(out, ref)
	}
	return out, nil
}

func addFile(b *evidence.Book, path string) (*evidence.FileRef, error) {
	refs, err := addFiles(b, []string{path})
	if err != nil {
		return nil, err
	}
	return &refs[0], nil
}

// checkFilesExist fails early, before the ledger is opened, on paths that cannot be
// read, so that a typo costs nothing.
func checkFilesExist(paths ...string) error {
	for _, p := range paths {
		if p == "" {
			continue
		}
		if err := userfile.Check(p, "file to record"); err != nil {
			return err
		}
	}
	return nil
}

// readText returns the text argument, or standard input for "-".
func readText(c *cli.Context, what string) (string, error) {
	switch c.NArg() {
	case 0:
		return "", usageErrorf("give the %s text as an argument in quotes, or - to read it from standard input", what)
	case 1:
	default:
		return "", usageErrorf("the %s text must be one argument: put it in quotes (got %d arguments)", what, c.NArg())
	}
	t := c.Args().First()
	if t != "-" {
		return t, nil
	}
	// Read one byte more than the limit, so that an oversized text is reported
	// as such without reading all of it.
	data, err := io.ReadAll(io.LimitReader(c.App.Reader, evidence.MaxTextBytes+1))
	if err != nil {
		return "", err
	}
	if len(data) > evidence.MaxTextBytes {
		return "", usageErrorf("the %s on standard input is larger than %d KiB; cairn records at most that much text per step. Record a longer text as a file instead: cairn input FILE --permission own", what, evidence.MaxTextBytes>>10)
	}
	return string(data), nil
}

// record opens the book, stores the files, and records one step.
func record(c *cli.Context, build func(b *evidence.Book, asset string) (*evidence.Step, error)) error {
	return recordMany(c, func(b *evidence.Book, asset string) ([]*evidence.Step, []string, error) {
		s, err := build(b, asset)
		if err != nil {
			return nil, nil, err
		}
		return []*evidence.Step{s}, nil, nil
	})
}

// recordMany opens the book, builds the steps (storing their files) and records
// them in one append. lines, if given, describe each step after "recorded ...".
func recordMany(c *cli.Context, build func(b *evidence.Book, asset string) (steps []*evidence.Step, lines []string, err error)) error {
	id, b, err := openSigning(c)
	if err != nil {
		return err
	}
	defer b.Close()
	asset, err := resolveAsset(c, b)
	if err != nil {
		return err
	}
	if _, err := b.Asset(asset); err != nil {
		return err
	}
	steps, lines, err := build(b, asset)
	if err != nil {
		return err
	}
	for _, s := range steps {
		s.Asset = asset
	}
	recs, err := b.Record(id, steps)
	if err != nil {
		return err
	}
	recs = recs[len(recs)-len(steps):]
	for i, r := range recs {
		s := steps[i]
		switch {
		case c.Bool("json"):
			err = printJSONStep(c.App.Writer, recordedBy(b, r), evidence.StepRecord{Rec: r, Step: s})
		case lines != nil:
			_, err = fmt.Fprintf(c.App.Writer, "recorded %s #%d for %s: %s\n", s.Kind, r.Seq, asset, lines[i])
		default:
			_, err = fmt.Fprintf(c.App.Writer, "recorded %s #%d for %s%s\n", s.Kind, r.Seq, asset, stepSummary(s))
		}
		if err != nil {
			return err
		}
	}
	autoTimestamp(c, b, id)
	return nil
}

// recordStep opens the book for signing, builds one step that names its own
// asset, records it and says what was recorded (or prints it as JSON).
func recordStep(c *cli.Context, build func(*evidence.Book, *evidence.Identity) (*evidence.Step, error), say func(*ledger.Record, *evidence.Step) string) error {
	id, b, err := openSigning(c)
	if err != nil {
		return err
	}
	defer b.Close()
	s, err := build(b, id)
	if err != nil {
		return err
	}
	recs, err := b.Record(id, []*evidence.Step{s})
	if err != nil {
		return err
	}
	r := recs[len(recs)-1]
	defer autoTimestamp(c, b, id)
	if c.Bool("json") {
		return printJSONStep(c.App.Writer, recordedBy(b, r), evidence.StepRecord{Rec: r, Step: s})
	}
	_, err = fmt.Fprintln(c.App.Writer, say(r, s))
	return err
}

func jsonFlag(usage string) cli.Flag {
	return &cli.BoolFlag{Name: "json", Usage: usage}
}

// editBy names who made an edit, in the words the pack uses.
var editBy = map[string]string{
	evidence.ActorHuman:   "by hand",
	evidence.ActorBoth:    "AI-assisted: you directing an AI tool",
	evidence.ActorAI:      "by an AI tool on its own",
	evidence.ActorUnknown: "author unknown",
}

// stepSummary is a short description after "recorded ...".
func stepSummary(s *evidence.Step) string {
	switch s.Kind {
	case evidence.KindGenerate:
		return fmt.Sprintf(": %s from %s", evidence.Plural(len(s.Out), "candidate", "candidates"), s.Tool)
	case evidence.KindSelect:
		return fmt.Sprintf(": chose %s out of %d", s.File.Name, len(s.From))
	case evidence.KindEdit:
		return fmt.Sprintf(": %s -> %s (%s)", s.Before.Name, s.After.Name, editBy[s.By])
	case evidence.KindSketch, evidence.KindInput, evidence.KindFinal:
		return fmt.Sprintf(": %s (sha256 %s)", s.File.Name, s.File.Short())
	}
	return ""
}

// stepJSON is the line printed by log --json: the step's own fields plus where it
// sits in the ledger.
func stepJSON(authorName string, sr evidence.StepRecord) (map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal(sr.Rec.Payload, &m); err != nil {
		return nil, err
	}
	h := sr.Rec.Hash()
	m["seq"] = sr.Rec.Seq
	m["time"] = sr.Rec.Time.Format("2006-01-02T15:04:05.000000000Z07:00")
	m["author"] = ledger.KeyID(sr.Rec.Key)
	if authorName != "" {
		m["author_name"] = authorName
	}
	m["hash"] = fmt.Sprintf("%x", h[:])
	return m, nil
}

func printJSONStep(w io.Writer, author *evidence.KeyState, sr evidence.StepRecord) error {
	name := ""
	if author != nil {
		name = author.Name
	}
	m, err := stepJSON(name, sr)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(m)
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func shortPath(p string) string {
	if wd, err := os.Getwd(); err == nil {
		if r, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(r, "..") {
			return r
		}
	}
	return p
}

func jsonEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}

// recordedBy names the key that signed a record just written, from the signed
// record that introduced it (the cache only finds that record).
func recordedBy(b *evidence.Book, r *ledger.Record) *evidence.KeyState {
	return &evidence.KeyState{Key: r.Key, Name: b.AuthorName(r.Key)}
}
