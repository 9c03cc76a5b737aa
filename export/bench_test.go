package export

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cairn-ledger/cairn/evidence"
)

// The benchmark fixture: one asset with 1,000 steps and 200 distinct 512×512
// PNG images, and a second asset, built once per process.
var (
	benchOnce sync.Once
	benchDir  string // the .cairn directory
	benchKey  string // the identity file
	benchErr  error
)

func benchImage(seed int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 512, 512))
	for y := 0; y < 512; y++ {
		row := img.Pix[y*img.Stride:]
		for x := 0; x < 512; x++ {
			// Smooth gradients with a little texture: compresses like artwork,
			// not like noise or a flat colour.
			row[4*x] = uint8(x/2 + seed)
			row[4*x+1] = uint8(y/2 + 3*seed)
			row[4*x+2] = uint8((x ^ y) / 4)
			row[4*x+3] = 255
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

func buildBenchFixture() (dir, keyPath string, err error) {
	root, err := os.MkdirTemp("", "cairn-export-bench-")
	if err != nil {
		return "", "", err
	}
	dir = filepath.Join(root, ".cairn")
	keyPath = filepath.Join(root, "identity.json")
	id, err := evidence.NewIdentity("Bench Designer", "bench@example.com", time.Now())
	if err != nil {
		return "", "", err
	}
	if err := id.Save(keyPath, nil); err != nil {
		return "", "", err
	}
	b, _, err := evidence.Init(dir, id)
	if err != nil {
		return "", "", err
	}
	defer b.Close()
	steps := []*evidence.Step{
		{Kind: evidence.KindAsset, Asset: "big", Title: "A large asset", Owner: "Studio", Basis: "own"},
		{Kind: evidence.KindAsset, Asset: "other", Title: "Another asset"},
	}
	img := 0
	for round := 0; round < 50; round++ {
		steps = append(steps, &evidence.Step{Kind: evidence.KindPrompt, Asset: "big", Tool: "midjourney",
			Text: fmt.Sprintf("round %d: a fox in the snow, woodcut style, warm light, seen from below; één Привет", round)})
		var out []evidence.FileRef
		for i := 0; i < 4; i++ {
			ref, err := b.Files.AddReader(bytes.NewReader(benchImage(img)))
			if err != nil {
				return "", "", err
			}
			ref.Name = fmt.Sprintf("gen-%03d.png", img)
			img++
			out = append(out, ref)
		}
		steps = append(steps,
			&evidence.Step{Kind: evidence.KindGenerate, Asset: "big", Tool: "midjourney", Model: "v6", Out: out, Params: map[string]string{"seed": fmt.Sprint(round)}},
			&evidence.Step{Kind: evidence.KindSelect, Asset: "big", File: &out[1], From: out, Why: "the best composition"},
			&evidence.Step{Kind: evidence.KindEdit, Asset: "big", Before: &out[1], After: &out[2], Tool: "photoshop", Note: "painted over the sky"},
		)
		for i := 0; i < 16; i++ {
			steps = append(steps, &evidence.Step{Kind: evidence.KindNote, Asset: "big", Text: fmt.Sprintf("note %d of round %d: kept the colours, changed the crop", i, round)})
		}
		steps = append(steps, &evidence.Step{Kind: evidence.KindPrompt, Asset: "other", Text: "something else entirely"})
	}
	final := *steps[len(steps)-18].After
	steps = append(steps, &evidence.Step{Kind: evidence.KindFinal, Asset: "big", File: &final})
	if _, err := b.Record(id, steps); err != nil {
		return "", "", err
	}
	return dir, keyPath, nil
}

func benchFixture(tb testing.TB) (dir, keyPath string) {
	benchOnce.Do(func() { benchDir, benchKey, benchErr = buildBenchFixture() })
	if benchErr != nil {
		tb.Fatal(benchErr)
	}
	return benchDir, benchKey
}

func openBench(tb testing.TB) (*evidence.Book, *evidence.Identity) {
	dir, key := benchFixture(tb)
	id, err := evidence.LoadIdentity(key, nil)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := evidence.Open(dir, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return b, id
}

// TestExportProcess is the body of a fresh process that the benchmarks start to
// measure peak RSS: it exports (or verifies) once and exits.
func TestExportProcess(t *testing.T) {
	dir, key, mode, pack := os.Getenv("CAIRN_BENCH_DIR"), os.Getenv("CAIRN_BENCH_KEY"), os.Getenv("CAIRN_BENCH_MODE"), os.Getenv("CAIRN_BENCH_PACK")
	if dir == "" {
		t.Skip("only run by the benchmarks")
	}
	switch mode {
	case "export":
		id, err := evidence.LoadIdentity(key, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, err := evidence.Open(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		pdf, err := Export(b, id, "big", Options{})
		b.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(pack, pdf, 0o644); err != nil {
			t.Fatal(err)
		}
	case "verify":
		data, err := os.ReadFile(pack)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := VerifyPack(data); err != nil {
			t.Fatal(err)
		}
	}
}

// peakRSS runs TestExportProcess in a fresh process and returns its peak
// resident set size in MB and its wall time.
func peakRSS(b *testing.B, mode, pack string) (float64, time.Duration) {
	dir, key := benchFixture(b)
	cmd := exec.Command(os.Args[0], "-test.run=^TestExportProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "CAIRN_BENCH_DIR="+dir, "CAIRN_BENCH_KEY="+key, "CAIRN_BENCH_MODE="+mode, "CAIRN_BENCH_PACK="+pack)
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("%s process: %v\n%s", mode, err, out)
	}
	elapsed := time.Since(start)
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, elapsed
	}
	return float64(ru.Maxrss) / 1024, elapsed // Linux reports KiB
}

func BenchmarkExport1000Steps200Images(b *testing.B) {
	book, id := openBench(b)
	b.ResetTimer()
	var size int
	for i := 0; i < b.N; i++ {
		pdf, err := Export(book, id, "big", Options{})
		if err != nil {
			b.Fatal(err)
		}
		size = len(pdf)
	}
	b.StopTimer()
	book.Close()
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
	b.ReportMetric(float64(size)/(1<<20), "MB-pdf")
	pack := filepath.Join(b.TempDir(), "pack.pdf")
	rss, wall := peakRSS(b, "export", pack)
	b.ReportMetric(rss, "MB-peak-RSS-fresh-process")
	b.ReportMetric(float64(wall.Milliseconds()), "ms-fresh-process")
}

func BenchmarkVerifyPack(b *testing.B) {
	book, id := openBench(b)
	pdf, err := Export(book, id, "big", Options{})
	book.Close()
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := VerifyPack(pdf); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
	pack := filepath.Join(b.TempDir(), "pack.pdf")
	if err := os.WriteFile(pack, pdf, 0o644); err != nil {
		b.Fatal(err)
	}
	rss, wall := peakRSS(b, "verify", pack)
	b.ReportMetric(rss, "MB-peak-RSS-fresh-process")
	b.ReportMetric(float64(wall.Milliseconds()), "ms-fresh-process")
}
