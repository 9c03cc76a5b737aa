package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/urfave/cli/v2"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/export"
	"github.com/cairn-ledger/cairn/internal/tmpfile"
	"github.com/cairn-ledger/cairn/internal/userfile"
	"github.com/cairn-ledger/cairn/ledger/archive"
)

func cmdArchive() *cli.Command {
	return &cli.Command{
		Name:  "archive",
		Usage: "write the whole ledger and its files to one portable tar file",
		Description: `archive writes everything the ledger holds into one POSIX tar file that any
tar can unpack and that does not need cairn's database to be read: a manifest
with the SHA-256 of every member, every record as its exact signed bytes, the
signed checkpoints, their timestamp tokens and witness cosignatures, and every
stored file a step names. The archive is anchored by a checkpoint of all
records, signed now with your key unless one is already stored.

Check an archive with: cairn verify --archive FILE.tar
Rebuild a ledger from it with: cairn restore FILE.tar --dir NEW/.cairn`,
		Flags: []cli.Flag{
			dirFlag(),
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "the tar file to write (required)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErrorf("archive takes no arguments (got %q); give the file with -o FILE.tar", c.Args().First())
			}
			out := c.String("out")
			if out == "" {
				return usageErrorf("where should the archive go? Give -o FILE.tar")
			}
			if fi, err := os.Stat(out); err == nil && fi.IsDir() {
				return usageErrorf("-o %s is a directory; give a file name such as %s", out, filepath.Join(out, "ledger.tar"))
			}
			id, b, err := openSigningToRead(c)
			if err != nil {
				return err
			}
			defer b.Close()
			if _, err := export.Anchor(b, id.Key); err != nil {
				return err
			}
			files, err := storedFiles(b)
			if err != nil {
				return err
			}
			tmpfile.Sweep(filepath.Dir(out), archivePattern) // what a killed archive left
			tmp, err := tmpfile.Create(filepath.Dir(out), archivePattern)
			if err != nil {
				return err
			}
			defer tmp.Discard()
			prog := newProgress(c.App.ErrWriter, "archiving", 0)
			m, err := archive.Write(tmp, b.Ledger, archive.WriteOptions{Files: files, Progress: func(done, total int64) {
				prog.total = total
				prog.set(done)
			}})
			prog.done()
			if err == nil {
				err = tmp.Sync()
			}
			if err != nil {
				return fmt.Errorf("writing %s: %w", out, err)
			}
			tmp.Chmod(0o644)
			if err := tmp.Commit(out); err != nil {
				return err
			}
			fi, _ := os.Stat(out)
			fmt.Fprintf(c.App.Writer, "wrote %s: %d records, %d checkpoints, %d files (%s); root %s\n",
				out, m.Size, countKind(m, archive.KindCheckpoint), countKind(m, archive.KindFile), evidence.HumanSize(fi.Size()), m.Root)
			return nil
		},
	}
}

// Temporary names beside an archive being written and a ledger being restored.
const (
	archivePattern = ".cairn-archive-*"
	restorePattern = ".cairn-restore-*"
)

func countKind(m *archive.Manifest, kind string) int {
	n := 0
	for _, mb := range m.Members {
		if mb.Kind == kind {
			n++
		}
	}
	return n
}

// storedFiles lists every stored file a step names, once.
func storedFiles(b *evidence.Book) ([]archive.File, error) {
	seen := map[string]bool{}
	var out []archive.File
	err := b.Scan(0, func(sr evidence.StepRecord) error {
		for _, f := range sr.Step.Files() {
			if seen[f.SHA256] {
				continue
			}
			seen[f.SHA256] = true
			sum := f.SHA256
			if _, err := b.Files.Path(sum); err != nil {
				return fmt.Errorf("record %d names file %q: %v", sr.Rec.Seq, sum, err)
			}
			out = append(out, archive.File{SHA256: sum, Size: f.Size, Open: func() (io.ReadCloser, error) {
				r, err := b.Files.Open(sum)
				if errors.Is(err, os.ErrNotExist) {
					return nil, fmt.Errorf("file %s (%s) is missing from the store; run cairn verify", f.Short(), f.Name)
				}
				return r, err
			}})
		}
		return nil
	})
	return out, err
}

// missingFiles names the files steps refer to that the archive lacks or has at
// another size.
func missingFiles(rb *evidence.RuleBook, have map[string]int64) []string {
	var out []string
	named := map[string]bool{}
	for _, u := range rb.Files() {
		named[u.Ref.SHA256] = true
	}
	for sum := range have {
		if !named[sum] {
			out = append(out, fmt.Sprintf("member files/%s: no step names it; an archive holds only files its records name", sum))
		}
	}
	sort.Strings(out)
	for _, u := range rb.Files() {
		n, ok := have[u.Ref.SHA256]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("member files/%s: missing; record %d names it (%s)", u.Ref.SHA256, u.Seq, u.Ref.Name))
		case n != u.Ref.Size:
			out = append(out, fmt.Sprintf("member files/%s: %d bytes, record %d says %d", u.Ref.SHA256, n, u.Seq, u.Ref.Size))
		}
	}
	return out
}

// verifyArchive is cairn verify --archive FILE.
func verifyArchive(c *cli.Context, path string) error {
	f, err := openArchive(path)
	if err != nil {
		return err
	}
	defer f.Close()
	prog := newProgress(c.App.ErrWriter, "verifying archive", 0)
	rb, opts := evidence.ArchiveRules(prog.set)
	rep, err := archive.Verify(f, opts)
	prog.done()
	var problems []string
	var ae *archive.Error
	switch {
	case errors.As(err, &ae):
		for _, p := range ae.Problems {
			problems = append(problems, p.String())
		}
	case err != nil:
		return err
	default:
		problems = missingFiles(rb, rep.Files)
	}
	if len(problems) > 0 {
		if c.Bool("json") {
			printJSON(c.App.Writer, map[string]any{"ok": false, "archive": path, "problems": problems})
		} else {
			for _, p := range problems {
				fmt.Fprintf(c.App.Writer, "FAIL %s\n", p)
			}
		}
		return &exitError{exitVerify, fmt.Errorf("verification FAILED: %s is damaged: %s", path, problems[0])}
	}
	m := rep.Manifest
	if c.Bool("json") {
		return printJSON(c.App.Writer, map[string]any{
			"ok": true, "archive": path, "origin": m.Origin, "records": m.Size, "root": m.Root,
			"checkpoints": len(rep.Checkpoints), "timestamps": rep.Timestamps, "cosignatures": rep.Cosigned, "studio_proofs": rep.Studio,
			"files": len(rep.Files), "file_bytes": rep.FileBytes, "members": len(m.Members) + 1,
		})
	}
	w := c.App.Writer
	fmt.Fprintf(w, "archive     %s\n", path)
	fmt.Fprintf(w, "ledger      %s\n", m.Origin)
	fmt.Fprintf(w, "members     %d, each matches the manifest's SHA-256\n", len(m.Members)+1)
	fmt.Fprintf(w, "records     %d, each signed, chained, in time order, and read exactly one way\n", m.Size)
	fmt.Fprintf(w, "tree root   %s (matches the manifest)\n", m.Root)
	fmt.Fprintf(w, "checkpoints %d, signed by an author and matching the records; %d timestamp tokens, %d cosignatures, %d studio log proofs\n", len(rep.Checkpoints), rep.Timestamps, rep.Cosigned, rep.Studio)
	fmt.Fprintf(w, "files       %d (%s), each matches its hash; none missing\n", len(rep.Files), evidence.HumanSize(rep.FileBytes))
	fmt.Fprintln(w, "OK")
	return nil
}

// openArchive opens an archive to read. It is read as a stream, so its size
// has no limit; a device or a FIFO is refused.
func openArchive(path string) (*os.File, error) {
	return userfile.Open(path, "archive", -1)
}

func cmdRestore() *cli.Command {
	return &cli.Command{
		Name:      "restore",
		Usage:     "rebuild a ledger from an archive written by cairn archive",
		ArgsUsage: "FILE.tar",
		Description: `restore checks the archive as cairn verify --archive does and rebuilds the
ledger from it into a new cairn directory: the same origin, the same records
byte for byte (so the same tree roots and checkpoints), the timestamp tokens,
the cosignatures and the stored files. Then it verifies the new ledger. The
directory is filled under a temporary name and appears only when all of that
succeeded; it must not exist yet, or be empty.

  cairn restore ledger.tar --dir /restore/.cairn`,
		Flags: []cli.Flag{dirFlag()},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageErrorf("give one archive: cairn restore FILE.tar --dir NEW/.cairn")
			}
			dir := dirOption(c)
			if dir == "" {
				wd, err := os.Getwd()
				if err != nil {
					return err
				}
				dir = filepath.Join(wd, evidence.DirName)
			}
			if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
				return usageErrorf("%s already exists and is not empty; restore into a new directory (nothing was changed)", dir)
			} else if err != nil && !errors.Is(err, os.ErrNotExist) {
				return usageErrorf("%s: %v", dir, err)
			}
			parent := filepath.Dir(filepath.Clean(dir))
			if err := os.MkdirAll(parent, 0o755); err != nil {
				return err
			}
			tmpfile.Sweep(parent, restorePattern) // what a killed restore left
			tmpDir, err := tmpfile.Mkdir(parent, restorePattern)
			if err != nil {
				return err
			}
			tmp := tmpDir.Path
			keep := false
			defer func() {
				if !keep {
					os.RemoveAll(tmp)
				}
				tmpDir.Release()
			}()
			rep, err := rebuild(c, c.Args().First(), tmp, "restore FAILED, nothing was written", c.App.Writer)
			if err != nil {
				return err
			}
			os.Remove(dir) // an empty directory given as the target
			if err := os.Rename(tmp, dir); err != nil {
				return err
			}
			keep = true
			fmt.Fprintf(c.App.Writer, "restored %s into %s: %d records, %d checkpoints, %d files; root %s; verified\n",
				rep.Manifest.Origin, shortPath(dir), rep.Manifest.Size, len(rep.Checkpoints), len(rep.Files), rep.Manifest.Root)
			return nil
		},
	}
}

// rebuild checks the archive at path as cairn verify --archive does and
// rebuilds its ledger into the empty directory dir, then verifies that. Each
// problem found is written to problems, and the error begins with failed
// ("restore FAILED, nothing was written"): nothing is left in dir that the
// caller should keep if it fails.
func rebuild(c *cli.Context, path, dir, failed string, problems io.Writer) (*archive.Report, error) {
	f, err := openArchive(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	store := evidence.NewFileStore(filepath.Join(dir, "files"))
	prog := newProgress(c.App.ErrWriter, "reading the archive", 0)
	rb, opts := evidence.ArchiveRules(prog.set)
	rep, err := archive.Restore(f, filepath.Join(dir, "ledger"), func(r io.Reader) (string, error) {
		ref, err := store.AddReader(r)
		return ref.SHA256, err
	}, opts)
	prog.done()
	var ae *archive.Error
	if errors.As(err, &ae) {
		for _, p := range ae.Problems {
			fmt.Fprintf(problems, "FAIL %s\n", p)
		}
		return nil, &exitError{exitVerify, fmt.Errorf("%s: %s is damaged: %s", failed, path, ae.Problems[0])}
	}
	if err != nil {
		return nil, err
	}
	if miss := missingFiles(rb, rep.Files); len(miss) > 0 {
		for _, p := range miss {
			fmt.Fprintf(problems, "FAIL %s\n", p)
		}
		return nil, &exitError{exitVerify, fmt.Errorf("%s: %s", failed, miss[0])}
	}
	b, err := evidence.Open(dir, nil)
	if err != nil {
		return nil, err
	}
	_, verr := b.Verify(evidence.VerifyOptions{})
	b.Close()
	if verr != nil {
		return nil, &exitError{exitVerify, fmt.Errorf("%s: the rebuilt ledger does not verify: %w", failed, verr)}
	}
	return rep, nil
}

// rebuildTemp checks an archive and rebuilds its ledger, as rebuild does, in a
// private temporary directory, for commands that read an archive a designer
// handed over without restoring it (export --archive, match --archive).
// cleanup removes it.
func rebuildTemp(c *cli.Context, path, failed string, problems io.Writer) (dir string, cleanup func(), err error) {
	tmp, err := os.MkdirTemp("", "cairn-archive-*")
	if err != nil {
		return "", nil, err
	}
	cleanup = func() { os.RemoveAll(tmp) }
	dir = filepath.Join(tmp, evidence.DirName)
	if _, err := rebuild(c, path, dir, failed, problems); err != nil {
		cleanup()
		return "", nil, err
	}
	return dir, cleanup, nil
}
