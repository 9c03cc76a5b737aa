package formatcheck

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"filippo.io/edwards25519"
)

func TestGenuineLedger(t *testing.T) {
	t.Parallel()
	fx := getFixture(t)
	wantOK(t, Ledger(fx.origin, fx.entries, fx.cps))
	wantOK(t, Ledger(fx.origin, fx.entries, nil))
	// A genuine prefix is a valid ledger too.
	wantOK(t, Ledger(fx.origin, fx.entries[:3], nil))
	if fx.rotation < 0 {
		t.Fatal("the fixture has no rotation")
	}
	// The root of §2 is the one cairn prints in the archive manifest and
	// the checkpoint it wrote last.
	r := Root(fx.entries)
	cp, err := parseCheckpoint(fx.cps[len(fx.cps)-1])
	if err != nil {
		t.Fatal(err)
	}
	if cp.size == int64(len(fx.entries)) && !bytes.Equal(cp.root, r[:]) {
		t.Errorf("Root differs from the root of cairn's last checkpoint")
	}
	if !strings.Contains(fx.s.must("verify"), "OK") {
		t.Error("cairn verify does not say OK")
	}
}

// ledgerCase is a tampered ledger: what formatcheck must say, and a way to
// ask cairn (through an archive with a fresh checkpoint).
type ledgerCase struct {
	name     string
	entries  [][]byte
	cps      [][]byte
	seq      int64
	fragment string
	ok       bool // the variant is valid
}

func runLedgerCases(t *testing.T, fx *fixture, cases []ledgerCase) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			v := Ledger(fx.origin, c.entries, c.cps)
			if c.ok {
				wantOK(t, v)
			} else {
				wantFail(t, v, c.seq, c.fragment)
			}
			// Ask cairn: the same records in an archive with a checkpoint of
			// all of them signed by the last record's key.
			last, err := parseEntry(c.entries[len(c.entries)-1])
			if err != nil {
				return
			}
			priv, have := fx.keys[string(last.key)]
			if !have {
				priv = fx.currentKey()
			}
			extra := map[int][]byte{}
			for _, n := range c.cps {
				if cp, err := parseCheckpoint(n); err == nil && cp.size != int64(len(c.entries)) {
					extra[int(cp.size)] = n
				}
			}
			ok, out := fx.cairnArchive(t, fx.ledgerArchive(t, c.entries, priv, extra))
			compare(t, "ledger "+c.name, v, ok, out)
		})
	}
}

func replace(entries [][]byte, i int, e []byte) [][]byte {
	out := append([][]byte{}, entries...)
	out[i] = e
	return out
}

func flip(b []byte, i int) []byte {
	out := append([]byte{}, b...)
	out[i] ^= 0x01
	return out
}

// lastIndex returns the index of the last entry whose payload contains s.
func lastIndex(entries [][]byte, s string) int {
	for i := len(entries) - 1; i >= 0; i-- {
		if bytes.Contains(payloadOf(entries[i]), []byte(s)) {
			return i
		}
	}
	return -1
}

func TestTamperedLedger(t *testing.T) {
	t.Parallel()
	fx := getFixture(t)
	es := fx.entries
	n := len(es)
	lastI := n - 1
	last := es[lastI]
	re := func(payload string) [][]byte { return replace(es, lastI, fx.resign(t, last, []byte(payload))) }
	lastPayload := string(payloadOf(last))
	// The last record is a note on asset "other".
	if !strings.Contains(lastPayload, `"kind":"note"`) {
		t.Fatalf("unexpected last record %s", lastPayload)
	}
	sel := lastIndex(es, `"kind":"select"`)
	selPayload := string(payloadOf(es[sel]))
	reAt := func(i int, payload string) [][]byte {
		return replace(es[:i+1], i, fx.resign(t, es[i], []byte(payload)))
	}
	cur, old := fx.currentKey(), fx.oldKey()
	_, fresh, _ := ed25519.GenerateKey(rand.Reader)
	note := `{"v":1,"kind":"note","asset":"poster","by":"human","text":"late"}`

	cases := []ledgerCase{
		{name: "genuine", entries: es, cps: fx.cps, ok: true},
		{name: "payload byte flipped", entries: replace(es, lastI, flip(last, 100)), seq: int64(lastI), fragment: "§1.4 rule 5"},
		{name: "signature byte flipped", entries: replace(es, lastI, flip(last, len(last)-10)), seq: int64(lastI), fragment: "§1.4 rule 5"},
		{name: "chain link byte flipped", entries: replace(es, 5, flip(es[5], 30)), seq: 5, fragment: "§1.4 rule 3"},
		{name: "magic changed", entries: replace(es, 2, flip(es[2], 0)), seq: 2, fragment: "§1.4 rule 1"},
		{name: "entry truncated", entries: replace(es, 2, es[2][:len(es[2])-1]), seq: 2, fragment: "§1.4 rule 1"},
		{name: "entries reordered", entries: replace(replace(es, 3, es[4]), 4, es[3]), seq: 3, fragment: "§1.4 rule 2"},
		{name: "entry removed", entries: append(append([][]byte{}, es[:3]...), es[4:]...), seq: 3, fragment: "§1.4 rule 2"},
		{name: "last entry removed, checkpoint kept", entries: es[:n-1], cps: fx.cps, seq: -1, fragment: "§3"},
		{name: "case-changed field name", entries: re(strings.Replace(lastPayload, `"text"`, `"Text"`, 1)), seq: int64(lastI), fragment: "§5.4 rule 2"},
		{name: "duplicated field", entries: re(strings.Replace(lastPayload, `"by":"human"`, `"by":"human","by":"human"`, 1)), seq: int64(lastI), fragment: "§5.4 rule 2"},
		{name: "duplicated field via escape", entries: re(strings.Replace(lastPayload, `"by":"human"`, `"by":"human","b\u0079":"human"`, 1)), seq: int64(lastI), fragment: "§5.4 rule 2"},
		{name: "invalid UTF-8", entries: re(strings.Replace(lastPayload, "another", "an\xffother", 1)), seq: int64(lastI), fragment: "§5.4 rule 1"},
		{name: "unknown enumeration value", entries: re(strings.Replace(lastPayload, `"by":"human"`, `"by":"robot"`, 1)), seq: int64(lastI), fragment: "§5.1"},
		{name: "by not allowed for the kind", entries: re(strings.Replace(lastPayload, `"by":"human"`, `"by":"ai"`, 1)), seq: int64(lastI), fragment: "§5.1"},
		{name: "null value", entries: re(strings.Replace(lastPayload, `"by":"human"`, `"by":"human","tool":null`, 1)), seq: int64(lastI), fragment: "§5.4 rule 3"},
		{name: "lone surrogate escape", entries: re(strings.Replace(lastPayload, "another", `an\ud800other`, 1)), seq: int64(lastI), fragment: "§5.4 rule 4"},
		{name: "surrogate pair escape", entries: re(strings.Replace(lastPayload, "another", `an\ud83e\udd8aother`, 1)), seq: int64(lastI), fragment: "§5.4 rule 4"},
		{name: "trailing data", entries: re(lastPayload + "x"), seq: int64(lastI), fragment: "§5.4 rule 1"},
		{name: "two JSON values", entries: re(lastPayload + "{}"), seq: int64(lastI), fragment: "§5.4 rule 1"},
		{name: "v is 2", entries: re(strings.Replace(lastPayload, `"v":1`, `"v":2`, 1)), seq: int64(lastI), fragment: "§5.4 rule 3"},
		{name: "v is 1.0", entries: re(strings.Replace(lastPayload, `"v":1`, `"v":1.0`, 1)), seq: int64(lastI), fragment: "§5.4 rule 3"},
		{name: "v is 1e0", entries: re(strings.Replace(lastPayload, `"v":1`, `"v":1e0`, 1)), seq: int64(lastI), fragment: "§5.4 rule 3"},
		{name: "empty optional string", entries: re(`{"v":1,"kind":"prompt","asset":"other","by":"human","text":"t","tool":""}`), seq: int64(lastI), fragment: "§5.4 rule 3"},
		{name: "empty optional object", entries: re(`{"v":1,"kind":"prompt","asset":"other","by":"human","text":"t","params":{}}`), seq: int64(lastI), fragment: "§5.4 rule 3"},
		{name: "empty params name", entries: re(`{"v":1,"kind":"prompt","asset":"other","by":"human","text":"t","params":{"":"x"}}`), seq: int64(lastI), fragment: "empty name"},
		{name: "params value not a string", entries: re(`{"v":1,"kind":"prompt","asset":"other","by":"human","text":"t","params":{"seed":42}}`), seq: int64(lastI), fragment: "§5.4 rule 5"},
		{name: "text only white space", entries: re(`{"v":1,"kind":"note","asset":"other","by":"human","text":" \n\t "}`), seq: int64(lastI), fragment: "white space"},
		{name: "text holds U+0000", entries: re(`{"v":1,"kind":"note","asset":"other","by":"human","text":"a\u0000b"}`), seq: int64(lastI), fragment: "U+0000"},
		{name: "unknown kind", entries: re(`{"v":1,"kind":"delete","asset":"other","by":"human"}`), seq: int64(lastI), fragment: "unknown kind"},
		{name: "unknown field", entries: re(strings.Replace(lastPayload, `"v":1`, `"v":1,"colour":"red"`, 1)), seq: int64(lastI), fragment: "§5.4 rule 2"},
		{name: "field of another kind", entries: re(strings.Replace(lastPayload, `"v":1`, `"v":1,"why":"because"`, 1)), seq: int64(lastI), fragment: "kinds table"},
		{name: "missing by", entries: re(`{"v":1,"kind":"note","asset":"other","text":"t"}`), seq: int64(lastI), fragment: "required"},
		{name: "bad asset ID", entries: re(`{"v":1,"kind":"note","asset":"-other","by":"human","text":"t"}`), seq: int64(lastI), fragment: "asset ID"},
		{name: "bad date", entries: re(`{"v":1,"kind":"disclose","asset":"other","by":"human","date":"2026-02-30"}`), seq: int64(lastI), fragment: "YYYY-MM-DD"},
		{name: "unknown permission", entries: re(`{"v":1,"kind":"input","asset":"other","by":"human","permission":"stolen","file":{"name":"d.png","sha256":"` + strings.Repeat("a", 64) + `","size":1}}`), seq: int64(lastI), fragment: "permission"},
		{name: "uppercase sha256", entries: re(`{"v":1,"kind":"final","asset":"other","by":"human","file":{"name":"d.png","sha256":"` + strings.Repeat("A", 64) + `","size":1}}`), seq: int64(lastI), fragment: "lowercase hex"},
		{name: "negative size", entries: re(`{"v":1,"kind":"final","asset":"other","by":"human","file":{"name":"d.png","sha256":"` + strings.Repeat("a", 64) + `","size":-1}}`), seq: int64(lastI), fragment: "§5.4 rule 3"},
		{name: "generate without tool or captured", entries: re(`{"v":1,"kind":"generate","asset":"other","by":"ai","out":[{"name":"d.png","sha256":"` + strings.Repeat("a", 64) + `","size":1}]}`), seq: int64(lastI), fragment: "tool"},
		{name: "select whose rejected holds the chosen file", entries: reAt(sel, strings.Replace(selPayload, `"rejected":[{"name":"a.png"`, `"rejected":[{"name":"b.png"`, 1)), seq: int64(sel), fragment: "§5.2"},
		{name: "select whose rejected is empty", entries: reAt(sel, selPayload[:strings.Index(selPayload, `"rejected":`)]+`"rejected":[],`+selPayload[strings.Index(selPayload, `"why"`):]), seq: int64(sel), fragment: "§5.4 rule 3"},
		{name: "select with one candidate", entries: reAt(sel, `{"v":1,"kind":"select","asset":"poster","by":"human","file":{"name":"b.png","sha256":"`+strings.Repeat("b", 64)+`","size":1},"from":[{"name":"b.png","sha256":"`+strings.Repeat("b", 64)+`","size":1}],"rejected":[{"name":"a.png","sha256":"`+strings.Repeat("a", 64)+`","size":1}]}`), seq: int64(sel), fragment: "fewer than 2"},
		{name: "asset not created", entries: re(strings.Replace(lastPayload, `"asset":"other"`, `"asset":"nope"`, 1)), seq: int64(lastI), fragment: "§5.5"},
		{name: "asset created twice", entries: re(`{"v":1,"kind":"asset","asset":"poster","by":"human"}`), seq: int64(lastI), fragment: "§5.5"},
		{name: "time earlier than the previous entry", entries: timeShift(fx, es, lastI, -time.Hour), seq: int64(lastI), fragment: "§1.4 rule 4"},
		{name: "equal time is allowed", entries: timeEqual(fx, es, lastI), ok: true},
		{name: "seq not the position (re-signed)", entries: seqShift(fx, es, lastI), seq: int64(lastI), fragment: "§1.4 rule 2"},
		{name: "record signed by a retired key", entries: appendEntry(fx.origin, es, old, []byte(note), time.Second), seq: int64(n), fragment: "retired"},
		{name: "record signed by an unknown key", entries: appendEntry(fx.origin, es, fresh, []byte(note), time.Second), seq: int64(n), fragment: "never introduced"},
		{name: "second rotation by the retired key", entries: appendEntry(fx.origin, es, old, rotatePayload(t, fresh, "Ada Lovelace", "rotate"), time.Second), seq: int64(n), fragment: "not in use"},
		{name: "identity signed by a retired key", entries: appendEntry(fx.origin, es, old, identityPayload(t, old, "Ada Lovelace"), time.Second), seq: int64(n), fragment: "retired"},
		{name: "identity for a key already introduced", entries: appendEntry(fx.origin, es, cur, identityPayload(t, cur, "Ada Lovelace"), time.Second), seq: int64(n), fragment: "already introduced"},
		{name: "identity whose key is not the entry's", entries: appendEntry(fx.origin, es, fresh, identityPayload(t, cur, "Ada Lovelace"), time.Second), seq: int64(n), fragment: "does not equal"},
		{name: "identity whose cert names another name", entries: appendEntry(fx.origin, es, fresh, identityPayloadCN(t, fresh, "Bob", "Robert"), time.Second), seq: int64(n), fragment: "common name"},
		{name: "identity whose cert names another key", entries: appendEntry(fx.origin, es, fresh, identityPayloadCert(fresh.Public().(ed25519.PublicKey), makeCert(t, "Bob", cur.Public().(ed25519.PublicKey)), "Bob"), time.Second), seq: int64(n), fragment: "URI"},
		{name: "a second person's identity, then a note", entries: appendEntry(fx.origin, appendEntry(fx.origin, es, fresh, identityPayload(t, fresh, "Bob"), time.Second), fresh, []byte(note), time.Second), ok: true},
		{name: "rotation to an introduced key", entries: appendEntry(fx.origin, es, cur, rotatePayload(t, old, "Ada Lovelace", "rotate"), time.Second), seq: int64(n), fragment: "already introduced"},
		{name: "rotation to its own key", entries: appendEntry(fx.origin, es, cur, rotatePayload(t, cur, "Ada Lovelace", "rotate"), time.Second), seq: int64(n), fragment: "equals its signer"},
		{name: "rotation with an asset", entries: appendEntry(fx.origin, es, cur, rotateWithAsset(t, fresh), time.Second), seq: int64(n), fragment: "kinds table"},
		{name: "identity with a small-order key", entries: smallOrderIdentity(t, fx, es), seq: int64(n), fragment: "small order"},
		{name: "non-canonical S", entries: replace(es, lastI, nonCanonicalS(last)), seq: int64(lastI), fragment: "group order"},
	}
	runLedgerCases(t, fx, cases)
}

// timeShift re-signs entry i with its time moved by d.
func timeShift(fx *fixture, es [][]byte, i int, d time.Duration) [][]byte {
	e, _ := parseEntry(es[i])
	return replace(es[:i+1], i, signEntry(fx.origin, e.seq, e.time+int64(d), e.prev, fx.keys[string(e.key)], e.payload))
}

func timeEqual(fx *fixture, es [][]byte, i int) [][]byte {
	e, _ := parseEntry(es[i])
	p, _ := parseEntry(es[i-1])
	return replace(es[:i+1], i, signEntry(fx.origin, e.seq, p.time, e.prev, fx.keys[string(e.key)], e.payload))
}

func seqShift(fx *fixture, es [][]byte, i int) [][]byte {
	e, _ := parseEntry(es[i])
	return replace(es[:i+1], i, signEntry(fx.origin, e.seq+1, e.time, e.prev, fx.keys[string(e.key)], e.payload))
}

// nonCanonicalS adds L to S: the same signature for a verifier that reduces
// S, refused by §1.3 rule 1.
func nonCanonicalS(raw []byte) []byte {
	out := append([]byte{}, raw...)
	sig := out[len(out)-64:]
	// L in little-endian.
	L := []byte{0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10}
	carry := 0
	for i := 0; i < 32; i++ {
		s := int(sig[32+i]) + int(L[i]) + carry
		sig[32+i] = byte(s)
		carry = s >> 8
	}
	return out
}

// smallOrderIdentity appends an identity record whose key is the identity
// point (small order). Its signature verifies under the cofactorless
// equation for any message (R = [S]B), so only §1.3 rule 2 / §5.3 refuse it.
func smallOrderIdentity(t *testing.T, fx *fixture, es [][]byte) [][]byte {
	A := edwards25519.NewIdentityPoint().Bytes()
	payload := identityPayloadFor(t, nil, A, "Mallory")
	prev, _ := parseEntry(es[len(es)-1])
	var body bytes.Buffer
	body.WriteString(entryMagic)
	var hdr [16]byte
	putU64(hdr[:8], prev.seq+1)
	putU64(hdr[8:], uint64(prev.time+1))
	body.Write(hdr[:])
	body.Write(prev.link())
	body.Write(A)
	var n [4]byte
	n[0], n[1], n[2], n[3] = byte(len(payload)>>24), byte(len(payload)>>16), byte(len(payload)>>8), byte(len(payload))
	body.Write(n[:])
	body.Write(payload)
	var sb [64]byte
	rand.Read(sb[:])
	s, _ := new(edwards25519.Scalar).SetUniformBytes(sb[:])
	R := new(edwards25519.Point).ScalarBaseMult(s)
	sig := append(R.Bytes(), s.Bytes()...)
	// The pinned rule refuses it; Go's crypto/ed25519.Verify accepts it.
	msg := append([]byte(recordSigLabel+fx.origin+"\n"), body.Bytes()...)
	if !ed25519.Verify(A, msg, sig) {
		t.Fatal("small-order signature does not verify with crypto/ed25519")
	}
	return append(append([][]byte{}, es...), append(body.Bytes(), sig...))
}

func putU64(b []byte, v uint64) {
	for i := 7; i >= 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
}

func identityPayload(t *testing.T, k ed25519.PrivateKey, name string) []byte {
	return identityPayloadFor(t, k, k.Public().(ed25519.PublicKey), name)
}

func identityPayloadCN(t *testing.T, k ed25519.PrivateKey, name, cn string) []byte {
	pub := k.Public().(ed25519.PublicKey)
	cert := makeCert(t, cn, pub)
	return []byte(fmt.Sprintf(`{"v":1,"kind":"identity","name":%q,"key":%q,"cert":%q}`, name,
		base64.StdEncoding.EncodeToString(pub), base64.StdEncoding.EncodeToString(cert)))
}

func identityPayloadFor(t *testing.T, _ ed25519.PrivateKey, pub []byte, name string) []byte {
	cert := makeCert(t, name, pub)
	return []byte(fmt.Sprintf(`{"v":1,"kind":"identity","name":%q,"key":%q,"cert":%q}`, name,
		base64.StdEncoding.EncodeToString(pub), base64.StdEncoding.EncodeToString(cert)))
}

func identityPayloadCert(pub, cert []byte, name string) []byte {
	return []byte(fmt.Sprintf(`{"v":1,"kind":"identity","name":%q,"key":%q,"cert":%q}`, name,
		base64.StdEncoding.EncodeToString(pub), base64.StdEncoding.EncodeToString(cert)))
}

func rotatePayload(t *testing.T, newKey ed25519.PrivateKey, name, kind string) []byte {
	pub := newKey.Public().(ed25519.PublicKey)
	cert := makeCert(t, name, pub)
	return []byte(fmt.Sprintf(`{"v":1,"kind":%q,"name":%q,"key":%q,"cert":%q}`, kind, name,
		base64.StdEncoding.EncodeToString(pub), base64.StdEncoding.EncodeToString(cert)))
}

func rotateWithAsset(t *testing.T, newKey ed25519.PrivateKey) []byte {
	p := rotatePayload(t, newKey, "Ada Lovelace", "rotate")
	return bytes.Replace(p, []byte(`"kind":"rotate"`), []byte(`"kind":"rotate","asset":"poster"`), 1)
}

// TestCheckpointKeys is §5.3's rule on which keys may sign which sizes,
// with checkpoints made by the fixture's own keys.
func TestCheckpointKeys(t *testing.T) {
	t.Parallel()
	fx := getFixture(t)
	es := fx.entries
	r := int(fx.rotation)
	n := len(es)
	old, cur := fx.oldKey(), fx.currentKey()
	type cpCase struct {
		name     string
		note     []byte
		ok       bool
		fragment string
	}
	cases := []cpCase{
		{"old key, before the rotation", signCheckpoint(fx.origin, es, r, old), true, ""},
		{"old key, the rotation as last record", signCheckpoint(fx.origin, es, r+1, old), true, ""},
		{"old key, one record after the rotation", signCheckpoint(fx.origin, es, r+2, old), false, "may not sign"},
		{"old key retired before its last record", signCheckpoint(fx.origin, es, n, old), false, "may not sign"},
		{"new key, covering its own introduction", signCheckpoint(fx.origin, es, r+1, cur), true, ""},
		{"new key, before its introduction", signCheckpoint(fx.origin, es, r, cur), false, "may not sign"},
		{"new key, everything", signCheckpoint(fx.origin, es, n, cur), true, ""},
		{"an unknown key", signCheckpoint(fx.origin, es, n, ed25519.NewKeyFromSeed(make([]byte, 32))), false, "not signed by any key"},
		{"root of another size", resignCP(fx.origin, fmt.Sprintf("%d", n-1), rootB64(es[:n-2]), cur), false, "root is not MTH"},
		{"leading zero in the size", resignCP(fx.origin, fmt.Sprintf("0%d", n), rootB64(es), cur), false, "leading zeros"},
		{"an extension line", resignCPText(fmt.Sprintf("%s\n%d\n%s\nextra\n", fx.origin, n, rootB64(es)), fx.origin, cur), false, "exactly 3"},
		{"size larger than the ledger", resignCP(fx.origin, fmt.Sprintf("%d", n+1), rootB64(es), cur), false, "larger"},
		{"another origin", resignCPAs("cairn.ledger/aaaaaaaaaaaaaaaaaaaa", fmt.Sprintf("%d", n), rootB64(es), cur), false, "origin"},
		{"two ledger lines, one key may not sign", twoLines(fx.origin, es, n, old, cur), true, ""},
		{"a known key's line that does not verify, beside a valid one", badSecondLine(fx.origin, es, n, cur, old), false, "does not verify"},
		{"signature flipped", flip(signCheckpoint(fx.origin, es, n, cur), len(signCheckpoint(fx.origin, es, n, cur))-5), false, "§3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			v := Ledger(fx.origin, es, [][]byte{c.note})
			if c.ok {
				wantOK(t, v)
			} else {
				wantFail(t, v, -1, c.fragment)
			}
			// cairn: the records with a valid full checkpoint, plus this one.
			cp, err := parseCheckpoint(c.note)
			if err != nil || cp.size > int64(n) || cp.size == int64(n) {
				// A note that is not a checkpoint, or one of the full size:
				// make it the archive's only checkpoint of its size.
				files := []archiveFile{{Name: "records", Data: bytes.Join(es, nil)}}
				files = append(files, archiveFile{Name: fmt.Sprintf("checkpoints/%020d.note", n), Data: c.note})
				for _, m := range fx.members {
					if strings.HasPrefix(m.Name, "files/") {
						files = append(files, archiveFile{Name: m.Name, Data: m.Data})
					}
				}
				root := Root(es)
				ok, out := fx.cairnArchive(t, writeArchive(t, fx.origin, n, root[:], files, nil))
				compare(t, "checkpoint "+c.name, v, ok, out)
				return
			}
			ok, out := fx.cairnArchive(t, fx.ledgerArchive(t, es, cur, map[int][]byte{int(cp.size): c.note}))
			compare(t, "checkpoint "+c.name, v, ok, out)
		})
	}
}

func rootB64(es [][]byte) string {
	r := Root(es)
	return base64.StdEncoding.EncodeToString(r[:])
}

func resignCP(origin, size, root string, k ed25519.PrivateKey) []byte {
	return resignCPText(fmt.Sprintf("%s\n%s\n%s\n", origin, size, root), origin, k)
}

func resignCPAs(origin, size, root string, k ed25519.PrivateKey) []byte {
	return resignCP(origin, size, root, k)
}

func resignCPText(text, name string, k ed25519.PrivateKey) []byte {
	pub := k.Public().(ed25519.PublicKey)
	blob := append(noteKeyHash(name, pub), ed25519.Sign(k, []byte(text))...)
	return []byte(text + "\n— " + name + " " + base64.StdEncoding.EncodeToString(blob) + "\n")
}

func TestLedgerOrigin(t *testing.T) {
	t.Parallel()
	wantFail(t, Ledger("cairn.ledger/short", nil, nil), -1, "§3")
	wantFail(t, Ledger("cairn.ledger/AAAAAAAAAAAAAAAAAAAA", nil, nil), -1, "§3")
	wantOK(t, Ledger("cairn.ledger/abcdefghijklmnopqrst", nil, nil))
	// A ledger's records are bound to its origin (§1.3).
	fx := getFixture(t)
	wantFail(t, Ledger("cairn.ledger/abcdefghijklmnopqrst", fx.entries, nil), 0, "§1.4 rule 5")
}

// TestLedgerAmbiguities holds payloads on which FORMAT.md is unclear. The
// expectations are this verifier's reading (see the report); cairn's verdict
// is compared and logged.
func TestLedgerAmbiguities(t *testing.T) {
	t.Parallel()
	fx := getFixture(t)
	es := fx.entries
	lastI := len(es) - 1
	last := es[lastI]
	re := func(payload string) [][]byte { return replace(es, lastI, fx.resign(t, last, []byte(payload))) }
	lastPayload := string(payloadOf(last))
	sel := lastIndex(es, `"kind":"select"`)
	selPayload := string(payloadOf(es[sel]))
	reAt := func(i int, payload string) [][]byte {
		return replace(es[:i+1], i, fx.resign(t, es[i], []byte(payload)))
	}
	_, fresh, _ := ed25519.GenerateKey(rand.Reader)
	freshPub := fresh.Public().(ed25519.PublicKey)
	// A stored file, so that cairn's archive check (§8 rule 6) finds it.
	var h string
	var hsize int
	for _, m := range fx.members {
		if strings.HasPrefix(m.Name, "files/") {
			h, hsize = strings.TrimPrefix(m.Name, "files/"), len(m.Data)
		}
	}
	ref := func(name string) string { return fmt.Sprintf(`{"name":%q,"sha256":%q,"size":%d}`, name, h, hsize) }
	li := int64(lastI)
	cases := []ledgerCase{
		{name: "insignificant white space inside", entries: re(strings.Replace(lastPayload, `,"by"`, ` , "by"`, 1)), ok: true},
		{name: "white space after the object", entries: re(lastPayload + " \n"), ok: true},
		{name: "white space before the object", entries: re(" " + lastPayload), ok: true},
		{name: "escaped member name", entries: re(strings.Replace(lastPayload, `"text"`, `"t\u0065xt"`, 1)), ok: true},
		{name: "HTML characters escaped", entries: re(strings.Replace(lastPayload, "another", `an\u003cother`, 1)), ok: true},
		{name: "escaped solidus", entries: re(strings.Replace(lastPayload, "another", `an\/other`, 1)), ok: true},
		{name: "generate with no outputs", entries: re(`{"v":1,"kind":"generate","asset":"other","by":"ai","tool":"t","out":[]}`), seq: li, fragment: "§5.4 rule 3"},
		{name: "empty required name in a file ref", entries: re(`{"v":1,"kind":"final","asset":"other","by":"human","file":` + ref("") + `}`), ok: true},
		{name: "empty file ref type", entries: re(`{"v":1,"kind":"final","asset":"other","by":"human","file":{"name":"x","sha256":"` + h + `","size":1,"type":""}}`), seq: li, fragment: "§5.4 rule 3"},
		{name: "size beyond 64 bits", entries: re(`{"v":1,"kind":"final","asset":"other","by":"human","file":{"name":"x","sha256":"` + h + `","size":99999999999999999999}}`), seq: li, fragment: "2^63"},
		{name: "empty params value", entries: re(`{"v":1,"kind":"prompt","asset":"other","by":"human","text":"t","params":{"seed":""}}`), ok: true},
		{name: "captured.claimed_time not RFC 3339", entries: re(`{"v":1,"kind":"prompt","asset":"other","by":"human","text":"t","captured":{"from":"x","claimed_time":"yesterday"}}`), seq: li, fragment: "RFC 3339"},
		{name: "captured.from empty", entries: re(`{"v":1,"kind":"prompt","asset":"other","by":"human","text":"t","captured":{"from":""}}`), seq: li, fragment: "§5.4 rule 3"},
		{name: "captured.fields with an empty name", entries: re(`{"v":1,"kind":"prompt","asset":"other","by":"human","text":"t","captured":{"from":"x","fields":{"":"y"}}}`), ok: true},
		{name: "generate with captured and no tool", entries: re(`{"v":1,"kind":"generate","asset":"other","by":"ai","out":[` + ref("x") + `],"captured":{"from":"x"}}`), ok: true},
		{name: "select among two copies of the chosen file", entries: re(`{"v":1,"kind":"select","asset":"other","by":"human","file":` + ref("x") + `,"from":[` + ref("x") + `,` + ref("y") + `],"rejected":[]}`), seq: li, fragment: "§5.4 rule 3"},
		{name: "text only NO-BREAK SPACE", entries: re(`{"v":1,"kind":"note","asset":"other","by":"human","text":"\u00a0"}`), seq: li, fragment: "white space"},
		{name: "text only ZERO WIDTH SPACE", entries: re(`{"v":1,"kind":"note","asset":"other","by":"human","text":"\u200b"}`), ok: true},
		{name: "tool of 4097 bytes", entries: re(`{"v":1,"kind":"prompt","asset":"other","by":"human","text":"t","tool":"` + strings.Repeat("x", 4097) + `"}`), seq: li, fragment: "more than 4096"},
		{name: "text of 262144 bytes", entries: re(`{"v":1,"kind":"note","asset":"other","by":"human","text":"` + strings.Repeat("x", 262144) + `"}`), ok: true},
		{name: "text of 262145 bytes", entries: re(`{"v":1,"kind":"note","asset":"other","by":"human","text":"` + strings.Repeat("x", 262145) + `"}`), seq: li, fragment: "more than 262144"},
		{name: "U+0000 in a params name", entries: re(`{"v":1,"kind":"prompt","asset":"other","by":"human","text":"t","params":{"a\u0000":"x"}}`), seq: li, fragment: "U+0000"},
		{name: "rejected element with the right hash but another name", entries: reAt(sel, strings.Replace(selPayload, `"rejected":[{"name":"a.png"`, `"rejected":[{"name":"z.png"`, 1)), seq: int64(sel), fragment: "§5.2"},
		{name: "chosen file named differently from its candidate", entries: reAt(sel, strings.Replace(selPayload, `"file":{"name":"b.png"`, `"file":{"name":"zz.png"`, 1)), ok: true},
		{name: "asset-set before the asset exists", entries: re(`{"v":1,"kind":"asset-set","asset":"nope","by":"human","title":"x"}`), seq: li, fragment: "§5.5"},
		{name: "identity with an empty name", entries: appendEntry(fx.origin, es, fresh, identityPayload(t, fresh, ""), time.Second), seq: int64(len(es)), fragment: "§5.4 rule 3"},
		{name: "identity cert naming two Ed25519 keys", entries: appendEntry(fx.origin, es, fresh, identityPayloadCert(freshPub, makeCert2(t, "Bob", freshPub, fx.currentKey().Public().(ed25519.PublicKey)), "Bob"), time.Second), seq: int64(len(es)), fragment: "not exactly one"},
		{name: "identity cert with a non-P-256 key", entries: appendEntry(fx.origin, es, fresh, identityPayloadCert(freshPub, makeCertP384(t, "Bob", freshPub), "Bob"), time.Second), seq: int64(len(es)), fragment: "P-256"},
		{name: "size 2^63", entries: re(`{"v":1,"kind":"final","asset":"other","by":"human","file":{"name":"x","sha256":"` + h + `","size":9223372036854775808}}`), seq: li, fragment: "2^63"},
		{name: "record time before 1970", entries: negativeTimeLedger(t, fx), ok: true},
	}
	runLedgerCases(t, fx, cases)
}

// negativeTimeLedger is a one-record ledger whose identity record's time is
// before 1970: "signed 64-bit ... Unix time" (§1) allows it.
func negativeTimeLedger(t *testing.T, fx *fixture) [][]byte {
	e, _ := parseEntry(fx.entries[0])
	return [][]byte{signEntry(fx.origin, 0, -1_000_000_123, make([]byte, 32), fx.oldKey(), e.payload)}
}

// twoLines signs a checkpoint with two keys, one line each.
func twoLines(origin string, es [][]byte, size int, a, b ed25519.PrivateKey) []byte {
	na := signCheckpoint(origin, es, size, a)
	nb := signCheckpoint(origin, es, size, b)
	i := bytes.Index(nb, []byte("\n\n"))
	return append(append([]byte{}, na...), nb[i+2:]...)
}

// badSecondLine is a valid checkpoint by good plus a line claiming key
// other whose signature is garbage.
func badSecondLine(origin string, es [][]byte, size int, good, other ed25519.PrivateKey) []byte {
	n := signCheckpoint(origin, es, size, good)
	blob := append(noteKeyHash(origin, other.Public().(ed25519.PublicKey)), make([]byte, 64)...)
	return append(n, []byte("— "+origin+" "+base64.StdEncoding.EncodeToString(blob)+"\n")...)
}
