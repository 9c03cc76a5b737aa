package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/evidence/percept"
	"github.com/cairn-ledger/cairn/export"
	"github.com/cairn-ledger/cairn/internal/userfile"
)

func cmdMatch() *cli.Command {
	return &cli.Command{
		Name:      "match",
		Usage:     "which recorded file does this image look like? (also resized, cropped, re-compressed, captioned copies)",
		ArgsUsage: "FILE... | --against DIR [ASSET]",
		Description: `match FILE... lists, for each image, the recorded files that look like it,
nearest first: a copy of your work found elsewhere is usually resized,
re-compressed, cropped a little or captioned, so its SHA-256 no longer matches.
For each look-alike it says the asset, every record that names the file (its
record number and kind, and whether the file was a generated, chosen or
rejected candidate, an edit's before or after, a sketch, an input or the final
work), the file's SHA-256, the distance (0 to 128; 0 is the same picture), and
the earliest trusted time that covers each record: an RFC 3161 timestamp whose
TSA chains to roots you trust, or a cosignature of a witness you trust (as for
cairn verify: --tsa-roots, --witness, or your own settings). Without one, the
record's time is the ledger's own clock, and match says so.

cairn keeps a perceptual fingerprint of every image it stores, to find the
candidates fast. The fingerprints are an index, not evidence: what match prints
is read from the signed records, and each distance is computed again from the
stored file, whose SHA-256 is checked. A ledger recorded before cairn kept
fingerprints gets them on first use (--rebuild recomputes them all).

Search several ledgers (--dir, repeatable), archives (--archive FILE.tar: checked
and restored to a temporary folder first, as cairn restore does), and evidence
packs (--packs FILE.pdf or a folder of them: each is verified first; only packs
exported with --with-files carry their images). A source that does not verify
is not searched, and match exits 1.

match --against DIR [ASSET] compares the asset's final work and its inputs with
a folder of reference images (the studio's stock library, a competitor's
catalogue, what a client supplied), before you publish: it lists the reference
images that look like them. --record records the result as a similarity-check
step (the reference set's SHA-256, how many images, the threshold, the nearest
distance, the look-alikes), which the evidence pack shows. cairn compares only
with the images you give it: it does not search the web.

The default threshold (24) found every altered copy in cairn's tests and no
unrelated image; DESIGN.md gives the rates. A distance is a lead for a person to
look at, not a finding.

Examples:
  cairn match found-online.jpg
  cairn match a.jpg b.png --dir ~/mira/.cairn --dir ~/jon/.cairn --archive 2025.tar
  cairn match poster-copy.jpg --packs /legal/packs --tsa-roots freetsa-cacert.pem --json
  cairn match poster-copy.jpg --export poster-evidence.pdf
  cairn match --against ~/stock poster
  cairn match --against ~/client-refs --record --label "client references 2026-05"

Exit status: 0 when the search ran (with or without look-alikes); 1 if a
ledger, archive or pack does not verify; 2 if an image cannot be read (not an
image, cut short, too large) or a flag is wrong, and nothing was written.`,
		Flags: append([]cli.Flag{
			&cli.StringSliceFlag{Name: "dir", Usage: "a ledger (.cairn directory) to search; repeatable (default: the one here, or CAIRN_DIR)", EnvVars: []string{"CAIRN_DIR"}},
			&cli.StringSliceFlag{Name: "archive", Usage: "an archive written by cairn archive to search; repeatable"},
			&cli.StringSliceFlag{Name: "packs", Usage: "an evidence pack, or a folder of packs, to search; repeatable"},
			&cli.StringSliceFlag{Name: "against", Usage: "a folder of reference images to compare an asset's final and inputs with; repeatable"},
			&cli.BoolFlag{Name: "record", Usage: "with --against: record the result as a similarity-check step of the asset"},
			&cli.StringFlag{Name: "label", Usage: "with --record: what the reference set is (default: the folder names)"},
			&cli.StringFlag{Name: "note", Usage: "with --record: a remark on the check"},
			&cli.IntFlag{Name: "threshold", Value: percept.DefaultThreshold, Usage: "the largest distance (0-128) reported as a look-alike"},
			&cli.IntFlag{Name: "limit", Value: 10, Usage: "at most this many look-alikes per image"},
			&cli.StringFlag{Name: "export", Usage: "write the evidence pack (with its files) of the nearest match's asset to this PDF, for legal"},
			&cli.BoolFlag{Name: "rebuild", Usage: "recompute the fingerprints of every stored image of the ledgers searched"},
			assetFlag(),
			jsonFlag("print the result as JSON"),
		}, trustFlags()...),
		Action: func(c *cli.Context) error {
			th := c.Int("threshold")
			if th < 0 || th > percept.MaxDistance {
				return usageErrorf("--threshold %d: give a distance from 0 to %d (default %d)", th, percept.MaxDistance, percept.DefaultThreshold)
			}
			if c.Int("limit") < 1 {
				return usageErrorf("--limit must be at least 1")
			}
			if len(c.StringSlice("against")) > 0 {
				return matchAgainst(c)
			}
			for _, f := range []string{"record", "label", "note"} {
				if c.IsSet(f) {
					return usageErrorf("--%s goes with --against DIR", f)
				}
			}
			return matchFiles(c)
		},
	}
}

// A query is an image to find.
type query struct {
	path string
	sum  [32]byte
	fp   percept.Fingerprint
}

// readQuery reads and fingerprints an image given on the command line.
func readQuery(path string) (query, error) {
	if err := checkFilesExist(path); err != nil {
		return query{}, err
	}
	r := percept.ReadFile(path)
	if r.Err != nil {
		return query{}, usageErrorf("%s: %v", path, r.Err)
	}
	return query{path, r.SHA256, r.FP}, nil
}

// What match reports, for people and for --json.
type (
	matchSource struct {
		Kind    string `json:"kind"` // ledger, archive or pack
		Path    string `json:"path"`
		Origin  string `json:"origin,omitempty"`
		Asset   string `json:"asset,omitempty"`   // a pack's asset
		Images  int    `json:"images"`            // images with a fingerprint, searched
		Problem string `json:"problem,omitempty"` // why it was not searched
	}
	matchTime struct {
		At          time.Time `json:"at"`
		Trusted     bool      `json:"trusted"` // false: the ledger's own clock
		How         string    `json:"how"`     // RFC 3161 timestamp, witness cosignature, ledger clock
		By          string    `json:"by,omitempty"`
		Checkpoint  int64     `json:"checkpoint_size,omitempty"`
		Anchor      string    `json:"anchor,omitempty"` // where the trust in the TSA roots or witness key came from
		Independent bool      `json:"independent,omitempty"`
	}
	matchRecord struct {
		Record     int64     `json:"record"`
		Kind       string    `json:"kind"`
		Roles      []string  `json:"roles"`
		Asset      string    `json:"asset"`
		Title      string    `json:"title,omitempty"`
		Author     string    `json:"author"`
		AuthorName string    `json:"author_name,omitempty"`
		Time       matchTime `json:"time"`
	}
	matchResult struct {
		Distance int           `json:"distance"`
		Exact    bool          `json:"exact"` // the same bytes (same SHA-256)
		SHA256   string        `json:"sha256"`
		Name     string        `json:"name"`
		Size     int64         `json:"size"`
		Source   int           `json:"source"` // index in sources
		Records  []matchRecord `json:"records"`
		Since    matchTime     `json:"since"` // the earliest time of its records
	}
	matchQuery struct {
		File    string        `json:"file"`
		SHA256  string        `json:"sha256"`
		Matches []matchResult `json:"matches"`
	}
)

func clockTime(t time.Time) matchTime {
	return matchTime{At: t.UTC(), How: "ledger clock"}
}

func recordTime(rt evidence.RecordTime) matchTime {
	if rt.At.IsZero() {
		return clockTime(rt.Clock)
	}
	return matchTime{At: rt.At.UTC(), Trusted: true, How: rt.How, By: rt.By, Checkpoint: rt.Size, Anchor: rt.Anchor.Describe(), Independent: rt.Anchor.Independent}
}

// earliest is the earliest trusted time of the records, or, if none has one,
// the earliest ledger clock.
func earliest(recs []matchRecord) matchTime {
	var best matchTime
	for _, r := range recs {
		t := r.Time
		switch {
		case best.At.IsZero(), t.Trusted && !best.Trusted, t.Trusted == best.Trusted && t.At.Before(best.At):
			best = t
		}
	}
	return best
}

// searcher carries one run of match FILE...
type searcher struct {
	c       *cli.Context
	queries []query
	th      int
	limit   int
	sources []matchSource
	results [][]matchResult // per query
	failed  []string
}

func matchFiles(c *cli.Context) error {
	if c.NArg() == 0 {
		return usageErrorf("give the images to look for: cairn match FILE... (or compare an asset with a folder: cairn match --against DIR ASSET)")
	}
	s := &searcher{c: c, th: c.Int("threshold"), limit: c.Int("limit")}
	for _, p := range c.Args().Slice() {
		q, err := readQuery(p)
		if err != nil {
			return err
		}
		s.queries = append(s.queries, q)
	}
	s.results = make([][]matchResult, len(s.queries))
	dirs := nonEmpty(c.StringSlice("dir")) // CAIRN_DIR= gives one empty value
	if len(dirs) == 0 {
		if g := dirOption(c); g != "" {
			dirs = []string{g}
		}
	}
	archives, packs := c.StringSlice("archive"), c.StringSlice("packs")
	if len(dirs) == 0 && len(archives) == 0 && len(packs) == 0 {
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		d, err := evidence.FindDir("", wd)
		if err != nil {
			return err
		}
		dirs = []string{d}
	}
	packFiles, err := listPacks(packs)
	if err != nil {
		return err
	}
	for _, a := range archives {
		if _, err := os.Stat(a); err != nil {
			return usageErrorf("--archive %s: %v", a, errors.Unwrap(err))
		}
	}
	var ledgerSrc []int
	for _, d := range dirs {
		ledgerSrc = append(ledgerSrc, len(s.sources))
		if err := s.searchLedger(d, "ledger", d); err != nil {
			return err
		}
	}
	for _, a := range archives {
		if err := s.searchArchive(a); err != nil {
			return err
		}
	}
	for _, p := range packFiles {
		if err := s.searchPack(p); err != nil {
			return err
		}
	}
	for i := range s.results {
		sortResults(s.results[i])
		if len(s.results[i]) > s.limit {
			s.results[i] = s.results[i][:s.limit]
		}
	}
	if c.Bool("json") {
		out := map[string]any{"threshold": s.th, "method": percept.Method, "sources": s.sources, "queries": s.queryJSON(), "ok": len(s.failed) == 0}
		if err := printJSON(c.App.Writer, out); err != nil {
			return err
		}
	} else {
		s.print(c.App.Writer)
	}
	if p := c.String("export"); p != "" && len(s.failed) == 0 {
		if err := s.exportNearest(p, ledgerSrc); err != nil {
			return err
		}
	}
	if len(s.failed) > 0 {
		return &exitError{exitVerify, fmt.Errorf("verification FAILED for %s: not searched", strings.Join(s.failed, "; "))}
	}
	return nil
}

func nonEmpty(list []string) []string {
	var out []string
	for _, s := range list {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (s *searcher) queryJSON() []matchQuery {
	out := make([]matchQuery, len(s.queries))
	for i, q := range s.queries {
		out[i] = matchQuery{File: q.path, SHA256: hex.EncodeToString(q.sum[:]), Matches: s.results[i]}
		if out[i].Matches == nil {
			out[i].Matches = []matchResult{}
		}
	}
	return out
}

func sortResults(rs []matchResult) {
	sort.SliceStable(rs, func(i, j int) bool {
		if rs[i].Distance != rs[j].Distance {
			return rs[i].Distance < rs[j].Distance
		}
		if rs[i].Source != rs[j].Source {
			return rs[i].Source < rs[j].Source
		}
		return rs[i].SHA256 < rs[j].SHA256
	})
}

// fail notes a source that did not verify: it is listed and not searched.
func (s *searcher) fail(src matchSource, err error) {
	src.Problem = err.Error()
	s.sources = append(s.sources, src)
	s.failed = append(s.failed, src.Kind+" "+src.Path)
	if !s.c.Bool("json") {
		fmt.Fprintf(s.c.App.ErrWriter, "cairn: %s %s does not verify, not searched: %v\n", src.Kind, src.Path, err)
	}
}

// searchLedger searches the book in dir. Records are read through a rule
// book; the fingerprint index only proposes candidates.
func (s *searcher) searchLedger(dir, kind, label string) error {
	b, err := evidence.Open(dir, nil)
	if err != nil {
		if errors.Is(err, evidence.ErrNoBook) {
			return usageErrorf("--dir %s: %v", dir, err)
		}
		return err
	}
	defer b.Close()
	src := matchSource{Kind: kind, Path: label, Origin: b.Ledger.Origin()}
	trust, err := loadTrust(s.c, b.Dir)
	if err != nil {
		return err
	}
	prog := newProgress(s.c.App.ErrWriter, "reading "+label, b.Ledger.Size())
	v, err := b.ViewFiles(prog.set)
	prog.done()
	if isVerify(err) {
		s.fail(src, err)
		return nil
	}
	if err != nil {
		return err
	}
	fprog := newProgress(s.c.App.ErrWriter, "fingerprinting stored images of "+label, 0)
	idx, err := b.Files.Fingerprints(v.Files(), s.c.Bool("rebuild"), func(done, total int) {
		fprog.total = int64(total)
		fprog.set(int64(done))
	})
	fprog.done()
	if err != nil {
		return err
	}
	tb, err := b.TimeBook(v.Rules, trust)
	if isVerify(err) {
		s.fail(src, err)
		return nil
	}
	if err != nil {
		return err
	}
	src.Images = idx.Len()
	si := len(s.sources)
	s.sources = append(s.sources, src)
	for qi, q := range s.queries {
		var cands [][32]byte
		if v.Named(q.sum) {
			cands = append(cands, q.sum)
		}
		for _, h := range idx.Nearest(q.fp, s.th, 0) {
			if h.SHA256 != q.sum && v.Named(h.SHA256) {
				cands = append(cands, h.SHA256)
			}
		}
		for _, sum := range cands {
			res, ok, err := s.confirmLedger(b, v, tb, q, sum)
			if isVerify(err) {
				s.sources = s.sources[:si]
				s.fail(src, err)
				for i := range s.results {
					s.results[i] = dropSource(s.results[i], si)
				}
				return nil
			}
			if err != nil {
				return err
			}
			if ok {
				res.Source = si
				s.results[qi] = append(s.results[qi], res)
			}
		}
	}
	return nil
}

func dropSource(rs []matchResult, si int) []matchResult {
	out := rs[:0]
	for _, r := range rs {
		if r.Source != si {
			out = append(out, r)
		}
	}
	return out
}

func isVerify(err error) bool {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code == exitVerify
	}
	return err != nil && exitCode(err) == exitVerify
}

// confirmLedger checks a candidate: the stored file still has its SHA-256,
// its distance computed again from it is within the threshold (or it is the
// same file), and every record that names it is read, with its signature,
// asset and trusted time.
func (s *searcher) confirmLedger(b *evidence.Book, v *evidence.FilesView, tb *evidence.TimeBook, q query, sum [32]byte) (matchResult, bool, error) {
	hexSum := hex.EncodeToString(sum[:])
	exact := sum == q.sum
	dist := 0
	if !exact {
		data, err := b.Files.ReadChecked(hexSum, percept.MaxFileBytes)
		if err != nil {
			return matchResult{}, false, err
		}
		fp, err := percept.Of(data)
		if err != nil {
			return matchResult{}, false, nil // the index was wrong: not an image after all
		}
		if dist = percept.Distance(q.fp, fp); dist > s.th {
			return matchResult{}, false, nil
		}
	} else if _, err := b.Files.ReadChecked(hexSum, percept.MaxFileBytes); err != nil {
		return matchResult{}, false, err
	}
	recs, err := v.Records(sum)
	if err != nil {
		return matchResult{}, false, err
	}
	res := matchResult{Distance: dist, Exact: exact, SHA256: hexSum}
	for _, sr := range recs {
		ref := fileIn(sr.Step, hexSum)
		if res.Name == "" && ref != nil {
			res.Name, res.Size = ref.Name, ref.Size
		}
		rt, err := tb.Earliest(sr.Rec)
		if err != nil {
			return matchResult{}, false, err
		}
		res.Records = append(res.Records, describeRecord(v.Rules, sr, hexSum, recordTime(rt)))
	}
	res.Since = earliest(res.Records)
	return res, true, nil
}

func fileIn(s *evidence.Step, sum string) *evidence.FileRef {
	for _, f := range s.Files() {
		if f.SHA256 == sum {
			return &f
		}
	}
	return nil
}

func describeRecord(rb *evidence.RuleBook, sr evidence.StepRecord, sum string, t matchTime) matchRecord {
	mr := matchRecord{Record: sr.Rec.Seq, Kind: sr.Step.Kind, Roles: evidence.FileRoles(sr.Step, sum), Asset: sr.Step.Asset, Time: t}
	if a := rb.Asset(sr.Step.Asset); a != nil {
		mr.Title = a.Title
	}
	if k := rb.Key(sr.Rec.Key); k != nil {
		mr.Author, mr.AuthorName = k.ID(), k.Name
	}
	if mr.Roles == nil {
		mr.Roles = []string{}
	}
	return mr
}

// searchArchive checks and restores an archive into a temporary folder, as
// cairn restore does, and searches the restored ledger.
func (s *searcher) searchArchive(path string) error {
	// Its problems go to standard error: standard output is the result (--json).
	dir, cleanup, err := rebuildTemp(s.c, path, "the archive was not searched", s.c.App.ErrWriter)
	if isVerify(err) {
		s.fail(matchSource{Kind: "archive", Path: path}, err)
		return nil
	}
	if err != nil {
		return err
	}
	defer cleanup()
	return s.searchLedger(dir, "archive", path)
}

// listPacks expands --packs: PDF files given, and the PDF files in folders.
func listPacks(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, usageErrorf("--packs %s: %v", p, errors.Unwrap(err))
		}
		if !fi.IsDir() {
			out = append(out, p)
			continue
		}
		ents, err := os.ReadDir(p)
		if err != nil {
			return nil, usageErrorf("--packs %s: %v", p, err)
		}
		n := 0
		for _, e := range ents {
			if !e.IsDir() && strings.EqualFold(filepath.Ext(e.Name()), ".pdf") {
				out = append(out, filepath.Join(p, e.Name()))
				n++
			}
		}
		if n == 0 {
			return nil, usageErrorf("--packs %s holds no .pdf file", p)
		}
	}
	return out, nil
}

// searchPack verifies a pack (with the verifier's trust) and compares the
// query with the images embedded in it.
func (s *searcher) searchPack(path string) error {
	data, err := userfile.Read(path, "evidence pack", maxPackFile)
	if err != nil {
		return err
	}
	trust, err := loadTrust(s.c, "")
	if err != nil {
		return err
	}
	src := matchSource{Kind: "pack", Path: path}
	rep, err := export.VerifyPackWith(data, export.VerifyOptions{Trust: trust, KeepFiles: true})
	if err != nil {
		s.fail(src, err)
		return nil
	}
	src.Origin, src.Asset = rep.Origin, rep.Asset
	times := map[int64]export.RecordTime{}
	for _, rt := range rep.Times {
		times[rt.Index] = rt
	}
	type image struct {
		sum [32]byte
		fp  percept.Fingerprint
	}
	var imgs []image
	for _, a := range rep.Embedded {
		if fp, err := percept.Of(a.Data); err == nil {
			imgs = append(imgs, image{sha256.Sum256(a.Data), fp})
		}
	}
	src.Images = len(imgs)
	si := len(s.sources)
	s.sources = append(s.sources, src)
	for qi, q := range s.queries {
		found := map[[32]byte]int{}
		for _, sr := range rep.Steps {
			if fileIn(sr.Step, hex.EncodeToString(q.sum[:])) != nil {
				found[q.sum] = 0
			}
		}
		for _, im := range imgs {
			if d := percept.Distance(q.fp, im.fp); d <= s.th {
				if _, ok := found[im.sum]; !ok {
					found[im.sum] = d
				}
			}
		}
		for sum, d := range found {
			hexSum := hex.EncodeToString(sum[:])
			res := matchResult{Distance: d, Exact: sum == q.sum, SHA256: hexSum, Source: si}
			for _, sr := range rep.Steps {
				ref := fileIn(sr.Step, hexSum)
				if ref == nil {
					continue
				}
				if res.Name == "" {
					res.Name, res.Size = ref.Name, ref.Size
				}
				res.Records = append(res.Records, describeRecord(rep.Rules, sr, hexSum, packTime(rep, times[sr.Rec.Seq], sr.Rec.Time)))
			}
			res.Since = earliest(res.Records)
			s.results[qi] = append(s.results[qi], res)
		}
	}
	return nil
}

// packTime is the earliest trusted time verify-pack found for a record: a
// token whose TSA the verifier's roots checked, or a checked cosignature.
func packTime(rep *export.Report, rt export.RecordTime, clock time.Time) matchTime {
	best := clockTime(clock)
	anchor := func(size int64, witness string) (string, bool) {
		for _, ac := range rep.Attested {
			if ac.Size != size {
				continue
			}
			if witness == "" && ac.Timestamp != nil {
				return ac.Timestamp.Anchor.Describe(), ac.Timestamp.Anchor.Independent
			}
			for _, cc := range ac.Cosignatures {
				if cc.Witness == witness && cc.Checked {
					return cc.Anchor.Describe(), cc.Anchor.Independent
				}
			}
		}
		return "", false
	}
	if !rt.NoLaterThan.IsZero() && rt.TSAChecked {
		a, ind := anchor(rt.Size, "")
		best = matchTime{At: rt.NoLaterThan.UTC(), Trusted: true, How: "RFC 3161 timestamp", By: rt.TSA, Checkpoint: rt.Size, Anchor: a, Independent: ind}
	}
	if !rt.WitnessTime.IsZero() && (!best.Trusted || rt.WitnessTime.Before(best.At)) {
		var size int64
		for _, ac := range rep.Attested {
			for _, cc := range ac.Cosignatures {
				if cc.Witness == rt.Witness && cc.Checked && cc.Time.Equal(rt.WitnessTime) && size == 0 {
					size = ac.Size
				}
			}
		}
		a, ind := anchor(size, rt.Witness)
		best = matchTime{At: rt.WitnessTime.UTC(), Trusted: true, How: "witness cosignature", By: rt.Witness, Checkpoint: size, Anchor: a, Independent: ind}
	}
	return best
}

const stamp = "2006-01-02T15:04:05Z"

func (t matchTime) String() string {
	if !t.Trusted {
		return t.At.Format(stamp) + " (the ledger's own clock: not a trusted time)"
	}
	s := fmt.Sprintf("%s (%s by %s over the checkpoint of %d records", t.At.Format(stamp), t.How, safeLine(t.By, 80), t.Checkpoint)
	if t.Anchor != "" {
		s += "; trusted from " + t.Anchor
	}
	return s + ")"
}

func (s *searcher) print(w io.Writer) {
	images := 0
	for _, src := range s.sources {
		images += src.Images
	}
	for qi, q := range s.queries {
		rs := s.results[qi]
		if len(rs) == 0 {
			fmt.Fprintf(w, "%s (sha256 %x): no recorded file within distance %d, among %d images in %d source(s)\n", q.path, q.sum[:6], s.th, images, len(s.sources))
			continue
		}
		fmt.Fprintf(w, "%s (sha256 %x): %d recorded file(s) within distance %d of %d, nearest first\n", q.path, q.sum[:6], len(rs), s.th, percept.MaxDistance)
		for i, r := range rs {
			src := s.sources[r.Source]
			how := fmt.Sprintf("distance %d", r.Distance)
			if r.Exact {
				how = "the same file (same SHA-256)"
			}
			where := src.Kind + " " + shortPath(src.Path)
			if src.Origin != "" {
				where += " (" + src.Origin + ")"
			}
			fmt.Fprintf(w, "%2d. %s: %s, %s\n", i+1, how, safeLine(r.Name, 80), where)
			fmt.Fprintf(w, "    sha256 %s\n", r.SHA256)
			for _, mr := range r.Records {
				title := ""
				if mr.Title != "" {
					title = fmt.Sprintf(" (%s)", safeLine(mr.Title, 60))
				}
				roles := strings.Join(mr.Roles, ", ")
				if roles == "" {
					roles = "named"
				}
				fmt.Fprintf(w, "    record %d  %-9s %s of asset %s%s, by %s (key %s)\n", mr.Record, mr.Kind, roles, mr.Asset, title, safeLine(mr.AuthorName, 60), mr.Author)
				fmt.Fprintf(w, "               %s\n", mr.Time)
			}
			fmt.Fprintf(w, "    held since %s\n", r.Since)
		}
	}
	fmt.Fprintf(w, "searched %d image(s) in %d source(s); distances run from 0 (the same picture) to %d; a look-alike is a lead for a person to check, not a finding\n", images, len(s.sources), percept.MaxDistance)
}

// exportNearest writes the evidence pack of the asset of the nearest match
// found in a ledger: its records with their proofs, and its files.
func (s *searcher) exportNearest(out string, ledgerSrc []int) error {
	var best *matchResult
	for qi := range s.results {
		for i, r := range s.results[qi] {
			for _, si := range ledgerSrc {
				if r.Source == si && (best == nil || r.Distance < best.Distance) {
					best = &s.results[qi][i]
				}
			}
		}
	}
	if best == nil || len(best.Records) == 0 {
		return usageErrorf("--export %s: no look-alike in a ledger to export (packs and archives are exported from their ledgers)", out)
	}
	asset := best.Records[0].Asset
	id, err := loadIdentity(s.c)
	if err != nil {
		return err
	}
	b, err := evidence.Open(s.sources[best.Source].Path, nil)
	if err != nil {
		return err
	}
	defer b.Close()
	pdf, err := export.Export(b, id, asset, export.Options{WithFiles: true})
	if err != nil {
		return err
	}
	if err := writeFileAtomic(out, pdf); err != nil {
		return err
	}
	if !s.c.Bool("json") {
		fmt.Fprintf(s.c.App.Writer, "wrote %s: the evidence pack of asset %s, with its files; it holds record %d and the file %s (check it with: cairn verify-pack %s)\n", out, asset, best.Records[0].Record, best.SHA256[:12], out)
	}
	return nil
}
