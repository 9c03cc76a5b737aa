package formatcheck

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// A minimal reader of POSIX tar (ustar headers, with pax extended headers as
// §8 says cairn writes "pax interchange format"). It keeps what §8 rule 2
// checks: each member's type, mode, user and group names, and where the
// archive ends.

type tarMember struct {
	name  string
	typ   byte
	mode  int64
	uname string
	gname string
	data  []byte
}

const tarBlock = 512

// readTar splits an archive into members. It refuses a header with a bad
// checksum or magic, a member running past the end, a missing end of archive
// (two zero blocks), and anything after it (§8 rule 2).
func readTar(b []byte) ([]tarMember, error) {
	var out []tarMember
	var pax map[string]string
	pos := 0
	last := func() string {
		if len(out) == 0 {
			return "the archive's start"
		}
		return "member " + out[len(out)-1].name
	}
	for {
		if pos+tarBlock > len(b) {
			return out, fmt.Errorf("after %s: the archive ends without the two zero blocks of a tar (truncated)", last())
		}
		blk := b[pos : pos+tarBlock]
		if isZero(blk) {
			if pos+2*tarBlock > len(b) || !isZero(b[pos+tarBlock:pos+2*tarBlock]) {
				return out, fmt.Errorf("after %s: a zero block not followed by a second one", last())
			}
			if pos+2*tarBlock != len(b) {
				return out, fmt.Errorf("after %s: %d bytes follow the two zero blocks that end the tar", last(), len(b)-pos-2*tarBlock)
			}
			if pax != nil {
				return out, fmt.Errorf("after %s: a pax header with no member", last())
			}
			return out, nil
		}
		m, size, err := parseTarHeader(blk)
		if err != nil {
			return out, fmt.Errorf("member %s: bad tar header: %v", m.name, err)
		}
		if pax != nil {
			if err := applyPax(&m, &size, pax); err != nil {
				return out, fmt.Errorf("member %s: %v", m.name, err)
			}
			pax = nil
		}
		start := pos + tarBlock
		if size < 0 || int64(len(b)-start) < size {
			return out, fmt.Errorf("member %s: its data runs past the end of the archive (truncated)", m.name)
		}
		data := b[start : start+int(size)]
		pos = start + int((size+tarBlock-1)/tarBlock*tarBlock)
		if pos > len(b) {
			return out, fmt.Errorf("member %s: its padding runs past the end of the archive (truncated)", m.name)
		}
		if m.typ == 'x' {
			if pax, err = parsePax(data); err != nil {
				return out, fmt.Errorf("member %s: bad pax header: %v", m.name, err)
			}
			continue
		}
		m.data = data
		out = append(out, m)
	}
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func parseTarHeader(blk []byte) (tarMember, int64, error) {
	m := tarMember{name: cstr(blk[0:100])}
	if p := cstr(blk[345:500]); p != "" {
		m.name = p + "/" + m.name
	}
	if string(blk[257:263]) != "ustar\x00" || string(blk[263:265]) != "00" {
		return m, 0, fmt.Errorf("not a POSIX ustar header (magic %q)", blk[257:265])
	}
	sum, err := octal(blk[148:156])
	if err != nil {
		return m, 0, fmt.Errorf("checksum field: %v", err)
	}
	var want int64
	for i, c := range blk {
		if i >= 148 && i < 156 {
			c = ' '
		}
		want += int64(c)
	}
	if sum != want {
		return m, 0, fmt.Errorf("checksum %d, not %d", sum, want)
	}
	if m.mode, err = octal(blk[100:108]); err != nil {
		return m, 0, fmt.Errorf("mode field: %v", err)
	}
	size, err := octal(blk[124:136])
	if err != nil {
		return m, 0, fmt.Errorf("size field: %v", err)
	}
	m.typ = blk[156]
	m.uname = cstr(blk[265:297])
	m.gname = cstr(blk[297:329])
	return m, size, nil
}

// cstr reads a NUL-terminated field.
func cstr(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// octal reads a numeric field: octal digits, optionally space-padded in
// front, ended by NUL or space.
func octal(b []byte) (int64, error) {
	s := strings.TrimLeft(cstr(b), " ")
	s = strings.TrimRight(s, " ")
	if s == "" {
		return 0, nil
	}
	return strconv.ParseInt(s, 8, 64)
}

// parsePax reads pax extended header records: "<len> <key>=<value>\n".
func parsePax(data []byte) (map[string]string, error) {
	out := map[string]string{}
	for len(data) > 0 {
		sp := bytes.IndexByte(data, ' ')
		if sp <= 0 {
			return nil, fmt.Errorf("malformed record")
		}
		n, err := strconv.Atoi(string(data[:sp]))
		if err != nil || n <= sp+1 || n > len(data) || data[n-1] != '\n' {
			return nil, fmt.Errorf("malformed record length")
		}
		kv := string(data[sp+1 : n-1])
		eq := strings.IndexByte(kv, '=')
		if eq <= 0 {
			return nil, fmt.Errorf("malformed record %q", kv)
		}
		out[kv[:eq]] = kv[eq+1:]
		data = data[n:]
	}
	return out, nil
}

// applyPax lets a pax header override the ustar fields §8 checks. Sparse
// members (GNU.sparse.*) are not allowed (§8).
func applyPax(m *tarMember, size *int64, pax map[string]string) error {
	for k, v := range pax {
		switch {
		case strings.HasPrefix(k, "GNU.sparse."):
			return fmt.Errorf("sparse members are not allowed (§8)")
		case k == "path":
			m.name = v
		case k == "uname":
			m.uname = v
		case k == "gname":
			m.gname = v
		case k == "size":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return fmt.Errorf("bad pax size %q", v)
			}
			*size = n
		}
	}
	return nil
}
