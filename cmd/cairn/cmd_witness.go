package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/cairn-ledger/cairn/internal/userfile"
	"github.com/cairn-ledger/cairn/ledger"
	"github.com/cairn-ledger/cairn/ledger/studio"
	"github.com/cairn-ledger/cairn/ledger/witness"
)

// witnessPaths says where the witness keeps its key and its state: beside the
// identity key, in the config directory, or where CAIRN_WITNESS_KEY and
// --state say. legacy is the JSON state file of earlier releases, which a new
// state directory imports; empty when --state is given.
func witnessPaths(c *cli.Context) (key, state, legacy string, err error) {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", "", "", errors.New("cannot find a home directory; set CAIRN_WITNESS_KEY and give --state DIR")
		}
		dir = filepath.Join(home, ".config")
	}
	key = os.Getenv("CAIRN_WITNESS_KEY")
	if key == "" {
		key = filepath.Join(dir, "cairn", "witness-key.json")
	}
	state = c.String("state")
	if state == "" {
		state = filepath.Join(filepath.Dir(key), "witness-state")
		legacy = filepath.Join(filepath.Dir(key), "witness-state.json")
	} else if fi, err := os.Stat(state); err == nil && !fi.IsDir() {
		return "", "", "", usageErrorf("--state %s is a file: cairn now keeps a witness's state in a directory. Import the file into a new one with: cairn witness import %s --state NEWDIR", state, state)
	}
	return key, state, legacy, nil
}

type witnessKeyFile struct {
	Comment string `json:"comment"`
	Name    string `json:"name"`
	Seed    string `json:"ed25519_seed"`
}

// loadCosigner reads the witness key: its cosigner, and the seed the studio
// log's key is derived from.
func loadCosigner(c *cli.Context) (*witness.Cosigner, []byte, error) {
	keyPath, _, _, err := witnessPaths(c)
	if err != nil {
		return nil, nil, err
	}
	fi, err := os.Stat(keyPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, usageErrorf("no witness key at %s; create one with: cairn witness init --name NAME", keyPath)
	}
	if err != nil {
		return nil, nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, nil, usageErrorf("witness key %s is readable by others (mode %04o); protect it with: chmod 600 %s", keyPath, fi.Mode().Perm(), keyPath)
	}
	data, err := userfile.Read(keyPath, "witness key file", 64<<10)
	if err != nil {
		return nil, nil, err
	}
	var kf witnessKeyFile
	if err := json.Unmarshal(data, &kf); err != nil {
		return nil, nil, fmt.Errorf("witness key %s: %v", keyPath, err)
	}
	seed, err := base64.StdEncoding.DecodeString(kf.Seed)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, nil, fmt.Errorf("witness key %s: invalid key", keyPath)
	}
	cs, err := witness.NewCosigner(kf.Name, ed25519.NewKeyFromSeed(seed))
	if err != nil {
		return nil, nil, err
	}
	return cs, seed, nil
}

// openWitness opens the witness's state, waiting up to timeout for another
// process that holds it. A new state imports the JSON state file an earlier
// release kept beside the key.
func openWitness(c *cli.Context, timeout time.Duration) (*witness.Witness, error) {
	cs, _, err := loadCosigner(c)
	if err != nil {
		return nil, err
	}
	_, statePath, legacy, err := witnessPaths(c)
	if err != nil {
		return nil, err
	}
	// A running server holds the state for as long as it runs: say so at once
	// rather than wait for it.
	if _, err := witness.AdminRecords(statePath); err == nil {
		return nil, &exitError{exitFailure, fmt.Errorf("the witness server (cairn witness serve) holds the witness state %s: designers send it their checkpoints with cairn publish; cairn witness trust and list ask it; stop it for anything else", statePath)}
	}
	st, err := witness.OpenStore(statePath, timeout)
	if errors.Is(err, witness.ErrStoreLocked) {
		return nil, fmt.Errorf("%w. If it is the witness server (cairn witness serve), designers send it their checkpoints with cairn publish; or stop it first", err)
	}
	if err != nil {
		return nil, err
	}
	if st.Created() && legacy != "" {
		if data, err := userfile.Read(legacy, "witness state file", maxWitnessState); err == nil {
			n, err := st.Import(data)
			if err != nil {
				st.Close()
				os.RemoveAll(statePath)
				return nil, fmt.Errorf("importing %s: %v; nothing was changed", legacy, err)
			}
			if err := os.Rename(legacy, legacy+".imported"); err != nil {
				st.Close()
				return nil, err
			}
			fmt.Fprintf(c.App.ErrWriter, "imported the witness state of %d logs from %s into %s (the file is kept as %s.imported)\n", n, legacy, statePath, filepath.Base(legacy))
		}
	}
	return witness.New(st, cs), nil
}

func stateFlag() cli.Flag {
	return &cli.StringFlag{Name: "state", Usage: "the witness state directory (default: witness-state beside the witness key)"}
}

// studioLogOrigin is the studio log's origin: --log-origin, else the witness's
// name followed by /log.
func studioLogOrigin(c *cli.Context, cs *witness.Cosigner) string {
	if o := c.String("log-origin"); o != "" {
		return o
	}
	return cs.Name() + "/log"
}

func logOriginFlag() cli.Flag {
	return &cli.StringFlag{Name: "log-origin", Usage: "the studio log's origin (default: the witness's name followed by /log)"}
}

func cmdWitness() *cli.Command {
	return &cli.Command{
		Name:  "witness",
		Usage: "cosign ledgers' checkpoints as a second party, refusing rewritten history; run a studio's witness server",
		Description: `A witness (a team lead, legal) keeps a small state: the last checkpoint it
cosigned for each ledger it follows. It cosigns a new checkpoint only if the
ledger proves that it extends that one (an RFC 6962 consistency proof), so a
designer cannot quietly rewrite history the witness has seen. Cosignatures
follow C2SP tlog-cosignature; they are stored with the checkpoint and shown in
packs.

  cairn witness init --name legal.studio-x   # once: a witness key; prints its key
  cairn witness trust VKEY                   # follow a ledger (its cairn id --vkey)
  cairn witness serve --listen :7380 --log /srv/studio-log
                                             # the studio's witness, over HTTP
  cairn witness cosign --dir /path/.cairn    # or cosign a ledger on a shared disk

A server speaks C2SP tlog-witness (POST /add-checkpoint); designers send their
checkpoints with cairn publish. With --log it appends every checkpoint it
cosigns to the studio log, a transparency log run by Trillian Tessera, which
legal reads with cairn studio. The designer adds the witness key with cairn
config witness VKEY, so that cairn verify checks the cosignatures.`,
		Subcommands: []*cli.Command{
			cmdWitnessInit(), cmdWitnessID(), cmdWitnessTrust(), cmdWitnessList(),
			cmdWitnessCosign(), cmdWitnessImport(), cmdWitnessServe(),
		},
	}
}

func cmdWitnessInit() *cli.Command {
	return &cli.Command{
		Name:  "init",
		Usage: "create a witness key",
		Description: `init creates the witness's Ed25519 key, in a file only you can read (mode
0600), and prints its verifier key for the designers. The studio log's key, if
the witness keeps one (serve --log), is derived from it.

Example:
  cairn witness init --name legal.studio-x`,
		Flags: []cli.Flag{&cli.StringFlag{Name: "name", Usage: "the witness's name, such as legal.example.com"}, stateFlag()},
		Action: func(c *cli.Context) error {
			name := c.String("name")
			if name == "" || strings.ContainsAny(name, " +\n") {
				return usageErrorf("give the witness a name without spaces or '+': cairn witness init --name legal.example.com")
			}
			keyPath, _, _, err := witnessPaths(c)
			if err != nil {
				return err
			}
			_, priv, _ := ed25519.GenerateKey(rand.Reader)
			vkey, err := witness.VerifierKey(name, priv.Public().(ed25519.PublicKey))
			if err != nil {
				return usageErrorf("%v", err)
			}
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
			fmt.Fprintf(c.App.Writer, "witness key saved to %s (mode 0600)\nverifier key (give it to the designers): %s\n", keyPath, vkey)
			return nil
		},
	}
}

func cmdWitnessID() *cli.Command {
	return &cli.Command{
		Name:  "id",
		Usage: "print the witness's verifier key, or with --log its studio log's",
		Description: `id prints the witness's cosignature verifier key (C2SP vkey), which designers
configure with cairn config witness VKEY. With --log it prints the verifier key
of the studio log's checkpoints, which verifiers trust with --studio VKEY or
cairn config --user studio VKEY.

Examples:
  cairn witness id
  cairn witness id --log`,
		Flags: []cli.Flag{&cli.BoolFlag{Name: "log", Usage: "the studio log's key instead of the witness's"}, logOriginFlag(), stateFlag()},
		Action: func(c *cli.Context) error {
			cs, seed, err := loadCosigner(c)
			if err != nil {
				return err
			}
			if !c.Bool("log") {
				fmt.Fprintln(c.App.Writer, cs.VerifierKey())
				return nil
			}
			origin := studioLogOrigin(c, cs)
			if !ledger.ValidOrigin(origin) {
				return usageErrorf("--log-origin %q: an origin has no spaces or '+'", origin)
			}
			key, err := studio.DeriveKey(seed, origin)
			if err != nil {
				return err
			}
			fmt.Fprintln(c.App.Writer, ledger.VerifierKey(origin, key.Public().(ed25519.PublicKey)))
			return nil
		},
	}
}

func cmdWitnessTrust() *cli.Command {
	return &cli.Command{
		Name:      "trust",
		Usage:     "follow a ledger: trust its checkpoint key (the designer's cairn id --vkey)",
		ArgsUsage: "VKEY",
		Description: `trust makes the witness follow the log the key names, and accept checkpoints
signed by that key. A key is never learned from a checkpoint. A second key for
the same ledger (after cairn id rotate) is added beside the first. While the
witness server runs, trust asks it; otherwise it changes the state directly.

Example:
  cairn witness trust "$(cat mira.vkey)"`,
		Flags: []cli.Flag{stateFlag()},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageErrorf("give the ledger's verifier key, as printed by cairn id --vkey")
			}
			vkey := c.Args().First()
			v, err := note.NewVerifier(vkey)
			if err != nil {
				return usageErrorf("%q is not a checkpoint verifier key (cairn id --vkey prints one): %v", vkey, err)
			}
			origin := v.Name()
			_, statePath, _, err := witnessPaths(c)
			if err != nil {
				return err
			}
			added, err := witness.AdminTrust(statePath, origin, vkey)
			if errors.Is(err, witness.ErrNoServer) {
				var w *witness.Witness
				if w, err = openWitness(c, ledger.DefaultLockTimeout); err != nil {
					return err
				}
				defer w.Store().Close()
				added, err = w.AddLog(origin, vkey)
			}
			if err != nil {
				return usageErrorf("%v", err)
			}
			if added {
				fmt.Fprintf(c.App.Writer, "trusting checkpoints of %s signed by that key\n", origin)
			} else {
				fmt.Fprintf(c.App.Writer, "already trusting checkpoints of %s signed by that key; nothing was changed\n", origin)
			}
			return nil
		},
	}
}

func cmdWitnessList() *cli.Command {
	return &cli.Command{
		Name:  "list",
		Usage: "list the logs the witness follows, and the last checkpoint it cosigned of each",
		Description: `list prints, for each log the witness follows, the size and root of the last
checkpoint it cosigned, when, and where the studio log holds it. While the
witness server runs, list asks it.

Examples:
  cairn witness list
  cairn witness list --json`,
		Flags: []cli.Flag{stateFlag(), jsonFlag("print the records as JSON")},
		Action: func(c *cli.Context) error {
			_, statePath, _, err := witnessPaths(c)
			if err != nil {
				return err
			}
			recs, err := witness.AdminRecords(statePath)
			if errors.Is(err, witness.ErrNoServer) {
				var w *witness.Witness
				if w, err = openWitness(c, ledger.DefaultLockTimeout); err != nil {
					return err
				}
				defer w.Store().Close()
				recs = map[string]*witness.Record{}
				err = w.Store().Records(func(o string, r *witness.Record) error { recs[o] = r; return nil })
			}
			if err != nil {
				return err
			}
			if c.Bool("json") {
				return printJSON(c.App.Writer, recs)
			}
			origins := make([]string, 0, len(recs))
			for o := range recs {
				origins = append(origins, o)
			}
			sort.Strings(origins)
			if len(origins) == 0 {
				fmt.Fprintln(c.App.Writer, "the witness follows no log yet; add one with: cairn witness trust VKEY")
			}
			for _, o := range origins {
				r := recs[o]
				switch {
				case r.Checkpoint == "":
					fmt.Fprintf(c.App.Writer, "%s  nothing cosigned yet (%d key(s))\n", o, len(r.Keys))
				default:
					line := fmt.Sprintf("%s  size %d root %s cosigned %s", o, r.Size, r.Root, time.Unix(r.Time, 0).UTC().Format(time.RFC3339))
					if r.Studio != nil {
						line += fmt.Sprintf(", studio log %s entry %d", r.Studio.Log, r.Studio.Index)
					}
					fmt.Fprintln(c.App.Writer, line)
				}
			}
			return nil
		},
	}
}

func cmdWitnessCosign() *cli.Command {
	return &cli.Command{
		Name:  "cosign",
		Usage: "cosign a ledger's newest checkpoint on a shared disk, if it extends the last one cosigned",
		Description: `cosign opens a designer's ledger directly (a shared disk) and cosigns its
newest checkpoint under the same rules as the server: it must extend, by an
RFC 6962 consistency proof, the last checkpoint cosigned. The cosignature is
stored in the ledger. A studio runs cairn witness serve instead, and designers
cairn publish.

Example:
  cairn witness cosign --dir /shared/mira/.cairn`,
		Flags: []cli.Flag{dirFlag(), stateFlag()},
		Action: func(c *cli.Context) error {
			w, err := openWitness(c, ledger.DefaultLockTimeout)
			if err != nil {
				return err
			}
			defer w.Store().Close()
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
			r, err := w.Record(cp.Origin)
			if err != nil {
				return err
			}
			if r == nil {
				return usageErrorf("the witness does not follow %s yet; trust it with: cairn witness trust VKEY (the designer's cairn id --vkey)", cp.Origin)
			}
			if r.Size > cp.Size {
				return &exitError{exitVerify, fmt.Errorf("refused: the witness cosigned %d records of %s, but this ledger's newest checkpoint covers only %d (rollback)", r.Size, cp.Origin, cp.Size)}
			}
			var proof tlog.TreeProof
			if r.Size > 0 && r.Size < cp.Size {
				if proof, err = b.Ledger.ConsistencyProof(r.Size, cp.Size); err != nil {
					return err
				}
			}
			cs, err := w.AddCheckpoint(context.Background(), r.Size, proof, text)
			switch {
			case errors.Is(err, witness.ErrUntrusted):
				return usageErrorf("the newest checkpoint of %s is not signed by a key the witness trusts (cairn witness trust VKEY)", cp.Origin)
			case errors.Is(err, witness.ErrFork), errors.Is(err, witness.ErrRollback), errors.Is(err, witness.ErrInconsistent):
				return &exitError{exitVerify, fmt.Errorf("refused: %v", err)}
			case err != nil:
				return err
			}
			name := w.Cosigner().Name()
			out := append(text, cs.Line...)
			if err := b.Ledger.PutCosignature(cp.Size, name, out); err != nil {
				return err
			}
			fmt.Fprintf(c.App.ErrWriter, "cosigned the checkpoint of %d records of %s as %s\n", cp.Size, cp.Origin, name)
			_, err = c.App.Writer.Write(out)
			return err
		},
	}
}

func cmdWitnessImport() *cli.Command {
	return &cli.Command{
		Name:      "import",
		Usage:     "import the JSON state file of an earlier cairn into a new state directory",
		ArgsUsage: "FILE",
		Description: `Earlier releases kept the witness state in one JSON file. A new state directory
imports witness-state.json from beside the key by itself; import takes any
other such file. The state directory must hold no log yet.

Example:
  cairn witness import old/witness.json --state /srv/witness-state`,
		Flags: []cli.Flag{stateFlag()},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageErrorf("give the JSON state file to import")
			}
			data, err := userfile.Read(c.Args().First(), "witness state file", maxWitnessState)
			if err != nil {
				return err
			}
			if _, err := witness.ParseState(data); err != nil {
				return usageErrorf("%s: %v; nothing was imported", c.Args().First(), err)
			}
			w, err := openWitness(c, ledger.DefaultLockTimeout)
			if err != nil {
				return err
			}
			defer w.Store().Close()
			n, err := w.Store().Import(data)
			if err != nil {
				return usageErrorf("%v", err)
			}
			fmt.Fprintf(c.App.Writer, "imported the state of %d logs into %s\n", n, w.Store().Dir())
			return nil
		},
	}
}

// maxWitnessState bounds a JSON witness state file: a few hundred bytes per
// ledger the witness follows.
const maxWitnessState = 64 << 20
