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
	w := &d.m.Similarity
	d.section(w.Section.String())
	d.muted(w.Intro.F(percept.MaxDistance))
	d.pdf.Ln(2)
	for _, sr := range checks {
		s, m := sr.Step, sr.Step.Similarity
		d.need(40)
		d.font("B", 9.5)
		d.pdf.CellFormat(contentW, lineH, d.safe("B", w.Heading.F(sr.Rec.Seq, d.when(sr.Rec.Time)), false), "", 1, "L", false, 0, "")
		var what []string
		for _, f := range s.In {
			line := fmt.Sprintf("%s (SHA-256 %s…)", f.Name, f.SHA256[:16])
			if r := d.rolesBefore(c, sr.Rec.Seq, f.SHA256); r != "" {
				line += ", " + r
			}
			what = append(what, line)
		}
		d.field(w.Compared, strings.Join(what, "\n"))
		against := w.ReferenceImages.N(m.Count)
		if s.Source != "" {
			against += ": " + s.Source
		}
		d.field(w.Against, against)
		d.fieldStyle(w.ReferenceSet, "SHA-256 "+m.Set, "M")
		result := w.Clear.F(m.Threshold, m.Nearest)
		if m.Result == evidence.SimilarityLookalikes {
			result = w.Lookalikes.Of(len(m.Matches)).F(len(m.Matches), m.Threshold, m.Nearest)
		}
		d.field(w.Result, result)
		for i, x := range m.Matches {
			if i == 10 {
				d.field("", w.More.F(len(m.Matches)-10))
				break
			}
			like := names[x.File]
			if like == "" {
				like = x.File[:16]
			}
			d.field(w.LookAlike, w.LookAlikeLine.F(x.Distance, x.Name, x.SHA256[:16], like))
		}
		when := w.NoTrustedTime.String()
		if rt := times[sr.Rec.Seq]; !rt.NoLaterThan.IsZero() && rt.TSAChecked {
			when = w.TSATime.F(d.when(rt.NoLaterThan), rt.TSA)
		} else if !rt.WitnessTime.IsZero() {
			when = w.WitnessTime.F(d.when(rt.WitnessTime), rt.Witness)
		}
		d.field(w.When, d.when(sr.Rec.Time)+", "+when)
		d.field(w.Method, w.MethodLine.F(m.Method))
		if s.Note != "" {
			d.field(w.Note, s.Note)
		}
		d.pdf.Ln(2)
	}
}

// rolesBefore says what the asset's records before seq made of a file: "the
// final work", "a third-party input", …
func (d *doc) rolesBefore(c *collected, seq int64, sum string) string {
	var out []string
	for _, sr := range c.steps {
		if sr.Rec.Seq >= seq || sr.Step.Kind == evidence.KindSimilarity {
			continue
		}
		for _, r := range evidence.FileRoles(sr.Step, sum) {
			name := d.m.Similarity.Role[r].String()
			if name == "" {
				name = r // a role the catalogue does not name yet: shown as cairn calls it
			}
			if !contains(out, name) {
				out = append(out, name)
			}
		}
	}
	return strings.Join(out, ", ")
}
