package formatcheck

import (
	"os"
	"path/filepath"
	"testing"
)

// The fuzz targets only look for panics: every input must get a verdict.
// Seeds are genuine cairn outputs kept in testdata/ (an archive, a bundle
// and its signer's certificate, written by cairn 'dev').

func seed(f *testing.F, name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		f.Skipf("no seed %s: %v", name, err)
	}
	return b
}

func FuzzArchive(f *testing.F) {
	f.Add(seed(f, "genuine.tar"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v := Archive(b)
		if !v.OK && v.Problem == "" {
			t.Fatal("a failure without a problem")
		}
	})
}

func FuzzBundle(f *testing.F) {
	cert := seed(f, "signer.der")
	f.Add(seed(f, "evidence.json"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v := Bundle(b, cert)
		if !v.OK && v.Problem == "" {
			t.Fatal("a failure without a problem")
		}
	})
}

func FuzzStep(f *testing.F) {
	f.Add([]byte(`{"v":1,"kind":"note","asset":"a","by":"human","text":"x"}`))
	f.Add([]byte(`{"v":1,"kind":"select","asset":"a","by":"human","file":{"name":"b","sha256":"` +
		"0000000000000000000000000000000000000000000000000000000000000000" + `","size":1},"from":[],"rejected":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		readStep(b)
	})
}

// TestGenuineSeeds: the kept seeds verify.
func TestGenuineSeeds(t *testing.T) {
	t.Parallel()
	tarb, err1 := os.ReadFile("testdata/genuine.tar")
	ev, err2 := os.ReadFile("testdata/evidence.json")
	cert, err3 := os.ReadFile("testdata/signer.der")
	if err1 != nil || err2 != nil || err3 != nil {
		t.Skip("no testdata")
	}
	wantOK(t, Archive(tarb))
	wantOK(t, Bundle(ev, cert))
}
