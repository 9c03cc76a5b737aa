package pdfsign

import (
	"bytes"
	"compress/zlib"
	"crypto/md5"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Report is what Verify found.
type Report struct {
	// ByteRange is the signature's /ByteRange: [0 a b c] signs bytes
	// [0, a) and [b, b+c); [a, b) is the /Contents string.
	ByteRange [4]int64
	// WholeFileCovered says that the byte range ends at the end of the file:
	// nothing was added after signing. Verify returns an error wrapping
	// ErrNotWholeFile when it is false.
	WholeFileCovered bool
	SubFilter        string
	// Name, Reason and Location are from the signature dictionary.
	Name, Reason, Location string
	// Certificates are all certificates in the CMS; SignerCert is the one
	// whose key made the signature. Verify does not decide whether to trust
	// it: compare it, or its chain, with what you expect.
	Certificates []*x509.Certificate
	SignerCert   *x509.Certificate
	// SigningTime is the CMS signing-time attribute, as claimed by the signer.
	SigningTime time.Time
	// SignatureValue is the SignerInfo's signature. SignatureTimestamp is the
	// signature timestamp, a DER TimeStampToken (RFC 3161 §2.4.2), or nil;
	// Verify checks only that its imprint is SHA-256 of SignatureValue.
	// Verify the token's own signature and TSA (ledger/rfc3161) before
	// relying on its time. TimestampCerts are the certificates it carries.
	SignatureValue     []byte
	SignatureTimestamp []byte
	TimestampCerts     []*x509.Certificate
	// DSS is the /DSS of the signed revision, or nil. Verify checks that its
	// /Certs are exactly Certificates and TimestampCerts.
	DSS *DSS
	// Attachments are the embedded files of the signed revision, in name
	// tree order, each checked against its /Params /Size and /CheckSum.
	Attachments []Attachment
}

// DSS is a Document Security Store (PDF 2.0 §12.8.4.3): validation data
// kept in the document.
type DSS struct {
	Certs []*x509.Certificate
}

// ErrNotWholeFile is wrapped by the error Verify returns when the signature
// is valid but bytes follow the signed range, such as a later incremental
// update. Verify then also returns the Report of the signed revision.
var ErrNotWholeFile = errors.New("the signature does not cover the whole file")

// Limits on the structures Verify walks.
const (
	maxFields      = 1000  // signature fields considered
	maxAttachments = 10000 // name tree entries
)

// Verify checks the last signature of pdf, as written by Sign: that its
// /ByteRange starts at 0 and leaves out exactly the /Contents string, that
// the CMS in /Contents is a valid signature over the covered bytes (message
// digest and signature), and that its ESS signing-certificate-v2 names the
// signer's certificate; that a signature timestamp, if any, is over the
// signature value; and that a /DSS, if any, lists exactly the certificates of
// the CMS and its timestamp. It then reads the embedded files of the signed
// revision through the catalog's /Names /EmbeddedFiles name tree, checking
// each against /Params /Size and /CheckSum.
//
// Verify returns an error that names the first check that failed. If the
// only problem is that bytes follow the signed range, it returns the Report
// too, with an error wrapping ErrNotWholeFile.
func Verify(pdf []byte) (*Report, error) {
	return VerifyWith(pdf, VerifyOptions{})
}

// VerifyOptions tune VerifyWith.
type VerifyOptions struct {
	// Keep says which attachments to return with their Data, by name; nil
	// keeps all. The others are checked and hashed as they are decoded and
	// come back with Size and SHA256 only: a pack of 604 KB can inflate to a
	// 512 MiB file, which must not need 512 MiB of memory to check.
	Keep func(name string) bool
}

// VerifyWith is Verify with options.
func VerifyWith(pdf []byte, opts VerifyOptions) (*Report, error) {
	doc, err := parseDocument(pdf)
	if err != nil {
		return nil, fmt.Errorf("pdfsign: %v", err)
	}
	sigRef, sig, br, err := doc.lastSignature()
	if err != nil {
		return nil, fmt.Errorf("pdfsign: %v", err)
	}
	rep := &Report{ByteRange: br}
	if br[0] != 0 {
		return nil, fmt.Errorf("pdfsign: byte range %v does not start at the beginning of the file", br)
	}
	size := int64(len(pdf))
	if br[1] < 0 || br[2] < br[1] || br[3] < 0 || br[2] > size || br[3] > size-br[2] {
		return nil, fmt.Errorf("pdfsign: byte range %v does not fit in the file (%d bytes)", br, size)
	}
	contents, ok := sig.get("Contents").(pdfString)
	if !ok {
		return nil, errors.New("pdfsign: no /Contents string in the signature dictionary")
	}
	if !contents.hex || int64(contents.start) != br[1] || int64(contents.end) != br[2] {
		return nil, fmt.Errorf("pdfsign: byte range %v: the unsigned gap is not exactly the /Contents hex string at [%d, %d)", br, contents.start, contents.end)
	}
	// The gap is unsigned: anything a PDF reader skips in it (white space in a
	// hex string) could be changed without changing the signature. So it holds
	// lowercase hex digits and nothing else (FORMAT.md §7.1).
	if gap := pdf[br[1]+1 : br[2]-1]; len(gap)%2 != 0 || bytes.ContainsFunc(gap, func(r rune) bool { return !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') }) {
		return nil, errors.New("pdfsign: /Contents holds something other than lowercase hex digits (white space, say) in the part the signature does not cover")
	}
	signedEnd := br[2] + br[3]
	rep.WholeFileCovered = signedEnd == size
	if sf, ok := sig.get("SubFilter").(name); ok {
		rep.SubFilter = string(sf)
	}
	switch rep.SubFilter {
	case "ETSI.CAdES.detached", "adbe.pkcs7.detached":
	default:
		return nil, fmt.Errorf("pdfsign: signature /SubFilter %q is not supported", rep.SubFilter)
	}
	if t, ok := sig.get("Type").(name); ok && t != "Sig" {
		return nil, fmt.Errorf("pdfsign: signature dictionary has /Type /%s, not /Sig", t)
	}
	rep.Name, rep.Reason, rep.Location = textEntry(sig, "Name"), textEntry(sig, "Reason"), textEntry(sig, "Location")

	// /Contents is the DER padded with zeros to the reserved size.
	der := cryptobyte.String(contents.b)
	var cms cryptobyte.String
	if !der.ReadAnyASN1Element(&cms, new(cbasn1.Tag)) {
		return nil, errors.New("pdfsign: /Contents does not hold a DER CMS signature")
	}
	if bytes.ContainsFunc(der, func(r rune) bool { return r != 0 }) {
		return nil, errors.New("pdfsign: /Contents has data after the CMS signature")
	}
	h := sha256.New()
	h.Write(pdf[:br[1]])
	h.Write(pdf[br[2]:signedEnd])
	signed, err := verifyCMS(cms, h.Sum(nil))
	if err != nil {
		return nil, fmt.Errorf("pdfsign: %v", err)
	}
	rep.Certificates, rep.SignerCert, rep.SigningTime = signed.certs, signed.signer, signed.signingTime
	rep.SignatureValue, rep.SignatureTimestamp = signed.sigValue, signed.token
	if signed.token != nil {
		ti, err := tokenInfo(signed.token)
		if err != nil {
			return nil, fmt.Errorf("pdfsign: signature timestamp: %v", err)
		}
		if want := sha256.Sum256(signed.sigValue); !bytes.Equal(ti.imprint, want[:]) {
			return nil, errors.New("pdfsign: the signature timestamp is not over this signature: its imprint is not SHA-256 of the signature value")
		}
		rep.TimestampCerts = ti.certs
	}

	// Everything else comes from the signed revision alone, which must
	// itself end with this signature: otherwise the bytes after it could
	// change what the signed bytes mean.
	if !rep.WholeFileCovered {
		doc, err = parseDocument(pdf[:signedEnd])
		if err != nil {
			return nil, fmt.Errorf("pdfsign: reading the signed revision: %v", err)
		}
		r2, _, br2, err := doc.lastSignature()
		if err != nil {
			return nil, fmt.Errorf("pdfsign: reading the signed revision: %v", err)
		}
		if r2 != sigRef || br2 != br {
			return nil, errors.New("pdfsign: the signed revision's last signature is not the one that signs it")
		}
	}
	if certs, ok, err := doc.dss(); err != nil {
		return nil, fmt.Errorf("pdfsign: %v", err)
	} else if ok {
		if err := checkDSS(certs, rep.Certificates, rep.TimestampCerts); err != nil {
			return nil, fmt.Errorf("pdfsign: %v", err)
		}
		rep.DSS = &DSS{Certs: certs}
	}
	if rep.Attachments, err = doc.attachments(opts.Keep); err != nil {
		return nil, fmt.Errorf("pdfsign: %v", err)
	}
	if !rep.WholeFileCovered {
		return rep, fmt.Errorf("pdfsign: byte range %v leaves %d bytes unsigned at the end of the file: something was appended after signing: %w",
			br, size-signedEnd, ErrNotWholeFile)
	}
	return rep, nil
}

// lastSignature finds the signature fields through /AcroForm /Fields
// (§12.7.2, §12.7.4.5) and returns the value of the one whose byte range
// ends last: the signature that covers the most.
func (d *document) lastSignature() (ref, dict, [4]int64, error) {
	var best struct {
		r   ref
		sig dict
		br  [4]int64
		ok  bool
	}
	cat, _, err := d.catalog()
	if err != nil {
		return ref{}, nil, best.br, err
	}
	if cat.get("AcroForm") == nil {
		return ref{}, nil, best.br, errors.New("no /AcroForm in the catalog: the PDF is not signed")
	}
	form, err := d.resolveDict(cat.get("AcroForm"), "/AcroForm")
	if err != nil {
		return ref{}, nil, best.br, err
	}
	fields, err := d.resolveArray(form.get("Fields"), "/AcroForm /Fields")
	if err != nil {
		return ref{}, nil, best.br, err
	}
	visited := 0
	var walk func(fields array, ft object, depth int) error
	walk = func(fields array, ft object, depth int) error {
		if depth > 8 {
			return errors.New("form field tree is too deep")
		}
		for _, f := range fields {
			if visited++; visited > maxFields {
				return fmt.Errorf("more than %d form fields", maxFields)
			}
			fd, err := d.resolveDict(f, "form field")
			if err != nil {
				return err
			}
			fieldType := ft // /FT is inheritable (§12.7.3.1)
			if t := fd.get("FT"); t != nil {
				fieldType = t
			}
			if kids, ok := fd.get("Kids").(array); ok {
				if err := walk(kids, fieldType, depth+1); err != nil {
					return err
				}
			}
			if fieldType != name("Sig") || fd.get("V") == nil {
				continue
			}
			r, ok := fd.get("V").(ref)
			if !ok {
				return errors.New("signature field /V is not an indirect reference")
			}
			sig, err := d.resolveDict(r, "signature dictionary")
			if err != nil {
				return err
			}
			br, err := byteRange(sig)
			if err != nil {
				return err
			}
			if !best.ok || br[2]+br[3] > best.br[2]+best.br[3] {
				best.r, best.sig, best.br, best.ok = r, sig, br, true
			}
		}
		return nil
	}
	if err := walk(fields, nil, 0); err != nil {
		return ref{}, nil, best.br, err
	}
	if !best.ok {
		return ref{}, nil, best.br, errors.New("no signed signature field in /AcroForm: the PDF is not signed")
	}
	return best.r, best.sig, best.br, nil
}

func byteRange(sig dict) ([4]int64, error) {
	var br [4]int64
	o := sig.get("ByteRange")
	if o == nil {
		return br, errors.New("no /ByteRange in the signature dictionary")
	}
	a, ok := o.(array)
	if !ok || len(a) != 4 {
		return br, errors.New("/ByteRange is not an array of four integers")
	}
	for i, v := range a {
		n, ok := v.(integer)
		if !ok || n < 0 || n > 1<<40 {
			return br, errors.New("/ByteRange is not an array of four non-negative integers")
		}
		br[i] = int64(n)
	}
	return br, nil
}

func textEntry(d dict, k name) string {
	if s, ok := d.get(k).(pdfString); ok {
		return decodeText(s.b)
	}
	return ""
}

// attachments reads the /EmbeddedFiles name tree (§7.9.6, §7.11.4), keeping
// the data of those attachments keep names (all if keep is nil).
func (d *document) attachments(keep func(string) bool) ([]Attachment, error) {
	cat, _, err := d.catalog()
	if err != nil {
		return nil, err
	}
	if cat.get("Names") == nil {
		return nil, nil
	}
	names, err := d.resolveDict(cat.get("Names"), "catalog /Names")
	if err != nil {
		return nil, err
	}
	if names.get("EmbeddedFiles") == nil {
		return nil, nil
	}
	var out []Attachment
	nodes := 0
	var walk func(node object, depth int) error
	walk = func(node object, depth int) error {
		if depth > 16 {
			return errors.New("/EmbeddedFiles name tree is too deep")
		}
		// Kids may repeat a node; counting visits keeps that linear.
		if nodes++; nodes > maxAttachments {
			return fmt.Errorf("/EmbeddedFiles name tree has more than %d nodes", maxAttachments)
		}
		n, err := d.resolveDict(node, "/EmbeddedFiles name tree node")
		if err != nil {
			return err
		}
		if kids := n.get("Kids"); kids != nil {
			ka, err := d.resolveArray(kids, "/EmbeddedFiles /Kids")
			if err != nil {
				return err
			}
			for _, k := range ka {
				if err := walk(k, depth+1); err != nil {
					return err
				}
			}
		}
		if n.get("Names") == nil {
			return nil
		}
		pairs, err := d.resolveArray(n.get("Names"), "/EmbeddedFiles /Names")
		if err != nil {
			return err
		}
		if len(pairs)%2 != 0 {
			return errors.New("/EmbeddedFiles /Names has an odd number of elements")
		}
		for i := 0; i < len(pairs); i += 2 {
			if len(out) >= maxAttachments {
				return fmt.Errorf("more than %d embedded files", maxAttachments)
			}
			a, err := d.attachment(pairs[i+1], keep)
			if err != nil {
				return err
			}
			out = append(out, a)
		}
		return nil
	}
	if err := walk(names.get("EmbeddedFiles"), 0); err != nil {
		return nil, err
	}
	return out, nil
}

// attachment reads one file specification (§7.11.3) and its embedded file
// stream, and checks the stream against its /Params.
func (d *document) attachment(o object, keep func(string) bool) (Attachment, error) {
	var a Attachment
	spec, err := d.resolveDict(o, "embedded file specification")
	if err != nil {
		return a, err
	}
	if uf, ok := spec.get("UF").(pdfString); ok {
		a.Name = decodeText(uf.b)
	} else if f, ok := spec.get("F").(pdfString); ok {
		a.Name = decodeText(f.b)
	}
	if err := checkFileName(a.Name); err != nil {
		return a, errors.Join(errors.New("embedded file specification"), err)
	}
	fail := func(format string, args ...any) (Attachment, error) {
		return Attachment{}, fmt.Errorf("embedded file %q: %s", a.Name, fmt.Sprintf(format, args...))
	}
	a.Description = textEntry(spec, "Desc")
	ef, err := d.resolveDict(spec.get("EF"), "/EF")
	if err != nil {
		return fail("%v", err)
	}
	fo := ef.get("UF")
	if fo == nil {
		fo = ef.get("F")
	}
	so, err := d.resolve(fo)
	if err != nil {
		return fail("%v", err)
	}
	s, ok := so.(*stream)
	if !ok {
		return fail("/EF does not refer to a stream")
	}
	if t, ok := s.dict.get("Type").(name); ok && t != "EmbeddedFile" {
		return fail("stream /Type is /%s, not /EmbeddedFile", t)
	}
	if st, ok := s.dict.get("Subtype").(name); ok {
		a.MIMEType = string(st)
	}
	params, err := d.resolveDict(s.dict.get("Params"), "/Params")
	if err != nil {
		return fail("%v", err)
	}
	want, ok := params.get("Size").(integer)
	if !ok || want < 0 || want > maxAttachmentSize {
		return fail("no valid /Params /Size")
	}
	sum, ok := params.get("CheckSum").(pdfString)
	if !ok || len(sum.b) != md5.Size {
		return fail("no valid /Params /CheckSum")
	}
	if md, ok := params.get("ModDate").(pdfString); ok {
		if a.ModTime, err = parsePDFDate(string(md.b)); err != nil {
			return fail("/ModDate: %v", err)
		}
	}
	r, err := decodeStream(s)
	if err != nil {
		return fail("%v", err)
	}
	// Decoded once, straight into the hashes, and into memory only if the
	// caller keeps it; at most want+1 bytes, enough to tell that the data is
	// longer than it should be.
	md, sh := md5.New(), sha256.New()
	w := io.MultiWriter(md, sh)
	var buf *bytes.Buffer
	if keep == nil || keep(a.Name) {
		buf = bytes.NewBuffer(make([]byte, 0, min(int64(want)+1, 64<<20)))
		w = io.MultiWriter(md, sh, buf)
	}
	if a.Size, err = io.Copy(w, io.LimitReader(r, int64(want)+1)); err != nil {
		return fail("FlateDecode: %v", err)
	}
	if a.Size != int64(want) {
		return fail("/Params /Size says %d bytes, the stream holds %d", want, a.Size)
	}
	if !bytes.Equal(md.Sum(nil), sum.b) {
		return fail("/Params /CheckSum does not match the data")
	}
	sh.Sum(a.SHA256[:0])
	if buf != nil {
		a.Data = buf.Bytes()
	}
	return a, nil
}

// decodeStream returns a reader of the stream's data with its filter
// applied, which may be none or FlateDecode without parameters.
func decodeStream(s *stream) (io.Reader, error) {
	f := s.dict.get("Filter")
	if a, ok := f.(array); ok && len(a) == 1 {
		f = a[0]
	} else if ok && len(a) == 0 {
		f = nil
	}
	if s.dict.get("DecodeParms") != nil {
		return nil, errors.New("stream /DecodeParms are not supported")
	}
	switch f {
	case nil:
		return bytes.NewReader(s.data), nil // copied out, never an alias of the caller's PDF
	case name("FlateDecode"):
		zr, err := zlib.NewReader(bytes.NewReader(s.data))
		if err != nil {
			return nil, fmt.Errorf("FlateDecode: %v", err)
		}
		return zr, nil
	default:
		return nil, fmt.Errorf("stream filter %v is not supported", f)
	}
}
