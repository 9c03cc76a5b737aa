package testkit

import (
	"bytes"
	"compress/zlib"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"time"
)

// ResignPDF replaces the evidence.json embedded in a cairn evidence pack and
// signs the pack again, so that `cairn verify-pack` gets past its rule 1 (the
// PDF signature) and reports what it thinks of the changed bundle. It
// rewrites the pack's last incremental update (the one that embeds the files
// and signs, FORMAT.md §7.1) with the same objects, a new embedded-file
// stream and a new CAdES detached signature by s.
func ResignPDF(pdf, evidence []byte, s Signer) ([]byte, error) {
	last := bytes.LastIndex(pdf, []byte("%%EOF"))
	prev := bytes.LastIndex(pdf[:last], []byte("%%EOF"))
	if prev < 0 {
		return nil, fmt.Errorf("no incremental update")
	}
	baseEnd := prev + len("%%EOF")
	for baseEnd < len(pdf) && (pdf[baseEnd] == '\n' || pdf[baseEnd] == '\r') {
		baseEnd++
	}
	base, upd := pdf[:baseEnd], pdf[baseEnd:]
	xref := bytes.LastIndex(upd, []byte("\nxref\n"))
	tr := bytes.LastIndex(upd, []byte("trailer"))
	sx := bytes.LastIndex(upd, []byte("startxref"))
	if xref < 0 || tr < 0 || sx < 0 {
		return nil, fmt.Errorf("no xref/trailer in the last update")
	}
	objs, err := splitObjects(upd[:xref+1])
	if err != nil {
		return nil, err
	}
	trailer := upd[tr:sx]

	const contentsHex = 16384
	var out bytes.Buffer
	out.Write(base)
	offsets := map[int]int{}
	var sigPlaceholder, brPlaceholder int
	for _, o := range objs {
		offsets[o.num] = out.Len()
		switch {
		case bytes.Contains(o.dict, []byte("/Type /EmbeddedFile")) && bytes.Contains(o.dict, []byte("/Subtype /application#2Fjson")):
			var z bytes.Buffer
			zw := zlib.NewWriter(&z)
			zw.Write(evidence)
			zw.Close()
			sum := md5.Sum(evidence)
			mod := regexp.MustCompile(`/ModDate \([^)]*\)`).Find(o.dict)
			fmt.Fprintf(&out, "%d 0 obj\n<</Type /EmbeddedFile\n/Subtype /application#2Fjson\n/Params <</Size %d\n/CheckSum <%s>\n%s\n>>\n/Filter /FlateDecode\n/Length %d\n>>\nstream\n",
				o.num, len(evidence), hex.EncodeToString(sum[:]), mod, z.Len())
			out.Write(z.Bytes())
			out.WriteString("\nendstream\nendobj\n")
		case bytes.Contains(o.dict, []byte("/Type /Sig")):
			d := regexp.MustCompile(`(?s)/ByteRange\s*\[[^\]]*\]\s*`).ReplaceAll(o.dict, nil)
			d = regexp.MustCompile(`(?s)/Contents\s*<[0-9A-Fa-f]*>`).ReplaceAll(d, nil)
			d = bytes.TrimSuffix(bytes.TrimSpace(d), []byte(">>"))
			fmt.Fprintf(&out, "%d 0 obj\n%s\n/ByteRange ", o.num, d)
			brPlaceholder = out.Len()
			out.WriteString("[0 0000000000 0000000000 0000000000]\n/Contents <")
			sigPlaceholder = out.Len() - 1
			out.Write(bytes.Repeat([]byte("0"), contentsHex))
			out.WriteString(">>>\nendobj\n")
		default:
			out.Write(o.text)
		}
	}
	xrefAt := out.Len()
	out.WriteString("xref\n")
	var nums []int
	for n := range offsets {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	for i := 0; i < len(nums); {
		j := i
		for j+1 < len(nums) && nums[j+1] == nums[j]+1 {
			j++
		}
		fmt.Fprintf(&out, "%d %d\n", nums[i], j-i+1)
		for k := i; k <= j; k++ {
			fmt.Fprintf(&out, "%010d 00000 n \n", offsets[nums[k]])
		}
		i = j + 1
	}
	out.Write(trailer)
	fmt.Fprintf(&out, "startxref\n%d\n%%%%EOF\n", xrefAt)

	file := out.Bytes()
	a := sigPlaceholder
	b := sigPlaceholder + 1 + contentsHex + 1
	c := len(file) - b
	br := fmt.Sprintf("[0 %d %d %d]", a, b, c)
	br += string(bytes.Repeat([]byte(" "), len("[0 0000000000 0000000000 0000000000]")-len(br)))
	copy(file[brPlaceholder:], br)
	signed := append(append([]byte{}, file[:a]...), file[b:]...)
	cms := SignedData(s, SignOpts{ContentType: OIDData, Content: signed, Detached: true, SigningTime: time.Now()})
	h := hex.EncodeToString(cms)
	if len(h) > contentsHex {
		return nil, fmt.Errorf("signature too large")
	}
	copy(file[a+1:], h)
	return file, nil
}

type pdfObj struct {
	num  int
	dict []byte // the object's text up to "stream" or "endobj"
	text []byte // the whole object, "N 0 obj" to "endobj\n"
}

var objStart = regexp.MustCompile(`^(\d+) 0 obj\s*`)
var lengthRE = regexp.MustCompile(`/Length (\d+)`)

// splitObjects reads "N 0 obj … endobj" objects, skipping stream data by its
// /Length.
func splitObjects(b []byte) ([]pdfObj, error) {
	var out []pdfObj
	pos := 0
	for {
		for pos < len(b) && (b[pos] == '\n' || b[pos] == '\r' || b[pos] == ' ') {
			pos++
		}
		if pos >= len(b) {
			return out, nil
		}
		m := objStart.FindSubmatchIndex(b[pos:])
		if m == nil {
			return nil, fmt.Errorf("no object at offset %d: %q", pos, b[pos:min(pos+20, len(b))])
		}
		num, _ := strconv.Atoi(string(b[pos+m[2] : pos+m[3]]))
		start := pos
		body := pos + m[1]
		st := bytes.Index(b[body:], []byte("stream"))
		eo := bytes.Index(b[body:], []byte("endobj"))
		var dict []byte
		end := 0
		if st >= 0 && st < eo {
			dict = b[body : body+st]
			lm := lengthRE.FindSubmatch(dict)
			if lm == nil {
				return nil, fmt.Errorf("stream without a direct /Length in object %d", num)
			}
			n, _ := strconv.Atoi(string(lm[1]))
			data := body + st + len("stream")
			if b[data] == '\r' {
				data++
			}
			data++ // \n
			e := bytes.Index(b[data+n:], []byte("endobj"))
			end = data + n + e + len("endobj")
		} else {
			dict = b[body : body+eo]
			end = body + eo + len("endobj")
		}
		for end < len(b) && (b[end] == '\n' || b[end] == '\r') {
			end++
		}
		out = append(out, pdfObj{num: num, dict: dict, text: b[start:end]})
		pos = end
	}
}
