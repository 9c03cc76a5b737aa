package capture

import (
	"bytes"
	"encoding/binary"
	"sort"
	"testing"
)

// cborEncode writes the few CBOR shapes the tests need (text, unsigned
// integers, arrays, maps with text keys in sorted order).
func cborEncode(v any) []byte {
	head := func(major byte, n int) []byte {
		switch {
		case n < 24:
			return []byte{major<<5 | byte(n)}
		case n < 256:
			return []byte{major<<5 | 24, byte(n)}
		default:
			return binary.BigEndian.AppendUint16([]byte{major<<5 | 25}, uint16(n))
		}
	}
	switch t := v.(type) {
	case string:
		return append(head(3, len(t)), t...)
	case int:
		return head(0, t)
	case []any:
		out := head(4, len(t))
		for _, e := range t {
			out = append(out, cborEncode(e)...)
		}
		return out
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := head(5, len(t))
		for _, k := range keys {
			out = append(append(out, cborEncode(k)...), cborEncode(t[k])...)
		}
		return out
	}
	panic("cborEncode: unsupported type")
}

func jumbfBoxBytes(typ string, content []byte) []byte {
	return append(append(binary.BigEndian.AppendUint32(nil, uint32(8+len(content))), typ...), content...)
}

// superbox builds a jumb box whose jumd names a C2PA type (four letters)
// and a label.
func superbox(kind, label string, children ...[]byte) []byte {
	jumd := append([]byte(kind), 0x00, 0x11, 0x00, 0x10, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71, 0x03)
	jumd = append(append(jumd, label...), 0)
	content := jumbfBoxBytes("jumd", jumd)
	for _, c := range children {
		content = append(content, c...)
	}
	return jumbfBoxBytes("jumb", content)
}

const synthDST = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"

// synthStore is a small C2PA manifest store with a v2 claim and a v2
// actions assertion stored as a second instance ("__1").
func synthStore() []byte {
	actions := cborEncode(map[string]any{"actions": []any{
		map[string]any{"action": "c2pa.created", "digitalSourceType": synthDST, "softwareAgent": map[string]any{"name": "Gen", "version": "3"}},
		map[string]any{"action": "c2pa.edited", "when": "2025-01-02T03:04:05Z", "parameters": map[string]any{"digitalSourceType": "x"}},
	}})
	claim := cborEncode(map[string]any{"claim_generator_info": map[string]any{"name": "Synth Tool", "version": "9"}, "instanceID": "xmp:iid:1"})
	return superbox("c2pa", "c2pa",
		superbox("c2ma", "urn:c2pa:test",
			superbox("c2as", "c2pa.assertions",
				superbox("cbor", "c2pa.actions.v2__1", jumbfBoxBytes("cbor", actions))),
			superbox("c2cl", "c2pa.claim.v2", jumbfBoxBytes("cbor", claim))))
}

// jpegWithJUMBF splits box over APP11 segments of at most chunk content
// bytes each, as ISO 19566-5 describes: every segment repeats the box
// header after "JP", the instance number and the sequence number.
func jpegWithJUMBF(box []byte, chunk int) []byte {
	var b bytes.Buffer
	b.WriteString("\xFF\xD8")
	hdr, content := box[:8], box[8:]
	for seq := uint32(1); len(content) > 0; seq++ {
		n := min(chunk, len(content))
		payload := append([]byte("JP\x00\x01"), binary.BigEndian.AppendUint32(nil, seq)...)
		payload = append(append(payload, hdr...), content[:n]...)
		content = content[n:]
		b.WriteString("\xFF\xEB")
		binary.Write(&b, binary.BigEndian, uint16(2+len(payload)))
		b.Write(payload)
	}
	b.WriteString("\xFF\xD9")
	return b.Bytes()
}

func webpWith(chunks ...[2]string) []byte {
	var body bytes.Buffer
	body.WriteString("WEBP")
	for _, c := range chunks {
		body.WriteString(c[0])
		binary.Write(&body, binary.LittleEndian, uint32(len(c[1])))
		body.WriteString(c[1])
		if len(c[1])%2 == 1 {
			body.WriteByte(0)
		}
	}
	return append(binary.LittleEndian.AppendUint32([]byte("RIFF"), uint32(body.Len())), body.Bytes()...)
}

// The same store in each container must read the same, with the same hash.
func TestC2PAInEveryContainer(t *testing.T) {
	store := synthStore()
	files := map[string][]byte{
		"png":  pngFile([2]string{"IHDR", ihdr1x1}, [2]string{"caBX", string(store)}, [2]string{"IEND", ""}),
		"jpeg": jpegWithJUMBF(store, 40),
		"webp": webpWith([2]string{"VP8L", "\x2f\x00\x00\x00"}, [2]string{"C2PA", string(store)}),
	}
	var hash string
	for name, file := range files {
		c, err := Inspect(bytes.NewReader(file))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		info := c.C2PA
		if info == nil || len(c.Warnings) != 0 {
			t.Fatalf("%s: C2PA %+v, warnings %q", name, info, c.Warnings)
		}
		if hash == "" {
			hash = info.ManifestSHA256
		} else if info.ManifestSHA256 != hash {
			t.Errorf("%s: ManifestSHA256 %s differs from another container's %s", name, info.ManifestSHA256, hash)
		}
		want := []C2PAAction{
			{Action: "c2pa.created", DigitalSourceType: synthDST, SoftwareAgent: "Gen 3"},
			{Action: "c2pa.edited", DigitalSourceType: "x", When: "2025-01-02T03:04:05Z"},
		}
		if info.ClaimGenerator != "Synth Tool" || !equalActions(info.Actions, want) || c.DigitalSourceType != synthDST {
			t.Errorf("%s: %+v", name, info)
		}
	}
}
