package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/cairn-ledger/cairn/internal/userfile"
	"github.com/cairn-ledger/cairn/ledger"
	"github.com/cairn-ledger/cairn/ledger/witness"
)

// The witness keeps its key and state beside the identity key, in the config
// directory, or where CAIRN_WITNESS_KEY and --state say.
func witnessPaths(c *cli.Context) (key, state string, err error) {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", "", errors.New("cannot find a home directory; set CAIRN_WITNESS_KEY")
		}
		dir = filepath.Join(home, ".config")
	}
	key = os.Getenv("CAIRN_WITNESS_KEY")
	if key == "" {
		key = filepath.Join(dir, "cairn", "witness-key.json")
	}
	state = c.String("state")
	if state == "" {
		state = filepath.Join(filepath.Dir(key), "witness-state.json")
	}
	return key, state, nil
}

type witnessKeyFile struct {
	Comment string `json:"comment"`
	Name    string `json:"name"`
	Seed    string `json:"ed25519_seed"`
}

func loadWitness(c *cli.Context) (*witness.Witness, error) {
	keyPath, statePath, err := witnessPaths(c)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(keyPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil, usageErrorf("no witness key at %s; create one with: cairn witness init --name NAME", keyPath)
	}
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, usageErrorf("witness key %s is readable by others (mode %04o); protect it with: chmod 600 %s", keyPath, fi.Mode().Perm(), keyPath)
	}
	data, err := userfile.Read(keyPath, "witness key file", 64<<10)
	if err != nil {
		return nil, err
	}
	var kf witnessKeyFile
	if err := json.Unmarshal(data, &kf); err != nil {
		return nil, fmt.Errorf("witness key %s: %v", keyPath, err)
	}
	seed, err := base64.StdEncoding.DecodeString(kf.Seed)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("witness key %s: invalid key", keyPath)
	}
	cs, err := witness.NewCosigner(kf.Name, ed25519.NewKeyFromSeed(seed))
	if err != nil {
		return nil, err
	}
	return witness.Open(statePath, cs)
}

func cmdWitness() *cli.Command {
	stateFlag := &cli.StringFlag{Name: "state", Usage: "the witness state file (default: beside the witness key)"}
	return &cli.Command{
		Name:  "witness",
		Usage: "cosign a ledger's checkpoints as a second party, refusing rewritten history",
		Description: `A witness (a team lead, legal) keeps a small state: the last checkpoint it
cosigned for each ledger. It cosigns a new checkpoint only if the ledger proves
that it extends that one (an RFC 6962 consistency proof), so a designer cannot
quietly rewrite history the witness has seen. Cosignatures follow C2SP
tlog-cosignature; they are stored with the checkpoint and shown in packs.

  cairn witness init --name legal.studio-x   # once: a witness key; prints its key
  cairn witness trust VKEY                   # trust a ledger (its cairn id --vkey)
  cairn witness cosign --dir /path/.cairn    # cosign that ledger's newest checkpoint

The designer adds the witness key with cairn config witness VKEY, so that cairn
verify checks the cosignatures.`,
		Subcommands: []*cli.Command{
			{
				Name:  "init",
				Usage: "create a witness key",
				Flags: []cli.Flag{&cli.StringFlag{Name: "name", Usage: "the witness's name, such as legal.example.com"}, stateFlag},
				Action: func(c *cli.Context) error {
					name := c.String("name")
					if name == "" || strings.ContainsAny(name, " +\n") {
						return usageErrorf("give the witness a name without spaces or '+': cairn witness init --name legal.example.com")
					}
					keyPath, _, err := witnessPaths(c)
					if err != nil {
						return err
					}
					_, priv, _ := ed25519.GenerateKey(rand.Reader)
					data, _ := json.MarshalIndent(witnessKeyFile{
						Comment: "cairn witness key. Keep it secret (mode 0600).",
						Name:    name, Seed: base64.StdEncoding.EncodeToString(priv.Seed()),
					}, "", "  ")
					if err := os.MkdirAll(filepath.Dir(keyPath), 0o700); err != nil {
						return err
					}
					f, err := os.OpenFile(keyPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
					if errors.Is(err, os.ErrExist) {
						return usageErrorf("a witness key already exists at %s; nothing was changed", keyPath)
					}
					if err != nil {
						return err
					}
					if _, err := f.Write(append(data, '\n')); err != nil {
						f.Close()
						return err
					}
					if err := f.Close(); err != nil {
						return err
					}
					vkey, err := witness.VerifierKey(name, priv.Public().(ed25519.PublicKey))
					if err != nil {
						return err
					}
					fmt.Fprintf(c.App.Writer, "witness key saved to %s (mode 0600)\nverifier key (give it to the designers): %s\n", keyPath, vkey)
					return nil
				},
			},
			{
				Name:  "id",
				Usage: "print the witness's verifier key",
				Flags: []cli.Flag{stateFlag},
				Action: func(c *cli.Context) error {
					w, err := loadWitness(c)
					if err != nil {
						return err
					}
					fmt.Fprintln(c.App.Writer, w.Cosigner().VerifierKey())
					return nil
				},
			},
			{
				Name:      "trust",
				Usage:     "trust a ledger's checkpoint key (from the designer's cairn id --vkey)",
				ArgsUsage: "VKEY",
				Flags:     []cli.Flag{stateFlag},
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return usageErrorf("give the ledger's verifier key, as printed by cairn id --vkey")
					}
					vkey := c.Args().First()
					origin, _, _ := strings.Cut(vkey, "+")
					if !strings.HasPrefix(origin, "cairn.ledger/") {
						return usageErrorf("%q is not a cairn ledger verifier key (cairn id --vkey prints one)", vkey)
					}
					w, err := loadWitness(c)
					if err != nil {
						return err
					}
					if err := w.AddLog(origin, vkey); err != nil {
						return usageErrorf("%v", err)
					}
					fmt.Fprintf(c.App.Writer, "trusting checkpoints of %s signed by that key\n", origin)
					return nil
				},
			},
			{
				Name:  "cosign",
				Usage: "cosign a ledger's newest checkpoint, if it extends the last one cosigned",
				Flags: []cli.Flag{dirFlag(), stateFlag},
				Action: func(c *cli.Context) error {
					w, err := loadWitness(c)
					if err != nil {
						return err
					}
					b, err := openBook(c)
					if err != nil {
						return err
					}
					defer b.Close()
					text, err := b.Ledger.LatestCheckpoint()
					if err != nil {
						return err
					}
					if text == nil {
						return usageErrorf("the ledger has no checkpoint yet; the designer makes one with: cairn checkpoint")
					}
					cp, err := ledger.ParseCheckpoint(text)
					if err != nil {
						return err
					}
					st, err := w.State()
					if err != nil {
						return err
					}
					var proof tlog.TreeProof
					if l := st.Logs[cp.Origin]; l != nil && l.Size > 0 && l.Size < cp.Size {
						if l.Size > b.Ledger.Size() {
							return &exitError{exitVerify, fmt.Errorf("refused: the witness cosigned %d records of %s, but this ledger has only %d (rollback)", l.Size, cp.Origin, b.Ledger.Size())}
						}
						if proof, err = b.Ledger.ConsistencyProof(l.Size, cp.Size); err != nil {
							return err
						}
					}
					out, err := w.Cosign(text, proof)
					switch {
					case errors.Is(err, witness.ErrUnknownLog):
						return usageErrorf("the witness does not follow %s yet; trust it with: cairn witness trust VKEY (the designer's cairn id --vkey)", cp.Origin)
					case errors.Is(err, witness.ErrUntrusted):
						return usageErrorf("the newest checkpoint of %s is not signed by a key the witness trusts (cairn witness trust VKEY)", cp.Origin)
					case errors.Is(err, witness.ErrFork), errors.Is(err, witness.ErrRollback), errors.Is(err, witness.ErrInconsistent):
						return &exitError{exitVerify, fmt.Errorf("refused: %v", err)}
					case err != nil:
						return err
					}
					name := w.Cosigner().Name()
					if err := b.Ledger.PutCosignature(cp.Size, name, out); err != nil {
						return err
					}
					fmt.Fprintf(c.App.ErrWriter, "cosigned the checkpoint of %d records of %s as %s\n", cp.Size, cp.Origin, name)
					_, err = c.App.Writer.Write(out)
					return err
				},
			},
		},
	}
}
