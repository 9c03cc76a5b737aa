package formatcheck

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
)

// The portable ledger archive, cairn.archive/v1 (FORMAT.md §8).

const secA = "§8"

type manifestMember struct {
	name     string
	kind     string
	bytes    int64
	sha256   string
	treeSize int64 // -1 when absent
	witness  string
}

type manifest struct {
	origin  string
	size    int64
	root    []byte
	members []manifestMember
}

// Member names of §8's table: <size, 20 digits>, <n> counting from 0.
var (
	reCheckpoint  = regexp.MustCompile(`^checkpoints/([0-9]{20})\.note$`)
	reTimestamp   = regexp.MustCompile(`^timestamps/([0-9]{20})\.tsr$`)
	reCosignature = regexp.MustCompile(`^cosignatures/([0-9]{20})-(0|[1-9][0-9]*)\.note$`)
	reFile        = regexp.MustCompile(`^files/([0-9a-f]{64})$`)
)

// Archive verifies a portable ledger archive (§8, "Verifying an archive" rules 1–6) from its tar bytes.
func Archive(tarBytes []byte) Verdict {
	members, tarErr := readTar(tarBytes)
	// Rule 1: the first member is manifest.json, of the form above.
	if len(members) == 0 {
		if tarErr != nil {
			return fail(-1, "§8 rule 2: %v", tarErr)
		}
		return fail(-1, "§8 rule 1: member manifest.json: missing (the archive is empty)")
	}
	if members[0].name != "manifest.json" {
		return fail(-1, "§8 rule 1: member %s: the first member is not manifest.json", members[0].name)
	}
	if err := checkMemberHeader(members[0]); err != nil {
		return fail(-1, "§8 rule 2: member manifest.json: %v", err)
	}
	man, err := readManifest(members[0].data)
	if err != nil {
		return fail(-1, "§8 rule 1: member manifest.json: %v", err)
	}
	// Rule 2's order of members, and "at least one checkpoint has
	// tree_size equal to size" (§8, the manifest).
	if err := checkMemberOrder(man); err != nil {
		return fail(-1, "§8 rule 2: member manifest.json: %v", err)
	}
	// Rule 2: the following members are exactly those listed, in order.
	rest := members[1:]
	for i, mm := range man.members {
		if i >= len(rest) {
			if tarErr != nil {
				return fail(-1, "§8 rule 2: %v", tarErr)
			}
			return fail(-1, "§8 rule 2: member %s: missing (the archive is truncated)", mm.name)
		}
		m := rest[i]
		if m.name != mm.name {
			return fail(-1, "§8 rule 2: member %s: found where the manifest lists %s (extra, missing or reordered)", m.name, mm.name)
		}
		if err := checkMemberHeader(m); err != nil {
			return fail(-1, "§8 rule 2: member %s: %v", m.name, err)
		}
		if int64(len(m.data)) != mm.bytes {
			return fail(-1, "§8 rule 2: member %s: %d bytes, the manifest says %d", m.name, len(m.data), mm.bytes)
		}
		if h := sha256.Sum256(m.data); hex.EncodeToString(h[:]) != mm.sha256 {
			return fail(-1, "§8 rule 2: member %s: its SHA-256 is not the manifest's", m.name)
		}
	}
	if len(rest) > len(man.members) {
		return fail(-1, "§8 rule 2: member %s: not listed in the manifest", rest[len(man.members)].name)
	}
	if tarErr != nil {
		return fail(-1, "§8 rule 2: %v", tarErr)
	}
	return checkArchiveContent(man, rest)
}

// checkMemberHeader: "Every member, the manifest included, is a regular file
// of mode 0444 whose user and group names are cairn" (§8 rule 2).
func checkMemberHeader(m tarMember) error {
	switch {
	case m.typ != '0':
		return fmt.Errorf("type %q, not a regular file (type 0)", m.typ)
	case m.mode != 0o444:
		return fmt.Errorf("mode %04o, not 0444", m.mode)
	case m.uname != "cairn":
		return fmt.Errorf("user name %q, not cairn", m.uname)
	case m.gname != "cairn":
		return fmt.Errorf("group name %q, not cairn", m.gname)
	}
	return nil
}

// checkArchiveContent is §8 rules 3–6, with members matching the manifest.
func checkArchiveContent(man *manifest, members []tarMember) Verdict {
	// Rule 3: records.
	recs := members[0].data
	var entries [][]byte
	w := newWalker(man.origin)
	for len(recs) > 0 {
		seq := int64(len(entries))
		if len(recs) < entryHeader {
			return fail(seq, "member records: record %d: %d bytes left, fewer than an entry's 92-byte header (§8)", seq, len(recs))
		}
		n := binary.BigEndian.Uint32(recs[88:92])
		if n > maxPayload {
			return fail(seq, "member records: record %d: §1.4 rule 1: payload length %d is more than 1048576", seq, n)
		}
		l := entryOverhead + int(n)
		if len(recs) < l {
			return fail(seq, "member records: record %d: the member ends inside the entry (§8)", seq)
		}
		raw := recs[:l]
		recs = recs[l:]
		if err := w.next(raw); err != nil {
			return fail(seq, "member records: record %d: %v", seq, err)
		}
		entries = append(entries, raw)
	}
	if int64(len(entries)) != man.size {
		return fail(-1, "member records: %d entries, the manifest's size is %d (§8 rule 3)", len(entries), man.size)
	}
	if r := Root(entries); !bytes.Equal(r[:], man.root) {
		return fail(-1, "member records: the RFC 6962 root of the records is not the manifest's root (§8 rule 3)")
	}
	// Rule 4: checkpoints.
	cps := map[int64]*checkpoint{}
	var notes [][]byte
	var names []string
	for i, mm := range man.members {
		if mm.kind == "checkpoint" {
			notes = append(notes, members[i].data)
			names = append(names, mm.name)
			cp, err := parseCheckpoint(members[i].data)
			if err != nil {
				return fail(-1, "member %s: %v (§8 rule 4)", mm.name, err)
			}
			if cp.size != mm.treeSize {
				return fail(-1, "member %s: checkpoint of size %d, its tree_size says %d (§8 rule 4)", mm.name, cp.size, mm.treeSize)
			}
			cps[cp.size] = cp
		}
	}
	if v := checkCheckpoints(w, entries, notes, func(i int) string { return "member " + names[i] }); !v.OK {
		v.Problem += " (§8 rule 4)"
		return v
	}
	// Rule 5: timestamps and cosignatures.
	for i, mm := range man.members {
		cp := cps[mm.treeSize]
		switch mm.kind {
		case "timestamp":
			var cover int64
			if cp.size > 0 {
				e, _ := parseEntry(entries[cp.size-1])
				cover = e.time
			}
			if _, err := checkTimestamp(members[i].data, cp.note.raw, cover, cp.size > 0); err != nil {
				return fail(-1, "member %s: %v (§8 rule 5)", mm.name, err)
			}
		case "cosignature":
			if err := checkCosignedNote(members[i].data, cp, mm.witness); err != nil {
				return fail(-1, "member %s: %v (§8 rule 5)", mm.name, err)
			}
		}
	}
	// Rule 6: files.
	files := map[string]int64{}
	for i, mm := range man.members {
		if mm.kind == "file" {
			h := sha256.Sum256(members[i].data)
			if "files/"+hex.EncodeToString(h[:]) != mm.name {
				return fail(-1, "member %s: its content does not hash to its name (§8 rule 6)", mm.name)
			}
			files[hex.EncodeToString(h[:])] = int64(len(members[i].data))
		}
	}
	named := map[string]bool{}
	for seq, st := range w.steps {
		for _, f := range st.files {
			named[f.sha256] = true
			size, present := files[f.sha256]
			if !present {
				return fail(int64(seq), "member records: record %d: file %s (%s) is not in the archive (§8 rule 6)", seq, f.sha256, f.name)
			}
			if size != f.size {
				return fail(int64(seq), "member files/%s: record %d: %d bytes, the step records %d (§8 rule 6)", f.sha256, seq, size, f.size)
			}
		}
	}
	// "no file member is one no step names".
	for _, mm := range man.members {
		if mm.kind == "file" && !named[mm.sha256] {
			return fail(-1, "member %s: no step names this file (§8 rule 6)", mm.name)
		}
	}
	return ok
}

// readManifest reads manifest.json strictly (§5.4 rules 1–4) with the form
// of §8: the fields, the member names and kinds, their order, and at least
// one checkpoint of the full size.
func readManifest(data []byte) (*manifest, error) {
	v, err := parseStrict(data)
	if err != nil {
		return nil, err
	}
	// §5.4 rule 3: no string, array or object anywhere is empty.
	if err := noEmpty(v, "manifest"); err != nil {
		return nil, err
	}
	if err := checkNames(v, "the manifest", secA, []string{"format", "origin", "size", "root", "members"}, nil); err != nil {
		return nil, err
	}
	m := &manifest{}
	if f := v.get("format"); f.kind != jString || f.str != "cairn.archive/v1" {
		return nil, fmt.Errorf("%s: format is not cairn.archive/v1", secA)
	}
	if o := v.get("origin"); o.kind != jString || !originRE.MatchString(o.str) {
		return nil, fmt.Errorf("%s: origin is not a ledger origin (§3)", secA)
	} else {
		m.origin = o.str
	}
	if m.size, err = wantUint(v.get("size"), "size", secA); err != nil {
		return nil, err
	}
	if r := v.get("root"); r.kind != jString {
		return nil, fmt.Errorf("%s: root must be a string", secA)
	} else if m.root, err = strictBase64(r.str); err != nil || len(m.root) != 32 {
		return nil, fmt.Errorf("%s: root is not base64 of 32 bytes", secA)
	}
	els, err := wantArray(v.get("members"), "members", secA)
	if err != nil {
		return nil, err
	}
	for i, el := range els {
		mm, err := readManifestMember(el, fmt.Sprintf("members[%d]", i))
		if err != nil {
			return nil, err
		}
		m.members = append(m.members, mm)
	}
	return m, nil
}

func readManifestMember(el *jvalue, where string) (manifestMember, error) {
	mm := manifestMember{treeSize: -1}
	if el.kind != jObject || el.get("kind") == nil || el.get("kind").kind != jString {
		return mm, fmt.Errorf("%s: %s is not an object with a kind", secA, where)
	}
	mm.kind = el.get("kind").str
	required := []string{"name", "kind", "bytes", "sha256"}
	switch mm.kind {
	case "records", "file":
	case "checkpoint", "timestamp":
		required = append(required, "tree_size")
	case "cosignature":
		required = append(required, "tree_size", "witness")
	default:
		return mm, fmt.Errorf("%s: %s has the unknown kind %q", secA, where, mm.kind)
	}
	// tree_size "is only on checkpoints, timestamps and cosignatures", and
	// witness only on cosignatures: elsewhere they are unknown fields.
	if err := checkNames(el, where, secA, required, nil); err != nil {
		return mm, err
	}
	var err error
	if mm.name, err = wantString(el.get("name"), where+".name", secA, 1<<20); err != nil {
		return mm, err
	}
	if mm.bytes, err = wantUint(el.get("bytes"), where+".bytes", secA); err != nil {
		return mm, err
	}
	if mm.sha256, err = wantString(el.get("sha256"), where+".sha256", secA, 64); err != nil || !isLowerHex(mm.sha256, 64) {
		return mm, fmt.Errorf("%s: %s.sha256 is not 64 lowercase hex digits", secA, where)
	}
	if t := el.get("tree_size"); t != nil {
		if mm.treeSize, err = wantUint(t, where+".tree_size", secA); err != nil {
			return mm, err
		}
	}
	if wv := el.get("witness"); wv != nil {
		if mm.witness, err = wantString(wv, where+".witness", secA, 1<<20); err != nil {
			return mm, err
		}
		if !validWitnessName(mm.witness) {
			return mm, fmt.Errorf("%s: %s.witness %q is not a witness name (§3.2)", secA, where, mm.witness)
		}
	}
	// The name fits the kind (§8's table) and says the same size.
	var re *regexp.Regexp
	switch mm.kind {
	case "records":
		if mm.name != "records" {
			return mm, fmt.Errorf("%s: %s: a records member named %q", secA, where, mm.name)
		}
		return mm, nil
	case "checkpoint":
		re = reCheckpoint
	case "timestamp":
		re = reTimestamp
	case "cosignature":
		re = reCosignature
	case "file":
		if sm := reFile.FindStringSubmatch(mm.name); sm == nil || sm[1] != mm.sha256 {
			return mm, fmt.Errorf("%s: %s: file member %q is not named files/<its sha256>", secA, where, mm.name)
		}
		return mm, nil
	}
	sm := re.FindStringSubmatch(mm.name)
	if sm == nil {
		return mm, fmt.Errorf("%s: %s: %q is not the name of a %s member", secA, where, mm.name, mm.kind)
	}
	if n, _ := strconv.ParseInt(sm[1], 10, 64); n != mm.treeSize {
		return mm, fmt.Errorf("%s: %s: name %q does not match tree_size %d", secA, where, mm.name, mm.treeSize)
	}
	return mm, nil
}

// checkMemberOrder is §8 rule 2's order: "records; the checkpoints by
// ascending size; the timestamps by ascending size; the cosignatures by
// ascending size, those of one size numbered 0, 1, … in the order they
// appear, one per witness; the files by ascending SHA-256" — with every
// timestamp and cosignature of the size of a checkpoint ("a timestamp or
// cosignature follows the checkpoint of its size"), no name twice, and at
// least one checkpoint of size `size`.
func checkMemberOrder(m *manifest) error {
	if len(m.members) == 0 || m.members[0].kind != "records" {
		return fmt.Errorf("%s: the first member listed is not records", secA)
	}
	group := map[string]int{"records": 0, "checkpoint": 1, "timestamp": 2, "cosignature": 3, "file": 4}
	lastGroup := 0
	lastSize := int64(-1) // within the current group
	haveCP := map[int64]bool{}
	cosN := map[int64]int{}
	cosW := map[int64]map[string]bool{}
	lastFile := ""
	full := false
	for i, mm := range m.members[1:] {
		where := fmt.Sprintf("members[%d] (%s)", i+1, mm.name)
		g := group[mm.kind]
		if mm.kind == "records" {
			return fmt.Errorf("%s: %s: a second records member", secA, where)
		}
		if g < lastGroup {
			return fmt.Errorf("%s: %s: a %s member after the %s members (order: records, checkpoints, timestamps, cosignatures, files)", secA, where, mm.kind, kindOfGroup(lastGroup))
		}
		if g != lastGroup {
			lastGroup, lastSize = g, -1
		}
		switch mm.kind {
		case "checkpoint":
			if mm.treeSize <= lastSize {
				return fmt.Errorf("%s: %s: checkpoints are not in ascending size", secA, where)
			}
			lastSize = mm.treeSize
			haveCP[mm.treeSize] = true
			full = full || mm.treeSize == m.size
		case "timestamp":
			if mm.treeSize <= lastSize {
				return fmt.Errorf("%s: %s: timestamps are not in ascending size, or one size has two", secA, where)
			}
			lastSize = mm.treeSize
			if !haveCP[mm.treeSize] {
				return fmt.Errorf("%s: %s: no checkpoint of its size comes before it", secA, where)
			}
		case "cosignature":
			if mm.treeSize < lastSize {
				return fmt.Errorf("%s: %s: cosignatures are not in ascending size", secA, where)
			}
			lastSize = mm.treeSize
			sm := reCosignature.FindStringSubmatch(mm.name)
			if !haveCP[mm.treeSize] {
				return fmt.Errorf("%s: %s: no checkpoint of its size comes before it", secA, where)
			}
			if sm[2] != strconv.Itoa(cosN[mm.treeSize]) {
				return fmt.Errorf("%s: %s: the cosignatures of size %d are not numbered 0, 1, … in order", secA, where, mm.treeSize)
			}
			cosN[mm.treeSize]++
			if cosW[mm.treeSize] == nil {
				cosW[mm.treeSize] = map[string]bool{}
			}
			if cosW[mm.treeSize][mm.witness] {
				return fmt.Errorf("%s: %s: a second cosignature of witness %s for that size (one per witness)", secA, where, mm.witness)
			}
			cosW[mm.treeSize][mm.witness] = true
		case "file":
			if mm.name <= lastFile {
				return fmt.Errorf("%s: %s: files are not in ascending hash order, or one appears twice", secA, where)
			}
			lastFile = mm.name
		}
	}
	if !full {
		return fmt.Errorf("%s: no checkpoint has tree_size equal to size %d", secA, m.size)
	}
	return nil
}

func kindOfGroup(g int) string {
	return [...]string{"records", "checkpoint", "timestamp", "cosignature", "file"}[g]
}
