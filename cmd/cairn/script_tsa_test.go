package main

import (
	"os"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/cairn-ledger/cairn/internal/testtsa"
)

// tsaStart runs a time-stamping authority inside the test process, on loopback:
// tsa-start PREFIX writes PREFIX-root.pem and sets $TSA_URL.
func tsaStart(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: tsa-start PREFIX")
	}
	tsa, err := testtsa.Start("cairn test TSA")
	ts.Check(err)
	ts.Defer(tsa.Close)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]+"-root.pem"), tsa.RootPEM, 0o644))
	ts.Setenv("TSA_URL", tsa.URL)
}
