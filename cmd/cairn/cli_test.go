package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
)

// buildCairn compiles the command once per test binary run.
var buildCairn = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "cairn-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "cairn")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// cli runs cairn as a separate process in dir with its own identity.
type proc struct {
	t   testing.TB
	bin string
	dir string
}

func newCLI(t testing.TB) *proc {
	bin, err := buildCairn()
	if err != nil {
		t.Fatal(err)
	}
	return &proc{t, bin, t.TempDir()}
}

func (c *proc) run(stdin string, args ...string) (string, error) {
	cmd := exec.Command(c.bin, args...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+filepath.Join(c.dir, "config"), "CAIRN_DIR=", "CAIRN_KEY=")
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("cairn %s: %v: %s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), nil
}

func (c *proc) must(args ...string) string {
	c.t.Helper()
	out, err := c.run("", args...)
	if err != nil {
		c.t.Fatal(err)
	}
	return out
}

// TestConcurrentProcesses runs 8 cairn processes recording steps at the same time.
// None may fail, none may be lost, and the ledger must verify.
func TestConcurrentProcesses(t *testing.T) {
	c := newCLI(t)
	c.must("init", "--name", "Ada")
	c.must("asset", "new", "poster")
	const procs, each = 8, 12
	var wg sync.WaitGroup
	errs := make(chan error, procs*each)
	for p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if _, err := c.run("", "note", fmt.Sprintf("process %d step %d", p, i), "--asset", "poster"); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(c.must("log", "--json", "--asset", "poster")), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m["kind"] == "note" {
			seen[m["text"].(string)] = true
		}
	}
	for p := range procs {
		for i := range each {
			if k := fmt.Sprintf("process %d step %d", p, i); !seen[k] {
				t.Errorf("step %q is missing", k)
			}
		}
	}
	if len(seen) != procs*each {
		t.Errorf("%d distinct notes recorded, want %d", len(seen), procs*each)
	}
	if out := c.must("verify"); !strings.Contains(out, "OK") {
		t.Errorf("verify: %s", out)
	}
}

// TestRawLogRecomputesCheckpointRoot follows FORMAT.md with an independent RFC 6962
// implementation: the leaves of `cairn log --raw`, hashed and combined by
// transparency-dev/merkle, give the root in `cairn checkpoint`.
func TestRawLogRecomputesCheckpointRoot(t *testing.T) {
	c := newCLI(t)
	c.must("init", "--name", "Ada")
	c.must("asset", "new", "poster")
	for i := range 23 {
		c.must("note", fmt.Sprintf("note %d ✓", i), "--asset", "poster")
	}
	cp := c.must("checkpoint")
	lines := strings.Split(cp, "\n")
	if len(lines) < 4 || !strings.HasPrefix(lines[0], "cairn.ledger/") {
		t.Fatalf("checkpoint:\n%s", cp)
	}
	raw := strings.Fields(c.must("log", "--raw"))
	if fmt.Sprint(len(raw)) != lines[1] {
		t.Fatalf("log --raw printed %d records, the checkpoint covers %s", len(raw), lines[1])
	}
	rf := &compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	r := rf.NewEmptyRange(0)
	for i, b64 := range raw {
		entry, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if err := r.Append(rfc6962.DefaultHasher.HashLeaf(entry), nil); err != nil {
			t.Fatal(err)
		}
	}
	root, err := r.GetRootHash(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := base64.StdEncoding.EncodeToString(root); got != lines[2] {
		t.Errorf("independent root %s, checkpoint says %s", got, lines[2])
	}
}

// TestPagerChoice: a pager runs only on a terminal; PAGER chooses it, PAGER=
// or PAGER=cat turn it off (git's conventions).
func TestPagerChoice(t *testing.T) {
	for _, c := range []struct {
		terminal bool
		pager    string
		set      bool
		want     string
	}{
		{false, "", false, ""},
		{false, "most", true, ""},
		{true, "most -s", true, "most -s"},
		{true, "", true, ""},
		{true, "cat", true, ""},
	} {
		if got := pagerCommand(c.terminal, c.pager, c.set); got != c.want {
			t.Errorf("pagerCommand(%v, %q, %v) = %q, want %q", c.terminal, c.pager, c.set, got, c.want)
		}
	}
	if _, err := exec.LookPath("less"); err == nil {
		if got := pagerCommand(true, "", false); got != "less -FRX" {
			t.Errorf("default pager %q, want less -FRX", got)
		}
	}
}
