package export

import (
	"fmt"
	"strings"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/evidence/percept"
)

// similarity draws the asset's recorded similarity checks (cairn match
// --against DIR --record), if it has any: what was compared, against how many
// reference images, the nearest distance and the look-alikes, and when. It
// says plainly that cairn searched nothing but the reference set.
func (d *doc) similarity(c *collected, self *Report) {
	var checks []evidence.StepRecord
	for _, sr := range c.steps {
		if sr.Step.Kind == evidence.KindSimilarity && sr.Step.Similarity != nil {
			checks = append(checks, sr)
		}
	}
	if len(checks) == 0 {
		return
	}
	times := map[int64]RecordTime{}
	for _, rt := range self.Times {
		times[rt.Index] = rt
	}
	names := map[string]string{}
	for _, sr := range c.steps {
		for _, f := range sr.Step.Files() {
			names[f.SHA256] = f.Name
		}
	}
	d.section("Similarity checks")
	d.muted("These records say that the asset's files were compared, by perceptual fingerprint, with a set of reference images (for example a stock library, a competitor's catalogue, or images a client supplied), before publishing. " +
		"cairn compares only with the reference images it was given: it does not search the web or any other collection, so a clear result means only that none of those images looked alike. " +
		fmt.Sprintf("The distance runs from 0 (the same picture) to %d; a look-alike is a lead for a person to check, not a finding.", percept.MaxDistance))
	d.pdf.Ln(2)
	for _, sr := range checks {
		s, m := sr.Step, sr.Step.Similarity
		d.need(40)
		d.font("B", 9.5)
		d.pdf.CellFormat(contentW, lineH, fmt.Sprintf("#%d  similarity check, %s", sr.Rec.Seq, sr.Rec.Time.Format(dateTime)), "", 1, "L", false, 0, "")
		var what []string
		for _, f := range s.In {
			line := fmt.Sprintf("%s (SHA-256 %s…)", f.Name, f.SHA256[:16])
			if r := rolesBefore(c, sr.Rec.Seq, f.SHA256); r != "" {
				line += ", " + r
			}
			what = append(what, line)
		}
		d.field("Compared", strings.Join(what, "\n"))
		against := fmt.Sprintf("%d reference images", m.Count)
		if s.Source != "" {
			against += ": " + s.Source
		}
		d.field("Against", against)
		d.fieldStyle("Reference set", "SHA-256 "+m.Set, "M")
		result := fmt.Sprintf("clear: no reference image within distance %d; the nearest was at %d", m.Threshold, m.Nearest)
		if m.Result == evidence.SimilarityLookalikes {
			result = fmt.Sprintf("%d look-alike(s) within distance %d; the nearest at %d", len(m.Matches), m.Threshold, m.Nearest)
		}
		d.field("Result", result)
		for i, x := range m.Matches {
			if i == 10 {
				d.field("", fmt.Sprintf("… and %d more, listed in the record (evidence.json)", len(m.Matches)-10))
				break
			}
			d.field("Look-alike", fmt.Sprintf("distance %d: %s (SHA-256 %s…) looks like %s", x.Distance, x.Name, x.SHA256[:16], orNone(names[x.File], x.File[:16])))
		}
		when := "by the author's clock; no trusted time covers this record"
		if rt := times[sr.Rec.Seq]; !rt.NoLaterThan.IsZero() && rt.TSAChecked {
			when = fmt.Sprintf("no later than %s (RFC 3161 timestamp, TSA %s)", rt.NoLaterThan.Format(dateTime), rt.TSA)
		} else if !rt.WitnessTime.IsZero() {
			when = fmt.Sprintf("no later than %s (witness %s)", rt.WitnessTime.Format(dateTime), rt.Witness)
		}
		d.field("When", sr.Rec.Time.Format(dateTime)+", "+when)
		d.field("Method", m.Method+" (perceptual fingerprints; FORMAT.md section 5.6)")
		if s.Note != "" {
			d.field("Note", s.Note)
		}
		d.pdf.Ln(2)
	}
}

// rolesBefore says what the asset's records before seq made of a file: "the
// final work", "a third-party input", …
func rolesBefore(c *collected, seq int64, sum string) string {
	var out []string
	for _, sr := range c.steps {
		if sr.Rec.Seq >= seq || sr.Step.Kind == evidence.KindSimilarity {
			continue
		}
		for _, r := range evidence.FileRoles(sr.Step, sum) {
			if !contains(out, r) {
				out = append(out, r)
			}
		}
	}
	return strings.Join(out, ", ")
}
