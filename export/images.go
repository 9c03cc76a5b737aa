package export

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // decoders for the formats steps record
	"image/jpeg"
	_ "image/png"
	"runtime"
	"sync"

	"github.com/go-pdf/fpdf"
	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/internal/msg"
)

// Thumbnail sizes, in pixels on the longer side. A grid cell is about 32 mm
// wide, so 256 px is 200 dpi there; the final work on the cover gets more.
const (
	thumbPx = 256
	coverPx = 1024
	// maxPixels refuses to decode images whose header promises more than this:
	// a small file can claim a huge canvas, and decoding allocates for it.
	maxPixels = 64 << 20
	// jpegQuality is fixed: Go's JPEG encoder is deterministic for a given
	// image and quality, which keeps packs reproducible.
	jpegQuality = 85
)

// A picture is a file prepared for drawing: a JPEG small enough to embed, or
// the reason it cannot be drawn.
type picture struct {
	jpeg   []byte
	w, h   int    // pixels of the JPEG
	reason reason // why there is no picture: not an image, missing, undecodable
	name   string // fpdf image name, once registered
}

// pictures decodes and scales the files a pack draws. Decoding is the slow part
// of an export, so it runs on every core before drawing starts; drawing then
// registers each picture with fpdf once, however often it is drawn.
type pictures struct {
	store *evidence.FileStore
	pics  map[string]*picture // key: sha256 + "@" + size
	// byContent maps a JPEG's SHA-256 to the name it was registered under:
	// fpdf writes one resource entry per name, keyed by the image's content,
	// so two names for the same bytes would make a duplicate key (a file
	// smaller than the cap has the same thumbnail at every size).
	byContent map[[32]byte]string
	widths    map[int]bool // pixel widths taken (see plan)
}

type picKey struct {
	ref evidence.FileRef
	px  int
}

func key(sha string, px int) string { return fmt.Sprintf("%s@%d", sha, px) }

// loadPictures prepares every picture in want (duplicates are fine), decoding
// and scaling in parallel.
func loadPictures(store *evidence.FileStore, want []picKey) *pictures {
	p := &pictures{store: store, pics: map[string]*picture{}, byContent: map[[32]byte]string{}, widths: map[int]bool{}}
	type job struct {
		ref  evidence.FileRef
		k    string
		size image.Point
		pic  *picture
	}
	var jobs []*job
	for _, w := range want {
		k := key(w.ref.SHA256, w.px)
		if _, ok := p.pics[k]; ok {
			continue
		}
		p.pics[k] = nil
		size, pic := p.plan(w.ref, w.px)
		jobs = append(jobs, &job{w.ref, k, size, pic})
	}
	var wg sync.WaitGroup
	next := make(chan *job)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				j.pic = prepare(store, j.ref, j.size)
			}
		}()
	}
	for _, j := range jobs {
		if j.pic == nil {
			next <- j
		}
	}
	close(next)
	wg.Wait()
	for _, j := range jobs {
		p.pics[j.k] = j.pic
	}
	return p
}

// plan reads an image's header and chooses the size of its thumbnail: fitting
// px×px, and with a pixel width no other picture of the document has. fpdf
// v0.9.0 orders image objects by width alone, starting from map order, so two
// images of equal width would come out in random order and the pack would not
// be reproducible. One pixel less is invisible. A picture that cannot be drawn
// is returned at once, with its reason.
func (p *pictures) plan(ref evidence.FileRef, px int) (image.Point, *picture) {
	if !ref.IsImage() {
		return image.Point{}, &picture{reason: reason{code: "not-image", args: []any{ref.Type}}}
	}
	f, err := p.store.Open(ref.SHA256)
	if err != nil {
		return image.Point{}, &picture{reason: reason{code: "missing"}}
	}
	defer f.Close()
	cfg, format, err := image.DecodeConfig(f)
	switch {
	case errors.Is(err, image.ErrFormat):
		return image.Point{}, &picture{reason: reason{code: "format"}}
	case err != nil:
		return image.Point{}, &picture{reason: reason{code: "undecodable"}}
	case cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > maxPixels:
		return image.Point{}, &picture{reason: reason{code: "too-large", args: []any{cfg.Width, cfg.Height, format}}}
	}
	w, h := cfg.Width, cfg.Height
	if w > px || h > px {
		if w >= h {
			w, h = px, max(1, h*px/w)
		} else {
			w, h = max(1, w*px/h), px
		}
	}
	for tw := w; tw > 0; tw-- {
		if !p.widths[tw] {
			p.widths[tw] = true
			return image.Pt(tw, max(1, int(int64(h)*int64(tw)/int64(w)))), nil
		}
	}
	return image.Point{}, &picture{reason: reason{code: "too-many"}}
}

// get returns the prepared picture; a picture not loaded beforehand is
// prepared now.
func (p *pictures) get(ref evidence.FileRef, px int) *picture {
	k := key(ref.SHA256, px)
	if pic := p.pics[k]; pic != nil {
		return pic
	}
	size, pic := p.plan(ref, px)
	if pic == nil {
		pic = prepare(p.store, ref, size)
	}
	p.pics[k] = pic
	return pic
}

// register makes the picture known to fpdf under a name derived from its hash,
// so that drawing it again re-uses one image object.
func (p *pictures) register(pdf *fpdf.Fpdf, pic *picture, sha string, px int) string {
	if pic.name != "" {
		return pic.name
	}
	sum := sha256.Sum256(pic.jpeg)
	if name, ok := p.byContent[sum]; ok {
		pic.name = name
		return name
	}
	name := key(sha, px)
	pdf.RegisterImageOptionsReader(name, fpdf.ImageOptions{ImageType: "JPG"}, bytes.NewReader(pic.jpeg))
	p.byContent[sum] = name
	pic.name = name
	return name
}

// prepare decodes a stored image and encodes it as a JPEG of exactly size.
func prepare(store *evidence.FileStore, ref evidence.FileRef, size image.Point) *picture {
	f, err := store.Open(ref.SHA256)
	if err != nil {
		return &picture{reason: reason{code: "missing"}}
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return &picture{reason: reason{code: "undecodable"}}
	}
	img = thumbnail(img, size)
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: jpegQuality}); err != nil {
		return &picture{reason: reason{code: "unencodable", args: []any{err.Error()}}}
	}
	return &picture{jpeg: b.Bytes(), w: size.X, h: size.Y}
}

// A reason says why a file is not drawn: a code of the catalogue's Picture
// table and its arguments.
type reason struct {
	code string
	args []any
}

// F says the reason in m's words. An unknown type is said as such.
func (r reason) F(m *msg.Catalogue) string {
	args := r.args
	if r.code == "not-image" && len(args) == 1 && args[0] == "" {
		args = []any{m.Pack.UnknownType.String()}
	}
	return m.Picture[r.code].F(args...)
}

// thumbnail scales img to size, flattened onto white (JPEG has no alpha, and
// a transparent area should look like paper, not black).
func thumbnail(img image.Image, size image.Point) image.Image {
	b := img.Bounds()
	dst := image.NewRGBA(image.Rectangle{Max: size})
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	if size == b.Size() {
		draw.Draw(dst, dst.Bounds(), img, b.Min, draw.Over)
	} else {
		draw.ApproxBiLinear.Scale(dst, dst.Bounds(), img, b, draw.Over, nil)
	}
	return dst
}
