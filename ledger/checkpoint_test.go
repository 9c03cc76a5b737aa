package ledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/merkle/testonly"
	"golang.org/x/mod/sumdb/note"
)

func TestCheckpointNote(t *testing.T) {
	l, dir := newTestLedger(t, 11)
	c, err := l.SignCheckpoint(testKey(0))
	if err != nil {
		t.Fatal(err)
	}

	// Open it with golang.org/x/mod/sumdb/note and the published verifier key alone.
	vkey := VerifierKey(testOrigin, testPub(0))
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatalf("note.NewVerifier(%q): %v", vkey, err)
	}
	n, err := note.Open(c.Note, note.VerifierList(v))
	if err != nil {
		t.Fatalf("note.Open: %v\n%s", err, c.Note)
	}
	if len(n.Sigs) != 1 || n.Sigs[0].Name != testOrigin {
		t.Fatalf("note signatures = %+v, want one by %q", n.Sigs, testOrigin)
	}

	// The body is the C2SP tlog-checkpoint: origin, decimal size, base64 root.
	ref := testonly.New(rfc6962.DefaultHasher)
	l.Scan(0, func(r *Record) error { ref.AppendData(r.Entry); return nil })
	want := fmt.Sprintf("%s\n11\n%s\n", testOrigin, base64.StdEncoding.EncodeToString(ref.Hash()))
	if n.Text != want {
		t.Fatalf("checkpoint body:\n%q\nwant\n%q", n.Text, want)
	}
	if c.Body() != want || c.Size != 11 || c.Origin != testOrigin || !bytes.Equal(c.Root[:], ref.Hash()) {
		t.Fatalf("SignCheckpoint returned %+v, want the checkpoint of %q", c, want)
	}

	// The verifier key and the signature's key ID follow C2SP signed-note:
	// name+hex(keyID)+base64(0x01 || key), keyID = SHA-256(name || "\n" || 0x01 || key)[:4].
	h := sha256.Sum256(append([]byte(testOrigin+"\n\x01"), testPub(0)...))
	keyID := binary.BigEndian.Uint32(h[:4])
	wantKey := fmt.Sprintf("%s+%08x+%s", testOrigin, keyID, base64.StdEncoding.EncodeToString(append([]byte{1}, testPub(0)...)))
	if vkey != wantKey {
		t.Errorf("VerifierKey = %q, want %q", vkey, wantKey)
	}
	if n.Sigs[0].Hash != keyID {
		t.Errorf("signature key ID %08x, want %08x", n.Sigs[0].Hash, keyID)
	}
	if NoteVerifier(testOrigin, testPub(0)).KeyHash() != keyID || NoteSigner(testOrigin, testKey(0)).KeyHash() != keyID {
		t.Errorf("NoteVerifier/NoteSigner KeyHash differ from %08x", keyID)
	}

	// OpenCheckpoint accepts it with the right key among others, and nothing else.
	if got, err := OpenCheckpoint(c.Note, testPub(3), testPub(0)); err != nil || got.Root != c.Root || got.Size != 11 {
		t.Errorf("OpenCheckpoint(right key) = %+v, %v", got, err)
	}
	if _, err := OpenCheckpoint(c.Note, testPub(3)); err == nil || !strings.Contains(err.Error(), "not signed by any known key") {
		t.Errorf("OpenCheckpoint(wrong key): %v, want 'not signed by any known key'", err)
	}
	if _, err := OpenCheckpoint(c.Note); err == nil {
		t.Error("OpenCheckpoint(no keys) succeeded")
	}
	tampered := bytes.Replace(c.Note, []byte("\n11\n"), []byte("\n12\n"), 1)
	if _, err := OpenCheckpoint(tampered, testPub(0)); err == nil {
		t.Error("OpenCheckpoint(size changed after signing) succeeded")
	}
	// Signed, but not canonical: an extension line.
	ext, _ := note.Sign(&note.Note{Text: c.Body() + "extension\n"}, NoteSigner(testOrigin, testKey(0)))
	if _, err := OpenCheckpoint(ext, testPub(0)); err == nil {
		t.Error("OpenCheckpoint(signed body with an extension line) succeeded")
	}
	// Signed under another key name.
	other, _ := note.Sign(&note.Note{Text: c.Body()}, NoteSigner("cairn.ledger/other", testKey(0)))
	if _, err := OpenCheckpoint(other, testPub(0)); err == nil {
		t.Error("OpenCheckpoint(signed under another name) succeeded")
	}

	// PutCheckpoint refuses what does not match the ledger.
	wrongRoot := signCheckpointNote(t, &Checkpoint{Origin: testOrigin, Size: 5, Root: c.Root}, testKey(0))
	if err := l.PutCheckpoint(wrongRoot); err == nil {
		t.Error("PutCheckpoint(root of 11 at size 5) succeeded")
	}
	tooBig := signCheckpointNote(t, &Checkpoint{Origin: testOrigin, Size: 12, Root: c.Root}, testKey(0))
	if err := l.PutCheckpoint(tooBig); err == nil {
		t.Error("PutCheckpoint(size 12 on 11 records) succeeded")
	}
	wrongOrigin := signCheckpointNote(t, &Checkpoint{Origin: "cairn.ledger/other", Size: 11, Root: c.Root}, testKey(0))
	if err := l.PutCheckpoint(wrongOrigin); err == nil {
		t.Error("PutCheckpoint(another origin) succeeded")
	}

	// Stored checkpoints survive reopening, oldest first.
	l.Append(testKey(0), []byte("twelve"))
	c12, err := l.SignCheckpoint(testKey(0))
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	l, err = Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	all, err := l.Checkpoints()
	if err != nil || len(all) != 2 || !bytes.Equal(all[0], c.Note) || !bytes.Equal(all[1], c12.Note) {
		t.Fatalf("Checkpoints() after reopen = %q, %v; want the notes at 11 and 12", all, err)
	}
	latest, err := l.LatestCheckpoint()
	if err != nil || !bytes.Equal(latest, c12.Note) {
		t.Fatalf("LatestCheckpoint() = %q, %v; want the note at 12", latest, err)
	}

	empty, _ := newTestLedger(t, 0)
	if _, err := empty.SignCheckpoint(testKey(0)); err == nil {
		t.Error("SignCheckpoint on an empty ledger succeeded")
	}
	if cp, err := empty.LatestCheckpoint(); cp != nil || err != nil {
		t.Errorf("LatestCheckpoint on an empty ledger = %q, %v; want nil, nil", cp, err)
	}
}

func TestParseCheckpoint(t *testing.T) {
	root := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xab}, 32))
	good := testOrigin + "\n42\n" + root + "\n"
	c, err := ParseCheckpoint([]byte(good))
	if err != nil || c.Origin != testOrigin || c.Size != 42 || base64.StdEncoding.EncodeToString(c.Root[:]) != root || c.Body() != good {
		t.Fatalf("ParseCheckpoint(%q) = %+v, %v", good, c, err)
	}
	// With signature lines, the body is what precedes the last blank line.
	signed := good + "\n\u2014 " + testOrigin + " AAAAAA==\n"
	if c, err := ParseCheckpoint([]byte(signed)); err != nil || c.Size != 42 || string(c.Note) != signed {
		t.Fatalf("ParseCheckpoint(signed) = %+v, %v", c, err)
	}
	bad := map[string]string{
		"empty":               "",
		"no final newline":    strings.TrimSuffix(good, "\n"),
		"two lines":           testOrigin + "\n42\n",
		"origin with space":   "cairn ledger\n42\n" + root + "\n",
		"empty origin":        "\n42\n" + root + "\n",
		"negative size":       testOrigin + "\n-42\n" + root + "\n",
		"size with plus":      testOrigin + "\n+42\n" + root + "\n",
		"size leading zero":   testOrigin + "\n042\n" + root + "\n",
		"size hex":            testOrigin + "\n0x2a\n" + root + "\n",
		"size overflow":       testOrigin + "\n9223372036854775808\n" + root + "\n",
		"root short":          testOrigin + "\n42\n" + root[:40] + "\n",
		"root url base64":     testOrigin + "\n42\n" + base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xff}, 32)) + "\n",
		"root unpadded":       testOrigin + "\n42\n" + strings.TrimRight(root, "=") + "\n",
		"root 33 bytes":       testOrigin + "\n42\n" + base64.StdEncoding.EncodeToString(make([]byte, 33)) + "\n",
		"empty extension":     good + "\n\n",
		"too large":           good + strings.Repeat("x", 64<<10) + "\n",
		"size not a number":   testOrigin + "\nforty-two\n" + root + "\n",
		"CRLF":                strings.ReplaceAll(good, "\n", "\r\n"),
		"origin with newline": "a\nb\n42\n" + root + "\n",
	}
	for name, text := range bad {
		if c, err := ParseCheckpoint([]byte(text)); err == nil {
			t.Errorf("ParseCheckpoint(%s: %q) = %+v, want an error", name, text, c)
		}
	}
}
