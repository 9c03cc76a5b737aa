package tmpfile

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func age(t *testing.T, p string) {
	t.Helper()
	old := time.Now().Add(-2 * minAge)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// TestSweepTakesOnlyLeftovers: a temporary file or directory is removed only
// once no process holds it and it is more than a minute old.
func TestSweepTakesOnlyLeftovers(t *testing.T) {
	dir := t.TempDir()

	live, err := Create(dir, ".x-*")
	if err != nil {
		t.Fatal(err)
	}
	age(t, live.Name())
	if n := Sweep(dir, ".x-*"); n != 0 || !exists(live.Name()) {
		t.Fatalf("swept %d: a file a live process holds was removed", n)
	}
	live.File.Close() // what a killed process leaves: the file, unlocked
	if n := Sweep(dir, ".x-*"); n != 1 || exists(live.Name()) {
		t.Fatalf("swept %d: the leftover file is still there", n)
	}

	young, err := Create(dir, ".x-*")
	if err != nil {
		t.Fatal(err)
	}
	young.File.Close()
	if n := Sweep(dir, ".x-*"); n != 0 || !exists(young.Name()) {
		t.Fatalf("swept %d: a file younger than a minute was removed", n)
	}

	d, err := Mkdir(dir, ".d-*")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d.Path, "inside"), []byte("x"), 0o444); err != nil {
		t.Fatal(err)
	}
	age(t, d.Path)
	if n := Sweep(dir, ".d-*"); n != 0 || !exists(d.Path) {
		t.Fatalf("swept %d: a directory a live process holds was removed", n)
	}
	d.Release()
	if n := Sweep(dir, ".d-*"); n != 1 || exists(d.Path) {
		t.Fatalf("swept %d: the leftover directory is still there", n)
	}

	other := filepath.Join(dir, "keep-me")
	os.WriteFile(other, nil, 0o644)
	age(t, other)
	Sweep(dir, ".x-*")
	if !exists(other) {
		t.Fatal("a file that does not match the pattern was removed")
	}
}

// TestCommitRenamesBeforeUnlocking: a committed file is at its name and
// Discard after Commit leaves it there.
func TestCommitRenamesBeforeUnlocking(t *testing.T) {
	dir := t.TempDir()
	f, err := Create(dir, ".x-*")
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("data")
	dst := filepath.Join(dir, "final")
	if err := f.Commit(dst); err != nil {
		t.Fatal(err)
	}
	f.Discard()
	if b, err := os.ReadFile(dst); err != nil || string(b) != "data" {
		t.Fatalf("after Commit and Discard: %q, %v", b, err)
	}
	g, _ := Create(dir, ".x-*")
	g.Discard()
	if exists(g.Name()) {
		t.Fatal("Discard left the temporary file")
	}
}
