package ledger

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

// Helper processes. The test binary re-executes itself with helperEnv set to a mode;
// TestMain dispatches to runHelper before the testing package starts, so a helper
// costs what a small command-line program costs (no test framework in the way).
const (
	helperEnv     = "CAIRN_LEDGER_TEST_HELPER"
	helperDirEnv  = "CAIRN_LEDGER_TEST_DIR"
	helperArgEnv  = "CAIRN_LEDGER_TEST_ARG"
	helperKeyEnv  = "CAIRN_LEDGER_TEST_KEY"
	helperModeEnv = "CAIRN_LEDGER_TEST_SUBMODE"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(runHelper(mode))
	}
	code := m.Run()
	cleanupBenchLedgers()
	os.Exit(code)
}

// helperCommand returns a command that runs the test binary as helper mode with
// dir, arg and key index in its environment.
func helperCommand(mode, dir, arg string, key int) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(),
		helperEnv+"="+mode,
		helperDirEnv+"="+dir,
		helperArgEnv+"="+arg,
		helperKeyEnv+"="+strconv.Itoa(key))
	return cmd
}

func runHelper(mode string) int {
	dir := os.Getenv(helperDirEnv)
	arg := os.Getenv(helperArgEnv)
	keyIndex, _ := strconv.Atoi(os.Getenv(helperKeyEnv))
	key := testKey(keyIndex)
	fail := func(format string, args ...any) int {
		fmt.Fprintf(os.Stderr, "helper %s: %s\n", mode, fmt.Sprintf(format, args...))
		return 2
	}
	switch mode {
	case "crash-append":
		// Append records whose payload derives from their seq, printing each seq once
		// Append has returned. os.Stdout is unbuffered: every line is one write(2).
		perRecord := os.Getenv(helperModeEnv) == "reopen"
		if perRecord {
			// Rewrite the MANIFEST at every open, so that kills land in
			// rewrites too.
			maxManifestBytes = 0
		}
		var l *Ledger
		for {
			if l == nil {
				var err error
				if l, err = Open(dir, nil); err != nil {
					return fail("open: %v", err)
				}
			}
			seq := l.Size()
			if _, err := l.Append(key, crashPayload(seq)); err != nil {
				return fail("append %d: %v", seq, err)
			}
			fmt.Fprintf(os.Stdout, "%d\n", seq)
			if perRecord {
				if err := l.Close(); err != nil {
					return fail("close: %v", err)
				}
				l = nil
			}
		}
	case "bulk-forever":
		// Bulk batches of records whose payload derives from their seq, printing the
		// ledger size each time AppendBatch has returned (acknowledged).
		l, err := Open(dir, &Options{Bulk: true})
		if err != nil {
			return fail("open: %v", err)
		}
		for {
			var ps [][]byte
			for seq := l.Size(); seq < l.Size()+2000; seq++ {
				ps = append(ps, crashPayload(seq))
			}
			if _, err := l.AppendBatch(key, ps); err != nil {
				return fail("append: %v", err)
			}
			fmt.Fprintf(os.Stdout, "%d\n", l.Size())
		}
	case "append-n":
		// A command-line tool's life, n times: open, append one record, close.
		n, _ := strconv.Atoi(arg)
		for i := range n {
			l, err := Open(dir, nil)
			if err != nil {
				return fail("open for record %d: %v", i, err)
			}
			if _, err := l.Append(key, procPayload(keyIndex, i)); err != nil {
				l.Close()
				return fail("append record %d: %v", i, err)
			}
			if err := l.Close(); err != nil {
				return fail("close after record %d: %v", i, err)
			}
		}
		return 0
	case "hold":
		// Hold the ledger open until stdin closes.
		l, err := Open(dir, nil)
		if err != nil {
			return fail("open: %v", err)
		}
		fmt.Fprintln(os.Stdout, "ready")
		io.Copy(io.Discard, os.Stdin)
		if err := l.Close(); err != nil {
			return fail("close: %v", err)
		}
		return 0
	case "verify-rss":
		l, err := Open(dir, nil)
		if err != nil {
			return fail("open: %v", err)
		}
		// Sample the split of resident memory as verification goes: anonymous
		// (heap, stacks) against file pages (Badger's memory-mapped tables).
		var anon, file int64
		sample := func(int64) {
			anon = max(anon, procStatus("RssAnon"))
			file = max(file, procStatus("RssFile"))
		}
		rep, err := l.Verify(VerifyOptions{Progress: sample})
		if err != nil {
			return fail("verify: %v", err)
		}
		if err := l.Close(); err != nil {
			return fail("close: %v", err)
		}
		fmt.Fprintf(os.Stdout, "%d %d %d %d\n", rep.Size, procStatus("VmHWM"), anon, file)
		return 0
	}
	return fail("unknown mode")
}

// procStatus returns a size field of /proc/self/status in bytes (VmHWM is the peak
// resident set size), or -1.
func procStatus(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return -1
}

// testKey returns a fixed Ed25519 key for index i.
func testKey(i int) ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("cairn ledger test key " + strconv.Itoa(i)))
	return ed25519.NewKeyFromSeed(seed[:])
}

func testPub(i int) ed25519.PublicKey { return testKey(i).Public().(ed25519.PublicKey) }

// crashPayload is the payload of record seq in the crash test: derivable from seq
// alone, of varying length.
func crashPayload(seq int64) []byte {
	s := fmt.Sprintf("crash test record %d|", seq)
	return []byte(strings.Repeat(s, 1+int(seq%7)))
}

func procPayload(proc, i int) []byte {
	return []byte(fmt.Sprintf("process %d record %d", proc, i))
}

// payload returns the payload of record i in ordinary test ledgers.
func payload(i int) []byte {
	return []byte(fmt.Sprintf("payload of record %d: %s", i, strings.Repeat("x", i%23)))
}

const testOrigin = "cairn.ledger/test0origin0abcdefghij"

// newTestLedger creates a ledger in a fresh directory and appends n records signed
// by testKey(0), one transaction per record if single, else one batch.
func newTestLedger(t testing.TB, n int) (*Ledger, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ledger")
	l, err := Create(dir, testOrigin, nil)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	if n > 0 {
		ps := make([][]byte, n)
		for i := range ps {
			ps[i] = payload(i)
		}
		if _, err := l.AppendBatch(testKey(0), ps); err != nil {
			t.Fatalf("AppendBatch(%d records): %v", n, err)
		}
	}
	return l, dir
}

// fastTempDir returns a temporary directory on tmpfs when there is one: the tamper
// tests open and close hundreds of databases, and their subject is not durability.
func fastTempDir(t testing.TB) string {
	t.Helper()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "cairn-ledger-test-"); err == nil {
			t.Cleanup(func() { os.RemoveAll(d) })
			return d
		}
	}
	return t.TempDir()
}

// copyDir copies a closed ledger directory (flat: Badger keeps no subdirectories).
func copyDir(t testing.TB, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.IsDir() {
			t.Fatalf("unexpected directory %s in a ledger", e.Name())
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// openBadger opens a closed ledger's database directly, as an attacker would.
func openBadger(t testing.TB, dir string) *badger.DB {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions(dir).
		WithLogger(nil).
		WithValueThreshold(64 << 10).
		WithMemTableSize(1 << 20).
		WithValueLogFileSize(1 << 20))
	if err != nil {
		t.Fatalf("open badger directly: %v", err)
	}
	return db
}

// The storage layout, written from its description at the top of store.go rather
// than from the package's helpers, so that a layout change is noticed.
func recPrefix(seq int64) []byte {
	k := []byte{'e', 0, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint64(k[1:], uint64(seq))
	return k
}

func recKey(seq int64, kind byte) []byte { return append(recPrefix(seq), kind) }

// entryOf returns the entry at the start of a value stored under recKey(seq, 'r'):
// its length is the header's 92 bytes, the payload length they give, and the
// 64-byte signature. The stored tree hashes follow it.
func entryOf(v []byte) []byte {
	if len(v) < 92 {
		return v
	}
	n := min(92+int(binary.BigEndian.Uint32(v[88:92]))+64, len(v))
	return v[:n]
}

// hashesOf returns the stored tree hashes that follow the entry in v.
func hashesOf(v []byte) []byte { return v[len(entryOf(v)):] }

// editHashes rewrites the stored tree hashes of record seq (level 0 first, after
// the entry in the same value).
func editHashes(t testing.TB, db *badger.DB, seq int64, edit func([]byte) []byte) {
	t.Helper()
	update(t, db, func(txn *badger.Txn) error {
		item, err := txn.Get(recKey(seq, 'r'))
		if err != nil {
			return err
		}
		v, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		entry := entryOf(v)
		hashes := edit(bytes.Clone(hashesOf(v)))
		return txn.Set(recKey(seq, 'r'), append(bytes.Clone(entry), hashes...))
	})
}

type kv struct{ k, v []byte }

// dump returns every key and value with the given prefix, in key order.
func dump(t testing.TB, db *badger.DB, prefix []byte) []kv {
	t.Helper()
	var out []kv
	err := db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			out = append(out, kv{it.Item().KeyCopy(nil), v})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func update(t testing.TB, db *badger.DB, fn func(txn *badger.Txn) error) {
	t.Helper()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

// readLines returns the complete lines of r (a last line without newline is dropped:
// the writer was killed in the middle of it).
func readLines(r io.Reader) []string {
	b, _ := io.ReadAll(bufio.NewReader(r))
	lines := strings.Split(string(b), "\n")
	return lines[:len(lines)-1]
}
