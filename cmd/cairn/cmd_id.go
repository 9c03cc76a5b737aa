package main

import (
	"crypto/sha256"
	"fmt"

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
signed-note implementation, for example golang.org/x/mod/sumdb/note.`,
		Flags: []cli.Flag{
			dirFlag(),
			&cli.BoolFlag{Name: "vkey", Usage: "print the verifier key for this ledger's checkpoints"},
			jsonFlag("print as JSON"),
		},
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
				b, err := openBook(c)
				if err != nil {
					return err
				}
				defer b.Close()
				fmt.Fprintln(c.App.Writer, ledger.VerifierKey(b.Ledger.Origin(), pub))
				return nil
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
