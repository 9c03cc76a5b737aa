package ledger

import (
	"crypto/sha256"

	"golang.org/x/mod/sumdb/tlog"
)

// EmptyRoot is the RFC 6962 root of the empty tree: SHA-256 of nothing.
var EmptyRoot = tlog.Hash(sha256.Sum256(nil))

// A TreeBuilder computes the RFC 6962 root of a sequence of entries as they
// are added, in memory that does not grow with their number (at most 63
// hashes). The studio log's readers use it to check a log's root from its
// entries; verification uses the same compact range.
type TreeBuilder struct {
	c compactRange
	n int64
}

// Add appends an entry, hashed as a leaf (SHA-256(0x00 || entry)).
func (t *TreeBuilder) Add(entry []byte) {
	t.c.push(t.n, tlog.RecordHash(entry))
	t.n++
}

// Size returns the number of entries added.
func (t *TreeBuilder) Size() int64 { return t.n }

// Root returns the root of the entries added: the empty tree's for none.
func (t *TreeBuilder) Root() tlog.Hash {
	if t.n == 0 {
		return EmptyRoot
	}
	return t.c.root()
}
