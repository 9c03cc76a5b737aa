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
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
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
		// waitlog DIR N: wait (up to 20s) until the studio log in DIR has
		// published a checkpoint of at least N entries.
		"waitlog": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) != 2 {
				ts.Fatalf("usage: waitlog DIR N")
			}
			want, err := strconv.ParseInt(args[1], 10, 64)
			ts.Check(err)
			deadline := time.Now().Add(20 * time.Second)
			for {
				data, _ := os.ReadFile(ts.MkAbs(filepath.Join(args[0], "checkpoint")))
				if lines := strings.Split(string(data), "\n"); len(lines) > 1 {
					if n, err := strconv.ParseInt(lines[1], 10, 64); err == nil && n >= want {
						return
					}
				}
				if time.Now().After(deadline) {
					ts.Fatalf("the studio log in %s has no checkpoint of %d entries after 20s", args[0], want)
				}
				time.Sleep(20 * time.Millisecond)
			}
		},
		// waitfile FILE VAR: wait (up to 20s) for FILE, written by a command in
		// the background, and set $VAR to its first line.
		"waitfile": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) != 2 {
				ts.Fatalf("usage: waitfile FILE VAR")
			}
			deadline := time.Now().Add(20 * time.Second)
			for {
				data, err := os.ReadFile(ts.MkAbs(args[0]))
				if err == nil && len(data) > 0 {
					ts.Setenv(args[1], strings.TrimSpace(strings.SplitN(string(data), "\n", 2)[0]))
					return
				}
				if time.Now().After(deadline) {
					ts.Fatalf("%s did not appear within 20s", args[0])
				}
				time.Sleep(20 * time.Millisecond)
			}
		},
		// sleep DURATION: wait, for commands running in the background.
		"sleep": func(ts *testscript.TestScript, neg bool, args []string) {
			d, err := time.ParseDuration(args[0])
			ts.Check(err)
			time.Sleep(d)
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
