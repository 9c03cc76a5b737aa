package ledger

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// makeEntry lays out and signs an entry from the format description in record.go,
// independently of the package's encoder.
func makeEntry(origin string, key ed25519.PrivateKey, seq int64, t time.Time, prev tlog.Hash, payload []byte) []byte {
	var e []byte
	e = append(e, "cairn/1\n"...)
	e = binary.BigEndian.AppendUint64(e, uint64(seq))
	e = binary.BigEndian.AppendUint64(e, uint64(t.UnixNano()))
	e = append(e, prev[:]...)
	e = append(e, key.Public().(ed25519.PublicKey)...)
	e = binary.BigEndian.AppendUint32(e, uint32(len(payload)))
	e = append(e, payload...)
	msg := append([]byte("cairn record signature v1\n"+origin+"\n"), e...)
	return append(e, ed25519.Sign(key, msg)...)
}

// unsignedHash is the chain link to an entry: SHA-256 of it without the signature.
func unsignedHash(entry []byte) tlog.Hash { return sha256.Sum256(entry[:len(entry)-64]) }

// layout returns the record key range that the entries imply, in key order: for each
// record the link to its successor, and its entry followed by its stored tree hashes.
func layout(t testing.TB, entries [][]byte) []kv {
	t.Helper()
	var hashes []tlog.Hash
	reader := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			if x < 0 || x >= int64(len(hashes)) {
				return nil, fmt.Errorf("no stored hash %d", x)
			}
			out[i] = hashes[x]
		}
		return out, nil
	})
	var out []kv
	for i, e := range entries {
		seq := int64(i)
		if got := tlog.StoredHashIndex(0, seq); got != int64(len(hashes)) {
			t.Fatalf("stored hash index of leaf %d = %d, want %d", i, got, len(hashes))
		}
		hs, err := tlog.StoredHashes(seq, e, reader)
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, hs...)
		var packed []byte
		for _, h := range hs {
			packed = append(packed, h[:]...)
		}
		if i > 0 {
			leaf := tlog.RecordHash(e)
			out = append(out, kv{recKey(seq-1, 'n'), leaf[:]})
		}
		out = append(out, kv{recKey(seq, 'r'), append(append([]byte(nil), e...), packed...)})
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i].k, out[j].k) < 0 })
	return out
}

// entriesOf returns the stored entries in key order.
func entriesOf(t testing.TB, db *badger.DB) [][]byte {
	var out [][]byte
	for _, x := range dump(t, db, []byte("e")) {
		if len(x.k) == 10 && x.k[9] == 'r' {
			out = append(out, entryOf(x.v))
		}
	}
	return out
}

// rebuild replaces the whole record key range with the one entries imply: the
// attacker without the author's key who recomputes every hash and link.
func rebuild(t testing.TB, db *badger.DB, entries [][]byte) {
	t.Helper()
	old := dump(t, db, []byte("e"))
	update(t, db, func(txn *badger.Txn) error {
		for _, x := range old {
			if err := txn.Delete(x.k); err != nil {
				return err
			}
		}
		for _, x := range layout(t, entries) {
			if err := txn.Set(x.k, x.v); err != nil {
				return err
			}
		}
		return nil
	})
}

// deleteRecord deletes the keys stored under record seq (all of them, or one kind).
func deleteRecord(t testing.TB, db *badger.DB, seq int64, only byte) {
	t.Helper()
	update(t, db, func(txn *badger.Txn) error {
		for _, x := range dump(t, db, recPrefix(seq)) {
			if only == 0 || x.k[9] == only {
				if err := txn.Delete(x.k); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// setEntry replaces the entry of record seq, keeping the tree hashes stored after it.
func setEntry(t testing.TB, db *badger.DB, seq int64, entry []byte) {
	t.Helper()
	update(t, db, func(txn *badger.Txn) error {
		var hashes []byte
		if item, err := txn.Get(recKey(seq, 'r')); err == nil {
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			hashes = hashesOf(v)
		}
		return txn.Set(recKey(seq, 'r'), append(bytes.Clone(entry), hashes...))
	})
}

// signCheckpointNote signs a checkpoint body with the package's note signer.
func signCheckpointNote(t testing.TB, c *Checkpoint, key ed25519.PrivateKey) []byte {
	t.Helper()
	text, err := note.Sign(&note.Note{Text: c.Body()}, NoteSigner(c.Origin, key))
	if err != nil {
		t.Fatal(err)
	}
	return text
}

const tamperSize = 40

var tamperTemplate struct {
	once    sync.Once
	dir     string
	entries [][]byte
	note40  []byte // a checkpoint of all 40 records, not stored
}

// tamperLedger returns a fresh copy of a closed 40-record ledger signed by testKey(0).
func tamperLedger(t *testing.T) string {
	tt := &tamperTemplate
	tt.once.Do(func() {
		l, dir := newTestLedger(t, 0)
		base := time.Date(2025, 1, 30, 9, 0, 0, 0, time.UTC)
		for i := range tamperSize {
			l.SetClock(func() time.Time { return base.Add(time.Duration(i) * time.Second) })
			r, err := l.Append(testKey(0), payload(i))
			if err != nil {
				t.Fatal(err)
			}
			tt.entries = append(tt.entries, r.Entry)
		}
		root, err := l.TreeHash(tamperSize)
		if err != nil {
			t.Fatal(err)
		}
		tt.note40 = signCheckpointNote(t, &Checkpoint{Origin: testOrigin, Size: tamperSize, Root: root}, testKey(0))
		l.Close()
		d, err := os.MkdirTemp("", "cairn-tamper-template-")
		if err != nil {
			t.Fatal(err)
		}
		tt.dir = filepath.Join(d, "ledger") // removed by TestMain
		copyDir(t, dir, tt.dir)
	})
	if tt.dir == "" {
		t.Fatal("building the tamper template failed in an earlier test")
	}
	dir := filepath.Join(fastTempDir(t), "ledger")
	copyDir(t, tt.dir, dir)
	return dir
}

func flipByte(entry []byte, off int) []byte {
	e := bytes.Clone(entry)
	if off < 0 {
		off += len(e)
	}
	e[off] ^= 0x01
	return e
}

// foreign returns a validly signed entry by testKey(9) that fits at position seq
// after entries[seq-1]: right sequence number, chain link and time.
func foreign(entries [][]byte, seq int64) []byte {
	var prev tlog.Hash
	t := time.Date(2025, 1, 30, 9, 0, 0, 0, time.UTC)
	if seq > 0 {
		prev = unsignedHash(entries[seq-1])
		t = time.Unix(0, int64(binary.BigEndian.Uint64(entries[seq-1][16:24])))
	}
	return makeEntry(testOrigin, testKey(9), seq, t, prev, []byte("inserted by someone else"))
}

// withSig returns entry with its signature replaced.
func withSig(entry, sig []byte) []byte {
	e := bytes.Clone(entry)
	copy(e[len(e)-64:], sig)
	return e
}

func TestVerifyTamper(t *testing.T) {
	type tamperFunc func(t *testing.T, db *badger.DB, entries [][]byte)
	type tamperCase struct {
		name    string
		tamper  tamperFunc
		seq     int64
		problem string // a substring of the problem, if it matters
	}
	var cases []tamperCase
	add := func(name string, seq int64, problem string, f tamperFunc) {
		cases = append(cases, tamperCase{name, f, seq, problem})
	}

	// One byte of one entry, at every field.
	offsets := []struct {
		name string
		off  int
	}{
		{"magic", 0}, {"seq", 12}, {"seq high", 8}, {"time", 23}, {"time high", 16}, {"prev", 40},
		{"key", 70}, {"length", 91}, {"length high", 88}, {"payload first", 92}, {"payload", 100},
		{"sig first", -64}, {"sig middle", -30}, {"sig last", -1},
	}
	for _, seq := range []int64{0, 13, tamperSize - 1} {
		for _, o := range offsets {
			add(fmt.Sprintf("flip %s byte of record %d", o.name, seq), seq, "", func(t *testing.T, db *badger.DB, e [][]byte) {
				setEntry(t, db, seq, flipByte(e[seq], o.off))
			})
		}
		add(fmt.Sprintf("truncate entry %d by one byte", seq), seq, "malformed", func(t *testing.T, db *badger.DB, e [][]byte) {
			setEntry(t, db, seq, e[seq][:len(e[seq])-1])
		})
		add(fmt.Sprintf("append a byte to entry %d", seq), seq, "malformed", func(t *testing.T, db *badger.DB, e [][]byte) {
			setEntry(t, db, seq, append(bytes.Clone(e[seq]), 0))
		})
		add(fmt.Sprintf("delete record %d", seq), seq, "missing", func(t *testing.T, db *badger.DB, e [][]byte) {
			deleteRecord(t, db, seq, 0)
		})
		add(fmt.Sprintf("delete record %d's entry key only", seq), seq, "missing", func(t *testing.T, db *badger.DB, e [][]byte) {
			deleteRecord(t, db, seq, 'r')
		})
		if seq < tamperSize-1 { // removing the last one cleanly is a truncation
			add(fmt.Sprintf("delete record %d and rebuild every hash", seq), seq, "", func(t *testing.T, db *badger.DB, e [][]byte) {
				rebuild(t, db, append(e[:seq:seq], e[seq+1:]...))
			})
		}
		add(fmt.Sprintf("random signature on record %d", seq), seq, "", func(t *testing.T, db *badger.DB, e [][]byte) {
			sig := sha256.Sum256([]byte("not a signature"))
			setEntry(t, db, seq, withSig(e[seq], append(sig[:], sig[:]...)))
		})
		add(fmt.Sprintf("record %d signed by another key, hashes rebuilt", seq), seq, "signature", func(t *testing.T, db *badger.DB, e [][]byte) {
			body := e[seq][:len(e[seq])-64]
			sig := ed25519.Sign(testKey(9), SignedMessage(testOrigin, body))
			e[seq] = withSig(e[seq], sig)
			rebuild(t, db, e)
		})
		add(fmt.Sprintf("record %d signed by another key", seq), seq, "", func(t *testing.T, db *badger.DB, e [][]byte) {
			body := e[seq][:len(e[seq])-64]
			setEntry(t, db, seq, withSig(e[seq], ed25519.Sign(testKey(9), SignedMessage(testOrigin, body))))
		})
		add(fmt.Sprintf("record %d's payload rewritten, hashes rebuilt", seq), seq, "signature", func(t *testing.T, db *badger.DB, e [][]byte) {
			e[seq] = bytes.Clone(e[seq])
			copy(e[seq][92:], "PAYLOAD")
			rebuild(t, db, e)
		})
		add(fmt.Sprintf("record %d's time rewritten, hashes rebuilt", seq), seq, "signature", func(t *testing.T, db *badger.DB, e [][]byte) {
			e[seq] = flipByte(e[seq], 23)
			rebuild(t, db, e)
		})
		add(fmt.Sprintf("record %d signed for another ledger", seq), seq, "signature", func(t *testing.T, db *badger.DB, e [][]byte) {
			body := e[seq][:len(e[seq])-64]
			e[seq] = withSig(e[seq], ed25519.Sign(testKey(0), SignedMessage("cairn.ledger/other", body)))
			rebuild(t, db, e)
		})
		add(fmt.Sprintf("insert a foreign record at %d", seq), seq, "", func(t *testing.T, db *badger.DB, e [][]byte) {
			// Shift every key of the records from seq on up by one, then put the
			// foreign entry in the gap.
			var moved []kv
			for s := seq; s < tamperSize; s++ {
				moved = append(moved, dump(t, db, recPrefix(s))...)
			}
			update(t, db, func(txn *badger.Txn) error {
				for _, x := range moved {
					if err := txn.Delete(x.k); err != nil {
						return err
					}
				}
				for _, x := range moved {
					k := bytes.Clone(x.k)
					binary.BigEndian.PutUint64(k[1:9], binary.BigEndian.Uint64(k[1:9])+1)
					if err := txn.Set(k, x.v); err != nil {
						return err
					}
				}
				return txn.Set(recKey(seq, 'r'), foreign(e, seq))
			})
		})
	}
	add("flip bytes of records 30 and 13", 13, "", func(t *testing.T, db *badger.DB, e [][]byte) {
		setEntry(t, db, 30, flipByte(e[30], 100))
		setEntry(t, db, 13, flipByte(e[13], 100))
	})
	for _, sw := range [][2]int64{{5, 20}, {13, 14}, {0, tamperSize - 1}, {tamperSize - 2, tamperSize - 1}} {
		add(fmt.Sprintf("swap entries %d and %d", sw[0], sw[1]), sw[0], "says it is record", func(t *testing.T, db *badger.DB, e [][]byte) {
			setEntry(t, db, sw[0], e[sw[1]])
			setEntry(t, db, sw[1], e[sw[0]])
		})
		add(fmt.Sprintf("swap records %d and %d, hashes rebuilt", sw[0], sw[1]), sw[0], "says it is record", func(t *testing.T, db *badger.DB, e [][]byte) {
			e[sw[0]], e[sw[1]] = e[sw[1]], e[sw[0]]
			rebuild(t, db, e)
		})
	}
	// The strongest attacker without the author's key: a foreign record that fits
	// perfectly at 13, every hash and link recomputed. Record 13 is then a valid
	// record; the first one that does not fit is the shifted old 13.
	add("insert a foreign record at 13, hashes rebuilt", 14, "says it is record 13", func(t *testing.T, db *badger.DB, e [][]byte) {
		e = append(e[:13:13], append([][]byte{foreign(e, 13)}, e[13:]...)...)
		rebuild(t, db, e)
	})
	// Record 13 replaced by a valid record of another author: its own signature
	// holds, so the chain at 14 catches it.
	add("record 13 rewritten and re-signed by another key, hashes rebuilt", 14, "chain link", func(t *testing.T, db *badger.DB, e [][]byte) {
		e[13] = foreign(e, 13)
		rebuild(t, db, e)
	})
	add("truncate the last 5 records, stored checkpoint at 40", tamperSize-5, "removed from the end", func(t *testing.T, db *badger.DB, e [][]byte) {
		update(t, db, func(txn *badger.Txn) error {
			return txn.Set(append([]byte("k/"), 0, 0, 0, 0, 0, 0, 0, tamperSize), tamperTemplate.note40)
		})
		for s := int64(tamperSize - 5); s < tamperSize; s++ {
			deleteRecord(t, db, s, 0)
		}
		deleteRecord(t, db, tamperSize-6, 'n')
	})
	add("truncate the last 5 records but leave the link", tamperSize-5, "removed from the end", func(t *testing.T, db *badger.DB, e [][]byte) {
		for s := int64(tamperSize - 5); s < tamperSize; s++ {
			deleteRecord(t, db, s, 0)
		}
	})
	add("change the link under record 12", 13, "link", func(t *testing.T, db *badger.DB, e [][]byte) {
		update(t, db, func(txn *badger.Txn) error { return txn.Set(recKey(12, 'n'), make([]byte, 32)) })
	})
	add("delete the link under record 12", 13, "link", func(t *testing.T, db *badger.DB, e [][]byte) {
		deleteRecord(t, db, 12, 'n')
	})
	add("change record 13's level-1 tree hash", 13, "tree hash", func(t *testing.T, db *badger.DB, e [][]byte) {
		editHashes(t, db, 13, func(v []byte) []byte { clear(v[32:64]); return v })
	})
	add("change record 13's leaf hash", 13, "leaf hash", func(t *testing.T, db *badger.DB, e [][]byte) {
		editHashes(t, db, 13, func(v []byte) []byte { clear(v[:32]); return v })
	})
	add("delete record 15's level-2 tree hash", 15, "tree hashes", func(t *testing.T, db *badger.DB, e [][]byte) {
		editHashes(t, db, 15, func(v []byte) []byte { return append(v[:64:64], v[96:]...) })
	})
	add("short stored hash under record 13", 13, "bytes", func(t *testing.T, db *badger.DB, e [][]byte) {
		editHashes(t, db, 13, func(v []byte) []byte { return v[:len(v)-1] })
	})
	add("extra key under record 13", 13, "unexpected", func(t *testing.T, db *badger.DB, e [][]byte) {
		update(t, db, func(txn *badger.Txn) error { return txn.Set(recKey(13, 'x'), []byte("x")) })
	})
	add("record 13's entry stored under 13 and 14's number", 14, "", func(t *testing.T, db *badger.DB, e [][]byte) {
		setEntry(t, db, 14, e[13])
	})

	// Control: the tampering helpers themselves leave a valid ledger when they
	// change nothing, so every case below fails for the reason it names.
	t.Run("control", func(t *testing.T) {
		dir := tamperLedger(t)
		db := openBadger(t, dir)
		rebuild(t, db, entriesOf(t, db))
		db.Close()
		l, err := Open(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		if rep, err := l.Verify(VerifyOptions{}); err != nil || rep.Size != tamperSize {
			t.Fatalf("untampered, rebuilt ledger: Verify = %v, %v; want %d records, no error", rep, err, tamperSize)
		}
	})

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := tamperLedger(t)
			t.Parallel()
			db := openBadger(t, dir)
			entries := entriesOf(t, db)
			if len(entries) != tamperSize {
				t.Fatalf("template has %d entries", len(entries))
			}
			tc.tamper(t, db, entries)
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			l, err := Open(dir, nil)
			if err != nil {
				t.Fatalf("Open after tampering: %v", err)
			}
			defer l.Close()
			for _, workers := range []int{0, 1} {
				rep, err := l.Verify(VerifyOptions{Workers: workers})
				var ve *VerifyError
				if !errors.As(err, &ve) {
					t.Fatalf("Workers=%d: Verify = %+v, %v; want a *VerifyError for record %d", workers, rep, err, tc.seq)
				}
				if ve.Seq != tc.seq || !strings.Contains(ve.Problem, tc.problem) {
					t.Fatalf("Workers=%d: Verify error %q (Seq %d); want Seq %d and a problem containing %q", workers, ve, ve.Seq, tc.seq, tc.problem)
				}
			}
		})
	}
}

// TestVerifyTruncationNeedsCheckpoint documents the limit the checkpoints exist for:
// a clean cut of the tail, link included, leaves a valid shorter ledger.
func TestVerifyTruncationNeedsCheckpoint(t *testing.T) {
	dir := tamperLedger(t)
	db := openBadger(t, dir)
	for s := int64(tamperSize - 5); s < tamperSize; s++ {
		deleteRecord(t, db, s, 0)
	}
	deleteRecord(t, db, tamperSize-6, 'n')
	db.Close()
	l, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.Size() != tamperSize-5 {
		t.Fatalf("Size() = %d, want %d", l.Size(), tamperSize-5)
	}
	if rep, err := l.Verify(VerifyOptions{}); err != nil || rep.Size != tamperSize-5 {
		t.Fatalf("Verify of a cleanly truncated ledger = %v, %v; want %d records", rep, err, tamperSize-5)
	}
	// The checkpoint the author published before catches it.
	_, err = l.Verify(VerifyOptions{Since: tamperTemplate.note40})
	var ve *VerifyError
	if !errors.As(err, &ve) || !strings.Contains(ve.Problem, "rollback") {
		t.Fatalf("Verify with Since = the checkpoint at %d: %v; want a rollback error", tamperSize, err)
	}
}

func TestVerifySince(t *testing.T) {
	l, dir := newTestLedger(t, 20)
	c20, err := l.SignCheckpoint(testKey(0))
	if err != nil {
		t.Fatal(err)
	}
	l.Close()

	// A fork: a copy of the directory at 20 records continues differently.
	forkDir := filepath.Join(t.TempDir(), "fork")
	copyDir(t, dir, forkDir)
	old := filepath.Join(t.TempDir(), "old")
	copyDir(t, dir, old)

	l, err = Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := 20; i < 30; i++ {
		if _, err := l.Append(testKey(0), payload(i)); err != nil {
			t.Fatal(err)
		}
	}
	c30, err := l.SignCheckpoint(testKey(0))
	if err != nil {
		t.Fatal(err)
	}

	f, err := Open(forkDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := 20; i < 35; i++ {
		if _, err := f.Append(testKey(0), []byte(fmt.Sprintf("forked record %d", i))); err != nil {
			t.Fatal(err)
		}
	}
	f25, err := f.SignCheckpoint(testKey(0))
	if err != nil {
		t.Fatal(err)
	}

	// A ledger with the same origin made from scratch.
	s, _ := newTestLedger(t, 0)
	if _, err := s.AppendBatch(testKey(0), [][]byte{[]byte("one"), []byte("two"), []byte("three")}); err != nil {
		t.Fatal(err)
	}
	s3, err := s.SignCheckpoint(testKey(0))
	if err != nil {
		t.Fatal(err)
	}

	// Another ledger altogether.
	otherDir := filepath.Join(t.TempDir(), "other")
	o, err := Create(otherDir, "cairn.ledger/another", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	o.Append(testKey(0), []byte("x"))
	o1, err := o.SignCheckpoint(testKey(0))
	if err != nil {
		t.Fatal(err)
	}

	// Signed by a key that never wrote to the ledger.
	root, _ := l.TreeHash(10)
	stranger := signCheckpointNote(t, &Checkpoint{Origin: testOrigin, Size: 10, Root: root}, testKey(7))

	good := []struct {
		name string
		l    *Ledger
		note []byte
		size int64
	}{
		{"own checkpoint at 20", l, c20.Note, 20},
		{"own checkpoint at 30 (current size)", l, c30.Note, 30},
		{"fork verified against the common checkpoint", f, c20.Note, 20},
	}
	for _, tc := range good {
		rep, err := tc.l.Verify(VerifyOptions{Since: tc.note})
		if err != nil {
			t.Errorf("%s: Verify: %v", tc.name, err)
			continue
		}
		if rep.Since == nil || rep.Since.Size != tc.size {
			t.Errorf("%s: report Since = %+v, want the checkpoint at %d", tc.name, rep.Since, tc.size)
		}
	}

	bad := []struct {
		name    string
		l       *Ledger
		note    []byte
		problem string
	}{
		{"ledger against its fork's checkpoint at 35", l, f25.Note, "rollback"},
		{"fork against the ledger's checkpoint at 30", f, c30.Note, "fork"},
		{"ledger against a same-origin ledger's checkpoint", l, s3.Note, "fork"},
		{"another ledger's checkpoint", l, o1.Note, "not this one"},
		{"checkpoint by a stranger", l, stranger, "not signed"},
		{"not a checkpoint", l, []byte("hello\n"), "cannot be read"},
		{"checkpoint with a bad signature", l, bytes.Replace(c20.Note, []byte("\u2014 "+testOrigin+" "), []byte("\u2014 "+testOrigin+" AAAA"), 1), ""},
	}
	for _, tc := range bad {
		_, err := tc.l.Verify(VerifyOptions{Since: tc.note})
		var ve *VerifyError
		if !errors.As(err, &ve) || !strings.Contains(ve.Problem, tc.problem) {
			t.Errorf("%s: Verify: %v; want a *VerifyError containing %q", tc.name, err, tc.problem)
		}
	}

	// An older copy of the ledger, verified against a newer checkpoint.
	ol, err := Open(old, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ol.Close()
	_, err = ol.Verify(VerifyOptions{Since: c30.Note})
	var ve *VerifyError
	if !errors.As(err, &ve) || ve.Seq != -1 || !strings.Contains(ve.Problem, "rollback") {
		t.Errorf("old copy against the checkpoint at 30: %v; want a rollback *VerifyError with Seq -1", err)
	}
}

func TestVerifyStoredCheckpoints(t *testing.T) {
	l, dir := newTestLedger(t, 5)
	var sizes []int64
	for i := range 4 {
		c, err := l.SignCheckpoint(testKey(0))
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, c.Size)
		for j := range 3 + i {
			l.Append(testKey(0), payload(100+j))
		}
	}
	rep, err := l.Verify(VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Checkpoints) != len(sizes) {
		t.Fatalf("report has %d checkpoints, want %d", len(rep.Checkpoints), len(sizes))
	}
	for i, c := range rep.Checkpoints {
		if c.Size != sizes[i] {
			t.Errorf("checkpoint %d has size %d, want %d", i, c.Size, sizes[i])
		}
	}
	l.Close()

	// A stored checkpoint whose root is wrong.
	db := openBadger(t, dir)
	root, _ := tlog.ParseHash("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
	bogus := signCheckpointNote(t, &Checkpoint{Origin: testOrigin, Size: 3, Root: root}, testKey(0))
	update(t, db, func(txn *badger.Txn) error {
		return txn.Set(append([]byte("k/"), 0, 0, 0, 0, 0, 0, 0, 3), bogus)
	})
	db.Close()
	l, err = Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, err = l.Verify(VerifyOptions{})
	var ve *VerifyError
	if !errors.As(err, &ve) || !strings.Contains(ve.Problem, "size 3") {
		t.Fatalf("Verify with a wrong stored checkpoint at 3: %v; want a *VerifyError naming size 3", err)
	}
}

func TestVerifyProgressAndCheckRecord(t *testing.T) {
	l, _ := newTestLedger(t, 600)
	var last int64 = -1
	calls := 0
	_, err := l.Verify(VerifyOptions{Progress: func(n int64) {
		if n < last {
			t.Errorf("Progress went backwards: %d after %d", n, last)
		}
		last = n
		calls++
	}})
	if err != nil {
		t.Fatal(err)
	}
	if last != 600 || calls < 2 {
		t.Errorf("Progress: last call %d after %d calls, want 600 after at least 2", last, calls)
	}
	var seen []int64
	_, err = l.Verify(VerifyOptions{CheckRecord: func(r *Record) error {
		seen = append(seen, r.Seq)
		if r.Seq == 321 {
			return errors.New("key not allowed")
		}
		return nil
	}})
	var ve *VerifyError
	if !errors.As(err, &ve) || ve.Seq != 321 || !strings.Contains(ve.Problem, "key not allowed") {
		t.Fatalf("Verify with CheckRecord failing at 321: %v", err)
	}
	for i, s := range seen {
		if s != int64(i) {
			t.Fatalf("CheckRecord saw %d as call %d, want records in order", s, i)
		}
	}
}
