// Package formatcheck is an independent verifier of cairn's formats, written
// from FORMAT.md alone, as an auditor would: it imports no package of cairn's
// (only the standard library, transparency-dev/merkle, x/mod's note and
// filippo.io/edwards25519) and drives the cairn binary as a black box. Every
// rule cites the section it comes from. Its tests make genuine ledgers, packs
// and archives with cairn, tamper with them, and fail when the two verifiers
// disagree on a variant: a disagreement is a bug in cairn or in FORMAT.md.
package formatcheck

import (
	"bytes"
	"fmt"
)

// A Verdict is the outcome: OK, or the first problem found and which record (-1 if none in particular).
type Verdict struct {
	OK      bool
	Seq     int64  // the bad record, or -1
	Problem string // the rule broken, citing the FORMAT.md section
}

var ok = Verdict{OK: true, Seq: -1}

func fail(seq int64, format string, args ...any) Verdict {
	return Verdict{Seq: seq, Problem: fmt.Sprintf(format, args...)}
}

// A walker takes a ledger's entries in order through every rule of §1.4,
// including §5.3, §5.5, §5.6 and §5's one size per SHA-256 (rule 6). Ledger
// and Archive share it.
type walker struct {
	origin string
	ks     *keyState
	bk     *book
	prev   *entry
	n      int64 // the position of the next entry
	steps  []*step
}

func newWalker(origin string) *walker {
	return &walker{origin: origin, ks: newKeyState(), bk: newBook()}
}

// next checks the entry at position w.n, §1.4 rules 1–6 in order.
func (w *walker) next(raw []byte) error {
	i := w.n
	e, err := parseEntry(raw) // rule 1
	if err != nil {
		return err
	}
	if e.seq != uint64(i) { // rule 2
		return fmt.Errorf("§1.4 rule 2: seq is %d, not its position %d", e.seq, i)
	}
	want := make([]byte, 32) // rule 3; 32 zero bytes for seq 0 (§1)
	if w.prev != nil {
		want = w.prev.link()
	}
	if !bytes.Equal(e.prev, want) {
		return fmt.Errorf("§1.4 rule 3: prev is not the chain link (§1.2) of entry %d", i-1)
	}
	if w.prev != nil && e.time < w.prev.time { // rule 4
		return fmt.Errorf("§1.4 rule 4: time %d is earlier than entry %d's %d", e.time, i-1, w.prev.time)
	}
	if err := e.checkRecordSig(w.origin); err != nil { // rule 5
		return err
	}
	st, err := readStep(e.payload) // rule 6: §5.4
	if err != nil {
		return fmt.Errorf("§1.4 rule 6: payload: %v", err)
	}
	if err := w.ks.apply(i, e, st); err != nil { // rule 6: §5.3
		return fmt.Errorf("§1.4 rule 6: %v", err)
	}
	if err := w.bk.check(i, e, st, w.ks, false); err != nil { // rule 6: §5.5, §5.6, §5
		return fmt.Errorf("§1.4 rule 6: %v", err)
	}
	w.bk.add(i, e, st)
	w.prev = e
	w.n++
	w.steps = append(w.steps, st)
	return nil
}

// Ledger verifies a whole ledger given its origin line and every entry's exact bytes in order
// (what `cairn log --raw` prints, base64 per line, decoded), plus the stored checkpoint notes
// (may be empty): FORMAT.md §1 (every rule of §1.4, including §1.3's pinned Ed25519 rule), §2, §3
// (checkpoints valid for the ledger, including which keys may sign which sizes and that no line
// by a key of the ledger fails), §5 (strict payload reading §5.4, the kinds table, one size per
// SHA-256, §5.1–§5.3, §5.5 and §5.6).
func Ledger(origin string, entries [][]byte, checkpoints [][]byte) Verdict {
	if !originRE.MatchString(origin) {
		return fail(-1, "§3: origin %q is not cairn.ledger/ followed by 20 characters of a-z2-7", origin)
	}
	w := newWalker(origin)
	for i, raw := range entries {
		if err := w.next(raw); err != nil {
			return fail(int64(i), "record %d: %v", i, err)
		}
	}
	return checkCheckpoints(w, entries, checkpoints, func(i int) string {
		return fmt.Sprintf("checkpoint %d", i)
	})
}

// checkCheckpoints is §3: "A checkpoint is valid for a ledger if it has
// exactly the three lines above ..., it is signed by a key that may sign a
// checkpoint of its size (§5.3), no signature line by a key of the ledger
// (any key its records introduced, retired ones included) fails to verify,
// its origin is the ledger's, and its root equals MTH of the first size
// entries."
func checkCheckpoints(w *walker, entries [][]byte, notes [][]byte, name func(int) string) Verdict {
	cps := make([]*checkpoint, len(notes))
	sizes := map[int64]bool{}
	for i, raw := range notes {
		cp, err := parseCheckpoint(raw)
		if err != nil {
			return fail(-1, "%s: %v", name(i), err)
		}
		if cp.size > int64(len(entries)) {
			return fail(-1, "%s: §3: size %d is larger than the ledger's %d entries", name(i), cp.size, len(entries))
		}
		cps[i] = cp
		sizes[cp.size] = true
	}
	roots := rootsAt(entries, sizes)
	for i, cp := range cps {
		if err := cp.checkSigned(w.origin, w.ks); err != nil {
			return fail(-1, "%s: %v", name(i), err)
		}
		if !bytes.Equal(cp.root, roots[cp.size]) {
			return fail(-1, "%s: §3: root is not MTH of the first %d entries (§2)", name(i), cp.size)
		}
	}
	return ok
}
