package capture

import (
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const samples = "../../../shared/samples/"

// needSamples skips a test when the shared samples (real files from real tools,
// kept beside the repository, not in it) are not there, and fails it in CI,
// where they must be.
func needSamples(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(samples); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("shared samples: %v", err)
		}
		t.Skipf("shared samples not found at %s (they live beside the repository)", samples)
	}
}

func inspectFile(t *testing.T, path string) (*Capture, []byte) {
	t.Helper()
	needSamples(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Inspect(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Inspect(%s): %v", path, err)
	}
	return c, data
}

// checkSources verifies every Source's hash against the file's own bytes
// at the Source's offset and length, so a Source really locates its data.
func checkSources(t *testing.T, c *Capture, file []byte) {
	t.Helper()
	for _, s := range c.Sources {
		if s.Offset < 0 || s.Offset+s.Length > int64(len(file)) {
			t.Errorf("source %s %s: offset %d length %d outside the %d-byte file", s.Container, s.Key, s.Offset, s.Length, len(file))
			continue
		}
		if s.Container == "jpeg APP11 JUMBF" {
			continue // reassembled from several segments; checked separately
		}
		sum := sha256.Sum256(file[s.Offset : s.Offset+s.Length])
		if got := hex.EncodeToString(sum[:]); got != s.SHA256 {
			t.Errorf("source %s %s: SHA256 %s, but the file bytes at %d+%d hash to %s", s.Container, s.Key, s.SHA256, s.Offset, s.Length, got)
		}
	}
}

// The expected values are the files' own text, read with exiftool and
// listed in shared/samples/SOURCES.md.
func TestSamples(t *testing.T) {
	tests := []struct {
		file string
		want Capture
	}{
		{"ai-metadata/sdparsers__automatic1111_cropped.png", Capture{
			Tool: "AUTOMATIC1111", Prompt: "photo of a duck", NegativePrompt: "monochrome",
			Seed: "235284042", Steps: "15", Sampler: "UniPC", Guidance: "5", Size: "512x400",
			Model: "realistic_realisticVisionV20_v20", Params: map[string]string{"Model hash": "c0d1994c73"},
		}},
		{"ai-metadata/sdparsers__automatic1111_cropped.jpg", Capture{
			Tool: "AUTOMATIC1111", Prompt: "photo of a duck", NegativePrompt: "monochrome",
			Seed: "235284042", Steps: "15", Sampler: "UniPC", Guidance: "5", Size: "512x400",
			Model: "realistic_realisticVisionV20_v20", Params: map[string]string{"Model hash": "c0d1994c73"},
		}},
		{"ai-metadata/sdmetadata__sd-webui.webp", Capture{
			Tool: "AUTOMATIC1111", ToolVersion: "v1.10.1",
			// The prompt and negative prompt end in a newline in the file.
			Prompt:         "general, masterpiece, best quality, amazing quality, \n1girl, solo, hatsune miku, テスト\n",
			NegativePrompt: "bad quality, worst quality, worst detail, sketch, censor, \n",
			Seed:           "1028435836", Steps: "20", Sampler: "DPM++ 2M", Guidance: "5.5", Size: "1024x1024",
			Model: "waiIllustriousSDXL_v160", Params: map[string]string{"Model hash": "45a21ea00a", "Schedule type": "Karras"},
		}},
		{"ai-metadata/sdparsers__img2img_cropped.png", Capture{
			Tool: "ComfyUI", Prompt: "photograph of victorian woman with wings, sky clouds, meadow grass\n",
			NegativePrompt: "watermark, text\n", Seed: "280823642470253", Steps: "20", Guidance: "8.0",
			Sampler: "sample_dpmpp_2m", Model: "v1-5-pruned-emaonly.ckpt",
			Params: map[string]string{"scheduler": "normal", "denoise": "0.8700000000000001", "sampler_node": "3"},
			// The graph's LoadImage node: an image-to-image input, by name.
			InputImages: []string{"example.png"},
		}},
		{"ai-metadata/sdparsers__invokeai_imeta1.png", Capture{
			Tool: "InvokeAI", Prompt: "digital artwork, oil painting. painterly brushstrokes, holidays,",
			NegativePrompt: "grainy+, photo, oversaturated, overexposed, blurry, compressed jpg+, noisy++, unfocused , black and white",
			Seed:           "3293022630", Steps: "35", Guidance: "8.0", Model: "juggernautXL", Sampler: "euler", Size: "1024x1024",
			Params: map[string]string{"generation_mode": "sdxl_txt2img", "model.base_model": "sdxl"},
		}},
		{"ai-metadata/sdparsers__invokeai_sdmeta1.png", Capture{
			Tool: "InvokeAI", ToolVersion: "2.3.0",
			Prompt: "professional full body photo of young woman, hyper long brunette hair, elegant hair, wearing a bikini top and asymmetric short skirt, curvy body, long legs, (imperfect skin), detailed skin, intense freckles, super long eye lashes, at night, outside, city background, 8k ultra detailed, realistic, high quality, film grain, low contrast [rendering, glowing eyes, skinny]",
			Seed:   "2980747362", Steps: "50", Guidance: "5", Sampler: "k_lms", Size: "512x768", Model: "deliberateForInvoke_v08",
		}},
		{"ai-metadata/sdparsers__novelai1_cropped.png", Capture{
			Tool: "NovelAI", Prompt: "masterpiece, best quality,  cat, space, icon",
			NegativePrompt: "lowres, bad anatomy, bad hands, text, error, missing fingers, extra digit, fewer digits, cropped, worst quality, low quality, normal quality, jpeg artifacts, signature, watermark, username, blurry, lowres, bad anatomy, bad hands, text, error, missing fingers, extra digit, fewer digits, cropped, worst quality, low quality, normal quality, jpeg artifacts, signature, watermark, username, blurry",
			Seed:           "2253955223", Steps: "50", Guidance: "10.0", Sampler: "k_euler_ancestral", Model: "Stable Diffusion 1D44365E",
			Params: map[string]string{"strength": "0.4", "noise": "0.0", "Title": "AI generated image"},
		}},
		{"ai-metadata/sdmetadata__novelai-curated.webp", Capture{
			Tool: "NovelAI", Prompt: "1girl, solo, hatsune miku, #テスト, very aesthetic, masterpiece, no text, -0.8::feet::, rating:general",
			NegativePrompt: "blurry, lowres, upscaled, artistic error, scan artifacts, jpeg artifacts, logo, too many watermarks, negative space, blank page",
			Seed:           "880673757", Steps: "23", Guidance: "5.0", Sampler: "k_euler_ancestral", Size: "1024x1024",
			Model: "NovelAI Diffusion V4.5 C02D4F98",
		}},
		{"ai-metadata/sdparsers__fooocus1_cropped.png", Capture{
			Tool: "Fooocus", ToolVersion: "v2.4.3", Prompt: "a smiling goldfish",
			// More digits than a float64 holds: must survive as text.
			Seed: "6952411511246973023", Steps: "30", Guidance: "4", Sampler: "dpmpp_2m_sde_gpu",
			Model: "juggernautXL_v8Rundiffusion", Size: "768x1280",
			Params: map[string]string{"scheduler": "karras", "performance": "Speed", "styles": "['Fooocus V2', 'Fooocus Enhance', 'Fooocus Sharp']"},
		}},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			c, file := inspectFile(t, samples+tt.file)
			if c == nil {
				t.Fatal("Inspect returned no capture")
			}
			compareCapture(t, c, &tt.want)
			checkSources(t, c, file)
			if len(c.Warnings) != 0 {
				t.Errorf("warnings: %q", c.Warnings)
			}
		})
	}
}

func compareCapture(t *testing.T, got, want *Capture) {
	t.Helper()
	fields := []struct {
		name      string
		got, want string
	}{
		{"Tool", got.Tool, want.Tool},
		{"ToolVersion", got.ToolVersion, want.ToolVersion},
		{"Prompt", got.Prompt, want.Prompt},
		{"NegativePrompt", got.NegativePrompt, want.NegativePrompt},
		{"Model", got.Model, want.Model},
		{"Seed", got.Seed, want.Seed},
		{"Sampler", got.Sampler, want.Sampler},
		{"Steps", got.Steps, want.Steps},
		{"Guidance", got.Guidance, want.Guidance},
		{"Size", got.Size, want.Size},
		{"JobID", got.JobID, want.JobID},
		{"Author", got.Author, want.Author},
		{"Description", got.Description, want.Description},
		{"DigitalSourceType", got.DigitalSourceType, want.DigitalSourceType},
	}
	for _, f := range fields {
		if f.got != f.want {
			t.Errorf("%s = %q, want %q", f.name, f.got, f.want)
		}
	}
	for k, v := range want.Params {
		if got.Params[k] != v {
			t.Errorf("Params[%q] = %q, want %q", k, got.Params[k], v)
		}
	}
}

func TestC2PASamples(t *testing.T) {
	const (
		algorithmic = "http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia"
		trained     = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
		composite   = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
	)
	t.Run("C.jpg", func(t *testing.T) {
		c, file := inspectFile(t, samples+"c2pa/C.jpg")
		checkSources(t, c, file)
		info := c.C2PA
		if info == nil {
			t.Fatal("no C2PA manifest store found")
		}
		if info.Container != "jpeg-app11" {
			t.Errorf("Container = %q", info.Container)
		}
		// The hash of the reassembled store was computed independently
		// (a Python script joining the APP11 payloads).
		if want := "6734dd6053ccc69b74beb590ba4dcdc1e807ad5fe3be3c534628ac00325ddfcd"; info.ManifestSHA256 != want {
			t.Errorf("ManifestSHA256 = %s, want %s", info.ManifestSHA256, want)
		}
		if info.ClaimGenerator != "make_test_images/0.33.1 c2pa-rs/0.33.1" {
			t.Errorf("ClaimGenerator = %q", info.ClaimGenerator)
		}
		want := []C2PAAction{{Action: "c2pa.created", DigitalSourceType: algorithmic, SoftwareAgent: "Make Test Images 0.33.1"}}
		if !equalActions(info.Actions, want) {
			t.Errorf("Actions = %+v, want %+v", info.Actions, want)
		}
		if c.DigitalSourceType != algorithmic || c.Tool != "C2PA" {
			t.Errorf("DigitalSourceType = %q, Tool = %q", c.DigitalSourceType, c.Tool)
		}
	})
	t.Run("ocsp.jpg", func(t *testing.T) {
		c, file := inspectFile(t, samples+"c2pa/ocsp.jpg")
		checkSources(t, c, file)
		info := c.C2PA
		if info == nil {
			t.Fatal("no C2PA manifest store found")
		}
		if want := "6d52d9858cb6fdb70a6f8ae0109c649d164e57e559e03e8c7350b9d40f9c7798"; info.ManifestSHA256 != want {
			t.Errorf("ManifestSHA256 = %s, want %s (store spread over 5 APP11 segments)", info.ManifestSHA256, want)
		}
		if len(info.Manifests) != 2 {
			t.Fatalf("%d manifests, want 2 (Firefly, then Photoshop)", len(info.Manifests))
		}
		firefly := info.Manifests[0]
		if firefly.ClaimGenerator != "Adobe_Firefly adobe_c2pa/0.12.4+sven2 c2pa-rs/0.32.7" {
			t.Errorf("first manifest ClaimGenerator = %q", firefly.ClaimGenerator)
		}
		if want := []C2PAAction{{Action: "c2pa.created", DigitalSourceType: trained, SoftwareAgent: "Adobe Firefly"}}; !equalActions(firefly.Actions, want) {
			t.Errorf("first manifest actions = %+v, want %+v", firefly.Actions, want)
		}
		if info.ClaimGenerator != "Adobe_Photoshop/26.9.0 adobe_c2pa/0.14.2 c2pa-rs/0.43.0" {
			t.Errorf("active ClaimGenerator = %q", info.ClaimGenerator)
		}
		var names []string
		for _, a := range info.Actions {
			names = append(names, a.Action)
		}
		if got := strings.Join(names, " "); got != "c2pa.opened c2pa.cropped c2pa.edited" {
			t.Errorf("active actions = %s", got)
		}
		if info.DigitalSourceType != composite || c.DigitalSourceType != composite {
			t.Errorf("DigitalSourceType = %q / %q, want %q", info.DigitalSourceType, c.DigitalSourceType, composite)
		}
		// Photoshop's manifest names the Firefly image, placed into the
		// document, as its ingredient, by the Firefly manifest's label.
		want := []C2PAIngredient{{Title: "ocsp.jpg", Relationship: "componentOf", Manifest: "urn:uuid:83875007-1e81-4027-847f-4137f13027db"}}
		if info.ActiveLabel != "adobe:urn:uuid:f3a46a78-8103-4e04-9f98-abcf03ebab19" || !slices.Equal(info.Ingredients, want) {
			t.Errorf("active manifest %q, ingredients %+v; want Photoshop's, %+v", info.ActiveLabel, info.Ingredients, want)
		}
		if firefly.Label != "urn:uuid:83875007-1e81-4027-847f-4137f13027db" || len(firefly.Ingredients) != 0 {
			t.Errorf("Firefly manifest %q has ingredients %+v", firefly.Label, firefly.Ingredients)
		}
		for cg, want := range map[string]string{info.ClaimGenerator: "Adobe Photoshop 26.9.0", firefly.ClaimGenerator: "Adobe Firefly "} {
			if n, v := ToolName(cg); n+" "+v != want {
				t.Errorf("ToolName(%q) = %q %q, want %q", cg, n, v, want)
			}
		}
	})
	t.Run("no_manifest.jpg", func(t *testing.T) {
		c, _ := inspectFile(t, samples+"c2pa/no_manifest.jpg")
		if c != nil && c.C2PA != nil {
			t.Errorf("found a C2PA store in a file without one: %+v", c.C2PA)
		}
		if c != nil && c.Tool != "" {
			t.Errorf("Tool = %q for a file with only Photoshop EXIF/XMP", c.Tool)
		}
	})
	t.Run("chatgpt caBX", func(t *testing.T) {
		c, file := inspectFile(t, samples+"ai-metadata/derived__chatgpt-image2_caBX_on_1x1.png")
		checkSources(t, c, file)
		info := c.C2PA
		if info == nil {
			t.Fatal("no C2PA manifest store found")
		}
		if info.Container != "png-caBX" {
			t.Errorf("Container = %q", info.Container)
		}
		// In a PNG the store is the caBX chunk data, so its hash must
		// equal that of the chunk's Source (checked against file bytes).
		if len(c.Sources) != 1 || c.Sources[0].SHA256 != info.ManifestSHA256 {
			t.Errorf("ManifestSHA256 %s does not match the caBX chunk source %+v", info.ManifestSHA256, c.Sources)
		}
		if info.ClaimGenerator != "OpenAI Media Service API" {
			t.Errorf("ClaimGenerator = %q", info.ClaimGenerator)
		}
		if n, v := ToolName(info.ClaimGenerator); n != "OpenAI Media Service API" || v != "" {
			t.Errorf("ToolName = %q %q: a claim_generator_info name is a name as it is", n, v)
		}
		if len(info.Actions) < 2 {
			t.Fatalf("actions = %+v", info.Actions)
		}
		want := C2PAAction{Action: "c2pa.created", DigitalSourceType: trained, SoftwareAgent: "gpt-image 2.0", When: "2026-06-05T00:00:00Z"}
		if info.Actions[0] != want {
			t.Errorf("first action = %+v, want %+v", info.Actions[0], want)
		}
		if info.Actions[1].Action != "c2pa.converted" {
			t.Errorf("second action = %+v", info.Actions[1])
		}
		if c.Prompt != "" || c.DigitalSourceType != trained || c.Tool != "C2PA" {
			t.Errorf("Prompt %q, DigitalSourceType %q, Tool %q", c.Prompt, c.DigitalSourceType, c.Tool)
		}
	})
}

func equalActions(a, b []C2PAAction) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// pngFile builds a PNG from chunks; each chunk is type then data.
func pngFile(chunks ...[2]string) []byte {
	var b bytes.Buffer
	b.Write(pngSignature)
	for _, ch := range chunks {
		writeChunk(&b, ch[0], []byte(ch[1]), false)
	}
	return b.Bytes()
}

func writeChunk(b *bytes.Buffer, typ string, data []byte, badCRC bool) {
	binary.Write(b, binary.BigEndian, uint32(len(data)))
	b.WriteString(typ)
	b.Write(data)
	crc := crc32.ChecksumIEEE(append([]byte(typ), data...))
	if badCRC {
		crc ^= 1
	}
	binary.Write(b, binary.BigEndian, crc)
}

const ihdr1x1 = "\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"

func zlibBytes(s string) string {
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func idat() string { return zlibBytes("\x00\x00\x00\x00") }

// No Midjourney sample is public with its metadata intact, so this file
// is built to the layout Midjourney writes: tEXt Author and Description
// (prompt, flags, Job ID) and an XMP packet with the IPTC source type.
func TestMidjourney(t *testing.T) {
	const job = "4a1d6f4e-2b33-4c6f-9f0e-7f3e5c1a2b3c"
	xmp := `<?xpacket begin="` + "\ufeff" + `" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" xmlns:dc="http://purl.org/dc/elements/1.1/"
 Iptc4xmpExt:DigImageGUID="` + job + `">
<Iptc4xmpExt:DigitalSourceType>http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia</Iptc4xmpExt:DigitalSourceType>
<dc:description><rdf:Alt><rdf:li xml:lang="x-default">a lighthouse in fog, watercolor --ar 16:9 --seed 1234 --v 6.1</rdf:li></rdf:Alt></dc:description>
</rdf:Description></rdf:RDF></x:xmpmeta>
<?xpacket end="w"?>`
	file := pngFile(
		[2]string{"IHDR", ihdr1x1},
		[2]string{"IDAT", idat()},
		// Text after IDAT: readers must not stop at the image data.
		[2]string{"tEXt", "Author\x00someuser"},
		[2]string{"tEXt", "Description\x00a lighthouse in fog, watercolor --ar 16:9 --seed 1234 --v 6.1 Job ID: " + job},
		[2]string{"iTXt", "XML:com.adobe.xmp\x00\x00\x00\x00\x00" + xmp},
		[2]string{"IEND", ""},
	)
	c, err := Inspect(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	compareCapture(t, c, &Capture{
		Tool: "Midjourney", Prompt: "a lighthouse in fog, watercolor --ar 16:9 --seed 1234 --v 6.1",
		Seed: "1234", JobID: job, Author: "someuser",
		Description:       "a lighthouse in fog, watercolor --ar 16:9 --seed 1234 --v 6.1",
		DigitalSourceType: "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
		Params:            map[string]string{"--ar": "16:9", "--v": "6.1"},
	})
	checkSources(t, c, file)
}

// zTXt, compressed iTXt, text after IDAT, and a bad CRC (a warning, not an
// error: the text is still what the file says).
func TestPNGTextChunkKinds(t *testing.T) {
	params := "a red fox\nNegative prompt: blur\nSteps: 30, Sampler: Euler a, CFG scale: 7, Seed: 99, Size: 64x64, Lora hashes: \"fox: abc, snow: def\""
	var b bytes.Buffer
	b.Write(pngSignature)
	writeChunk(&b, "IHDR", []byte(ihdr1x1), false)
	writeChunk(&b, "IDAT", []byte(idat()), false)
	writeChunk(&b, "zTXt", []byte("parameters\x00\x00"+zlibBytes(params)), false)
	writeChunk(&b, "iTXt", []byte("Comment\x00\x01\x00en\x00\x00"+zlibBytes("ünïcode ✓")), false)
	writeChunk(&b, "tEXt", []byte("Title\x00caf\xe9"), true) // Latin-1, bad CRC
	writeChunk(&b, "IEND", nil, false)
	c, err := Inspect(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	compareCapture(t, c, &Capture{
		Tool: "AUTOMATIC1111", Prompt: "a red fox", NegativePrompt: "blur", Seed: "99", Steps: "30",
		Sampler: "Euler a", Guidance: "7", Size: "64x64",
		Params: map[string]string{"Lora hashes": "fox: abc, snow: def"},
	})
	checkSources(t, c, b.Bytes())
	var texts []string
	for _, s := range c.Sources {
		texts = append(texts, s.Container+" "+s.Key+"="+s.Text)
	}
	if got, want := strings.Join(texts[1:], "|"), "png iTXt Comment=ünïcode ✓|png tEXt Title=café"; got != want {
		t.Errorf("sources: %s, want %s", got, want)
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "CRC") {
		t.Errorf("warnings = %q, want one CRC warning", c.Warnings)
	}
}

func TestNoMetadataAndUnknownFormat(t *testing.T) {
	c, err := Inspect(bytes.NewReader(pngFile([2]string{"IHDR", ihdr1x1}, [2]string{"IDAT", idat()}, [2]string{"IEND", ""})))
	if c != nil || err != nil {
		t.Errorf("plain PNG: got %+v, %v; want nil, nil", c, err)
	}
	if _, err := Inspect(strings.NewReader("GIF89a....")); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("GIF: err = %v, want ErrUnknownFormat", err)
	}
	if _, err := Inspect(strings.NewReader("")); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("empty: err = %v, want ErrUnknownFormat", err)
	}
}

func TestTruncatedChunkError(t *testing.T) {
	file := pngFile([2]string{"IHDR", ihdr1x1}, [2]string{"tEXt", "parameters\x00" + strings.Repeat("x", 500)})
	_, err := Inspect(bytes.NewReader(file[:33+8+20]))
	want := "PNG chunk tEXt at offset 41 is truncated: want 511 bytes, file ends after 20"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
}

func TestHugeDeclaredChunk(t *testing.T) {
	var b bytes.Buffer
	b.Write(pngSignature)
	writeChunk(&b, "IHDR", []byte(ihdr1x1), false)
	binary.Write(&b, binary.BigEndian, uint32(1<<31-1))
	b.WriteString("tEXt")
	_, err := Inspect(&b)
	if err == nil || !strings.Contains(err.Error(), "more than the 67108864 this reader accepts") {
		t.Errorf("err = %v", err)
	}
}

func TestUserCommentEncodings(t *testing.T) {
	text := "prompt ✓"
	be := []byte("UNICODE\x00")
	le := []byte("UNICODE\x00")
	for _, r := range []rune(text) { // all in the BMP
		be = binary.BigEndian.AppendUint16(be, uint16(r))
		le = binary.LittleEndian.AppendUint16(le, uint16(r))
	}
	bom := append([]byte("UNICODE\x00\xff\xfe"), le[8:]...)
	tests := []struct {
		name string
		raw  []byte
		bo   binary.ByteOrder
	}{
		{"UTF-16BE in an II file, by zero bytes", be, binary.LittleEndian},
		{"UTF-16LE in an MM file, by zero bytes", le, binary.BigEndian},
		{"UTF-16LE with BOM", bom, binary.BigEndian},
		{"ASCII prefix over UTF-8", append([]byte("ASCII\x00\x00\x00"), text...), binary.BigEndian},
		{"no prefix", []byte(text), binary.BigEndian},
		{"undefined prefix, NUL padded", append([]byte("\x00\x00\x00\x00\x00\x00\x00\x00"+text), 0, 0), binary.BigEndian},
	}
	for _, tt := range tests {
		if got := decodeUserComment(tt.raw, tt.bo); got != text {
			t.Errorf("%s: %q, want %q", tt.name, got, text)
		}
	}
}

func TestInfotext(t *testing.T) {
	tests := []struct {
		in               string
		prompt, negative string
		params           string
	}{
		{"a cat\nSteps: 1, Sampler: x, Seed: 2", "a cat", "", "Steps=1|Sampler=x|Seed=2"},
		{"line one\nline two\nNegative prompt: bad\nworse\nSteps: 1, Seed: 2, Size: 3x4",
			"line one\nline two", "bad\nworse", "Steps=1|Seed=2|Size=3x4"},
		{"Negative prompt: only\nSteps: 1, Seed: 2, Size: 3x4", "", "only", "Steps=1|Seed=2|Size=3x4"},
		{`p` + "\n" + `Steps: 1, Template: "a, \"b\", c", Seed: 5`, "p", "", `Steps=1|Template=a, "b", c|Seed=5`},
		// A prompt with colons but under three pairs is not a parameter line.
		{"style: anime, mood: calm", "style: anime, mood: calm", "", ""},
	}
	for _, tt := range tests {
		it, _ := parseInfotext(tt.in)
		var ps []string
		for _, p := range it.params {
			ps = append(ps, p.key+"="+p.value)
		}
		if it.prompt != tt.prompt || it.negative != tt.negative || strings.Join(ps, "|") != tt.params {
			t.Errorf("parseInfotext(%q) = %q, %q, %q; want %q, %q, %q", tt.in, it.prompt, it.negative, strings.Join(ps, "|"), tt.prompt, tt.negative, tt.params)
		}
	}
}

// A graph in the shape of a Flux-style SamplerCustomAdvanced workflow:
// values hang off guider, noise, sampler and sigmas nodes, the prompt text
// is a link to a string node, and the negative is a zeroed conditioning.
func TestComfyUICustomSampler(t *testing.T) {
	graph := `{
 "1": {"class_type": "SamplerCustomAdvanced", "inputs": {"noise": ["2", 0], "guider": ["3", 0], "sampler": ["4", 0], "sigmas": ["5", 0], "latent_image": ["6", 0]}},
 "2": {"class_type": "RandomNoise", "inputs": {"noise_seed": 18446744073709551615}},
 "3": {"class_type": "CFGGuider", "inputs": {"model": ["7", 0], "positive": ["8", 0], "negative": ["9", 0], "cfg": 3.5}},
 "4": {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "euler"}},
 "5": {"class_type": "BasicScheduler", "inputs": {"model": ["7", 0], "scheduler": "simple", "steps": 28, "denoise": 1.0}},
 "6": {"class_type": "EmptyLatentImage", "inputs": {"width": 832, "height": 1216, "batch_size": 1}},
 "7": {"class_type": "LoraLoader", "inputs": {"model": ["10", 0], "lora_name": "x.safetensors"}},
 "8": {"class_type": "CLIPTextEncode", "inputs": {"text": ["11", 0], "clip": ["10", 1]}},
 "9": {"class_type": "ConditioningZeroOut", "inputs": {"conditioning": ["8", 0]}},
 "10": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "flux1-dev.safetensors"}},
 "11": {"class_type": "PrimitiveString", "inputs": {"value": "a glass whale"}}
}`
	file := pngFile([2]string{"IHDR", ihdr1x1}, [2]string{"tEXt", "prompt\x00" + graph}, [2]string{"IEND", ""})
	c, err := Inspect(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	compareCapture(t, c, &Capture{
		Tool: "ComfyUI", Prompt: "a glass whale", Seed: "18446744073709551615", Steps: "28", Guidance: "3.5",
		Sampler: "euler", Model: "flux1-dev.safetensors", Size: "832x1216",
		Params: map[string]string{"scheduler": "simple", "denoise": "1.0"},
	})
}

// A graph whose nodes link to each other many times over must not make
// resolution take exponential time.
func TestComfyUILinkMaze(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"0": {"class_type": "KSampler", "inputs": {"seed": ["1", 0], "positive": ["1", 0]}}`)
	for i := 1; i < 40; i++ {
		n := strconv.Itoa(i + 1)
		b.WriteString(`, "` + strconv.Itoa(i) + `": {"class_type": "X", "inputs": {"seed": ["` + n + `", 0], "value": ["` + n + `", 0], "int": ["` + n + `", 0], "text": ["` + n + `", 0], "conditioning": ["` + n + `", 0], "string": ["` + n + `", 0]}}`)
	}
	b.WriteString(`}`)
	file := pngFile([2]string{"IHDR", ihdr1x1}, [2]string{"tEXt", "prompt\x00" + b.String()}, [2]string{"IEND", ""})
	c, err := Inspect(bytes.NewReader(file))
	if err != nil || c.Tool != "ComfyUI" || c.Seed != "" {
		t.Errorf("got %+v, %v", c, err)
	}
}

// Every sample, cut short at many lengths, gives an error or a clean
// result, never a panic. PNG and WebP declare their end, so every cut is
// an error; a JPEG cut after its metadata may still read in full.
func TestTruncatedSamples(t *testing.T) {
	needSamples(t)
	files, err := filepath.Glob(samples + "*/*.*")
	if err != nil || len(files) < 12 {
		t.Fatalf("found %d sample files: %v", len(files), err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, ".json") || strings.HasSuffix(f, ".md") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		full, err := Inspect(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, n := range cutLengths(len(data), full) {
			c, err := Inspect(bytes.NewReader(data[:n]))
			if err != nil {
				continue
			}
			if !strings.HasSuffix(f, ".jpg") {
				t.Errorf("%s cut to %d of %d bytes: no error", f, n, len(data))
				continue
			}
			if full != nil && (c == nil || c.Prompt != full.Prompt || len(c.Sources) != len(full.Sources)) {
				t.Errorf("%s cut to %d of %d bytes: no error but a different result", f, n, len(data))
			}
		}
	}
}

// cutLengths returns every length below 2048, lengths around each
// metadata carrier's start and end, and a spread over the rest.
func cutLengths(size int, c *Capture) []int {
	seen := map[int]bool{}
	var out []int
	add := func(n int) {
		if n >= 0 && n < size && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for n := 0; n < 2048; n++ {
		add(n)
	}
	if c != nil {
		for _, s := range c.Sources {
			for d := -16; d <= 16; d++ {
				add(int(s.Offset) + d)
				add(int(s.Offset+s.Length) + d)
			}
		}
	}
	for i := 0; i < 400; i++ {
		add(size * i / 400)
	}
	for d := 1; d <= 16; d++ {
		add(size - d)
	}
	return out
}

// A metadata payload that cannot be decoded does not make the file
// unreadable: its bytes are still recorded and hashed, and a warning names
// the problem. Other metadata in the file is still read.
func TestBrokenPayloadsAreWarnings(t *testing.T) {
	jumd := "jumd" + "c2pa\x00\x11\x00\x10\x80\x00\x00\xaa\x00\x38\x9b\x71" + "\x03" + "c2pa\x00"
	jumdBox := string(binary.BigEndian.AppendUint32(nil, uint32(8+len(jumd)-4))) + jumd
	inner := "\x00\x00\x00\x50cbor\xa0" // declares 0x50 bytes, holds 9
	store := string(binary.BigEndian.AppendUint32(nil, uint32(8+len(jumdBox)+len(inner)))) + "jumb" + jumdBox + inner
	file := pngFile(
		[2]string{"IHDR", ihdr1x1},
		[2]string{"iTXt", "XML:com.adobe.xmp\x00\x00\x00\x00\x00<x:xmpmeta xmlns:x='adobe:ns:meta/'><unclosed>"},
		[2]string{"tEXt", "no keyword terminator"},
		[2]string{"caBX", store},
		[2]string{"tEXt", "parameters\x00a cat\nSteps: 1, Seed: 7, Size: 1x1"},
		[2]string{"IEND", ""},
	)
	c, err := Inspect(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if c.Seed != "7" || c.Prompt != "a cat" {
		t.Errorf("Seed %q Prompt %q: the intact chunk was not read", c.Seed, c.Prompt)
	}
	sum := sha256.Sum256([]byte(store))
	if c.C2PA == nil || c.C2PA.ManifestSHA256 != hex.EncodeToString(sum[:]) || c.C2PA.ClaimGenerator != "" {
		t.Errorf("C2PA = %+v, want the unreadable store reported by its hash", c.C2PA)
	}
	checkSources(t, c, file)
	if len(c.Sources) != 4 {
		t.Errorf("%d sources, want 4 (XMP, bad tEXt, caBX, parameters)", len(c.Sources))
	}
	joined := strings.Join(c.Warnings, "\n")
	for _, want := range []string{"XMP", "no NUL byte ends the keyword", "truncated: want 80 bytes, have 9"} {
		if !strings.Contains(joined, want) {
			t.Errorf("warnings %q lack %q", c.Warnings, want)
		}
	}
}
