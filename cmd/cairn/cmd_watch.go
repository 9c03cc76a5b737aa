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
	"github.com/cairn-ledger/cairn/internal/userfile"
)

func cmdWatch() *cli.Command {
	return &cli.Command{
		Name:      "watch",
		Usage:     "record new and changed files in a folder as they appear",
		ArgsUsage: "DIR",
		Description: `watch records what lands in a folder while you work, so that you need not type:
  - a new image with generator metadata is recorded as a generation (as cairn
    import does), with the prompt and settings the tool wrote;
  - a new file without metadata is recorded as a plain output of an unknown tool;
  - a change to a file already there (or seen earlier) is recorded as an edit,
    with the version before and the version after.

It waits until a file has stopped changing (--settle) before it records it, and
ignores hidden files and temporary files (~, .tmp, .part, .crdownload, .swp).
It opens the ledger only to record, so other cairn commands keep working. It
prints one line per recorded step and runs until interrupted (Ctrl-C); files
still settling are recorded before it exits. The folder itself is watched, not
its subfolders.

Example:
  cairn watch ~/Pictures/midjourney --asset poster`,
		Flags: stepFlags(
			&cli.DurationFlag{Name: "settle", Value: 700 * time.Millisecond, Usage: "how long a file must stay unchanged before it is recorded"},
		),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageErrorf("give the folder to watch: cairn watch DIR")
			}
			dir := c.Args().First()
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
			w := &watcher{c: c, id: id, asset: asset, dir: dir, settle: c.Duration("settle"),
				versions: map[string]evidence.FileRef{}, pending: map[string]*pendingFile{}}
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
	versions map[string]evidence.FileRef // path -> the version last recorded or seen
	pending  map[string]*pendingFile
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
		w.versions[p] = ref
	}
	fmt.Fprintf(w.c.App.Writer, "watching %s for asset %s (%d file(s) already there); press Ctrl-C to stop\n", w.dir, w.asset, len(w.versions))
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
	if seen && prev.SHA256 == sum {
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
	switch gen := evidence.GenerateFromCapture(ref, cp); {
	case gen.Captured != nil:
		s, what = gen, importSummary(path, gen)
	case seen:
		before := prev
		s = &evidence.Step{Kind: evidence.KindEdit, Before: &before, After: &ref, Note: "recorded by cairn watch: the file changed"}
		what = fmt.Sprintf("%s changed (edit: %s -> %s)", filepath.Base(path), prev.Short(), ref.Short())
	default:
		s, what = gen, importSummary(path, gen)
	}
	s.Asset = w.asset
	recs, err := b.Record(w.id, []*evidence.Step{s})
	if err != nil {
		return err
	}
	w.versions[path] = ref
	fmt.Fprintf(w.c.App.Writer, "recorded %s #%d for %s: %s\n", s.Kind, recs[len(recs)-1].Seq, w.asset, what)
	autoTimestamp(w.c, b, w.id)
	return nil
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
