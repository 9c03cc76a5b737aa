// Package msg is cairn's message catalogue: every sentence that the evidence
// pack, the AI Act label and the human-versus-AI account print, in each
// language cairn writes. One Catalogue value holds one language (en.go,
// nl.go); the code that draws and counts picks its words from it and never
// compares language codes, so a third language is one more table.
//
// A sentence (S) may hold fmt verbs. A language that orders them differently
// names the arguments (%[2]s); the verbs a sentence takes are the same in
// every language, which TestCatalogues checks. A phrase with a count (P)
// has a form for one and a form for any other number.
package msg

import (
	"fmt"
	"strings"
	"time"
)

// S is a sentence or a phrase, possibly with fmt verbs.
type S string

// F formats the sentence with its arguments.
func (s S) F(a ...any) string { return fmt.Sprintf(string(s), a...) }

// String is the sentence as it is.
func (s S) String() string { return string(s) }

// P is a phrase whose words depend on a count: One for 1, Many otherwise.
type P struct{ One, Many S }

// Of picks the form for n.
func (p P) Of(n int) S {
	if n == 1 {
		return p.One
	}
	return p.Many
}

// N is the phrase for n, formatted with n: "1 step", "2 steps". A form
// without a verb ("The last record is") is returned as it is.
func (p P) N(n int) string {
	s := p.Of(n)
	if !strings.Contains(string(s), "%") {
		return string(s)
	}
	return s.F(n)
}

// Catalogue is one language's words.
type Catalogue struct {
	Code string // the language's code, as --lang takes it: "en", "nl"
	Name string // the language's name in itself

	// Zone is the time zone a pack's times are shown in when the exporter
	// names none, beside UTC; "" shows UTC only.
	Zone string
	// DateLayout and TimeLayout are Go time layouts for a calendar date and
	// a time of day.
	DateLayout, TimeLayout string
	// Decimal is the decimal separator.
	Decimal string
	// And joins the last two items of a list: "a, b and c".
	And S
	// LabelWidth is the width in millimetres of the pack's column of field
	// labels, wide enough for most of the language's labels.
	LabelWidth float64

	// Names of the values steps record, by the value: the kind of a step, who
	// acted, the basis of rights, an input's permission and use, the kind of
	// work, the text-and-data-mining choice.
	Kind       map[string]S
	Actor      map[string]S
	Basis      map[string]S
	Permission map[string]S
	Use        map[string]S
	AssetKind  map[string]S
	TDM        map[string]S
	// Unknown says why a work's source type is unknown, by the reason code
	// evidence.History.FinalSourceType gives.
	Unknown map[string]S
	// Picture says why a file is not drawn, by the reason code export gives.
	Picture map[string]S

	Account    Account
	Draft      Draft
	Rights     Rights
	Label      Label
	Pack       Pack
	Timeline   Timeline
	Proof      Proof
	Similarity Similarity
}

// Time writes an instant for people: in loc with UTC beside it, or in UTC
// alone when loc is nil or UTC.
//
//	2026-03-14 13:04:05 UTC
//	14-03-2026 14:04:05 CET (13:04:05 UTC)
//	15-03-2026 00:30:00 CET (14-03-2026 23:30:00 UTC)
func (c *Catalogue) Time(t time.Time, loc *time.Location) string {
	u := t.UTC()
	full := c.DateLayout + " " + c.TimeLayout
	if loc == nil || loc == time.UTC {
		return u.Format(full) + " UTC"
	}
	l := t.In(loc)
	utc := u.Format(c.TimeLayout)
	if l.Format(c.DateLayout) != u.Format(c.DateLayout) {
		utc = u.Format(full)
	}
	return l.Format(full+" MST") + " (" + utc + " UTC)"
}

// Date writes a calendar date (YYYY-MM-DD, as steps record it) in the
// language's layout; a string that is not such a date is returned as it is.
func (c *Catalogue) Date(date string) string {
	t, err := time.Parse("2006-01-02", date)
	if err != nil {
		return date
	}
	return t.Format(c.DateLayout)
}

// Dec writes a number with one decimal, with the language's separator.
func (c *Catalogue) Dec(f float64) string {
	return strings.Replace(fmt.Sprintf("%.1f", f), ".", c.Decimal, 1)
}

// List joins the non-empty parts: "a, b and c".
func (c *Catalogue) List(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	if len(out) < 2 {
		return strings.Join(out, "")
	}
	return strings.Join(out[:len(out)-1], ", ") + string(c.And) + out[len(out)-1]
}

// Name is the name of a recorded value in one of the name tables (Kind,
// Basis, ...), or the value itself if the table has none: a value a newer
// cairn recorded is shown as recorded, not hidden.
func Name(table map[string]S, value string) string {
	if s, ok := table[value]; ok {
		return string(s)
	}
	return value
}

// Catalogues lists every language, English first.
var Catalogues = []*Catalogue{English, Dutch}

// For returns the catalogue of a language code, or nil.
func For(code string) *Catalogue {
	for _, c := range Catalogues {
		if c.Code == code {
			return c
		}
	}
	return nil
}

// Codes lists the language codes, for help and errors: "en, nl".
func Codes() string {
	var out []string
	for _, c := range Catalogues {
		out = append(out, c.Code)
	}
	return strings.Join(out, ", ")
}
