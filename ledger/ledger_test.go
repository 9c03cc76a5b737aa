package ledger

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"golang.org/x/mod/sumdb/tlog"
)

func TestAppendReopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ledger")
	l, err := Create(dir, testOrigin, nil)
	if err != nil {
		t.Fatal(err)
	}
	if l.Size() != 0 || l.Last() != nil {
		t.Fatalf("new ledger: Size() = %d, Last() = %v, want 0, nil", l.Size(), l.Last())
	}
	const n = 25
	var appended []*Record
	for i := range n {
		// Two authors, alternating in runs.
		r, err := l.Append(testKey(i/5%2), payload(i))
		if err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
		if r.Seq != int64(i) {
			t.Fatalf("Append %d returned Seq %d", i, r.Seq)
		}
		if !bytes.Equal(r.Payload, payload(i)) {
			t.Fatalf("Append %d returned payload %q, want %q", i, r.Payload, payload(i))
		}
		appended = append(appended, r)
	}
	// One batch on top, in more than one transaction (records above 64 KiB go to
	// the value log).
	batch := [][]byte{bytes.Repeat([]byte("a"), 100<<10), payload(n + 1), bytes.Repeat([]byte("b"), 70<<10), {}}
	recs, err := l.AppendBatch(testKey(2), batch)
	if err != nil {
		t.Fatalf("AppendBatch: %v", err)
	}
	if len(recs) != len(batch) {
		t.Fatalf("AppendBatch returned %d records, want %d", len(recs), len(batch))
	}
	appended = append(appended, recs...)
	total := int64(len(appended))
	lastHash := appended[total-1].Hash()
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	if _, err := Create(dir, testOrigin, nil); !errors.Is(err, ErrExist) {
		t.Fatalf("Create over an existing ledger: err = %v, want ErrExist", err)
	}
	l, err = Open(dir, nil)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer l.Close()
	if l.Origin() != testOrigin {
		t.Errorf("Origin() = %q, want %q", l.Origin(), testOrigin)
	}
	if l.Size() != total {
		t.Fatalf("Size() after reopen = %d, want %d", l.Size(), total)
	}
	if l.Last() == nil || l.Last().Hash() != lastHash {
		t.Fatalf("Last() after reopen = %v, want record %d", l.Last(), total-1)
	}
	for i, want := range appended {
		got, err := l.Get(int64(i))
		if err != nil {
			t.Fatalf("Get(%d): %v", i, err)
		}
		if !bytes.Equal(got.Entry, want.Entry) || !bytes.Equal(got.Payload, want.Payload) ||
			got.Seq != want.Seq || !got.Time.Equal(want.Time) || got.Prev != want.Prev ||
			!bytes.Equal(got.Key, want.Key) || !bytes.Equal(got.Sig, want.Sig) {
			t.Fatalf("Get(%d) = %+v, want %+v", i, got, want)
		}
		if !got.CheckSignature(testOrigin) {
			t.Errorf("Get(%d): signature does not verify", i)
		}
		if got.CheckSignature("cairn.ledger/other") {
			t.Errorf("Get(%d): signature verifies under another origin", i)
		}
		// The chain link is SHA-256 of the previous entry without its signature.
		var prev tlog.Hash
		if i > 0 {
			e := appended[i-1].Entry
			prev = sha256.Sum256(e[:len(e)-ed25519.SignatureSize])
		}
		if got.Prev != prev {
			t.Errorf("record %d: Prev = %x, want SHA-256 of record %d's unsigned entry %x", i, got.Prev, i-1, prev)
		}
	}
	for _, seq := range []int64{-1, total, total + 10} {
		if _, err := l.Get(seq); err == nil {
			t.Errorf("Get(%d) on a ledger of %d succeeded", seq, total)
		}
	}

	for _, from := range []int64{0, 1, 17, total - 1, total} {
		var seqs []int64
		err := l.Scan(from, func(r *Record) error {
			if !bytes.Equal(r.Entry, appended[r.Seq].Entry) {
				t.Errorf("Scan(%d): record %d differs from what was appended", from, r.Seq)
			}
			seqs = append(seqs, r.Seq)
			return nil
		})
		if err != nil {
			t.Fatalf("Scan(%d): %v", from, err)
		}
		if int64(len(seqs)) != total-from {
			t.Fatalf("Scan(%d) visited %d records, want %d", from, len(seqs), total-from)
		}
		for i, s := range seqs {
			if s != from+int64(i) {
				t.Fatalf("Scan(%d) visited %v, want %d to %d in order", from, seqs, from, total-1)
			}
		}
	}
	stop := errors.New("stop")
	count := 0
	if err := l.Scan(0, func(*Record) error { count++; return stop }); err != stop || count != 1 {
		t.Errorf("Scan with fn returning an error: err = %v after %d calls, want stop after 1", err, count)
	}

	rep, err := l.Verify(VerifyOptions{})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if rep.Size != total || rep.Origin != testOrigin {
		t.Errorf("Verify report: Size %d, Origin %q; want %d, %q", rep.Size, rep.Origin, total, testOrigin)
	}
	if len(rep.Keys) != 3 || !rep.Keys[0].Equal(testPub(0)) || !rep.Keys[1].Equal(testPub(1)) || !rep.Keys[2].Equal(testPub(2)) {
		t.Errorf("Verify report: %d keys, want testKey 0, 1, 2 in order of appearance", len(rep.Keys))
	}
	if !rep.First.Equal(appended[0].Time) || !rep.Last.Equal(appended[total-1].Time) {
		t.Errorf("Verify report: First, Last = %v, %v; want %v, %v", rep.First, rep.Last, appended[0].Time, appended[total-1].Time)
	}
	root, err := l.TreeHash(total)
	if err != nil || rep.Root != root {
		t.Errorf("Verify report root %x, TreeHash(%d) = %x, %v", rep.Root, total, root, err)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(t.TempDir(), nil); !errors.Is(err, ErrNotExist) {
		t.Errorf("Open(empty directory): err = %v, want ErrNotExist", err)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing"), nil); !errors.Is(err, ErrNotExist) {
		t.Errorf("Open(missing directory): err = %v, want ErrNotExist", err)
	}
	for _, origin := range []string{"", "has space", "a+b", "tab\there", "caf\u00e9", string(bytes.Repeat([]byte("o"), 201))} {
		if _, err := Create(filepath.Join(t.TempDir(), "l"), origin, nil); err == nil {
			t.Errorf("Create with origin %q succeeded, want an error", origin)
		}
	}
	o := NewOrigin()
	if !ValidOrigin(o) || len(o) != len("cairn.ledger/")+20 || o == NewOrigin() {
		t.Errorf("NewOrigin() = %q: want a valid, unique cairn.ledger/ + 20 characters", o)
	}
}

func TestAppendRejects(t *testing.T) {
	l, _ := newTestLedger(t, 3)
	if _, err := l.Append(ed25519.PrivateKey(make([]byte, 10)), []byte("x")); err == nil {
		t.Error("Append with a 10-byte key succeeded")
	}
	if _, err := l.Append(testKey(0), make([]byte, MaxPayload+1)); err == nil {
		t.Error("Append of MaxPayload+1 bytes succeeded")
	}
	if l.Size() != 3 {
		t.Errorf("Size() = %d after rejected appends, want 3", l.Size())
	}
	if _, err := l.Verify(VerifyOptions{}); err != nil {
		t.Errorf("Verify after rejected appends: %v", err)
	}
}

// TestAppendMaxPayload appends a record of exactly MaxPayload bytes, which the
// package documents as allowed.
func TestAppendMaxPayload(t *testing.T) {
	for _, bulk := range []bool{false, true} {
		dir := filepath.Join(t.TempDir(), "ledger")
		l, err := Create(dir, testOrigin, &Options{Bulk: bulk})
		if err != nil {
			t.Fatal(err)
		}
		big := bytes.Repeat([]byte("m"), MaxPayload)
		if _, err := l.Append(testKey(0), big); err != nil {
			t.Errorf("bulk=%v: Append of MaxPayload (%d) bytes: %.120s", bulk, MaxPayload, err)
		}
		// Several in one batch: each is larger than a value-log file.
		if _, err := l.AppendBatch(testKey(0), [][]byte{big, big, big}); err != nil {
			t.Errorf("bulk=%v: AppendBatch of three records of MaxPayload bytes: %.120s", bulk, err)
		}
		// Whatever happened, the ledger must stay usable and consistent.
		size := l.Size()
		if _, err := l.Append(testKey(0), []byte("small")); err != nil {
			t.Errorf("bulk=%v: Append after the large records: %v (Size() = %d)", bulk, err, size)
		}
		l.Close()
		l, err = Open(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		if rep, err := l.Verify(VerifyOptions{}); err != nil {
			t.Errorf("bulk=%v: Verify: %v", bulk, err)
		} else if rep.Size != 5 {
			t.Errorf("bulk=%v: Verify: %d records, want 5", bulk, rep.Size)
		}
		for seq := range int64(4) {
			if r, err := l.Get(seq); err != nil || !bytes.Equal(r.Payload, big) {
				t.Errorf("bulk=%v: Get(%d): want the %d bytes appended (%v)", bulk, seq, len(big), err)
			}
		}
		l.Close()
	}
}

func TestClockBehind(t *testing.T) {
	l, dir := newTestLedger(t, 0)
	t0 := time.Date(2025, 1, 30, 12, 0, 0, 0, time.UTC)
	l.SetClock(func() time.Time { return t0 })
	if _, err := l.Append(testKey(0), []byte("first")); err != nil {
		t.Fatal(err)
	}
	// The same instant is allowed: clocks are coarse.
	if _, err := l.Append(testKey(0), []byte("second")); err != nil {
		t.Fatalf("Append at the same time as the last record: %v", err)
	}
	last := l.Last()
	l.SetClock(func() time.Time { return t0.Add(-time.Nanosecond) })
	r, err := l.Append(testKey(0), []byte("behind"))
	if !errors.Is(err, ErrClockBehind) {
		t.Fatalf("Append with the clock 1ns behind: r = %v, err = %v; want ErrClockBehind", r, err)
	}
	recs, err := l.AppendBatch(testKey(0), [][]byte{[]byte("a"), []byte("b")})
	if !errors.Is(err, ErrClockBehind) || len(recs) != 0 {
		t.Fatalf("AppendBatch with the clock behind: %d records, err = %v; want none, ErrClockBehind", len(recs), err)
	}
	if l.Size() != 2 || l.Last() != last {
		t.Fatalf("after ErrClockBehind: Size() = %d, Last() changed = %v; want 2, unchanged", l.Size(), l.Last() != last)
	}
	l.Close()
	l, err = Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.Size() != 2 {
		t.Fatalf("after reopen: Size() = %d, want 2 (ErrClockBehind must write nothing)", l.Size())
	}
	db := l.db
	if got := len(dump(t, db, recPrefix(2))); got != 0 {
		t.Fatalf("after ErrClockBehind: %d keys stored under record 2, want none", got)
	}
	if _, err := l.Verify(VerifyOptions{}); err != nil {
		t.Fatalf("Verify after ErrClockBehind: %v", err)
	}
	if r, _ := l.Get(1); !r.Time.Equal(t0) {
		t.Errorf("record 1 time = %v, want %v", r.Time, t0)
	}
}

// TestStorageLayout rebuilds the record key range from the entries alone, following
// the layout described in store.go, and compares it with what the ledger stored.
func TestStorageLayout(t *testing.T) {
	l, dir := newTestLedger(t, 70)
	if _, err := l.SignCheckpoint(testKey(0)); err != nil {
		t.Fatal(err)
	}
	l.Close()
	db := openBadger(t, dir)
	defer db.Close()
	got := dump(t, db, []byte("e"))
	var entries [][]byte
	for _, x := range got {
		if x.k[9] == 'r' {
			entries = append(entries, entryOf(x.v))
		}
	}
	want := layout(t, entries)
	if len(got) != len(want) {
		t.Fatalf("stored %d record keys, the layout implies %d", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i].k, want[i].k) || !bytes.Equal(got[i].v, want[i].v) {
			t.Fatalf("key %d: stored %x = %x, layout implies %x = %x", i, got[i].k, got[i].v, want[i].k, want[i].v)
		}
	}
	origin := dump(t, db, []byte("a/"))
	if len(origin) != 1 || string(origin[0].k) != "a/origin" || string(origin[0].v) != testOrigin {
		t.Errorf("origin keys = %q, want a/origin = %q", origin, testOrigin)
	}
	cps := dump(t, db, []byte("k/"))
	if len(cps) != 1 || !bytes.Equal(cps[0].k, append([]byte("k/"), 0, 0, 0, 0, 0, 0, 0, 70)) {
		t.Errorf("checkpoint keys = %q, want one, k/ and 70 as 8 bytes", cps)
	}
}

// TestOpenOldLayout: a ledger written in the first release's layout, with each
// record's tree hashes under a key of their own ("e" seq "h"), is refused with a
// message that says what to do, not misread.
func TestOpenOldLayout(t *testing.T) {
	l, dir := newTestLedger(t, 5)
	l.Close()
	db := openBadger(t, dir)
	update(t, db, func(txn *badger.Txn) error {
		for _, x := range dump(t, db, []byte("e")) {
			if x.k[9] != 'r' {
				continue
			}
			if err := txn.Set(x.k, entryOf(x.v)); err != nil {
				return err
			}
			if err := txn.Set(recKey(int64(binary.BigEndian.Uint64(x.k[1:9])), 'h'), hashesOf(x.v)); err != nil {
				return err
			}
		}
		return nil
	})
	db.Close()
	_, err := Open(dir, nil)
	if !errors.Is(err, ErrOldLayout) || !strings.Contains(err.Error(), "cairn restore") {
		t.Fatalf("Open of a ledger in the old layout: %v, want ErrOldLayout naming the way out", err)
	}
}
