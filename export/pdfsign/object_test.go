package pdfsign

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseObject(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want object
	}{
		{"null", nil},
		{"true", true},
		{"-12", integer(-12)},
		{"+.5", real("+.5")},
		{"/A#20B#2Fc", name("A B/c")},
		{"/", name("")},
		{`(a\(b\)c\\d\n\101\0537)`, pdfString{b: []byte("a(b)c\\d\nA+7")}},
		{"(x(y)z)", pdfString{b: []byte("x(y)z")}},
		{"(a\\\r\nb\r\nc)", pdfString{b: []byte("ab\nc")}},
		{"<48 65 6c6C 7>", pdfString{b: []byte("Hellp"), hex: true}},
		{"[1 0 R 2 (x) 3 4]", array{ref{1, 0}, integer(2), pdfString{b: []byte("x")}, integer(3), integer(4)}},
		{"<</K [/a <<>>] % comment\n/L 5 0 R>>", dict{{"K", array{name("a"), dict{}}}, {"L", ref{5, 0}}}},
	} {
		p := &parser{b: []byte(tc.in)}
		got, err := p.object(0)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if s, ok := got.(pdfString); ok { // positions are tested elsewhere
			s.start, s.end = 0, 0
			got = s
		}
		if a, ok := got.(array); ok {
			for i, e := range a {
				if s, ok := e.(pdfString); ok {
					s.start, s.end = 0, 0
					a[i] = s
				}
			}
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q = %#v, want %#v", tc.in, got, tc.want)
		}
	}
	for _, in := range []string{"", "(abc", "<4G>", "<</A>>", "<<1 2>>", "[1 2", "1.2.3", "--1", "99999999999999999999", strings.Repeat("[", 100), "]", "bogus"} {
		p := &parser{b: []byte(in)}
		if o, err := p.object(0); err == nil {
			t.Errorf("%q parsed as %#v", in, o)
		}
	}
}

func TestWriteObjectRoundTrip(t *testing.T) {
	o := dict{
		{"A B", name("x/y#z")},
		{"S", pdfString{b: []byte("(\\)\x00\xff")}},
		{"H", pdfString{b: []byte{0xfe, 0xff, 0, 'a'}, hex: true}},
		{"N", array{integer(-3), real("0.25"), nil, true, ref{7, 1}}},
	}
	var b bytes.Buffer
	writeObject(&b, o)
	p := &parser{b: b.Bytes()}
	got, err := p.object(0)
	if err != nil {
		t.Fatalf("%s: %v", b.Bytes(), err)
	}
	gd := got.(dict)
	for i := range gd {
		if s, ok := gd[i].val.(pdfString); ok {
			s.start, s.end = 0, 0
			gd[i].val = s
		}
	}
	if !reflect.DeepEqual(gd, o) {
		t.Errorf("round trip of %s:\n got %#v\nwant %#v", b.Bytes(), gd, o)
	}
}

// TestDocumentPrevChain reads a hand-made file with two revisions, an
// indirect stream /Length, and CRLF line ends.
func TestDocumentPrevChain(t *testing.T) {
	var b bytes.Buffer
	off := map[int]int{}
	obj := func(n int, body string) { off[n] = b.Len(); fmt.Fprintf(&b, "%d 0 obj\r\n%s\r\nendobj\r\n", n, body) }
	b.WriteString("%PDF-1.4\r\n")
	obj(1, "<</Type /Catalog /Pages 2 0 R>>")
	obj(2, "<</Type /Pages /Kids [3 0 R] /Count 1>>")
	obj(3, "<</Type /Page /Parent 2 0 R /Contents 4 0 R>>")
	obj(4, "<</Length 5 0 R>>\r\nstream\r\nhello endstream\r\nendstream")
	obj(5, "16")
	x1 := b.Len()
	b.WriteString("xref\r\n0 6\r\n0000000000 65535 f\r\n")
	for n := 1; n <= 5; n++ {
		fmt.Fprintf(&b, "%010d 00000 n\r\n", off[n])
	}
	fmt.Fprintf(&b, "trailer\r\n<</Size 6 /Root 1 0 R>>\r\nstartxref\r\n%d\r\n%%%%EOF\r\n", x1)
	obj(3, "<</Type /Page /Parent 2 0 R /Contents 4 0 R /Rotate 90>>")
	x2 := b.Len()
	fmt.Fprintf(&b, "xref\n3 1\n%010d 00000 n \ntrailer\n<</Size 6 /Root 1 0 R /Prev %d>>\nstartxref\n%d\n%%%%EOF\n", off[3], x1, x2)

	d, err := parseDocument(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	cat, _, err := d.catalog()
	if err != nil {
		t.Fatal(err)
	}
	page, r, err := d.firstPage(cat)
	if err != nil {
		t.Fatal(err)
	}
	if r != (ref{3, 0}) || page.get("Rotate") != integer(90) {
		t.Errorf("page 1 is %v %v, want the updated object 3", r, page)
	}
	s, err := d.resolve(page.get("Contents"))
	if err != nil {
		t.Fatal(err)
	}
	if st, ok := s.(*stream); !ok || string(st.data) != "hello endstream\r" {
		t.Errorf("stream = %#v", s)
	}

	// A /Prev that points at itself must not loop.
	loop := bytes.Replace(b.Bytes(), fmt.Appendf(nil, "/Prev %d>>", x1), fmt.Appendf(nil, "/Prev %d>>", x2), 1)
	if _, err := parseDocument(loop); err == nil || !strings.Contains(err.Error(), "loops") {
		t.Errorf("self-referencing /Prev: %v", err)
	}
}

func TestPDFDate(t *testing.T) {
	for in, want := range map[string]time.Time{
		"D:20250314092653Z":       time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC),
		"D:20250314102653+01'00'": time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC),
		"D:20250314042653-05'00":  time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC),
		"D:2025":                  time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		"20250314092653":          time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC),
	} {
		got, err := parsePDFDate(in)
		if err != nil || !got.Equal(want) {
			t.Errorf("parsePDFDate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "D:", "D:2025131", "D:20250314092653X", "D:20250314092653+1"} {
		if got, err := parsePDFDate(in); err == nil {
			t.Errorf("parsePDFDate(%q) = %v", in, got)
		}
	}
	if got := decodeText(textString("Dvořáková 🎨").b); got != "Dvořáková 🎨" {
		t.Errorf("text string round trip: %q", got)
	}
	if got := decodeText([]byte("a\x80b\xe9")); got != "a•bé" {
		t.Errorf("PDFDocEncoding: %q", got)
	}
}
