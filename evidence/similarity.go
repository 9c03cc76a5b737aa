package evidence

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"

	"github.com/cairn-ledger/cairn/evidence/percept"
	"github.com/cairn-ledger/cairn/internal/strict"
	"github.com/cairn-ledger/cairn/ledger"
)

// Similarity is what a similarity check found (kind similarity-check,
// FORMAT.md §5.8): the asset's files, the step's in, compared with a set of
// reference images by a perceptual fingerprint.
type Similarity struct {
	Method    string            `json:"method"`    // the fingerprint and distance (percept.Method)
	Set       string            `json:"set"`       // SHA-256 of the reference set (ReferenceSetHash)
	Count     int               `json:"count"`     // distinct reference images compared
	Threshold int               `json:"threshold"` // the largest distance counted as a look-alike
	Nearest   int               `json:"nearest"`   // the smallest distance found
	Result    string            `json:"result"`    // SimilarityClear or SimilarityLookalikes
	Matches   []SimilarityMatch `json:"matches,omitempty"`
}

// A SimilarityMatch is a reference image within the threshold of one of the
// asset's files.
type SimilarityMatch struct {
	Name     string `json:"name"`     // the reference file's path in the set
	SHA256   string `json:"sha256"`   // its content
	Distance int    `json:"distance"` // to File
	File     string `json:"file"`     // SHA-256 of the asset's file it resembles (one of in)
}

// Results of a similarity check.
const (
	SimilarityClear      = "clear"      // no reference image within the threshold
	SimilarityLookalikes = "lookalikes" // at least one
)

// MaxSimilarityMatches bounds the look-alikes one check lists, nearest first.
const MaxSimilarityMatches = 100

// ReferenceSetHash names a set of files by content: SHA-256 over their
// distinct SHA-256s in lowercase hex, in ascending order, each followed by a
// newline. Names and order do not matter, so anyone can recompute it:
//
//	sha256sum * | cut -c1-64 | sort -u | sha256sum
func ReferenceSetHash(sums []string) string {
	s := append([]string(nil), sums...)
	sort.Strings(s)
	h := sha256.New()
	for i, x := range s {
		if i > 0 && x == s[i-1] {
			continue
		}
		h.Write([]byte(x + "\n"))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// checkSimilarity checks that a similarity check is consistent with itself:
// its result follows from the nearest distance and the threshold, and each
// look-alike it lists is within the threshold of one of the files compared.
func (s *Step) checkSimilarity() error {
	m := s.Similarity
	if m.Method != percept.Method {
		return inputErrorf("similarity check by method %q; this cairn knows %q", m.Method, percept.Method)
	}
	if _, err := strict.Hex(m.Set, 32); err != nil {
		return inputErrorf("similarity check: set: %v", err)
	}
	switch {
	case m.Count < 1:
		return inputErrorf("similarity check against no reference image")
	case m.Threshold > percept.MaxDistance || m.Nearest > percept.MaxDistance:
		return inputErrorf("similarity check: distances are at most %d", percept.MaxDistance)
	case len(m.Matches) > MaxSimilarityMatches || len(m.Matches) > m.Count*len(s.In):
		return inputErrorf("similarity check lists %d look-alikes of %d images compared with %d files (at most %d are listed)", len(m.Matches), m.Count, len(s.In), MaxSimilarityMatches)
	}
	want := SimilarityClear
	if m.Nearest <= m.Threshold {
		want = SimilarityLookalikes
	}
	if m.Result != want {
		return inputErrorf("similarity check says %q, but its nearest distance %d and threshold %d make it %q", m.Result, m.Nearest, m.Threshold, want)
	}
	if want == SimilarityLookalikes && len(m.Matches) == 0 {
		return inputErrorf("similarity check found look-alikes but lists none")
	}
	compared := map[string]bool{}
	for _, f := range s.In {
		if compared[f.SHA256] {
			return inputErrorf("similarity check compares file %s twice", f.Short())
		}
		compared[f.SHA256] = true
	}
	for i, x := range m.Matches {
		if err := checkText("similarity match name", x.Name, 4096); err != nil {
			return err
		}
		for _, h := range []string{x.SHA256, x.File} {
			if _, err := strict.Hex(h, 32); err != nil {
				return inputErrorf("similarity match %d: %v", i+1, err)
			}
		}
		switch {
		case !compared[x.File]:
			return inputErrorf("similarity match %d resembles file %s, which the check did not compare", i+1, x.File[:12])
		case x.Distance < m.Nearest || x.Distance > m.Threshold:
			return inputErrorf("similarity match %d is at distance %d, outside %d to %d", i+1, x.Distance, m.Nearest, m.Threshold)
		case i > 0 && x.Distance < m.Matches[i-1].Distance:
			return inputErrorf("similarity matches are not nearest first")
		}
	}
	if len(m.Matches) > 0 && m.Matches[0].Distance != m.Nearest {
		return inputErrorf("the nearest similarity match is at distance %d, the check says %d", m.Matches[0].Distance, m.Nearest)
	}
	return nil
}

// ruleOnSimilarity is the rule of FORMAT.md §5.8: a similarity check compares only
// files an earlier record of the same asset names, so that what a pack says
// was checked is a file of the asset. A pack holds every record of its asset,
// so the rule reads the same there.
func (rb *RuleBook) ruleOnSimilarity(r *ledger.Record, s *Step) error {
	if s.Kind != KindSimilarity {
		return nil
	}
	for _, f := range s.In {
		i, ok := rb.files[f.SHA256]
		if !ok || !contains(rb.uses[i].Assets, s.Asset) {
			return fmt.Errorf("similarity check of file %s (%s), which no earlier record of asset %q names", f.Short(), f.Name, s.Asset)
		}
	}
	return nil
}
