package ledger

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// listing names every file in dir with its size and modification time.
func listing(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if e.Name() == lockName {
			continue // cairn's own lock file names its holder
		}
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %d %s", e.Name(), fi.Size(), fi.ModTime().Format(time.RFC3339Nano)))
	}
	return out
}

// TestReadOnlyWritesNothing: a ledger opened read-only reads everything and
// changes no file (a writable open creates and maps new logs, which crashed
// reading commands on a full disk); its first append reopens it for writing.
func TestReadOnlyWritesNothing(t *testing.T) {
	l, dir := newTestLedger(t, 20)
	cp, err := l.SignCheckpoint(testKey(0))
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	before := listing(t, dir)

	r, err := Open(dir, &Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if !r.ReadOnly() || r.Size() != 20 {
		t.Fatalf("read-only open: read-only %v, size %d", r.ReadOnly(), r.Size())
	}
	if _, err := r.Verify(VerifyOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := r.PutCheckpoint(cp.Note); err != nil {
		t.Fatal(err)
	}
	if !r.ReadOnly() {
		t.Fatal("storing a checkpoint that is already stored reopened the ledger for writing")
	}
	r.Close()
	if after := listing(t, dir); !slices.Equal(before, after) {
		t.Fatalf("a read-only open changed the directory:\nbefore %q\nafter  %q", before, after)
	}

	w, err := Open(dir, &Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Append(testKey(0), payload(20)); err != nil {
		t.Fatal(err)
	}
	if w.ReadOnly() {
		t.Fatal("the ledger is still read-only after an append")
	}
	w.Close()
	l2, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if rep, err := l2.Verify(VerifyOptions{}); err != nil || rep.Size != 21 {
		t.Fatalf("after the upgraded append: %v, %+v", err, rep)
	}
}

// TestDamagedTables: a table cut short or missing is a verification error
// naming it and saying how to restore, at a read-only or writable open,
// instead of a crash inside Badger.
func TestDamagedTables(t *testing.T) {
	l, dir := newTestLedger(t, 50)
	l.Close()
	tables, _ := filepath.Glob(filepath.Join(dir, "*.sst"))
	if len(tables) == 0 {
		t.Fatal("no table to damage")
	}
	data, err := os.ReadFile(tables[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		damage func() error
		want   string
	}{
		{"cut by 3 bytes", func() error { return os.Truncate(tables[0], int64(len(data)-3)) }, "is cut short or corrupt"},
		{"missing", func() error { return os.Remove(tables[0]) }, "which the storage manifest lists, is missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.damage(); err != nil {
				t.Fatal(err)
			}
			defer os.WriteFile(tables[0], data, 0o644)
			for _, ro := range []bool{true, false} {
				_, err := Open(dir, &Options{ReadOnly: ro})
				var ve *VerifyError
				if !errors.As(err, &ve) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "cairn restore") {
					t.Errorf("read-only %v: %v", ro, err)
				}
			}
		})
	}
	// Put back, the ledger opens and verifies: the checks changed nothing.
	l, err = Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.Verify(VerifyOptions{}); err != nil {
		t.Fatal(err)
	}
}
