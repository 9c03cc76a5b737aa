package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
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
	"golang.org/x/sys/unix"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/evidence/percept"
	"github.com/cairn-ledger/cairn/internal/imgtest"
	"github.com/cairn-ledger/cairn/internal/msg"
	"github.com/cairn-ledger/cairn/internal/msg/msgtest"
	"github.com/cairn-ledger/cairn/internal/testtsa"
	"github.com/cairn-ledger/cairn/ledger"
)

// scriptCmds are testscript commands for things a shell user would do with other tools.
func scriptCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		// mkpng FILE W H R G B: write a solid-colour PNG.
		"mkpng": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) != 6 {
				ts.Fatalf("usage: mkpng FILE W H R G B")
			}
			ts.Check(os.WriteFile(ts.MkAbs(args[0]), pngOf(ts, args[1:6]), 0o644))
		},
		// mkpngtext FILE W H R G B KEY=VALUE...: a solid-colour PNG with a tEXt
		// chunk per KEY=VALUE after IHDR, as generators write their metadata
		// (for Midjourney's layout, whose files no public sample keeps). \n in
		// a VALUE is a newline.
		"mkpngtext": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) < 6 {
				ts.Fatalf("usage: mkpngtext FILE W H R G B KEY=VALUE...")
			}
			var texts [][2]string
			for _, kv := range args[6:] {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					ts.Fatalf("mkpngtext: %q is not KEY=VALUE", kv)
				}
				texts = append(texts, [2]string{k, strings.ReplaceAll(v, `\n`, "\n")})
			}
			out := withText(pngOf(ts, args[1:6]), texts)
			ts.Check(os.WriteFile(ts.MkAbs(args[0]), out, 0o644))
		},
		// mkline FILE N: write a batch line whose note is N times "é", each
		// spelled \u00e9 (6 bytes of JSON for 2 of text).
		"mkline": func(ts *testscript.TestScript, neg bool, args []string) {
			n, err := strconv.Atoi(args[1])
			ts.Check(err)
			line := `{"kind":"note","asset":"poster","text":"` + strings.Repeat(`\u00e9`, n) + "\"}\n"
			ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(line), 0o644))
		},
		// age FILE...: set the files' times to an hour ago, as a leftover of
		// a process killed long before would have.
		"age": func(ts *testscript.TestScript, neg bool, args []string) {
			old := time.Now().Add(-time.Hour)
			for _, a := range args {
				ts.Check(os.Chtimes(ts.MkAbs(a), old, old))
			}
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
		// pdftext PDF OUT: the text of the PDF's pages (poppler's pdftotext -layout, which
		// knows nothing of cairn), with every run of white space made one space,
		// so that a phrase the page wraps is found by grep. Scripts guard it
		// with [exec:pdftotext].
		"pdftext": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) != 2 {
				ts.Fatalf("usage: pdftext PDF OUT")
			}
			out, err := exec.Command("pdftotext", "-layout", "-enc", "UTF-8", ts.MkAbs(args[0]), "-").Output()
			ts.Check(err)
			ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(strings.Join(strings.Fields(string(out)), " ")+"\n"), 0o644))
		},
		// noenglish TEXT [TYPED]: TEXT (a pdftext output, or a label) has no
		// English in it: no sentence of the English catalogue, no English
		// function word (internal/msg/msgtest). TYPED lists, one a line, the
		// texts people typed, which are shown as typed. With !, English must be
		// found.
		"noenglish": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) < 1 || len(args) > 2 {
				ts.Fatalf("usage: noenglish TEXT [TYPED]")
			}
			var typed []string
			if len(args) == 2 {
				typed = strings.Split(strings.TrimSpace(ts.ReadFile(args[1])), "\n")
			}
			left := msgtest.EnglishLeft(ts.ReadFile(args[0]), msg.Dutch, typed...)
			switch {
			case neg && len(left) == 0:
				ts.Fatalf("%s: no English found", args[0])
			case !neg && len(left) > 0:
				ts.Fatalf("%s has English in it: %q", args[0], left)
			}
		},
		"tsa-start": tsaStart,
		"pdf-cms":   pdfCMS,
		// interrupt-rotation KEYFILE: undo the last step of a finished key
		// rotation, leaving what a rotation killed after recording leaves: the
		// old key back at KEYFILE and the new one in its pending file.
		"interrupt-rotation": func(ts *testscript.TestScript, neg bool, args []string) {
			path := ts.MkAbs(args[0])
			retired, err := filepath.Glob(path + ".retired-*")
			ts.Check(err)
			// The last rotation's old key is the one linked last: link
			// changes its inode's ctime.
			last, lastTime := "", int64(0)
			for _, p := range retired {
				var st unix.Stat_t
				ts.Check(unix.Stat(p, &st))
				if t := st.Ctim.Nano(); t > lastTime {
					last, lastTime = p, t
				}
			}
			if last == "" {
				ts.Fatalf("interrupt-rotation: no retired key beside %s", path)
			}
			_, _, pub, _, _, err := evidence.PublicIdentity(path)
			ts.Check(err)
			ts.Check(os.Rename(path, evidence.PendingKeyPath(path, pub)))
			ts.Check(os.Rename(last, path))
		},
		// tmpfs DIR SIZE: mount a tmpfs of SIZE (as mount -o size= takes it) on
		// DIR, unmounted at the end of the script. Guard it with [tmpfs].
		"tmpfs": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) != 2 {
				ts.Fatalf("usage: tmpfs DIR SIZE")
			}
			dir := ts.MkAbs(args[0])
			ts.Check(os.MkdirAll(dir, 0o755))
			ts.Check(mountTmpfs(dir, args[1]))
			ts.Defer(func() { unmount(dir) })
		},
		// fill DIR [LEAVE]: write a file in DIR until its file system has at
		// most LEAVE bytes (default 0) free.
		"fill": func(ts *testscript.TestScript, neg bool, args []string) {
			var leave int64
			if len(args) == 2 {
				n, err := strconv.ParseInt(args[1], 10, 64)
				ts.Check(err)
				leave = n
			}
			ts.Check(fillDisk(ts.MkAbs(args[0]), leave))
		},
		// put-token DIR SIZE REPLY: store the malformed timestamp reply REPLY
		// (testtsa.Replies) for the checkpoint of SIZE records of the ledger in
		// DIR, as a damaged or hostile ledger would hold it.
		"put-token": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) != 3 {
				ts.Fatalf("usage: put-token DIR SIZE REPLY")
			}
			size, err := strconv.ParseInt(args[1], 10, 64)
			ts.Check(err)
			reply := testtsa.Replies[args[2]]
			if reply == nil {
				ts.Fatalf("put-token: unknown reply %q", args[2])
			}
			l, err := ledger.Open(ts.MkAbs(filepath.Join(args[0], "ledger")), nil)
			ts.Check(err)
			defer l.Close()
			ts.Check(l.PutTimestamp(size, reply(nil)))
		},
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

// pngOf makes a PNG of the arguments W H R G B.
func pngOf(ts *testscript.TestScript, args []string) []byte {
	n := make([]int, 5)
	for i := range n {
		v, err := strconv.Atoi(args[i])
		ts.Check(err)
		n[i] = v
	}
	return solidPNG(n[0], n[1], color.RGBA{uint8(n[2]), uint8(n[3]), uint8(n[4]), 255})
}

// solidPNG is a w×h PNG of one colour with a faint stripe, so that two sizes
// of one colour differ.
func solidPNG(w, h int, c color.RGBA) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{c.R, c.G, c.B + uint8(x%7), 255})
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

// withText inserts a tEXt chunk per key and value after a PNG's IHDR, where
// generators write their metadata.
func withText(data []byte, texts [][2]string) []byte {
	const ihdrEnd = 8 + 8 + 13 + 4 // signature, IHDR length and type, data, CRC
	var text bytes.Buffer
	for _, kv := range texts {
		chunk := append([]byte("tEXt"), append([]byte(kv[0]+"\x00"), kv[1]...)...)
		binary.Write(&text, binary.BigEndian, uint32(len(chunk)-4))
		text.Write(chunk)
		binary.Write(&text, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	}
	return append(append(append([]byte{}, data[:ihdrEnd]...), text.Bytes()...), data[ihdrEnd:]...)
}
