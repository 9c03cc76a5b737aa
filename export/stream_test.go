package export

import (
	"runtime"
	"testing"

	"github.com/cairn-ledger/cairn/evidence"
)

// TestVerifyPackStreamsFiles: an embedded file is checked as it is inflated,
// not held in memory. A pack with a 64 MiB file of zeros is a few hundred
// kilobytes; verifying it must allocate far less than the file (the first
// version held it whole, and a 512 MiB one took 2 GB).
func TestVerifyPackStreamsFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("compresses 64 MiB")
	}
	f := newFixture(t)
	const size = 64 << 20
	big := addFile(t, f.book, "zeros.bin", make([]byte, size))
	record(t, f, &evidence.Step{Kind: evidence.KindInput, Asset: "poster", File: &big, Source: "test", Permission: "own"})
	pdf := f.export(t, Options{WithFiles: true})
	if len(pdf) > size/16 {
		t.Fatalf("the pack is %d bytes; the test needs a compressed one", len(pdf))
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rep, err := VerifyPackWith(pdf, VerifyOptions{})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if rep.Files == 0 {
		t.Fatal("no embedded file was checked")
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("pack %d bytes with a %d-byte file: verifying allocated %d bytes", len(pdf), size, alloc)
	if alloc > size/4 {
		t.Errorf("verifying allocated %d bytes for a %d-byte embedded file: it is not streamed", alloc, size)
	}
}
