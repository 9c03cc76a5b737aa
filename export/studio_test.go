package export

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/ledger"
	"github.com/cairn-ledger/cairn/ledger/studio"
	"github.com/cairn-ledger/cairn/ledger/witness"
)

const studioOrigin = "legal.example.com/log"

// studioPack makes the fixture's ledger cosigned by a witness that keeps a
// studio log (Tessera, with a TSA), fetches the log's proof into the ledger as
// cairn publish does, and exports the pack. It returns the pack, the witness's
// and the studio log's verifier keys.
func studioPack(t *testing.T) (f *timeFixture, pdf []byte, wvkey, svkey string) {
	t.Helper()
	f = newTimeFixture(t)
	b := f.book
	_, wkey, _ := ed25519.GenerateKey(rand.Reader)
	cs, err := witness.NewCosigner("studio.example.com/witness", wkey)
	if err != nil {
		t.Fatal(err)
	}
	st, err := witness.OpenStore(filepath.Join(t.TempDir(), "witness"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w := witness.New(st, cs)
	skey, err := studio.DeriveKey(wkey.Seed(), studioOrigin)
	if err != nil {
		t.Fatal(err)
	}
	logDir := t.TempDir()
	slog, err := studio.Open(logDir, studio.Options{Origin: studioOrigin, Key: skey, CheckpointInterval: 100 * time.Millisecond,
		TSA: f.tsa.url, TSARoots: f.tsa.pool()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { slog.Close() })
	w.SetStudioLog(slog)
	// Other ledgers' entries come first.
	for _, e := range []string{"other ledger 1", "other ledger 2", "other ledger 3"} {
		if _, err := slog.Append(context.Background(), []byte(e)); err != nil {
			t.Fatal(err)
		}
	}
	origin := b.Ledger.Origin()
	if _, err := w.AddLog(origin, ledger.VerifierKey(origin, f.id.Public())); err != nil {
		t.Fatal(err)
	}
	cp, err := b.Ledger.SignCheckpoint(f.id.Key)
	if err != nil {
		t.Fatal(err)
	}
	cosigned, err := w.AddCheckpoint(context.Background(), 0, nil, cp.Note)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Ledger.PutCosignature(cp.Size, cs.Name(), cosigned.Note); err != nil {
		t.Fatal(err)
	}
	src, err := studio.OpenSource(logDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	var fetched *studio.Fetched
	for deadline := time.Now().Add(10 * time.Second); ; {
		if fetched, err = src.Fetch(context.Background(), cosigned.Studio.Index); err == nil {
			break
		}
		if !errors.Is(err, studio.ErrNotYet) || time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !bytes.Equal(fetched.Entry, cosigned.Note) {
		t.Fatalf("the studio log's entry is not the cosigned note")
	}
	if err := b.Ledger.PutStudioProof(ledger.StudioProof{Size: cp.Size, Witness: cs.Name(), Proof: fetched.Proof.Marshal(), Token: fetched.Token}); err != nil {
		t.Fatal(err)
	}
	return f, f.export(t, Options{}), cs.VerifierKey(), ledger.VerifierKey(studioOrigin, skey.Public().(ed25519.PublicKey))
}

func trustStudio(tr *evidence.Trust, vkeys ...string) *evidence.Trust {
	for _, v := range vkeys {
		tr.Studios = append(tr.Studios, evidence.Anchor{VKey: v, Source: "--studio", Independent: true})
	}
	return tr
}

// TestPackCarriesStudioProof: a pack carries the studio log's inclusion proof
// of a cosigned checkpoint, and verify-pack checks it against the studio key
// the verifier trusts, and dates the records by the log's timestamp.
func TestPackCarriesStudioProof(t *testing.T) {
	f, pdf, wvkey, svkey := studioPack(t)
	data := packBundle(t, pdf)

	// The bundle says v3 and carries the proof; an RFC 6962 implementation
	// other than cairn's proves the cosigned note in the studio log's tree.
	var raw struct {
		Format      string `json:"format"`
		Checkpoints []struct {
			Cosignatures []struct {
				Witness string `json:"witness"`
				Note    string `json:"note"`
				Studio  *struct {
					Proof     string `json:"proof"`
					Timestamp string `json:"timestamp"`
				} `json:"studio"`
			} `json:"cosignatures"`
		} `json:"checkpoints"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	if raw.Format != "cairn.evidence-bundle/v3" {
		t.Fatalf("format %q", raw.Format)
	}
	proven := 0
	for _, c := range raw.Checkpoints {
		for _, cs := range c.Cosignatures {
			if cs.Studio == nil {
				continue
			}
			// c2sp.org/tlog-proof@v1, index N, hashes, empty line, checkpoint.
			head, cpText, ok := strings.Cut(cs.Studio.Proof, "\n\n")
			lines := strings.Split(head, "\n")
			if !ok || lines[0] != "c2sp.org/tlog-proof@v1" || !strings.HasPrefix(lines[1], "index ") {
				t.Fatalf("proof %q", cs.Studio.Proof)
			}
			index, _ := strconv.ParseUint(strings.TrimPrefix(lines[1], "index "), 10, 64)
			var path [][]byte
			for _, l := range lines[2:] {
				h, _ := base64.StdEncoding.DecodeString(l)
				path = append(path, h)
			}
			cpLines := strings.Split(cpText, "\n")
			size, _ := strconv.ParseUint(cpLines[1], 10, 64)
			root, _ := base64.StdEncoding.DecodeString(cpLines[2])
			if err := proof.VerifyInclusion(rfc6962.DefaultHasher, index, size, rfc6962.DefaultHasher.HashLeaf([]byte(cs.Note)), path, root); err != nil {
				t.Fatalf("merkle: %v", err)
			}
			sv, _ := note.NewVerifier(svkey)
			if _, err := note.Open([]byte(cpText), note.VerifierList(sv)); err != nil {
				t.Fatalf("the studio log checkpoint: %v", err)
			}
			proven++
		}
	}
	if proven != 1 {
		t.Fatalf("%d studio log proofs in the bundle, want 1", proven)
	}

	// verify-pack with the verifier's trust: checked, and a time for the records.
	trust := trustStudio(trustOf(f.tsa.pool(), wvkey), svkey)
	rep, err := VerifyPackWith(pdf, VerifyOptions{Trust: trust})
	if err != nil {
		t.Fatal(err)
	}
	if c := findCheck(rep, "studio log"); c == nil || !c.OK || !strings.Contains(c.Detail, "1 checked") {
		t.Fatalf("studio log check: %+v", c)
	}
	dated := 0
	for _, rt := range rep.Times {
		if !rt.StudioTime.IsZero() {
			dated++
			if rt.Studio != studioOrigin || !rt.StudioTSAChecked || rt.StudioTime.Before(rt.Clock.Truncate(time.Second)) {
				t.Errorf("record %d: studio time %+v", rt.Index, rt)
			}
		}
	}
	if dated == 0 {
		t.Error("no record is dated by the studio log")
	}

	// Without the studio key: present, not checked, no time from it.
	rep, err = VerifyPackWith(pdf, VerifyOptions{Trust: trustOf(f.tsa.pool(), wvkey)})
	if err != nil {
		t.Fatal(err)
	}
	if c := findCheck(rep, "studio log"); c == nil || !c.OK || !strings.Contains(c.Detail, "1 not checked") {
		t.Fatalf("studio log check without the key: %+v", c)
	}
	for _, rt := range rep.Times {
		if !rt.StudioTime.IsZero() {
			t.Fatalf("record %d dated by a studio log the verifier does not trust", rt.Index)
		}
	}

	// Another key under the studio log's name is refused.
	other, _ := studio.DeriveKey(make([]byte, 32), studioOrigin)
	rep, err = VerifyPackWith(pdf, VerifyOptions{Trust: trustStudio(trustOf(nil), ledger.VerifierKey(studioOrigin, other.Public().(ed25519.PublicKey)))})
	if err == nil || findCheck(rep, "studio log").OK {
		t.Fatal("a pack verified with another studio key")
	}

	// Changed bytes fail: a proof hash, the index, the studio checkpoint,
	// the token; and a v2 label on a bundle with a proof cannot be read.
	for name, edit := range map[string]func(*Bundle){
		"hash": func(bd *Bundle) {
			cs := studioCosig(bd)
			lines := strings.Split(cs.Studio.Proof, "\n")
			h, _ := base64.StdEncoding.DecodeString(lines[2])
			h[0] ^= 1
			lines[2] = base64.StdEncoding.EncodeToString(h)
			cs.Studio.Proof = strings.Join(lines, "\n")
		},
		"index": func(bd *Bundle) {
			cs := studioCosig(bd)
			cs.Studio.Proof = strings.Replace(cs.Studio.Proof, "\nindex 3\n", "\nindex 2\n", 1)
		},
		"token": func(bd *Bundle) {
			cs := studioCosig(bd)
			tok, _ := base64.StdEncoding.DecodeString(cs.Studio.Timestamp)
			tok[len(tok)-5] ^= 1
			cs.Studio.Timestamp = base64.StdEncoding.EncodeToString(tok)
		},
		"format": func(bd *Bundle) { bd.Format = BundleFormatV2 },
	} {
		pb, err := parseBundle(data)
		if err != nil {
			t.Fatal(err)
		}
		edit(pb.bd)
		rep := &Report{}
		verifyBundle(rep, pb.bd.Encode(), f.id.Cert, nil, VerifyOptions{Trust: trust})
		if rep.OK() {
			t.Errorf("%s: an altered studio log proof verified", name)
		}
	}
	// v3 is read only with a proof: strip it and the label is wrong.
	pb, _ := parseBundle(data)
	studioCosig(pb.bd).Studio = nil
	if _, err := ParseBundle(pb.bd.Encode()); err == nil {
		t.Error("a v3 bundle without a studio log proof parsed")
	}
}

func studioCosig(bd *Bundle) *BundleCosignature {
	for i := range bd.Checkpoints {
		for j := range bd.Checkpoints[i].Cosignatures {
			if cs := &bd.Checkpoints[i].Cosignatures[j]; cs.Studio != nil {
				return cs
			}
		}
	}
	return nil
}
