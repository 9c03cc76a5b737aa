package main

import (
	"os"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/cairn-ledger/cairn/internal/testtsa"
)

// tsaStart runs a time-stamping authority inside the test process, on loopback:
// tsa-start PREFIX [REPLY] writes PREFIX-root.pem and sets $TSA_URL. REPLY names
// a malformed answer it sends instead of each good one (testtsa.Replies:
// ber-panic, garbage, truncated).
func tsaStart(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: tsa-start PREFIX [REPLY]")
	}
	var reply func([]byte) []byte
	if len(args) == 2 {
		if reply = testtsa.Replies[args[1]]; reply == nil {
			ts.Fatalf("tsa-start: unknown reply %q", args[1])
		}
	}
	tsa, err := testtsa.StartReplying("cairn test TSA", reply)
	ts.Check(err)
	ts.Defer(tsa.Close)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]+"-root.pem"), tsa.RootPEM, 0o644))
	ts.Setenv("TSA_URL", tsa.URL)
}
