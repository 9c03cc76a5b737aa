// Package imgtest makes, for tests and the demo, the altered copies of a real image that
// perceptual matching must still recognise: half size re-encoded as JPEG
// quality 70, the central 90%, 10% brighter, and a line of text written over
// it. It also finds the real test images in testdata/images.
package imgtest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"sort"

	"golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// Dir is the folder of the real test images (testdata/images, SOURCES.md).
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "images")
}

// Names lists the test images.
func Names() ([]string, error) {
	var out []string
	for _, pat := range []string{"*.jpg", "*.png"} {
		m, err := filepath.Glob(filepath.Join(Dir(), pat))
		if err != nil {
			return nil, err
		}
		for _, p := range m {
			out = append(out, filepath.Base(p))
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return nil, fmt.Errorf("no test images in %s", Dir())
	}
	return out, nil
}

// Read returns a test image's bytes.
func Read(name string) ([]byte, error) { return os.ReadFile(filepath.Join(Dir(), name)) }

// Decode decodes an encoded image.
func Decode(data []byte) (image.Image, error) {
	img, _, err := image.Decode(bytes.NewReader(data))
	return img, err
}

// Variants are the alterations, by name, in the order of the issue.
var Variants = []string{"half-jpeg70", "crop90", "bright10", "caption"}

// Make returns the encoded variant of img: "half-jpeg70" as JPEG, the others as
// PNG (so that nothing but the alteration changes).
func Make(img image.Image, variant string) ([]byte, error) {
	if variant == "half-jpeg70" {
		return encJPEG(half(img), 70)
	}
	v, err := Variant(img, variant)
	if err != nil {
		return nil, err
	}
	return encPNG(v)
}

// Variant returns the variant of img as an image, decoded from its JPEG for
// "half-jpeg70".
func Variant(img image.Image, variant string) (image.Image, error) {
	switch variant {
	case "half-jpeg70":
		data, err := encJPEG(half(img), 70)
		if err != nil {
			return nil, err
		}
		return Decode(data)
	case "crop90":
		return Crop(img, 0.9), nil
	case "bright10":
		return Brighten(img, 1.1), nil
	case "caption":
		return Caption(img, "© 2026 Studio X, all rights reserved"), nil
	}
	return nil, fmt.Errorf("imgtest: no variant %q", variant)
}

func half(img image.Image) image.Image {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx()/2, b.Dy()/2))
	draw.Draw(out, out.Bounds(), image.White, image.Point{}, draw.Src)
	draw.CatmullRom.Scale(out, out.Bounds(), img, b, draw.Over, nil)
	return out
}

// Textures are the test images of materials rather than works (a wall,
// grass, gravel): a global fingerprint finds altered copies of them less
// reliably. Tests report them apart.
var Textures = map[string]bool{"brick.jpg": true, "grass.jpg": true, "gravel.jpg": true}

func encJPEG(img image.Image, q int) ([]byte, error) {
	var b bytes.Buffer
	err := jpeg.Encode(&b, img, &jpeg.Options{Quality: q})
	return b.Bytes(), err
}

func encPNG(img image.Image) ([]byte, error) {
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	err := enc.Encode(&b, img)
	return b.Bytes(), err
}

// Crop returns the central part of img, f of each side.
func Crop(img image.Image, f float64) image.Image {
	b := img.Bounds()
	w, h := int(float64(b.Dx())*f+0.5), int(float64(b.Dy())*f+0.5)
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	draw.Draw(out, out.Bounds(), img, image.Pt(b.Min.X+(b.Dx()-w)/2, b.Min.Y+(b.Dy()-h)/2), draw.Src)
	return out
}

// Brighten multiplies every colour channel by f (1.1: 10% brighter), clipping
// at white; transparency is kept.
func Brighten(img image.Image, f float64) image.Image {
	b := img.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
			up := func(v uint8) uint8 { return uint8(min(255, float64(v)*f+0.5)) }
			out.SetNRGBA(x, y, color.NRGBA{up(c.R), up(c.G), up(c.B), c.A})
		}
	}
	return out
}

// Caption writes one line of text across the lower third of img, white with a
// dark shadow so that it shows on any background, in the Go Regular font, its
// height a fourteenth of the image's.
func Caption(img image.Image, text string) image.Image {
	b := img.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(out, out.Bounds(), img, b.Min, draw.Src)
	ft, err := opentype.Parse(goregular.TTF)
	if err != nil {
		panic(err) // the font is compiled in
	}
	face, err := opentype.NewFace(ft, &opentype.FaceOptions{Size: float64(b.Dy()) / 14, DPI: 72})
	if err != nil {
		panic(err)
	}
	defer face.Close()
	x, y := b.Dx()/20, b.Dy()*3/4
	shadow := font.Drawer{Dst: out, Src: image.NewUniform(color.RGBA{30, 30, 30, 255}), Face: face, Dot: fixed.P(x+1, y+1)}
	shadow.DrawString(text)
	d := font.Drawer{Dst: out, Src: image.White, Face: face, Dot: fixed.P(x, y)}
	d.DrawString(text)
	return out
}

// HugePNG is a PNG signature and an IHDR claiming w×h pixels, then a tiny
// IDAT: a few bytes that would take gigabytes to decode.
func HugePNG(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		b.WriteString(typ)
		b.Write(data)
		c := crc32.NewIEEE()
		c.Write([]byte(typ))
		c.Write(data)
		binary.Write(&b, binary.BigEndian, c.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	chunk("IEND", nil)
	return b.Bytes()
}
