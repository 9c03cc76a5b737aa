package pdfsign

import (
	"bytes"
	"errors"
	"fmt"
)

// document gives access to the objects of a PDF through its classic
// cross-reference tables (PDF 32000-1 §7.5.4) and trailers (§7.5.5),
// following /Prev through earlier incremental updates (§7.5.6).
// Cross-reference streams (§7.5.8) are not supported: fpdf does not write them.
type document struct {
	b         []byte
	startxref int              // offset of the newest xref section
	trailer   dict             // the newest trailer
	offsets   map[int]xrefSlot // object number -> where the newest version is
	cache     map[int]object
	loading   int // nesting of load calls, bounded (an indirect /Length is loaded while loading a stream)
}

type xrefSlot struct {
	off, gen int
	free     bool
}

// parseDocument reads the cross-reference chain that ends at the last
// startxref in b.
func parseDocument(b []byte) (*document, error) {
	i := bytes.LastIndex(b, []byte("startxref"))
	if i < 0 {
		return nil, errors.New("no startxref: not a PDF file, or a truncated one")
	}
	p := &parser{b: b, pos: i + len("startxref")}
	start, err := p.integer()
	if err != nil {
		return nil, fmt.Errorf("startxref: %v", err)
	}
	d := &document{b: b, startxref: start, offsets: map[int]xrefSlot{}, cache: map[int]object{}}
	seen := map[int]bool{}
	off := start
	for n := 0; ; n++ {
		if n == maxXrefChains {
			return nil, fmt.Errorf("more than %d cross-reference sections", maxXrefChains)
		}
		if off < 0 || off >= len(b) {
			return nil, fmt.Errorf("cross-reference section offset %d is outside the file (%d bytes)", off, len(b))
		}
		if seen[off] {
			return nil, fmt.Errorf("cross-reference /Prev chain loops at offset %d", off)
		}
		seen[off] = true
		tr, err := d.readXref(off)
		if err != nil {
			return nil, err
		}
		if d.trailer == nil {
			d.trailer = tr
		}
		prev, ok := tr.get("Prev").(integer)
		if tr.get("Prev") == nil {
			break
		}
		if !ok || prev < 0 || prev > integer(len(b)) {
			return nil, fmt.Errorf("trailer at offset %d has an invalid /Prev", off)
		}
		off = int(prev)
	}
	return d, nil
}

// readXref reads one xref section and its trailer. Entries already known
// from a newer section are kept.
func (d *document) readXref(off int) (dict, error) {
	p := &parser{b: d.b, pos: off}
	if kw := p.keyword(); kw != "xref" {
		if _, err := fmt.Sscanf(kw, "%d", new(int)); err == nil {
			return nil, fmt.Errorf("startxref points at offset %d, which is not a classic xref table (cross-reference streams are not supported)", off)
		}
		return nil, fmt.Errorf("startxref points at offset %d, where there is no xref table", off)
	}
	for {
		p.skipSpace()
		if bytes.HasPrefix(d.b[p.pos:], []byte("trailer")) {
			p.pos += len("trailer")
			break
		}
		first, err := p.integer()
		if err != nil {
			return nil, fmt.Errorf("xref section at offset %d: %v", off, err)
		}
		count, err := p.integer()
		if err != nil {
			return nil, fmt.Errorf("xref section at offset %d: %v", off, err)
		}
		// Each entry takes 20 bytes (§7.5.4); tolerate 18 but no fewer, so that
		// a huge count cannot make us loop beyond the data.
		if first > maxObjectNum || count > maxObjectNum-first || count > (len(d.b)-p.pos)/18 {
			return nil, fmt.Errorf("xref subsection %d %d at offset %d does not fit", first, count, off)
		}
		for i := range count {
			o, err := p.integer()
			if err != nil {
				return nil, fmt.Errorf("xref entry for object %d: %v", first+i, err)
			}
			g, err := p.integer()
			if err != nil {
				return nil, fmt.Errorf("xref entry for object %d: %v", first+i, err)
			}
			kind := p.keyword()
			if kind != "n" && kind != "f" {
				return nil, fmt.Errorf("xref entry for object %d has type %q, want n or f", first+i, clip(kind))
			}
			if _, ok := d.offsets[first+i]; !ok {
				d.offsets[first+i] = xrefSlot{off: o, gen: g, free: kind == "f"}
			}
		}
	}
	o, err := p.object(0)
	if err != nil {
		return nil, fmt.Errorf("trailer after xref at offset %d: %v", off, err)
	}
	tr, ok := o.(dict)
	if !ok {
		return nil, fmt.Errorf("trailer after xref at offset %d is not a dictionary", off)
	}
	return tr, nil
}

// load returns indirect object num.
func (d *document) load(r ref) (object, error) {
	if o, ok := d.cache[r.num]; ok {
		return o, nil
	}
	slot, ok := d.offsets[r.num]
	if !ok || slot.free {
		// §7.3.10: a reference to an undefined object is the null object.
		// For the objects Verify needs, null is an error further up.
		return nil, nil
	}
	if slot.gen != r.gen {
		return nil, fmt.Errorf("object %d %d R: the xref has generation %d", r.num, r.gen, slot.gen)
	}
	if d.loading > 4 {
		return nil, fmt.Errorf("object %d: indirect references nest too deeply", r.num)
	}
	d.loading++
	defer func() { d.loading-- }()

	if slot.off < 0 || slot.off >= len(d.b) {
		return nil, fmt.Errorf("object %d: xref offset %d is outside the file", r.num, slot.off)
	}
	p := &parser{b: d.b, pos: slot.off}
	num, err := p.integer()
	if err != nil {
		return nil, fmt.Errorf("object %d at offset %d: %v", r.num, slot.off, err)
	}
	gen, err := p.integer()
	if err != nil {
		return nil, fmt.Errorf("object %d at offset %d: %v", r.num, slot.off, err)
	}
	if num != r.num || gen != r.gen {
		return nil, fmt.Errorf("xref says object %d is at offset %d, but object %d %d is there", r.num, slot.off, num, gen)
	}
	if err := p.expect("obj"); err != nil {
		return nil, fmt.Errorf("object %d: %v", r.num, err)
	}
	o, err := p.object(0)
	if err != nil {
		return nil, fmt.Errorf("object %d: %v", r.num, err)
	}
	if dct, ok := o.(dict); ok {
		save := p.pos
		if p.keyword() == "stream" {
			s, err := d.streamData(p, dct, r.num)
			if err != nil {
				return nil, err
			}
			o = s
		} else {
			p.pos = save
		}
	}
	// A missing endobj is tolerated, as most readers do; the object itself parsed.
	d.cache[r.num] = o
	return o, nil
}

// streamData reads the bytes after the stream keyword (§7.3.8.1): an EOL,
// /Length bytes, optional EOL, endstream.
func (d *document) streamData(p *parser, dct dict, num int) (*stream, error) {
	if p.pos < len(p.b) && p.b[p.pos] == '\r' {
		p.pos++
	}
	if p.pos >= len(p.b) || p.b[p.pos] != '\n' {
		return nil, fmt.Errorf("object %d: stream keyword not followed by an end-of-line", num)
	}
	p.pos++
	lo, err := d.resolve(dct.get("Length"))
	if err != nil {
		return nil, fmt.Errorf("object %d: /Length: %v", num, err)
	}
	n, ok := lo.(integer)
	if !ok || n < 0 || n > integer(len(p.b)-p.pos) {
		return nil, fmt.Errorf("object %d: stream /Length is missing or exceeds the file", num)
	}
	data := p.b[p.pos : p.pos+int(n)]
	p.pos += int(n)
	if err := p.expect("endstream"); err != nil {
		return nil, fmt.Errorf("object %d: stream /Length %d does not end at endstream: %v", num, n, err)
	}
	return &stream{dict: dct, data: data}, nil
}

// resolve follows o if it is an indirect reference.
func (d *document) resolve(o object) (object, error) {
	if r, ok := o.(ref); ok {
		return d.load(r)
	}
	return o, nil
}

// resolveDict resolves o and requires a dictionary; what names it for errors.
func (d *document) resolveDict(o object, what string) (dict, error) {
	o, err := d.resolve(o)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", what, err)
	}
	dct, ok := o.(dict)
	if !ok {
		return nil, fmt.Errorf("%s is missing or not a dictionary", what)
	}
	return dct, nil
}

func (d *document) resolveArray(o object, what string) (array, error) {
	o, err := d.resolve(o)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", what, err)
	}
	a, ok := o.(array)
	if !ok {
		return nil, fmt.Errorf("%s is missing or not an array", what)
	}
	return a, nil
}

// catalog returns the document catalog (§7.7.2) and its reference.
func (d *document) catalog() (dict, ref, error) {
	r, ok := d.trailer.get("Root").(ref)
	if !ok {
		return nil, ref{}, errors.New("trailer has no /Root reference")
	}
	c, err := d.resolveDict(r, "catalog (/Root)")
	return c, r, err
}

// firstPage walks the page tree (§7.7.3) down the first kids to page 1.
func (d *document) firstPage(cat dict) (dict, ref, error) {
	node := cat.get("Pages")
	for range maxDepth {
		r, ok := node.(ref)
		if !ok {
			return nil, ref{}, errors.New("page tree node is not an indirect object")
		}
		n, err := d.resolveDict(r, "page tree node")
		if err != nil {
			return nil, ref{}, err
		}
		switch n.get("Type") {
		case name("Page"):
			return n, r, nil
		case name("Pages"):
			kids, err := d.resolveArray(n.get("Kids"), "page tree /Kids")
			if err != nil {
				return nil, ref{}, err
			}
			if len(kids) == 0 {
				return nil, ref{}, errors.New("the document has no pages")
			}
			node = kids[0]
		default:
			return nil, ref{}, errors.New("page tree node has no /Type /Pages or /Page")
		}
	}
	return nil, ref{}, errors.New("page tree is too deep")
}
