package capture

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// These tests read files written by an independent tool, exiftool, so that
// the readers are not only checked against files shaped by their own
// author's understanding of the formats.

func needExiftool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("exiftool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("exiftool is required in CI (Debian package libimage-exiftool-perl)")
		}
		t.Skip("exiftool not installed (Debian package libimage-exiftool-perl)")
	}
	return path
}

func writeBaseImage(t *testing.T, name string) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	img.Set(0, 0, color.RGBA{255, 0, 0, 255})
	var b bytes.Buffer
	var err error
	if filepath.Ext(name) == ".png" {
		err = png.Encode(&b, img)
	} else {
		err = jpeg.Encode(&b, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func exiftool(t *testing.T, bin string, args ...string) {
	t.Helper()
	// -config is honoured only as the first argument.
	if len(args) >= 2 && args[0] == "-config" {
		args = append(args[:2:2], append([]string{"-overwrite_original", "-q"}, args[2:]...)...)
	} else {
		args = append([]string{"-overwrite_original", "-q"}, args...)
	}
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil || bytes.Contains(out, []byte("Warning")) {
		t.Fatalf("exiftool %q: %v\n%s", args, err, out)
	}
}

func inspectPath(t *testing.T, path string) *Capture {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Inspect(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Inspect(%s): %v", path, err)
	}
	if c == nil {
		t.Fatalf("Inspect(%s): no metadata found", path)
	}
	checkSources(t, c, data)
	return c
}

const exiftoolInfotext = "portrait of an owl, ink\nNegative prompt: color, blur\nSteps: 25, Sampler: DPM++ 2M Karras, CFG scale: 6.5, Seed: 3141592653, Size: 8x8, Model: owlmix_v2"

var exiftoolWant = Capture{
	Tool: "AUTOMATIC1111", Prompt: "portrait of an owl, ink", NegativePrompt: "color, blur",
	Seed: "3141592653", Steps: "25", Sampler: "DPM++ 2M Karras", Guidance: "6.5", Size: "8x8", Model: "owlmix_v2",
}

// (a) A PNG "parameters" text chunk. exiftool writes only PNG keywords it
// knows, so a user-defined tag teaches it this one.
func TestExiftoolPNGParameters(t *testing.T) {
	bin := needExiftool(t)
	cfg := filepath.Join(t.TempDir(), "exiftool.config")
	if err := os.WriteFile(cfg, []byte("%Image::ExifTool::UserDefined = ('Image::ExifTool::PNG::TextualData' => { parameters => { } });\n1;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := writeBaseImage(t, "a.png")
	exiftool(t, bin, "-config", cfg, "-PNG:parameters="+exiftoolInfotext, path)
	c := inspectPath(t, path)
	compareCapture(t, c, &exiftoolWant)
	if len(c.Sources) != 1 || c.Sources[0].Container != "png tEXt" || c.Sources[0].Key != "parameters" {
		t.Errorf("sources = %+v", c.Sources)
	}
}

// (b) A JPEG EXIF UserComment. With non-ASCII text exiftool writes
// "UNICODE\0" and UTF-16 in the file's byte order; both orders are tried.
func TestExiftoolJPEGUserComment(t *testing.T) {
	bin := needExiftool(t)
	for _, order := range []string{"II", "MM"} {
		t.Run(order, func(t *testing.T) {
			path := writeBaseImage(t, "b.jpg")
			text := "🦉 " + exiftoolInfotext // beyond the BMP: a surrogate pair in UTF-16
			exiftool(t, bin, "-ExifByteOrder="+map[string]string{"II": "Little-endian", "MM": "Big-endian"}[order],
				"-EXIF:UserComment="+text, "-EXIF:Software=cairn-test", path)
			c := inspectPath(t, path)
			data, _ := os.ReadFile(path)
			// Make sure the file really has the layout under test.
			for _, s := range c.Sources {
				raw := data[s.Offset : s.Offset+s.Length]
				if s.Key == "exif" && !bytes.HasPrefix(raw, []byte("Exif\x00\x00"+order)) {
					t.Fatalf("exiftool wrote EXIF starting % x, want byte order %s", raw[:8], order)
				}
				if s.Key == "UserComment" && !bytes.HasPrefix(raw, []byte("UNICODE\x00")) {
					t.Fatalf("exiftool wrote UserComment starting %q, want UNICODE", raw[:8])
				}
			}
			want := exiftoolWant
			want.Prompt = "🦉 " + want.Prompt
			compareCapture(t, c, &want)
			var sawSoftware bool
			for _, s := range c.Sources {
				if s.Key == "Software" && s.Text == "cairn-test" {
					sawSoftware = true
				}
				if s.Key == "UserComment" && !bytes.HasPrefix([]byte(s.Text), []byte("🦉")) {
					t.Errorf("UserComment source text = %q", s.Text)
				}
			}
			if !sawSoftware {
				t.Errorf("EXIF Software not among sources: %+v", c.Sources)
			}
		})
	}
}

// (c) XMP dc:description and Iptc4xmpExt:DigitalSourceType, in a JPEG
// (APP1) and a PNG (iTXt XML:com.adobe.xmp).
func TestExiftoolXMP(t *testing.T) {
	bin := needExiftool(t)
	const dst = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
	for _, name := range []string{"c.jpg", "c.png"} {
		t.Run(name, func(t *testing.T) {
			path := writeBaseImage(t, name)
			exiftool(t, bin, "-XMP-dc:Description=Sketch by hand, background by AI — café", "-XMP-iptcExt:DigitalSourceType="+dst,
				"-XMP-dc:Creator=Ana Designer", path)
			c := inspectPath(t, path)
			compareCapture(t, c, &Capture{
				Tool: "XMP", Description: "Sketch by hand, background by AI — café", DigitalSourceType: dst, Author: "Ana Designer",
			})
			if c.Prompt != "" {
				t.Errorf("Prompt = %q: a description is not a prompt", c.Prompt)
			}
		})
	}
}
