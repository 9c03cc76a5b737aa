package pdfsign

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"slices"
)

// Limits on the DSS Verify reads.
const (
	maxDSSCerts    = 100
	maxDSSCertSize = 64 << 10
)

// dss reads the catalog's /DSS (PDF 2.0 §12.8.4.3, ETSI EN 319 142-1
// §5.4.2) as Sign writes it: /Type /DSS and /Certs, an array of streams each
// holding one DER certificate. It returns nil if there is none. Other entries
// (/OCSPs, /CRLs, /VRI) are refused: cairn writes none, and a report that
// counted only the certificates would say less than the file holds.
func (d *document) dss() ([]*x509.Certificate, bool, error) {
	cat, _, err := d.catalog()
	if err != nil || cat.get("DSS") == nil {
		return nil, false, err
	}
	dss, err := d.resolveDict(cat.get("DSS"), "/DSS")
	if err != nil {
		return nil, false, err
	}
	for _, e := range dss {
		switch e.key {
		case "Type":
			if e.val != name("DSS") {
				return nil, false, errors.New("/DSS has a /Type other than /DSS")
			}
		case "Certs":
		default:
			return nil, false, fmt.Errorf("/DSS holds /%s; cairn packs hold only /Certs there", e.key)
		}
	}
	refs, err := d.resolveArray(dss.get("Certs"), "/DSS /Certs")
	if err != nil {
		return nil, false, err
	}
	if len(refs) > maxDSSCerts {
		return nil, false, fmt.Errorf("/DSS /Certs lists more than %d certificates", maxDSSCerts)
	}
	var certs []*x509.Certificate
	for i, r := range refs {
		o, err := d.resolve(r)
		if err != nil {
			return nil, false, fmt.Errorf("/DSS /Certs %d: %v", i, err)
		}
		s, ok := o.(*stream)
		if !ok {
			return nil, false, fmt.Errorf("/DSS /Certs %d is not a stream", i)
		}
		rd, err := decodeStream(s)
		if err != nil {
			return nil, false, fmt.Errorf("/DSS /Certs %d: %v", i, err)
		}
		der, err := io.ReadAll(io.LimitReader(rd, maxDSSCertSize+1))
		if err != nil || len(der) > maxDSSCertSize {
			return nil, false, fmt.Errorf("/DSS /Certs %d: not a certificate of at most %d bytes", i, maxDSSCertSize)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, false, fmt.Errorf("/DSS /Certs %d: %v", i, err)
		}
		if slices.ContainsFunc(certs, c.Equal) {
			return nil, false, fmt.Errorf("/DSS /Certs lists certificate %q twice", c.Subject.String())
		}
		certs = append(certs, c)
	}
	return certs, true, nil
}

// checkDSS checks that the DSS lists exactly the certificates of the CMS and
// of its signature timestamp. One the signature carries but the DSS lacks
// makes the DSS incomplete; one the DSS lists that the signature does not
// carry most likely belonged to a signature timestamp that was removed from
// /Contents, which the signature does not cover.
func checkDSS(dss, cms, token []*x509.Certificate) error {
	carried := unionCerts(cms, token)
	for _, c := range carried {
		if !slices.ContainsFunc(dss, c.Equal) {
			return fmt.Errorf("the /DSS lacks certificate %q, which the signature or its timestamp carries", c.Subject.String())
		}
	}
	for _, c := range dss {
		if !slices.ContainsFunc(carried, c.Equal) {
			if token == nil {
				return fmt.Errorf("the /DSS lists certificate %q, which neither the signature nor a timestamp carries: was the signature timestamp removed from /Contents?", c.Subject.String())
			}
			return fmt.Errorf("the /DSS lists certificate %q, which neither the signature nor its timestamp carries", c.Subject.String())
		}
	}
	return nil
}
