package capture

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

const (
	nsDC          = "http://purl.org/dc/elements/1.1/"
	nsIptc4xmpExt = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
	nsXMP         = "http://ns.adobe.com/xap/1.0/"
	nsRDF         = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
	nsXML         = "http://www.w3.org/XML/1998/namespace"

	// maxXMPDepth bounds element nesting; real packets nest about 8 deep.
	maxXMPDepth = 100
)

// xmpFields holds the XMP properties cairn reads.
type xmpFields struct {
	Description       string // dc:description, the x-default alternative
	Creator           string // dc:creator, list items joined by "; "
	CreatorTool       string // xmp:CreatorTool
	DigitalSourceType string // Iptc4xmpExt:DigitalSourceType
	DigImageGUID      string // Iptc4xmpExt:DigImageGUID
}

// field returns where a property's value goes, or nil if it is not read.
func (x *xmpFields) field(n xml.Name) *string {
	switch {
	case n.Space == nsDC && n.Local == "description":
		return &x.Description
	case n.Space == nsDC && n.Local == "creator":
		return &x.Creator
	case n.Space == nsXMP && n.Local == "CreatorTool":
		return &x.CreatorTool
	case n.Space == nsIptc4xmpExt && n.Local == "DigitalSourceType":
		return &x.DigitalSourceType
	case n.Space == nsIptc4xmpExt && n.Local == "DigImageGUID":
		return &x.DigImageGUID
	}
	return nil
}

// readXMP reads the properties of xmpFields from an XMP packet, in either
// RDF form: as elements (with rdf:Alt/rdf:Seq/rdf:Bag items or rdf:resource)
// or as attributes of rdf:Description. encoding/xml does not expand
// DTD-declared entities, so a packet cannot grow while being read.
func readXMP(packet []byte) (xmpFields, error) {
	var x xmpFields
	// JPEG writers pad packets with NULs or spaces after the trailer.
	packet = bytes.TrimRight(packet, "\x00 \t\r\n")
	d := xml.NewDecoder(bytes.NewReader(packet))
	var (
		depth       int
		target      *string // property being read, nil if none
		targetDepth int
		items       []xmpItem // rdf:li values of the property
		inItem      bool
		itemLang    string
		text        strings.Builder
	)
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return x, nil
		}
		if err != nil {
			return x, fmt.Errorf("XMP: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth > maxXMPDepth {
				return x, fmt.Errorf("XMP: elements nest more than %d deep", maxXMPDepth)
			}
			if target == nil {
				for _, a := range t.Attr {
					if f := x.field(a.Name); f != nil && *f == "" {
						*f = a.Value
					}
				}
				if f := x.field(t.Name); f != nil {
					target, targetDepth, items = f, depth, nil
					text.Reset()
					for _, a := range t.Attr {
						if a.Name.Space == nsRDF && a.Name.Local == "resource" {
							text.WriteString(a.Value)
						}
					}
				}
				continue
			}
			if t.Name.Space == nsRDF && t.Name.Local == "li" {
				inItem, itemLang = true, ""
				text.Reset()
				for _, a := range t.Attr {
					if a.Name.Local == "lang" && (a.Name.Space == nsXML || a.Name.Space == "xml") {
						itemLang = a.Value
					}
				}
			}
		case xml.CharData:
			if target != nil {
				text.Write(t)
			}
		case xml.EndElement:
			if target != nil && inItem && t.Name.Space == nsRDF && t.Name.Local == "li" {
				items = append(items, xmpItem{itemLang, text.String()})
				inItem = false
				text.Reset()
			}
			if target != nil && depth == targetDepth {
				if *target == "" {
					*target = pickXMPValue(target == &x.Creator, items, text.String())
				}
				target = nil
			}
			depth--
		}
	}
}

type xmpItem struct{ lang, value string }

// pickXMPValue chooses a property's value: for a language alternative the
// x-default item (else the first), for a list all items, and for a simple
// property its text.
func pickXMPValue(list bool, items []xmpItem, text string) string {
	if len(items) == 0 {
		return strings.TrimSpace(text)
	}
	if list {
		v := make([]string, len(items))
		for i, it := range items {
			v[i] = it.value
		}
		return strings.Join(v, "; ")
	}
	for _, it := range items {
		if it.lang == "x-default" {
			return it.value
		}
	}
	return items[0].value
}
