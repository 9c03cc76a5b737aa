package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// readWebP walks the RIFF chunks of a WebP file, keeping EXIF, "XMP " and
// C2PA and skipping image data.
func readWebP(in *input, m *metadata) error {
	var hdr [12]byte
	if err := in.readFull(hdr[:], "WebP RIFF header"); err != nil {
		return err
	}
	riffEnd := 8 + int64(binary.LittleEndian.Uint32(hdr[4:8]))
	if riffEnd < 12 {
		return fmt.Errorf("WebP RIFF header declares size %d, too small for the WEBP form type", riffEnd-8)
	}
	for in.n < riffEnd {
		offset := in.n
		var ch [8]byte
		if err := in.readFull(ch[:], "WebP chunk header"); err != nil {
			return err
		}
		fourcc := string(ch[:4])
		size := int64(binary.LittleEndian.Uint32(ch[4:]))
		if offset+8+size > riffEnd {
			return fmt.Errorf("WebP chunk %q at offset %d declares %d bytes, past the RIFF end at %d", fourcc, offset, size, riffEnd)
		}
		what := fmt.Sprintf("WebP chunk %q", fourcc)
		// Odd chunks are padded to even length; some writers leave the
		// pad byte off the last chunk, and the RIFF size then says so.
		var pad int64
		if size&1 == 1 && offset+8+size < riffEnd {
			pad = 1
		}
		switch fourcc {
		case "EXIF", "XMP ", "C2PA":
		default:
			if err := in.skip(size+pad, what); err != nil {
				return err
			}
			continue
		}
		dataOffset := in.n
		data, err := in.readData(size, what)
		if err != nil {
			return err
		}
		if pad == 1 {
			if err := in.skip(1, what+" padding"); err != nil {
				return err
			}
		}
		container := "webp " + fourcc
		switch fourcc {
		case "EXIF":
			m.addSource(container, "exif", dataOffset, data, "")
			tiff, tiffOffset := data, dataOffset
			// The WebP container spec says the chunk holds the TIFF
			// data directly, but some writers keep JPEG's prefix.
			if bytes.HasPrefix(data, []byte("Exif\x00\x00")) {
				tiff, tiffOffset = data[6:], dataOffset+6
			}
			if err := readEXIF(m, container, tiffOffset, tiff); err != nil {
				m.warnf("%s at offset %d: %v", container, offset, err)
			}
		case "XMP ":
			m.addSource(container, "xmp", dataOffset, data, string(data))
			if x, err := readXMP(data); err != nil {
				m.warnf("%s at offset %d: %v", container, offset, err)
			} else {
				m.xmp = append(m.xmp, x)
			}
		case "C2PA":
			m.addSource(container, "c2pa", dataOffset, data, "")
			if err := m.addC2PA(data, "webp-C2PA"); err != nil {
				m.warnf("%s at offset %d: %v", container, offset, err)
			}
		}
	}
	return nil
}
