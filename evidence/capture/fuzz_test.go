package capture

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// inspectSeeds returns small seeds covering every container: the small
// samples whole, the large WebP samples' EXIF chunks on an empty image, and
// a C2PA store in each container. (Go's fuzzer slows to a crawl on seeds of
// tens of kilobytes, so the large samples are not used whole.)
func inspectSeeds(f *testing.F) [][]byte {
	needSamples(f)
	paths, _ := filepath.Glob(samples + "*/*.*")
	var out [][]byte
	for _, p := range paths {
		if strings.HasSuffix(p, ".json") || strings.HasSuffix(p, ".md") {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		if len(data) <= 8<<10 {
			out = append(out, data)
			continue
		}
		if bytes.HasPrefix(data, []byte("RIFF")) {
			for off := 12; off+8 <= len(data); {
				n := int(binary.LittleEndian.Uint32(data[off+4:]))
				if string(data[off:off+4]) == "EXIF" {
					out = append(out, webpWith([2]string{"VP8L", "\x2f\x00\x00\x00"}, [2]string{"EXIF", string(data[off+8 : off+8+n])}))
				}
				off += 8 + n + n&1
			}
		}
	}
	store := synthStore()
	out = append(out,
		pngFile([2]string{"IHDR", ihdr1x1}, [2]string{"caBX", string(store)}, [2]string{"IEND", ""}),
		jpegWithJUMBF(store, 100),
		webpWith([2]string{"C2PA", string(store)}, [2]string{"XMP ", "<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'><rdf:Description xmlns:dc='http://purl.org/dc/elements/1.1/' dc:description='d'/></rdf:RDF></x:xmpmeta>"}),
	)
	if len(out) < 12 {
		f.Fatalf("only %d seeds", len(out))
	}
	return out
}

func FuzzInspect(f *testing.F) {
	for _, s := range inspectSeeds(f) {
		f.Add(s)
	}
	f.Add(pngFile([2]string{"IHDR", ihdr1x1}, [2]string{"zTXt", "parameters\x00\x00" + zlibBytes("a\nSteps: 1, Seed: 2, Size: 3x4")}, [2]string{"IEND", ""}))
	f.Add([]byte("RIFF\x20\x00\x00\x00WEBPEXIF\x0e\x00\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Inspect(bytes.NewReader(data))
		if err != nil || c == nil {
			return
		}
		// Whatever is reported must locate real bytes of the input.
		for _, s := range c.Sources {
			if s.Offset < 0 || s.Length < 0 || s.Offset+s.Length > int64(len(data)) {
				t.Fatalf("source %+v outside the %d-byte input", s, len(data))
			}
			if s.Container == "jpeg APP11 JUMBF" {
				continue
			}
			sum := sha256.Sum256(data[s.Offset : s.Offset+s.Length])
			if hex.EncodeToString(sum[:]) != s.SHA256 {
				t.Fatalf("source %s %s: hash does not match the bytes it locates", s.Container, s.Key)
			}
		}
	})
}

func FuzzChatExport(f *testing.F) {
	needSamples(f)
	sample, err := os.ReadFile(samples + "chat/mitkury__example-conversation.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sample)
	f.Add([]byte(`[{"uuid": "c", "name": "n", "chat_messages": [{"uuid": "m", "sender": "human", "text": "hi", "content": [{"type": "text", "text": "hi"}], "created_at": "2025-01-01T00:00:00Z"}]}]`))
	f.Add([]byte(`{"id": "x", "current_node": "a", "mapping": {"a": {"parent": "b", "message": {"author": {"role": "user"}, "create_time": 1.5e9, "content": {"parts": ["p", {}]}}}, "b": {"parent": null}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		convs, err := ReadChatExport(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, c := range convs {
			for _, p := range c.Prompts {
				if p.Text == "" {
					t.Fatalf("empty prompt kept: %+v", p)
				}
			}
		}
	})
}

// FuzzC2PA exercises the JUMBF box reader and the CBOR decoder, seeded
// with the manifest stores of the samples and every CBOR box in them.
func FuzzC2PA(f *testing.F) {
	for _, store := range sampleStores(f) {
		f.Add(store)
		boxes, err := parseJUMBF(store, 0)
		if err != nil {
			f.Fatal(err)
		}
		var walk func([]jumbfBox)
		walk = func(bs []jumbfBox) {
			for _, b := range bs {
				if b.typ == "cbor" {
					f.Add(b.content)
				}
				walk(b.children)
			}
		}
		walk(boxes)
	}
	f.Add(synthStore())
	f.Add([]byte{0x9f, 0xbf, 0x61, 0x61, 0x5f, 0x41, 0x00, 0xff, 0xff, 0xff}) // indefinite array, map, byte string
	f.Add([]byte{0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})       // most negative integer
	f.Fuzz(func(t *testing.T, data []byte) {
		readC2PA(data, "fuzz")
		decodeCBOR(data)
		parseJUMBF(data, 0)
	})
}

// sampleStores returns the C2PA manifest stores of the samples: the caBX
// chunk data of the PNG, and the reassembled APP11 boxes of C.jpg.
func sampleStores(f *testing.F) [][]byte {
	needSamples(f)
	var out [][]byte
	png, err := os.ReadFile(samples + "ai-metadata/derived__chatgpt-image2_caBX_on_1x1.png")
	if err != nil {
		f.Fatal(err)
	}
	for off := 8; off+12 <= len(png); {
		n := int(binary.BigEndian.Uint32(png[off:]))
		if string(png[off+4:off+8]) == "caBX" {
			out = append(out, png[off+8:off+8+n])
		}
		off += 12 + n
	}
	jpg, err := os.ReadFile(samples + "c2pa/C.jpg")
	if err != nil {
		f.Fatal(err)
	}
	var packets []jumbfPacket
	for off := 2; off+4 <= len(jpg) && jpg[off+1] != 0xDA; {
		n := int(binary.BigEndian.Uint16(jpg[off+2:]))
		if jpg[off+1] == 0xEB {
			if p, ok := parseJUMBFPacket(jpg[off+4:off+2+n], int64(off+4)); ok {
				packets = append(packets, p)
			}
		}
		off += 2 + n
	}
	store, err := reassembleJUMBF(packets)
	if err != nil {
		f.Fatal(err)
	}
	out = append(out, store)
	if len(out) != 2 {
		f.Fatalf("found %d sample stores, want 2", len(out))
	}
	return out
}

func FuzzInfotext(f *testing.F) {
	f.Add("photo of a duck\nNegative prompt: monochrome\nSteps: 15, Sampler: UniPC, CFG scale: 5, Seed: 235284042, Size: 512x400, Model hash: c0d1994c73, Model: realistic_realisticVisionV20_v20")
	f.Add("a\nb\nNegative prompt: c\nd\nSteps: 1, Template: \"x, \\\"y\\\"\", Seed: 2")
	f.Add("Negative prompt: \nSteps: 1, Seed: 2, Size: 3x4,")
	f.Add(`"quoted" -s 50 -S 2980747362 -W 512 -H 768 -C 5 -A k_lms -U 4 0.95`)
	f.Fuzz(func(t *testing.T, text string) {
		it, _ := parseInfotext(text)
		// Nothing is invented or rewritten: the prompt is the start of
		// the text and the negative prompt a part of it.
		if !strings.HasPrefix(text, it.prompt) {
			t.Fatalf("prompt %q is not a prefix of %q", it.prompt, text)
		}
		if !strings.Contains(text, it.negative) {
			t.Fatalf("negative %q is not in %q", it.negative, text)
		}
		parseDream(text)
	})
}
