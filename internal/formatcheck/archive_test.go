package formatcheck

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestGenuineArchive(t *testing.T) {
	t.Parallel()
	fx := getFixture(t)
	wantOK(t, Archive(fx.tar))
	if ok, out := fx.cairnArchive(t, fx.tar); !ok {
		t.Fatalf("cairn refuses its own archive:\n%s", out)
	}
	// The archive holds every kind of member.
	kinds := map[string]bool{}
	for _, m := range fx.members {
		kinds[strings.SplitN(m.Name, "/", 2)[0]] = true
	}
	for _, k := range []string{"manifest.json", "records", "checkpoints", "timestamps", "cosignatures", "files"} {
		if !kinds[k] {
			t.Errorf("the fixture archive has no %s member", k)
		}
	}
	// The records member is the ledger, and its checkpoints verify for it.
	var recs []byte
	for _, m := range fx.members {
		if m.Name == "records" {
			recs = m.Data
		}
	}
	if !bytes.Equal(recs, bytes.Join(fx.entries, nil)) {
		t.Error("the archive's records are not what cairn log --raw prints")
	}
	// An archive rebuilt by the test writer from the same members is
	// accepted by both (it validates the writer the other cases use).
	r := Root(fx.entries)
	re := writeArchive(t, fx.origin, len(fx.entries), r[:], fx.archiveFiles(nil), nil)
	wantOK(t, Archive(re))
	if ok, out := fx.cairnArchive(t, re); !ok {
		t.Fatalf("cairn refuses the rebuilt archive:\n%s", out)
	}
}

type archiveCase struct {
	name     string
	tar      []byte
	ok       bool
	seq      int64
	fragment string
}

func TestTamperedArchive(t *testing.T) {
	t.Parallel()
	fx := getFixture(t)
	root := Root(fx.entries)
	n := len(fx.entries)
	files := func() []archiveFile { return fx.archiveFiles(nil) }
	build := func(fs []archiveFile, edit func(map[string]any)) []byte {
		return writeArchive(t, fx.origin, n, root[:], fs, edit)
	}
	with := func(f func([]archiveFile) []archiveFile) []byte { return build(f(files()), nil) }
	at := func(fs []archiveFile, prefix string) int {
		for i, f := range fs {
			if strings.HasPrefix(f.Name, prefix) {
				return i
			}
		}
		t.Fatalf("no member %s", prefix)
		return -1
	}
	members := func(edit func([]any)) func(map[string]any) {
		return func(m map[string]any) { edit(m["members"].([]any)) }
	}
	genuine := fx.tar
	// Find where the first member after the manifest starts, to patch raw bytes.
	lastI := n - 1
	last := fx.entries[lastI]
	lastPayload := string(payloadOf(last))
	reEntries := func(payload string) [][]byte {
		return replace(fx.entries, lastI, fx.resign(t, last, []byte(payload)))
	}
	withEntries := func(es [][]byte) []byte {
		fs := fx.archiveFiles(es)
		// Fresh checkpoint of all records; drop the attestations of the
		// old full-size checkpoint, which no longer matches.
		var out []archiveFile
		for _, f := range fs {
			if strings.Contains(f.Name, fmt.Sprintf("%020d", n)) {
				continue
			}
			out = append(out, f)
		}
		out = insertCheckpoint(out, n, signCheckpoint(fx.origin, es, n, fx.currentKey()))
		r := Root(es)
		return writeArchive(t, fx.origin, len(es), r[:], out, nil)
	}
	fileRef := ""
	for _, m := range fx.members {
		if strings.HasPrefix(m.Name, "files/") {
			fileRef = m.Name
		}
	}
	cases := []archiveCase{
		{name: "genuine", tar: genuine, ok: true},
		{name: "member mode 0644", tar: with(func(fs []archiveFile) []archiveFile { fs[1].Mode = 0o644; return fs }), seq: -1, fragment: "mode 0644"},
		{name: "manifest mode 0644", tar: patchManifestMode(t, genuine), seq: -1, fragment: "manifest.json: mode 0644"},
		{name: "user name root", tar: with(func(fs []archiveFile) []archiveFile { fs[0].User = "root"; return fs }), seq: -1, fragment: "user name"},
		{name: "data after the end", tar: append(append([]byte{}, genuine...), 'x'), seq: -1, fragment: "follow the two zero blocks"},
		{name: "a zero block after the end", tar: append(append([]byte{}, genuine...), make([]byte, 512)...), seq: -1, fragment: "follow the two zero blocks"},
		{name: "padded to a 10240-byte record", tar: padRecord(genuine), seq: -1, fragment: "follow the two zero blocks"},
		{name: "end blocks missing", tar: genuine[:len(genuine)-1024], seq: -1, fragment: "truncated"},
		{name: "truncated inside a member", tar: genuine[:len(genuine)/2], seq: -1, fragment: "member"},
		{name: "member data byte flipped", tar: flipMember(t, genuine, fileRef), seq: -1, fragment: "SHA-256"},
		{name: "header checksum broken", tar: flipHeader(t, genuine, fileRef), seq: -1, fragment: "bad tar header"},
		{name: "extra member", tar: with(func(fs []archiveFile) []archiveFile {
			return append(fs, archiveFile{Name: "notes.txt", Data: []byte("hi")})
		}), seq: -1, fragment: "members[", ok: false},
		{name: "extra member not in the manifest", tar: build(append(files(), archiveFile{Name: "files/" + strings.Repeat("f", 64), Data: []byte("x")}), func(m map[string]any) {
			ms := m["members"].([]any)
			m["members"] = ms[:len(ms)-1]
		}), seq: -1, fragment: "not listed in the manifest"},
		{name: "member missing (truncated)", tar: build(files()[:len(files())-1], func(m map[string]any) {
			h := sha256.Sum256(fx.members[len(fx.members)-1].Data)
			ms := m["members"].([]any)
			m["members"] = append(ms, map[string]any{"name": fx.members[len(fx.members)-1].Name, "kind": "file", "bytes": len(fx.members[len(fx.members)-1].Data), "sha256": fmt.Sprintf("%x", h)})
		}), seq: -1, fragment: "missing"},
		{name: "members reordered", tar: with(func(fs []archiveFile) []archiveFile {
			i := at(fs, "files/")
			fs[i], fs[i+1] = fs[i+1], fs[i]
			return fs
		}), seq: -1, fragment: "ascending hash"},
		{name: "tar order differs from the manifest", tar: swapTarOnly(t, fx), seq: -1, fragment: "§8 rule 2"},
		{name: "a symlink member", tar: with(func(fs []archiveFile) []archiveFile {
			h := sha256.Sum256(nil)
			return insertFile(fs, archiveFile{Name: fmt.Sprintf("files/%x", h), Type: tar.TypeSymlink})
		}), seq: -1, fragment: "not a regular file"},
		{name: "manifest unknown field", tar: build(files(), func(m map[string]any) { m["comment"] = "hi" }), seq: -1, fragment: "§5.4 rule 2"},
		{name: "manifest member unknown field", tar: build(files(), members(func(l []any) { l[0].(map[string]any)["mode"] = 444 })), seq: -1, fragment: "§5.4 rule 2"},
		{name: "manifest tree_size on records", tar: build(files(), members(func(l []any) { l[0].(map[string]any)["tree_size"] = n })), seq: -1, fragment: "§5.4 rule 2"},
		{name: "manifest wrong format", tar: build(files(), func(m map[string]any) { m["format"] = "cairn.archive/v2" }), seq: -1, fragment: "format"},
		{name: "manifest wrong root", tar: build(files(), func(m map[string]any) { m["root"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" }), seq: -1, fragment: "§8 rule 3"},
		{name: "manifest wrong size", tar: build(files(), func(m map[string]any) { m["size"] = n - 1 }), seq: -1, fragment: "§8"},
		{name: "manifest wrong sha256", tar: build(files(), members(func(l []any) { l[1].(map[string]any)["sha256"] = strings.Repeat("0", 64) })), seq: -1, fragment: "SHA-256"},
		{name: "manifest wrong tree_size", tar: build(files(), members(func(l []any) {
			for _, x := range l {
				if x.(map[string]any)["kind"] == "checkpoint" {
					x.(map[string]any)["tree_size"] = 1
					return
				}
			}
		})), seq: -1, fragment: "tree_size"},
		{name: "no checkpoint of the full size", tar: with(func(fs []archiveFile) []archiveFile {
			var out []archiveFile
			for _, f := range fs {
				if !strings.Contains(f.Name, fmt.Sprintf("%020d", n)) {
					out = append(out, f)
				}
			}
			return out
		}), seq: -1, fragment: "no checkpoint has tree_size"},
		{name: "file missing", tar: with(func(fs []archiveFile) []archiveFile {
			i := at(fs, "files/")
			return append(fs[:i], fs[i+1:]...)
		}), seq: anySeq, fragment: "§8 rule 6"},
		{name: "a file no step names (unnamed)", tar: with(func(fs []archiveFile) []archiveFile {
			d := []byte("unreferenced")
			h := sha256.Sum256(d)
			return insertFile(fs, archiveFile{Name: fmt.Sprintf("files/%x", h), Data: d})
		}), seq: -1, fragment: "no step names this file"},
		{name: "file content not its name", tar: with(func(fs []archiveFile) []archiveFile {
			i := at(fs, "files/")
			fs[i].Data = append([]byte{}, fs[i].Data...)
			fs[i].Data[0] ^= 1
			return fs
		}), seq: -1, fragment: "files/<its sha256>"},
		{name: "cosigned note with another body", tar: with(func(fs []archiveFile) []archiveFile {
			i := at(fs, "cosignatures/")
			fs[i].Data = append(append([]byte{}, fs[i].Data[:20]...), append([]byte("X"), fs[i].Data[21:]...)...)
			return fs
		}), seq: -1, fragment: "§8"},
		{name: "timestamp token of another checkpoint", tar: with(func(fs []archiveFile) []archiveFile {
			i := at(fs, "timestamps/")
			fs[i].Data, fs[i+1].Data = fs[i+1].Data, fs[i].Data
			return fs
		}), seq: -1, fragment: "§3.1 rule 6"},
		{name: "timestamp earlier than the records it covers", tar: with(func(fs []archiveFile) []archiveFile {
			i := at(fs, "timestamps/")
			var size int
			fmt.Sscanf(strings.TrimPrefix(fs[i].Name, "timestamps/"), "%020d", &size)
			note := fs[at(fs, fmt.Sprintf("checkpoints/%020d", size))].Data
			e, _ := parseEntry(fx.entries[size-1])
			imprint := sha256.Sum256(note)
			fs[i].Data = fx.tsa.Token(imprint[:], nil, time.Unix(0, e.time).Add(-time.Hour))
			return fs
		}), seq: -1, fragment: "§3.1 rule 8"},
		{name: "cosigned note without the ledger's signature line", tar: with(func(fs []archiveFile) []archiveFile {
			i := at(fs, "cosignatures/")
			lines := strings.Split(strings.TrimSuffix(string(fs[i].Data), "\n"), "\n")
			var keep []string
			for _, l := range lines {
				if !strings.HasPrefix(l, "— "+fx.origin+" ") {
					keep = append(keep, l)
				}
			}
			fs[i].Data = []byte(strings.Join(keep, "\n") + "\n")
			return fs
		}), ok: true},
		{name: "a pax header with a comment", tar: paxComment(t, fx), ok: true},
		{name: "timestamp token garbage", tar: with(func(fs []archiveFile) []archiveFile {
			i := at(fs, "timestamps/")
			fs[i].Data = []byte("garbage")
			return fs
		}), seq: -1, fragment: "§3.1"},
		{name: "checkpoint of a wrong root", tar: with(func(fs []archiveFile) []archiveFile {
			i := at(fs, "checkpoints/")
			cp, _ := parseCheckpoint(fs[i].Data)
			fs[i].Data = resignCP(fx.origin, fmt.Sprint(cp.size), rootB64(fx.entries[:cp.size+1]), fx.oldKey())
			return dropAttestations(fs, int(cp.size))
		}), seq: -1, fragment: "root is not MTH"},
		{name: "checkpoint signed by a key retired before its last record", tar: with(func(fs []archiveFile) []archiveFile {
			i := at(fs, fmt.Sprintf("checkpoints/%020d", n))
			fs[i].Data = signCheckpoint(fx.origin, fx.entries, n, fx.oldKey())
			return dropAttestations(fs, n)
		}), seq: -1, fragment: "may not sign"},
		{name: "record payload flipped", tar: withEntries(replace(fx.entries, lastI, flip(last, 100))), seq: int64(lastI), fragment: "§1.4 rule 5"},
		{name: "record with a case-changed field", tar: withEntries(reEntries(strings.Replace(lastPayload, `"text"`, `"TEXT"`, 1))), seq: int64(lastI), fragment: "§5.4 rule 2"},
		{name: "record naming a file with another size than an earlier record", tar: withEntries(wrongSize(t, fx, `"kind":"final"`)), seq: int64(lastIndex(fx.entries, `"kind":"final"`)), fragment: "one SHA-256 is one file"},
		{name: "record naming a file with a wrong size", tar: withEntries(wrongSize(t, fx, `"kind":"sketch"`)), seq: int64(lastIndex(fx.entries, `"kind":"sketch"`)), fragment: "§8 rule 6"},
		{name: "records member with trailing bytes", tar: withRecords(t, fx, append(bytes.Join(fx.entries, nil), 1, 2, 3)), seq: int64(n), fragment: "record"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			v := Archive(c.tar)
			if c.ok {
				wantOK(t, v)
			} else {
				wantFail(t, v, c.seq, c.fragment)
			}
			ok, out := fx.cairnArchive(t, c.tar)
			compare(t, "archive "+c.name, v, ok, out)
		})
	}
}

// insertCheckpoint puts a checkpoint member in its place (§8's order:
// records, checkpoints ascending, then the rest).
func insertCheckpoint(fs []archiveFile, size int, note []byte) []archiveFile {
	name := fmt.Sprintf("checkpoints/%020d.note", size)
	var out []archiveFile
	done := false
	for _, f := range fs {
		if !done && f.Name != "records" && (!strings.HasPrefix(f.Name, "checkpoints/") || f.Name > name) {
			out = append(out, archiveFile{Name: name, Data: note})
			done = true
		}
		out = append(out, f)
	}
	if !done {
		out = append(out, archiveFile{Name: name, Data: note})
	}
	return out
}

func insertFile(fs []archiveFile, f archiveFile) []archiveFile {
	var out []archiveFile
	done := false
	for _, x := range fs {
		if !done && strings.HasPrefix(x.Name, "files/") && x.Name > f.Name {
			out = append(out, f)
			done = true
		}
		out = append(out, x)
	}
	if !done {
		out = append(out, f)
	}
	return out
}

// dropAttestations removes the timestamp and cosignatures of a size, whose
// checkpoint a case replaced.
func dropAttestations(fs []archiveFile, size int) []archiveFile {
	tag := fmt.Sprintf("%020d", size)
	var out []archiveFile
	for _, f := range fs {
		if (strings.HasPrefix(f.Name, "timestamps/") || strings.HasPrefix(f.Name, "cosignatures/")) && strings.Contains(f.Name, tag) {
			continue
		}
		out = append(out, f)
	}
	return out
}

func withRecords(t testing.TB, fx *fixture, recs []byte) []byte {
	fs := fx.archiveFiles(nil)
	for i := range fs {
		if fs[i].Name == "records" {
			fs[i].Data = recs
		}
	}
	r := Root(fx.entries)
	return writeArchive(t, fx.origin, len(fx.entries), r[:], fs, nil)
}

// wrongSize re-signs the last step containing marker with its file's size
// off by one, and re-chains the records after it.
func wrongSize(t testing.TB, fx *fixture, marker string) [][]byte {
	i := lastIndex(fx.entries, marker)
	p := string(payloadOf(fx.entries[i]))
	var st map[string]any
	json.Unmarshal([]byte(p), &st)
	size := st["file"].(map[string]any)["size"].(float64)
	p = strings.Replace(p, fmt.Sprintf(`"size":%d`, int(size)), fmt.Sprintf(`"size":%d`, int(size)+1), 1)
	out := append([][]byte{}, fx.entries[:i]...)
	out = append(out, fx.resign(t, fx.entries[i], []byte(p)))
	// Keep the remaining records by re-chaining them (each re-signed).
	for j := i + 1; j < len(fx.entries); j++ {
		e, _ := parseEntry(fx.entries[j])
		prev, _ := parseEntry(out[len(out)-1])
		out = append(out, signEntry(fx.origin, e.seq, e.time, prev.link(), fx.keys[string(e.key)], e.payload))
	}
	return out
}

// patchManifestMode sets the manifest's tar mode to 0644 in place, fixing
// the header checksum.
func patchManifestMode(t testing.TB, b []byte) []byte {
	out := append([]byte{}, b...)
	copy(out[100:108], "0000644\x00")
	fixChecksum(out[:512])
	return out
}

func fixChecksum(h []byte) {
	copy(h[148:156], "        ")
	sum := 0
	for _, c := range h {
		sum += int(c)
	}
	copy(h[148:156], fmt.Sprintf("%06o\x00 ", sum))
}

// memberOffset finds a member's header in a tar.
func memberOffset(t testing.TB, b []byte, name string) int {
	for pos := 0; pos+512 <= len(b); {
		h := b[pos : pos+512]
		if isZero(h) {
			break
		}
		hn := cstr(h[0:100])
		size, _ := octal(h[124:136])
		if hn == name {
			return pos
		}
		pos += 512 + int((size+511)/512*512)
	}
	t.Fatalf("no member %s", name)
	return 0
}

func flipMember(t testing.TB, b []byte, name string) []byte {
	out := append([]byte{}, b...)
	out[memberOffset(t, b, name)+512] ^= 1
	return out
}

func flipHeader(t testing.TB, b []byte, name string) []byte {
	out := append([]byte{}, b...)
	out[memberOffset(t, b, name)+300] ^= 1 // inside the header, not a checked field
	return out
}

func padRecord(b []byte) []byte {
	n := (len(b) + 10239) / 10240 * 10240
	if n == len(b) {
		n += 10240
	}
	return append(append([]byte{}, b...), make([]byte, n-len(b))...)
}

// swapTarOnly swaps two file members in the tar but not in the manifest.
func swapTarOnly(t testing.TB, fx *fixture) []byte {
	fs := fx.archiveFiles(nil)
	r := Root(fx.entries)
	good := writeArchive(t, fx.origin, len(fx.entries), r[:], fs, nil)
	man := tarMembers(t, good)[0].Data
	i := 0
	for i = range fs {
		if strings.HasPrefix(fs[i].Name, "files/") {
			break
		}
	}
	fs[i], fs[i+1] = fs[i+1], fs[i]
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range append([]archiveFile{{Name: "manifest.json", Data: man}}, fs...) {
		tw.WriteHeader(&tar.Header{Name: f.Name, Size: int64(len(f.Data)), Mode: 0o444, Uname: "cairn", Typeflag: tar.TypeReg})
		tw.Write(f.Data)
	}
	tw.Close()
	return buf.Bytes()
}

// paxComment rebuilds the archive with a pax extended header (a comment
// record) before every member: still "pax interchange format" (§8).
func paxComment(t testing.TB, fx *fixture) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range fx.members {
		tw.WriteHeader(&tar.Header{Name: m.Name, Size: int64(len(m.Data)), Mode: 0o444, Uname: "cairn", Gname: "cairn",
			Typeflag: tar.TypeReg, Format: tar.FormatPAX, PAXRecords: map[string]string{"comment": "hello"}})
		tw.Write(m.Data)
	}
	tw.Close()
	return buf.Bytes()
}
