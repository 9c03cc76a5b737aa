package export

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/export/pdfsign"
	"github.com/cairn-ledger/cairn/internal/testtsa"
	"github.com/cairn-ledger/cairn/ledger/rfc3161"
)

// packBundle returns the evidence.json embedded in a pack.
func packBundle(t *testing.T, pdf []byte) []byte {
	t.Helper()
	sig, err := pdfsign.Verify(pdf)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range sig.Attachments {
		if a.Name == BundleName {
			return a.Data
		}
	}
	t.Fatal("no evidence.json in the pack")
	return nil
}

func findCheck(rep *Report, name string) *Check {
	for i := range rep.Checks {
		if rep.Checks[i].Name == name {
			return &rep.Checks[i]
		}
	}
	return nil
}

func TestPackCarriesTimeWitnessRotation(t *testing.T) {
	f := newTimeFixture(t)
	pdf := f.export(t, Options{})
	rep, err := VerifyPack(pdf)
	if err != nil {
		t.Fatalf("VerifyPack: %v", err)
	}
	if rep.Rotations != 1 || rep.Bundle.Format != BundleFormatV2 {
		t.Errorf("%d rotations in a %s bundle, want 1 in %s", rep.Rotations, rep.Bundle.Format, BundleFormatV2)
	}
	if !rep.SignerKey.Equal(f.id.Public()) {
		t.Errorf("the pack is bound to key %x, want the rotated key", rep.SignerKey)
	}
	if len(rep.Attested) != 2 || rep.Attested[0].Size != f.s1 || rep.Attested[1].Size != f.s2 {
		t.Fatalf("attested checkpoints %+v, want sizes %d and %d", rep.Attested, f.s1, f.s2)
	}
	if a := rep.Attested[0]; !a.Valid || a.Timestamp == nil || a.Timestamp.Checked || len(a.Cosignatures) != 1 || a.Cosignatures[0].Checked || len(a.Proof) == 0 {
		t.Errorf("first checkpoint: %+v; want a valid, unchecked token, one unchecked cosignature and a consistency proof", a)
	}
	if c := findCheck(rep, "timestamps"); c == nil || !strings.Contains(c.Detail, "TSA not checked against trusted roots") {
		t.Errorf("timestamps check %+v: must say the TSA was not checked", c)
	}
	// Each record is dated by the first token whose checkpoint covers it.
	t1, t2 := rep.Attested[0].Timestamp.Time, rep.Attested[1].Timestamp.Time
	if len(rep.Times) != rep.Records+rep.Identities+rep.Rotations {
		t.Fatalf("%d record times for %d records", len(rep.Times), rep.Records+rep.Identities+rep.Rotations)
	}
	for _, rt := range rep.Times {
		switch {
		case rt.Index < f.s1:
			if rt.Size != f.s1 || !rt.NoLaterThan.Equal(t1) || rt.TSA == "" || rt.Witness != "" {
				t.Errorf("record %d: %+v, want the token at %d (%v) and no checked witness", rt.Index, rt, f.s1, t1)
			}
		case rt.Index < f.s2:
			if rt.Size != f.s2 || !rt.NoLaterThan.Equal(t2) {
				t.Errorf("record %d: %+v, want the token at %d", rt.Index, rt, f.s2)
			}
		default:
			if !rt.NoLaterThan.IsZero() {
				t.Errorf("record %d after the last timestamp is dated %v", rt.Index, rt.NoLaterThan)
			}
		}
	}

	// With the right root the TSA is checked; with another it fails.
	rep, err = VerifyPackWith(pdf, VerifyOptions{Trust: trustOf(f.tsa.pool(), f.wvkey)})
	if err != nil {
		t.Fatalf("VerifyPackWith(right root, witness key): %v", err)
	}
	if c := findCheck(rep, "timestamps"); !strings.Contains(c.Detail, "checked against the roots from") {
		t.Errorf("timestamps check: %q", c.Detail)
	}
	if !rep.Times[0].TSAChecked || rep.Times[0].Witness != f.wname || rep.Times[0].WitnessTime.IsZero() {
		t.Errorf("record 0 with roots and witness key: %+v", rep.Times[0])
	}
	other := newTestTSA(t, "another TSA")
	rep, err = VerifyPackWith(pdf, VerifyOptions{Trust: trustOf(other.pool())})
	if err == nil {
		t.Fatal("a pack verified against roots its TSA does not chain to")
	}
	if c := findCheck(rep, "timestamps"); c == nil || c.OK || !strings.Contains(c.Detail, "not trusted") {
		t.Errorf("wrong root: timestamps check %+v", c)
	}
	// A witness key of the right name but another key does not verify.
	wrong := newTimeFixture(t).wvkey
	if _, err := VerifyPackWith(pdf, VerifyOptions{Trust: trustOf(nil, wrong)}); err == nil || !strings.Contains(err.Error(), "cosignatures") {
		t.Errorf("another witness key of the same name: %v", err)
	}

	// The pages say what the time is, and that the TSA was not checked.
	text := run(t, "pdftotext", "-enc", "UTF-8", writeTemp(t, "pack.pdf", pdf), "-")
	flat := strings.Join(strings.Fields(text), " ")
	for _, want := range []string{"Timestamp", "records (up to #", "existed no later than", "TSA was NOT checked against trusted roots",
		"Time and history", "CN=export test TSA", "legal.example.com/witness cosigned", "Consistency", "introduced by key rotation record #"} {
		if !strings.Contains(flat, want) {
			t.Errorf("pdftotext output lacks %q", want)
		}
	}
}

// TestPackTrustedTimeWithRoots exports from a ledger configured with the TSA's
// root: the pack lists the root and the cover calls the time trusted.
func TestPackTrustedTimeWithRoots(t *testing.T) {
	f := newTimeFixture(t)
	if err := writeFile(f.dir+"/tsa-roots.pem", f.tsa.rootPEM); err != nil {
		t.Fatal(err)
	}
	if err := f.book.WriteConfig(&evidence.Config{TSA: &evidence.TSAConfig{Roots: "tsa-roots.pem"}, Witnesses: []string{f.wvkey}}); err != nil {
		t.Fatal(err)
	}
	pdf := f.export(t, Options{})
	rep, err := VerifyPack(pdf)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Bundle.TSARoots) != 1 || rep.Attested[0].Timestamp.PackRoot == "" || rep.Attested[0].Timestamp.Checked {
		t.Errorf("tsa_roots %d, token %+v: want the configured root listed, named, and the token still unchecked", len(rep.Bundle.TSARoots), rep.Attested[0].Timestamp)
	}
	text := strings.Join(strings.Fields(run(t, "pdftotext", "-enc", "UTF-8", writeTemp(t, "pack.pdf", pdf), "-")), " ")
	for _, want := range []string{"Trusted time", "TSA was checked against the roots this ledger trusts", "cosigned at", "TSA roots trusted"} {
		if !strings.Contains(text, want) {
			t.Errorf("pdftotext output lacks %q", want)
		}
	}
}

// TestPackTimeTamper alters the bundle of a valid pack and checks it as
// verify-pack does after the PDF signature.
func TestPackTimeTamper(t *testing.T) {
	f := newTimeFixture(t)
	pdf := f.export(t, Options{})
	good := packBundle(t, pdf)
	check := func(name string, edit func(bd *Bundle), failing string) {
		t.Helper()
		var bd Bundle
		if err := json.Unmarshal(good, &bd); err != nil {
			t.Fatal(err)
		}
		edit(&bd)
		rep := &Report{}
		verifyBundle(rep, bd.Encode(), f.id.Cert, nil, VerifyOptions{Trust: trustOf(f.tsa.pool(), f.wvkey)})
		c := findCheck(rep, failing)
		if rep.OK() || c == nil || c.OK {
			t.Errorf("%s: want check %q to fail; checks: %+v", name, failing, rep.Checks)
		}
	}
	// Unaltered, the inner check passes: the failures below are the edits'.
	rep := &Report{}
	verifyBundle(rep, good, f.id.Cert, nil, VerifyOptions{Trust: trustOf(f.tsa.pool(), f.wvkey)})
	if !rep.OK() {
		t.Fatalf("unaltered bundle: %+v", rep.Checks)
	}
	check("token byte changed", func(bd *Bundle) {
		tok, _ := base64.StdEncoding.DecodeString(bd.Checkpoints[0].Timestamp)
		tok[len(tok)-40] ^= 1
		bd.Checkpoints[0].Timestamp = base64.StdEncoding.EncodeToString(tok)
	}, "timestamps")
	check("token moved to another checkpoint", func(bd *Bundle) {
		bd.Checkpoints[1].Timestamp = bd.Checkpoints[0].Timestamp
	}, "timestamps")
	check("consistency hash changed", func(bd *Bundle) {
		h, _ := base64.StdEncoding.DecodeString(bd.Checkpoints[0].Consistency[0])
		h[0] ^= 1
		bd.Checkpoints[0].Consistency[0] = base64.StdEncoding.EncodeToString(h)
	}, "consistency")
	check("consistency proof shortened", func(bd *Bundle) {
		bd.Checkpoints[0].Consistency = bd.Checkpoints[0].Consistency[1:]
	}, "consistency")
	check("checkpoint signature changed", func(bd *Bundle) {
		n := []byte(bd.Checkpoints[0].Note)
		n[len(n)-5] ^= 1
		bd.Checkpoints[0].Note = string(n)
	}, "consistency")
	check("cosignature of another checkpoint", func(bd *Bundle) {
		bd.Checkpoints[0].Cosignatures[0].Note = bd.Checkpoints[1].Note
	}, "cosignatures")
	check("cosignature stripped of the witness line", func(bd *Bundle) {
		bd.Checkpoints[0].Cosignatures[0].Note = bd.Checkpoints[0].Note
	}, "cosignatures")
	check("rotation removed", func(bd *Bundle) {
		bd.Rotations = nil
		bd.Keys = bd.Keys[:1]
	}, "records")
	check("rotation changed", func(bd *Bundle) {
		e, _ := base64.StdEncoding.DecodeString(bd.Rotations[0].Entry)
		e[100] ^= 1
		bd.Rotations[0].Entry = base64.StdEncoding.EncodeToString(e)
	}, "key rotations")

	// A record the retired key signs after the rotation is refused, even with a
	// valid signature and proof: move the rotation before the first record.
	var bd Bundle
	json.Unmarshal(good, &bd)
	if bd.Rotations[0].Index != f.rotation {
		t.Fatalf("rotation at %d, want %d", bd.Rotations[0].Index, f.rotation)
	}
	// The rule book's key states, after the pack's records.
	rep = &Report{}
	verifyBundle(rep, good, f.id.Cert, nil, VerifyOptions{})
	old := rep.Rules.Key(f.oldID.Public())
	if old == nil || old.Retired != f.rotation {
		t.Fatalf("old key state %+v, want retired by record %d", old, f.rotation)
	}
	if old.InUseAt(f.rotation+1) || !old.InUseAt(f.rotation) || old.InUseAt(0) {
		t.Error("a key may sign only after its introduction, up to and including its retiring rotation")
	}
	// A checkpoint whose last record is the rotation may be signed by the old
	// key (it vouches for the handover); a larger one may not.
	if !old.MaySignCheckpoint(f.rotation+1) || old.MaySignCheckpoint(f.rotation+2) || old.MaySignCheckpoint(0) {
		t.Error("a key signs checkpoints from its introduction up to and including its retiring rotation")
	}

	// A v2 field in a v1 bundle is refused; a v1 bundle without them is read.
	v1 := bytes.Replace(good, []byte(BundleFormatV2), []byte(BundleFormatV1), 1)
	if _, err := ParseBundle(v1); err == nil {
		t.Error("a v1 bundle with checkpoints and rotations parsed")
	}
}

func TestReadsV1Bundle(t *testing.T) {
	f := newFixture(t)
	pdf := f.export(t, Options{})
	data := packBundle(t, pdf)
	v1 := bytes.Replace(data, []byte(BundleFormatV2), []byte(BundleFormatV1), 1)
	rep := &Report{}
	verifyBundle(rep, v1, f.id.Cert, nil, VerifyOptions{})
	if !rep.OK() {
		t.Errorf("a v1 bundle did not verify: %+v", rep.Checks)
	}
	if c := findCheck(rep, "timestamps"); c == nil || !strings.Contains(c.Detail, "ledger's own clock") {
		t.Errorf("without tokens the report must say the times are the ledger's clock: %+v", c)
	}
}

// TestBackdatedToken: a token whose time is before the records it covers (an
// attacker's own TSA, its root trusted by the verifier) fails verify-pack.
func TestBackdatedToken(t *testing.T) {
	f := newFixture(t)
	tsa, err := testtsa.StartAt("backdating TSA", func() time.Time { return time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC) })
	if err != nil {
		t.Fatal(err)
	}
	defer tsa.Close()
	cp, err := f.book.Ledger.SignCheckpoint(f.id.Key)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := rfc3161.Fetch(context.Background(), tsa.URL, cp.Note, nil, tsa.Roots())
	if err != nil {
		t.Fatal(err)
	}
	if err := f.book.Ledger.PutTimestamp(cp.Size, tok.Response); err != nil {
		t.Fatal(err)
	}
	// Export refuses to write a pack that would say so.
	if _, err := Export(f.book, f.id, "poster", Options{}); err == nil || !strings.Contains(err.Error(), "earlier than record") {
		t.Fatalf("export with a backdated token: %v", err)
	}
	bd, err := BuildBundle(f.book, "poster", cp, f.id.Public())
	if err != nil {
		t.Fatal(err)
	}
	for _, trust := range []*evidence.Trust{nil, trustOf(tsa.Roots())} {
		rep := &Report{}
		verifyBundle(rep, bd.Encode(), f.id.Cert, nil, VerifyOptions{Trust: trust})
		c := findCheck(rep, "timestamps")
		if rep.OK() || c == nil || c.OK || !strings.Contains(c.Detail, "2020-01-01") || !strings.Contains(c.Detail, "earlier than record") {
			t.Errorf("trust %v: a backdated token passed: %+v", trust != nil, c)
		}
		for _, rt := range rep.Times {
			if !rt.NoLaterThan.IsZero() {
				t.Errorf("record %d is dated by the backdated token: %v", rt.Index, rt.NoLaterThan)
			}
		}
	}
}

// TestBundleReadStrictly: the bundle has one reading (FORMAT.md §7.3): a field
// name in another case, a field given twice, or a line break inside base64 is
// refused, though encoding/json and Go's base64 would take them.
func TestBundleReadStrictly(t *testing.T) {
	f := newFixture(t)
	good := packBundle(t, f.export(t, Options{}))
	rep := &Report{}
	verifyBundle(rep, good, f.id.Cert, nil, VerifyOptions{})
	if !rep.OK() {
		t.Fatalf("unaltered bundle: %+v", rep.Checks)
	}
	var bd Bundle
	json.Unmarshal(good, &bd)
	entry := bd.Records[0].Entry
	for _, c := range []struct {
		name, old, new, want string
	}{
		{"Origin", `"origin":`, `"Origin":`, `unknown field "Origin"`},
		{"asset twice", `"asset": "poster",`, `"asset": "poster", "asset": "poster",`, `"asset" appears twice`},
		{"null", `"tsa_roots"`, `"tsa_roots": null, "x"`, ``},
		{"newline in base64", entry, entry[:20] + `\n` + entry[20:], `white space`},
	} {
		bad := bytes.Replace(good, []byte(c.old), []byte(c.new), 1)
		if bytes.Equal(bad, good) {
			if c.want == "" {
				continue // the field is absent in this bundle
			}
			t.Fatalf("%s: nothing replaced", c.name)
		}
		rep := &Report{}
		verifyBundle(rep, bad, f.id.Cert, nil, VerifyOptions{})
		ch := findCheck(rep, "evidence bundle")
		if rep.OK() || ch == nil || ch.OK || !strings.Contains(ch.Detail, c.want) {
			t.Errorf("%s: evidence bundle check %+v, want a failure saying %q", c.name, ch, c.want)
		}
	}
}
