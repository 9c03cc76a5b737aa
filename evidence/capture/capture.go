// Package capture reads what an image file's own embedded metadata, or a
// chat export, says about how a piece of work was made.
//
// It is pure parsing: nothing is written, nothing is fetched, and the only
// input is the reader passed in. Values are kept as the exact text found in
// the file (a Fooocus seed does not fit a float64; "8.0" is not "8"),
// because cairn records evidence and evidence must not be rounded.
//
// Every reader here is written for hostile input: lengths declared by the
// file are checked against what is actually there and against fixed
// limits before anything is allocated, nesting is bounded, decompression is
// bounded, and malformed or truncated input yields an error that names the
// container, the offset and the problem rather than a panic.
package capture

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
)

// Limits on what a single file may make this package hold in memory.
// Image data itself is skipped, not held, so these bound only metadata.
const (
	// maxMetadataChunk bounds one text chunk, EXIF block, XMP packet or
	// C2PA manifest store, compressed or not. Real ones are kilobytes;
	// C2PA stores with thumbnails reach a few megabytes.
	maxMetadataChunk = 64 << 20

	// maxMetadataTotal bounds the sum of all metadata kept from one file.
	maxMetadataTotal = 256 << 20

	// maxFileSize bounds how many bytes Inspect reads in total, image
	// data included, so that an endless reader cannot keep it busy.
	maxFileSize = 8 << 30
)

// ErrUnknownFormat is returned (wrapped) by Inspect when the input is not a
// PNG, JPEG or WebP file.
var ErrUnknownFormat = errors.New("capture: not a PNG, JPEG or WebP file")

// Capture is what a file's own embedded metadata says about how it was made.
//
// The generation fields hold text exactly as the tool wrote it: no number
// is parsed, rounded or normalised. A field is empty when the file does not
// say. Which metadata carriers the values came from is listed in Sources,
// each with a SHA-256 over its stored bytes, so that any value can be
// traced back to bytes in the file.
type Capture struct {
	// Tool names the generator the metadata identifies: "AUTOMATIC1111",
	// "ComfyUI", "InvokeAI", "NovelAI", "Fooocus", "Midjourney". When no
	// generator record is present it is "XMP" or "C2PA" if only those are,
	// and empty if the file holds other metadata only.
	Tool        string
	ToolVersion string

	Prompt         string
	NegativePrompt string
	Model          string
	Seed           string
	Sampler        string
	Steps          string
	Guidance       string // CFG scale or its equivalent
	Size           string // "WIDTHxHEIGHT" as generated, not as stored

	JobID  string // Midjourney job ID or XMP DigImageGUID
	Author string // Midjourney Author text or XMP dc:creator

	// Description is XMP dc:description. It is not assumed to be a
	// prompt: outside Midjourney it is usually a caption.
	Description string

	// DigitalSourceType is the full IPTC URI, from XMP or else from the
	// active C2PA manifest's actions.
	DigitalSourceType string

	// Params holds every other key/value of the tool's own parameter
	// record, keyed as the tool names them; values are exact text (JSON
	// objects and arrays as compact JSON). Two keys are cairn's own:
	// "sampler_node" (and "sampler_nodes" when a ComfyUI graph has
	// several) names the ComfyUI node read, and "xmp:CreatorTool" holds
	// XMP's xmp:CreatorTool.
	Params map[string]string

	// InputImages names the images the tool's own record says it started
	// from (ComfyUI LoadImage nodes), as file names: image-to-image and
	// inpainting inputs. The name is all the file says, not the image.
	InputImages []string

	// Sources lists every metadata carrier read, in file order.
	Sources []Source

	// C2PA describes the C2PA manifest store, if the file has one.
	C2PA *C2PAInfo

	// Warnings lists oddities that did not stop parsing, such as a PNG
	// chunk whose CRC does not match or an unsupported text encoding.
	Warnings []string
}

// Source identifies one metadata carrier in the file.
type Source struct {
	// Container names the carrier: "png tEXt", "png zTXt", "png iTXt",
	// "png caBX", "png eXIf", "jpeg APP1 Exif", "jpeg APP1 XMP",
	// "jpeg APP11 JUMBF", "jpeg COM", "webp EXIF", "webp XMP ",
	// "webp C2PA". EXIF tags are containers of their own, such as
	// "jpeg APP1 Exif" with Key "UserComment".
	Container string

	// Key is the PNG keyword, the EXIF tag name, "xmp" or "c2pa".
	Key string

	// Offset and Length locate the stored bytes in the file: the chunk or
	// segment data, or an EXIF tag's value. For a JUMBF store split over
	// several JPEG APP11 segments, Offset is that of the first segment and
	// Length the reassembled length.
	Offset int64
	Length int64

	// SHA256 is the hex SHA-256 of the stored bytes (before any
	// decompression; for split JUMBF, of the reassembled box).
	SHA256 string

	// Text is the decoded text, empty for binary carriers.
	Text string
}

// C2PAInfo is what could be read from a C2PA manifest store. It is not a
// validation: signatures and hashes are not checked here.
type C2PAInfo struct {
	Container string // "jpeg-app11", "png-caBX" or "webp-C2PA"

	// ManifestSHA256 is the hex SHA-256 of the whole JUMBF manifest store
	// box, header included.
	ManifestSHA256 string

	// The active manifest's claim generator and actions (C2PA: the
	// active manifest is the last one in the store).
	ClaimGenerator    string
	Actions           []C2PAAction
	DigitalSourceType string // first one found in the active manifest's actions

	// ActiveLabel is the active manifest's label, and Ingredients its
	// ingredients: what the file's own credentials say it was made from.
	ActiveLabel string
	Ingredients []C2PAIngredient

	// Manifests lists every manifest in store order, the active one last.
	Manifests []C2PAManifest
}

// C2PAManifest is one manifest of a store.
type C2PAManifest struct {
	Label          string // JUMBF label, e.g. "urn:uuid:..."
	ClaimGenerator string
	Actions        []C2PAAction
	Ingredients    []C2PAIngredient
}

// C2PAIngredient is one ingredient assertion (c2pa.ingredient, .v2 or .v3).
type C2PAIngredient struct {
	Title        string
	Relationship string // parentOf, componentOf or inputTo
	// Manifest is the label of the ingredient's own active manifest, when the
	// ingredient had Content Credentials (from its hashed URI).
	Manifest string
}

// C2PAAction is one entry of a c2pa.actions or c2pa.actions.v2 assertion.
type C2PAAction struct {
	Action            string // e.g. "c2pa.created"
	DigitalSourceType string
	SoftwareAgent     string // a string, or an object's name (and version)
	When              string
}

// Inspect reads an image from r and returns what its embedded metadata
// says. The format is detected from magic bytes. It returns nil and a nil
// error when the file is a supported image without any metadata, an error
// wrapping ErrUnknownFormat for other input, and a descriptive error for
// truncated or malformed files.
func Inspect(r io.Reader) (*Capture, error) {
	in := &input{r: bufio.NewReaderSize(io.LimitReader(r, maxFileSize+1), 64<<10)}
	magic, err := in.br().Peek(12)
	if err != nil && len(magic) == 0 {
		if err == io.EOF {
			return nil, fmt.Errorf("%w: input is empty", ErrUnknownFormat)
		}
		return nil, fmt.Errorf("capture: reading magic bytes: %w", err)
	}
	var m metadata
	switch {
	case bytes.HasPrefix(magic, pngSignature):
		err = readPNG(in, &m)
	case bytes.HasPrefix(magic, []byte{0xFF, 0xD8}):
		err = readJPEG(in, &m)
	case len(magic) >= 12 && string(magic[:4]) == "RIFF" && string(magic[8:12]) == "WEBP":
		err = readWebP(in, &m)
	default:
		return nil, fmt.Errorf("%w: starts with % x", ErrUnknownFormat, magic)
	}
	if err != nil {
		return nil, err
	}
	if in.n > maxFileSize {
		return nil, fmt.Errorf("capture: file is larger than %d bytes", int64(maxFileSize))
	}
	return m.interpret()
}

// input is the reader Inspect consumes, counting the offset so that errors
// and Sources can say where things are.
type input struct {
	r    io.Reader
	n    int64 // bytes consumed so far
	kept int64 // metadata bytes held so far, against maxMetadataTotal
}

func (in *input) br() *bufio.Reader { return in.r.(*bufio.Reader) }

// readFull reads exactly len(p) bytes; what names the structure for the
// error message.
func (in *input) readFull(p []byte, what string) error {
	k, err := io.ReadFull(in.r, p)
	in.n += int64(k)
	if err != nil {
		return truncated(what, in.n-int64(k), int64(len(p)), int64(k), err)
	}
	return nil
}

// readData reads n bytes of metadata. It grows its buffer as bytes arrive
// rather than trusting n, so a short file declaring a huge chunk costs only
// what it holds.
func (in *input) readData(n int64, what string) ([]byte, error) {
	start := in.n
	if n > maxMetadataChunk {
		return nil, fmt.Errorf("%s at offset %d declares %d bytes, more than the %d this reader accepts", what, start, n, maxMetadataChunk)
	}
	if in.kept+n > maxMetadataTotal {
		return nil, fmt.Errorf("%s at offset %d: file holds more than %d bytes of metadata", what, start, maxMetadataTotal)
	}
	var buf bytes.Buffer
	k, err := io.CopyN(&buf, in.r, n)
	in.n += k
	if err != nil {
		return nil, truncated(what, start, n, k, err)
	}
	in.kept += n
	return buf.Bytes(), nil
}

// skip discards n bytes of data that carry no metadata (image data).
func (in *input) skip(n int64, what string) error {
	start := in.n
	k, err := io.CopyN(io.Discard, in.r, n)
	in.n += k
	if err != nil {
		return truncated(what, start, n, k, err)
	}
	return nil
}

func truncated(what string, offset, want, got int64, err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%s at offset %d is truncated: want %d bytes, file ends after %d", what, offset, want, got)
	}
	return fmt.Errorf("%s at offset %d: %w", what, offset, err)
}

// metadata is what the container readers collect, before interpretation.
type metadata struct {
	sources  []Source
	texts    []textField // logical key/value pairs, in file order
	xmp      []xmpFields
	c2pa     *C2PAInfo
	warnings []string
	inflated int64 // bytes produced by decompression, against maxMetadataTotal
}

// textField is one key/value found in a container: a PNG text chunk, an
// EXIF string tag, or a member of a JSON object stored in EXIF UserComment.
type textField struct {
	key, value string
}

func (m *metadata) addSource(container, key string, offset int64, raw []byte, text string) {
	sum := sha256.Sum256(raw)
	m.sources = append(m.sources, Source{
		Container: container,
		Key:       key,
		Offset:    offset,
		Length:    int64(len(raw)),
		SHA256:    hex.EncodeToString(sum[:]),
		Text:      text,
	})
}

func (m *metadata) warnf(format string, args ...any) {
	m.warnings = append(m.warnings, fmt.Sprintf(format, args...))
}

// text returns the first value stored under key.
func (m *metadata) text(key string) (string, bool) {
	for _, f := range m.texts {
		if f.key == key {
			return f.value, true
		}
	}
	return "", false
}
