package msgtest

import (
	"reflect"
	"strings"
	"testing"

	"github.com/cairn-ledger/cairn/internal/msg"
)

// TestNothingCopied: no Dutch sentence is the English one, unless it is a
// name or term listed in Same.
func TestNothingCopied(t *testing.T) {
	en, nl := Sentences(msg.English), Sentences(msg.Dutch)
	if len(en) != len(nl) {
		t.Fatalf("the catalogues differ in shape: %d and %d sentences (TestCatalogues says where)", len(en), len(nl))
	}
	for i := range en {
		if en[i] == nl[i] && en[i] != "" && !Same[en[i]] {
			t.Errorf("Dutch sentence %d is the English one: %q", i, en[i])
		}
	}
}

func TestEnglishLeft(t *testing.T) {
	dutch := "Menselijke bijdrage\nGeteld uit de vastgelegde stappen. SHA-256 van het bestand. \"Signature is Valid.\""
	if got := EnglishLeft(dutch, msg.Dutch); len(got) != 0 {
		t.Errorf("Dutch text: found %q", got)
	}
	// A sentence of the English catalogue, wrapped as a page wraps it.
	if got := EnglishLeft(dutch+"\nWhat the\nhuman did", msg.Dutch); !reflect.DeepEqual(got, []string{"What the human did", "human", "the"}) {
		t.Errorf("English sentence: found %q", got)
	}
	// A one-word English label.
	if got := EnglishLeft(dutch+"\nLicence CC-BY", msg.Dutch); !reflect.DeepEqual(got, []string{"Licence"}) {
		t.Errorf("English label: found %q", got)
	}
	// English that is in no catalogue: its function words give it away.
	if got := EnglishLeft(dutch+"\nsomething written into the code", msg.Dutch); !reflect.DeepEqual(got, []string{"the"}) {
		t.Errorf("English outside the catalogue: found %q", got)
	}
	// Typed text is left as typed.
	typed := "the fox looks at the viewer"
	if got := EnglishLeft(dutch+"\nWaarom the fox looks\nat the viewer", msg.Dutch, typed); len(got) != 0 {
		t.Errorf("typed text: found %q", got)
	}
	// A sentence copied untranslated into the Dutch table is not excused by
	// being in that table.
	copied := *msg.Dutch
	copied.Pack.WhatHuman = msg.English.Pack.WhatHuman
	if got := EnglishLeft(dutch+"\nWhat the human did", &copied); !reflect.DeepEqual(got, []string{"What the human did", "human", "the"}) {
		t.Errorf("copied sentence: found %q", got)
	}
	// The English pack's words are all found.
	var all []string
	for _, s := range Sentences(msg.English) {
		all = append(all, strings.ReplaceAll(s, "%", ""))
	}
	if got := EnglishLeft(strings.Join(all, "\n"), msg.Dutch); len(got) < 300 {
		t.Errorf("the English catalogue itself: found only %d pieces", len(got))
	}
}
