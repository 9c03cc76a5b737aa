// Command demo plays a realistic cairn session in a temporary directory: a designer
// co-writes a prompt with a chatbot, generates four candidates, chooses one, makes
// variations and chooses again, refines a sketch of their own with an AI upscaler,
// directs a generative fill, places her lettering and a licensed texture by hand,
// takes back a step recorded on the wrong asset, declares the final work and its
// disclosure, and hands the result to legal. Every step is recorded as what it
// was: an AI-assisted edit is not an edit by hand. It makes its own images.
// `make demo` runs it.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/cairn-ledger/cairn/internal/imgtest"
)

func main() {
	bin := flag.String("cairn", "bin/cairn", "the cairn binary")
	keep := flag.String("dir", "", "work in this directory instead of a temporary one")
	flag.Parse()
	abs, err := filepath.Abs(*bin)
	check(err)
	dir := *keep
	if dir == "" {
		dir, err = os.MkdirTemp("", "cairn-demo-")
		check(err)
	}
	check(os.MkdirAll(dir, 0o755))
	check(os.Chdir(dir))
	// A throwaway identity: the demo never touches your own key.
	check(os.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config")))
	os.Unsetenv("CAIRN_KEY")
	os.Unsetenv("CAIRN_DIR")

	say("A designer at a small studio makes a festival poster with AI tools, and records each step.")
	run(abs, "", "init", "--name", "Mira Jansen", "--email", "mira@studio-noord.example")
	run(abs, "", "asset", "new", "fox-poster", "--title", "Winterfest 2027 poster", "--kind", "illustration",
		"--owner", "Studio Noord B.V.", "--basis", "employment", "--contract", "Employment contract M. Jansen, art. 7")
	run(abs, "", "use", "fox-poster")

	say("She works out the prompt with a chatbot; the chatbot's suggestion and her rewrite are both recorded.")
	run(abs, "", "prompt", "A red fox in deep snow at dusk, woodcut print style, limited palette of three colours",
		"--tool", "chatgpt", "--model", "gpt-4o", "--by", "ai")
	run(abs, "A red fox curled in deep snow under a violet dusk sky, Japanese woodcut (moku hanga) style, visible wood grain, palette: vermilion, indigo, warm white — poster for a winter festival, room for a title at the top\n",
		"prompt", "-", "--tool", "midjourney", "--model", "v7", "--by", "both", "--param", "ar=2:3", "--param", "stylize=250")

	say("Midjourney returns four candidates. All four are kept.")
	for i := 1; i <= 4; i++ {
		writePNG(fmt.Sprintf("fox-%d.png", i), candidate(i))
	}
	run(abs, "", "generate", "--tool", "midjourney", "--model", "v7", "--param", "seed=1283",
		"--out", "fox-1.png", "--out", "fox-2.png", "--out", "fox-3.png", "--out", "fox-4.png")
	run(abs, "", "select", "fox-3.png", "--from", "fox-1.png", "fox-2.png", "fox-3.png", "fox-4.png",
		"--why", "the fox looks back at the viewer; the sky leaves room for the title")

	say("She asks for variations of her choice, and chooses again.")
	for i := 1; i <= 4; i++ {
		writePNG(fmt.Sprintf("fox-3-var-%d.png", i), variation(i))
	}
	run(abs, "", "generate", "--tool", "midjourney", "--model", "v7", "--param", "variation=subtle", "--in", "fox-3.png",
		"--out", "fox-3-var-1.png", "--out", "fox-3-var-2.png", "--out", "fox-3-var-3.png", "--out", "fox-3-var-4.png")
	run(abs, "", "select", "fox-3-var-2.png", "--from", "fox-3-var-1.png", "fox-3-var-2.png", "fox-3-var-3.png", "fox-3-var-4.png",
		"--why", "calmer snow, the tail wraps the composition")

	say("She draws the lettering herself and refines it with an AI upscaler: an AI-assisted edit she directs, not an edit by hand.")
	writePNG("lettering-sketch.png", sketch())
	run(abs, "", "sketch", "lettering-sketch.png", "--note", "hand-drawn WINTERFEST lettering, brush pen, scanned")
	writePNG("lettering-refined.png", refined())
	run(abs, "", "edit", "--before", "lettering-sketch.png", "--after", "lettering-refined.png", "--by", "both",
		"--tool", "magnific", "--model", "creative upscaler", "--text", "ink texture, keep my letter shapes")

	say("Generative fill in Photoshop, directed by her: more snow on the branches.")
	writePNG("poster-fill.png", filled())
	run(abs, "", "edit", "--before", "fox-3-var-2.png", "--after", "poster-fill.png", "--by", "both",
		"--tool", "photoshop", "--model", "firefly", "--text", "more snow on the branches, left", "--note", "kept the fox untouched")

	say("By hand: she places her lettering and a licensed paper texture, repaints the eye and crops.")
	writePNG("paper-texture.png", texture())
	run(abs, "", "input", "paper-texture.png", "--source", "https://textures.example/paper/washi-041",
		"--license", "CC-BY-4.0", "--permission", "licensed", "--use", "component", "--note", "overlay at 20% for the printed look")
	writePNG("poster-final.png", final())
	run(abs, "", "edit", "--before", "poster-fill.png", "--after", "poster-final.png", "--in", "lettering-refined.png", "--in", "paper-texture.png",
		"--tool", "krita", "--note", "placed my lettering, repainted the eye, added the texture overlay, cropped to A2")

	say("A note meant for the greeting cards lands on the poster (she forgot cairn use). She takes it back: nothing is rewritten.")
	run(abs, "", "asset", "new", "fox-cards", "--title", "Winterfest greeting cards", "--owner", "Studio Noord B.V.", "--basis", "employment")
	mistake := recordedSeq(abs, "note", "Cards: print on 300 g cotton paper.")
	run(abs, "", "retract", mistake, "--why", "recorded on the wrong asset; it belongs to fox-cards")
	run(abs, "", "note", "Cards: print on 300 g cotton paper.", "--asset", "fox-cards")

	run(abs, "", "note", "Client approved the final on today's call ☕; no further AI steps ✂️")
	run(abs, "", "final", "poster-final.png")
	say("The poster goes online today. A disclosure dated in the future is refused; one dated today starts the design-right clock.")
	refused(abs, "disclose", "--date", time.Now().AddDate(0, 1, 0).Format("2006-01-02"), "--where", "Winterfest opening")
	run(abs, "", "disclose", "--where", "studio-noord.example/work/winterfest")

	say("The timeline, and an auditor's check of the whole ledger.")
	run(abs, "", "log", "--asset", "fox-poster")
	run(abs, "", "asset", "show", "fox-poster")
	run(abs, "", "label", "fox-poster", "--xmp", "poster-final.xmp")
	run(abs, "", "verify")
	run(abs, "", "checkpoint", "--out", "handed-to-legal.checkpoint")

	if hasCommand(abs, "export") {
		say("Legal exports a signed evidence pack, and anyone can verify it offline.")
		run(abs, "", "export", "fox-poster", "-o", "fox-poster-evidence.pdf")
		run(abs, "", "verify-pack", "fox-poster-evidence.pdf")
		say("The studio's lawyer wants it in Dutch, with Amsterdam times beside UTC.")
		run(abs, "", "export", "fox-poster", "-o", "fox-poster-bewijsdossier.pdf", "--lang", "nl")
		run(abs, "", "verify-pack", "fox-poster-bewijsdossier.pdf")
		run(abs, "", "export", "fox-poster", "--c2pa", "c2pa")
		p, _ := filepath.Abs("fox-poster-evidence.pdf")
		fmt.Printf("\nThe evidence pack is at %s\n", p)
	}
	if hasCommand(abs, "match") {
		say("A copy of the poster turns up online, half the size and re-compressed: which of our works is it, and since when?")
		copyOnline, err := imgtest.Make(final(), "half-jpeg70")
		check(err)
		check(os.WriteFile("found-online.jpg", copyOnline, 0o644))
		run(abs, "", "match", "found-online.jpg", "--limit", "2")
	}
	fmt.Printf("The demo ledger is in %s (delete it when done).\n", dir)
}

// recordedSeq runs a cairn command that records one step and returns the
// record's number from its "recorded KIND #N" line.
func recordedSeq(bin string, args ...string) string {
	fmt.Printf("$ cairn %s\n", strings.Join(quoted(args), " "))
	out, err := exec.Command(bin, args...).Output()
	check(err)
	os.Stdout.Write(out)
	_, rest, ok := strings.Cut(string(out), " #")
	n, _, _ := strings.Cut(rest, " ")
	if !ok || n == "" {
		check(fmt.Errorf("no record number in %q", out))
	}
	return n
}

// refused runs a command that cairn must refuse as a usage error (exit 2),
// and stops the demo if it does not.
func refused(bin string, args ...string) {
	fmt.Printf("$ cairn %s\n", strings.Join(quoted(args), " "))
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stdout
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		check(fmt.Errorf("cairn %s was not refused with exit 2: %v", args[0], err))
	}
}

func hasCommand(bin, name string) bool {
	out, _ := exec.Command(bin, "help").CombinedOutput()
	return bytes.Contains(out, []byte("\n   "+name+" "))
}

func say(s string) { fmt.Printf("\n\033[1m# %s\033[0m\n", s) }

// quoted shows arguments as a user would type them in a shell.
func quoted(args []string) []string {
	shown := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " ;'\"&|") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		shown[i] = a
	}
	return shown
}

// run shows a command as a user would type it, runs it, and stops the demo if it fails.
func run(bin, stdin string, args ...string) {
	shown := quoted(args)
	if stdin != "" {
		fmt.Printf("$ echo '%s' | cairn %s\n", strings.TrimSpace(stdin), strings.Join(shown, " "))
	} else {
		fmt.Printf("$ cairn %s\n", strings.Join(shown, " "))
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "demo: cairn %s failed: %v\n", args[0], err)
		os.Exit(1)
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func writePNG(name string, img image.Image) {
	var b bytes.Buffer
	check(png.Encode(&b, img))
	check(os.WriteFile(name, b.Bytes(), 0o644))
}

const size = 384

var (
	indigo     = color.RGBA{38, 44, 92, 255}
	violet     = color.RGBA{92, 70, 140, 255}
	vermilion  = color.RGBA{222, 72, 40, 255}
	snow       = color.RGBA{244, 240, 230, 255}
	shadowSnow = color.RGBA{200, 204, 222, 255}
)

// scene paints a stylised fox in snow: sky, hills, a fox body and head. The
// parameters move and tint things so that each candidate differs visibly.
func scene(skyTop, skyBottom color.RGBA, foxX, foxY, tail float64, lookBack bool) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, size, size*3/2))
	h := float64(img.Bounds().Dy())
	for y := 0; y < img.Bounds().Dy(); y++ {
		t := float64(y) / h
		for x := 0; x < size; x++ {
			c := lerp(skyTop, skyBottom, t*1.6)
			hill := h*0.62 + 18*math.Sin(float64(x)/40)
			if float64(y) > hill {
				c = snow
				if int(float64(y)+8*math.Sin(float64(x)/13))%23 < 3 {
					c = shadowSnow
				}
			}
			img.Set(x, y, c)
		}
	}
	ellipse(img, foxX, foxY, 70, 38, vermilion)
	ellipse(img, foxX+tail*80, foxY+10, 55, 16, vermilion)
	ellipse(img, foxX+tail*118, foxY+12, 14, 10, snow)
	hx := foxX - 62
	if lookBack {
		hx = foxX + 58
	}
	ellipse(img, hx, foxY-34, 30, 24, vermilion)
	ellipse(img, hx-14, foxY-62, 8, 16, vermilion)
	ellipse(img, hx+14, foxY-62, 8, 16, vermilion)
	ellipse(img, hx-8, foxY-38, 4, 4, indigo)
	return img
}

func candidate(i int) image.Image {
	skies := []color.RGBA{violet, indigo, {120, 80, 120, 255}, {70, 60, 130, 255}}
	return scene(skies[i-1], color.RGBA{250, 200, 170, 255}, 150+float64(i)*20, 400+float64(i%2)*30, float64(i%3)-1, i == 3)
}

func variation(i int) image.Image {
	return scene(color.RGBA{70, 60, 130, 255}, color.RGBA{250, 200 - uint8(i*8), 170, 255}, 210, 410+float64(i)*6, 1, true)
}

func sketch() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 480, 160))
	for y := 0; y < 160; y++ {
		for x := 0; x < 480; x++ {
			img.Set(x, y, color.RGBA{250, 248, 240, 255})
		}
	}
	// Ten brush-pen letter strokes.
	for l := 0; l < 10; l++ {
		x0 := 20 + float64(l)*45
		for t := 0.0; t < 1; t += 0.002 {
			x := x0 + 30*t + 6*math.Sin(t*9+float64(l))
			y := 30 + 100*math.Abs(math.Sin(t*math.Pi*(1+float64(l%3))))
			ellipse(img, x, y, 3, 3, color.RGBA{20, 20, 30, 255})
		}
	}
	return img
}

// refined is the lettering sketch after the AI upscaler: the same strokes,
// sharper and with an ink texture.
func refined() image.Image {
	src := sketch().(*image.RGBA)
	img := image.NewRGBA(src.Bounds())
	for y := 0; y < src.Bounds().Dy(); y++ {
		for x := 0; x < src.Bounds().Dx(); x++ {
			c := src.RGBAAt(x, y)
			if c.R < 128 && (x*7+y*3)%11 != 0 {
				c = color.RGBA{8, 8, 16, 255}
			}
			img.Set(x, y, c)
		}
	}
	return img
}

// filled is the chosen variation after the generative fill: snow on the
// branches at the upper left.
func filled() image.Image {
	img := variation(2).(*image.RGBA)
	for i := 0; i < 12; i++ {
		ellipse(img, 30+float64(i)*14, 120+8*math.Sin(float64(i)), 9, 4, snow)
	}
	return img
}

func texture() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 256, 256))
	for y := 0; y < 256; y++ {
		for x := 0; x < 256; x++ {
			v := uint8(215 + int(20*math.Sin(float64(x*y)/97+float64(x)/5))%30)
			img.Set(x, y, color.RGBA{v, v - 6, v - 14, 255})
		}
	}
	return img
}

func final() image.Image {
	img := scene(color.RGBA{70, 60, 130, 255}, color.RGBA{250, 184, 170, 255}, 210, 422, 1, true)
	// The lettering band the designer drew, and the repainted eye.
	for y := 40; y < 110; y++ {
		for x := 30; x < size-30; x++ {
			if (x/9+y/7)%5 == 0 {
				img.Set(x, y, snow)
			}
		}
	}
	ellipse(img, 260, 382, 6, 6, color.RGBA{250, 220, 120, 255})
	return img
}

func ellipse(img *image.RGBA, cx, cy, rx, ry float64, c color.Color) {
	for y := int(cy - ry); y <= int(cy+ry); y++ {
		for x := int(cx - rx); x <= int(cx+rx); x++ {
			dx, dy := (float64(x)-cx)/rx, (float64(y)-cy)/ry
			if dx*dx+dy*dy <= 1 {
				img.Set(x, y, c)
			}
		}
	}
}

func lerp(a, b color.RGBA, t float64) color.RGBA {
	if t > 1 {
		t = 1
	}
	m := func(x, y uint8) uint8 { return uint8(float64(x) + (float64(y)-float64(x))*t) }
	return color.RGBA{m(a.R, b.R), m(a.G, b.G), m(a.B, b.B), 255}
}
