package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/cairn-ledger/cairn/evidence/percept"
	"github.com/cairn-ledger/cairn/internal/imgtest"
)

// scriptCmds are testscript commands for things a shell user would do with other tools.
func scriptCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		// mkpng FILE W H R G B: write a solid-colour PNG.
		"mkpng": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) != 6 {
				ts.Fatalf("usage: mkpng FILE W H R G B")
			}
			n := make([]int, 5)
			for i := range n {
				v, err := strconv.Atoi(args[i+1])
				ts.Check(err)
				n[i] = v
			}
			img := image.NewRGBA(image.Rect(0, 0, n[0], n[1]))
			for y := 0; y < n[1]; y++ {
				for x := 0; x < n[0]; x++ {
					img.Set(x, y, color.RGBA{uint8(n[2]), uint8(n[3]), uint8(n[4] + x%7), 255})
				}
			}
			var b bytes.Buffer
			ts.Check(png.Encode(&b, img))
			ts.Check(os.WriteFile(ts.MkAbs(args[0]), b.Bytes(), 0o644))
		},
		// mkbig FILE N: write N bytes of 'a'.
		"mkbig": func(ts *testscript.TestScript, neg bool, args []string) {
			n, err := strconv.Atoi(args[1])
			ts.Check(err)
			ts.Check(os.WriteFile(ts.MkAbs(args[0]), bytes.Repeat([]byte("a"), n), 0o644))
		},
		// perm FILE MODE: the file's permission bits are MODE (octal).
		"perm": func(ts *testscript.TestScript, neg bool, args []string) {
			fi, err := os.Stat(ts.MkAbs(args[0]))
			ts.Check(err)
			want, err := strconv.ParseUint(args[1], 8, 32)
			ts.Check(err)
			if got := fi.Mode().Perm(); (uint64(got) == want) == neg {
				ts.Fatalf("%s has mode %04o, want %04o", args[0], got, want)
			}
		},
		// lines FILE N: FILE has N non-empty lines.
		"lines": func(ts *testscript.TestScript, neg bool, args []string) {
			data := ts.ReadFile(args[0])
			n := 0
			for _, l := range bytes.Split([]byte(data), []byte("\n")) {
				if len(bytes.TrimSpace(l)) > 0 {
					n++
				}
			}
			want, err := strconv.Atoi(args[1])
			ts.Check(err)
			if (n == want) == neg {
				ts.Fatalf("%s has %d lines, want %d", args[0], n, want)
			}
		},
		// flipbyte FILE OFFSET: flip one bit of the byte at OFFSET (negative: from the end).
		"flipbyte": func(ts *testscript.TestScript, neg bool, args []string) {
			p := ts.MkAbs(args[0])
			data, err := os.ReadFile(p)
			ts.Check(err)
			off, err := strconv.Atoi(args[1])
			ts.Check(err)
			if off < 0 {
				off += len(data)
			}
			data[off] ^= 0x01
			os.Chmod(p, 0o644)
			ts.Check(os.WriteFile(p, data, 0o644))
		},
		// flipstored FILE: flip a byte of FILE's stored copy in .cairn/files.
		"flipstored": func(ts *testscript.TestScript, neg bool, args []string) {
			sum := sha256.Sum256([]byte(ts.ReadFile(args[0])))
			h := hex.EncodeToString(sum[:])
			p := ts.MkAbs(filepath.Join(".cairn", "files", h[:2], h))
			data, err := os.ReadFile(p)
			ts.Check(err)
			data[len(data)/2] ^= 0x01
			ts.Check(os.Chmod(p, 0o644))
			ts.Check(os.WriteFile(p, data, 0o644))
		},
		// cpdir SRC DST: copy a directory tree.
		"cpdir": func(ts *testscript.TestScript, neg bool, args []string) {
			src, dst := ts.MkAbs(args[0]), ts.MkAbs(args[1])
			ts.Check(filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				rel, _ := filepath.Rel(src, p)
				if d.IsDir() {
					return os.MkdirAll(filepath.Join(dst, rel), 0o755)
				}
				data, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
			}))
		},
		// status N PROGRAM ARGS...: run PROGRAM and require exit status N; stdout and
		// stderr are kept for the next stdout/stderr checks.
		"status": func(ts *testscript.TestScript, neg bool, args []string) {
			want, err := strconv.Atoi(args[0])
			ts.Check(err)
			err = ts.Exec(args[1], args[2:]...)
			got := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				got = ee.ExitCode()
			} else if err != nil {
				ts.Fatalf("%v", err)
			}
			if got != want {
				ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
			}
		},
		"tsa-start": tsaStart,
		// sleep DURATION: wait, for commands running in the background.
		"sleep": func(ts *testscript.TestScript, neg bool, args []string) {
			d, err := time.ParseDuration(args[0])
			ts.Check(err)
			time.Sleep(d)
		},
		// img NAME DST: copy a real test image (testdata/images, SOURCES.md).
		// img NAME VARIANT DST: write an altered copy of it (imgtest.Variants:
		// half-jpeg70, crop90, bright10, caption).
		"img": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) != 2 && len(args) != 3 {
				ts.Fatalf("usage: img NAME [VARIANT] DST")
			}
			data, err := imgtest.Read(args[0])
			ts.Check(err)
			if len(args) == 3 {
				img, err := imgtest.Decode(data)
				ts.Check(err)
				data, err = imgtest.Make(img, args[1])
				ts.Check(err)
			}
			ts.Check(os.WriteFile(ts.MkAbs(args[len(args)-1]), data, 0o644))
		},
		// hugepng FILE W H: a PNG that claims W×H pixels (and holds almost none).
		"hugepng": func(ts *testscript.TestScript, neg bool, args []string) {
			w, err := strconv.Atoi(args[1])
			ts.Check(err)
			h, err := strconv.Atoi(args[2])
			ts.Check(err)
			ts.Check(os.WriteFile(ts.MkAbs(args[0]), imgtest.HugePNG(uint32(w), uint32(h)), 0o644))
		},
		// fakefp FILE OTHER: make the ledger's fingerprint index say that the
		// stored FILE looks like OTHER (a wrong index, for tests).
		"fakefp": func(ts *testscript.TestScript, neg bool, args []string) {
			sum := sha256.Sum256([]byte(ts.ReadFile(args[0])))
			r := percept.ReadFile(ts.MkAbs(args[1]))
			ts.Check(r.Err)
			ts.Check(percept.AppendRecord(ts.MkAbs(filepath.Join(".cairn", "files", ".fingerprints")), sum, 0, r.FP))
		},
		// truncate FILE N: keep the first N bytes of FILE.
		"truncate": func(ts *testscript.TestScript, neg bool, args []string) {
			n, err := strconv.Atoi(args[1])
			ts.Check(err)
			ts.Check(os.Truncate(ts.MkAbs(args[0]), int64(n)))
		},
		// mkbytes FILE HEX...: write raw bytes, for invalid UTF-8.
		"mkbytes": func(ts *testscript.TestScript, neg bool, args []string) {
			var b []byte
			for _, h := range args[1:] {
				v, err := strconv.ParseUint(h, 16, 8)
				ts.Check(err)
				b = append(b, byte(v))
			}
			ts.Check(os.WriteFile(ts.MkAbs(args[0]), b, 0o644))
		},
	}
}
