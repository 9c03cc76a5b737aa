package msg

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestCatalogues checks every language against English: every sentence is
// there (unless optional), every name table has the same values, and every
// sentence takes the same arguments with the same verbs, so that no language
// can print "%!s(MISSING)" or drop a count.
func TestCatalogues(t *testing.T) {
	for _, c := range Catalogues[1:] {
		compare(t, c.Code, "", reflect.ValueOf(*English), reflect.ValueOf(*c), "")
	}
}

func compare(t *testing.T, lang, path string, en, other reflect.Value, tag reflect.StructTag) {
	t.Helper()
	switch en.Type() {
	case reflect.TypeOf(S("")):
		e, o := S(en.String()), S(other.String())
		if o == "" && tag.Get("msg") != "optional" {
			t.Errorf("%s: %s is empty", lang, path)
			return
		}
		if o != "" && e != "" && !reflect.DeepEqual(verbs(string(e)), verbs(string(o))) {
			t.Errorf("%s: %s takes %v, English %v\n  %q\n  %q", lang, path, verbs(string(o)), verbs(string(e)), o, e)
		}
		return
	}
	switch en.Kind() {
	case reflect.Struct:
		for i := range en.NumField() {
			f := en.Type().Field(i)
			compare(t, lang, path+"."+f.Name, en.Field(i), other.Field(i), f.Tag)
		}
	case reflect.Map:
		if en.Len() != other.Len() {
			t.Errorf("%s: %s has %d entries, English %d", lang, path, other.Len(), en.Len())
		}
		for _, k := range en.MapKeys() {
			o := other.MapIndex(k)
			if !o.IsValid() {
				t.Errorf("%s: %s has no %q", lang, path, k)
				continue
			}
			compare(t, lang, path+"["+k.String()+"]", en.MapIndex(k), o, "")
		}
	case reflect.Slice:
		if en.Len() != other.Len() {
			t.Errorf("%s: %s has %d items, English %d", lang, path, other.Len(), en.Len())
			return
		}
		for i := range en.Len() {
			compare(t, lang, path+"["+strconv.Itoa(i)+"]", en.Index(i), other.Index(i), "")
		}
	case reflect.Float64:
		if other.Float() <= 0 {
			t.Errorf("%s: %s is not set", lang, path)
		}
	case reflect.String:
		if other.String() == "" && path != ".Zone" {
			t.Errorf("%s: %s is empty", lang, path)
		}
	}
}

// verbs maps each argument a format uses (from 1) to its verb, as fmt reads
// a format: flags, an explicit [n], width, precision, the verb.
func verbs(format string) map[int]byte {
	out := map[int]byte{}
	arg := 1
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		i++
		for i < len(format) && strings.IndexByte("+-# 0", format[i]) >= 0 {
			i++
		}
		index := func() {
			if i < len(format) && format[i] == '[' {
				end := strings.IndexByte(format[i:], ']')
				n, _ := strconv.Atoi(format[i+1 : i+end])
				arg = n
				i += end + 1
			}
		}
		index()
		for i < len(format) && (format[i] >= '0' && format[i] <= '9' || format[i] == '.') {
			i++
		}
		index()
		if i >= len(format) {
			break
		}
		if format[i] == '%' {
			continue
		}
		out[arg] = format[i]
		arg++
	}
	return out
}

func TestVerbs(t *testing.T) {
	for _, tc := range []struct {
		f    string
		want map[int]byte
	}{
		{"%d of %s", map[int]byte{1: 'd', 2: 's'}},
		{"%[2]s then %[1]d", map[int]byte{1: 'd', 2: 's'}},
		{"100%% %.1f", map[int]byte{1: 'f'}},
		{"none", map[int]byte{}},
	} {
		if got := verbs(tc.f); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("verbs(%q) = %v, want %v", tc.f, got, tc.want)
		}
	}
}

func TestTime(t *testing.T) {
	ams, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Fatal(err)
	}
	winter := time.Date(2026, 3, 14, 13, 4, 5, 0, time.UTC)
	summer := time.Date(2026, 7, 1, 22, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		c    *Catalogue
		t    time.Time
		loc  *time.Location
		want string
	}{
		{English, winter, nil, "2026-03-14 13:04:05 UTC"},
		{English, winter, ams, "2026-03-14 14:04:05 CET (13:04:05 UTC)"},
		{Dutch, winter, ams, "14-03-2026 14:04:05 CET (13:04:05 UTC)"},
		{Dutch, summer, ams, "02-07-2026 00:30:00 CEST (01-07-2026 22:30:00 UTC)"},
		{Dutch, summer, nil, "01-07-2026 22:30:00 UTC"},
	} {
		if got := tc.c.Time(tc.t, tc.loc); got != tc.want {
			t.Errorf("%s: Time(%v) = %q, want %q", tc.c.Code, tc.t, got, tc.want)
		}
	}
	if got := Dutch.Date("2026-03-01"); got != "01-03-2026" {
		t.Errorf("Dutch.Date = %q", got)
	}
	if got := Dutch.Dec(1.25); got != "1,2" && got != "1,3" {
		t.Errorf("Dutch.Dec = %q", got)
	}
	if got := Dutch.List("a", "", "b", "c"); got != "a, b en c" {
		t.Errorf("Dutch.List = %q", got)
	}
}

func TestPlural(t *testing.T) {
	if got := English.Pack.Steps.N(1); got != "1 step" {
		t.Error(got)
	}
	if got := Dutch.Pack.Steps.N(2); got != "2 stappen" {
		t.Error(got)
	}
	if got := Dutch.Pack.LaterRecords.N(1); got != "De laatste vastlegging valt" {
		t.Error(got)
	}
}
