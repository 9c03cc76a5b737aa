package export

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/internal/testtsa"
	"github.com/cairn-ledger/cairn/ledger"
	"github.com/cairn-ledger/cairn/ledger/witness"
)

// testTSA is a time-stamping authority in the test process (internal/testtsa).
type testTSA struct {
	url     string
	root    *x509.Certificate
	rootPEM []byte
	roots   *x509.CertPool
}

func newTestTSA(t testing.TB, name string) *testTSA {
	t.Helper()
	a, err := testtsa.Start(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return &testTSA{url: a.URL, root: a.Root, rootPEM: a.RootPEM, roots: a.Roots()}
}

func (a *testTSA) pool() *x509.CertPool { return a.roots }

// timeFixture is the fixture's ledger with trusted time, a witness and a key
// rotation:
//
//	records [0, s1)   timestamped at s1 and cosigned by the witness at s1
//	rotation          the author's key is replaced (record s1+1)
//	records [s1, s2)  timestamped at s2
//	records [s2, ...) not timestamped
type timeFixture struct {
	*fixture
	tsa      *testTSA
	oldID    *evidence.Identity
	s1, s2   int64
	rotation int64 // index of the rotation record
	wname    string
	wvkey    string
}

func newTimeFixture(t testing.TB) *timeFixture {
	t.Helper()
	f := &timeFixture{fixture: newFixture(t), tsa: newTestTSA(t, "export test TSA"), wname: "legal.example.com/witness"}
	b := f.book
	stamp := func() int64 {
		cp, err := b.Ledger.SignCheckpoint(f.id.Key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.TimestampCheckpoint(context.Background(), cp.Size, f.tsa.url, f.tsa.pool()); err != nil {
			t.Fatal(err)
		}
		return cp.Size
	}
	f.s1 = stamp()

	// The witness follows the ledger and cosigns the first checkpoint.
	_, wkey, _ := ed25519.GenerateKey(rand.Reader)
	cs, err := witness.NewCosigner(f.wname, wkey)
	if err != nil {
		t.Fatal(err)
	}
	f.wvkey = cs.VerifierKey()
	st, err := witness.OpenStore(filepath.Join(t.TempDir(), "witness"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w := witness.New(st, cs)
	origin := b.Ledger.Origin()
	if _, err := w.AddLog(origin, ledger.VerifierKey(origin, f.id.Public())); err != nil {
		t.Fatal(err)
	}
	note, err := b.Ledger.CheckpointAt(f.s1)
	if err != nil {
		t.Fatal(err)
	}
	cosigned, err := w.AddCheckpoint(context.Background(), 0, nil, note)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Ledger.PutCosignature(f.s1, f.wname, cosigned.Note); err != nil {
		t.Fatal(err)
	}

	// Ada rotates her key and goes on with the new one.
	record(t, f.fixture, &evidence.Step{Kind: evidence.KindNote, Asset: "poster", Text: "before the rotation"})
	fresh, err := evidence.NewIdentity(f.id.Name, f.id.Email, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rot := fresh.Step()
	rot.Kind = evidence.KindRotate
	recs, err := b.Record(f.id, []*evidence.Step{rot})
	if err != nil {
		t.Fatal(err)
	}
	f.rotation = recs[0].Seq
	f.oldID, f.id = f.id, fresh
	record(t, f.fixture, &evidence.Step{Kind: evidence.KindNote, Asset: "poster", Text: "signed with the new key"})
	f.s2 = stamp()
	record(t, f.fixture, &evidence.Step{Kind: evidence.KindNote, Asset: "poster", Text: "after the last timestamp"})
	return f
}

func writeFile(path string, data []byte) error { return os.WriteFile(path, data, 0o644) }

// trustOf is a verifier's trust: roots (nil: none) and witness keys, given as
// if on the command line.
func trustOf(roots *x509.CertPool, witnesses ...string) *evidence.Trust {
	t := &evidence.Trust{}
	if roots != nil {
		t.TSA = &evidence.Roots{Pool: roots, Anchor: evidence.Anchor{Source: "--tsa-roots (test)", Independent: true}}
	}
	for _, w := range witnesses {
		t.Witnesses = append(t.Witnesses, evidence.Anchor{VKey: w, Source: "--witness", Independent: true})
	}
	return t
}
