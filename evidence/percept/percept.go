// Package percept computes perceptual fingerprints of images: short hashes that
// stay close when an image is resized, re-compressed, cropped a little,
// brightened or captioned, and are far apart for different images. cairn keeps
// one for every stored image so that `cairn match` can say which recorded file
// a copy found elsewhere looks like.
//
// A fingerprint is an index, never evidence: it finds candidates. What cairn
// prints about a match is read from the signed records, and the distance it
// prints is computed again from the stored file, whose SHA-256 is checked.
//
// The fingerprint (Method) is, for each of four central crops of the image
// (100%, 93%, 86% and 80% of each side), a 64-bit perceptual hash (pHash: the
// signs of the low-frequency DCT coefficients against their median) and a
// 64-bit difference hash (dHash: the signs of horizontal gradients), both from
// github.com/corona10/goimagehash. The distance of two fingerprints is the
// smallest number of differing bits, pHash and dHash added (0 to 128), between
// the whole of one image and any of the four crops of the other, either way
// round. DESIGN.md says why, and how the threshold was chosen.
package percept

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"math/bits"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"

	"github.com/corona10/goimagehash"
	"golang.org/x/image/bmp"
	"golang.org/x/image/draw"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"
)

// Method names the fingerprint and its distance. A similarity check records it:
// distances of another method are not comparable.
const Method = "cairn-percept/1"

// DefaultThreshold is the largest distance cairn reports as a look-alike.
// DESIGN.md ("Perceptual matching") gives the measurements it rests on.
const DefaultThreshold = 24

// MaxDistance is the largest possible distance.
const MaxDistance = 128

// Bounds on what is decoded. An image is refused before its pixels are
// decoded if its header claims more than MaxPixels; a file larger than
// MaxFileBytes is not read at all. Decoding needs up to about 10 bytes a pixel
// (a progressive JPEG keeps its coefficients), so 100 megapixels stay near 1 GB.
const (
	MaxPixels    = 100_000_000
	MaxFileBytes = 256 << 20
)

// Levels are the central crops a fingerprint holds, as fractions of each side.
var Levels = [levelCount]float64{1, 0.93, 0.86, 0.80}

const levelCount = 4

// A Hash is the pHash and dHash of one crop.
type Hash struct{ P, D uint64 }

// A Fingerprint holds the hashes of an image's central crops (Levels), the
// whole image first.
type Fingerprint [levelCount]Hash

// Distance is the number of differing bits between the whole of one image and
// the nearest crop of the other, taken both ways: 0 for the same picture, up
// to MaxDistance.
func Distance(a, b Fingerprint) int {
	best := MaxDistance
	for _, h := range b {
		best = min(best, hamming(a[0], h))
	}
	for _, h := range a[1:] {
		best = min(best, hamming(b[0], h))
	}
	return best
}

func hamming(a, b Hash) int {
	return bits.OnesCount64(a.P^b.P) + bits.OnesCount64(a.D^b.D)
}

// Problem says why a file has no fingerprint.
type Problem int

const (
	NotImage Problem = iota + 1 // not an image format cairn reads
	Damaged                     // an image, but it does not decode (truncated, corrupt)
	TooLarge                    // larger than MaxPixels or MaxFileBytes
)

// An Error is why a file could not be fingerprinted. Its message says what the
// file is and what to do.
type Error struct {
	Problem Problem
	Format  string // the image format, if it was recognised
	Msg     string
}

func (e *Error) Error() string { return e.Msg }

// Formats are the image formats cairn decodes.
const Formats = "PNG, JPEG, GIF, WebP, BMP and TIFF"

type format struct {
	name   string
	magic  func([]byte) bool
	decode func(io.Reader) (image.Image, error)
	config func(io.Reader) (image.Config, error)
}

var formats = []format{
	{"PNG", prefix("\x89PNG\r\n\x1a\n"), png.Decode, png.DecodeConfig},
	{"JPEG", prefix("\xff\xd8\xff"), jpeg.Decode, jpeg.DecodeConfig},
	{"GIF", func(b []byte) bool {
		return bytes.HasPrefix(b, []byte("GIF87a")) || bytes.HasPrefix(b, []byte("GIF89a"))
	}, gif.Decode, gif.DecodeConfig},
	{"WebP", func(b []byte) bool { return len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP" }, webp.Decode, webp.DecodeConfig},
	{"BMP", prefix("BM"), bmp.Decode, bmp.DecodeConfig},
	{"TIFF", func(b []byte) bool {
		return bytes.HasPrefix(b, []byte("II*\x00")) || bytes.HasPrefix(b, []byte("MM\x00*"))
	}, tiff.Decode, tiff.DecodeConfig},
}

func prefix(p string) func([]byte) bool {
	return func(b []byte) bool { return bytes.HasPrefix(b, []byte(p)) }
}

// Sniff names the image format of a file from its first bytes, or "".
func Sniff(head []byte) string {
	for _, f := range formats {
		if f.magic(head) {
			return f.name
		}
	}
	return ""
}

// Of fingerprints an encoded image. Its header is read first: a file that is
// not an image, or claims more than MaxPixels, is refused before any pixel is
// decoded. A decoder that fails, or panics on hostile input, gives an *Error.
func Of(data []byte) (Fingerprint, error) {
	img, err := Decode(data)
	if err != nil {
		return Fingerprint{}, err
	}
	return FromImage(img), nil
}

// big serialises the decoding of large images, so that fingerprinting on
// every core does not multiply the memory a large image needs.
var big sync.Mutex

// Decode decodes an image within the bounds above.
func Decode(data []byte) (img image.Image, err error) {
	var f *format
	for i := range formats {
		if formats[i].magic(data) {
			f = &formats[i]
		}
	}
	if f == nil {
		what := http.DetectContentType(data)
		what, _, _ = strings.Cut(what, ";")
		if len(data) == 0 {
			what = "empty"
		}
		return nil, &Error{NotImage, "", fmt.Sprintf("not an image cairn can read (it looks like %s); cairn reads %s", what, Formats)}
	}
	defer func() {
		if r := recover(); r != nil {
			img, err = nil, &Error{Damaged, f.name, fmt.Sprintf("the %s image is damaged: its decoder failed (%v)", f.name, r)}
		}
	}()
	cfg, err := f.config(bytes.NewReader(data))
	if err != nil {
		return nil, damaged(f.name, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, &Error{Damaged, f.name, fmt.Sprintf("the %s image claims a size of %d×%d pixels", f.name, cfg.Width, cfg.Height)}
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > pixelLimit {
		return nil, &Error{TooLarge, f.name, fmt.Sprintf("the %s image is %d×%d pixels (%.0f megapixels); cairn fingerprints images of up to %d megapixels, to bound the memory decoding takes. Scale a copy down and match that", f.name, cfg.Width, cfg.Height, float64(px)/1e6, pixelLimit/1_000_000)}
	} else if px > 16_000_000 {
		big.Lock()
		defer big.Unlock()
	}
	img, err = f.decode(bytes.NewReader(data))
	if err != nil {
		return nil, damaged(f.name, err)
	}
	// A GIF's first frame may be smaller than its screen, never larger.
	if b := img.Bounds(); b.Dx() > cfg.Width || b.Dy() > cfg.Height || b.Empty() {
		return nil, &Error{Damaged, f.name, fmt.Sprintf("the %s image's header says %d×%d pixels, its data %d×%d", f.name, cfg.Width, cfg.Height, b.Dx(), b.Dy())}
	}
	return img, nil
}

func damaged(name string, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return &Error{Damaged, name, fmt.Sprintf("the %s image is cut short (%v): give the complete file", name, err)}
	}
	return &Error{Damaged, name, fmt.Sprintf("the %s image is damaged or cut short (%v): give the complete, original file", name, err)}
}

// workSize is the side of the square every image is scaled to, after
// compositing onto white, before its crops are hashed.
const workSize = 128

// FromImage fingerprints a decoded image. Transparent parts count as white, as
// on a page.
func FromImage(img image.Image) Fingerprint {
	work := workImage(img)
	var fp Fingerprint
	for i, l := range Levels {
		side := int(workSize*l + 0.5)
		off := (workSize - side) / 2
		crop := image.NewRGBA(image.Rect(0, 0, side, side))
		draw.Draw(crop, crop.Bounds(), work, image.Pt(off, off), draw.Src)
		fp[i] = hashOf(crop)
	}
	return fp
}

// workImage is img composited onto white and scaled to workSize square. A
// large image is first averaged down to boxSize square in one pass over its
// pixels (a box filter, a row at a time): the bilinear scaler, which widens its
// kernel to the scale factor, took longer than decoding a 12-megapixel JPEG.
func workImage(img image.Image) image.Image {
	var src image.Image = img
	if b := img.Bounds(); b.Dx() > 2*boxSize && b.Dy() > 2*boxSize {
		src = boxAverage(img, boxSize)
	}
	work := image.NewRGBA(image.Rect(0, 0, workSize, workSize))
	draw.Draw(work, work.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.BiLinear.Scale(work, work.Bounds(), src, src.Bounds(), draw.Over, nil)
	return work
}

const boxSize = 4 * workSize

// boxAverage averages img, composited onto white, down to n×n pixels.
func boxAverage(img image.Image, n int) *image.RGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	sums := make([]uint64, 3*n*n)
	counts := make([]uint64, n*n)
	row := image.NewRGBA(image.Rect(0, 0, w, 1))
	col := make([]int, w)
	for x := range col {
		col[x] = x * n / w
	}
	for y := 0; y < h; y++ {
		oy := y * n / h
		// draw.Draw has fast paths for the decoders' image types (YCbCr,
		// Gray, NRGBA, Paletted…); it converts one row to premultiplied RGBA.
		draw.Draw(row, row.Bounds(), img, image.Pt(b.Min.X, b.Min.Y+y), draw.Src)
		for x := 0; x < w; x++ {
			p := row.Pix[4*x : 4*x+4]
			white := uint64(255 - p[3]) // premultiplied: over white adds the uncovered part
			o := oy*n + col[x]
			sums[3*o] += uint64(p[0]) + white
			sums[3*o+1] += uint64(p[1]) + white
			sums[3*o+2] += uint64(p[2]) + white
			counts[o]++
		}
	}
	out := image.NewRGBA(image.Rect(0, 0, n, n))
	for o, c := range counts {
		if c == 0 {
			continue
		}
		out.Pix[4*o] = uint8(sums[3*o] / c)
		out.Pix[4*o+1] = uint8(sums[3*o+1] / c)
		out.Pix[4*o+2] = uint8(sums[3*o+2] / c)
		out.Pix[4*o+3] = 255
	}
	return out
}

func hashOf(img image.Image) Hash {
	// Both only fail on a nil image.
	p, _ := goimagehash.PerceptionHash(img)
	d, _ := goimagehash.DifferenceHash(img)
	return Hash{p.GetHash(), d.GetHash()}
}

// pixelLimit is MaxPixels; the fuzz test lowers it to keep its workers small.
var pixelLimit int64 = MaxPixels

// ReadFile fingerprints the file at path. Its first bytes are read first: a
// file that is not an image, or is larger than MaxFileBytes, is refused without
// reading the rest.
func ReadFile(path string) FileResult { return readFile(path) }

// ProblemOf returns the Problem an error from this package carries, or
// Damaged for any other error (a file that could not be read).
func ProblemOf(err error) Problem {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Problem
	}
	return Damaged
}

// A FileResult is the fingerprint of one file, or why it has none. SHA256 is
// set when the file is an image that was read.
type FileResult struct {
	SHA256 [32]byte
	FP     Fingerprint
	Err    error
}

// ReadFiles fingerprints files on every core. progress, if set, is told how
// many are done.
func ReadFiles(paths []string, progress func(done, total int)) []FileResult {
	out := make([]FileResult, len(paths))
	jobs := make(chan int)
	done := make(chan struct{})
	workers := min(runtime.GOMAXPROCS(0), max(len(paths), 1))
	for range workers {
		go func() {
			for i := range jobs {
				out[i] = ReadFile(paths[i])
				done <- struct{}{}
			}
		}()
	}
	go func() {
		for i := range paths {
			jobs <- i
		}
		close(jobs)
	}()
	for n := 1; n <= len(paths); n++ {
		<-done
		if progress != nil {
			progress(n, len(paths))
		}
	}
	return out
}

func readFile(path string) FileResult {
	f, err := os.Open(path)
	if err != nil {
		return FileResult{Err: err}
	}
	defer f.Close()
	var head [512]byte
	n, err := io.ReadFull(f, head[:])
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return FileResult{Err: err}
	}
	if Sniff(head[:n]) == "" {
		_, err := Of(head[:n])
		return FileResult{Err: err}
	}
	if fi, err := f.Stat(); err == nil && fi.Size() > MaxFileBytes {
		return FileResult{Err: &Error{TooLarge, Sniff(head[:n]), fmt.Sprintf("the file is %d MiB; cairn fingerprints files of up to %d MiB", fi.Size()>>20, MaxFileBytes>>20)}}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return FileResult{Err: err}
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return FileResult{Err: err}
	}
	if len(data) > MaxFileBytes {
		return FileResult{Err: &Error{TooLarge, "", fmt.Sprintf("the file is larger than %d MiB; cairn fingerprints smaller files only", MaxFileBytes>>20)}}
	}
	fp, err := Of(data)
	return FileResult{SHA256: sha256.Sum256(data), FP: fp, Err: err}
}
