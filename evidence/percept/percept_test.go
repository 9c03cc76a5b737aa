package percept

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/png"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/draw"
	"golang.org/x/image/tiff"

	"github.com/cairn-ledger/cairn/internal/imgtest"
)

// corpus is every real test image, decoded, with its fingerprint.
type corpusImage struct {
	name string
	img  image.Image
	fp   Fingerprint
}

func loadCorpus(t testing.TB) []corpusImage {
	names, err := imgtest.Names()
	if err != nil {
		t.Fatal(err)
	}
	var out []corpusImage
	for _, n := range names {
		data, err := imgtest.Read(n)
		if err != nil {
			t.Fatal(err)
		}
		img, err := Decode(data)
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		out = append(out, corpusImage{n, img, FromImage(img)})
	}
	return out
}

// TestRates is the measurement DESIGN.md reports: every real test image
// against every altered copy of itself (each must be found) and of every other
// image, and every other original (none may match), at DefaultThreshold. It
// also reports crops between the stored levels, which the issue does not ask
// for, without failing on them.
func TestRates(t *testing.T) {
	corpus := loadCorpus(t)
	type copyFP struct {
		of      int
		variant string
		fp      Fingerprint
	}
	var copies []copyFP
	for i, c := range corpus {
		for _, v := range imgtest.Variants {
			img, err := imgtest.Variant(c.img, v)
			if err != nil {
				t.Fatal(err)
			}
			copies = append(copies, copyFP{i, v, FromImage(img)})
		}
	}
	var others []int // distances between different images
	var sameWorst, otherBest int
	otherBest = MaxDistance
	var fn, fp, samePairs, otherPairs, texPairs, texMissed int
	var worstSame, nearestOther string
	for _, cp := range copies {
		for j, c := range corpus {
			d := Distance(c.fp, cp.fp)
			if j == cp.of && imgtest.Textures[c.name] {
				texPairs++
				if d > DefaultThreshold {
					texMissed++
					t.Logf("texture %s, %s: distance %d > %d: not found (reported, not required)", c.name, cp.variant, d, DefaultThreshold)
				}
				continue
			}
			if j == cp.of {
				samePairs++
				if d > DefaultThreshold {
					fn++
					t.Errorf("%s, %s: distance %d > %d: the copy is not found", c.name, cp.variant, d, DefaultThreshold)
				}
				if d > sameWorst {
					sameWorst, worstSame = d, fmt.Sprintf("%s %s", c.name, cp.variant)
				}
				continue
			}
			otherPairs++
			others = append(others, d)
			if d <= DefaultThreshold {
				fp++
				t.Errorf("%s matches a copy of %s (%s) at distance %d", c.name, corpus[cp.of].name, cp.variant, d)
			}
			if d < otherBest {
				otherBest, nearestOther = d, fmt.Sprintf("%s ~ %s %s", c.name, corpus[cp.of].name, cp.variant)
			}
		}
	}
	for i := range corpus {
		for j := i + 1; j < len(corpus); j++ {
			otherPairs++
			d := Distance(corpus[i].fp, corpus[j].fp)
			others = append(others, d)
			if d <= DefaultThreshold {
				fp++
				t.Errorf("%s matches %s at distance %d", corpus[i].name, corpus[j].name, d)
			}
			if d < otherBest {
				otherBest, nearestOther = d, corpus[i].name+" ~ "+corpus[j].name
			}
		}
	}
	t.Logf("%d images; copies of the same photograph or illustration: %d pairs, worst distance %d (%s), %d missed (false negatives %.1f%%)",
		len(corpus), samePairs, sameWorst, worstSame, fn, 100*float64(fn)/float64(samePairs))
	t.Logf("copies of the same texture: %d pairs, %d missed", texPairs, texMissed)
	sort.Ints(others)
	below := func(n int) int { return sort.SearchInts(others, n+1) }
	t.Logf("different images: distances: 0.1st percentile %d, 1st %d, median %d; at most 26: %d, at most 30: %d, at most 34: %d of %d",
		others[len(others)/1000], others[len(others)/100], others[len(others)/2], below(26), below(30), below(34), len(others))
	t.Logf("different images: %d pairs, nearest distance %d (%s), %d matched (false positives %.2f%%); threshold %d",
		otherPairs, otherBest, nearestOther, fp, 100*float64(fp)/float64(otherPairs), DefaultThreshold)

	// Beyond the issue: crops of 97% to 81% of each side, which fall between
	// the stored levels.
	missed, total, worst := 0, 0, 0
	var worstName string
	for _, c := range corpus {
		for pc := 97; pc >= 81; pc -= 4 {
			d := Distance(c.fp, FromImage(imgtest.Crop(c.img, float64(pc)/100)))
			total++
			if d > DefaultThreshold {
				missed++
			}
			if d > worst {
				worst, worstName = d, fmt.Sprintf("%s at %d%%", c.name, pc)
			}
		}
	}
	t.Logf("crops of 97%%, 93%%, 89%%, 85%%, 81%%: %d of %d missed (%.1f%%), worst distance %d (%s)", missed, total, 100*float64(missed)/float64(total), worst, worstName)
}

// TestIdentical: the same picture in other encodings is at distance 0 or
// nearly: a lossless re-encoding, GIF (256 colours), BMP, TIFF, WebP.
func TestFormats(t *testing.T) {
	data, err := imgtest.Read("chelsea.jpg")
	if err != nil {
		t.Fatal(err)
	}
	img, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	want := FromImage(img)
	enc := map[string]func(*bytes.Buffer) error{
		"png":  func(b *bytes.Buffer) error { return png.Encode(b, img) },
		"gif":  func(b *bytes.Buffer) error { return gif.Encode(b, img, nil) },
		"bmp":  func(b *bytes.Buffer) error { return bmp.Encode(b, img) },
		"tiff": func(b *bytes.Buffer) error { return tiff.Encode(b, img, &tiff.Options{Compression: tiff.Deflate}) },
	}
	for name, e := range enc {
		var b bytes.Buffer
		if err := e(&b); err != nil {
			t.Fatal(err)
		}
		got, err := Of(b.Bytes())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d := Distance(want, got); d > 4 {
			t.Errorf("%s: distance %d from the JPEG", name, d)
		}
	}
	// A large copy goes through the box filter first: it must land where the
	// small one does, transparency included.
	for _, n := range []string{"chelsea.jpg", "tiger.png"} {
		data, _ := imgtest.Read(n)
		small, err := Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		b := small.Bounds()
		big := image.NewNRGBA(image.Rect(0, 0, b.Dx()*8, b.Dy()*8))
		draw.CatmullRom.Scale(big, big.Bounds(), small, b, draw.Src, nil)
		if d := Distance(FromImage(small), FromImage(big)); d > 4 {
			t.Errorf("%s enlarged 8 times: distance %d", n, d)
		}
	}
	webp, err := imgtest.Read("chelsea-cwebp80.webp")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Of(webp)
	if err != nil {
		t.Fatalf("webp: %v", err)
	}
	if d := Distance(want, got); d > 6 {
		t.Errorf("webp: distance %d from the JPEG", d)
	}
}

func TestBadInput(t *testing.T) {
	jpg, err := imgtest.Read("coffee.jpg")
	if err != nil {
		t.Fatal(err)
	}
	pngData, err := imgtest.Read("tiger.png")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		data []byte
		want Problem
		msg  string
	}{
		{"text", []byte("just some notes, not a picture\n"), NotImage, "not an image cairn can read (it looks like text/plain)"},
		{"empty", nil, NotImage, "looks like empty"},
		{"pdf", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj"), NotImage, "application/pdf"},
		{"truncated jpeg", jpg[:len(jpg)/2], Damaged, "JPEG image is damaged or cut short"},
		{"truncated png", pngData[:len(pngData)/3], Damaged, "PNG image is damaged or cut short"},
		{"png header only", pngData[:40], Damaged, "PNG image"},
		{"huge png", imgtest.HugePNG(100_000, 100_000), TooLarge, "100000×100000 pixels (10000 megapixels)"},
		{"just too large", imgtest.HugePNG(10_001, 10_000), TooLarge, "up to 100 megapixels"},
		{"zero width", imgtest.HugePNG(0, 10), Damaged, "PNG image"},
	} {
		_, err := Of(tc.data)
		var pe *Error
		if !errors.As(err, &pe) {
			t.Errorf("%s: error %v, want a *percept.Error", tc.name, err)
			continue
		}
		if pe.Problem != tc.want || !strings.Contains(pe.Msg, tc.msg) {
			t.Errorf("%s: problem %d %q, want %d containing %q", tc.name, pe.Problem, pe.Msg, tc.want, tc.msg)
		}
	}
}

func TestIndexFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fingerprints")
	x, err := OpenIndex(path)
	if err != nil || x.Len() != 0 {
		t.Fatalf("empty index: %v, %d", err, x.Len())
	}
	corpus := loadCorpus(t)[:5]
	sums := make([][32]byte, len(corpus))
	for i, c := range corpus {
		sums[i][0], sums[i][1] = byte(i), 0xAB
		if err := x.Add(sums[i], 0, c.fp); err != nil {
			t.Fatal(err)
		}
	}
	notImage := [32]byte{0xFF}
	x.Add(notImage, NotImage, Fingerprint{})
	// A torn write (half a record) and garbage between records cost nothing
	// but themselves.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.Write(encodeRecord([32]byte{9}, 0, corpus[0].fp)[:50])
	f.Write([]byte("garbage"))
	f.Close()
	AppendRecord(path, [32]byte{7}, 0, corpus[1].fp)
	y, err := OpenIndex(path)
	if err != nil {
		t.Fatal(err)
	}
	if y.Len() != 6 || !y.Has(notImage) || y.Has([32]byte{9}) {
		t.Fatalf("reread index: %d fingerprints, has not-image %v, has torn %v", y.Len(), y.Has(notImage), y.Has([32]byte{9}))
	}
	for i, c := range corpus {
		if fp, ok := y.Get(sums[i]); !ok || fp != c.fp {
			t.Errorf("%s: fingerprint not read back", c.name)
		}
	}
	hits := y.Nearest(corpus[2].fp, DefaultThreshold, 0)
	if len(hits) == 0 || hits[0].SHA256 != sums[2] || hits[0].Distance != 0 {
		t.Fatalf("nearest: %v", hits)
	}
	// A later record replaces an earlier one; Save drops the rest.
	y.Add(sums[2], Damaged, Fingerprint{})
	if err := y.Save(); err != nil {
		t.Fatal(err)
	}
	z, _ := OpenIndex(path)
	if _, ok := z.Get(sums[2]); ok || !z.Has(sums[2]) || z.Len() != 5 {
		t.Fatalf("after save: len %d", z.Len())
	}
	fi, _ := os.Stat(path)
	if fi.Size() != int64(7*recordSize) {
		t.Errorf("saved index is %d bytes, want %d records", fi.Size(), 7)
	}
}

// TestNearestOrder: hits come nearest first and respect the limit.
func TestNearestOrder(t *testing.T) {
	corpus := loadCorpus(t)
	x, _ := OpenIndex("")
	x.path = ""
	for i, c := range corpus {
		x.Add([32]byte{byte(i)}, 0, c.fp)
	}
	hits := x.Nearest(corpus[0].fp, MaxDistance, 5)
	if len(hits) != 5 || hits[0].Distance != 0 || !sort.SliceIsSorted(hits, func(i, j int) bool { return hits[i].Distance < hits[j].Distance }) {
		t.Fatalf("hits %v", hits)
	}
}
