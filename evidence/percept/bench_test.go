package percept

// Benchmarks with their ceilings, measured in the same run (make bench):
//
//	go test -run='^$' -bench=. ./evidence/percept/
//
// Fingerprinting cannot be faster than decoding the image, so its ceiling is
// decoding the same files on as many cores, alternated with it in windows of
// the same length (this shared machine's speed drifts). A lookup in the index
// cannot be faster than reading the index file and comparing every entry, so
// its ceiling is exactly that: the file read and one XOR-and-popcount pass
// over the same number of 64-bit words. The target for a 100,000-image index
// is well under a second.

import (
	"bytes"
	"image"
	"image/jpeg"
	"math/bits"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/image/draw"

	"github.com/cairn-ledger/cairn/internal/imgtest"
)

// onAllCores runs op(i) for i = 0, 1, … on every core for d and returns
// operations per second.
func onAllCores(d time.Duration, n int, op func(i int)) float64 {
	var done atomic.Int64
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Since(start) < d {
				op(int(next.Add(1)) % n)
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(done.Load()) / time.Since(start).Seconds()
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// benchImages are the encoded test images, or one large photograph made from
// one of them: 4000×3000 pixels, JPEG quality 90, about what a camera or a
// print-size final holds.
func benchImages(b *testing.B, large bool) [][]byte {
	names, err := imgtest.Names()
	if err != nil {
		b.Fatal(err)
	}
	if !large {
		var out [][]byte
		for _, n := range names {
			data, err := imgtest.Read(n)
			if err != nil {
				b.Fatal(err)
			}
			out = append(out, data)
		}
		return out
	}
	data, err := imgtest.Read("astronaut.jpg")
	if err != nil {
		b.Fatal(err)
	}
	src, err := imgtest.Decode(data)
	if err != nil {
		b.Fatal(err)
	}
	big := image.NewRGBA(image.Rect(0, 0, 4000, 3000))
	draw.CatmullRom.Scale(big, big.Bounds(), src, src.Bounds(), draw.Src, nil)
	var buf bytes.Buffer
	jpeg.Encode(&buf, big, &jpeg.Options{Quality: 90})
	return [][]byte{buf.Bytes()}
}

func benchFingerprint(b *testing.B, large bool) {
	imgs := benchImages(b, large)
	rounds, window := 5, 600*time.Millisecond
	if large {
		rounds, window = 3, 2*time.Second
	}
	var fpRate, decRate []float64
	b.ResetTimer()
	for range rounds {
		fpRate = append(fpRate, onAllCores(window, len(imgs), func(i int) {
			if _, err := Of(imgs[i]); err != nil {
				b.Error(err)
			}
		}))
		decRate = append(decRate, onAllCores(window, len(imgs), func(i int) {
			if _, err := Decode(imgs[i]); err != nil {
				b.Error(err)
			}
		}))
	}
	b.StopTimer()
	fp, dec := median(fpRate), median(decRate)
	b.ReportMetric(fp, "images/s")
	b.ReportMetric(dec, "images/s-decode-only(ceiling)")
	b.ReportMetric(100*fp/dec, "%-of-ceiling")
}

// BenchmarkFingerprint is the rate cairn fingerprints images at when it
// rebuilds an index (on every core), for the real test images (at most 320
// pixels) and for a 12-megapixel photograph.
func BenchmarkFingerprint(b *testing.B) {
	b.Run("test-images", func(b *testing.B) { benchFingerprint(b, false) })
	b.Run("12MP-jpeg", func(b *testing.B) { benchFingerprint(b, true) })
}

// BenchmarkMatchIndex100k is one lookup in an index of 100,000 images, as
// cairn match does it: read the index file, then compare the query with every
// entry.
func BenchmarkMatchIndex100k(b *testing.B) {
	const n = 100_000
	dir := b.TempDir()
	path := filepath.Join(dir, "fingerprints")
	rng := rand.New(rand.NewPCG(1, 2))
	var buf []byte
	var q Fingerprint
	for i := range n {
		var sum [32]byte
		for j := range sum {
			sum[j] = byte(rng.Uint32())
		}
		var fp Fingerprint
		for l := range fp {
			fp[l] = Hash{rng.Uint64(), rng.Uint64()}
		}
		if i == n/2 {
			q = fp
			q[0].P ^= 0xff // 8 bits away: one look-alike
		}
		buf = append(buf, encodeRecord(sum, 0, fp)...)
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		b.Fatal(err)
	}
	const rounds = 15
	var lat, ceil []float64
	var words []uint64
	// The timer runs from the start, setup included, so that the framework
	// calls this once (the rounds take about a second).
	for range rounds {
		t := time.Now()
		x, err := OpenIndex(path)
		if err != nil {
			b.Fatal(err)
		}
		hits := x.Nearest(q, DefaultThreshold, 10)
		lat = append(lat, float64(time.Since(t).Microseconds())/1000)
		if len(hits) != 1 || hits[0].Distance != 8 {
			b.Fatalf("hits %v", hits)
		}
		t = time.Now()
		data, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		if words == nil {
			words = make([]uint64, n*2*levelCount)
		}
		d := 0
		for i := range words {
			d += bits.OnesCount64(words[i] ^ uint64(data[i%len(data)]))
		}
		ceil = append(ceil, float64(time.Since(t).Microseconds())/1000)
		if d < 0 {
			b.Fatal("impossible")
		}
	}
	b.StopTimer()
	m, c := median(lat), median(ceil)
	b.ReportMetric(m, "ms/lookup")
	b.ReportMetric(c, "ms/read+popcount(ceiling)")
	b.ReportMetric(1000, "ms(target)")
	b.ReportMetric(m/c, "x-ceiling")
}
