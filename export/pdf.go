package export

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/cairn-ledger/cairn/internal/msg"
)

// Page geometry, in millimetres (A4 portrait).
const (
	pageW    = 210.0
	pageH    = 297.0
	margin   = 18.0
	bottom   = 20.0 // room for the footer
	contentW = pageW - 2*margin
	lineH    = 5.0
)

// Colours of who acted, used in the timeline and the chart.
var (
	colHuman = [3]int{38, 105, 180}
	colAI    = [3]int{226, 128, 24}
	colBoth  = [3]int{128, 78, 168}
	colMuted = [3]int{110, 110, 110}
	colRule  = [3]int{200, 200, 200}
	colCapt  = [3]int{180, 90, 0}
	colOK    = [3]int{30, 130, 60}
)

// doc wraps fpdf with the few drawing operations the pack needs. Every string
// it draws goes through safeText.
type doc struct {
	pdf   *fpdf.Fpdf
	pics  *pictures
	asset string
	// replacedOnPage is set when text on the current page had characters the
	// fonts cannot show; the footer then says where the exact text is.
	replacedOnPage bool
	replacedAny    bool
	exported       time.Time // when the pack is made
	// m holds the pack's words; loc is the zone its times are shown in,
	// beside UTC (nil: UTC alone).
	m   *msg.Catalogue
	loc *time.Location
	// fonts draw what the Go fonts cannot (nil: none).
	fonts *fontSet
}

func newDoc(asset string, pics *pictures, t time.Time, m *msg.Catalogue, loc *time.Location) *doc {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCatalogSort(true)
	pdf.SetCreationDate(t)
	pdf.SetModificationDate(t)
	pdf.SetProducer("cairn", false)
	pdf.SetCreator("cairn export", false)
	pdf.SetTitle(m.Pack.DocTitle.F(asset), true)
	pdf.SetMargins(margin, margin, margin)
	pdf.SetAutoPageBreak(true, bottom)
	// fpdf writes into the font bytes it is given while subsetting, so each
	// document gets its own copy: otherwise a second export in the same
	// process starts from altered fonts and its output differs.
	pdf.AddUTF8FontFromBytes(fontSans, "", bytes.Clone(faceRegular.ttf))
	pdf.AddUTF8FontFromBytes(fontSans, "B", bytes.Clone(faceBold.ttf))
	pdf.AddUTF8FontFromBytes(fontMono, "", bytes.Clone(faceMono.ttf))
	pdf.AliasNbPages("{nb}")
	d := &doc{pdf: pdf, pics: pics, asset: asset, m: m, loc: loc}
	pdf.SetFooterFunc(d.footer)
	return d
}

func (d *doc) footer() {
	p := d.pdf
	p.SetY(-bottom + 5)
	if d.replacedOnPage {
		d.font("", 7)
		d.color(colCapt)
		p.CellFormat(contentW, 3.5, d.m.Pack.Replaced.String(), "", 1, "L", false, 0, "")
	}
	d.font("", 7.5)
	d.color(colMuted)
	p.CellFormat(contentW/2, 4, d.m.Pack.FooterPack.F(d.asset), "", 0, "L", false, 0, "")
	p.CellFormat(contentW/2, 4, d.m.Pack.Page.F(p.PageNo(), "{nb}"), "", 0, "R", false, 0, "")
	d.replacedOnPage = false
	d.color([3]int{0, 0, 0})
}

// font selects the face: style "" regular, "B" bold, "M" monospace.
func (d *doc) font(style string, size float64) {
	switch style {
	case "M":
		d.pdf.SetFont(fontMono, "", size)
	default:
		d.pdf.SetFont(fontSans, style, size)
	}
}

func (d *doc) faceFor(style string) *face {
	switch style {
	case "B":
		return faceBold
	case "M":
		return faceMono
	}
	return faceRegular
}

func (d *doc) color(c [3]int) { d.pdf.SetTextColor(c[0], c[1], c[2]) }

// safe makes s drawable in style and notes any replacement for the footer.
func (d *doc) safe(style, s string, keepLines bool) string {
	out, replaced := safeText(d.faceFor(style), s, keepLines)
	if replaced {
		d.replacedOnPage = true
		d.replacedAny = true
	}
	return out
}

// need starts a new page unless h millimetres fit below the current position.
func (d *doc) need(h float64) {
	if d.pdf.GetY()+h > pageH-bottom {
		d.pdf.AddPage()
	}
}

// section starts a page with a title and an outline entry.
func (d *doc) section(title string) {
	d.pdf.AddPage()
	d.pdf.Bookmark(title, 0, -1)
	d.font("B", 17)
	d.pdf.CellFormat(contentW, 9, title, "", 1, "L", false, 0, "")
	d.rule()
	d.pdf.Ln(3)
}

func (d *doc) heading(title string) {
	d.need(16)
	d.pdf.Ln(2)
	d.cell(contentW, 7, "B", 12, title, 1)
}

func (d *doc) rule() {
	p := d.pdf
	p.SetDrawColor(colRule[0], colRule[1], colRule[2])
	p.SetLineWidth(0.2)
	y := p.GetY() + 1
	p.Line(margin, y, pageW-margin, y)
	p.SetY(y + 1)
}

// para draws text over the full width, wrapping; newlines are kept.
func (d *doc) para(style string, size float64, s string) {
	d.multi(style, size, contentW, size*0.45+0.6, s, false)
}

// multi draws s from the current position in a column w wide, wrapping, as
// MultiCell does; text with emoji or fallback fonts goes through flow.
func (d *doc) multi(style string, size, w, lh float64, s string, fill bool) {
	d.font(style, size)
	if d.needsFlow(style, s) {
		d.flow(style, size, w, lh, s, fill)
		return
	}
	d.pdf.MultiCell(w, lh, d.safe(style, s, true), "", "L", fill)
}

// cell draws s on one line in a cell w wide, as CellFormat(w, h, s, "", ln,
// "L", false, 0, "") does; text with emoji or fallback fonts goes through the
// runs of flow, and is cut at the cell's end.
func (d *doc) cell(w, h float64, style string, size float64, s string, ln int) {
	p := d.pdf
	d.font(style, size)
	if !d.needsFlow(style, s) {
		p.CellFormat(w, h, d.safe(style, s, false), "", ln, "L", false, 0, "")
		return
	}
	x, y := p.GetX(), p.GetY()
	rs, _, replaced := d.runs(style, strings.ReplaceAll(s, "\n", " / "))
	if replaced {
		d.replacedOnPage, d.replacedAny = true, true
	}
	d.measure(rs, style, size)
	cm := p.GetCellMargin()
	var fit []textRun
	used := 2 * cm
	for _, r := range rs {
		if used+r.w > w {
			break
		}
		fit, used = append(fit, r), used+r.w
	}
	d.line(fit, style, size, x+cm, y, h)
	switch ln {
	case 0:
		p.SetXY(x+w, y)
	case 1:
		p.SetXY(p.GetX(), y+h)
		p.SetX(margin)
	default:
		p.SetXY(x, y+h)
	}
}

// muted draws a small grey paragraph.
func (d *doc) muted(s string) {
	d.color(colMuted)
	d.para("", 8.5, s)
	d.color([3]int{0, 0, 0})
}

// when writes an instant in the pack's language and zone.
func (d *doc) when(t time.Time) string { return d.m.Time(t, d.loc) }

// field draws "label  value" with the value wrapping in its own column.
func (d *doc) field(label msg.S, value string) {
	d.fieldStyle(label, value, "")
}

func (d *doc) fieldStyle(label msg.S, value, style string) {
	labelW := d.m.LabelWidth
	p := d.pdf
	d.font("B", 9.5)
	l := d.safe("B", label.String(), false)
	longLabel := p.GetStringWidth(l) > labelW-1
	h := d.valueHeight(value, style, contentW-labelW)
	if longLabel {
		h += lineH
	}
	d.need(h)
	d.font("B", 9.5)
	if longLabel {
		// A long label gets a line of its own rather than running into the value.
		p.CellFormat(contentW, lineH, l, "", 1, "L", false, 0, "")
	} else {
		p.CellFormat(labelW, lineH, l, "", 0, "L", false, 0, "")
	}
	y := p.GetY()
	size := 9.5
	if style == "M" {
		size = 8 // 64 hex digits fit the value column
	}
	p.SetLeftMargin(margin + labelW)
	p.SetXY(margin+labelW, y)
	d.multi(style, size, contentW-labelW, lineH, value, false)
	p.SetLeftMargin(margin)
	p.SetX(margin)
}

// valueHeight is the height a field's value takes, so that a value of up to
// half a page is not split by a page break (a longer one must be).
func (d *doc) valueHeight(value, style string, w float64) float64 {
	size := 9.5
	if style == "M" {
		size = 8
	}
	d.font(style, size)
	n := 0
	if d.needsFlow(style, value) {
		for _, para := range strings.Split(value, "\n") {
			rs, _, _ := d.runs(style, para)
			n += len(d.wrap(rs, style, size, w-2*d.pdf.GetCellMargin()))
			d.font(style, size)
		}
		return min(float64(max(n, 2))*lineH, (pageH-bottom-margin)/2)
	}
	text, _ := safeText(d.faceFor(style), value, true)
	for _, line := range strings.Split(text, "\n") {
		n += max(1, len(d.pdf.SplitText(line, w)))
	}
	return min(float64(max(n, 2))*lineH, (pageH-bottom-margin)/2)
}

// bullet draws one list item.
func (d *doc) bullet(s string) {
	p := d.pdf
	d.font("", 10)
	d.need(lineH)
	p.CellFormat(5, lineH, "•", "", 0, "L", false, 0, "")
	p.SetLeftMargin(margin + 5)
	d.multi("", 10, contentW-5, lineH, s, false)
	p.SetLeftMargin(margin)
	p.SetX(margin)
}

// box draws text in a light box: prompts, notes and other text typed by people.
func (d *doc) box(style string, size float64, s string) {
	p := d.pdf
	p.SetFillColor(245, 245, 240)
	p.SetLeftMargin(margin + 2)
	p.SetX(margin + 2)
	d.multi(style, size, contentW-2, size*0.45+0.8, s, true)
	p.SetLeftMargin(margin)
	p.SetX(margin)
}

// label draws a small coloured tag at the current position and moves right.
func (d *doc) label(text string, c [3]int) {
	p := d.pdf
	d.font("B", 7.5)
	var rs []textRun
	s := d.safe("B", text, false)
	w := p.GetStringWidth(s) + 3
	flowing := d.needsFlow("B", text)
	if flowing {
		rs, _, _ = d.runs("B", text)
		d.measure(rs, "B", 7.5)
		w = 3
		for _, r := range rs {
			w += r.w
		}
	}
	if x := p.GetX(); x+w > pageW-margin && x > margin {
		// No room left on this line: the tag goes on the next one.
		p.SetXY(margin, p.GetY()+5)
	}
	p.SetFillColor(c[0], c[1], c[2])
	p.SetTextColor(255, 255, 255)
	if flowing {
		x, y := p.GetX(), p.GetY()
		p.Rect(x, y, w, 4.2, "F")
		d.line(rs, "B", 7.5, x+1.5, y, 4.2)
		p.SetXY(x+w, y)
	} else {
		p.CellFormat(w, 4.2, s, "", 0, "C", true, 0, "")
	}
	p.SetTextColor(0, 0, 0)
	p.SetX(p.GetX() + 1.5)
}

// image draws a prepared picture fitted into the box (x, y, w, h), centred, or
// a placeholder that says why there is no picture.
func (d *doc) image(sha string, pic *picture, px int, x, y, w, h float64) {
	p := d.pdf
	if pic == nil || pic.jpeg == nil {
		p.SetDrawColor(colRule[0], colRule[1], colRule[2])
		p.SetFillColor(248, 248, 248)
		p.Rect(x, y, w, h, "FD")
		d.font("", 6.5)
		d.color(colMuted)
		p.SetXY(x+1, y+h/2-4)
		reason := d.m.Picture["none"].String()
		if pic != nil {
			reason = pic.reason.F(d.m)
		}
		p.MultiCell(w-2, 3, d.safe("", reason, false), "", "C", false)
		d.color([3]int{0, 0, 0})
		return
	}
	name := d.pics.register(p, pic, sha, px)
	iw, ih := float64(pic.w), float64(pic.h)
	s := min(w/iw, h/ih)
	dw, dh := iw*s, ih*s
	p.ImageOptions(name, x+(w-dw)/2, y+(h-dh)/2, dw, dh, false, fpdf.ImageOptions{ImageType: "JPG"}, 0, "")
}

// output finishes the document.
func (d *doc) output() ([]byte, error) {
	var b bytes.Buffer
	if err := d.pdf.Output(&b); err != nil {
		return nil, fmt.Errorf("writing the PDF: %w", err)
	}
	return b.Bytes(), nil
}
