package capture

import (
	"encoding/binary"
	"encoding/hex"
	"math/big"
	"reflect"
	"strings"
	"testing"
)

// Examples from RFC 8949 Appendix A.
func TestCBORDecode(t *testing.T) {
	huge, _ := new(big.Int).SetString("-18446744073709551616", 10)
	tests := []struct {
		hex  string
		want any
	}{
		{"1903e8", uint64(1000)},
		{"3903e7", int64(-1000)},
		{"3bffffffffffffffff", huge},
		{"f93c00", 1.0},
		{"f97bff", 65504.0},
		{"fa47c35000", 100000.0},
		{"fb3ff199999999999a", 1.1},
		{"f4", false},
		{"f5", true},
		{"f6", nil},
		{"4401020304", []byte{1, 2, 3, 4}},
		{"5f42010243030405ff", []byte{1, 2, 3, 4, 5}},
		{"6449455446", "IETF"},
		{"7f657374726561646d696e67ff", "streaming"},
		{"c074323031332d30332d32315432303a30343a30305a", "2013-03-21T20:04:00Z"},
		{"83010203", []any{uint64(1), uint64(2), uint64(3)}},
		{"9f018202039f0405ffff", []any{uint64(1), []any{uint64(2), uint64(3)}, []any{uint64(4), uint64(5)}}},
		{"a26161016162820203", map[string]any{"a": uint64(1), "b": []any{uint64(2), uint64(3)}}},
		{"bf61610161629f0203ffff", map[string]any{"a": uint64(1), "b": []any{uint64(2), uint64(3)}}},
		{"a201020304", map[string]any{"1": uint64(2), "3": uint64(4)}},
	}
	for _, tt := range tests {
		b, _ := hex.DecodeString(tt.hex)
		got, err := decodeCBOR(b)
		if err != nil {
			t.Errorf("%s: %v", tt.hex, err)
			continue
		}
		if g, ok := got.(*big.Int); ok {
			if g.Cmp(tt.want.(*big.Int)) != 0 {
				t.Errorf("%s = %v, want %v", tt.hex, g, tt.want)
			}
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s = %#v, want %#v", tt.hex, got, tt.want)
		}
	}
}

func TestCBORRejects(t *testing.T) {
	tests := map[string]string{
		"9bffffffffffffffff00":   "array of 18446744073709551615 items",
		"5a7fffffff":             "string of 2147483647 bytes",
		"ff":                     "unexpected break",
		"1c":                     "reserved additional information 28",
		"19":                     "argument is truncated",
		"5f4101a0ff":             "chunk of major type 5",
		strings.Repeat("81", 70): "nest more than 64",
	}
	for in, want := range tests {
		b, _ := hex.DecodeString(in)
		if _, err := decodeCBOR(b); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want it to mention %q", in, err, want)
		}
	}
}

func TestReassembleJUMBF(t *testing.T) {
	box := binary.BigEndian.AppendUint32(nil, 30)
	box = append(box, "jumb0123456789abcdefghijkl"...)
	hdr := box[:8]
	packet := func(seq uint32, content []byte) jumbfPacket {
		p := content
		if seq != 1 {
			p = append(append([]byte{}, hdr...), content...)
		}
		return jumbfPacket{instance: 7, seq: seq, payload: p}
	}
	p1, p2, p3 := packet(1, box[:16]), packet(2, box[16:24]), packet(3, box[24:])
	m := &metadata{}
	m.addJUMBF([]jumbfPacket{p3, p1, p2}) // out of order, as a writer may emit them
	if len(m.sources) != 1 || m.sources[0].Length != 30 || len(m.warnings) != 0 {
		t.Fatalf("sources %+v, warnings %q", m.sources, m.warnings)
	}
	got, err := reassembleJUMBF([]jumbfPacket{p1, p2, p3})
	if err != nil || string(got) != string(box) {
		t.Errorf("reassembled %q, %v; want %q", got, err, box)
	}
	if _, err := reassembleJUMBF([]jumbfPacket{p1, p3}); err == nil || !strings.Contains(err.Error(), "sequence jumps from 1 to 3") {
		t.Errorf("missing packet: err = %v", err)
	}
	if _, err := reassembleJUMBF([]jumbfPacket{p1, p2}); err == nil || !strings.Contains(err.Error(), "want 30 bytes, packets hold 24") {
		t.Errorf("missing last packet: err = %v", err)
	}
}
