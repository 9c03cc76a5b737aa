package export

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/internal/msg"
	"github.com/cairn-ledger/cairn/ledger"
)

// Grid geometry for thumbnails in the timeline, in millimetres.
const (
	cellW   = 31.0
	cellGap = 4.6
	capH    = 7.0 // caption under a thumbnail
	perRow  = 5   // 5*31 + 4*4.6 = 173.4 <= contentW
)

// picturesWanted lists every picture the pack draws, so that they can all be
// decoded in parallel before drawing starts.
func picturesWanted(c *collected) []picKey {
	var out []picKey
	for _, sr := range c.steps {
		for _, f := range sr.Step.Files() {
			if f.IsImage() {
				out = append(out, picKey{f, thumbPx})
			}
		}
	}
	if f := finalFile(c); f != nil && f.IsImage() {
		out = append(out, picKey{*f, coverPx})
	}
	return out
}

// The actors, in the order the chart stacks them.
var actors = []string{evidence.ActorHuman, evidence.ActorAI, evidence.ActorBoth, evidence.ActorUnknown}

func actorColor(by string) [3]int {
	switch by {
	case evidence.ActorAI:
		return colAI
	case evidence.ActorBoth:
		return colBoth
	case evidence.ActorUnknown:
		return colMuted
	}
	return colHuman
}

func (d *doc) actorName(by string) string {
	if s, ok := d.m.Actor[by]; ok {
		return s.String()
	}
	return d.m.Timeline.NotStated.String()
}

func (d *doc) timeline(c *collected, h *evidence.History) {
	w := &d.m.Timeline
	d.section(w.Title.String())
	clock := w.ClockUTC.String()
	if d.loc != nil {
		clock = w.ClockZone.F(d.loc.String())
	}
	d.muted(w.Intro.String() + " " + clock + " " + w.IntroRest.String())
	d.pdf.Ln(2)
	for _, sr := range h.All {
		d.step(c, h, sr)
	}
}

func (d *doc) step(c *collected, hist *evidence.History, sr evidence.StepRecord) {
	p, w, pk := d.pdf, &d.m.Timeline, &d.m.Pack
	s := sr.Step
	d.need(blockStart(s))
	y0 := p.GetY()
	ac := actorColor(s.By)
	// The coloured bar in the margin says who acted, at a glance.
	p.SetFillColor(ac[0], ac[1], ac[2])
	p.Rect(margin-4, y0+0.5, 1.6, 5, "F")

	retraction, retracted := hist.IsRetracted(sr.Rec.Seq)
	d.font("B", 10.5)
	if retracted {
		// Struck through: the record stays, but it does not count.
		p.SetFont(fontSans, "BS", 10.5)
	}
	head := fmt.Sprintf("#%d  %s", sr.Rec.Seq, strings.ToUpper(msg.Name(d.m.Kind, s.Kind)))
	p.CellFormat(p.GetStringWidth(head)+3, 6, head, "", 0, "L", false, 0, "")
	d.font("", 9)
	d.color(colMuted)
	t := d.when(sr.Rec.Time)
	p.CellFormat(p.GetStringWidth(t)+4, 6, t, "", 0, "L", false, 0, "")
	d.color([3]int{0, 0, 0})
	p.SetXY(p.GetX(), y0+0.9)
	d.label(d.actorName(s.By), ac)
	if s.Captured != nil {
		d.label(w.CapturedFrom.F(clip(s.Captured.From, 60)), colCapt)
	} else {
		d.label(w.Entered.String(), colMuted)
	}
	if hist.InFinal(sr.Rec.Seq) {
		d.label(w.InFinal.String(), colOK)
	}
	p.Ln(6)
	if retracted {
		d.color(colCapt)
		d.field(w.Retracted, w.RetractedBy.F(retraction.Rec.Seq, d.when(retraction.Rec.Time), retraction.Step.Why))
		d.color([3]int{0, 0, 0})
	}

	if s.Tool != "" || s.Model != "" {
		var parts []string
		if s.Tool != "" {
			parts = append(parts, w.ToolIs.F(s.Tool))
		}
		if s.Model != "" {
			parts = append(parts, w.ModelIs.F(s.Model))
		}
		d.field(w.ToolModel, strings.Join(parts, ", "))
	}
	if len(s.Params) > 0 {
		var ps []string
		for _, k := range s.SortedParams() {
			ps = append(ps, k+" = "+s.Params[k])
		}
		d.field(w.Parameters, strings.Join(ps, "\n"))
	}

	switch s.Kind {
	case evidence.KindAsset, evidence.KindAssetSet:
		for _, f := range []row{{pk.TitleField, s.Title}, {pk.KindOfWork, msg.Name(d.m.AssetKind, s.AssetKind)}, {pk.RightsHolder, s.Owner},
			{pk.Basis, msg.Name(d.m.Basis, s.Basis)}, {pk.Contract, s.Contract}, {pk.TDMLabel, msg.Name(d.m.TDM, s.TDM)}} {
			if f.value != "" {
				d.field(f.label, f.value)
			}
		}
	case evidence.KindPrompt, evidence.KindNote:
		d.box("", 10, s.Text)
	case evidence.KindGenerate:
		if s.Text != "" {
			d.box("", 10, s.Text)
		}
		if len(s.In) > 0 {
			d.small(w.InputImages.N(len(s.In)))
			d.grid(s.In, "")
		}
		d.small(w.Generated.N(len(s.Out)))
		d.grid(s.Out, "")
	case evidence.KindSelect:
		d.small(w.Chose.F(len(s.From)))
		d.grid(s.From, s.File.SHA256)
	case evidence.KindEdit:
		d.field(w.KindOfEdit, d.editKind(s.By))
		if s.Text != "" {
			d.field(w.Instruction, s.Text)
		}
		d.beforeAfter(*s.Before, *s.After)
		if len(s.In) > 0 {
			d.small(w.Placed.String())
			d.grid(s.In, "")
		}
	case evidence.KindSketch, evidence.KindFinal:
		d.grid([]evidence.FileRef{*s.File}, "")
	case evidence.KindFile:
		d.field(w.Origin, w.OriginUnknown.String())
		d.grid([]evidence.FileRef{*s.File}, "")
	case evidence.KindInput:
		d.field(pk.Source, orNone(s.Source, pk.NotRecorded))
		d.field(pk.Licence, orNone(s.License, pk.NotRecorded))
		d.field(pk.Permission, msg.Name(d.m.Permission, s.Permission))
		d.field(pk.Use, d.inputUse(s.Use))
		d.grid([]evidence.FileRef{*s.File}, "")
	case evidence.KindDisclose:
		d.field(w.DisclosedOn, d.m.Date(s.Date)+whereSuffix(s.Where))
		if evidence.DateBefore(s.Date, hist.All[0].Rec.Time) {
			d.field(w.Note, w.DeclaredEarly.String())
		}
	case evidence.KindRetract:
		d.field(w.Retracts, d.retractTarget(hist, s))
	}
	if s.Text != "" && s.Kind != evidence.KindPrompt && s.Kind != evidence.KindNote && s.Kind != evidence.KindGenerate && s.Kind != evidence.KindEdit {
		d.field(w.Text, s.Text)
	}
	if s.Why != "" {
		d.field(w.Why, s.Why)
	}
	if s.Note != "" {
		d.field(w.Note, s.Note)
	}
	if cp := s.Captured; cp != nil {
		var lines []string
		keys := make([]string, 0, len(cp.Fields))
		for k := range cp.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			lines = append(lines, k+": "+cp.Fields[k])
		}
		if cp.ClaimedTime != "" {
			lines = append(lines, w.ClaimedTime.F(cp.ClaimedTime))
		}
		if len(lines) > 0 {
			d.color(colCapt)
			d.field(w.CapturedValues, strings.Join(lines, "\n"))
			d.color([3]int{0, 0, 0})
		}
	}
	h := sr.Rec.Hash()
	d.color(colMuted)
	d.need(4)
	d.cell(contentW, 3.6, "M", 7, w.RecordLine.F(h[:8], ledger.KeyID(sr.Rec.Key))+"  "+clip(c.names[string(sr.Rec.Key)], 40), 1)
	d.color([3]int{0, 0, 0})
	d.rule()
	p.Ln(1.5)
}

// editKind says who made an edit, in words that keep an AI-assisted edit
// apart from one by hand.
func (d *doc) editKind(by string) string {
	w := &d.m.Timeline
	switch by {
	case evidence.ActorHuman:
		return w.EditByHand.String()
	case evidence.ActorBoth:
		return w.EditAssisted.String()
	case evidence.ActorAI:
		return w.EditByAI.String()
	}
	return w.EditUnknown.String()
}

// retractTarget describes the record a retraction names.
func (d *doc) retractTarget(h *evidence.History, s *evidence.Step) string {
	ref := s.Retracts
	for _, sr := range h.All {
		if sr.Rec.Seq == ref.Seq {
			return d.m.Timeline.RetractTarget.F(ref.Seq, msg.Name(d.m.Kind, sr.Step.Kind), d.when(sr.Rec.Time), ref.Hash[:16])
		}
	}
	return d.m.Timeline.RetractOther.F(ref.Seq, ref.Hash[:16])
}

// blockStart is the height a step's block needs on the page before it starts:
// its header and its first row of pictures, so that a header is never left
// alone at the foot of a page.
func blockStart(s *evidence.Step) float64 {
	const header = 18.0
	switch s.Kind {
	case evidence.KindEdit:
		// Tool, kind of edit and instruction come before the two pictures.
		return header + 75 + 15
	case evidence.KindGenerate, evidence.KindSelect, evidence.KindSketch, evidence.KindFinal, evidence.KindInput, evidence.KindFile:
		return header + cellW + capH + 12
	}
	return header + 8
}

func (d *doc) small(s string) {
	d.need(5)
	d.color(colMuted)
	d.cell(contentW, 4.5, "", 8.5, s, 1)
	d.color([3]int{0, 0, 0})
}

// grid draws files as thumbnails, perRow to a row, with the one whose hash is
// chosen framed and labelled.
func (d *doc) grid(files []evidence.FileRef, chosen string) {
	p := d.pdf
	for i := 0; i < len(files); i += perRow {
		row := files[i:min(i+perRow, len(files))]
		d.need(cellW + capH + 2)
		y := p.GetY()
		for j, f := range row {
			x := margin + float64(j)*(cellW+cellGap)
			d.image(f.SHA256, d.pics.get(f, thumbPx), thumbPx, x, y, cellW, cellW)
			if f.SHA256 == chosen {
				p.SetDrawColor(colOK[0], colOK[1], colOK[2])
				p.SetLineWidth(1.2)
				p.Rect(x-0.8, y-0.8, cellW+1.6, cellW+1.6, "D")
				p.SetLineWidth(0.2)
			}
			d.caption(f, x, y+cellW+1.2, f.SHA256 == chosen)
		}
		p.SetXY(margin, y+cellW+capH+1.5)
	}
}

func (d *doc) caption(f evidence.FileRef, x, y float64, chosen bool) {
	p := d.pdf
	p.SetXY(x, y)
	if chosen {
		d.font("B", 6.5)
		d.color(colOK)
		p.CellFormat(cellW, 3, d.m.Timeline.Chosen.String()+" "+f.Short(), "", 2, "L", false, 0, "")
	} else {
		d.font("M", 6.5)
		d.color(colMuted)
		p.CellFormat(cellW, 3, f.Short(), "", 2, "L", false, 0, "")
	}
	d.color(colMuted)
	p.SetX(x)
	d.cell(cellW, 3, "", 6.5, clip(f.Name, 26), 0)
	d.color([3]int{0, 0, 0})
}

// beforeAfter draws an edit's two versions side by side.
func (d *doc) beforeAfter(before, after evidence.FileRef) {
	p := d.pdf
	const w = 62.0
	d.need(w + 14)
	y := p.GetY()
	d.font("B", 8.5)
	p.SetXY(margin, y)
	p.CellFormat(w, 4.5, d.m.Timeline.Before.String(), "", 0, "L", false, 0, "")
	p.SetXY(margin+w+16, y)
	p.CellFormat(w, 4.5, d.m.Timeline.After.String(), "", 0, "L", false, 0, "")
	y += 5
	d.image(before.SHA256, d.pics.get(before, thumbPx), thumbPx, margin, y, w, w)
	d.image(after.SHA256, d.pics.get(after, thumbPx), thumbPx, margin+w+16, y, w, w)
	d.font("B", 16)
	d.color(colMuted)
	p.SetXY(margin+w, y+w/2-4)
	p.CellFormat(16, 8, "→", "", 0, "C", false, 0, "")
	for i, f := range []evidence.FileRef{before, after} {
		x := margin + float64(i)*(w+16)
		p.SetXY(x, y+w+0.6)
		d.color(colMuted)
		d.cell(w, 3, "M", 6.5, f.Short()+"  "+clip(f.Name, 30), 0)
	}
	d.color([3]int{0, 0, 0})
	p.SetXY(margin, y+w+5)
}

// chartH is the height of the chart's bars, in mm.
const chartH = 38.0

// chart draws the steps that count over time as stacked bars, one colour per
// actor. A slot is at least a second long, so that a session recorded within
// seconds is not cut into slots of no time.
func (d *doc) chart(c *collected, h *evidence.History) {
	p := d.pdf
	const h0 = chartH
	d.need(h0 + 16)
	steps := h.Steps
	if len(steps) == 0 {
		return
	}
	first, last := steps[0].Rec.Time, steps[len(steps)-1].Rec.Time
	total := last.Sub(first)
	buckets := min(48, max(1, int(total/time.Second)))
	counts := make([][4]int, buckets) // in the order of actors
	for _, sr := range steps {
		i := 0
		if total > 0 {
			i = int(int64(buckets-1) * int64(sr.Rec.Time.Sub(first)) / int64(total))
		}
		k := slices.Index(actors, sr.Step.By)
		if k < 0 {
			k = 0
		}
		counts[i][k]++
	}
	maxN := 1
	for _, b := range counts {
		maxN = max(maxN, b[0]+b[1]+b[2]+b[3])
	}
	y0 := p.GetY() + 2
	x0 := margin + 8
	w := contentW - 8
	bw := w / float64(buckets)
	p.SetDrawColor(colRule[0], colRule[1], colRule[2])
	p.SetLineWidth(0.2)
	p.Line(x0, y0+h0, x0+w, y0+h0)
	p.Line(x0, y0, x0, y0+h0)
	d.font("", 6.5)
	d.color(colMuted)
	p.SetXY(margin, y0-1.5)
	p.CellFormat(7, 3, fmt.Sprint(maxN), "", 0, "R", false, 0, "")
	p.SetXY(margin, y0+h0-1.5)
	p.CellFormat(7, 3, "0", "", 0, "R", false, 0, "")
	for i, b := range counts {
		y := y0 + h0
		for k, n := range b {
			if n == 0 {
				continue
			}
			col := actorColor(actors[k])
			bh := h0 * float64(n) / float64(maxN)
			y -= bh
			p.SetFillColor(col[0], col[1], col[2])
			p.Rect(x0+float64(i)*bw+min(0.3, bw/8), y, bw-min(0.6, bw/4), bh, "F")
		}
	}
	p.SetXY(x0, y0+h0+0.5)
	p.CellFormat(w/2, 3.5, d.when(first), "", 0, "L", false, 0, "")
	p.CellFormat(w/2, 3.5, d.when(last), "", 1, "R", false, 0, "")
	p.SetX(x0)
	for _, a := range actors {
		col := actorColor(a)
		name := d.actorName(a)
		p.SetFillColor(col[0], col[1], col[2])
		x, y := p.GetX(), p.GetY()+0.8
		p.Rect(x, y, 3, 3, "F")
		p.SetX(x + 4)
		p.CellFormat(p.GetStringWidth(name)+6, 4.5, name, "", 0, "L", false, 0, "")
	}
	d.color([3]int{0, 0, 0})
	p.Ln(6)
	d.muted(d.chartCaption(len(steps), buckets, total))
}

// chartCaption says what the chart's slots are.
func (d *doc) chartCaption(steps, buckets int, total time.Duration) string {
	if buckets == 1 {
		return d.m.Timeline.ChartOne.Of(steps).F(steps, d.span(total))
	}
	return d.m.Timeline.ChartSlots.F(buckets, d.span(total/time.Duration(buckets)))
}
