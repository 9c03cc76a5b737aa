package export

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/internal/msg"
	"github.com/cairn-ledger/cairn/ledger"
)

// render draws the pack's pages: cover, human contribution, timeline, inputs
// and rights, integrity. It returns fpdf's output, unsigned.
//
// self is the pack's own verification (selfCheck): what the attestations prove,
// as verify-pack with the ledger's configured roots and witness keys finds it.
func render(b *evidence.Book, c *collected, bd *Bundle, cp *ledger.Checkpoint, self *Report, t time.Time, opts Options) (out []byte, err error) {
	// fpdf reports some problems by panicking; a pack that cannot be drawn must
	// fail the export, not the process.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("drawing the evidence pack: %v", r)
		}
	}()
	pics := loadPictures(b.Files, picturesWanted(c))
	d := newDoc(c.info.ID, pics, t, opts.lang(), opts.Zone)
	d.fonts = fallbacks(opts.Fonts, opts.SystemFonts)
	d.exported = t
	acc := evidence.NewHistory(c.info.ID, c.steps).Account()
	d.cover(c, acc, cp, self, opts)
	d.human(c, acc)
	d.timeline(c, acc.History())
	d.inputs(c, acc)
	d.similarity(c, self)
	d.integrity(c, bd, cp, self)
	return d.output()
}

// finalFile is the file of the asset's last final step, if any.
func finalFile(c *collected) *evidence.FileRef {
	for i := len(c.steps) - 1; i >= 0; i-- {
		if s := c.steps[i].Step; s.Kind == evidence.KindFinal && s.File != nil {
			return s.File
		}
	}
	return nil
}

// authorLine names a key's holder and its fingerprint.
func (d *doc) authorLine(c *collected, key []byte) string {
	n := c.names[string(key)]
	if n == "" {
		n = d.m.Pack.UnnamedKey.String()
	}
	return d.m.Pack.AuthorLine.F(n, ledger.KeyID(key))
}

func (d *doc) cover(c *collected, acc *evidence.Account, cp *ledger.Checkpoint, self *Report, opts Options) {
	p, w := d.pdf, &d.m.Pack
	p.AddPage()
	p.Bookmark(w.CoverMark.String(), 0, -1)
	d.font("B", 22)
	p.CellFormat(contentW, 11, w.Title.String(), "", 1, "L", false, 0, "")
	d.font("", 12)
	d.color(colMuted)
	p.CellFormat(contentW, 6, w.Subtitle.String(), "", 1, "L", false, 0, "")
	d.color([3]int{0, 0, 0})
	d.rule()
	p.Ln(2)

	info := c.info
	d.field(w.Asset, info.ID)
	if info.Title != "" {
		d.field(w.TitleField, info.Title)
	}
	if info.Kind != "" {
		d.field(w.KindOfWork, msg.Name(d.m.AssetKind, info.Kind))
	}
	d.field(w.RightsHolder, orNone(info.Owner, w.NotRecorded))
	d.field(w.BasisOfRights, orNone(msg.Name(d.m.Basis, info.Basis), w.NotRecorded))
	if info.Contract != "" {
		d.field(w.Contract, info.Contract)
	}
	// The authors are the keys that signed the asset's records, with the names
	// their identity or rotation records give. Keys in the pack only because they
	// signed a checkpoint are not authors of the work.
	var authors []string
	for _, sr := range c.steps {
		line := d.authorLine(c, sr.Rec.Key)
		if e := c.emails[string(sr.Rec.Key)]; e != "" {
			line += " <" + e + ">"
		}
		if !contains(authors, line) {
			authors = append(authors, line)
		}
	}
	d.field(w.Authors, strings.Join(authors, "\n"))
	for _, nc := range c.rules.NameClashes() {
		var keys []string
		for _, k := range nc.Keys {
			keys = append(keys, k.ID())
		}
		d.field(w.Warning, w.NameClash.F(len(nc.Keys), nc.Name, strings.Join(keys, ", ")))
	}
	d.field(w.Period, w.FromTo.F(d.when(acc.First), d.when(acc.Last), w.Steps.N(acc.Steps)))
	d.field(w.Exported, w.ExportedAt.F(d.when(d.exported)))
	if line, ok := d.exporterLine(c); ok {
		d.field(w.SignedBy, line)
	} else {
		d.field(w.SignedBy, d.authorLine(c, c.signer))
	}
	d.fieldStyle(w.Anchored, w.AnchorValue.F(cp.Origin, cp.Size, base64.StdEncoding.EncodeToString(cp.Root[:])), "M")
	label, text := d.coverTime(c, self)
	d.field(label, text+d.signatureTimestampNote(c))
	p.Ln(3)

	if f := finalFile(c); f != nil {
		d.heading(w.FinalWork.String())
		pic := d.pics.get(*f, coverPx)
		d.need(95)
		y := p.GetY()
		d.image(f.SHA256, pic, coverPx, margin, y, 90, 90)
		p.SetLeftMargin(margin + 95)
		p.SetXY(margin+95, y)
		d.multi("B", 9, contentW-95, 4.5, strings.ReplaceAll(f.Name, "\n", " / "), false)
		d.multi("", 8.5, contentW-95, 4.5, strings.ReplaceAll(w.FileTypeSize.F(orNone(f.Type, w.UnknownType), f.Size), "\n", " / "), false)
		p.Ln(1)
		d.font("B", 8.5)
		p.MultiCell(contentW-95, 4.5, w.FileSHA.String(), "", "L", false)
		d.font("M", 8)
		p.MultiCell(contentW-95, 4, f.SHA256[:32]+"\n"+f.SHA256[32:], "", "L", false)
		p.Ln(2)
		d.color(colMuted)
		d.font("", 8)
		p.MultiCell(contentW-95, 4, w.AnyCopy.String(), "", "L", false)
		if opts.WithFiles {
			p.MultiCell(contentW-95, 4, w.Attached.F(AttachmentName(*f)), "", "L", false)
		}
		d.color([3]int{0, 0, 0})
		p.SetLeftMargin(margin)
		p.SetXY(margin, y+93)
	} else {
		d.heading(w.FinalWork.String())
		d.muted(w.NoFinal.String())
	}

	d.heading(w.About.String())
	d.muted(w.AboutText.String())
}

// coverTime says, for the cover, what fixes the time of the asset's records
// independently of the author's clock.
func (d *doc) coverTime(c *collected, self *Report) (label msg.S, text string) {
	w := &d.m.Pack
	byIndex := map[int64]RecordTime{}
	for _, rt := range self.Times {
		byIndex[rt.Index] = rt
	}
	var latest RecordTime
	covered, checked, lastCovered := 0, true, int64(-1)
	var witnessed RecordTime
	for _, sr := range c.steps {
		rt := byIndex[sr.Rec.Seq]
		if !rt.WitnessTime.IsZero() && rt.WitnessTime.After(witnessed.WitnessTime) {
			witnessed = rt
		}
		if rt.NoLaterThan.IsZero() {
			continue
		}
		covered++
		checked = checked && rt.TSAChecked
		lastCovered = sr.Rec.Seq
		if rt.NoLaterThan.After(latest.NoLaterThan) {
			latest = rt
		}
	}
	n := len(c.steps)
	if covered == 0 {
		text = w.NoTimestamp.String()
		if c.sigTSA != "" {
			text = w.NoTimestampSig.String()
		}
		if !witnessed.WitnessTime.IsZero() {
			text += w.WitnessSawAll.F(witnessed.Witness, d.when(witnessed.WitnessTime))
		}
		return w.TrustedTime, text
	}
	how := w.TSAChecked
	label = w.TrustedTime
	if !checked {
		how = w.TSANotChecked
		label = w.Timestamp
	}
	if covered == n {
		text = w.AllCovered.F(d.when(latest.NoLaterThan), n, latest.TSA, how)
	} else {
		text = w.SomeCovered.F(covered, n, lastCovered, d.when(latest.NoLaterThan), latest.TSA, how, w.LaterRecords.N(n-covered))
	}
	if !witnessed.WitnessTime.IsZero() {
		text += w.WitnessCosigned.F(witnessed.Witness, d.when(witnessed.WitnessTime))
	}
	return label, text
}

func orNone(s string, none msg.S) string {
	if s == "" {
		return none.String()
	}
	return s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (d *doc) human(c *collected, acc *evidence.Account) {
	w := &d.m.Pack
	d.section(w.Human.String())
	d.muted(w.HumanIntro.String())
	d.pdf.Ln(2)
	for _, r := range d.accountRows(acc) {
		d.field(r.label, r.value)
	}

	d.bullets(w.WhatHuman, acc.HumanContribution(d.m), w.NoHuman)
	d.bullets(w.WhatAI, acc.AIContribution(d.m), w.NoAI)
	if un := acc.UnknownContribution(d.m); len(un) > 0 {
		d.bullets(w.Neither, un, "")
	}

	d.need(chartH + 16 + 16) // the heading stays on the page of its chart
	d.heading(w.StepsOverTime.String())
	d.chart(c, acc.History())

	d.copyrightDraft(acc)
}

// bullets draws a heading and its items, or none when there are no items.
func (d *doc) bullets(heading msg.S, items []string, none msg.S) {
	d.heading(heading.String())
	if len(items) == 0 {
		items = []string{none.String()}
	}
	for _, s := range items {
		d.bullet(s)
	}
}

// A row is one count of the account: a label and its value.
type row struct {
	label msg.S
	value string
}

// accountRows are the counts of the account, each in words that are true of
// it: an AI-assisted edit is never an edit by hand.
func (d *doc) accountRows(acc *evidence.Account) []row {
	w := &d.m.Pack
	chosen := w.None.String()
	if len(acc.ChosenOutOf) > 0 {
		var parts []string
		for _, n := range acc.ChosenOutOf {
			parts = append(parts, d.m.Account.OneOf.F(n))
		}
		chosen = strings.Join(parts, ", ")
		if len(parts) > 20 {
			chosen = strings.Join(parts[:20], ", ") + w.AndMore.F(len(parts)-20)
		}
	}
	gens := fmt.Sprint(acc.Generations)
	if acc.Generations > 0 {
		gens += w.Producing.F(d.m.Account.Candidates.N(acc.Candidates))
		if acc.FromInput > 0 {
			gens += w.FromInput.F(acc.FromInput)
		}
	}
	rows := []row{
		{w.PromptsWritten, w.PromptsValue.F(acc.Prompts, acc.PromptsBoth, acc.PromptsAI)},
		{w.Generations, gens},
		{w.Selections, w.SelectionsValue.F(acc.Selections, chosen)},
		{w.EditsByHand, w.EditsByHandValue.F(acc.EditsByHand)},
		{w.AIAssisted, w.AIAssistedValue.F(acc.EditsAIAssisted)},
	}
	if acc.EditsByAI > 0 {
		rows = append(rows, row{w.EditsByAI, fmt.Sprint(acc.EditsByAI)})
	}
	if acc.EditsUnknown > 0 {
		rows = append(rows, row{w.EditsUnknown, w.NeitherValue.F(acc.EditsUnknown)})
	}
	rows = append(rows,
		row{w.Sketches, fmt.Sprint(acc.Sketches)},
		row{w.Inputs, w.InputsValue.F(acc.Inputs, acc.InputsUnknown)},
	)
	if acc.UnknownFiles > 0 {
		rows = append(rows, row{w.UnknownFiles, w.NeitherValue.F(acc.UnknownFiles)})
	}
	rows = append(rows, row{w.Notes, fmt.Sprint(acc.Notes)})
	if acc.Retracted > 0 || acc.Retractions > 0 {
		rows = append(rows, row{w.Retracted, w.RetractedValue.F(acc.Retracted, w.Retractions.N(acc.Retractions))})
	}
	rows = append(rows,
		row{w.ByActor, w.ByActorValue.F(acc.HumanSteps, acc.AISteps, acc.BothSteps, acc.UnknownSteps)},
		row{w.Captured, w.CapturedValue.F(acc.Captured, acc.Steps)},
		row{w.TimeSpan, w.FromTo.F(d.when(acc.First), d.when(acc.Last), d.span(acc.Span()))},
	)
	if len(acc.Tools) > 0 {
		rows = append(rows, row{w.Tools, strings.Join(acc.Tools, ", ")})
	}
	if len(acc.Models) > 0 {
		rows = append(rows, row{w.Models, strings.Join(acc.Models, ", ")})
	}
	st := w.SourceUnknown.F(msg.Name(d.m.Unknown, acc.UnknownWhy))
	if acc.SourceType != "" {
		st = w.SourceKnown.F(strings.TrimPrefix(acc.SourceType, "http://cv.iptc.org/newscodes/digitalsourcetype/"))
	}
	rows = append(rows, row{w.SourceType, st})
	return rows
}

// copyrightDraft draws the USCO draft: only categories the record supports,
// and the AI material to exclude, element by element.
func (d *doc) copyrightDraft(acc *evidence.Account) {
	w := &d.m.Pack
	d.heading(w.DraftHeading.String())
	d.muted(w.DraftIntro.String())
	if w.DraftLanguage != "" {
		d.muted(w.DraftLanguage.String())
	}
	d.pdf.Ln(1)
	dr := acc.History().CopyrightDraft(d.m)
	if dr.Caveat != "" {
		d.field(w.DraftCaveat, dr.Caveat)
		return
	}
	list := func(items []string) string { return "- " + strings.Join(items, ";\n- ") + "." }
	d.fieldStyle(w.Authored, list(dr.Authored), "")
	exclude := []string{w.NoAIMaterial.String()}
	if len(dr.Excluded) > 0 {
		exclude = dr.Excluded
	}
	d.fieldStyle(w.Exclude, list(exclude), "")
	if len(dr.NotClaimed) > 0 {
		d.fieldStyle(w.NotClaimed, list(dr.NotClaimed), "")
	}
	if n := acc.Prompts + acc.PromptsBoth; n > 0 {
		d.muted(w.PromptsNote.N(n))
	}
}

// span writes a duration for people, in the unit that says it best, with the
// noun in the right number.
func (d *doc) span(dur time.Duration) string {
	w := &d.m.Pack
	switch {
	case dur < time.Second:
		return w.LessThanSecond.String()
	case dur < time.Minute:
		return w.Seconds.N(int(dur.Seconds()))
	case dur < time.Hour:
		return w.Minutes.N(int(dur.Minutes()))
	case dur < 48*time.Hour:
		return w.Hours.F(d.m.Dec(dur.Hours()))
	}
	return w.Days.F(d.m.Dec(dur.Hours() / 24))
}

func (d *doc) inputs(c *collected, acc *evidence.Account) {
	w := &d.m.Pack
	d.section(w.InputsTitle.String())
	info := c.info
	d.heading(w.Rights.String())
	d.field(w.RightsHolder, orNone(info.Owner, w.NotRecorded))
	basis := w.NotRecorded.String()
	if info.Basis != "" {
		basis = msg.Name(d.m.Basis, info.Basis) + " (" + evidence.BasisMeaning(d.m, info.Basis, info.Contract) + ")"
	}
	d.field(w.Basis, basis)
	d.field(w.Contract, orNone(info.Contract, w.NotRecorded))
	tdm := w.NotRecorded.String()
	switch info.TDM {
	case "prohibited":
		tdm = w.TDMProhibited.String()
	case "allowed":
		tdm = w.TDMAllowed.String()
	}
	d.field(w.TDMLabel, tdm)

	d.heading(w.ThirdParty.String())
	n := 0
	for _, sr := range acc.History().Steps {
		s := sr.Step
		if s.Kind != evidence.KindInput || s.File == nil {
			continue
		}
		n++
		d.need(30)
		d.cell(contentW, lineH, "B", 9.5, fmt.Sprintf("#%d  %s", sr.Rec.Seq, s.File.Name), 1)
		d.field(w.Recorded, d.when(sr.Rec.Time))
		d.inputFields(s)
		d.fieldStyle(w.SHA256, s.File.SHA256, "M")
		d.pdf.Ln(2)
	}
	if n == 0 {
		d.muted(w.NoInputs.String())
	}
	d.designDates(acc)
}

// inputFields draws what an input step records of its source and rights.
func (d *doc) inputFields(s *evidence.Step) {
	w := &d.m.Pack
	d.field(w.Source, orNone(s.Source, w.NotRecorded))
	d.field(w.Licence, orNone(s.License, w.NotRecorded))
	perm := msg.Name(d.m.Permission, s.Permission)
	if s.Permission == "unknown" {
		perm = w.PermissionUnknown.String()
	}
	d.field(w.Permission, perm)
	d.field(w.Use, d.inputUse(s.Use))
}

// inputUse says how a third-party input was used, as recorded.
func (d *doc) inputUse(use string) string {
	switch use {
	case "component":
		return d.m.Pack.UseComponent.String()
	case "reference":
		return d.m.Pack.UseReference.String()
	}
	return d.m.Pack.NotRecorded.String()
}

// designDates lists every recorded disclosure, marks what the record says of
// its date, and computes the deadlines from the one they run from.
func (d *doc) designDates(acc *evidence.Account) {
	w := &d.m.Pack
	d.heading(w.DesignDates.String())
	first := acc.DeadlineDisclosure()
	if first == nil {
		d.muted(w.NoDisclosure.String())
		return
	}
	for _, ds := range acc.Disclosures {
		text := d.m.Date(ds.Date) + whereSuffix(ds.Where) + w.DisclosedRecorded.F(ds.Seq, d.when(ds.Recorded))
		if ds.BeforeRecord {
			text += w.Declared.F(d.when(acc.First))
		}
		if ds.NotYet {
			text += w.NotYet.String()
		}
		d.field(w.Disclosure, text)
	}
	at, err := time.Parse("2006-01-02", first.Date)
	if err != nil {
		return
	}
	basis := w.DeadlinesFrom.F(d.m.Date(first.Date), first.Seq)
	if len(acc.Disclosures) > 1 {
		basis += w.OfRecorded.F(len(acc.Disclosures))
	}
	d.field(w.DeadlinesRun, basis)
	d.field(w.FilingDeadline, w.FilingValue.F(at.AddDate(1, 0, 0).Format(d.m.DateLayout)))
	d.field(w.UnregisteredEnds, w.UnregisteredValue.F(at.AddDate(3, 0, 0).Format(d.m.DateLayout)))
	d.muted(w.DatesNote.String())
}

// attestations draws what third parties said about the anchor and earlier
// checkpoints, as the pack's own verification found it.
func (d *doc) attestations(cp *ledger.Checkpoint, bd *Bundle, self *Report) {
	w := &d.m.Proof
	d.heading(w.TimeHistory.String())
	if len(self.Attested) == 0 {
		d.muted(w.NoAttestation.String())
		return
	}
	d.muted(w.AttestIntro.String())
	for _, ac := range self.Attested {
		d.need(35)
		d.pdf.Ln(1)
		d.font("B", 9.5)
		title := w.CheckpointOf.F(ac.Size, ac.Size-1)
		if ac.Size == cp.Size {
			title += w.TheAnchor.String()
		}
		d.pdf.CellFormat(contentW, lineH, title, "", 1, "L", false, 0, "")
		d.fieldStyle(w.Root, ac.Root, "M")
		if t := ac.Timestamp; t != nil {
			how := w.TokenChecked
			if !t.Checked {
				how = w.TokenNotChecked
			}
			d.field(d.m.Pack.Timestamp, w.TimestampValue.F(d.when(t.Time), t.TSA, how))
		}
		for _, cc := range ac.Cosignatures {
			if cc.Checked {
				d.field(w.Witness, w.WitnessChecked.F(cc.Witness, d.when(cc.Time)))
			} else {
				d.field(w.Witness, w.WitnessUnchecked.F(cc.Witness))
			}
		}
		if ac.Size == cp.Size {
			d.field(w.Consistency, w.ConsistencyAnchor.String())
		} else {
			d.fieldStyle(w.Consistency, w.ConsistencyProof.F(ac.Size, cp.Size, strings.Join(ac.Proof, "\n")), "M")
		}
	}
	if len(bd.TSARoots) > 0 {
		var names []string
		for _, r := range bd.TSARoots {
			der, _ := base64.StdEncoding.DecodeString(r)
			if c, err := x509.ParseCertificate(der); err == nil {
				sum := sha256.Sum256(der)
				names = append(names, fmt.Sprintf("%s\nSHA-256 %x", c.Subject, sum[:]))
			}
		}
		d.pdf.Ln(1)
		d.field(w.TSARoots, strings.Join(names, "\n"))
		d.muted(w.TSARootsNote.String())
	}
}

func whereSuffix(w string) string {
	if w == "" {
		return ""
	}
	return ", " + w
}

func (d *doc) integrity(c *collected, bd *Bundle, cp *ledger.Checkpoint, self *Report) {
	w := &d.m.Proof
	d.section(w.Title.String())
	d.heading(w.TheCheckpoint.String())
	d.muted(w.CheckpointIntro.String())
	d.pdf.Ln(1)
	d.box("M", 8, string(cp.Note))

	d.attestations(cp, bd, self)

	d.heading(w.PublicKeys.String())
	for _, sr := range c.ids {
		d.need(30)
		d.cell(contentW, lineH, "B", 9.5, w.IdentityRecord.F(d.authorLine(c, sr.Rec.Key), sr.Rec.Seq), 1)
		d.keyFields(cp, sr.Rec.Key, sr.Step)
	}
	for _, sr := range c.rots {
		k := rotatedKey(sr)
		d.need(30)
		d.multi("B", 9.5, contentW, lineH, strings.ReplaceAll(w.Rotation.F(d.authorLine(c, k), sr.Rec.Seq, ledger.KeyID(sr.Rec.Key)), "\n", " / "), false)
		d.keyFields(cp, k, sr.Step)
	}
	if len(c.rots) > 0 {
		d.muted(w.RotationNote.String())
	}
	d.muted(d.signatureNote(c))

	d.heading(w.WhatProves.String())
	for _, s := range w.Proves {
		d.bullet(s.String())
	}
	d.muted(w.ClockNote.String())

	d.heading(w.WithoutCairn.String())
	for i, s := range d.checksWithoutCairn(c) {
		d.need(12)
		d.font("B", 10)
		d.pdf.CellFormat(6, lineH, fmt.Sprintf("%d.", i+1), "", 0, "L", false, 0, "")
		d.pdf.SetLeftMargin(margin + 6)
		d.font("", 9.5)
		d.pdf.MultiCell(contentW-6, lineH, d.safe("", s, true), "", "L", false)
		d.pdf.SetLeftMargin(margin)
		d.pdf.SetX(margin)
	}
	d.muted(w.Holds.F(w.Records.N(len(bd.Records)), bd.Asset, w.IdentityRecords.N(len(bd.Identities)), w.Records.N(int(cp.Size)), bd.Format))
}

// keyFields draws a key of the pack: its Ed25519 key, its checkpoint verifier
// key, and the SHA-256 of the certificate the step that introduced it carries.
func (d *doc) keyFields(cp *ledger.Checkpoint, key []byte, s *evidence.Step) {
	w := &d.m.Proof
	d.fieldStyle(w.Ed25519, hex.EncodeToString(key), "M")
	d.fieldStyle(w.CheckpointKey, ledger.VerifierKey(cp.Origin, key), "M")
	if cert := identityCert(s); cert != nil {
		sum := sha256.Sum256(cert.Raw)
		d.fieldStyle(w.CertSHA, hex.EncodeToString(sum[:]), "M")
	}
	d.pdf.Ln(1)
}
