package main

import (
	"fmt"
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
	cjkFont, _ := filepath.Abs("../../export/testdata/cjk-subset.ttf")
	testscript.Run(t, testscript.Params{
		Dir: "testdata",
		Setup: func(e *testscript.Env) error {
			e.Setenv("XDG_CONFIG_HOME", filepath.Join(e.WorkDir, ".config"))
			e.Setenv("HOME", e.WorkDir)
			e.Setenv("SHARED", shared)
			// A small CJK TrueType font every machine has (export/testdata).
			e.Setenv("CJKFONT", cjkFont)
			e.Setenv("CAIRN_PASSPHRASE", "")
			os.Unsetenv("CAIRN_PASSPHRASE")
			return nil
		},
		Cmds: withForgeCmds(scriptCmds()),
		// [samples]: the shared sample files (real files from real tools) are
		// beside the repository. Scripts that need them skip without them,
		// except in CI, where they must be there.
		// [tmpfs]: full-disk scripts can mount a small tmpfs (Linux, root).
		// Without, they skip (`[!tmpfs] skip REASON`); in CI they must run.
		Condition: func(cond string) (bool, error) {
			if cond == "tmpfs" {
				ok, _, err := tmpfsUsable()
				return ok, err
			}
			if cond != "samples" {
				return false, fmt.Errorf("unknown condition %q", cond)
			}
			if _, err := os.Stat(filepath.Join(shared, "samples")); err != nil {
				if os.Getenv("CI") != "" {
					return false, fmt.Errorf("shared samples: %v", err)
				}
				return false, nil
			}
			return true, nil
		},
		RequireExplicitExec: true,
	})
}

func withForgeCmds(m map[string]func(ts *testscript.TestScript, neg bool, args []string)) map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	for k, v := range forgeCmds() {
		m[k] = v
	}
	return m
}
