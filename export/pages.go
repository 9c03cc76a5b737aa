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
	"github.com/cairn-ledger/cairn/ledger"
)

const (
	dateTime = "2006-01-02 15:04:05 UTC"
	dateOnly = "2006-01-02"
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
	d := newDoc(c.info.ID, pics, t)
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
func (c *collected) authorLine(key []byte) string {
	n := c.names[string(key)]
	if n == "" {
		n = "unnamed key"
	}
	return fmt.Sprintf("%s (key %s)", n, ledger.KeyID(key))
}

func (d *doc) cover(c *collected, acc *evidence.Account, cp *ledger.Checkpoint, self *Report, opts Options) {
	p := d.pdf
	p.AddPage()
	p.Bookmark("Cover", 0, -1)
	d.font("B", 22)
	p.CellFormat(contentW, 11, "Evidence pack", "", 1, "L", false, 0, "")
	d.font("", 12)
	d.color(colMuted)
	p.CellFormat(contentW, 6, "How a work was made: a signed record of its creation, step by step", "", 1, "L", false, 0, "")
	d.color([3]int{0, 0, 0})
	d.rule()
	p.Ln(2)

	info := c.info
	d.field("Asset", info.ID)
	if info.Title != "" {
		d.field("Title", info.Title)
	}
	if info.Kind != "" {
		d.field("Kind of work", info.Kind)
	}
	d.field("Rights holder", orNone(info.Owner, "not recorded"))
	d.field("Basis of the rights", orNone(info.Basis, "not recorded"))
	if info.Contract != "" {
		d.field("Contract", info.Contract)
	}
	// The authors are the keys that signed the asset's records, with the names
	// their identity or rotation records give. Keys in the pack only because they
	// signed a checkpoint are not authors of the work.
	var authors []string
	for _, sr := range c.steps {
		line := c.authorLine(sr.Rec.Key)
		if e := c.emails[string(sr.Rec.Key)]; e != "" {
			line += " <" + e + ">"
		}
		if !contains(authors, line) {
			authors = append(authors, line)
		}
	}
	d.field("Author(s)", strings.Join(authors, "\n"))
	for _, nc := range c.rules.NameClashes() {
		var keys []string
		for _, k := range nc.Keys {
			keys = append(keys, k.ID())
		}
		d.field("Warning", fmt.Sprintf("%d different keys are named %q (keys %s). They may be different people: each step names its key.", len(nc.Keys), nc.Name, strings.Join(keys, ", ")))
	}
	d.field("Period covered", fmt.Sprintf("%s to %s (%s)", acc.First.Format(dateTime), acc.Last.Format(dateTime), plural(acc.Steps, "step")))
	d.field("Exported", d.exported.Format(dateTime)+" (by the exporter's clock; each record keeps its own time)")
	if c.caSigner != nil {
		d.field("Exported and signed by", caExporterLine(c))
	} else if c.custodian {
		d.field("Exported and signed by", fmt.Sprintf("%s (key %s), custodian: the PDF is signed by them, who are not an author; the records are signed by their authors and the checkpoint below by an author's key", orNone(c.custodianName, "unnamed"), ledger.KeyID(c.signer)))
	} else {
		d.field("Exported and signed by", c.authorLine(c.signer))
	}
	d.fieldStyle("Anchored to checkpoint", fmt.Sprintf("%s\nsize %d records\nroot %s", cp.Origin, cp.Size, base64.StdEncoding.EncodeToString(cp.Root[:])), "M")
	label, text := coverTime(c, self)
	d.field(label, text+signatureTimestampNote(c))
	p.Ln(3)

	if f := finalFile(c); f != nil {
		d.heading("The final work")
		pic := d.pics.get(*f, coverPx)
		d.need(95)
		y := p.GetY()
		d.image(f.SHA256, pic, coverPx, margin, y, 90, 90)
		p.SetLeftMargin(margin + 95)
		p.SetXY(margin+95, y)
		d.font("B", 9)
		p.MultiCell(contentW-95, 4.5, d.safe("B", f.Name, false), "", "L", false)
		d.font("", 8.5)
		p.MultiCell(contentW-95, 4.5, fmt.Sprintf("%s, %d bytes", orNone(f.Type, "unknown type"), f.Size), "", "L", false)
		p.Ln(1)
		d.font("B", 8.5)
		p.MultiCell(contentW-95, 4.5, "SHA-256 of the file", "", "L", false)
		d.font("M", 8)
		p.MultiCell(contentW-95, 4, f.SHA256[:32]+"\n"+f.SHA256[32:], "", "L", false)
		p.Ln(2)
		d.color(colMuted)
		d.font("", 8)
		p.MultiCell(contentW-95, 4, "Any copy of the final work whose SHA-256 equals this value is, byte for byte, the file recorded in the ledger.", "", "L", false)
		if opts.WithFiles {
			p.MultiCell(contentW-95, 4, "The file itself is attached to this PDF as "+AttachmentName(*f)+".", "", "L", false)
		}
		d.color([3]int{0, 0, 0})
		p.SetLeftMargin(margin)
		p.SetXY(margin, y+93)
	} else {
		d.heading("The final work")
		d.muted("No final work has been declared for this asset yet (cairn final FILE).")
	}

	d.heading("About this pack")
	d.muted("Each step below was recorded when it happened and signed with its author's key in a tamper-evident ledger (a hash-linked, append-only log). " +
		"This PDF shows the steps of this asset only; records of other work appear in it only as hashes, which reveal nothing. " +
		"The machine-readable evidence (the exact signed records and their proofs) is attached as evidence.json, and the whole PDF is digitally signed: " +
		"any change to it, even of one character, is detectable. Check it with: cairn verify-pack FILE.pdf, or without cairn by following the last section.")
}

// coverTime says, for the cover, what fixes the time of the asset's records
// independently of the author's clock.
func coverTime(c *collected, self *Report) (label, text string) {
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
		text = "No RFC 3161 timestamp covers these records yet: their times come from the author's computer clock."
		if c.sigTSA != "" {
			text = "No RFC 3161 timestamp of a checkpoint covers these records: their times come from the author's computer clock, bounded only by the PDF's signature timestamp."
		}
		if !witnessed.WitnessTime.IsZero() {
			text += fmt.Sprintf(" Witness %s saw all of them no later than %s.", witnessed.Witness, witnessed.WitnessTime.Format(dateTime))
		}
		return "Trusted time", text
	}
	how := "the TSA was checked against the roots this ledger trusts"
	label = "Trusted time"
	if !checked {
		how = "the TSA was NOT checked against trusted roots; check it with cairn verify-pack --tsa-roots FILE"
		label = "Timestamp"
	}
	if covered == n {
		text = fmt.Sprintf("The records existed no later than %s: all %d records of this asset are covered by an RFC 3161 timestamp (TSA: %s; %s).", latest.NoLaterThan.Format(dateTime), n, latest.TSA, how)
	} else {
		rest := fmt.Sprintf("The %d later records are", n-covered)
		if n-covered == 1 {
			rest = "The last record is"
		}
		text = fmt.Sprintf("%d of the %d records (up to #%d) existed no later than %s, by an RFC 3161 timestamp (TSA: %s; %s). %s not covered by a timestamp.", covered, n, lastCovered, latest.NoLaterThan.Format(dateTime), latest.TSA, how, rest)
	}
	if !witnessed.WitnessTime.IsZero() {
		text += fmt.Sprintf(" Witness %s cosigned a checkpoint covering them at %s.", witnessed.Witness, witnessed.WitnessTime.Format(dateTime))
	}
	return label, text
}

func orNone(s, none string) string {
	if s == "" {
		return none
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
	d.section("Human contribution")
	d.muted("Counted from the recorded steps. Each count can be checked against the timeline that follows and the signed records in evidence.json. A retracted record, and the retraction itself, is counted in none of them.")
	d.pdf.Ln(2)
	for _, r := range accountRows(acc) {
		d.field(r[0], r[1])
	}

	d.bullets("What the human did", acc.HumanContribution(), "no human contribution beyond creating the asset is recorded")
	d.bullets("What AI systems produced", acc.AIContribution(), "no AI output is recorded")
	if un := acc.UnknownContribution(); len(un) > 0 {
		d.bullets("Neither human nor AI as far as the record shows", un, "")
	}

	d.heading("Steps over time")
	d.chart(c, acc.History())

	d.copyrightDraft(acc)
}

// bullets draws a heading and its items, or none when there are no items.
func (d *doc) bullets(heading string, items []string, none string) {
	d.heading(heading)
	if len(items) == 0 {
		items = []string{none}
	}
	for _, s := range items {
		d.bullet(s)
	}
}

// accountRows are the counts of the account, each in words that are true of
// it: an AI-assisted edit is never an edit by hand.
func accountRows(acc *evidence.Account) [][2]string {
	chosen := "none"
	if len(acc.ChosenOutOf) > 0 {
		var parts []string
		for _, n := range acc.ChosenOutOf {
			parts = append(parts, fmt.Sprintf("1 of %d", n))
		}
		chosen = strings.Join(parts, ", ")
		if len(parts) > 20 {
			chosen = strings.Join(parts[:20], ", ") + fmt.Sprintf(", and %d more", len(parts)-20)
		}
	}
	gens := fmt.Sprint(acc.Generations)
	if acc.Generations > 0 {
		gens += ", producing " + evidence.Plural(acc.Candidates, "candidate", "candidates")
		if acc.FromInput > 0 {
			gens += fmt.Sprintf(" (%d from input images)", acc.FromInput)
		}
	}
	rows := [][2]string{
		{"Prompts written", fmt.Sprintf("%d by the human, %d together with an AI, %d by an AI", acc.Prompts, acc.PromptsBoth, acc.PromptsAI)},
		{"Generations", gens},
		{"Selections", fmt.Sprintf("%d (chosen: %s)", acc.Selections, chosen)},
		{"Edits by hand", fmt.Sprintf("%d (non-generative tools)", acc.EditsByHand)},
		{"AI-assisted edits", fmt.Sprintf("%d (a person directing an AI tool on part of the work; not edits by hand)", acc.EditsAIAssisted)},
	}
	if acc.EditsByAI > 0 {
		rows = append(rows, [2]string{"Edits by AI alone", fmt.Sprint(acc.EditsByAI)})
	}
	if acc.EditsUnknown > 0 {
		rows = append(rows, [2]string{"Edits, author unknown", fmt.Sprintf("%d (counted neither as human nor as AI)", acc.EditsUnknown)})
	}
	rows = append(rows,
		[2]string{"Own sketches/material", fmt.Sprint(acc.Sketches)},
		[2]string{"Third-party inputs", fmt.Sprintf("%d (%d with unknown permission)", acc.Inputs, acc.InputsUnknown)},
	)
	if acc.UnknownFiles > 0 {
		rows = append(rows, [2]string{"Files of unknown origin", fmt.Sprintf("%d (counted neither as human nor as AI)", acc.UnknownFiles)})
	}
	rows = append(rows, [2]string{"Notes on decisions", fmt.Sprint(acc.Notes)})
	if acc.Retracted > 0 || acc.Retractions > 0 {
		rows = append(rows, [2]string{"Retracted records", fmt.Sprintf("%d, by %s (struck through in the timeline; counted nowhere)", acc.Retracted, evidence.Plural(acc.Retractions, "retraction", "retractions"))})
	}
	rows = append(rows,
		[2]string{"Steps by actor", fmt.Sprintf("%d human, %d AI, %d both, %d unknown", acc.HumanSteps, acc.AISteps, acc.BothSteps, acc.UnknownSteps)},
		[2]string{"Captured from tools", fmt.Sprintf("%d of %d (values read from the tools' own metadata)", acc.Captured, acc.Steps)},
		[2]string{"Time span", fmt.Sprintf("%s to %s (%s)", acc.First.Format(dateTime), acc.Last.Format(dateTime), span(acc.Span()))},
	)
	if len(acc.Tools) > 0 {
		rows = append(rows, [2]string{"Tools", strings.Join(acc.Tools, ", ")})
	}
	if len(acc.Models) > 0 {
		rows = append(rows, [2]string{"Models", strings.Join(acc.Models, ", ")})
	}
	st := "unknown: " + acc.SourceUnknown
	if acc.SourceType != "" {
		st = strings.TrimPrefix(acc.SourceType, "http://cv.iptc.org/newscodes/digitalsourcetype/") + " (IPTC digital source type, from the final file's recorded making and its own credentials)"
	}
	rows = append(rows, [2]string{"Final work's source type", st})
	return rows
}

// copyrightDraft draws the USCO draft: only categories the record supports,
// and the AI material to exclude, element by element.
func (d *doc) copyrightDraft(acc *evidence.Account) {
	d.heading("Draft wording for a US Copyright Office application")
	d.muted("A starting point drawn from the record of the final work's making (selections, edits and material that led to the final file), for the author or their counsel to review. It states facts; it is not legal advice, and cairn does not decide what is protectable.")
	d.pdf.Ln(1)
	dr := acc.History().CopyrightDraft()
	if dr.Caveat != "" {
		d.field("Draft", dr.Caveat)
		return
	}
	list := func(items []string) string { return "- " + strings.Join(items, ";\n- ") + "." }
	d.fieldStyle("Material created by the author", list(dr.Authored), "")
	exclude := []string{"no AI-generated material is recorded in the making of the final work"}
	if len(dr.Excluded) > 0 {
		exclude = dr.Excluded
	}
	d.fieldStyle("AI-generated material to exclude", list(exclude), "")
	if len(dr.NotClaimed) > 0 {
		d.fieldStyle("Not claimed (not shown to be the author's)", list(dr.NotClaimed), "")
	}
	if n := acc.Prompts + acc.PromptsBoth; n > 0 {
		d.muted(fmt.Sprintf("The %s the human wrote or co-wrote %s listed in full in the timeline. The Copyright Office has said that prompts alone do not make the user the author of what an AI generates; they show intent and the creative process.",
			evidence.Plural(n, "prompt", "prompts"), map[bool]string{true: "is", false: "are"}[n == 1]))
	}
}

// span writes a duration for people, in the unit that says it best, with the
// noun in the right number.
func span(dur time.Duration) string {
	switch {
	case dur < time.Second:
		return "less than a second"
	case dur < time.Minute:
		return evidence.Plural(int(dur.Seconds()), "second", "seconds")
	case dur < time.Hour:
		return evidence.Plural(int(dur.Minutes()), "minute", "minutes")
	case dur < 48*time.Hour:
		return fmt.Sprintf("%.1f hours", dur.Hours())
	}
	return fmt.Sprintf("%.1f days", dur.Hours()/24)
}

func (d *doc) inputs(c *collected, acc *evidence.Account) {
	d.section("Inputs and rights")
	info := c.info
	d.heading("Rights")
	d.field("Rights holder", orNone(info.Owner, "not recorded"))
	basis := "not recorded"
	if info.Basis != "" {
		basis = info.Basis + " (" + evidence.BasisMeaning(info.Basis, info.Contract) + ")"
	}
	d.field("Basis", basis)
	d.field("Contract", orNone(info.Contract, "not recorded"))
	tdm := "not recorded"
	switch info.TDM {
	case "prohibited":
		tdm = "prohibited: the rights holder opts out of text-and-data mining"
	case "allowed":
		tdm = "allowed"
	}
	d.field("Text and data mining", tdm)

	d.heading("Third-party inputs")
	n := 0
	for _, sr := range acc.History().Steps {
		s := sr.Step
		if s.Kind != evidence.KindInput || s.File == nil {
			continue
		}
		n++
		d.need(30)
		d.font("B", 9.5)
		d.pdf.CellFormat(contentW, lineH, d.safe("B", fmt.Sprintf("#%d  %s", sr.Rec.Seq, s.File.Name), false), "", 1, "L", false, 0, "")
		d.field("Recorded", sr.Rec.Time.Format(dateTime))
		d.field("Source", orNone(s.Source, "not recorded"))
		d.field("Licence", orNone(s.License, "not recorded"))
		perm := s.Permission
		if perm == "unknown" {
			perm = "UNKNOWN: no permission or licence is recorded for this input"
		}
		d.field("Permission", perm)
		d.field("Use", inputUse(s.Use))
		d.fieldStyle("SHA-256", s.File.SHA256, "M")
		d.pdf.Ln(2)
	}
	if n == 0 {
		d.muted("No third-party input is recorded for this asset.")
	}
	d.designDates(acc)
}

// inputUse says how a third-party input was used, as recorded.
func inputUse(use string) string {
	switch use {
	case "component":
		return "component: part of the work"
	case "reference":
		return "reference only: not part of the work"
	}
	return "not recorded"
}

// designDates lists every recorded disclosure, marks what the record says of
// its date, and computes the deadlines from the one they run from.
func (d *doc) designDates(acc *evidence.Account) {
	d.heading("Design-right dates (EU)")
	first := acc.DeadlineDisclosure()
	if first == nil {
		d.muted("No public disclosure is recorded for this asset (cairn disclose).")
		return
	}
	for _, ds := range acc.Disclosures {
		text := ds.Date + whereSuffix(ds.Where) + fmt.Sprintf(" (record #%d, recorded %s)", ds.Seq, ds.Recorded.Format(dateTime))
		if ds.BeforeRecord {
			text += "\nDECLARED, NOT RECORDED AT THE TIME: this date is earlier than the asset's first record (" + acc.First.Format(dateTime) + "); the ledger cannot confirm it"
		}
		if ds.NotYet {
			text += "\nThis date had not come when it was recorded: it states a plan, not a disclosure"
		}
		d.field("Disclosure", text)
	}
	at, err := time.Parse(dateOnly, first.Date)
	if err != nil {
		return
	}
	basis := fmt.Sprintf("from the earliest declared disclosure, %s (record #%d)", first.Date, first.Seq)
	if len(acc.Disclosures) > 1 {
		basis += fmt.Sprintf(", of the %d recorded", len(acc.Disclosures))
	}
	d.field("Deadlines run", basis)
	d.field("Filing deadline", at.AddDate(1, 0, 0).Format(dateOnly)+" (12 months after the first disclosure: the grace period for filing a registered design)")
	d.field("Unregistered design ends", at.AddDate(3, 0, 0).Format(dateOnly)+" (3 years after the first disclosure in the EU)")
	d.muted("Dates as declared by the designer; each disclosure step's own time in the ledger shows when it was recorded.")
}

// attestations draws what third parties said about the anchor and earlier
// checkpoints, as the pack's own verification found it.
func (d *doc) attestations(cp *ledger.Checkpoint, bd *Bundle, self *Report) {
	d.heading("Time and history")
	if len(self.Attested) == 0 {
		d.muted("No RFC 3161 timestamp and no witness cosignature is stored for a checkpoint that covers these records. The records' times come from the author's computer clock; a timestamp (cairn timestamp) or a witness (cairn witness) fixes them independently.")
		return
	}
	d.muted("An RFC 3161 timestamp is a time-stamping authority's (TSA) signed statement that the exact bytes of a checkpoint existed at a time; since the checkpoint commits to every record below its size, each of those records existed no later than that time. A witness's cosignature states that the witness saw the checkpoint. A consistency proof shows that the anchor checkpoint above only extends the earlier one: nothing it covered was changed or removed.")
	for _, ac := range self.Attested {
		d.need(35)
		d.pdf.Ln(1)
		d.font("B", 9.5)
		title := fmt.Sprintf("Checkpoint of %d records (records #0 to #%d)", ac.Size, ac.Size-1)
		if ac.Size == cp.Size {
			title += ", the anchor"
		}
		d.pdf.CellFormat(contentW, lineH, title, "", 1, "L", false, 0, "")
		d.fieldStyle("Root", ac.Root, "M")
		if t := ac.Timestamp; t != nil {
			how := "TSA checked against the roots this ledger trusts"
			if !t.Checked {
				how = "TSA NOT checked against trusted roots (no roots configured); the token is over this checkpoint and signed by the TSA's certificate"
			}
			d.field("Timestamp", fmt.Sprintf("%s by %s\n%s", t.Time.Format(dateTime), t.TSA, how))
		}
		for _, cc := range ac.Cosignatures {
			if cc.Checked {
				d.field("Witness", fmt.Sprintf("%s cosigned at %s (checked with the configured witness key)", cc.Witness, cc.Time.Format(dateTime)))
			} else {
				d.field("Witness", fmt.Sprintf("%s cosigned (not checked: no key for this witness is configured)", cc.Witness))
			}
		}
		if ac.Size == cp.Size {
			d.field("Consistency", "none needed: this is the anchor checkpoint")
		} else {
			d.fieldStyle("Consistency", fmt.Sprintf("proof from %d to %d records (RFC 6962), verified:\n%s", ac.Size, cp.Size, strings.Join(ac.Proof, "\n")), "M")
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
		d.field("TSA roots trusted", strings.Join(names, "\n"))
		d.muted("These are the roots the author's ledger trusts, listed in evidence.json as tsa_roots. A verifier decides for itself which roots to trust (cairn verify-pack --tsa-roots FILE).")
	}
}

func whereSuffix(w string) string {
	if w == "" {
		return ""
	}
	return ", " + w
}

func (d *doc) integrity(c *collected, bd *Bundle, cp *ledger.Checkpoint, self *Report) {
	d.section("Integrity: how to check this pack")
	d.heading("The checkpoint")
	d.muted("A checkpoint is a signed statement of the whole ledger at one moment: its name (origin), its number of records and the Merkle root hash over all of them (C2SP tlog-checkpoint in a C2SP signed note). Every record in this pack is proven to be inside it.")
	d.pdf.Ln(1)
	d.box("M", 8, string(cp.Note))

	d.attestations(cp, bd, self)

	d.heading("Public keys")
	for _, sr := range c.ids {
		cert := identityCert(sr.Step)
		d.need(30)
		d.font("B", 9.5)
		d.pdf.CellFormat(contentW, lineH, d.safe("B", fmt.Sprintf("%s, identity record #%d", c.authorLine(sr.Rec.Key), sr.Rec.Seq), false), "", 1, "L", false, 0, "")
		d.fieldStyle("Ed25519 (hex)", hex.EncodeToString(sr.Rec.Key), "M")
		d.fieldStyle("Checkpoint key", ledger.VerifierKey(cp.Origin, sr.Rec.Key), "M")
		if cert != nil {
			sum := sha256.Sum256(cert.Raw)
			d.fieldStyle("P-256 cert SHA-256", hex.EncodeToString(sum[:]), "M")
		}
		d.pdf.Ln(1)
	}
	for _, sr := range c.rots {
		k := rotatedKey(sr)
		d.need(30)
		d.font("B", 9.5)
		d.pdf.MultiCell(contentW, lineH, d.safe("B", fmt.Sprintf("%s, introduced by key rotation record #%d, signed by key %s, which it retires", c.authorLine(k), sr.Rec.Seq, ledger.KeyID(sr.Rec.Key)), false), "", "L", false)
		d.fieldStyle("Ed25519 (hex)", hex.EncodeToString(k), "M")
		d.fieldStyle("Checkpoint key", ledger.VerifierKey(cp.Origin, k), "M")
		if cert := identityCert(sr.Step); cert != nil {
			sum := sha256.Sum256(cert.Raw)
			d.fieldStyle("P-256 cert SHA-256", hex.EncodeToString(sum[:]), "M")
		}
		d.pdf.Ln(1)
	}
	if len(c.rots) > 0 {
		d.muted("A key rotation record is signed by the old key and introduces the new key with its certificate. From that record on, the old key is retired: records it signs later are invalid.")
	}
	d.muted(c.forSigner("The PDF is signed with a P-256 key (PDF readers cannot check Ed25519). Its certificate names the Ed25519 key as urn:cairn:ed25519:<hex>, and the identity record, signed with that Ed25519 key and proven in the ledger, carries the certificate: each key vouches for the other.", caSignatureNote))

	d.heading("What each proof proves")
	d.bullet("The PDF signature: the file is exactly as the signer made it; nothing was changed or added afterwards.")
	d.bullet("A record's Ed25519 signature: its author made the record, for this ledger (the signature covers the ledger's origin).")
	d.bullet("A record's inclusion proof: the record is leaf number <index> of the Merkle tree whose root the checkpoint states. Its bytes, position and time cannot be changed without changing the root.")
	d.bullet("The checkpoint signature: the author vouches for that root. Anyone who kept an earlier checkpoint can check that the ledger only grew (cairn verify --since).")
	d.bullet("A chain link (prev): consecutive records in this pack follow each other directly in the ledger.")
	d.bullet("The SHA-256 of a file: a copy with the same hash is the recorded file, byte for byte.")
	d.muted("The ledger's own clock gives each record's time; it is as trustworthy as the author's computer. An RFC 3161 timestamp or a checkpoint handed to a third party fixes time independently.")

	d.heading("Checking without cairn")
	steps := []string{
		c.forSigner("Signature: run pdfsig FILE.pdf. It must print \"Signature is Valid.\" and \"Total document signed\". (\"Certificate issuer is unknown\" is expected: the certificate is self-signed and is tied to the ledger by the steps below.)", caPdfsigStep),
		"Attachments: run pdfdetach -saveall FILE.pdf. It writes evidence.json and, if the pack was made with --with-files, the files named <sha256>.<ext>; check each with sha256sum.",
		"Records: in evidence.json, base64-decode each \"entry\" of \"records\" and \"identities\". The layout is in FORMAT.md section 1: 8 bytes \"cairn/1\\n\", seq, time, prev, the 32-byte Ed25519 key, the payload length n, the payload (a JSON step), then a 64-byte signature.",
		"Signatures: verify each entry's last 64 bytes with Ed25519 (RFC 8032) under its key, over \"cairn record signature v1\\n\" + origin + \"\\n\" + the entry without those 64 bytes.",
		"Inclusion: compute the leaf hash SHA-256(0x00 || entry). With \"index\" and the \"proof\" hashes (base64, from the leaf upward), recompute the root as RFC 6962 / RFC 9162 section 2.1.3.2 describes, for the tree size in the checkpoint. It must equal the checkpoint's root (its third line, base64).",
		"Checkpoint: verify its signature line with the Ed25519 key of an author, per C2SP signed-note (Go: golang.org/x/mod/sumdb/note with the checkpoint key above).",
		c.forSigner("Binding: the signer's certificate in the PDF signature (openssl pkcs7 or pdfsig -dump) must equal the \"cert\" of an identity record, whose \"key\" equals the entry's key.", caBindingStep),
		"Chain: where two records have consecutive indexes, the later one's prev (bytes 24 to 56) equals SHA-256 of the earlier entry without its last 64 bytes.",
		"Timestamps: for each element of \"checkpoints\" with a \"timestamp\", write its \"note\" to a file byte for byte (no added newline) and the base64-decoded \"timestamp\" to note.tsr, then run openssl ts -verify -data note -in note.tsr -CAfile ROOTS.pem with the TSA roots you trust. It must print \"Verification: OK\".",
		"Consistency: each earlier checkpoint's \"consistency\" hashes prove that its tree is a prefix of the anchor's (RFC 9162 section 2.1.4.2; Go: golang.org/x/mod/sumdb/tlog.CheckTree). A timestamp on it then dates every record with an index below its size.",
		"Cosignatures: verify a witness's line in a \"cosignatures\" note with the witness's verifier key (C2SP tlog-cosignature); its body must equal the checkpoint's.",
	}
	for i, s := range steps {
		d.need(12)
		d.font("B", 10)
		d.pdf.CellFormat(6, lineH, fmt.Sprintf("%d.", i+1), "", 0, "L", false, 0, "")
		d.pdf.SetLeftMargin(margin + 6)
		d.font("", 9.5)
		d.pdf.MultiCell(contentW-6, lineH, d.safe("", s, true), "", "L", false)
		d.pdf.SetLeftMargin(margin)
		d.pdf.SetX(margin)
	}
	d.muted(fmt.Sprintf("This pack holds %s of asset %s and %s, out of %s in the ledger. The bundle format is specified in cairn's FORMAT.md (evidence bundle, %s). cairn verify-pack FILE.pdf performs all of these checks.", plural(len(bd.Records), "record"), bd.Asset, plural(len(bd.Identities), "identity record"), plural(int(cp.Size), "record"), bd.Format))
}
