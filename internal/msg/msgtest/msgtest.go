// Package msgtest finds English left in text that should be in another
// language: the text of a Dutch evidence pack as pdftotext extracts it, or a
// Dutch label. Tests use it; nothing else should.
//
// It checks two ways, so that a sentence written into the drawing code
// instead of the catalogue is caught as well as one left untranslated in it:
//
//   - every sentence of the English catalogue, cut at its fmt verbs and line
//     breaks into fragments of two or more words, and every one-word English
//     label, must not appear in the text, unless the other language's
//     catalogue has the same words too (technical terms such as "SHA-256",
//     or a tool's output quoted as the tool prints it);
//   - English function words that are not Dutch words ("the", "and",
//     "with", ...) must not appear at all.
//
// Text people typed (prompts, notes, names) is given as allowed, and taken
// out of the text before it is checked.
package msgtest

import (
	"reflect"
	"regexp"
	"sort"
	"strings"

	"github.com/cairn-ledger/cairn/internal/msg"
)

// functionWords are English words that no Dutch sentence of cairn's uses.
var functionWords = []string{
	"the", "and", "with", "which", "this", "that", "from", "are", "were", "has", "have", "been",
	"each", "every", "its", "their", "not", "for", "by", "to", "was", "be", "or", "an", "than", "only",
}

// EnglishLeft returns what it finds of English in text, which should be in
// the language of other: catalogue fragments and function words, each once,
// sorted. allowed are texts that are shown as typed.
func EnglishLeft(text string, other *msg.Catalogue, allowed ...string) []string {
	text = fold(text)
	for _, a := range allowed {
		if a = fold(a); a != "" {
			text = strings.ReplaceAll(text, a, " ")
		}
	}
	theirs := fold(strings.Join(Translated(other), " \n "))
	found := map[string]bool{}
	for _, f := range Fragments(msg.English) {
		if strings.Contains(theirs, f) {
			continue
		}
		if strings.Contains(f, " ") {
			if strings.Contains(text, f) {
				found[f] = true
			}
			continue
		}
		if word(f).MatchString(text) && !word(f).MatchString(theirs) {
			found[f] = true
		}
	}
	for _, w := range functionWords {
		if word(w).MatchString(text) {
			found[w] = true
		}
	}
	var out []string
	for f := range found {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// word matches w as a word of prose: not part of a longer word, a file name,
// a MIME type or a path (image/png, text.txt).
func word(w string) *regexp.Regexp {
	return regexp.MustCompile(`(^|[^\pL\pN_./-])` + regexp.QuoteMeta(w) + `($|[^\pL\pN_/-]|\.($|\s))`)
}

// fold makes every run of white space one space, as text wrapped on a page
// comes out of pdftotext.
func fold(s string) string { return strings.Join(strings.Fields(s), " ") }

var verb = regexp.MustCompile(`%(\[\d+\])?[-+# 0]*\d*(\.\d+)?[a-zA-Z%]`)

// Fragments are the pieces of a catalogue's sentences that a page shows as
// they are: each sentence cut at its fmt verbs and line breaks, trimmed of
// punctuation at the ends; pieces of two words or more, and one-word labels
// of four letters or more.
func Fragments(c *msg.Catalogue) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range Sentences(c) {
		if Same[s] {
			continue
		}
		for _, piece := range verb.Split(strings.ReplaceAll(s, "\n", "%s"), -1) {
			p := strings.Trim(fold(piece), " .,;:()[]#\"'…·-")
			if p == "" || seen[p] {
				continue
			}
			if words := strings.Fields(p); len(words) < 2 && len([]rune(p)) < 4 {
				continue
			}
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// Same are the sentences that are the same in English and Dutch: names and
// terms that are not English words, and formats without words.
var Same = map[string]bool{
	"prompt": true, "AI": true, "logo": true, "%d prompt": true, "%d prompts": true, "%d element": true,
	"%s, %d bytes": true, "SHA-256": true, "Ed25519 (hex)": true, "Parameters": true, "tool %s": true, "model %s": true,
	" (%s)": true, "%s (%s)": true, "%s (vastlegging #%d, %s: %s)": true,
}

// Translated lists the sentences of c that are its own: those that differ
// from the English sentence in the same place, and those in Same. A sentence
// copied from English untranslated is not among them.
func Translated(c *msg.Catalogue) []string {
	en, theirs := Sentences(msg.English), Sentences(c)
	var out []string
	for i, s := range theirs {
		if i >= len(en) || s != en[i] || Same[s] {
			out = append(out, s)
		}
	}
	return out
}

// Sentences lists every sentence and phrase of a catalogue (every S, the
// forms of every P, the values of every name table), empty ones included,
// in the order of the catalogue's fields: the same place in two catalogues
// holds the same sentence in two languages.
func Sentences(c *msg.Catalogue) []string {
	var out []string
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		if v.Type() == reflect.TypeOf(msg.S("")) {
			out = append(out, v.String())
			return
		}
		switch v.Kind() {
		case reflect.Struct:
			for i := range v.NumField() {
				walk(v.Field(i))
			}
		case reflect.Map:
			keys := v.MapKeys()
			sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
			for _, k := range keys {
				walk(v.MapIndex(k))
			}
		case reflect.Slice:
			for i := range v.Len() {
				walk(v.Index(i))
			}
		}
	}
	walk(reflect.ValueOf(*c))
	return out
}
