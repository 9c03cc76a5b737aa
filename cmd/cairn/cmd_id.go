package main

import (
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/ledger"
)

func cmdID() *cli.Command {
	return &cli.Command{
		Name:  "id",
		Usage: "show your identity: name, key fingerprint, key file",
		Description: `id prints the public half of your identity. The private keys are never printed.

With --vkey it prints the signed-note verifier key of this ledger's checkpoints
(name+hash+key), which an auditor uses to check a checkpoint with any C2SP
signed-note implementation, for example golang.org/x/mod/sumdb/note, and which
a verifier pins with cairn verify --key. With --vkey --all it prints the
verifier key of every key this ledger's records introduced, retired ones
included (an old checkpoint may be signed by one), one per line, each followed
by a tab and who holds it.`,
		Flags: []cli.Flag{
			dirFlag(),
			&cli.BoolFlag{Name: "vkey", Usage: "print the verifier key for this ledger's checkpoints"},
			&cli.BoolFlag{Name: "all", Usage: "with --vkey: every key of the ledger, retired ones included"},
			jsonFlag("print as JSON"),
		},
		Subcommands: []*cli.Command{cmdIDNew(), cmdRotate()},
		Action: func(c *cli.Context) error {
			path, err := keyPath()
			if err != nil {
				return err
			}
			name, email, pub, cert, encrypted, err := evidence.PublicIdentity(path)
			if err != nil {
				return err
			}
			if c.Bool("vkey") {
				return printVKeys(c, pub)
			}
			certSum := sha256.Sum256(cert.Raw)
			if c.Bool("json") {
				return printJSON(c.App.Writer, map[string]any{
					"name": name, "email": email, "key": ledger.KeyID(pub), "public_key": fmt.Sprintf("%x", []byte(pub)),
					"key_file": path, "encrypted": encrypted, "pdf_cert_sha256": fmt.Sprintf("%x", certSum),
					"pdf_cert_expires": cert.NotAfter,
				})
			}
			w := c.App.Writer
			fmt.Fprintf(w, "name         %s\n", name)
			if email != "" {
				fmt.Fprintf(w, "email        %s\n", email)
			}
			fmt.Fprintf(w, "key          %s (Ed25519, signs ledger records)\n", ledger.KeyID(pub))
			fmt.Fprintf(w, "public key   %x\n", []byte(pub))
			fmt.Fprintf(w, "pdf cert     sha256 %x (ECDSA P-256, signs evidence packs, valid until %s)\n", certSum[:8], cert.NotAfter.Format("2006-01-02"))
			enc := "no (set one by creating the key with cairn init --encrypt)"
			if encrypted {
				enc = "yes"
			}
			fmt.Fprintf(w, "key file     %s (passphrase: %s)\n", path, enc)
			return nil
		},
	}
}

func cmdRotate() *cli.Command {
	return &cli.Command{
		Name:  "rotate",
		Usage: "replace your keys: the old key signs a record that introduces the new one",
		Description: `rotate makes new keys (same name and e-mail), records in this ledger a key
rotation signed by the old key, and from then on signs with the new key. The old
key file is kept, renamed, so that you can still prove what it signed; the ledger
refuses records it signs after the rotation. Rotate when a key may have leaked or
at your organisation's interval. An encrypted key stays encrypted with the same
passphrase.`,
		Flags: []cli.Flag{dirFlag()},
		Action: func(c *cli.Context) error {
			path, err := keyPath()
			if err != nil {
				return err
			}
			// This also finishes a rotation an earlier run recorded but did
			// not put in place, so that the key rotated now is the newest.
			old, b, err := openSigning(c)
			if err != nil {
				return err
			}
			defer b.Close()
			var pass []byte
			if old.Encrypted {
				if pass, err = passphrase(c, path)(); err != nil {
					return err
				}
			}
			fresh, err := evidence.NewIdentity(old.Name, old.Email, time.Now())
			if err != nil {
				return err
			}
			// The order keeps the user from ever being locked out (see
			// evidence/rotate.go): the new key is durable before the record
			// retires the old one, and the old one stays until the new one
			// is in place.
			pending, err := fresh.SavePending(path, pass)
			if err != nil {
				return fmt.Errorf("%w; nothing was recorded and your key is unchanged", err)
			}
			step := fresh.Step()
			step.Kind = evidence.KindRotate
			recs, err := b.Record(old, []*evidence.Step{step})
			if err != nil {
				// Even a failed commit may have reached the disk, so the
				// pending key stays: the next command finishes the rotation
				// if the ledger has it.
				return fmt.Errorf("recording the rotation: %w (your key is unchanged; the new key waits in %s)", err, pending)
			}
			seq := recs[len(recs)-1].Seq
			retired, err := evidence.InstallRotated(path, old.Public(), fresh.Public())
			if err != nil {
				return fmt.Errorf("the rotation is recorded (#%d) and the new key is saved in %s, but %w; the next cairn command in this ledger puts it in place", seq, pending, err)
			}
			fmt.Fprintf(c.App.Writer, "rotated: new key %s, introduced by record #%d, signed by the old key %s\nold key retired and kept in %s\n",
				fresh.Fingerprint(), seq, old.Fingerprint(), retired)
			return nil
		},
	}
}

// printVKeys is cairn id --vkey [--all].
func printVKeys(c *cli.Context, pub ed25519.PublicKey) error {
	b, err := openBook(c)
	if err != nil {
		return err
	}
	defer b.Close()
	origin := b.Ledger.Origin()
	if !c.Bool("all") {
		fmt.Fprintln(c.App.Writer, ledger.VerifierKey(origin, pub))
		return nil
	}
	rb, err := b.Rules()
	if err != nil {
		return err
	}
	var list []map[string]any
	for _, k := range rb.Keys() {
		m := keyJSON(k)
		m["vkey"] = ledger.VerifierKey(origin, k.Key)
		list = append(list, m)
		if !c.Bool("json") {
			fmt.Fprintf(c.App.Writer, "%s\t%s\n", m["vkey"], keyLine(k))
		}
	}
	if c.Bool("json") {
		return printJSON(c.App.Writer, list)
	}
	return nil
}

func cmdIDNew() *cli.Command {
	return &cli.Command{
		Name:  "new",
		Usage: "make your identity key without a ledger (for legal staff, auditors, witnesses)",
		Description: `new makes your identity key, as cairn init does, but creates no ledger: for
someone who exports or checks other people's ledgers and archives, and records
nothing of their own. A pack you export from a designer's ledger or archive is
signed with this key and names you as its exporter (custodian), never as an
author; nothing is written to the ledger.

The key is saved in $XDG_CONFIG_HOME/cairn/identity.json (or
~/.config/cairn/identity.json, or $CAIRN_KEY) with mode 0600; --encrypt
protects it with a passphrase.

Examples:
  cairn id new --name "Mr. J. de Vries" --email jdv@law.example --encrypt
  cairn --dir /shared/mira/.cairn export poster -o poster.pdf
  cairn export poster --archive mira-ledger.tar -o poster.pdf`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "name", Usage: "your name as it should appear on packs you sign (required)"},
			&cli.StringFlag{Name: "email", Usage: "your e-mail address"},
			&cli.BoolFlag{Name: "encrypt", Usage: "protect the key with a passphrase"},
			jsonFlag("print the result as JSON"),
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErrorf("id new takes no arguments (got %q); give your name with --name", c.Args().First())
			}
			path, err := keyPath()
			if err != nil {
				return err
			}
			if _, err := os.Stat(path); err == nil {
				return usageErrorf("you already have an identity key at %s; nothing was changed (cairn id shows it)", path)
			}
			id, err := createIdentity(c, path)
			if err != nil {
				return err
			}
			if c.Bool("json") {
				return printJSON(c.App.Writer, map[string]any{"name": id.Name, "email": id.Email, "key": id.Fingerprint(), "key_file": path})
			}
			fmt.Fprintf(c.App.Writer, "New identity %s, key %s, saved to %s (mode 0600). Back it up: it is the only way to sign as you.\n", id.Name, id.Fingerprint(), path)
			return nil
		},
	}
}
