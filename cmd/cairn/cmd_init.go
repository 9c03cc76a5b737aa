package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cairn-ledger/cairn/evidence"
)

func cmdInit() *cli.Command {
	return &cli.Command{
		Name:  "init",
		Usage: "create a ledger (.cairn) here, and your identity key if you have none",
		Description: `init creates .cairn in the current directory (or --dir) and records your
identity in it as its first, self-signed record.

Your identity key is created on first use in $XDG_CONFIG_HOME/cairn/identity.json
(or ~/.config/cairn/identity.json, or $CAIRN_KEY) with mode 0600. It holds an
Ed25519 key that signs ledger records and a P-256 key, with a certificate in your
name, that signs PDF evidence packs. With --encrypt it is protected by a
passphrase (asked on the terminal, or taken from CAIRN_PASSPHRASE).

Example:
  cairn init --name "Ada Lovelace" --email ada@example.com`,
		Flags: []cli.Flag{
			dirFlag(),
			&cli.StringFlag{Name: "name", Usage: "your name as it should appear in evidence (needed for a new key)"},
			&cli.StringFlag{Name: "email", Usage: "your e-mail address"},
			&cli.BoolFlag{Name: "encrypt", Usage: "protect a new identity key with a passphrase"},
			jsonFlag("print the result as JSON"),
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErrorf("init takes no arguments (got %q); use --dir to choose where the ledger goes", c.Args().First())
			}
			dir := dirOption(c)
			if dir == "" {
				dir = evidence.DirName
			}
			if _, err := os.Stat(filepath.Join(dir, "ledger")); err == nil {
				return usageErrorf("%s already holds a cairn ledger; nothing was changed", dir)
			}
			path, err := keyPath()
			if err != nil {
				return err
			}
			var id *evidence.Identity
			created := false
			if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
				if id, err = createIdentity(c, path); err != nil {
					return err
				}
				created = true
			} else {
				if id, err = loadIdentity(c); err != nil {
					return err
				}
				if n := c.String("name"); n != "" && n != id.Name {
					return usageErrorf("your identity key (%s) is for %q, not %q; use CAIRN_KEY to choose another key file", path, id.Name, n)
				}
			}
			b, rec, err := evidence.Init(dir, id)
			if err != nil {
				return err
			}
			defer b.Close()
			abs, _ := filepath.Abs(dir)
			if c.Bool("json") {
				return printJSON(c.App.Writer, map[string]any{
					"dir": abs, "origin": b.Ledger.Origin(), "name": id.Name, "email": id.Email,
					"key": id.Fingerprint(), "key_file": path, "key_created": created, "identity_seq": rec.Seq,
				})
			}
			w := c.App.Writer
			fmt.Fprintf(w, "Created ledger %s\n  origin   %s\n", shortPath(abs), b.Ledger.Origin())
			who := id.Name
			if id.Email != "" {
				who += " <" + id.Email + ">"
			}
			fmt.Fprintf(w, "  identity %s, key %s (record #%d)\n", who, id.Fingerprint(), rec.Seq)
			if created {
				fmt.Fprintf(w, "New identity key saved to %s (mode 0600). Back it up: it is the only way to sign as you.\n", path)
			}
			fmt.Fprintf(w, "Next: cairn asset new ID --title \"...\"\n")
			return nil
		},
	}
}

// createIdentity makes new keys for --name and --email and saves them at path,
// encrypted with a passphrase asked twice if --encrypt is given.
func createIdentity(c *cli.Context, path string) (*evidence.Identity, error) {
	id, err := evidence.NewIdentity(c.String("name"), c.String("email"), time.Now())
	if err != nil {
		return nil, err
	}
	var pass []byte
	if c.Bool("encrypt") {
		if pass, err = readPassphrase(c, "New passphrase for "+path+": ", true); err != nil {
			return nil, err
		}
		if len(pass) == 0 {
			return nil, usageErrorf("an empty passphrase does not protect anything; nothing was written")
		}
	}
	if err := id.Save(path, pass); err != nil {
		return nil, err
	}
	return id, nil
}
