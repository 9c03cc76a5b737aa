package ledger

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestCrash kills a process that appends records at random moments, and checks
// after every kill that the ledger opens, verifies, and holds every record whose
// Append had returned.
// killAfter starts cmd, sends it SIGKILL after d and returns the lines it wrote to
// standard output before it died, and its standard error. The caller waits for it.
func killAfter(t *testing.T, cmd *exec.Cmd, d time.Duration) ([]string, *bytes.Buffer) {
	t.Helper()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan []string, 1)
	go func() { lines <- readLines(out) }()
	time.Sleep(d)
	cmd.Process.Signal(syscall.SIGKILL)
	return <-lines, &stderr
}

func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := filepath.Join(t.TempDir(), "ledger")
	l, err := Create(dir, testOrigin, nil)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()

	const rounds = 20
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	acked := map[int64]bool{}
	var maxAcked int64 = -1
	for round := range rounds {
		// Half the rounds keep the ledger open; the others open and close it for
		// every record, so that kills also land in Open and Close (and in the
		// MANIFEST rewrite, which those helpers do at every open).
		sub := "keep"
		if round%2 == 1 {
			sub = "reopen"
		}
		cmd := helperCommand("crash-append", dir, "", 0)
		cmd.Env = append(cmd.Env, helperModeEnv+"="+sub)
		sleep := time.Duration(5+rng.IntN(196)) * time.Millisecond
		got, stderr := killAfter(t, cmd, sleep)
		err := cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("round %d: helper was not killed but ended: %v\n%s", round, err, stderr.Bytes())
		}
		for _, line := range got {
			seq, err := strconv.ParseInt(line, 10, 64)
			if err != nil {
				t.Fatalf("round %d: helper printed %q", round, line)
			}
			acked[seq] = true
			maxAcked = max(maxAcked, seq)
		}

		l, err := Open(dir, nil)
		if err != nil {
			t.Fatalf("round %d (%s, killed after %v, %d acknowledged): Open: %v", round, sub, sleep, len(got), err)
		}
		rep, err := l.Verify(VerifyOptions{})
		if err != nil {
			l.Close()
			t.Fatalf("round %d (%s, killed after %v): Verify: %v", round, sub, sleep, err)
		}
		if rep.Size <= maxAcked {
			l.Close()
			t.Fatalf("round %d: ledger has %d records, but record %d was acknowledged", round, rep.Size, maxAcked)
		}
		// Every record, acknowledged or not, must be the one written for its seq.
		var n int64
		err = l.Scan(0, func(r *Record) error {
			if r.Seq != n || !bytes.Equal(r.Payload, crashPayload(r.Seq)) {
				return fmt.Errorf("record at %d: seq %d, payload %.40q; want %d, %.40q", n, r.Seq, r.Payload, n, crashPayload(n))
			}
			n++
			return nil
		})
		if err == nil && n != rep.Size {
			err = fmt.Errorf("scanned %d records, Verify counted %d", n, rep.Size)
		}
		for seq := range acked {
			if _, gerr := l.Get(seq); gerr != nil && err == nil {
				err = fmt.Errorf("acknowledged record %d: %v", seq, gerr)
			}
		}
		l.Close()
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	if len(acked) < rounds {
		t.Fatalf("only %d records acknowledged in %d rounds: the helper hardly ran", len(acked), rounds)
	}
	t.Logf("%d rounds, %d records acknowledged", rounds, len(acked))
}

// TestConcurrentProcesses runs four processes that each append 50 records, opening
// and closing the ledger for every record as the command-line tool does.
func TestConcurrentProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	const procs, each = 4, 50
	_, dir := newTestLedgerClosed(t)
	var wg sync.WaitGroup
	errs := make([]error, procs)
	for p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := helperCommand("append-n", dir, strconv.Itoa(each), p+1)
			out, err := cmd.CombinedOutput()
			if err != nil {
				errs[p] = fmt.Errorf("process %d: %v\n%s", p+1, err, out)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	l, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	rep, err := l.Verify(VerifyOptions{})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if rep.Size != procs*each || len(rep.Keys) != procs {
		t.Fatalf("Verify: %d records by %d keys, want %d by %d", rep.Size, len(rep.Keys), procs*each, procs)
	}
	next := make([]int, procs+1) // each process's records appear in its own order
	err = l.Scan(0, func(r *Record) error {
		for p := 1; p <= procs; p++ {
			if r.Key.Equal(testPub(p)) {
				if want := procPayload(p, next[p]); !bytes.Equal(r.Payload, want) {
					return fmt.Errorf("record %d by process %d: payload %q, want %q", r.Seq, p, r.Payload, want)
				}
				next[p]++
				return nil
			}
		}
		return fmt.Errorf("record %d by an unknown key", r.Seq)
	})
	if err != nil {
		t.Fatal(err)
	}
	for p := 1; p <= procs; p++ {
		if next[p] != each {
			t.Errorf("process %d has %d records, want %d", p, next[p], each)
		}
	}
}

func newTestLedgerClosed(t *testing.T) (string, string) {
	dir := filepath.Join(t.TempDir(), "ledger")
	l, err := Create(dir, testOrigin, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return testOrigin, dir
}

func TestLockTimeout(t *testing.T) {
	_, dir := newTestLedgerClosed(t)
	cmd := helperCommand("hold", dir, "", 0)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("holder said %q, %v\n%s", line, err, stderr.Bytes())
	}

	start := time.Now()
	l, err := Open(dir, &Options{LockTimeout: 300 * time.Millisecond})
	waited := time.Since(start)
	if err == nil {
		l.Close()
		t.Fatal("Open succeeded while another process held the ledger")
	}
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("Open while held: %v; want an error wrapping ErrLocked", err)
	}
	if pid := strconv.Itoa(cmd.Process.Pid); !strings.Contains(err.Error(), "process "+pid) {
		t.Errorf("Open while held: %q does not name the holder, process %s", err, pid)
	}
	if waited < 300*time.Millisecond || waited > 3*time.Second {
		t.Errorf("Open gave up after %v, want about 300ms", waited)
	}

	// Once the holder closes, Open succeeds within the timeout.
	stdin.Close()
	l, err = Open(dir, &Options{LockTimeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("Open after the holder closed: %v", err)
	}
	l.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("holder: %v\n%s", err, stderr.Bytes())
	}
}

// TestOpenAfterKillLeftEmptyWAL reproduces what TestCrash hits now and then: a
// process killed inside Open, after Badger created the next memtable's write-ahead
// log (NNNNN.mem) and before it sized it, leaves a zero-length file. Such a file
// holds no writes, and the ledger must open.
func TestOpenAfterKillLeftEmptyWAL(t *testing.T) {
	l, dir := newTestLedger(t, 3)
	l.Close()
	if err := os.WriteFile(filepath.Join(dir, "00007.mem"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := Open(dir, nil)
	if err != nil {
		t.Fatalf("Open with a zero-length memtable WAL left by a kill: %v", err)
	}
	defer l.Close()
	if rep, err := l.Verify(VerifyOptions{}); err != nil || rep.Size != 3 {
		t.Fatalf("Verify = %v, %v; want 3 records", rep, err)
	}
}

// TestCrashDuringBulk kills a bulk import at random moments, then opens the ledger
// the way a single-record command does. The bulk process's memtable log is larger
// than a single-record process's memtable: it must still be replayed, and every
// batch whose AppendBatch returned must be there.
func TestCrashDuringBulk(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := filepath.Join(t.TempDir(), "ledger")
	l, err := Create(dir, testOrigin, nil)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	acked := int64(0)
	for round := range 4 {
		cmd := helperCommand("bulk-forever", dir, "", 0)
		got, stderr := killAfter(t, cmd, time.Duration(150+rng.IntN(500))*time.Millisecond)
		for _, line := range got {
			if n, err := strconv.ParseInt(line, 10, 64); err == nil {
				acked = max(acked, n)
			}
		}
		cmd.Wait()
		l, err := Open(dir, nil)
		if err != nil {
			t.Fatalf("round %d: open after a killed bulk import: %v\n%s", round, err, stderr.String())
		}
		rep, err := l.Verify(VerifyOptions{})
		if err != nil {
			l.Close()
			t.Fatalf("round %d: verify: %v", round, err)
		}
		if rep.Size < acked {
			t.Errorf("round %d: %d records, but %d were acknowledged", round, rep.Size, acked)
		}
		l.Close()
	}
	if acked == 0 {
		t.Log("no batch was acknowledged before the kills; the test still checked recovery")
	}
}
