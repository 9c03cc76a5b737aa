package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/cairn-ledger/cairn/evidence"
)

// BenchmarkPromptFreshProcess100k is the designer's cost of one step: `cairn prompt`
// as a fresh process on a ledger of 100,000 records, beside a `git commit` of a
// one-line change on the same machine (the ceiling a designer already accepts).
func BenchmarkPromptFreshProcess100k(b *testing.B) {
	bin, err := buildCairn()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	env := append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"), "CAIRN_DIR=", "CAIRN_KEY=")
	run := func(args ...string) {
		cmd := exec.Command(bin, args...)
		cmd.Dir, cmd.Env = dir, env
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("cairn %v: %v\n%s", args, err, out)
		}
	}
	run("init", "--name", "Bench")
	run("asset", "new", "poster")
	run("use", "poster")

	// Fill the ledger to 100,000 records with the bulk path.
	os.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	id, err := evidence.LoadIdentity(filepath.Join(dir, "config", "cairn", "identity.json"), nil)
	if err != nil {
		b.Fatal(err)
	}
	book, err := evidence.Open(filepath.Join(dir, ".cairn"), &evidence.OpenOptions{Bulk: true})
	if err != nil {
		b.Fatal(err)
	}
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
