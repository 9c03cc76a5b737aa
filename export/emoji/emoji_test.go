package emoji

import (
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int // bytes matched; 0: no emoji
	}{
		{"🦊 fox", len("🦊")},
		{"☕", len("☕")},
		{"✂️ cut", len("✂️")},   // with VS16
		{"✂ cut", len("✂")},     // without
		{"👩‍💻!", len("👩‍💻")},    // a ZWJ sequence
		{"🇳🇱.", len("🇳🇱")},      // a flag
		{"1️⃣ one", len("1️⃣")}, // a keycap
		{"👍🏽 ok", len("👍🏽")},    // a skin tone: drawn as 👍
		{"1 one", 0},            // a digit is not an emoji
		{"abc", 0},
		{"é", 0},
	} {
		g, n := Match(tc.in)
		if n != tc.want || (n > 0) != (g != nil) {
			t.Errorf("Match(%q) = %v, %d; want %d bytes", tc.in, g != nil, n, tc.want)
		}
	}
	if errLoad != nil {
		t.Fatal(errLoad)
	}
	if len(glyphs) < 2000 {
		t.Errorf("only %d emoji", len(glyphs))
	}
}

func TestPath(t *testing.T) {
	g, _ := Match("🦊")
	p := g.Path(100, 200, 10)
	if !strings.HasPrefix(p, "1") && !strings.Contains(p, " m\n") || !strings.HasSuffix(p, "h f\n") || strings.Count(p, " c\n") < 10 {
		t.Errorf("fox path: %.200q", p)
	}
	if g.Advance <= 0 || g.Advance > 2*Grid {
		t.Errorf("advance %d", g.Advance)
	}
}
