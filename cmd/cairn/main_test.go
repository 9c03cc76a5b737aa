package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"cairn": func() { os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr)) },
	})
}

// TestScript runs the CLI scenarios in testdata/*.txtar, each in a fresh directory
// with its own identity key, the way a user runs cairn.
func TestScript(t *testing.T) {
	shared, _ := filepath.Abs("../../../shared")
	testscript.Run(t, testscript.Params{
		Dir: "testdata",
		Setup: func(e *testscript.Env) error {
			e.Setenv("XDG_CONFIG_HOME", filepath.Join(e.WorkDir, ".config"))
			e.Setenv("HOME", e.WorkDir)
			e.Setenv("SHARED", shared)
			e.Setenv("CAIRN_PASSPHRASE", "")
			os.Unsetenv("CAIRN_PASSPHRASE")
			return nil
		},
		Cmds:                scriptCmds(),
		RequireExplicitExec: true,
	})
}
