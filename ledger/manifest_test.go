package ledger

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// shortRuns opens the ledger in dir n times, appending one record each time and
// closing, as n command-line processes would, and returns the MANIFEST size after
// each run.
func shortRuns(t *testing.T, dir string, n int) []int64 {
	t.Helper()
	var sizes []int64
	for range n {
		l, err := Open(dir, nil)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if _, err := l.Append(testKey(0), payload(int(l.Size()))); err != nil {
			t.Fatalf("Append: %v", err)
		}
		if err := l.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		fi, err := os.Stat(filepath.Join(dir, "MANIFEST"))
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, fi.Size())
	}
	return sizes
}

// afterShortRuns returns the directory of a new ledger after n short runs.
func afterShortRuns(t *testing.T, n int) string {
	t.Helper()
	l, dir := newTestLedger(t, 0)
	l.Close()
	shortRuns(t, dir, n)
	return dir
}

func verifySize(t *testing.T, dir string, want int64) {
	t.Helper()
	l, err := Open(dir, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer l.Close()
	rep, err := l.Verify(VerifyOptions{})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if rep.Size != want {
		t.Fatalf("verified %d records, want %d", rep.Size, want)
	}
}

// TestManifestStaysSmall checks that short processes cannot grow Badger's
// MANIFEST without bound: open rewrites it once it passes maxManifestBytes, and
// the ledger keeps every record.
func TestManifestStaysSmall(t *testing.T) {
	defer func(n int) { maxManifestBytes = n }(maxManifestBytes)
	maxManifestBytes = 400
	l, dir := newTestLedger(t, 0)
	l.Close()
	sizes := shortRuns(t, dir, 60)
	rewrites := 0
	for i := 1; i < len(sizes); i++ {
		if sizes[i] < sizes[i-1] {
			rewrites++
		}
		// One run adds a change set or two after the rewrite at its open.
		if sizes[i] > int64(maxManifestBytes)+200 {
			t.Fatalf("after run %d the MANIFEST has %d bytes, limit %d (sizes %v)", i, sizes[i], maxManifestBytes, sizes)
		}
	}
	if rewrites == 0 {
		t.Fatalf("the MANIFEST was never rewritten: sizes %v", sizes)
	}
	verifySize(t, dir, 60)
}

// TestCompactManifestKeepsTables compares the tables Badger's own reader finds
// in a MANIFEST before and after the rewrite.
func TestCompactManifestKeepsTables(t *testing.T) {
	dir := afterShortRuns(t, 40)
	path := filepath.Join(dir, "MANIFEST")
	before, complete, err := replayManifest(path)
	if err != nil || !complete {
		t.Fatalf("replay: complete %v, %v", complete, err)
	}
	if before.Deletions == 0 || len(before.Tables) == 0 {
		t.Fatalf("want a MANIFEST with deletions to compact, have %d tables and %d deletions", len(before.Tables), before.Deletions)
	}
	old, _ := os.ReadFile(path)

	defer func(n int) { maxManifestBytes = n }(maxManifestBytes)
	maxManifestBytes = 0
	if err := compactManifest(dir); err != nil {
		t.Fatalf("compactManifest: %v", err)
	}
	after, complete, err := replayManifest(path)
	if err != nil || !complete {
		t.Fatalf("replay after the rewrite: complete %v, %v", complete, err)
	}
	if !sameTables(before, after) {
		t.Fatalf("tables before %v, after %v", before.Tables, after.Tables)
	}
	if after.Deletions != 0 || after.Creations != len(after.Tables) {
		t.Fatalf("rewritten MANIFEST has %d creations and %d deletions for %d tables", after.Creations, after.Deletions, len(after.Tables))
	}
	now, _ := os.ReadFile(path)
	if len(now) >= len(old) || !bytes.Equal(now[:8], old[:8]) {
		t.Fatalf("rewritten MANIFEST: %d bytes (was %d), header %x (was %x)", len(now), len(old), now[:8], old[:8])
	}
	if _, err := os.Stat(path + ".cairn-rewrite"); !os.IsNotExist(err) {
		t.Fatalf("the temporary file is left behind: %v", err)
	}
	verifySize(t, dir, 40)
}

// TestCompactManifestLeavesTornFile: a MANIFEST that ends in a partial change set
// (a crash while Badger wrote it) is Badger's to repair; the rewrite leaves it
// alone, and a stale temporary file from a crashed rewrite does no harm.
func TestCompactManifestLeavesTornFile(t *testing.T) {
	dir := afterShortRuns(t, 20)
	path := filepath.Join(dir, "MANIFEST")
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{0, 0, 0, 9, 1, 2}) // a length and half a checksum
	f.Close()
	torn, _ := os.ReadFile(path)
	os.WriteFile(path+".cairn-rewrite", []byte("junk from a crashed rewrite"), 0o644)

	defer func(n int) { maxManifestBytes = n }(maxManifestBytes)
	maxManifestBytes = 0
	if err := compactManifest(dir); err != nil {
		t.Fatalf("compactManifest: %v", err)
	}
	if now, _ := os.ReadFile(path); !bytes.Equal(now, torn) {
		t.Fatalf("a torn MANIFEST was rewritten")
	}
	verifySize(t, dir, 20) // Badger drops the torn end; then open rewrites it
	if _, complete, err := replayManifest(path); err != nil || !complete {
		t.Fatalf("MANIFEST after reopening: complete %v, %v", complete, err)
	}
	shortRuns(t, dir, 1)
	verifySize(t, dir, 21)
}
