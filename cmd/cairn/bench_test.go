package main

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/evidence/percept"
	"github.com/cairn-ledger/cairn/internal/imgtest"
)

// BenchmarkPromptFreshProcess100k is the designer's cost of one step: `cairn prompt`
// as a fresh process on a ledger of 100,000 records, beside a `git commit` of a
// one-line change on the same machine (the ceiling a designer already accepts).
func BenchmarkPromptFreshProcess100k(b *testing.B) {
	run, id, book := benchLedger(b)
	run("use", "poster")

	// Fill the ledger to 100,000 records with the bulk path.
	const total = 100_000
	steps := make([]*evidence.Step, 0, total)
	for i := book.Ledger.Size(); i < total; i++ {
		steps = append(steps, &evidence.Step{Kind: evidence.KindPrompt, Asset: "poster",
			Text: fmt.Sprintf("prompt %d: a red fox in deep snow at dusk, woodcut print style, three colours", i), Tool: "midjourney"})
	}
	if _, err := book.Record(id, steps); err != nil {
		b.Fatal(err)
	}
	book.Close()
	run("note", "warm-up: first open after the bulk load compacts it")

	gitMs := gitCommitMs(b, 20)
	b.ResetTimer()
	var lat []time.Duration
	for i := 0; i < max(b.N, 30); i++ {
		t := time.Now()
		run("prompt", fmt.Sprintf("a fox, take %d", i), "--tool", "midjourney")
		lat = append(lat, time.Since(t))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	med := float64(lat[len(lat)/2].Microseconds()) / 1000
	b.ReportMetric(med, "ms/prompt(median)")
	b.ReportMetric(float64(lat[len(lat)*9/10].Microseconds())/1000, "ms/prompt(p90)")
	b.ReportMetric(gitMs, "ms/git-commit(ceiling)")
	b.ReportMetric(med/gitMs, "x-git")
}

// benchLedger makes a ledger with an asset "poster" in a temporary folder,
// and returns a way to run cairn there as a fresh process (its output is
// returned), the identity, and the book open for bulk appends.
func benchLedger(b *testing.B) (run func(args ...string) []byte, id *evidence.Identity, book *evidence.Book) {
	bin, err := buildCairn()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	env := append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"), "CAIRN_DIR=", "CAIRN_KEY=")
	run = func(args ...string) []byte {
		cmd := exec.Command(bin, args...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("cairn %v: %v\n%s", args, err, out)
		}
		return out
	}
	run("init", "--name", "Bench")
	run("asset", "new", "poster")
	os.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	if id, err = evidence.LoadIdentity(filepath.Join(dir, "config", "cairn", "identity.json"), nil); err != nil {
		b.Fatal(err)
	}
	if book, err = evidence.Open(filepath.Join(dir, ".cairn"), &evidence.OpenOptions{Bulk: true}); err != nil {
		b.Fatal(err)
	}
	return run, id, book
}

// gitCommitMs is the median time of `git commit -qam` of a one-line change, as a
// fresh process, in a scratch repository.
func gitCommitMs(b *testing.B, n int) float64 {
	if _, err := exec.LookPath("git"); err != nil {
		b.Skip("git not installed")
	}
	repo := b.TempDir()
	git := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-c", "user.name=b", "-c", "user.email=b@example.com"}, args...)...)
		cmd.Dir = repo
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q")
	f := filepath.Join(repo, "notes.txt")
	os.WriteFile(f, []byte("start\n"), 0o644)
	git("add", "notes.txt")
	git("commit", "-qm", "start")
	var lat []time.Duration
	for i := 0; i < n; i++ {
		os.WriteFile(f, []byte(fmt.Sprintf("line %d\n", i)), 0o644)
		t := time.Now()
		git("commit", "-qam", "one line")
		lat = append(lat, time.Since(t))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return float64(lat[len(lat)/2].Microseconds()) / 1000
}

// BenchmarkMatch100k is `cairn match` as a fresh process on a ledger with
// 100,000 stored images (25,000 generations of four candidates each), beside
// the ceiling of `cairn asset list` on the same ledger: one pass through the
// records under the rule book and nothing else, which match makes too (what it
// prints comes from those records). The
// fingerprint index of the 100,000 images is written directly; the images
// themselves would take gigabytes, and match reads only the candidates'.
func BenchmarkMatch100k(b *testing.B) {
	run, id, book := benchLedger(b)
	dir := filepath.Dir(book.Dir)
	tiger, err := imgtest.Read("tiger.png")
	if err != nil {
		b.Fatal(err)
	}
	real, err := book.Files.AddReader(bytes.NewReader(tiger))
	if err != nil {
		b.Fatal(err)
	}
	real.Name = "tiger.png"
	rng := rand.New(rand.NewPCG(7, 8))
	index := book.Files.FingerprintPath()
	const total = 100_000
	var steps []*evidence.Step
	for i := 0; i < total; i += 4 {
		out := make([]evidence.FileRef, 4)
		for j := range out {
			var sum [32]byte
			for k := range sum {
				sum[k] = byte(rng.Uint32())
			}
			var fp percept.Fingerprint
			for l := range fp {
				fp[l] = percept.Hash{P: rng.Uint64(), D: rng.Uint64()}
			}
			if err := percept.AppendRecord(index, sum, 0, fp); err != nil {
				b.Fatal(err)
			}
			out[j] = evidence.FileRef{Name: fmt.Sprintf("gen-%06d.png", i+j), SHA256: hex.EncodeToString(sum[:]), Size: 40000, Type: "image/png"}
		}
		if i == total/2 {
			out[0] = real
		}
		steps = append(steps, &evidence.Step{Kind: evidence.KindGenerate, Asset: "poster", Tool: "midjourney", Out: out})
	}
	if _, err := book.Record(id, steps); err != nil {
		b.Fatal(err)
	}
	book.Close()
	query := filepath.Join(dir, "found.jpg")
	img, _ := imgtest.Decode(tiger)
	data, _ := imgtest.Make(img, "half-jpeg70")
	os.WriteFile(query, data, 0o644)
	run("asset", "list") // warm-up: the first open after the bulk load compacts
	if out := run("match", query); !bytes.Contains(out, []byte("1. distance")) {
		b.Fatalf("the copy was not found:\n%s", out)
	}
	b.ResetTimer()
	var lat, ceil []time.Duration
	for i := 0; i < max(b.N, 7); i++ {
		t := time.Now()
		run("match", query)
		lat = append(lat, time.Since(t))
		t = time.Now()
		run("asset", "list")
		ceil = append(ceil, time.Since(t))
	}
	b.StopTimer()
	med := func(d []time.Duration) float64 {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return float64(d[len(d)/2].Microseconds()) / 1000
	}
	m, c := med(lat), med(ceil)
	b.ReportMetric(m, "ms/match(median)")
	b.ReportMetric(c, "ms/asset-list(ceiling)")
	b.ReportMetric(m/c, "x-ceiling")
}
