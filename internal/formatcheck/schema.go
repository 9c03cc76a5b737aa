package formatcheck

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// Helpers shared by the readers of steps (§5), bundles (§7.3) and archive
// manifests (§8), all of which are "read as strictly as a step payload
// (§5.4 rules 1–4)".

// isEmpty reports whether v is an empty string, array or object: an optional
// field that is present must not be (§5.4 rule 3).
func isEmpty(v *jvalue) bool {
	switch v.kind {
	case jString:
		return v.str == ""
	case jArray:
		return len(v.elems) == 0
	case jObject:
		return len(v.members) == 0
	}
	return false
}

// checkNames checks that obj is an object whose every member is one of
// required or optional (§5.4 rule 2), that every required member is present,
// and that no optional member is empty (§5.4 rule 3). where names the place
// for messages; sec is the section whose table lists the fields.
func checkNames(obj *jvalue, where, sec string, required, optional []string) error {
	if obj.kind != jObject {
		return fmt.Errorf("%s: %s must be an object, not a %s", sec, where, obj.kind)
	}
	for _, m := range obj.members {
		if !contains(required, m.name) && !contains(optional, m.name) {
			return fmt.Errorf("§5.4 rule 2: %s has a member %q that %s does not list there", where, m.name, sec)
		}
	}
	for _, r := range required {
		if obj.get(r) == nil {
			return fmt.Errorf("%s: %s lacks the required member %q", sec, where, r)
		}
	}
	for _, o := range optional {
		if v := obj.get(o); v != nil && isEmpty(v) {
			return fmt.Errorf("§5.4 rule 3: optional %s.%s is empty", where, o)
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// wantString returns v's string, which must not hold U+0000 and be at most
// max bytes of UTF-8 (§5: "No string holds U+0000"; the length limits).
func wantString(v *jvalue, where, sec string, max int) (string, error) {
	if v.kind != jString {
		return "", fmt.Errorf("%s: %s must be a string, not a %s", sec, where, v.kind)
	}
	if strings.IndexByte(v.str, 0) >= 0 {
		return "", fmt.Errorf("%s: %s holds U+0000", sec, where)
	}
	if len(v.str) > max {
		return "", fmt.Errorf("%s: %s is %d bytes, more than %d", sec, where, len(v.str), max)
	}
	return v.str, nil
}

// wantUint returns v as a whole number. The strict reader has already refused
// signs, fractions, exponents and numbers above 2^63 − 1 (§5.4 rule 3); this
// is a second guard.
func wantUint(v *jvalue, where, sec string) (int64, error) {
	if v.kind != jNumber {
		return 0, fmt.Errorf("%s: %s must be a number, not a %s", sec, where, v.kind)
	}
	n, err := strconv.ParseInt(v.str, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %s = %s does not fit a signed 64-bit integer", sec, where, v.str)
	}
	return n, nil
}

func wantArray(v *jvalue, where, sec string) ([]*jvalue, error) {
	if v.kind != jArray {
		return nil, fmt.Errorf("%s: %s must be an array, not a %s", sec, where, v.kind)
	}
	return v.elems, nil
}

// strictBase64 decodes standard base64 with padding (RFC 4648 §4) and refuses
// anything that does not re-encode to the same text: line breaks, spaces,
// missing padding and non-zero pad bits (the Go decoder silently skips \r and
// \n, which FORMAT.md forbids: "with no line breaks or spaces").
func strictBase64(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("not base64 (RFC 4648 §4): %v", err)
	}
	if base64.StdEncoding.EncodeToString(b) != s {
		return nil, fmt.Errorf("not canonical base64 (RFC 4648 §4, with padding, no line breaks or spaces)")
	}
	return b, nil
}

// isLowerHex reports whether s is n lowercase hex digits (FORMAT.md
// Notation: "hex is lowercase").
func isLowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	_, err := hex.DecodeString(s)
	return err == nil
}
