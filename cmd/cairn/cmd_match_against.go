package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/evidence/percept"
)

// A reference is an image of the reference set.
type reference struct {
	name string // its path from the folder given, the folder's own name first
	sum  string
	fp   percept.Fingerprint
}

// readReferences fingerprints every image under the folders, on every core.
// Files that are not images are skipped and counted; images that do not
// decode are skipped and named.
func readReferences(c *cli.Context, dirs []string) (refs []reference, skipped []string, err error) {
	var paths, names []string
	for _, d := range dirs {
		fi, err := os.Stat(d)
		if err != nil {
			return nil, nil, usageErrorf("--against %s: %v", d, errors.Unwrap(err))
		}
		if !fi.IsDir() {
			return nil, nil, usageErrorf("--against %s is not a folder; give a folder of reference images", d)
		}
		base := filepath.Base(filepath.Clean(d))
		err = filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if e.Type().IsRegular() {
				rel, _ := filepath.Rel(d, p)
				paths = append(paths, p)
				names = append(names, filepath.ToSlash(filepath.Join(base, rel)))
			}
			return nil
		})
		if err != nil {
			return nil, nil, usageErrorf("--against %s: %v", d, err)
		}
	}
	prog := newProgress(c.App.ErrWriter, "fingerprinting reference images", int64(len(paths)))
	results := percept.ReadFiles(paths, func(done, _ int) { prog.set(int64(done)) })
	prog.done()
	for i, r := range results {
		if r.Err != nil {
			if percept.ProblemOf(r.Err) != percept.NotImage {
				skipped = append(skipped, names[i]+": "+r.Err.Error())
			}
			continue
		}
		refs = append(refs, reference{names[i], hex.EncodeToString(r.SHA256[:]), r.FP})
	}
	if len(refs) == 0 {
		return nil, nil, usageErrorf("%s holds no image cairn can read (%s); nothing to compare with", strings.Join(dirs, ", "), percept.Formats)
	}
	return refs, skipped, nil
}

// compared is one of the asset's files that is checked.
type compared struct {
	ref  evidence.FileRef
	role string
	fp   percept.Fingerprint
}

// assetImages returns the asset's final work (its last final step) and its
// inputs (third-party inputs, and images given to a generation), read from
// the signed records and the store, each file checked against its SHA-256.
func assetImages(b *evidence.Book, v *evidence.AssetView) ([]compared, []string, error) {
	var out []compared
	var notImages []string
	seen := map[string]bool{}
	add := func(f evidence.FileRef, role string) error {
		if seen[f.SHA256] {
			return nil
		}
		seen[f.SHA256] = true
		data, err := b.Files.ReadChecked(f.SHA256, percept.MaxFileBytes)
		if err != nil {
			return err
		}
		fp, err := percept.Of(data)
		if err != nil {
			notImages = append(notImages, fmt.Sprintf("%s %s (%v)", role, f.Name, err))
			return nil
		}
		out = append(out, compared{f, role, fp})
		return nil
	}
	for i := len(v.Steps) - 1; i >= 0; i-- {
		if s := v.Steps[i].Step; s.Kind == evidence.KindFinal {
			if err := add(*s.File, "the final work"); err != nil {
				return nil, nil, err
			}
			break
		}
	}
	for _, sr := range v.Steps {
		s := sr.Step
		switch s.Kind {
		case evidence.KindInput:
			if err := add(*s.File, "the input"); err != nil {
				return nil, nil, err
			}
		case evidence.KindGenerate:
			for _, f := range s.In {
				if err := add(f, "the generation input"); err != nil {
					return nil, nil, err
				}
			}
		}
	}
	return out, notImages, nil
}

// matchAgainst is cairn match --against DIR [ASSET].
func matchAgainst(c *cli.Context) error {
	if c.NArg() > 1 {
		return usageErrorf("give one asset: cairn match --against DIR ASSET (got %d arguments)", c.NArg())
	}
	if c.IsSet("export") || c.IsSet("archive") || c.IsSet("packs") {
		return usageErrorf("--against compares an asset of this ledger with a folder; --export, --archive and --packs go with cairn match FILE")
	}
	if len(nonEmpty(c.StringSlice("dir"))) > 1 {
		return usageErrorf("--against checks an asset of one ledger; give --dir once")
	}
	dirs := c.StringSlice("against")
	refs, skipped, err := readReferences(c, dirs)
	if err != nil {
		return err
	}
	var id *evidence.Identity
	var b *evidence.Book
	if c.Bool("record") {
		id, b, err = openSigning(c)
	} else {
		b, err = openBook(c)
	}
	if err != nil {
		return err
	}
	defer b.Close()
	asset := c.Args().First()
	if asset == "" {
		if asset, err = resolveAsset(c, b); err != nil {
			return err
		}
	}
	v, err := b.ViewAsset(asset)
	if err != nil {
		return err
	}
	ours, notImages, err := assetImages(b, v)
	if err != nil {
		return err
	}
	if len(ours) == 0 {
		msg := fmt.Sprintf("asset %s has no final work and no input that is an image: nothing to compare (declare the final with: cairn final FILE)", asset)
		if len(notImages) > 0 {
			msg += "; not images: " + strings.Join(notImages, ", ")
		}
		return usageErrorf("%s", msg)
	}
	th := c.Int("threshold")
	sim := &evidence.Similarity{Method: percept.Method, Threshold: th, Nearest: percept.MaxDistance}
	var sums []string
	seenRef := map[string]bool{}
	for _, r := range refs {
		sums = append(sums, r.sum)
		if seenRef[r.sum] {
			continue
		}
		seenRef[r.sum] = true
		for _, o := range ours {
			d := percept.Distance(o.fp, r.fp)
			sim.Nearest = min(sim.Nearest, d)
			if d <= th {
				sim.Matches = append(sim.Matches, evidence.SimilarityMatch{Name: r.name, SHA256: r.sum, Distance: d, File: o.ref.SHA256})
			}
		}
	}
	sort.SliceStable(sim.Matches, func(i, j int) bool { return sim.Matches[i].Distance < sim.Matches[j].Distance })
	found := len(sim.Matches)
	if len(sim.Matches) > evidence.MaxSimilarityMatches {
		sim.Matches = sim.Matches[:evidence.MaxSimilarityMatches]
	}
	sim.Set, sim.Count = evidence.ReferenceSetHash(sums), len(seenRef)
	sim.Result = evidence.SimilarityClear
	if found > 0 {
		sim.Result = evidence.SimilarityLookalikes
	}
	var in []evidence.FileRef
	for _, o := range ours {
		in = append(in, o.ref)
	}
	label := c.String("label")
	if label == "" {
		var names []string
		for _, d := range dirs {
			names = append(names, filepath.Base(filepath.Clean(d)))
		}
		label = "folder " + strings.Join(names, ", ")
	}
	var rec *evidence.StepRecord
	if c.Bool("record") {
		step := &evidence.Step{Kind: evidence.KindSimilarity, Asset: asset, In: in, Source: label, Note: c.String("note"), Similarity: sim}
		recs, err := b.Record(id, []*evidence.Step{step})
		if err != nil {
			return err
		}
		r := recs[len(recs)-1]
		rec = &evidence.StepRecord{Rec: r, Step: step}
	}
	if c.Bool("json") {
		out := map[string]any{"asset": asset, "compared": in, "reference_set": label, "similarity": sim, "lookalikes": found, "skipped": skipped, "not_images": notImages}
		if rec != nil {
			out["record"] = rec.Rec.Seq
		}
		if err := printJSON(c.App.Writer, out); err != nil {
			return err
		}
	} else {
		printAgainst(c, asset, ours, notImages, sim, found, skipped, label, rec)
	}
	if rec != nil {
		autoTimestamp(c, b, id)
	}
	return nil
}

func printAgainst(c *cli.Context, asset string, ours []compared, notImages []string, sim *evidence.Similarity, found int, skipped []string, label string, rec *evidence.StepRecord) {
	w := c.App.Writer
	role := map[string]compared{}
	var what []string
	for _, o := range ours {
		role[o.ref.SHA256] = o
		what = append(what, fmt.Sprintf("%s %s (sha256 %s)", o.role, safeLine(o.ref.Name, 60), o.ref.Short()))
	}
	fmt.Fprintf(w, "compared   asset %s: %s\n", asset, strings.Join(what, "; "))
	for _, n := range notImages {
		fmt.Fprintf(w, "not compared %s: not an image cairn can read\n", safeLine(n, 200))
	}
	fmt.Fprintf(w, "against    %d reference image(s) in %s (set sha256 %s)\n", sim.Count, safeLine(label, 100), sim.Set)
	if len(skipped) > 0 {
		fmt.Fprintf(w, "skipped    %d file(s) that look like images but do not decode: %s\n", len(skipped), safeLine(strings.Join(skipped[:min(3, len(skipped))], "; "), 300))
	}
	if found == 0 {
		fmt.Fprintf(w, "result     clear: no reference image within distance %d of %d (the nearest is at %d)\n", sim.Threshold, percept.MaxDistance, sim.Nearest)
	} else {
		fmt.Fprintf(w, "result     %d look-alike(s) within distance %d of %d, nearest first:\n", found, sim.Threshold, percept.MaxDistance)
		for _, m := range sim.Matches {
			o := role[m.File]
			fmt.Fprintf(w, "  distance %-3d %s (sha256 %s) looks like %s %s\n", m.Distance, safeLine(m.Name, 100), m.SHA256[:12], o.role, safeLine(o.ref.Name, 60))
		}
		if found > len(sim.Matches) {
			fmt.Fprintf(w, "  … and %d more\n", found-len(sim.Matches))
		}
	}
	fmt.Fprintln(w, "cairn compared only with these reference images; it does not search the web or any other collection. A look-alike is a lead for a person to check, not a finding.")
	if rec != nil {
		fmt.Fprintf(w, "recorded   similarity-check #%d for %s\n", rec.Rec.Seq, asset)
	} else {
		fmt.Fprintln(w, "(not recorded; add --record to keep this check in the ledger and the evidence pack)")
	}
}
