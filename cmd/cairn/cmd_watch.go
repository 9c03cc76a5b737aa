package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/urfave/cli/v2"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/evidence/capture"
	"github.com/cairn-ledger/cairn/internal/userfile"
)

func cmdWatch() *cli.Command {
	return &cli.Command{
		Name:      "watch",
		Usage:     "record new and changed files in a folder as they appear",
		ArgsUsage: "DIR",
		Description: `watch records what lands in a folder while you work, so that you need not type:
  - a new file is recorded as cairn import records it: a generation when a
    generator's metadata or Content Credentials say so (with the prompt and
    settings the tool wrote), an edit of a recorded file its credentials name,
    or a file of unknown origin when nothing says what made it; a file that is
    already recorded is not recorded again;
  - a change to a file already there (or seen earlier) is recorded as an edit
    of its earlier version, because that is where it came from, whatever
    metadata it still carries (a crop in place keeps the generator's). Who made
    the change is not known to cairn: it is recorded as unknown unless you say
    with --edits-by (human, ai or both) who changes files in this folder.

It waits until a file has stopped changing (--settle) before it records it, and
ignores hidden files and temporary files (~, .tmp, .part, .crdownload, .swp).
It opens the ledger only to record, so other cairn commands keep working. It
prints one line per recorded step and runs until interrupted (Ctrl-C); files
still settling are recorded before it exits. The folder itself is watched, not
its subfolders.

Examples:
  cairn watch ~/Pictures/midjourney --asset poster
  cairn watch ~/Work/poster-edits --edits-by human    # I edit these by hand`,
		Flags: stepFlags(
			&cli.DurationFlag{Name: "settle", Value: 700 * time.Millisecond, Usage: "how long a file must stay unchanged before it is recorded"},
			&cli.StringFlag{Name: "edits-by", Usage: "who changes files in this folder: human, ai or both (default: not recorded, unknown)"},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageErrorf("give the folder to watch: cairn watch DIR")
			}
			dir := c.Args().First()
			editsBy := c.String("edits-by")
			if editsBy == "" {
				editsBy = evidence.ActorUnknown
			} else if editsBy != evidence.ActorHuman && editsBy != evidence.ActorAI && editsBy != evidence.ActorBoth {
				return usageErrorf("--edits-by %q is not one of human, ai, both", editsBy)
			}
			fi, err := os.Stat(dir)
			if err != nil {
				return usageErrorf("%v", err)
			}
			if !fi.IsDir() {
				return usageErrorf("%s is not a folder", dir)
			}
			// Check the identity and the asset before watching anything.
			id, err := loadIdentity(c)
			if err != nil {
				return err
			}
			b, err := openBook(c)
			if err != nil {
				return err
			}
			if id, err = signingIdentity(c, b, id); err != nil {
				b.Close()
				return err
			}
			asset, err := resolveAsset(c, b)
			if err == nil {
				_, err = b.Asset(asset)
			}
			if err != nil {
				b.Close()
				return err
			}
			w := &watcher{c: c, id: id, asset: asset, dir: dir, settle: c.Duration("settle"), editsBy: editsBy,
				versions: map[string]fileVersion{}, pending: map[string]*pendingFile{}}
			// The files already there are the "before" of later edits: store them now,
			// since their old content is gone once they change.
			err = w.baseline(b)
			b.Close()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return w.run(ctx)
		},
	}
}

type pendingFile struct {
	last  time.Time // last event
	size  int64
	mtime time.Time
}

type watcher struct {
	c        *cli.Context
	id       *evidence.Identity
	asset    string
	dir      string
	settle   time.Duration
	editsBy  string                 // who changes files here, as the designer said; unknown by default
	versions map[string]fileVersion // path -> the version last recorded or seen
	pending  map[string]*pendingFile
}

// fileVersion is a file as last recorded or seen, and the metadata it carried.
type fileVersion struct {
	ref  evidence.FileRef
	meta string // the hashes of its metadata carriers
}

// ignored reports whether a file name is hidden or temporary.
func ignored(name string) bool {
	base := filepath.Base(name)
	if strings.HasPrefix(base, ".") || strings.HasPrefix(base, "~$") || strings.HasSuffix(base, "~") {
		return true
	}
	for _, suf := range []string{".tmp", ".temp", ".part", ".crdownload", ".download", ".swp", ".swx", ".partial"} {
		if strings.HasSuffix(strings.ToLower(base), suf) {
			return true
		}
	}
	return false
}

func (w *watcher) baseline(b *evidence.Book) error {
	entries, err := os.ReadDir(w.dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		p := filepath.Join(w.dir, e.Name())
		if !e.Type().IsRegular() || ignored(p) {
			continue
		}
		ref, err := b.Files.Add(p)
		if err != nil {
			return err
		}
		cp, _ := inspectFile(p)
		w.versions[p] = fileVersion{ref, metaKey(cp)}
	}
	fmt.Fprintf(w.c.App.Writer, "watching %s for asset %s (%s already there); press Ctrl-C to stop\n", w.dir, w.asset, evidence.Plural(len(w.versions), "file", "files"))
	return nil
}

func (w *watcher) run(ctx context.Context) error {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer fw.Close()
	if err := fw.Add(w.dir); err != nil {
		return fmt.Errorf("watch %s: %w", w.dir, err)
	}
	tick := time.NewTicker(w.settle / 4)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			// Record what was still settling, and anything whose event had not
			// arrived yet: a step the designer saw happen is not lost.
			w.rescan()
			w.flush(true)
			fmt.Fprintln(w.c.App.Writer, "stopped watching")
			return nil
		case ev, ok := <-fw.Events:
			if !ok {
				return nil
			}
			if ignored(ev.Name) || ev.Op&(fsnotify.Create|fsnotify.Write|fsnotify.Rename|fsnotify.Chmod) == 0 {
				continue
			}
			if _, err := os.Stat(ev.Name); err != nil {
				continue // renamed away or removed
			}
			p := w.pending[ev.Name]
			if p == nil {
				p = &pendingFile{}
				w.pending[ev.Name] = p
			}
			p.last = time.Now()
		case err, ok := <-fw.Errors:
			if !ok {
				return nil
			}
			fmt.Fprintf(w.c.App.ErrWriter, "cairn: watch: %v\n", err)
		case <-tick.C:
			w.flush(false)
		}
	}
}

// rescan marks every file in the folder as pending; record skips the unchanged.
func (w *watcher) rescan() {
	entries, err := os.ReadDir(w.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		p := filepath.Join(w.dir, e.Name())
		if e.Type().IsRegular() && !ignored(p) && w.pending[p] == nil {
			w.pending[p] = &pendingFile{}
		}
	}
}

// flush records the pending files that have settled: no event for the settle time,
// and the same size and modification time as at the previous look. With force, it
// records everything pending.
func (w *watcher) flush(force bool) {
	var ready []string
	for path, p := range w.pending {
		fi, err := os.Stat(path)
		if err != nil || !fi.Mode().IsRegular() {
			delete(w.pending, path)
			continue
		}
		stable := fi.Size() == p.size && fi.ModTime().Equal(p.mtime)
		p.size, p.mtime = fi.Size(), fi.ModTime()
		if force || (stable && time.Since(p.last) >= w.settle) {
			ready = append(ready, path)
		}
	}
	sort.Strings(ready)
	for _, path := range ready {
		delete(w.pending, path)
		if err := w.record(path); err != nil {
			fmt.Fprintf(w.c.App.ErrWriter, "cairn: %s: %v (not recorded)\n", path, err)
		}
	}
}

func (w *watcher) record(path string) error {
	sum, err := hashFile(path)
	if err != nil {
		return err
	}
	prev, seen := w.versions[path]
	if seen && prev.ref.SHA256 == sum {
		return nil // touched, not changed
	}
	cp, err := inspectFile(path)
	if err != nil {
		return err
	}
	b, err := openBookToRecord(w.c)
	if err != nil {
		return err
	}
	defer b.Close()
	ref, err := b.Files.Add(path)
	if err != nil {
		return err
	}
	var s *evidence.Step
	var what string
	if seen {
		s, what = w.changed(path, prev, ref, cp)
	} else {
		recorded, err := b.RecordedFiles()
		if err != nil {
			return err
		}
		if sr, ok := recorded[ref.SHA256]; ok {
			w.versions[path] = fileVersion{ref, metaKey(cp)}
			fmt.Fprintf(w.c.App.Writer, "%s is already recorded (record #%d, %s for asset %s); not recorded again\n", filepath.Base(path), sr.Rec.Seq, sr.Step.Kind, sr.Step.Asset)
			return nil
		}
		known, err := knownFiles(b, w.asset)
		if err != nil {
			return err
		}
		steps, lines := evidence.ImportSteps([]evidence.Imported{{Ref: ref, Capture: cp}}, nil, known)
		s, what = steps[0], lines[0]
	}
	s.Asset = w.asset
	recs, err := b.Record(w.id, []*evidence.Step{s})
	if err != nil {
		return err
	}
	w.versions[path] = fileVersion{ref, metaKey(cp)}
	fmt.Fprintf(w.c.App.Writer, "recorded %s #%d for %s: %s\n", s.Kind, recs[len(recs)-1].Seq, w.asset, what)
	autoTimestamp(w.c, b, w.id)
	return nil
}

// changed is the edit that a change to a watched file is: of its earlier
// version, by whoever --edits-by names (unknown by default). Metadata the new
// version carries is kept only when it differs from the earlier version's: new
// Content Credentials describe the change, a generator's record left in place
// by a crop describes the file's past.
func (w *watcher) changed(path string, prev fileVersion, ref evidence.FileRef, cp *capture.Capture) (*evidence.Step, string) {
	before := prev.ref
	s := &evidence.Step{Kind: evidence.KindEdit, By: w.editsBy, Before: &before, After: &ref, Note: "recorded by cairn watch: the file changed"}
	what := fmt.Sprintf("%s changed (edit of its earlier version: %s -> %s, by %s)", filepath.Base(path), prev.ref.Short(), ref.Short(), w.editsBy)
	if k := metaKey(cp); k != "" && k != prev.meta {
		s.Captured = evidence.CapturedOf(cp)
		what += "; its new metadata is kept"
	}
	return s, what
}

// metaKey identifies a file's metadata by the hashes of its carriers.
func metaKey(cp *capture.Capture) string {
	if cp == nil {
		return ""
	}
	var hs []string
	for _, src := range cp.Sources {
		hs = append(hs, src.SHA256)
	}
	return strings.Join(hs, ",")
}

func hashFile(path string) (string, error) {
	f, err := userfile.Open(path, "file", -1) // a FIFO dropped in the folder must not hang the watch
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
