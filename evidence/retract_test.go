package evidence

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cairn-ledger/cairn/ledger"
)

// retractBook holds: 0 Ada's identity, 1 asset a, 2 asset b, 3 a note of a,
// 4 a note of b, then Bob's identity (5) and his note of b (6).
func retractBook(t *testing.T) (*Book, *Identity, *Identity) {
	b, ada := newBook(t)
	for _, s := range []*Step{{Kind: KindAsset, Asset: "a"}, {Kind: KindAsset, Asset: "b"}, {Kind: KindNote, Asset: "a", Text: "x"}, {Kind: KindNote, Asset: "b", Text: "y"}} {
		if _, err := b.Record(ada, []*Step{s}); err != nil {
			t.Fatal(err)
		}
	}
	bob, _ := NewIdentity("Bob", "", time.Now())
	if _, err := b.Record(bob, []*Step{{Kind: KindNote, Asset: "b", Text: "Bob's"}}); err != nil {
		t.Fatal(err)
	}
	return b, ada, bob
}

func TestRetractionRules(t *testing.T) {
	b, ada, bob := retractBook(t)
	s, err := b.Retraction(3, "recorded on the wrong asset", ada.Public())
	if err != nil {
		t.Fatal(err)
	}
	r3, _ := b.Ledger.Get(3)
	h := r3.Hash()
	if s.Kind != KindRetract || s.Asset != "a" || s.Retracts.Seq != 3 || s.Retracts.Hash != hex.EncodeToString(h[:]) || s.By != ActorHuman {
		t.Fatalf("retraction %+v", s)
	}
	// Bob signed a record of b, not of a: he is not an author of a.
	if _, err := b.Retraction(3, "why", bob.Public()); !IsInputError(err) || !strings.Contains(err.Error(), `neither signed that record nor any earlier record of asset "a"`) {
		t.Errorf("Bob retracting Ada's record of a: %v", err)
	}
	if _, err := b.Record(ada, []*Step{s}); err != nil {
		t.Fatal(err)
	}
	rep, err := b.Verify(VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Retracted[3] != 7 || len(rep.Retracted) != 1 {
		t.Errorf("verify reports retractions %v, want record 3 by record 7", rep.Retracted)
	}
	for _, c := range []struct {
		seq  int64
		by   *Identity
		want string
	}{
		{3, ada, "already retracted by record 7"},
		{7, ada, "itself a retraction"},
		{0, ada, "an identity record"},
		{1, ada, "an asset record"},
		{99, ada, "no record 99"},
	} {
		if _, err := b.Retraction(c.seq, "why", c.by.Public()); !IsInputError(err) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("retraction of %d by %s: %v, want …%s…", c.seq, c.by.Name, err, c.want)
		}
	}
	// An author of the asset may retract a co-author's record; so may the
	// key that signed it.
	if _, err := b.Retraction(6, "why", ada.Public()); err != nil {
		t.Errorf("Ada, an author of b, retracting Bob's record of b: %v", err)
	}
	if _, err := b.Retraction(6, "why", bob.Public()); err != nil {
		t.Errorf("Bob retracting his own record: %v", err)
	}
}

// A retraction that breaks the rules, recorded by going around cairn
// retract, fails verification at that record.
func TestVerifyRefusesBadRetractions(t *testing.T) {
	for _, c := range []struct {
		name string
		step func(b *Book) *Step
		want string
	}{
		{"a wrong leaf hash", func(b *Book) *Step {
			return &Step{Kind: KindRetract, Asset: "a", Why: "x", Retracts: &RecordRef{Seq: 3, Hash: strings.Repeat("0", 64)}}
		}, "that record's is"},
		{"another asset's record", func(b *Book) *Step {
			r, _ := b.Ledger.Get(4)
			h := r.Hash()
			return &Step{Kind: KindRetract, Asset: "a", Why: "x", Retracts: &RecordRef{Seq: 4, Hash: hex.EncodeToString(h[:])}}
		}, `which belongs to asset "b"`},
		{"a later record", func(b *Book) *Step {
			return &Step{Kind: KindRetract, Asset: "a", Why: "x", Retracts: &RecordRef{Seq: 50, Hash: strings.Repeat("0", 64)}}
		}, "not an earlier record"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, ada, _ := retractBook(t)
			recs, err := b.Record(ada, []*Step{c.step(b)})
			if err != nil {
				t.Fatal(err)
			}
			_, err = b.Verify(VerifyOptions{})
			var ve *ledger.VerifyError
			if !errors.As(err, &ve) || ve.Seq != recs[0].Seq || !strings.Contains(ve.Problem, c.want) {
				t.Errorf("verify: %v, want record %d: …%s…", err, recs[0].Seq, c.want)
			}
		})
	}
}

// After a key rotation, the new key is still an author of the assets the
// old one signed, and may retract their records.
func TestRetractionAfterRotation(t *testing.T) {
	b, _, fresh := rotatedBook(t, &Step{Kind: KindNote, Asset: "poster", Text: "by the old key"})
	s, err := b.Retraction(2, "mine, signed with my old key", fresh.Public())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Record(fresh, []*Step{s}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Verify(VerifyOptions{}); err != nil {
		t.Fatal(err)
	}
}
