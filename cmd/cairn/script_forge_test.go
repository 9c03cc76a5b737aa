package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/internal/testtsa"
	"github.com/cairn-ledger/cairn/ledger"
	"github.com/cairn-ledger/cairn/ledger/rfc3161"
)

// forgeCmds play someone who can write to .cairn and, for sign-raw, holds the
// author's key but not cairn's rules: what such a person can produce, the
// verifiers must refuse.
func forgeCmds() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	return map[string]func(ts *testscript.TestScript, neg bool, args []string){
		// sign-raw FILE: append FILE's bytes as a record payload, signed with
		// the identity key, bypassing every rule cairn applies when recording.
		// \xHH in FILE stands for the byte HH (for invalid UTF-8).
		"sign-raw": func(ts *testscript.TestScript, neg bool, args []string) {
			payload := unescapeHex([]byte(ts.ReadFile(args[0])))
			id := scriptIdentity(ts)
			l, err := ledger.Open(ts.MkAbs(filepath.Join(".cairn", "ledger")), nil)
			ts.Check(err)
			defer l.Close()
			r, err := l.Append(id.Key, bytes.TrimSuffix(payload, []byte("\n")))
			ts.Check(err)
			ts.Logf("appended record %d", r.Seq)
		},
		// replace FILE OLD NEW: edit FILE in place, as sed -i would.
		"replace": func(ts *testscript.TestScript, neg bool, args []string) {
			if len(args) != 3 {
				ts.Fatalf("usage: replace FILE OLD NEW")
			}
			p := ts.MkAbs(args[0])
			data := ts.ReadFile(args[0])
			if !strings.Contains(data, args[1]) {
				ts.Fatalf("%s does not contain %q", args[0], args[1])
			}
			ts.Check(os.WriteFile(p, []byte(strings.ReplaceAll(data, args[1], args[2])), 0o644))
		},
		// forge-token TIME: sign a checkpoint of the ledger and store beside it
		// a token from a TSA whose clock says TIME (RFC 3339), whose root is
		// written to forged-root.pem.
		"forge-token": func(ts *testscript.TestScript, neg bool, args []string) {
			at, err := time.Parse(time.RFC3339, args[0])
			ts.Check(err)
			tsa, err := testtsa.StartAt("forged TSA", func() time.Time { return at })
			ts.Check(err)
			defer tsa.Close()
			ts.Check(os.WriteFile(ts.MkAbs("forged-root.pem"), tsa.RootPEM, 0o644))
			id := scriptIdentity(ts)
			l, err := ledger.Open(ts.MkAbs(filepath.Join(".cairn", "ledger")), nil)
			ts.Check(err)
			defer l.Close()
			cp, err := l.SignCheckpoint(id.Key)
			ts.Check(err)
			tok, err := rfc3161.Fetch(context.Background(), tsa.URL, cp.Note, nil, tsa.Roots())
			ts.Check(err)
			ts.Check(l.PutTimestamp(cp.Size, tok.Response))
		},
	}
}

func scriptIdentity(ts *testscript.TestScript) *evidence.Identity {
	id, err := evidence.LoadIdentity(filepath.Join(ts.Getenv("XDG_CONFIG_HOME"), "cairn", "identity.json"), nil)
	ts.Check(err)
	return id
}

var hexEscape = regexp.MustCompile(`\\x[0-9a-fA-F]{2}`)

func unescapeHex(b []byte) []byte {
	return hexEscape.ReplaceAllFunc(b, func(m []byte) []byte {
		v, _ := strconv.ParseUint(string(m[2:]), 16, 8)
		return []byte{byte(v)}
	})
}
