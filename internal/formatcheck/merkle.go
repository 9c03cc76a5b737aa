package formatcheck

import (
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// §2: the entries are the leaves of an RFC 6962 tree, leaf(entry) =
// SHA-256(0x00 || entry), interior nodes SHA-256(0x01 || left || right).

var hasher = rfc6962.DefaultHasher

// Root returns the RFC 6962 root of the entries (§2): MTH(D[0:N]).
func Root(entries [][]byte) [32]byte {
	var out [32]byte
	copy(out[:], rootsAt(entries, nil)[int64(len(entries))])
	return out
}

// rootsAt returns the root of the first n entries for n = len(entries) and
// every n in sizes that is at most len(entries).
func rootsAt(entries [][]byte, sizes map[int64]bool) map[int64][]byte {
	out := map[int64][]byte{}
	rf := &compact.RangeFactory{Hash: hasher.HashChildren}
	r := rf.NewEmptyRange(0)
	root := func() []byte {
		if r.End() == 0 {
			return hasher.EmptyRoot()
		}
		h, err := r.GetRootHash(nil)
		if err != nil {
			panic(err) // cannot happen: the range starts at 0
		}
		return h
	}
	if sizes[0] {
		out[0] = root()
	}
	for i, e := range entries {
		if err := r.Append(leafHash(e), nil); err != nil {
			panic(err)
		}
		if n := int64(i + 1); sizes[n] {
			out[n] = root()
		}
	}
	out[int64(len(entries))] = root()
	return out
}

// verifyInclusion: the audit path leads from leafHash at index to root in
// the tree of the given size (RFC 9162 §2.1.3.2).
func verifyInclusion(index, size int64, leaf []byte, path [][]byte, root []byte) error {
	return proof.VerifyInclusion(hasher, uint64(index), uint64(size), leaf, path, root)
}

// verifyConsistency: the tree (size1, root1) is a prefix of (size2, root2)
// (RFC 9162 §2.1.4.2).
func verifyConsistency(size1, size2 int64, path [][]byte, root1, root2 []byte) error {
	return proof.VerifyConsistency(hasher, uint64(size1), uint64(size2), path, root1, root2)
}
