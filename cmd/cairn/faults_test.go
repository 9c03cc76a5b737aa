package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// faultCLI runs the cairn binary in a directory of its own, with its own
// identity key and environment, for fault-injection tests.
type faultCLI struct {
	t   *testing.T
	bin string
	dir string
	env []string
}

func newFaultCLI(t *testing.T, env ...string) *faultCLI {
	t.Helper()
	if testing.Short() {
		t.Skip("spawns processes")
	}
	bin, err := buildCairn()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	base := append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"), "CAIRN_DIR=", "CAIRN_KEY=", "CAIRN_PASSPHRASE=")
	return &faultCLI{t: t, bin: bin, dir: dir, env: append(base, env...)}
}

func (f *faultCLI) command(args ...string) *exec.Cmd {
	cmd := exec.Command(f.bin, args...)
	cmd.Dir = f.dir
	cmd.Env = f.env
	return cmd
}

// run runs cairn to the end and returns its exit status and output.
func (f *faultCLI) run(args ...string) (code int, stdout, stderr string) {
	f.t.Helper()
	return f.runStdin("", args...)
}

// runStdin is run with stdin as standard input.
func (f *faultCLI) runStdin(stdin string, args ...string) (code int, stdout, stderr string) {
	f.t.Helper()
	cmd := f.command(args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		f.t.Fatal(err)
	}
	return code, out.String(), errb.String()
}

// must runs cairn and fails the test unless it exits 0.
func (f *faultCLI) must(args ...string) string {
	f.t.Helper()
	code, out, errs := f.run(args...)
	if code != 0 {
		f.t.Fatalf("cairn %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// killed starts cairn, kills it with SIGKILL after d and returns what it wrote.
// ok is false if it finished first.
func (f *faultCLI) killed(d time.Duration, args ...string) (stdout string, killed bool) {
	f.t.Helper()
	cmd := f.command(args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		f.t.Fatal(err)
	}
	time.Sleep(d)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	return out.String(), ws.Signaled()
}

// testRand is a seeded source of test data; the seed is logged.
type testRand struct{ r *rand.Rand }

func newRand(t *testing.T) testRand {
	seed := uint64(time.Now().UnixNano())
	t.Logf("random seed %d", seed)
	return testRand{rand.New(rand.NewPCG(seed, 13))}
}

func (r testRand) intn(n int) int { return r.r.IntN(n) }

func (r testRand) bytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.r.Uint32())
	}
	return b
}

// verifiesWith checks that the ledger verifies and that its notes (of asset
// poster) are exactly the acknowledged ones, each once: none lost, none
// recorded twice, none recorded by a run that did not say so.
func (f *faultCLI) verifiesWith(acked []string) {
	f.t.Helper()
	if out := f.must("verify"); !strings.Contains(out, "OK") {
		f.t.Fatalf("verify:\n%s", out)
	}
	seen := map[string]int{}
	notes := 0
	for _, line := range strings.Split(strings.TrimSpace(f.must("log", "--json", "--asset", "poster")), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			f.t.Fatalf("log line %q: %v", line, err)
		}
		if m["kind"] == "note" {
			seen[m["text"].(string)]++
			notes++
		}
	}
	for _, text := range acked {
		switch seen[text] {
		case 0:
			f.t.Errorf("acknowledged note %.40q is missing", text)
		case 1:
		default:
			f.t.Errorf("note %.40q is recorded %d times", text, seen[text])
		}
	}
	if notes != len(acked) {
		f.t.Errorf("the ledger holds %d notes, %d were acknowledged", notes, len(acked))
	}
}

// TestRotateKilled kills `cairn id rotate` at moments spread over its run, 24
// times with a plain key and 24 with an encrypted one. After every kill the
// user must still be able to record (no lock-out), the rotation must be either
// recorded and finished or not recorded, and at the end the ledger verifies
// with every acknowledged step.
func TestRotateKilled(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		init []string
	}{
		{"plain", nil, []string{"init", "--name", "Ada"}},
		{"encrypted", []string{"CAIRN_PASSPHRASE=correct horse"}, []string{"init", "--name", "Ada", "--encrypt"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFaultCLI(t, tc.env...)
			f.must(tc.init...)
			f.must("asset", "new", "poster")
			// How long an uninterrupted rotation takes here sets where the
			// kills land: spread from the start to a little past the end.
			start := time.Now()
			f.must("id", "rotate")
			full := time.Since(start)
			const rounds = 24
			var acked []string
			finished, killedRuns := 0, 0
			for i := range rounds {
				d := full * time.Duration(i+1) / rounds * 11 / 10
				out, killed := f.killed(d, "id", "rotate")
				if killed {
					killedRuns++
				} else if !strings.Contains(out, "rotated: new key") {
					t.Fatalf("round %d: rotate ended on its own without rotating:\n%s", i, out)
				}
				text := fmt.Sprintf("after kill %d", i)
				code, stdout, stderr := f.run("note", text, "--asset", "poster")
				if code != 0 {
					t.Fatalf("round %d (killed after %v): locked out: note exit %d\n%s%s", i, d, code, stdout, stderr)
				}
				if strings.Contains(stderr, "finished the key rotation recorded in #") {
					finished++
				}
				acked = append(acked, text)
			}
			t.Logf("%d rounds, %d killed, %d interrupted rotations finished by the next command (full rotation %v)", rounds, killedRuns, finished, full.Round(time.Millisecond))
			if killedRuns == 0 {
				t.Fatal("no rotation was killed: the kills came too late")
			}
			// Still usable: one more rotation, then a note with its key.
			f.must("id", "rotate")
			f.must("note", "after the last rotation", "--asset", "poster")
			acked = append(acked, "after the last rotation")
			f.verifiesWith(acked)
		})
	}
}

// needTmpfs skips a full-disk test where a tmpfs cannot be mounted, saying why,
// and fails it in CI.
func needTmpfs(t *testing.T) {
	t.Helper()
	ok, why, err := tmpfsUsable()
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Skip(why)
	}
}

// onTmpfs mounts a tmpfs of size (as mount -o size= takes it) and puts the
// ledger there; it returns the mount point. It skips the test where that
// cannot be done, or fails it in CI.
func (f *faultCLI) onTmpfs(size string) string {
	f.t.Helper()
	needTmpfs(f.t)
	disk := filepath.Join(f.dir, "disk")
	if err := os.MkdirAll(disk, 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := mountTmpfs(disk, size); err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { unmount(disk) })
	f.env = append(f.env, "CAIRN_DIR="+filepath.Join(disk, ".cairn"))
	return disk
}

// TestFullDiskNeverCrashes records notes of random sizes, and batches, into a
// ledger on a 2 MiB tmpfs until the disk is too full to take more. Every run
// must either record (exit 0, "recorded") or refuse with the full-disk error
// (exit 3) and record nothing; none may crash. Reading keeps working, and the
// ledger verifies with every acknowledged step.
func TestFullDiskNeverCrashes(t *testing.T) {
	f := newFaultCLI(t)
	f.onTmpfs("2m")
	f.must("init", "--name", "Ada")
	f.must("asset", "new", "poster")
	rng := newRand(t)
	var acked []string
	refusedInARow, refused := 0, 0
	for i := 0; refusedInARow < 3 && i < 400; i++ {
		text := fmt.Sprintf("note %d %x", i, rng.bytes(100+rng.intn(30000)))
		var code int
		var stdout, stderr string
		if i%5 == 4 {
			code, stdout, stderr = f.runStdin(fmt.Sprintf(`{"kind":"note","asset":"poster","text":%q}`+"\n", text), "batch", "-")
		} else {
			code, stdout, stderr = f.run("note", text, "--asset", "poster")
		}
		switch {
		case strings.Contains(stderr, "SIGBUS") || strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "fatal error"):
			t.Fatalf("run %d crashed (exit %d):\n%s", i, code, stderr)
		case code == 0 && strings.Contains(stdout, "recorded"):
			acked = append(acked, text)
			refusedInARow = 0
		case code == 3 && strings.Contains(stderr, "not enough free disk space") && !strings.Contains(stdout, "recorded"):
			refused++
			refusedInARow++
		default:
			t.Fatalf("run %d: exit %d\nstdout: %s\nstderr: %s", i, code, stdout, stderr)
		}
	}
	t.Logf("%d steps recorded, %d refused before the disk was full", len(acked), refused)
	if refusedInARow < 3 {
		t.Fatal("the disk never filled up")
	}
	f.verifiesWith(acked)
}

// batchOf writes a batch of n notes to a file and returns its path and texts.
func (f *faultCLI) batchOf(name string, n int) (string, []string) {
	f.t.Helper()
	var b strings.Builder
	texts := make([]string, n)
	for i := range texts {
		texts[i] = fmt.Sprintf("%s step %d", name, i)
		fmt.Fprintf(&b, `{"kind":"note","asset":"poster","text":%q}`+"\n", texts[i])
	}
	path := filepath.Join(f.dir, name+".jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		f.t.Fatal(err)
	}
	return path, texts
}

// TestBatchKilledResumes kills a batch of 2,500 steps (three appends) at
// moments spread over its run, then runs the same batch again: it must record
// exactly the steps that were missing, so that every step is in the ledger
// once.
func TestBatchKilledResumes(t *testing.T) {
	f := newFaultCLI(t)
	f.must("init", "--name", "Ada")
	f.must("asset", "new", "poster")
	path, texts := f.batchOf("timing", 2500)
	start := time.Now()
	f.must("batch", path)
	full := time.Since(start)
	acked := texts
	// Kills at fractions of a whole run, until one landed between appends
	// (the retry resumed) and at least six rounds ran. A busy machine slows
	// some runs, so the kills move later when none has resumed yet.
	const minRounds, maxRounds = 6, 16
	resumed, round := 0, 0
	for ; round < maxRounds && (round < minRounds || resumed == 0); round++ {
		path, texts := f.batchOf(fmt.Sprintf("round%d", round), 2500)
		frac := time.Duration(round%minRounds+1) * 100 / minRounds
		if round >= minRounds {
			frac = 50 + time.Duration(round-minRounds)*10
		}
		acked = append(acked, texts...)
		out, _ := f.killed(full*frac/100, "batch", path)
		if strings.Contains(out, "recorded 2500 step(s)") {
			continue // acknowledged before the kill: a retry would record it again, as asked
		}
		code, stdout, stderr := f.run("batch", path)
		if code != 0 {
			t.Fatalf("round %d: the retry failed (exit %d):\n%s%s", round, code, stdout, stderr)
		}
		if strings.Contains(stderr, "had been recorded by an interrupted run") {
			resumed++
		}
	}
	t.Logf("%d of %d retries resumed an interrupted batch (a whole batch took %v)", resumed, round, full.Round(time.Millisecond))
	if resumed == 0 {
		t.Errorf("in %d rounds no kill interrupted a batch between its appends; the test did not test resuming", round)
	}
	f.verifiesWith(acked)
}

// TestBatchFullDiskResumes fills a 3 MiB disk part-way through a batch: the
// batch stops with the full-disk error and says how much it recorded; with
// more room, the same batch records the rest, and every step is there once.
func TestBatchFullDiskResumes(t *testing.T) {
	f := newFaultCLI(t)
	disk := f.onTmpfs("3m")
	f.must("init", "--name", "Ada")
	f.must("asset", "new", "poster")
	path, texts := f.batchOf("big", 5000)
	code, stdout, stderr := f.run("batch", path)
	if code != 3 || !strings.Contains(stderr, "not enough free disk space") || !strings.Contains(stderr, "of the batch's 5000 steps are recorded; run the same batch again") {
		t.Fatalf("batch on a filling disk: exit %d\n%s%s", code, stdout, stderr)
	}
	if err := unix.Mount("", disk, "", unix.MS_REMOUNT, "size=16m"); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = f.run("batch", path)
	if code != 0 || !strings.Contains(stderr, "had been recorded by an interrupted run") {
		t.Fatalf("the same batch with room: exit %d\n%s%s", code, stdout, stderr)
	}
	t.Logf("%s%s", stdout, stderr)
	f.verifiesWith(texts)
}
