package percept

import (
	"bytes"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"github.com/cairn-ledger/cairn/internal/imgtest"
)

// FuzzDecode: any bytes give a fingerprint or an *Error, never a panic, and
// never more than the bound on pixels (lowered here, so that the fuzzer's
// workers stay small).
func FuzzDecode(f *testing.F) {
	pixelLimit = 1 << 20
	data, err := imgtest.Read("chelsea.jpg")
	if err != nil {
		f.Fatal(err)
	}
	img, err := Decode(data)
	if err != nil {
		f.Fatal(err)
	}
	small := image.NewRGBA(image.Rect(0, 0, 24, 16))
	for y := 0; y < 16; y++ {
		for x := 0; x < 24; x++ {
			small.Set(x, y, img.At(x*8, y*8))
		}
	}
	for _, enc := range []func(*bytes.Buffer) error{
		func(b *bytes.Buffer) error { return png.Encode(b, small) },
		func(b *bytes.Buffer) error { return jpeg.Encode(b, small, nil) },
		func(b *bytes.Buffer) error { return gif.Encode(b, small, nil) },
		func(b *bytes.Buffer) error { return bmp.Encode(b, small) },
		func(b *bytes.Buffer) error { return tiff.Encode(b, small, nil) },
	} {
		var b bytes.Buffer
		if err := enc(&b); err != nil {
			f.Fatal(err)
		}
		f.Add(b.Bytes())
		f.Add(b.Bytes()[:b.Len()/2])
	}
	if webp, err := imgtest.Read("chelsea-cwebp80.webp"); err == nil {
		f.Add(webp[:600])
	}
	f.Add(imgtest.HugePNG(5000, 5000))
	f.Add([]byte("not an image"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fp, err := Of(data)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T %v is not a *percept.Error", err, err)
			}
			return
		}
		if Distance(fp, fp) != 0 {
			t.Fatal("a fingerprint is not at distance 0 from itself")
		}
	})
}

// FuzzIndex: any file content reads as an index without panicking, and what
// it holds survives a save and a reread.
func FuzzIndex(f *testing.F) {
	var fp Fingerprint
	fp[0] = Hash{1, 2}
	rec := encodeRecord([32]byte{1}, 0, fp)
	f.Add(rec)
	f.Add(append(append([]byte("xx"), rec...), rec[:40]...))
	f.Add(append(rec, encodeRecord([32]byte{2}, NotImage, Fingerprint{})...))
	f.Fuzz(func(t *testing.T, data []byte) {
		x := &Index{at: map[[32]byte]int{}, bad: map[[32]byte]Problem{}}
		x.parse(data)
		var buf []byte
		for i, sum := range x.sums {
			buf = append(buf, encodeRecord(sum, 0, x.fps[i])...)
		}
		for sum, p := range x.bad {
			buf = append(buf, encodeRecord(sum, p, Fingerprint{})...)
		}
		y := &Index{at: map[[32]byte]int{}, bad: map[[32]byte]Problem{}}
		y.parse(buf)
		if y.Len() != x.Len() || len(y.bad) != len(x.bad) {
			t.Fatalf("reread: %d and %d entries, was %d and %d", y.Len(), len(y.bad), x.Len(), len(x.bad))
		}
		for i, sum := range x.sums {
			if got, ok := y.Get(sum); !ok || got != x.fps[i] {
				t.Fatal("a fingerprint did not survive")
			}
		}
		x.Nearest(fp, DefaultThreshold, 3)
	})
}
