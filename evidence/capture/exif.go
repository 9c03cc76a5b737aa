package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"unicode/utf16"
)

// exifTagNames lists the TIFF/EXIF tags read, by IFD. Only string-like
// tags that tools use to record generation data are kept.
var exifTagNames = map[uint16]string{
	0x010D: "DocumentName",
	0x010E: "ImageDescription",
	0x010F: "Make",
	0x0110: "Model",
	0x0131: "Software",
	0x013B: "Artist",
	0x8298: "Copyright",
	0x9C9B: "XPTitle",
	0x9C9C: "XPComment",
	0x9C9D: "XPAuthor",
	0x9286: "UserComment",
	0x927C: "MakerNote",
}

const (
	tagExifIFD     = 0x8769
	tagUserComment = 0x9286
	tagMakerNote   = 0x927C
)

// readEXIF reads TIFF-structured EXIF data: IFD0 and the Exif IFD it points
// to. offset is where tiff starts in the file, for Sources.
func readEXIF(m *metadata, container string, offset int64, tiff []byte) error {
	if len(tiff) < 8 {
		return fmt.Errorf("TIFF header is truncated: want 8 bytes, have %d", len(tiff))
	}
	var bo binary.ByteOrder
	switch string(tiff[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return fmt.Errorf("TIFF header starts with % x, want II or MM", tiff[:2])
	}
	if bo.Uint16(tiff[2:]) != 42 {
		return fmt.Errorf("TIFF magic is %d, want 42", bo.Uint16(tiff[2:]))
	}
	t := tiffReader{m: m, container: container, offset: offset, b: tiff, bo: bo}
	exifIFD, err := t.readIFD("IFD0", bo.Uint32(tiff[4:]))
	if err != nil {
		return err
	}
	if exifIFD != 0 {
		if _, err := t.readIFD("Exif IFD", exifIFD); err != nil {
			return err
		}
	}
	return nil
}

type tiffReader struct {
	m         *metadata
	container string
	offset    int64
	b         []byte
	bo        binary.ByteOrder
}

// readIFD reads the tags of one IFD and returns the Exif IFD pointer if it
// holds one. Only IFD0 and the Exif IFD are read, never a chain, so a
// malicious file cannot make the reader loop.
func (t *tiffReader) readIFD(name string, off uint32) (exifIFD uint32, err error) {
	if uint64(off)+2 > uint64(len(t.b)) {
		return 0, fmt.Errorf("%s offset %d is past the end of the %d-byte TIFF data", name, off, len(t.b))
	}
	n := int(t.bo.Uint16(t.b[off:]))
	start := uint64(off) + 2
	if start+uint64(n)*12 > uint64(len(t.b)) {
		return 0, fmt.Errorf("%s at %d holds %d entries, past the end of the %d-byte TIFF data", name, off, n, len(t.b))
	}
	for i := range n {
		e := t.b[start+uint64(i)*12:][:12]
		tag, typ, count := t.bo.Uint16(e), t.bo.Uint16(e[2:]), t.bo.Uint32(e[4:])
		size, ok := tiffTypeSize[typ]
		if !ok {
			continue // unknown type: its size is unknown, so skip it
		}
		total := uint64(size) * uint64(count)
		valueOff := uint64(start + uint64(i)*12 + 8)
		if total > 4 {
			valueOff = uint64(t.bo.Uint32(e[8:]))
		}
		if tag == tagExifIFD && name == "IFD0" {
			if typ != 4 && typ != 13 || count != 1 {
				return 0, fmt.Errorf("%s: Exif IFD pointer has type %d count %d, want one LONG", name, typ, count)
			}
			exifIFD = t.bo.Uint32(e[8:])
			continue
		}
		tagName, want := exifTagNames[tag]
		if !want || (tag == tagUserComment || tag == tagMakerNote) != (name == "Exif IFD") {
			continue
		}
		if valueOff+total > uint64(len(t.b)) {
			return 0, fmt.Errorf("%s tag %s (0x%04X): %d bytes at %d, past the end of the %d-byte TIFF data", name, tagName, tag, total, valueOff, len(t.b))
		}
		raw := t.b[valueOff : valueOff+total]
		var text string
		switch {
		case tag == tagUserComment:
			text = decodeUserComment(raw, t.bo)
		case tag == tagMakerNote:
			// Fooocus writes its metadata scheme name here; real maker
			// notes are binary and are not kept.
			if len(raw) > 64 || !isPrintableASCII(raw) {
				continue
			}
			text = string(raw)
		case tag >= 0x9C9B && tag <= 0x9C9F: // Windows XP tags: UTF-16LE
			text = decodeUTF16(raw, binary.LittleEndian)
		case typ == 2 || typ == 7 || typ == 1:
			text = pngText(bytes.TrimRight(raw, "\x00"))
		default:
			continue
		}
		t.m.addSource(t.container, tagName, t.offset+int64(valueOff), raw, text)
		t.m.texts = append(t.m.texts, textField{"exif:" + tagName, text})
	}
	return exifIFD, nil
}

var tiffTypeSize = map[uint16]uint32{1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}

func isPrintableASCII(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7E {
			return false
		}
	}
	return true
}

// decodeUserComment decodes an EXIF UserComment: an 8-byte character code
// followed by the text. Writers disagree about UTF-16 byte order, so a BOM
// decides it, else the position of zero bytes (ASCII text in UTF-16BE has
// its zero bytes first), else the TIFF byte order as the standard says.
func decodeUserComment(raw []byte, bo binary.ByteOrder) string {
	if len(raw) < 8 {
		return pngText(bytes.TrimRight(raw, "\x00"))
	}
	code, body := string(raw[:8]), raw[8:]
	switch code {
	case "UNICODE\x00":
		switch {
		case bytes.HasPrefix(body, []byte{0xFE, 0xFF}):
			return decodeUTF16(body[2:], binary.BigEndian)
		case bytes.HasPrefix(body, []byte{0xFF, 0xFE}):
			return decodeUTF16(body[2:], binary.LittleEndian)
		}
		var zeroEven, zeroOdd int
		for i, c := range body {
			if c == 0 {
				if i%2 == 0 {
					zeroEven++
				} else {
					zeroOdd++
				}
			}
		}
		switch {
		case zeroEven > zeroOdd:
			return decodeUTF16(body, binary.BigEndian)
		case zeroOdd > zeroEven:
			return decodeUTF16(body, binary.LittleEndian)
		}
		return decodeUTF16(body, bo)
	case "ASCII\x00\x00\x00", "\x00\x00\x00\x00\x00\x00\x00\x00":
		// "ASCII" is in practice UTF-8 (NovelAI writes UTF-8 JSON).
		return pngText(bytes.TrimRight(body, "\x00"))
	case "JIS\x00\x00\x00\x00\x00":
		return pngText(bytes.TrimRight(body, "\x00"))
	}
	// No character code: some writers store the text bare.
	return pngText(bytes.TrimRight(raw, "\x00"))
}

func decodeUTF16(b []byte, bo binary.ByteOrder) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		u = append(u, bo.Uint16(b[i:]))
	}
	for len(u) > 0 && u[len(u)-1] == 0 {
		u = u[:len(u)-1]
	}
	return string(utf16.Decode(u))
}
