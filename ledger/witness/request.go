package witness

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/cairn-ledger/cairn/internal/strict"
)

// MaxRequestSize bounds an add-checkpoint request body: the old size line, at
// most 63 proof lines of 45 bytes, the empty line and a checkpoint note.
const MaxRequestSize = 16 + 63*45 + 1 + maxNoteSize

// FormatRequest returns the body of a C2SP tlog-witness add-checkpoint request.
func FormatRequest(old int64, proof tlog.TreeProof, checkpoint []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "old %d\n", old)
	for _, h := range proof {
		b.WriteString(base64.StdEncoding.EncodeToString(h[:]))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.Write(checkpoint)
	return b.Bytes()
}

// ParseRequest reads an add-checkpoint request body: "old N", up to 63 lines
// of base64 hashes, an empty line, then the checkpoint note. Every line ends in
// a newline; N is decimal without leading zeros. Anything else is ErrMalformed.
func ParseRequest(body []byte) (old int64, proof tlog.TreeProof, checkpoint []byte, err error) {
	bad := func(format string, args ...any) (int64, tlog.TreeProof, []byte, error) {
		return 0, nil, nil, fmt.Errorf("witness: %w: %s", ErrMalformed, fmt.Sprintf(format, args...))
	}
	if len(body) > MaxRequestSize {
		return bad("%d bytes is more than the %d a request may have", len(body), MaxRequestSize)
	}
	line, rest, ok := bytes.Cut(body, []byte("\n"))
	if !ok {
		return bad("no old size line")
	}
	num, found := strings.CutPrefix(string(line), "old ")
	old, perr := strconv.ParseInt(num, 10, 64)
	if !found || perr != nil || old < 0 || strconv.FormatInt(old, 10) != num {
		return bad("the first line must be \"old\", a space and a decimal size, not %q", line)
	}
	for {
		line, rest, ok = bytes.Cut(rest, []byte("\n"))
		if !ok {
			return bad("no empty line before the checkpoint")
		}
		if len(line) == 0 {
			break
		}
		if len(proof) == 63 {
			return bad("more than 63 consistency proof lines")
		}
		h, herr := strict.Base64(string(line))
		if herr != nil || len(h) != tlog.HashSize {
			return bad("proof line %d is not a base64 SHA-256 hash", len(proof)+1)
		}
		proof = append(proof, tlog.Hash(h))
	}
	if len(rest) == 0 {
		return bad("no checkpoint after the empty line")
	}
	return old, proof, rest, nil
}

// ParseSize reads the body of a 409 answer (Content-Type text/x.tlog.size):
// a decimal size and a newline.
func ParseSize(body []byte) (int64, error) {
	s, ok := strings.CutSuffix(string(body), "\n")
	n, err := strconv.ParseInt(s, 10, 64)
	if !ok || err != nil || n < 0 || strconv.FormatInt(n, 10) != s {
		return 0, fmt.Errorf("witness: the conflict answer %q is not a decimal size and a newline", body)
	}
	return n, nil
}
