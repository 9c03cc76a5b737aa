package capture

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
)

// This is a small CBOR (RFC 8949) decoder for C2PA assertions. It decodes
// into plain Go values: uint64, int64, *big.Int (negative integers below
// int64), float64, bool, nil, string, []byte, []any and map[string]any
// (non-text keys are formatted with %v). Tags are dropped and their
// content kept. It never allocates more than the input could hold: a
// declared count is checked against the bytes left before any allocation.

const maxCBORDepth = 64

type cborDecoder struct {
	b     []byte
	pos   int
	depth int
}

// errCBORBreak marks the "break" stop code ending an indefinite item.
var errCBORBreak = fmt.Errorf("CBOR break")

// decodeCBOR decodes the first data item of b; bytes after it are ignored.
func decodeCBOR(b []byte) (any, error) {
	d := &cborDecoder{b: b}
	v, err := d.item()
	if err == errCBORBreak {
		return nil, fmt.Errorf("CBOR at byte %d: unexpected break", d.pos-1)
	}
	return v, err
}

func (d *cborDecoder) errorf(format string, args ...any) error {
	return fmt.Errorf("CBOR at byte %d: %s", d.pos, fmt.Sprintf(format, args...))
}

// head reads an item's initial byte and argument. indefinite reports
// additional information 31.
func (d *cborDecoder) head() (major byte, info byte, arg uint64, indefinite bool, err error) {
	if d.pos >= len(d.b) {
		return 0, 0, 0, false, d.errorf("input ends where an item should start")
	}
	ib := d.b[d.pos]
	d.pos++
	major, info = ib>>5, ib&31
	var n int
	switch {
	case info < 24:
		return major, info, uint64(info), false, nil
	case info == 24:
		n = 1
	case info == 25:
		n = 2
	case info == 26:
		n = 4
	case info == 27:
		n = 8
	case info == 31:
		return major, info, 0, true, nil
	default:
		return 0, 0, 0, false, d.errorf("reserved additional information %d", info)
	}
	if len(d.b)-d.pos < n {
		return 0, 0, 0, false, d.errorf("item argument is truncated: want %d bytes, have %d", n, len(d.b)-d.pos)
	}
	p := d.b[d.pos : d.pos+n]
	d.pos += n
	switch n {
	case 1:
		arg = uint64(p[0])
	case 2:
		arg = uint64(binary.BigEndian.Uint16(p))
	case 4:
		arg = uint64(binary.BigEndian.Uint32(p))
	case 8:
		arg = binary.BigEndian.Uint64(p)
	}
	return major, info, arg, false, nil
}

func (d *cborDecoder) item() (any, error) {
	d.depth++
	defer func() { d.depth-- }()
	if d.depth > maxCBORDepth {
		return nil, d.errorf("items nest more than %d deep", maxCBORDepth)
	}
	start := d.pos
	major, info, arg, indefinite, err := d.head()
	if err != nil {
		return nil, err
	}
	if indefinite && (major == 0 || major == 1 || major == 6) {
		return nil, fmt.Errorf("CBOR at byte %d: major type %d cannot be indefinite", start, major)
	}
	switch major {
	case 0:
		return arg, nil
	case 1:
		if arg <= math.MaxInt64 {
			return -1 - int64(arg), nil
		}
		n := new(big.Int).SetUint64(arg)
		return n.Neg(n).Sub(n, big.NewInt(1)), nil
	case 2, 3:
		s, err := d.str(major, arg, indefinite)
		if err != nil {
			return nil, err
		}
		if major == 3 {
			return string(s), nil
		}
		return s, nil
	case 4:
		if indefinite {
			var a []any
			for {
				v, err := d.item()
				if err == errCBORBreak {
					return a, nil
				}
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
		}
		if arg > uint64(len(d.b)-d.pos) {
			return nil, fmt.Errorf("CBOR at byte %d: array of %d items, but only %d bytes follow", start, arg, len(d.b)-d.pos)
		}
		a := make([]any, 0, arg)
		for range arg {
			v, err := d.item()
			if err == errCBORBreak {
				return nil, d.errorf("unexpected break in a definite-length array")
			}
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		return a, nil
	case 5:
		if !indefinite && arg > uint64(len(d.b)-d.pos)/2 {
			return nil, fmt.Errorf("CBOR at byte %d: map of %d pairs, but only %d bytes follow", start, arg, len(d.b)-d.pos)
		}
		m := make(map[string]any)
		for i := uint64(0); indefinite || i < arg; i++ {
			k, err := d.item()
			if err == errCBORBreak && indefinite {
				return m, nil
			}
			if err == errCBORBreak {
				return nil, d.errorf("unexpected break in a definite-length map")
			}
			if err != nil {
				return nil, err
			}
			v, err := d.item()
			if err == errCBORBreak {
				return nil, d.errorf("break where a map value should be")
			}
			if err != nil {
				return nil, err
			}
			ks, ok := k.(string)
			if !ok {
				ks = fmt.Sprintf("%v", k)
			}
			m[ks] = v
		}
		return m, nil
	case 6:
		// The tag number is dropped: C2PA uses tags for dates (0, 1) and
		// the values read here need only the content.
		v, err := d.item()
		if err == errCBORBreak {
			return nil, d.errorf("break where a tag's content should be")
		}
		return v, err
	default: // 7
		switch {
		case indefinite:
			return nil, errCBORBreak
		case info == 20:
			return false, nil
		case info == 21:
			return true, nil
		case info == 22, info == 23:
			return nil, nil
		case info == 25:
			return halfToFloat(uint16(arg)), nil
		case info == 26:
			return float64(math.Float32frombits(uint32(arg))), nil
		case info == 27:
			return math.Float64frombits(arg), nil
		}
		return arg, nil // other simple values, kept as numbers
	}
}

// str reads a byte or text string, definite or made of definite chunks.
func (d *cborDecoder) str(major byte, n uint64, indefinite bool) ([]byte, error) {
	if !indefinite {
		if n > uint64(len(d.b)-d.pos) {
			return nil, d.errorf("string of %d bytes, but only %d bytes follow", n, len(d.b)-d.pos)
		}
		s := d.b[d.pos : d.pos+int(n)]
		d.pos += int(n)
		return s, nil
	}
	var out []byte
	for {
		m, _, arg, ind, err := d.head()
		if err != nil {
			return nil, err
		}
		if m == 7 && ind {
			return out, nil
		}
		if m != major || ind {
			return nil, d.errorf("chunk of major type %d in an indefinite string of type %d", m, major)
		}
		s, err := d.str(major, arg, false)
		if err != nil {
			return nil, err
		}
		out = append(out, s...)
	}
}

func halfToFloat(h uint16) float64 {
	exp := int(h>>10) & 0x1f
	mant := float64(h & 0x3ff)
	var v float64
	switch exp {
	case 0:
		v = math.Ldexp(mant, -24)
	case 31:
		if mant == 0 {
			v = math.Inf(1)
		} else {
			v = math.NaN()
		}
	default:
		v = math.Ldexp(mant+1024, exp-25)
	}
	if h&0x8000 != 0 {
		v = -v
	}
	return v
}
