package evidence

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/cairn-ledger/cairn/internal/strict"
	"github.com/cairn-ledger/cairn/ledger"
	"github.com/cairn-ledger/cairn/ledger/witness"
)

// Trust is what the person verifying trusts: TSA roots that timestamps must chain
// to, witnesses whose cosignatures count, and ledger keys they pin. Each anchor
// says where it came from. Verification takes its anchors from the verifier (the
// command line, or the verifier's own settings outside the ledger); an anchor
// found only in the directory under check is used, but reported as not
// independent: whoever can write to that directory could have put it there.
type Trust struct {
	TSA       *Roots   // nil: timestamps are checked for everything but their TSA
	Witnesses []Anchor // cosignature verifier keys (C2SP tlog-cosignature)
	Keys      []Anchor // pinned checkpoint verifier keys of ledgers (cairn id --vkey)
	Studios   []Anchor // checkpoint verifier keys of studio logs (cairn witness id --log)
	// CA are the roots of the CAs whose certificates may sign a pack for a
	// firm (export --sign-with). They come only from the verifier: the flag or
	// the verifier's own settings, never a ledger's folder.
	CA *Roots
}

// Roots are trusted root certificates (of TSAs, or of CAs).
type Roots struct {
	Pool   *x509.CertPool
	Certs  []*x509.Certificate
	Anchor // VKey is empty
}

// An Anchor is one trusted key, and where the verifier's trust in it comes from.
type Anchor struct {
	VKey        string
	Source      string // "--tsa-roots FILE", "your settings (PATH)", "the ledger's folder (PATH)"
	Independent bool   // false when it came from the directory under check
}

// Describe says where the anchor came from, for a report line.
func (a Anchor) Describe() string {
	if a.Independent {
		return a.Source
	}
	return a.Source + ", which is inside the ledger under check: NOT an independent anchor"
}

// UserConfig is the verifier's own settings, kept beside the identity key and
// never inside a ledger: $XDG_CONFIG_HOME/cairn/config.json (or
// ~/.config/cairn/config.json).
type UserConfig struct {
	TSARoots  string   `json:"tsa_roots,omitempty"` // PEM file, relative to the config directory
	Witnesses []string `json:"witnesses,omitempty"`
	Keys      []string `json:"keys,omitempty"`
	Studios   []string `json:"studios,omitempty"`
	CARoots   string   `json:"ca_roots,omitempty"` // PEM file, relative to the config directory
	// Fonts are TrueType files an export draws CJK and other scripts with,
	// before the fonts fontconfig finds (absolute paths).
	Fonts []string `json:"fonts,omitempty"`
}

// CARootsFile is where cairn config --user keeps the CA roots the verifier
// trusts for firm-signed packs.
const CARootsFile = "ca-roots.pem"

// UserConfigDir is where the verifier's own settings live.
func UserConfigDir() (string, error) {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", errors.New("cannot find a home directory for cairn's settings; set XDG_CONFIG_HOME")
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "cairn"), nil
}

func userConfigPath() (string, error) {
	dir, err := UserConfigDir()
	return filepath.Join(dir, "config.json"), err
}

// ReadUserConfig reads the verifier's own settings; none is an empty config.
func ReadUserConfig() (*UserConfig, error) {
	p, err := userConfigPath()
	if err != nil {
		return nil, err
	}
	var c UserConfig
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return &c, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("%s: %v", p, err)
	}
	return &c, nil
}

// WriteUserConfig saves the verifier's own settings.
func WriteUserConfig(c *UserConfig) error {
	p, err := userConfigPath()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileDurable(p, append(data, '\n'), 0o644)
}

// SetUserTSARoots copies a PEM file of TSA roots into the settings directory.
func SetUserTSARoots(c *UserConfig, path string) error {
	return copyUserRoots(path, TSARootsFile, &c.TSARoots)
}

// SetUserCARoots copies a PEM file of CA roots into the settings directory.
func SetUserCARoots(c *UserConfig, path string) error {
	return copyUserRoots(path, CARootsFile, &c.CARoots)
}

func copyUserRoots(path, name string, setting *string) error {
	data, err := ReadRoots(path) // checked and bounded, read once
	if err != nil {
		return err
	}
	dir, err := UserConfigDir()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := WriteFileDurable(filepath.Join(dir, name), data, 0o644); err != nil {
		return err
	}
	*setting = name
	return nil
}

// TrustFlags are the anchors a verifier gives on the command line.
type TrustFlags struct {
	TSARoots  string   // a PEM file
	Witnesses []string // cosignature verifier keys
	Keys      []string // checkpoint verifier keys to pin
	Studios   []string // studio log verifier keys
	CARoots   string   // a PEM file
}

// LoadTrust assembles the verifier's anchors: the flags first, then the
// verifier's own settings, and last the settings of the ledger in ledgerDir
// (empty: none), which are marked as not independent. TSA roots come from the
// first of these that names any; CA roots from the flags or the verifier's
// settings only; witness and ledger keys from all of them.
func LoadTrust(flags TrustFlags, ledgerDir string) (*Trust, error) {
	t := &Trust{}
	user, err := ReadUserConfig()
	if err != nil {
		return nil, err
	}
	userDir, _ := UserConfigDir()
	var ledgerCfg *Config
	if ledgerDir != "" {
		if ledgerCfg, err = ReadConfig(ledgerDir); err != nil {
			return nil, err
		}
	}
	switch {
	case flags.TSARoots != "":
		t.TSA, err = loadRoots(flags.TSARoots, Anchor{Source: "--tsa-roots " + flags.TSARoots, Independent: true})
	case user.TSARoots != "":
		p := absUnder(userDir, user.TSARoots)
		t.TSA, err = loadRoots(p, Anchor{Source: "your settings (" + p + ")", Independent: true})
	case ledgerCfg != nil && ledgerCfg.TSA != nil && ledgerCfg.TSA.Roots != "":
		p := absUnder(ledgerDir, ledgerCfg.TSA.Roots)
		t.TSA, err = loadRoots(p, Anchor{Source: "the ledger's folder (" + p + ")"})
	}
	if err != nil {
		return nil, err
	}
	switch {
	case flags.CARoots != "":
		t.CA, err = loadRoots(flags.CARoots, Anchor{Source: "--ca-roots " + flags.CARoots, Independent: true})
	case user.CARoots != "":
		p := absUnder(userDir, user.CARoots)
		t.CA, err = loadRoots(p, Anchor{Source: "your settings (" + p + ")", Independent: true})
	}
	if err != nil {
		return nil, err
	}
	add := func(list *[]Anchor, vkeys []string, a Anchor, parse func(string) (note.Verifier, error), what string) error {
		for _, vk := range vkeys {
			v, err := parse(vk)
			if err != nil {
				return inputErrorf("%s %q from %s is not a %s verifier key: %v", what, vk, a.Source, strings.TrimSuffix(what, " key"), err)
			}
			dup := false
			for _, have := range *list {
				if hv, _ := parse(have.VKey); hv != nil && hv.Name() == v.Name() && hv.KeyHash() == v.KeyHash() {
					dup = true
				}
			}
			if !dup {
				a.VKey = vk
				*list = append(*list, a)
			}
		}
		return nil
	}
	// Each kind of key from the flags, the verifier's settings, then the
	// ledger's folder (not independent; pinned ledger keys never come from it).
	userSrc := Anchor{Source: "your settings (" + filepath.Join(userDir, "config.json") + ")", Independent: true}
	ledgerSrc := Anchor{Source: "the ledger's folder (" + filepath.Join(ledgerDir, "config.json") + ")"}
	var ledgerWitnesses, ledgerStudios []string
	if ledgerCfg != nil {
		ledgerWitnesses, ledgerStudios = ledgerCfg.Witnesses, ledgerCfg.Studios
	}
	for _, k := range []struct {
		list                *[]Anchor
		flag                string
		fromFlags, fromUser []string
		fromLedger          []string
		parse               func(string) (note.Verifier, error)
		what                string
	}{
		{&t.Witnesses, "--witness", flags.Witnesses, user.Witnesses, ledgerWitnesses, witness.NewVerifier, "witness key"},
		{&t.Keys, "--key", flags.Keys, user.Keys, nil, note.NewVerifier, "ledger key"},
		{&t.Studios, "--studio", flags.Studios, user.Studios, ledgerStudios, note.NewVerifier, "studio key"},
	} {
		for _, from := range []struct {
			keys []string
			src  Anchor
		}{{k.fromFlags, Anchor{Source: k.flag, Independent: true}}, {k.fromUser, userSrc}, {k.fromLedger, ledgerSrc}} {
			if err := add(k.list, from.keys, from.src, k.parse, k.what); err != nil {
				return nil, err
			}
		}
	}
	return t, nil
}

// Studio returns the verifier of the studio log whose origin is origin, and
// where the verifier's trust in it comes from, if trusted.
func (t *Trust) Studio(origin string) (note.Verifier, Anchor, bool) {
	for _, a := range t.Studios {
		if v, err := note.NewVerifier(a.VKey); err == nil && v.Name() == origin {
			return v, a, true
		}
	}
	return nil, Anchor{}, false
}

func absUnder(dir, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

func loadRoots(path string, a Anchor) (*Roots, error) {
	pool, certs, err := LoadRoots(path)
	if err != nil {
		return nil, err
	}
	return &Roots{Pool: pool, Certs: certs, Anchor: a}, nil
}

// WitnessVKeys returns the witness verifier keys, for checking.
func (t *Trust) WitnessVKeys() []string {
	var out []string
	for _, a := range t.Witnesses {
		out = append(out, a.VKey)
	}
	return out
}

// Witness returns the anchor of the witness named name, if trusted.
func (t *Trust) Witness(name string) (Anchor, bool) {
	for _, a := range t.Witnesses {
		if v, err := witness.NewVerifier(a.VKey); err == nil && v.Name() == name {
			return a, true
		}
	}
	return Anchor{}, false
}

// PinnedKeys returns the Ed25519 keys of the pinned ledger keys whose name is
// origin (a checkpoint verifier key names the ledger it signs for).
func (t *Trust) PinnedKeys(origin string) ([]ed25519.PublicKey, error) {
	var out []ed25519.PublicKey
	for _, a := range t.Keys {
		name, key, err := parseVKey(a.VKey)
		if err != nil {
			return nil, inputErrorf("ledger key %q: %v", a.VKey, err)
		}
		if name == origin {
			out = append(out, key)
		}
	}
	return out, nil
}

// parseVKey reads a signed-note Ed25519 verifier key: name+hash+base64(0x01||key).
func parseVKey(vk string) (string, ed25519.PublicKey, error) {
	v, err := note.NewVerifier(vk)
	if err != nil {
		return "", nil, err
	}
	i := strings.LastIndex(vk, "+")
	raw, err := strict.Base64(vk[i+1:])
	if err != nil || len(raw) != 1+ed25519.PublicKeySize || raw[0] != 1 {
		return "", nil, errors.New("not an Ed25519 verifier key")
	}
	key := ed25519.PublicKey(raw[1:])
	if ledger.VerifierKey(v.Name(), key) != vk {
		return "", nil, errors.New("not a canonical verifier key")
	}
	return v.Name(), key, nil
}
