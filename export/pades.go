package export

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/export/pdfsign"
	"github.com/cairn-ledger/cairn/ledger"
	"github.com/cairn-ledger/cairn/ledger/rfc3161"
)

// TSAOptions say where the PDF signature's timestamp comes from.
type TSAOptions struct {
	URL string
	// Roots, if set, are the roots the TSA must chain to as its tokens
	// arrive; nil checks everything but that (the pack then says so).
	Roots *x509.CertPool
	// Timeout bounds all the requests of one export together (two, or up to
	// four when the TSA changes certificates); 0 means DefaultTSATimeout.
	Timeout time.Duration
	Client  *http.Client // nil: http.DefaultClient
}

// DefaultTSATimeout bounds the time an export waits for its TSA, as
// cairn timestamp does: an export is made on purpose, and rarely.
const DefaultTSATimeout = 30 * time.Second

// A TSAError says that the PDF signature could not be timestamped. Nothing
// was written.
type TSAError struct {
	URL string
	Err error
}

func (e *TSAError) Error() string {
	return fmt.Sprintf("no signature timestamp: %v", e.Err) // Err names the URL
}

func (e *TSAError) Unwrap() error { return e.Err }

// stamper fetches the tokens of one export with cairn's RFC 3161 client,
// within one deadline, and keeps the last token and the first error.
type stamper struct {
	opts   *TSAOptions
	ctx    context.Context
	cancel context.CancelFunc
	last   *rfc3161.Token
	err    error
}

func (o *TSAOptions) stamper() *stamper {
	d := o.Timeout
	if d <= 0 {
		d = DefaultTSATimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	return &stamper{opts: o, ctx: ctx, cancel: cancel}
}

func (s *stamper) stamp(data []byte) ([]byte, error) {
	tok, err := rfc3161.Fetch(s.ctx, s.opts.URL, data, s.opts.Client, s.opts.Roots)
	if err == nil {
		var token []byte
		if token, err = pdfsign.TokenFromResponse(tok.Response); err == nil {
			s.last = tok
			return token, nil
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("no answer within %v: %w", s.deadline(), err)
	}
	if s.err == nil {
		s.err = err
	}
	return nil, err
}

func (s *stamper) deadline() time.Duration {
	if s.opts.Timeout > 0 {
		return s.opts.Timeout
	}
	return DefaultTSATimeout
}

// A CertSigner signs the PDF with a certificate a CA issued (a firm's, from a
// PKCS #12 file), instead of the exporter's own P-256 key.
type CertSigner struct {
	Key   crypto.Signer
	Chain []*x509.Certificate // the signer's certificate first, then its issuers
}

// pdfSigner is who signs the PDF: the CA-issued certificate if there is one,
// else the identity's P-256 key and self-signed certificate.
func pdfSigner(id *evidence.Identity, ca *CertSigner, t time.Time) (pdfsign.Signer, error) {
	if ca == nil {
		if id == nil {
			return pdfsign.Signer{}, errors.New("export: no identity and no certificate to sign the PDF with")
		}
		return pdfsign.Signer{Key: id.PDFKey, Chain: []*x509.Certificate{id.Cert}, Name: id.Name, Time: t}, nil
	}
	if err := CheckCertSigner(ca, t); err != nil {
		return pdfsign.Signer{}, err
	}
	return pdfsign.Signer{Key: ca.Key, Chain: ca.Chain, Name: ca.Chain[0].Subject.CommonName, Time: t}, nil
}

// CheckCertSigner checks a CA-issued signer before anything is done with it:
// a key PDF readers validate, matching its certificate, which is valid at t,
// may sign documents, and names no cairn key (a certificate that does is
// bound to an Ed25519 key, FORMAT.md §5.3, and is no CA's).
func CheckCertSigner(ca *CertSigner, t time.Time) error {
	bad := func(format string, args ...any) error {
		return &evidence.InputError{Msg: "the signing certificate " + fmt.Sprintf(format, args...)}
	}
	if ca == nil || ca.Key == nil || len(ca.Chain) == 0 {
		return errors.New("export: a certificate signer needs a key and a certificate")
	}
	leaf := ca.Chain[0]
	switch k := ca.Key.Public().(type) {
	case *ecdsa.PublicKey:
		if k.Curve.Params().Name != "P-256" {
			return bad("has an ECDSA key on %s; PDF readers validate P-256 (or RSA)", k.Curve.Params().Name)
		}
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return bad("has an RSA key of %d bits; at least 2048 are needed", k.N.BitLen())
		}
	default:
		return bad("has a %T key; PDF readers validate ECDSA P-256 and RSA only", k)
	}
	if pub, ok := leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(ca.Key.Public()) {
		return bad("%q is not the certificate of the private key in the file", leaf.Subject.String())
	}
	switch {
	case t.Before(leaf.NotBefore):
		return bad("%q is valid only from %s", leaf.Subject.String(), leaf.NotBefore.UTC().Format(time.RFC3339))
	case t.After(leaf.NotAfter):
		return bad("%q expired on %s", leaf.Subject.String(), leaf.NotAfter.UTC().Format(time.RFC3339))
	case leaf.KeyUsage != 0 && leaf.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0:
		return bad("%q may not sign documents (its key usage has neither digitalSignature nor nonRepudiation)", leaf.Subject.String())
	}
	if _, err := evidence.CertKey(leaf); !errors.Is(err, evidence.ErrNoCairnKey) {
		return bad("%q names a cairn key (urn:cairn:ed25519:…); sign with your cairn identity instead", leaf.Subject.String())
	}
	return nil
}

// checkSignatureTime refuses a signature timestamp earlier than the newest
// record the signature covers, to the second (as FORMAT.md §3.1 rule 8 does
// for checkpoints).
func checkSignatureTime(at, newest time.Time) error {
	if at.Before(newest.Truncate(time.Second)) {
		return fmt.Errorf("the signature timestamp says %s, earlier than the newest record the signature covers (%s): a time before the records existed proves nothing, and this one is false",
			at.UTC().Format(time.RFC3339), newest.UTC().Format(time.RFC3339))
	}
	return nil
}

// latest is the time of the newest record the pack holds.
func (c *collected) latest() time.Time {
	var t time.Time
	for _, list := range [][]evidence.StepRecord{c.steps, c.ids, c.rots} {
		for _, sr := range list {
			if sr.Rec.Time.After(t) {
				t = sr.Rec.Time
			}
		}
	}
	return t
}

// timeStampResp wraps a TimeStampToken in a TimeStampResp whose status is
// granted (RFC 3161 §2.4.2): the form ledger/rfc3161 verifies.
func timeStampResp(token []byte) []byte {
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1Int64(0) })
		b.AddBytes(token)
	})
	return b.BytesOrPanic()
}

// verifySignatureToken checks a signature timestamp as FORMAT.md §3.1 checks a
// checkpoint's, over the signature value: against the verifier's TSA roots,
// or, without them, for everything but its TSA.
func verifySignatureToken(token, sigValue []byte, trust *evidence.Trust) (*rfc3161.Token, error) {
	resp := timeStampResp(token)
	if trust != nil && trust.TSA != nil {
		return rfc3161.Verify(resp, sigValue, trust.TSA.Pool, nil)
	}
	return rfc3161.VerifyUntrusted(resp, sigValue)
}

// exporterLine is the cover's "Exported and signed by" for a PDF signed by
// someone other than an author with her own cairn key: a CA-issued
// certificate (an author's or a custodian's) or a custodian's own. ok is
// false for an author's export with her cairn key.
func (d *doc) exporterLine(c *collected) (line string, ok bool) {
	w := &d.m.Pack
	switch cert := c.caSigner; {
	case cert != nil && c.custodian:
		return w.CACustodian.F(cert.Subject.String(), cert.Issuer.String()), true
	case cert != nil:
		return w.CAAuthor.F(d.authorLine(c, c.signer), cert.Subject.String(), cert.Issuer.String()), true
	case c.custodian:
		return w.Custodian.F(orNone(c.custodianName, w.Unnamed), ledger.KeyID(c.signer)), true
	}
	return "", false
}

// signatureNote says how the PDF signature is tied to people.
func (d *doc) signatureNote(c *collected) string {
	if cert := c.caSigner; cert != nil {
		return d.m.Proof.CANote.F(cert.Issuer.String(), cert.Subject.String())
	}
	return d.m.Proof.P256Note.String()
}

// checksWithoutCairn are the steps of checking the pack by hand, with the
// signature and signer steps for the certificate that signed it.
func (d *doc) checksWithoutCairn(c *collected) []string {
	w := &d.m.Proof
	sig, bind := w.SignatureCheck.String(), w.BindingCheck.String()
	switch cert := c.caSigner; {
	case cert != nil:
		sig = w.CASignatureCheck.F(cert.Issuer.String())
		bind = w.CABindingCheck.F(cert.Subject.String(), cert.Issuer.String())
	case c.custodian:
		bind = w.CustodianBindingCheck.F(orNone(c.custodianName, d.m.Pack.Unnamed), ledger.KeyID(c.signer))
	}
	out := []string{sig}
	for i, s := range w.Checks {
		if i == 5 { // after the checkpoint's signature, before the chain
			out = append(out, bind)
		}
		out = append(out, s.String())
	}
	return out
}

// signatureTimestampNote is what the cover adds to "Trusted time" when the
// PDF's signature is timestamped: the token is made after the pages, so they
// name the service, not the time. A pack is written only with its token.
func (d *doc) signatureTimestampNote(c *collected) string {
	if c.sigTSA == "" {
		return ""
	}
	return d.m.Pack.SignatureTimestamp.F(c.sigTSA)
}
