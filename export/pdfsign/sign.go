// Package pdfsign signs a PDF written by github.com/go-pdf/fpdf and embeds
// files in it, in one incremental update (PDF 32000-1 §7.5.6), and verifies
// the result offline.
//
// The signature is PAdES-style: a /Sig dictionary with /SubFilter
// /ETSI.CAdES.detached whose /Contents is a detached CMS SignedData (RFC 5652)
// over every byte of the file except /Contents itself (§12.8.1), with
// SHA-256, ECDSA P-256 (or RSA, for a CA-issued certificate) and the ESS
// signing-certificate-v2 attribute (RFC 5035) that CAdES requires. Given a
// time-stamping callback, the signature also carries an RFC 3161 signature
// timestamp and the signed revision a /DSS with the certificates (PAdES B-T,
// with B-LT's validation data). Standard tools check it: pdfsig (poppler),
// qpdf, openssl cms and openssl ts, and pdfdetach for the embedded files.
//
// The bytes fpdf wrote are kept as they are. The update re-emits the catalog
// and page 1 under their object numbers and adds the new objects after them,
// with its own cross-reference section and trailer.
//
// Output is reproducible: for the same input PDF, attachments, key and
// Signer.Time, two signatures differ only inside /Contents, because ECDSA
// signatures are randomised. No clock is read.
package pdfsign

import (
	"bytes"
	"compress/zlib"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Attachment is a file embedded in the PDF (PDF 32000-1 §7.11.4), with the
// relationship /Data to the document (PDF 2.0 §14.13, as in PDF/A-3).
type Attachment struct {
	// Name is the file name shown by viewers and used by pdfdetach -saveall.
	// It may be any Unicode text, but not a path: no / or \, no control
	// characters, not "." or "..".
	Name string
	// Description is shown by viewers next to the file (/Desc). Optional.
	Description string
	// MIMEType, such as "application/json", becomes /Subtype. Optional.
	MIMEType string
	Data     []byte
	// Size and SHA256 are set by Verify, from the decoded stream. Verify
	// streams an attachment through its hashes; VerifyWith keeps Data only
	// for the attachments it is asked to.
	Size   int64
	SHA256 [32]byte
	// ModTime is written as /Params /ModDate if it is not zero.
	// Verify returns it truncated to the second.
	ModTime time.Time
}

// Signer is who signs and when.
type Signer struct {
	// Key is the key of Chain[0]: ECDSA P-256 (signed as ECDSA with SHA-256)
	// or RSA of at least 2048 bits (PKCS #1 v1.5 with SHA-256), the kinds PDF
	// readers validate (pdfsig, NSS and OpenSSL do not validate Ed25519).
	Key crypto.Signer
	// Chain is the signer's certificate first, then any issuers to include
	// in the CMS. A self-signed certificate alone is fine; deciding whether to
	// trust it is the verifier's business.
	Chain []*x509.Certificate
	// Name, Reason and Location go in the signature dictionary (§12.8.1,
	// Table 252) and are shown by viewers. All optional.
	Name, Reason, Location string
	// Time is the claimed signing time, written as /M and as the CMS
	// signing-time attribute. It is required: Sign never reads the clock.
	// It is not a trusted time; that needs an RFC 3161 timestamp.
	Time time.Time
	// Timestamp, if set, makes the signature carry a signature timestamp
	// and the signed revision a /DSS (see Sign). It must return a DER
	// TimeStampToken (RFC 3161 §2.4.2) whose message imprint is SHA-256 of
	// data, or an error; it is the caller's business to bound how long it
	// waits and to check the token's TSA. Sign calls it first with the
	// unsigned input PDF, to learn the TSA's certificates, then with the
	// signature value; again if the TSA answers with certificates it did not
	// use the first time (at most three signatures).
	Timestamp func(data []byte) ([]byte, error)
}

// ContentsSize is the number of bytes reserved for the DER CMS in
// /Contents (written as twice as many hex digits). An ECDSA P-256 signature
// with one certificate takes about 1 KiB; the rest leaves room for a chain.
const ContentsSize = 16 << 10

// TimestampedContentsSize is the reservation when the signature carries a
// timestamp token, which holds the TSA's certificates: public TSAs send
// 2 to 8 KiB.
const TimestampedContentsSize = 32 << 10

// maxAttachmentSize bounds one embedded file, for Sign and for Verify (which
// must not inflate a compressed stream without limit).
const maxAttachmentSize = 1 << 30

// byteRangeWidth is the width of the /ByteRange placeholder: room for
// [0 a b c] with three 10-digit numbers, padded with spaces once filled in.
const byteRangeWidth = len("[0 0000000000 0000000000 0000000000]")

// Sign returns pdf with files embedded and a signature by s appended as one
// incremental update. pdf must be an unsigned PDF with a classic
// cross-reference table, as fpdf writes; the bytes of pdf are the prefix of
// the result.
//
// The update contains: the catalog, with /Names /EmbeddedFiles (a name tree
// sorted by name, §7.9.6), /AF, /AcroForm (/SigFlags 3: signatures exist,
// append only, §12.7.2) and /Version 1.7 if the header says less; page 1,
// with the signature widget added to /Annots; for each file an /EmbeddedFile
// stream (FlateDecode when that is smaller) with /Params /Size, /CheckSum
// (MD5 of the uncompressed bytes, as §7.11.4 Table 46 specifies) and /ModDate,
// and a /Filespec with /F, /UF, /Desc, /AFRelationship /Data and /EF; an
// invisible signature widget (§12.7.4.5), the AcroForm and the signature
// dictionary; then a cross-reference section for just these objects and a
// trailer with /Prev.
//
// With s.Timestamp, the signature is timestamped (PAdES B-T, ETSI EN 319
// 142-1): the SignerInfo gets the unsigned attribute
// id-aa-signatureTimeStampToken (RFC 3161 Appendix A), a token over SHA-256
// of its signature value. The update then also holds a /DSS (Document
// Security Store, EN 319 142-1 §5.4.2, PDF 2.0 §12.8.4.3) with /Certs: a
// stream for each certificate of the CMS and of the token, and nothing else.
// The DSS is part of the signed revision, so that nothing follows the
// signature and the signature covers it; since the token is only made after
// signing, the TSA's certificates are learnt beforehand from a first token.
func Sign(pdf []byte, files []Attachment, s Signer) ([]byte, error) {
	if s.Timestamp != nil {
		return sign(pdf, files, s, TimestampedContentsSize)
	}
	return sign(pdf, files, s, ContentsSize)
}

// sign is Sign with the /Contents reservation as a parameter, so that tests
// can make small signed files for the fuzzer.
func sign(pdf []byte, files []Attachment, s Signer, contentsSize int) ([]byte, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, f := range files {
		if err := checkFileName(f.Name); err != nil {
			return nil, err
		}
		if seen[f.Name] {
			return nil, fmt.Errorf("pdfsign: two attachments are named %q", f.Name)
		}
		seen[f.Name] = true
		if f.MIMEType != "" && !validMIME(f.MIMEType) {
			return nil, fmt.Errorf("pdfsign: attachment %q: MIME type %q is not of the form type/subtype", f.Name, f.MIMEType)
		}
		if len(f.Data) > maxAttachmentSize {
			return nil, fmt.Errorf("pdfsign: attachment %q is larger than %d bytes", f.Name, maxAttachmentSize)
		}
		if !utf8.ValidString(f.Description) {
			return nil, fmt.Errorf("pdfsign: attachment %q: description is not valid UTF-8", f.Name)
		}
	}

	doc, err := parseDocument(pdf)
	if err != nil {
		return nil, fmt.Errorf("pdfsign: reading the PDF: %v", err)
	}
	cat, catRef, err := doc.catalog()
	if err != nil {
		return nil, fmt.Errorf("pdfsign: %v", err)
	}
	if cat.get("AcroForm") != nil {
		return nil, errors.New("pdfsign: the PDF already has an /AcroForm (a form or an earlier signature); Sign only signs unsigned fpdf output")
	}
	if cat.get("AF") != nil {
		return nil, errors.New("pdfsign: the PDF already has associated files (/AF)")
	}
	if cat.get("DSS") != nil {
		return nil, errors.New("pdfsign: the PDF already has a /DSS")
	}
	page, pageRef, err := doc.firstPage(cat)
	if err != nil {
		return nil, fmt.Errorf("pdfsign: finding page 1: %v", err)
	}

	// New objects are numbered from the old /Size on (§7.5.5).
	next, ok := doc.trailer.get("Size").(integer)
	if !ok || next < 1 {
		return nil, errors.New("pdfsign: trailer has no valid /Size")
	}
	for n := range doc.offsets {
		next = max(next, integer(n)+1)
	}
	alloc := func(next *integer) ref {
		r := ref{int(*next), 0}
		*next++
		return r
	}
	type embedded struct {
		f          Attachment
		file, spec ref
	}
	emb := make([]embedded, len(files))
	for i, f := range files {
		emb[i] = embedded{f: f, file: alloc(&next), spec: alloc(&next)}
	}
	acroRef, widgetRef, sigRef := alloc(&next), alloc(&next), alloc(&next)
	if next > maxObjectNum {
		return nil, errors.New("pdfsign: too many objects")
	}

	// The new catalog: the old entries, plus ours.
	newCat := slices.Clone(cat)
	if len(files) > 0 {
		names := dict{}
		if n := cat.get("Names"); n != nil {
			nd, err := doc.resolveDict(n, "catalog /Names")
			if err != nil {
				return nil, fmt.Errorf("pdfsign: %v", err)
			}
			names = slices.Clone(nd)
			if ef := nd.get("EmbeddedFiles"); ef != nil {
				// fpdf always writes an empty tree; anything else would need merging.
				efd, err := doc.resolveDict(ef, "catalog /Names /EmbeddedFiles")
				if err != nil {
					return nil, fmt.Errorf("pdfsign: %v", err)
				}
				old, _ := doc.resolve(efd.get("Names"))
				if a, _ := old.(array); len(a) > 0 || efd.get("Kids") != nil {
					return nil, errors.New("pdfsign: the PDF already embeds files; Sign embeds all files itself")
				}
			}
		}
		byKey := slices.Clone(emb)
		slices.SortFunc(byKey, func(a, b embedded) int {
			return bytes.Compare(textString(a.f.Name).b, textString(b.f.Name).b)
		})
		var tree, af array
		for _, e := range byKey {
			tree = append(tree, textString(e.f.Name), e.spec)
		}
		for _, e := range emb {
			af = append(af, e.spec)
		}
		names = names.set("EmbeddedFiles", dict{{"Names", tree}})
		newCat = newCat.set("Names", names).set("AF", af)
	}
	newCat = newCat.set("AcroForm", acroRef)
	version := headerVersion(pdf)
	if v, ok := cat.get("Version").(name); ok && string(v) > version {
		version = string(v)
	}
	if version < "1.7" {
		// /UF (§7.11.3) and signature /SubFilter values need PDF 1.7; §7.7.2
		// lets the catalog's /Version override the header in an update.
		newCat = newCat.set("Version", name("1.7"))
	}
	if version < "2.0" {
		// ETSI.CAdES.detached is PDF 2.0 (§12.8.3.4); a 1.7 document declares
		// it with ETSI's developer extension (§7.12), ESIC level 2, as PAdES
		// signers commonly do; level 5 when it has a DSS (PDF 2.0 §12.8.4.3).
		ext := dict{}
		if e := cat.get("Extensions"); e != nil {
			ed, err := doc.resolveDict(e, "catalog /Extensions")
			if err != nil {
				return nil, fmt.Errorf("pdfsign: %v", err)
			}
			ext = slices.Clone(ed)
		}
		if ext.get("ESIC") == nil {
			level := integer(2)
			if s.Timestamp != nil {
				level = 5
			}
			ext = ext.set("ESIC", dict{{"BaseVersion", name("1.7")}, {"ExtensionLevel", level}})
		}
		newCat = newCat.set("Extensions", ext)
	}

	// Page 1 keeps its annotations and gains the widget (§12.5.2).
	var annots array
	if a := page.get("Annots"); a != nil {
		old, err := doc.resolveArray(a, "page 1 /Annots")
		if err != nil {
			return nil, fmt.Errorf("pdfsign: %v", err)
		}
		annots = slices.Clone(old)
	}
	newPage := slices.Clone(page).set("Annots", append(annots, widgetRef))

	// layout writes the update with a DSS holding dss (none if empty) and
	// returns the file and where the /Contents string is.
	layout := func(dss []*x509.Certificate) (out []byte, contentsStart, contentsEnd int, err error) {
		next := next
		var dssRef ref
		certRefs := make([]ref, len(dss))
		if len(dss) > 0 {
			dssRef = alloc(&next)
			for i := range dss {
				certRefs[i] = alloc(&next)
			}
		}
		if next > maxObjectNum {
			return nil, 0, 0, errors.New("pdfsign: too many objects")
		}
		newCat := newCat
		if len(dss) > 0 {
			newCat = slices.Clone(newCat).set("DSS", dssRef)
		}
		w := bytes.NewBuffer(make([]byte, 0, len(pdf)+2*contentsSize+64<<10+totalSize(files)+dssSize(dss)))
		w.Write(pdf)
		if len(pdf) > 0 && pdf[len(pdf)-1] != '\n' && pdf[len(pdf)-1] != '\r' {
			w.WriteByte('\n')
		}
		offsets := map[int]int{}
		gens := map[int]int{}
		begin := func(r ref) {
			offsets[r.num], gens[r.num] = w.Len(), r.gen
			fmt.Fprintf(w, "%d %d obj\n", r.num, r.gen)
		}
		put := func(r ref, o object) {
			begin(r)
			writeObject(w, o)
			w.WriteString("\nendobj\n")
		}

		put(catRef, newCat)
		put(pageRef, newPage)
		for _, e := range emb {
			if err := putEmbeddedFile(w, begin, e.file, e.f); err != nil {
				return nil, 0, 0, err
			}
			spec := dict{
				{"Type", name("Filespec")},
				{"F", pdfString{b: []byte(asciiName(e.f.Name))}},
				{"UF", textString(e.f.Name)},
			}
			if e.f.Description != "" {
				spec = append(spec, entry{"Desc", textString(e.f.Description)})
			}
			spec = append(spec,
				entry{"AFRelationship", name("Data")},
				entry{"EF", dict{{"F", e.file}, {"UF", e.file}}})
			put(e.spec, spec)
		}
		put(acroRef, dict{{"Fields", array{widgetRef}}, {"SigFlags", integer(3)}})
		put(widgetRef, dict{
			{"Type", name("Annot")},
			{"Subtype", name("Widget")},
			{"FT", name("Sig")},
			{"T", textString("Signature1")},
			{"V", sigRef},
			{"P", pageRef},
			// A zero rectangle makes the signature invisible (§12.7.4.5); flags
			// Print and Locked (§12.5.3).
			{"Rect", array{integer(0), integer(0), integer(0), integer(0)}},
			{"F", integer(132)},
		})

		if len(dss) > 0 {
			put(dssRef, dict{{"Type", name("DSS")}, {"Certs", refArray(certRefs)}})
			for i, c := range dss {
				begin(certRefs[i])
				writeObject(w, dict{{"Length", integer(len(c.Raw))}})
				w.WriteString("\nstream\n")
				w.Write(c.Raw)
				w.WriteString("\nendstream\nendobj\n")
			}
		}

		// The signature dictionary (§12.8.1, Table 252), written by hand to
		// place the two placeholders and remember where they are.
		begin(sigRef)
		sig := dict{
			{"Type", name("Sig")},
			{"Filter", name("Adobe.PPKLite")},
			{"SubFilter", name("ETSI.CAdES.detached")},
			{"M", pdfDate(s.Time)},
		}
		for _, kv := range []struct {
			k name
			v string
		}{{"Name", s.Name}, {"Reason", s.Reason}, {"Location", s.Location}} {
			if kv.v != "" {
				sig = append(sig, entry{kv.k, textString(kv.v)})
			}
		}
		writeObject(w, sig)
		w.Truncate(w.Len() - len(">>"))
		w.WriteString("/ByteRange ")
		byteRangeAt := w.Len()
		w.WriteString(strings.Repeat(" ", byteRangeWidth))
		w.WriteString("\n/Contents ")
		contentsStart = w.Len()
		w.WriteByte('<')
		w.WriteString(strings.Repeat("0", 2*contentsSize))
		w.WriteByte('>')
		contentsEnd = w.Len()
		w.WriteString(">>\nendobj\n")

		// The cross-reference section (§7.5.4): only the objects written here,
		// in runs of consecutive numbers; every entry exactly 20 bytes.
		xrefAt := w.Len()
		nums := make([]int, 0, len(offsets))
		for n := range offsets {
			nums = append(nums, n)
		}
		slices.Sort(nums)
		w.WriteString("xref\n")
		for i := 0; i < len(nums); {
			j := i + 1
			for j < len(nums) && nums[j] == nums[j-1]+1 {
				j++
			}
			fmt.Fprintf(w, "%d %d\n", nums[i], j-i)
			for _, n := range nums[i:j] {
				fmt.Fprintf(w, "%010d %05d n \n", offsets[n], gens[n])
			}
			i = j
		}

		// §14.4: the first /ID string is permanent, the second changes with
		// each update. Both derive from content, so that output is reproducible.
		var id0 []byte
		if old, ok := doc.trailer.get("ID").(array); ok && len(old) == 2 {
			if s, ok := old[0].(pdfString); ok {
				id0 = s.b
			}
		}
		if id0 == nil {
			h := sha256.Sum256(pdf)
			id0 = h[:16]
		}
		h := sha256.Sum256(w.Bytes())
		trailer := dict{{"Size", next}, {"Root", catRef}}
		if info := doc.trailer.get("Info"); info != nil {
			trailer = append(trailer, entry{"Info", info})
		}
		trailer = append(trailer,
			entry{"ID", array{pdfString{b: id0, hex: true}, pdfString{b: h[:16], hex: true}}},
			entry{"Prev", integer(doc.startxref)})
		w.WriteString("trailer\n")
		writeObject(w, trailer)
		fmt.Fprintf(w, "\nstartxref\n%d\n%%%%EOF\n", xrefAt)

		out = w.Bytes()
		br := fmt.Sprintf("[0 %d %d %d]", contentsStart, contentsEnd, len(out)-contentsEnd)
		if len(br) > byteRangeWidth {
			return nil, 0, 0, errors.New("pdfsign: the signed file would be larger than /ByteRange can describe")
		}
		copy(out[byteRangeAt:], br)
		return out, contentsStart, contentsEnd, nil
	}

	// Without a timestamp, one signature; with one, the DSS must list the
	// TSA's certificates, which only a token tells, so a first token (over the
	// input) tells them, and the signature is made again should the token
	// over the signature carry others.
	var tsaCerts []*x509.Certificate
	if s.Timestamp != nil {
		tok, err := s.Timestamp(pdf)
		if err != nil {
			return nil, fmt.Errorf("pdfsign: signature timestamp: %w", err)
		}
		ti, err := tokenInfo(tok)
		if err != nil {
			return nil, fmt.Errorf("pdfsign: signature timestamp: %v", err)
		}
		tsaCerts = ti.certs
	}
	for attempt := 1; ; attempt++ {
		var dss []*x509.Certificate
		if s.Timestamp != nil {
			dss = unionCerts(s.Chain, tsaCerts)
		}
		out, contentsStart, contentsEnd, err := layout(dss)
		if err != nil {
			return nil, err
		}
		digest := sha256.New()
		digest.Write(out[:contentsStart])
		digest.Write(out[contentsEnd:])
		si, err := signCMS(digest.Sum(nil), s.Key, s.Chain, s.Time)
		if err != nil {
			return nil, fmt.Errorf("pdfsign: building the CMS signature: %v", err)
		}
		var token []byte
		if s.Timestamp != nil {
			if token, err = s.Timestamp(si.sig); err != nil {
				return nil, fmt.Errorf("pdfsign: signature timestamp: %w", err)
			}
			ti, err := tokenInfo(token)
			if err != nil {
				return nil, fmt.Errorf("pdfsign: signature timestamp: %v", err)
			}
			if want := sha256.Sum256(si.sig); !bytes.Equal(ti.imprint, want[:]) {
				return nil, errors.New("pdfsign: signature timestamp: the token is not over the signature value")
			}
			if len(unionCerts(dss, ti.certs)) != len(dss) {
				if attempt == 3 {
					return nil, errors.New("pdfsign: signature timestamp: the TSA signed three tokens in a row with certificates it had not used before; try again")
				}
				tsaCerts = ti.certs // the DSS must list exactly the final token's
				continue
			}
		}
		der, err := si.encode(token)
		if err != nil {
			return nil, fmt.Errorf("pdfsign: building the CMS signature: %v", err)
		}
		if len(der) > contentsSize {
			return nil, fmt.Errorf("pdfsign: the CMS signature takes %d bytes, more than the %d reserved in /Contents (a long certificate chain?)", len(der), contentsSize)
		}
		hex.Encode(out[contentsStart+1:], der)
		return out, nil
	}
}

// unionCerts returns a's certificates, then those of b not in a.
func unionCerts(a, b []*x509.Certificate) []*x509.Certificate {
	out := slices.Clone(a)
	for _, c := range b {
		if !slices.ContainsFunc(out, c.Equal) {
			out = append(out, c)
		}
	}
	return out
}

func refArray(refs []ref) array {
	a := make(array, len(refs))
	for i, r := range refs {
		a[i] = r
	}
	return a
}

func dssSize(certs []*x509.Certificate) int {
	n := 0
	for _, c := range certs {
		n += len(c.Raw) + 64
	}
	return n
}

func (s *Signer) check() error {
	if s.Key == nil {
		return errors.New("pdfsign: Signer.Key is required")
	}
	switch k := s.Key.Public().(type) {
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return fmt.Errorf("pdfsign: Signer.Key is ECDSA on %s; only P-256 is supported", k.Curve.Params().Name)
		}
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return fmt.Errorf("pdfsign: Signer.Key is RSA of %d bits; at least 2048 are needed", k.N.BitLen())
		}
	default:
		return fmt.Errorf("pdfsign: Signer.Key is %T; it must be ECDSA P-256 or RSA, which PDF readers validate", k)
	}
	if len(s.Chain) == 0 || s.Chain[0] == nil {
		return errors.New("pdfsign: Signer.Chain must start with the signer's certificate")
	}
	for _, c := range s.Chain {
		if c == nil {
			return errors.New("pdfsign: nil certificate in Signer.Chain")
		}
	}
	if pub, ok := s.Chain[0].PublicKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(s.Key.Public()) {
		return errors.New("pdfsign: Signer.Chain[0] is not the certificate of Signer.Key")
	}
	if s.Time.IsZero() {
		return errors.New("pdfsign: Signer.Time is required")
	}
	for _, v := range []string{s.Name, s.Reason, s.Location} {
		if !utf8.ValidString(v) {
			return errors.New("pdfsign: Signer.Name, Reason and Location must be valid UTF-8")
		}
	}
	return nil
}

// putEmbeddedFile writes an embedded file stream (§7.11.4).
func putEmbeddedFile(w *bytes.Buffer, begin func(ref), r ref, f Attachment) error {
	sum := md5.Sum(f.Data)
	params := dict{{"Size", integer(len(f.Data))}, {"CheckSum", pdfString{b: sum[:], hex: true}}}
	if !f.ModTime.IsZero() {
		params = append(params, entry{"ModDate", pdfDate(f.ModTime)})
	}
	d := dict{{"Type", name("EmbeddedFile")}}
	if f.MIMEType != "" {
		d = append(d, entry{"Subtype", name(f.MIMEType)}) // the / is written as #2F
	}
	d = append(d, entry{"Params", params})

	data := f.Data
	var z bytes.Buffer
	zw, err := zlib.NewWriterLevel(&z, zlib.DefaultCompression)
	if err != nil {
		return err
	}
	zw.Write(f.Data)
	if err := zw.Close(); err != nil {
		return err
	}
	if z.Len() < len(f.Data) {
		data = z.Bytes()
		d = append(d, entry{"Filter", name("FlateDecode")})
	}
	d = append(d, entry{"Length", integer(len(data))})

	begin(r)
	writeObject(w, d)
	w.WriteString("\nstream\n")
	w.Write(data)
	w.WriteString("\nendstream\nendobj\n")
	return nil
}

func totalSize(files []Attachment) int {
	n := 0
	for _, f := range files {
		n += len(f.Data) + 1024
	}
	return n
}

// checkFileName accepts a name that is safe to use as a file name in one
// directory: pdfdetach -saveall writes files under these names.
func checkFileName(s string) error {
	switch {
	case s == "":
		return errors.New("pdfsign: an attachment has no name")
	case !utf8.ValidString(s):
		return fmt.Errorf("pdfsign: attachment name %q is not valid UTF-8", s)
	case s == "." || s == "..":
		return fmt.Errorf("pdfsign: attachment name %q is not a file name", s)
	case strings.ContainsAny(s, `/\`):
		return fmt.Errorf("pdfsign: attachment name %q contains a path separator", s)
	case strings.ContainsFunc(s, unicode.IsControl):
		return fmt.Errorf("pdfsign: attachment name %q contains a control character", s)
	}
	return nil
}

// asciiName is the /F form of a name: §7.11.2 file specification strings
// are bytes, and readers that predate /UF decode them in many ways.
func asciiName(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r > '~' {
			return '_'
		}
		return r
	}, s)
}

// validMIME accepts type/subtype made of RFC 2045 token characters.
func validMIME(s string) bool {
	typ, sub, ok := strings.Cut(s, "/")
	token := func(t string) bool {
		if t == "" {
			return false
		}
		for _, c := range []byte(t) {
			if c <= ' ' || c >= 0x7F || strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0 {
				return false
			}
		}
		return true
	}
	return ok && token(typ) && token(sub)
}

// headerVersion returns the version in the %PDF-x.y header (§7.5.2), or "".
func headerVersion(pdf []byte) string {
	if len(pdf) >= 8 && bytes.HasPrefix(pdf, []byte("%PDF-")) {
		return string(pdf[5:8])
	}
	return ""
}
