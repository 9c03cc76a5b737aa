// Command cairn records the creative process behind a work, step by step, in a
// signed, append-only ledger, and exports evidence packs that prove it.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/export"
	"github.com/cairn-ledger/cairn/internal/userfile"
	"github.com/cairn-ledger/cairn/ledger"
)

// Exit codes.
const (
	exitOK       = 0
	exitVerify   = 1 // verification found a problem
	exitUsage    = 2 // a usage or input error; nothing was written
	exitFailure  = 3 // anything else: the disk, a lock held too long, a bug
	exitInternal = 3
)

// version is set by the build (-ldflags "-X main.version=...").
var version = "dev"

func main() {
	os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr))
}

// exitError carries an exit code with its message.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return &exitError{exitUsage, fmt.Errorf(format, args...)}
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			// No stack trace for the user; the panic's message is for the report.
			// Every step reported as recorded was durable before it was reported.
			fmt.Fprintf(stderr, "cairn: internal error: %v\nThis is a bug; please report it. Steps this command reported as recorded are in the ledger; check it with: cairn verify\n", r)
			code = exitInternal
		}
	}()
	app := newApp(stdin, stdout, stderr)
	if name := commandName(app, args); name != "" && name != "help" && name != "h" && app.Command(name) == nil {
		fmt.Fprintf(stderr, "cairn: unknown command %q%s; the commands are listed by: cairn help\n", name, suggest(app, name))
		return exitUsage
	}
	err := app.Run(reorderArgs(app, args))
	if err == nil {
		return exitOK
	}
	code = exitCode(err)
	msg := err.Error()
	if code == exitUsage && strings.HasPrefix(msg, "flag provided but not defined") {
		msg += " (see cairn help)"
	}
	fmt.Fprintf(stderr, "cairn: %s\n", msg)
	return code
}

func exitCode(err error) int {
	var ee *exitError
	var ve *ledger.VerifyError
	switch {
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ve), errors.Is(err, export.ErrVerify):
		return exitVerify
	case evidence.IsInputError(err), errors.As(err, new(*userfile.Error)), errors.Is(err, evidence.ErrNoBook), errors.Is(err, evidence.ErrNoIdentity),
		errors.Is(err, evidence.ErrBadPassphrase), errors.Is(err, evidence.ErrKeyExists):
		return exitUsage
	case strings.HasPrefix(err.Error(), "flag provided but not defined"),
		strings.HasPrefix(err.Error(), "invalid value"),
		strings.HasPrefix(err.Error(), "Required flag"),
		strings.HasPrefix(err.Error(), "flag needs an argument"):
		return exitUsage
	}
	return exitFailure
}

func newApp(stdin io.Reader, stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:    "cairn",
		Usage:   "keep signed, verifiable evidence of how a work was made",
		Version: version,
		Description: `cairn records each step of making a work: the prompts you write, what an AI
generated, which candidate you chose and why, your edits and sketches, and the
third-party material you used. Steps go into a local, append-only, hash-chained
ledger, each signed with your key. Later, legal staff export a signed PDF
evidence pack for one asset, and anyone can verify it.

Start:
  cairn init --name "Ada Lovelace" --email ada@example.com
  cairn asset new poster --title "Festival poster" --owner "Studio X" --basis commission
  cairn use poster
  cairn prompt "a fox in the snow, woodcut style" --tool midjourney
  cairn generate --tool midjourney --out a.png --out b.png --out c.png --out d.png
  cairn select c.png --from a.png b.png c.png d.png --why "the fox looks at the viewer"
  cairn edit --before c.png --after c-edit.png --tool photoshop --note "redrew the eyes"
  cairn final c-edit.png
  cairn log
  cairn verify

Flags may come before or after arguments. Exit status: 0 success, 1 verification
found a problem, 2 usage or input error (nothing was written), 3 other failure.`,
		Reader:               stdin,
		Writer:               stdout,
		ErrWriter:            stderr,
		EnableBashCompletion: true,
		Flags:                []cli.Flag{dirFlag()},
		ExitErrHandler:       func(*cli.Context, error) {}, // run() prints and exits
		Commands: []*cli.Command{
			cmdInit(), cmdID(), cmdAsset(), cmdUse(),
			cmdPrompt(), cmdGenerate(), cmdSelect(), cmdEdit(), cmdSketch(), cmdInput(),
			cmdNote(), cmdDisclose(), cmdFinal(), cmdRetract(), cmdBatch(), cmdImport(), cmdImportChat(), cmdWatch(),
			cmdLog(), cmdShow(), cmdVerify(), cmdCheckpoint(), cmdTimestamp(), cmdConfig(), cmdWitness(), cmdPublish(),
			cmdExport(), cmdVerifyPack(), cmdStudio(),
			cmdLabel(), cmdArchive(), cmdRestore(), cmdMatch(),
		},
	}
	return app
}

func dirFlag() cli.Flag {
	return &cli.StringFlag{Name: "dir", Usage: "the cairn directory (default: .cairn here or in a parent)", EnvVars: []string{"CAIRN_DIR"}}
}

// reorderArgs moves flags that follow positional arguments in front of them. The
// flag package behind urfave/cli stops at the first positional argument, so
// `cairn select c.png --from a.png` would otherwise record "--from" as a file name.
// Everything after "--" stays positional.
func reorderArgs(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	out := []string{args[0]}
	rest := args[1:]
	flags := app.Flags
	var cmds = app.Commands
	// Global flags, then the command path.
	for len(rest) > 0 {
		a := rest[0]
		if strings.HasPrefix(a, "-") && a != "-" {
			if a == "--" {
				break
			}
			n := flagArity(flags, a)
			out = append(out, rest[:min(n, len(rest))]...)
			rest = rest[min(n, len(rest)):]
			continue
		}
		var found *cli.Command
		for _, c := range cmds {
			if c.HasName(a) {
				found = c
			}
		}
		if found == nil {
			break
		}
		out = append(out, a)
		rest = rest[1:]
		flags, cmds = found.Flags, found.Subcommands
		if len(cmds) == 0 {
			break
		}
	}
	var fl, pos []string
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		switch {
		case a == "--":
			pos = append(pos, rest[i+1:]...)
			i = len(rest)
		case strings.HasPrefix(a, "-") && a != "-":
			n := flagArity(flags, a)
			fl = append(fl, rest[i:min(i+n, len(rest))]...)
			i += n - 1
		default:
			pos = append(pos, a)
		}
	}
	out = append(out, fl...)
	if len(pos) > 0 {
		out = append(out, "--")
		out = append(out, pos...)
	}
	return out
}

// commandName returns the first argument that is not a global flag or its value.
func commandName(app *cli.App, args []string) string {
	for i := 1; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return ""
		}
		if strings.HasPrefix(a, "-") {
			i += flagArity(app.Flags, a) - 1
			continue
		}
		return a
	}
	return ""
}

// suggest names a command close to a mistyped one.
func suggest(app *cli.App, name string) string {
	best, bestD := "", 3
	for _, c := range app.Commands {
		if d := editDistance(name, c.Name); d < bestD {
			best, bestD = c.Name, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// flagArity returns how many arguments the flag token a consumes: 1 for a boolean
// flag or --name=value, 2 for a flag that takes a separate value.
func flagArity(flags []cli.Flag, a string) int {
	name := strings.TrimLeft(a, "-")
	if strings.Contains(name, "=") {
		return 1
	}
	if name == "help" || name == "h" {
		return 1
	}
	for _, f := range flags {
		for _, n := range f.Names() {
			if n != name {
				continue
			}
			if _, ok := f.(*cli.BoolFlag); ok {
				return 1
			}
			return 2
		}
	}
	return 1
}
