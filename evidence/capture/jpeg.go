package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sort"
)

const (
	xmpNamespaceHeader = "http://ns.adobe.com/xap/1.0/\x00"
	xmpExtensionHeader = "http://ns.adobe.com/xmp/extension/\x00"
)

// readJPEG walks the marker segments from SOI up to the first SOS. Metadata
// segments belong before the image data; anything after SOS is not read.
func readJPEG(in *input, m *metadata) error {
	var soi [2]byte
	if err := in.readFull(soi[:], "JPEG SOI marker"); err != nil {
		return err
	}
	var jumbf []jumbfPacket
	for {
		offset := in.n
		marker, err := readMarker(in)
		if err != nil {
			return err
		}
		switch {
		case marker == 0xD9, marker == 0xDA: // EOI, or SOS: image data follows
			m.addJUMBF(jumbf)
			return nil
		case marker == 0x01 || 0xD0 <= marker && marker <= 0xD8:
			continue // no length field
		}
		var lb [2]byte
		if err := in.readFull(lb[:], fmt.Sprintf("JPEG segment FF%02X length", marker)); err != nil {
			return err
		}
		length := int64(binary.BigEndian.Uint16(lb[:]))
		if length < 2 {
			return fmt.Errorf("JPEG segment FF%02X at offset %d declares length %d, less than its own 2 bytes", marker, offset, length)
		}
		what := fmt.Sprintf("JPEG segment FF%02X", marker)
		if marker != 0xE1 && marker != 0xEB && marker != 0xFE {
			if err := in.skip(length-2, what); err != nil {
				return err
			}
			continue
		}
		dataOffset := in.n
		data, err := in.readData(length-2, what)
		if err != nil {
			return err
		}
		switch marker {
		case 0xE1:
			switch {
			case len(data) >= 6 && string(data[:5]) == "Exif\x00":
				container := "jpeg APP1 Exif"
				m.addSource(container, "exif", dataOffset, data, "")
				if err := readEXIF(m, container, dataOffset+6, data[6:]); err != nil {
					m.warnf("%s at offset %d: %v", container, offset, err)
				}
			case bytes.HasPrefix(data, []byte(xmpNamespaceHeader)):
				packet := data[len(xmpNamespaceHeader):]
				m.addSource("jpeg APP1 XMP", "xmp", dataOffset, data, string(packet))
				if x, err := readXMP(packet); err != nil {
					m.warnf("jpeg APP1 XMP at offset %d: %v", offset, err)
				} else {
					m.xmp = append(m.xmp, x)
				}
			case bytes.HasPrefix(data, []byte(xmpExtensionHeader)):
				m.addSource("jpeg APP1 XMP extension", "xmp", dataOffset, data, "")
				m.warnf("jpeg APP1 at offset %d holds extended XMP, which is recorded but not read", offset)
			}
		case 0xEB:
			if p, ok := parseJUMBFPacket(data, dataOffset); ok {
				jumbf = append(jumbf, p)
			}
		case 0xFE:
			text := pngText(data)
			m.addSource("jpeg COM", "comment", dataOffset, data, text)
			m.texts = append(m.texts, textField{"jpeg:comment", text})
		}
	}
}

// readMarker reads 0xFF, any fill bytes, and the marker code.
func readMarker(in *input) (byte, error) {
	offset := in.n
	var b [1]byte
	if err := in.readFull(b[:], "JPEG marker"); err != nil {
		if in.n == offset {
			return 0, fmt.Errorf("JPEG ends at offset %d before SOS or EOI", offset)
		}
		return 0, err
	}
	if b[0] != 0xFF {
		return 0, fmt.Errorf("JPEG at offset %d: want a marker (FF), found %02X", offset, b[0])
	}
	for {
		if err := in.readFull(b[:], "JPEG marker"); err != nil {
			return 0, err
		}
		if b[0] != 0xFF {
			return b[0], nil
		}
		if in.n-offset > 1<<16 {
			return 0, fmt.Errorf("JPEG at offset %d: more than 64 KiB of FF fill bytes", offset)
		}
	}
}

// jumbfPacket is one APP11 segment of a JUMBF box (ISO/IEC 19566-5): the
// box is cut into packets that share an instance number and carry a
// sequence number, and every packet repeats the box header.
type jumbfPacket struct {
	instance uint16
	seq      uint32
	offset   int64  // of the segment data in the file
	payload  []byte // box header and the content bytes this packet carries
}

func parseJUMBFPacket(data []byte, offset int64) (jumbfPacket, bool) {
	// "JP", En (2 bytes), Z (4 bytes), then the box header.
	if len(data) < 16 || string(data[:2]) != "JP" {
		return jumbfPacket{}, false
	}
	return jumbfPacket{
		instance: binary.BigEndian.Uint16(data[2:4]),
		seq:      binary.BigEndian.Uint32(data[4:8]),
		offset:   offset,
		payload:  data[8:],
	}, true
}

// addJUMBF reassembles the JUMBF boxes carried in APP11 packets and reads
// the C2PA manifest store among them. Problems with a box are warnings:
// the segments themselves were read whole.
func (m *metadata) addJUMBF(packets []jumbfPacket) {
	byInstance := map[uint16][]jumbfPacket{}
	var order []uint16
	for _, p := range packets {
		if _, ok := byInstance[p.instance]; !ok {
			order = append(order, p.instance)
		}
		byInstance[p.instance] = append(byInstance[p.instance], p)
	}
	for _, en := range order {
		ps := byInstance[en]
		sort.SliceStable(ps, func(i, j int) bool { return ps[i].seq < ps[j].seq })
		box, err := reassembleJUMBF(ps)
		if err != nil {
			m.warnf("jpeg APP11 JUMBF instance %d at offset %d: %v", en, ps[0].offset, err)
			continue
		}
		if !isC2PAStore(box) {
			m.addSource("jpeg APP11 JUMBF", "jumbf", ps[0].offset, box, "")
			continue
		}
		m.addSource("jpeg APP11 JUMBF", "c2pa", ps[0].offset, box, "")
		if err := m.addC2PA(box, "jpeg-app11"); err != nil {
			m.warnf("jpeg APP11 JUMBF at offset %d: %v", ps[0].offset, err)
		}
	}
}

func reassembleJUMBF(ps []jumbfPacket) ([]byte, error) {
	first := ps[0].payload
	hdrLen, boxLen, err := jumbfHeaderLen(first)
	if err != nil {
		return nil, err
	}
	if boxLen > maxMetadataChunk {
		return nil, fmt.Errorf("box declares %d bytes, more than the %d this reader accepts", boxLen, maxMetadataChunk)
	}
	var box bytes.Buffer
	for i, p := range ps {
		if p.seq != ps[0].seq+uint32(i) {
			return nil, fmt.Errorf("packet sequence jumps from %d to %d", ps[0].seq+uint32(i)-1, p.seq)
		}
		if i == 0 {
			box.Write(p.payload)
			continue
		}
		if len(p.payload) < hdrLen || !bytes.Equal(p.payload[:hdrLen], first[:hdrLen]) {
			return nil, fmt.Errorf("packet %d does not repeat the box header", p.seq)
		}
		box.Write(p.payload[hdrLen:])
	}
	if boxLen != 0 && int64(box.Len()) != boxLen {
		if int64(box.Len()) < boxLen {
			return nil, fmt.Errorf("box is truncated: want %d bytes, packets hold %d", boxLen, box.Len())
		}
		return nil, fmt.Errorf("packets hold %d bytes, more than the box's %d", box.Len(), boxLen)
	}
	return box.Bytes(), nil
}

// jumbfHeaderLen returns the length of a box header (8, or 16 with an
// extended length) and the box length it declares (0: to the end).
func jumbfHeaderLen(b []byte) (int, int64, error) {
	if len(b) < 8 {
		return 0, 0, fmt.Errorf("box header is truncated: want 8 bytes, have %d", len(b))
	}
	n := int64(binary.BigEndian.Uint32(b))
	if n != 1 {
		return 8, n, nil
	}
	if len(b) < 16 {
		return 0, 0, fmt.Errorf("extended box header is truncated: want 16 bytes, have %d", len(b))
	}
	x := binary.BigEndian.Uint64(b[8:])
	if x > 1<<62 {
		return 0, 0, fmt.Errorf("box declares extended length %d", x)
	}
	return 16, int64(x), nil
}
