package ledger

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
	"golang.org/x/mod/sumdb/tlog"
)

func hashSlices(hs []tlog.Hash) [][]byte {
	out := make([][]byte, len(hs))
	for i := range hs {
		out[i] = hs[i][:]
	}
	return out
}

func sameHashes(a []tlog.Hash, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i][:], b[i]) {
			return false
		}
	}
	return true
}

// TestProofsAgainstTransparencyDev checks, at every tree size from 1 to 300, the
// ledger's root, every inclusion proof and every consistency proof against
// github.com/transparency-dev/merkle, a second RFC 6962 implementation.
func TestProofsAgainstTransparencyDev(t *testing.T) {
	const n = 300
	l, _ := newTestLedger(t, n)
	hasher := rfc6962.DefaultHasher
	ref := testonly.New(hasher)
	cr := (&compact.RangeFactory{Hash: hasher.HashChildren}).NewEmptyRange(0)
	leaves := make([][]byte, n)
	roots := make([][]byte, n+1)
	err := l.Scan(0, func(r *Record) error {
		leaves[r.Seq] = hasher.HashLeaf(r.Entry)
		if h := r.Hash(); !bytes.Equal(h[:], leaves[r.Seq]) {
			t.Fatalf("record %d: Hash() = %x, RFC 6962 leaf hash %x", r.Seq, h, leaves[r.Seq])
		}
		ref.AppendData(r.Entry)
		if err := cr.Append(leaves[r.Seq], nil); err != nil {
			return err
		}
		root, err := cr.GetRootHash(nil)
		roots[r.Seq+1] = root
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if ref.Size() != n {
		t.Fatalf("scanned %d records, want %d", ref.Size(), n)
	}

	for size := int64(1); size <= n; size++ {
		root, err := l.TreeHash(size)
		if err != nil {
			t.Fatalf("TreeHash(%d): %v", size, err)
		}
		if !bytes.Equal(root[:], roots[size]) || !bytes.Equal(root[:], ref.HashAt(uint64(size))) {
			t.Fatalf("TreeHash(%d) = %x; compact range root %x, reference tree root %x", size, root, roots[size], ref.HashAt(uint64(size)))
		}
		for i := int64(0); i < size; i++ {
			p, err := l.InclusionProof(i, size)
			if err != nil {
				t.Fatalf("InclusionProof(%d, %d): %v", i, size, err)
			}
			if err := proof.VerifyInclusion(hasher, uint64(i), uint64(size), leaves[i], hashSlices(p), roots[size]); err != nil {
				t.Fatalf("InclusionProof(%d, %d) does not verify with transparency-dev: %v", i, size, err)
			}
			want, _ := ref.InclusionProof(uint64(i), uint64(size))
			if !sameHashes(p, want) {
				t.Fatalf("InclusionProof(%d, %d) = %x, reference tree's proof %x", i, size, p, want)
			}
		}
		for old := int64(1); old <= size; old++ {
			p, err := l.ConsistencyProof(old, size)
			if err != nil {
				t.Fatalf("ConsistencyProof(%d, %d): %v", old, size, err)
			}
			if err := proof.VerifyConsistency(hasher, uint64(old), uint64(size), hashSlices(p), roots[old], roots[size]); err != nil {
				t.Fatalf("ConsistencyProof(%d, %d) does not verify with transparency-dev: %v", old, size, err)
			}
			want, _ := ref.ConsistencyProof(uint64(old), uint64(size))
			if !sameHashes(p, want) {
				t.Fatalf("ConsistencyProof(%d, %d) = %x, reference tree's proof %x", old, size, p, want)
			}
		}
	}

	// A changed hash anywhere in a proof makes it fail (so the checks above can fail).
	for _, c := range [][2]int64{{0, 1}, {5, 7}, {200, 300}, {299, 300}, {128, 129}} {
		i, size := c[0], c[1]
		p, _ := l.InclusionProof(i, size)
		for j := range p {
			q := append(tlog.RecordProof(nil), p...)
			q[j][0] ^= 1
			if proof.VerifyInclusion(hasher, uint64(i), uint64(size), leaves[i], hashSlices(q), roots[size]) == nil {
				t.Errorf("inclusion proof (%d, %d) with hash %d changed still verifies", i, size, j)
			}
		}
		if size > 1 && proof.VerifyInclusion(hasher, uint64(i), uint64(size), leaves[(i+1)%size], hashSlices(p), roots[size]) == nil {
			t.Errorf("inclusion proof (%d, %d) verifies for another leaf", i, size)
		}
	}

	for _, c := range []struct{ seq, size int64 }{{0, 0}, {-1, 5}, {5, 5}, {0, n + 1}, {n, n}} {
		if _, err := l.InclusionProof(c.seq, c.size); err == nil {
			t.Errorf("InclusionProof(%d, %d) on %d records succeeded", c.seq, c.size, n)
		}
	}
	for _, c := range []struct{ old, size int64 }{{0, 5}, {6, 5}, {1, n + 1}, {-1, 3}} {
		if _, err := l.ConsistencyProof(c.old, c.size); err == nil {
			t.Errorf("ConsistencyProof(%d, %d) on %d records succeeded", c.old, c.size, n)
		}
	}
	for _, size := range []int64{-1, n + 1} {
		if _, err := l.TreeHash(size); err == nil {
			t.Errorf("TreeHash(%d) on %d records succeeded", size, n)
		}
	}
	if h, err := l.TreeHash(0); err != nil || !bytes.Equal(h[:], rfc6962.DefaultHasher.EmptyRoot()) {
		t.Errorf("TreeHash(0) = %x, %v; want the empty root %x", h, err, rfc6962.DefaultHasher.EmptyRoot())
	}
}

func TestProofTextRoundTrip(t *testing.T) {
	l, _ := newTestLedger(t, 37)
	c, err := l.SignCheckpoint(testKey(0))
	if err != nil {
		t.Fatal(err)
	}
	for i := int64(0); i < 37; i++ {
		p, err := l.InclusionProof(i, 37)
		if err != nil {
			t.Fatal(err)
		}
		text := FormatInclusionProof(i, p, c.Note)
		if !strings.HasPrefix(string(text), fmt.Sprintf("c2sp.org/tlog-proof@v1\nindex %d\n", i)) {
			t.Fatalf("FormatInclusionProof(%d) begins %q", i, text[:40])
		}
		gi, gp, gc, err := ParseInclusionProof(text)
		if err != nil {
			t.Fatalf("ParseInclusionProof(FormatInclusionProof(%d)): %v\n%s", i, err, text)
		}
		if gi != i || !bytes.Equal(gc, c.Note) || !sameHashes(gp, hashSlices(p)) {
			t.Fatalf("inclusion proof %d did not round-trip: got %d, %x, %q", i, gi, gp, gc)
		}
		// And what it decodes to proves the record against the checkpoint.
		oc, err := OpenCheckpoint(gc, testPub(0))
		if err != nil {
			t.Fatal(err)
		}
		r, _ := l.Get(gi)
		if err := tlog.CheckRecord(gp, oc.Size, oc.Root, gi, r.Hash()); err != nil {
			t.Fatalf("decoded inclusion proof %d does not check: %v", i, err)
		}
	}
	for newSize := int64(1); newSize <= 37; newSize++ {
		for old := int64(1); old <= newSize; old++ {
			p, err := l.ConsistencyProof(old, newSize)
			if err != nil {
				t.Fatal(err)
			}
			text := FormatConsistencyProof(old, newSize, p)
			go_, gn, gp, err := ParseConsistencyProof(text)
			if err != nil {
				t.Fatalf("ParseConsistencyProof(FormatConsistencyProof(%d, %d)): %v\n%s", old, newSize, err, text)
			}
			if go_ != old || gn != newSize || !sameHashes(gp, hashSlices(p)) {
				t.Fatalf("consistency proof %d→%d did not round-trip: got %d→%d %x", old, newSize, go_, gn, gp)
			}
		}
	}
	p, _ := l.InclusionProof(3, 37)
	good := FormatInclusionProof(3, p, c.Note)
	h0 := tlog.Hash(p[0]).String()
	badIncl := map[string]string{
		"empty":              "",
		"wrong header":       strings.Replace(string(good), "tlog-proof@v1", "tlog-proof@v2", 1),
		"no index":           strings.Replace(string(good), "index 3\n", "", 1),
		"negative index":     strings.Replace(string(good), "index 3", "index -3", 1),
		"index with plus":    strings.Replace(string(good), "index 3", "index +3", 1),
		"index leading zero": strings.Replace(string(good), "index 3", "index 03", 1),
		"index overflow":     strings.Replace(string(good), "index 3", "index 9223372036854775808", 1),
		"short hash":         strings.Replace(string(good), h0, h0[:40], 1),
		"unpadded hash":      strings.Replace(string(good), h0, strings.TrimRight(h0, "="), 1),
		"no checkpoint":      string(good[:bytes.Index(good, []byte("\n\n"))+2]),
		"bad checkpoint":     string(good[:bytes.Index(good, []byte("\n\n"))+2]) + "not a checkpoint\n",
		"too many hashes":    "c2sp.org/tlog-proof@v1\nindex 0\n" + strings.Repeat(h0+"\n", 129) + "\n" + string(c.Note),
	}
	for name, text := range badIncl {
		if _, _, _, err := ParseInclusionProof([]byte(text)); err == nil {
			t.Errorf("ParseInclusionProof(%s) succeeded", name)
		}
	}
	cp, _ := l.ConsistencyProof(5, 37)
	goodCons := string(FormatConsistencyProof(5, 37, cp))
	badCons := map[string]string{
		"empty":             "",
		"no final newline":  strings.TrimSuffix(goodCons, "\n"),
		"wrong header":      strings.Replace(goodCons, "consistency-proof@v1", "consistency-proof@v0", 1),
		"sizes swapped":     strings.Replace(strings.Replace(goodCons, "old 5", "old 37", 1), "new 37", "new 5", 1),
		"fields swapped":    "cairn.ledger/consistency-proof@v1\nnew 37\nold 5\n",
		"text after":        goodCons + "\nmore\n",
		"not base64":        strings.Replace(goodCons, tlog.Hash(cp[0]).String(), "!!!!", 1),
		"missing new size":  "cairn.ledger/consistency-proof@v1\nold 5\n",
		"hash on size line": "cairn.ledger/consistency-proof@v1\nold 5 new 37\n",
	}
	for name, text := range badCons {
		if _, _, _, err := ParseConsistencyProof([]byte(text)); err == nil {
			t.Errorf("ParseConsistencyProof(%s) succeeded:\n%s", name, text)
		}
	}
}
