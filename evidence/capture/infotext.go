package capture

import (
	"encoding/json"
	"strings"
	"unicode"
)

// Infotext is AUTOMATIC1111's (and Forge's, and Fooocus's "a1111" scheme's)
// generation record:
//
//	prompt, possibly over several lines
//	Negative prompt: negative, possibly over several lines
//	Steps: 15, Sampler: UniPC, CFG scale: 5, Seed: 235284042, Size: 512x400, Model: x
//
// The last line is a list of "key: value" pairs; a value with a comma in
// it is written as a JSON string.
type infotext struct {
	prompt, negative string
	hasNegative      bool
	params           []keyValue // the last line's pairs, in order
}

type keyValue struct{ key, value string }

const negativePrefix = "Negative prompt:"

// parseInfotext splits infotext into its parts. ok is false when text has
// neither a parameter line nor a negative prompt, so that arbitrary text is
// not mistaken for a generation record. Prompts are kept exactly: only the
// "\nNegative prompt: " separator and the parameter line are removed.
func parseInfotext(text string) (it infotext, ok bool) {
	body := text
	i := strings.LastIndexByte(text, '\n')
	// Like the web UI, the last line counts as parameters only if it has
	// at least three pairs, so a prompt line with a colon in it is not
	// taken for one.
	if pairs := parseParamLine(text[i+1:]); len(pairs) >= 3 {
		it.params = pairs
		body = text[:max(i, 0)]
	}
	switch {
	case strings.HasPrefix(body, negativePrefix):
		it.negative, it.hasNegative = body[len(negativePrefix):], true
	default:
		if i := strings.Index(body, "\n"+negativePrefix); i >= 0 {
			it.prompt = body[:i]
			it.negative, it.hasNegative = body[i+1+len(negativePrefix):], true
		} else {
			it.prompt = body
		}
	}
	it.negative = strings.TrimPrefix(it.negative, " ")
	return it, it.params != nil || it.hasNegative
}

// parseParamLine reads "key: value, key: "quoted, value", ..." pairs. Keys
// start with a word character and hold word characters, spaces, '-' and
// '/'. Where a pair cannot be read, reading resumes after the next comma.
func parseParamLine(line string) []keyValue {
	var pairs []keyValue
	s := line
	for len(s) > 0 {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			break
		}
		kv, rest, ok := parseParamPair(s)
		if ok {
			pairs = append(pairs, kv)
			s = rest
			continue
		}
		i := strings.IndexByte(s, ',')
		if i < 0 {
			break
		}
		s = s[i+1:]
	}
	return pairs
}

func parseParamPair(s string) (keyValue, string, bool) {
	colon := strings.IndexByte(s, ':')
	if colon <= 0 {
		return keyValue{}, "", false
	}
	key := s[:colon]
	for i, r := range key {
		word := unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_'
		if !word && (i == 0 || (r != ' ' && r != '-' && r != '/')) {
			return keyValue{}, "", false
		}
	}
	rest := strings.TrimLeft(s[colon+1:], " \t")
	if strings.HasPrefix(rest, `"`) {
		if end := quotedEnd(rest); end > 0 {
			after := strings.TrimLeft(rest[end:], " \t")
			if after == "" || after[0] == ',' {
				value := rest[:end]
				var u string
				if json.Unmarshal([]byte(value), &u) == nil {
					value = u
				}
				return keyValue{key, value}, strings.TrimPrefix(after, ","), true
			}
		}
	}
	if i := strings.IndexByte(rest, ','); i >= 0 {
		return keyValue{key, strings.TrimRight(rest[:i], " \t")}, rest[i+1:], true
	}
	return keyValue{key, strings.TrimRight(rest, " \t")}, "", true
}

// quotedEnd returns the index just past the closing quote of the string
// that s starts with, or 0 if it is not closed.
func quotedEnd(s string) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return 0
}
