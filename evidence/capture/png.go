package capture

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"unicode/utf8"
)

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// readPNG walks every chunk up to IEND, keeping text chunks (wherever they
// are, including after IDAT), eXIf and caBX, and skipping the rest.
func readPNG(in *input, m *metadata) error {
	sig := make([]byte, len(pngSignature))
	if err := in.readFull(sig, "PNG signature"); err != nil {
		return err
	}
	var hdr [8]byte
	for {
		offset := in.n
		k, err := io.ReadFull(in.r, hdr[:])
		in.n += int64(k)
		if err == io.EOF {
			return fmt.Errorf("PNG ends at offset %d without an IEND chunk", offset)
		}
		if err != nil {
			return truncated("PNG chunk header", offset, 8, int64(k), err)
		}
		length := int64(binary.BigEndian.Uint32(hdr[:4]))
		typ := string(hdr[4:])
		if length > 1<<31-1 {
			return fmt.Errorf("PNG chunk at offset %d declares length %d, over the 2^31-1 the format allows", offset, length)
		}
		if !isChunkType(hdr[4:]) {
			return fmt.Errorf("PNG chunk at offset %d has an invalid type % x", offset, hdr[4:])
		}
		what := "PNG chunk " + typ
		switch typ {
		case "tEXt", "zTXt", "iTXt", "caBX", "eXIf":
			dataOffset := in.n
			data, err := in.readData(length, what)
			if err != nil {
				return err
			}
			var crc [4]byte
			if err := in.readFull(crc[:], what+" CRC"); err != nil {
				return err
			}
			h := crc32.NewIEEE()
			h.Write(hdr[4:])
			h.Write(data)
			if got, want := h.Sum32(), binary.BigEndian.Uint32(crc[:]); got != want {
				// A wrong CRC is recorded, not fatal: the text is still
				// what the file says, and the warning tells the reader
				// the file was altered or damaged.
				m.warnf("%s at offset %d: CRC is %08x, data gives %08x", what, offset, want, got)
			}
			// A chunk whose content cannot be decoded is a problem of
			// that metadata, not of the file: its bytes are still
			// recorded and hashed, and the problem is reported.
			if err := pngMetadataChunk(m, typ, dataOffset, data); err != nil {
				m.warnf("%s at offset %d: %v", what, offset, err)
			}
		default:
			if err := in.skip(length+4, what); err != nil {
				return err
			}
		}
		if typ == "IEND" {
			return nil
		}
	}
}

func isChunkType(b []byte) bool {
	for _, c := range b {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}

func pngMetadataChunk(m *metadata, typ string, offset int64, data []byte) error {
	container := "png " + typ
	switch typ {
	case "caBX":
		m.addSource(container, "c2pa", offset, data, "")
		return m.addC2PA(data, "png-caBX")
	case "eXIf":
		m.addSource(container, "exif", offset, data, "")
		return readEXIF(m, container, offset, data)
	}

	text, key, err := m.pngTextChunk(typ, data)
	if err != nil {
		m.addSource(container, key, offset, data, "")
		return err
	}
	m.addSource(container, key, offset, data, text)
	if key == "XML:com.adobe.xmp" {
		x, err := readXMP([]byte(text))
		if err != nil {
			return err
		}
		m.xmp = append(m.xmp, x)
		return nil
	}
	m.texts = append(m.texts, textField{key, text})
	return nil
}

// pngTextChunk decodes a tEXt, zTXt or iTXt chunk into its text and key.
func (m *metadata) pngTextChunk(typ string, data []byte) (text, key string, err error) {
	keyword, rest, ok := bytes.Cut(data, []byte{0})
	if !ok {
		return "", "", fmt.Errorf("no NUL byte ends the keyword")
	}
	if len(keyword) == 0 || len(keyword) > 79 {
		return "", "", fmt.Errorf("keyword is %d bytes long, want 1 to 79", len(keyword))
	}
	key = latin1(keyword)
	switch typ {
	case "tEXt":
		text = pngText(rest)
	case "zTXt":
		if len(rest) < 1 {
			return "", key, fmt.Errorf("no compression method byte")
		}
		if rest[0] != 0 {
			return "", key, fmt.Errorf("unknown compression method %d", rest[0])
		}
		raw, err := m.inflate(rest[1:])
		if err != nil {
			return "", key, err
		}
		text = pngText(raw)
	case "iTXt":
		// keyword NUL, compression flag, method, language NUL,
		// translated keyword NUL, UTF-8 text.
		if len(rest) < 2 {
			return "", key, fmt.Errorf("missing compression flag and method")
		}
		compressed, method := rest[0], rest[1]
		rest = rest[2:]
		if _, rest, ok = bytes.Cut(rest, []byte{0}); !ok {
			return "", key, fmt.Errorf("no NUL byte ends the language tag")
		}
		if _, rest, ok = bytes.Cut(rest, []byte{0}); !ok {
			return "", key, fmt.Errorf("no NUL byte ends the translated keyword")
		}
		raw := rest
		switch compressed {
		case 0:
		case 1:
			if method != 0 {
				return "", key, fmt.Errorf("unknown compression method %d", method)
			}
			var err error
			if raw, err = m.inflate(rest); err != nil {
				return "", key, err
			}
		default:
			return "", key, fmt.Errorf("compression flag is %d, want 0 or 1", compressed)
		}
		if !utf8.Valid(raw) {
			// iTXt is UTF-8 by definition; keep the text but say so.
			m.warnf("png iTXt %q is not valid UTF-8", key)
		}
		text = string(raw)
	}
	return text, key, nil
}

// pngText decodes tEXt/zTXt text. The format says Latin-1, but many tools
// write UTF-8 there; bytes that are valid UTF-8 and not plain ASCII are
// taken as UTF-8, because Latin-1 text that happens to be valid UTF-8 is
// far rarer than UTF-8 written into tEXt.
func pngText(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return latin1(b)
}

func latin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// inflate decompresses zlib data, refusing to produce more than
// maxMetadataChunk bytes per chunk, or maxMetadataTotal over the file, so
// that small chunks cannot expand without bound.
func (m *metadata) inflate(b []byte) ([]byte, error) {
	zr, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("zlib: %w", err)
	}
	defer zr.Close()
	out, err := io.ReadAll(io.LimitReader(zr, maxMetadataChunk+1))
	if err != nil {
		return nil, fmt.Errorf("zlib: %w", err)
	}
	if len(out) > maxMetadataChunk {
		return nil, fmt.Errorf("decompresses to more than %d bytes", maxMetadataChunk)
	}
	m.inflated += int64(len(out))
	if m.inflated > maxMetadataTotal {
		return nil, fmt.Errorf("compressed text in this file expands to more than %d bytes", maxMetadataTotal)
	}
	return out, nil
}
