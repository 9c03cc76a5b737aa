package evidence

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"math/big"
	"net/url"
	"strings"
	"testing"
	"time"
)

// boundCert makes a self-signed P-256 certificate with the given subject
// common names and URIs, as a forger with their own key could.
func boundCert(t *testing.T, cns []string, uris ...string) *x509.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	var subject pkix.Name
	for _, cn := range cns {
		subject.ExtraNames = append(subject.ExtraNames, pkix.AttributeTypeAndValue{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: cn})
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: subject,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	for _, u := range uris {
		scheme, opaque, _ := strings.Cut(u, ":")
		tmpl.URIs = append(tmpl.URIs, &url.URL{Scheme: scheme, Opaque: opaque})
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// The binding is read from the certificate's bytes (FORMAT.md §5.3): exactly
// one common name, and exactly one cairn URI, written exactly. crypto/x509's
// parsed view would take the last of two names and a scheme in any case.
func TestCertBindingIsExact(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	mine, theirs := KeyURI(pub), KeyURI(other)
	upper := "URN:CAIRN:ed25519:" + hex.EncodeToString(pub)
	for _, c := range []struct {
		name string
		cns  []string
		uris []string
		want string // "" binds to pub and names "Bob"
	}{
		{"exact", []string{"Bob"}, []string{mine}, ""},
		{"with an unrelated URI", []string{"Bob"}, []string{"https://bob.example/", mine}, ""},
		{"two common names, alike", []string{"Bob", "Bob"}, []string{mine}, "2 common names"},
		{"the step's name last", []string{"Robert", "Bob"}, []string{mine}, "2 common names"},
		{"no common name", nil, []string{mine}, "0 common names"},
		{"a second key in an upper-case scheme", []string{"Bob"}, []string{mine, "URN:CAIRN:ed25519:" + hex.EncodeToString(other)}, "names 2 cairn keys"},
		{"the key in an upper-case scheme only", []string{"Bob"}, []string{upper}, "written in lower case"},
		{"upper-case hex", []string{"Bob"}, []string{"urn:cairn:ed25519:" + strings.ToUpper(hex.EncodeToString(pub))}, "urn:cairn:ed25519"},
		{"another key", []string{"Bob"}, []string{theirs}, "does not name Ed25519 key"},
		{"no cairn URI", []string{"Bob"}, []string{"https://bob.example/"}, "does not name Ed25519 key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cert := boundCert(t, c.cns, c.uris...)
			err := CheckBinding(cert, pub)
			if c.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if n, err := CertName(cert); n != "Bob" || err != nil {
					t.Fatalf("name %q, %v", n, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error with %q", err, c.want)
			}
		})
	}
}

// What a step may hold is bounded and never empty, captured values included
// (FORMAT.md §5.4 rule 3 and the limits of §5).
func TestCapturedAndCertLimits(t *testing.T) {
	base := func() *Step {
		return &Step{Kind: KindPrompt, Asset: "poster", Text: "a fox", Captured: &Captured{From: "PNG tEXt", Fields: map[string]string{"seed": "42"}}}
	}
	if err := base().Normalize(); err != nil {
		t.Fatalf("a good step: %v", err)
	}
	s := base()
	s.Captured.Fields["steps"] = ""
	if err := s.Normalize(); err == nil || !strings.Contains(err.Error(), `captured field "steps" is empty`) {
		t.Errorf("an empty captured value: %v", err)
	}
	s = base()
	s.Captured.ClaimedTime = "2026-01-01T00:00:00." + strings.Repeat("1", 4097-len("2026-01-01T00:00:00.Z")) + "Z"
	if err := s.Normalize(); err == nil || !strings.Contains(err.Error(), "captured.claimed_time is") {
		t.Errorf("a claimed time of %d bytes: %v", len(s.Captured.ClaimedTime), err)
	}
	id, err := NewIdentity("Bob", "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	st := id.Step()
	st.Cert += strings.Repeat("A", 4100-len(st.Cert))
	if err := st.Normalize(); err == nil || !strings.Contains(err.Error(), "cert is") {
		t.Errorf("a cert of %d characters: %v", len(st.Cert), err)
	}
}

// Importers keep what a tool wrote as far as a step can hold it: empty
// fields are left out, long ones cut at a character boundary.
func TestKeepFields(t *testing.T) {
	long := strings.Repeat("é", 40000) // 80,000 bytes
	got := keepFields(map[string]string{"title": "", "prompt": long, strings.Repeat("k", 300): "v"})
	if _, ok := got["title"]; ok {
		t.Error("an empty field was kept")
	}
	if p := got["prompt"]; len(p) != 64<<10 || !strings.HasPrefix(long, p) {
		t.Errorf("the prompt was cut to %d bytes", len(p))
	}
	if got[strings.Repeat("k", 256)] != "v" {
		t.Errorf("a long name was not cut to 256 bytes: %v", len(got))
	}
	s := &Step{Kind: KindPrompt, Asset: "poster", Text: "a fox", Captured: &Captured{From: "x", Fields: got}}
	if err := s.Normalize(); err != nil {
		t.Errorf("kept fields are not recordable: %v", err)
	}
}
