package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/mod/sumdb/note"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/export"
	"github.com/cairn-ledger/cairn/internal/msg"
	"github.com/cairn-ledger/cairn/ledger/witness"
)

func cmdConfig() *cli.Command {
	return &cli.Command{
		Name:      "config",
		Usage:     "show or change settings: this ledger's (time-stamping service), or your own trust (--user)",
		ArgsUsage: "[KEY [VALUE]]",
		Description: `A ledger's settings live in .cairn/config.json. They are local, not evidence.

  tsa.url URL      an RFC 3161 time-stamping service. With it, cairn timestamps a
                   checkpoint on its own after recording, at most once per
                   tsa.every; if the service cannot be reached, recording still
                   succeeds and the timestamp waits (cairn timestamp --pending).
  tsa.roots FILE   PEM root certificates the service's certificate must chain to;
                   the file is copied into the ledger directory. Without roots,
                   verify checks tokens but reports their TSA as not trusted.
  tsa.every 15m    the least time between automatic timestamps (default 15m).
  witness VKEY     add a witness's verifier key (printed by cairn witness init);
                   verify then checks that witness's cosignatures.
  witness.url URL  the studio's witness server (cairn witness serve). With it,
                   cairn publishes a checkpoint on its own after recording, at
                   most once per witness.every; if the witness cannot be
                   reached, recording still succeeds and publishing waits.
  witness.every 15m  the least time between automatic publishes (default 15m).
  studio VKEY      the key of the witness's studio log (cairn witness id --log):
                   its inclusion proofs are checked as they arrive.
  studio.url URL   where the studio log is served (default: witness.url/log/).
  lang nl          the language of packs and labels when no --lang is given
                   (en or nl; default en).
  tz ZONE          the designer's time zone: packs show times in it beside UTC
                   (an IANA name such as Europe/Amsterdam, or UTC; default
                   Europe/Amsterdam for Dutch packs, UTC for English ones).

Trust anchors in a ledger's own folder are used by verify, but reported as NOT
independent: anyone who can write to the folder could have put them there.
Your own anchors live outside every ledger, beside your identity key
($XDG_CONFIG_HOME/cairn/config.json); set them with --user:

  --user tsa.roots FILE   the TSA roots you trust (the file is copied)
  --user ca.roots FILE    the CA roots you trust for packs signed with a firm's
                          certificate (export --sign-with; the file is copied)
  --user witness VKEY     a witness whose cosignatures you trust
  --user key VKEY         a ledger's checkpoint key you expect (cairn id --vkey)
  --user studio VKEY      a studio log whose inclusion proofs you trust
  --user font FILE        a TrueType font (.ttf) for what the built-in fonts
                          cannot draw, such as CJK, tried before the fonts
                          fontconfig finds (repeatable)

Examples:
  cairn config tsa.url https://freetsa.org/tsr
  cairn config tsa.roots freetsa-cacert.pem
  cairn config tsa.every 30m
  cairn config witness.url https://witness.studio-x.example
  cairn config lang nl
  cairn config tz Europe/Amsterdam
  cairn config --unset tsa.url
  cairn config --user tsa.roots freetsa-cacert.pem
  cairn config`,
		Flags: []cli.Flag{
			dirFlag(),
			&cli.BoolFlag{Name: "unset", Usage: "remove the setting KEY"},
			&cli.BoolFlag{Name: "user", Usage: "your own settings, outside every ledger (tsa.roots, ca.roots, witness, key, studio, font)"},
			jsonFlag("print the settings as JSON"),
		},
		Action: func(c *cli.Context) error {
			if c.Bool("user") {
				return userConfig(c)
			}
			b, err := openBook(c)
			if err != nil {
				return err
			}
			defer b.Close()
			cfg, err := evidence.ReadConfig(b.Dir)
			if err != nil {
				return err
			}
			args := c.Args().Slice()
			if len(args) == 0 {
				if c.Bool("json") {
					return printJSON(c.App.Writer, cfg)
				}
				printConfig(c, cfg)
				return nil
			}
			key := args[0]
			if c.Bool("unset") {
				if len(args) != 1 {
					return usageErrorf("--unset takes only the KEY")
				}
				if err := unsetConfig(cfg, key); err != nil {
					return err
				}
			} else {
				if len(args) != 2 {
					return usageErrorf("give a KEY and a VALUE, for example: cairn config tsa.url https://freetsa.org/tsr")
				}
				if err := setConfig(b, cfg, key, args[1]); err != nil {
					return err
				}
			}
			if err := b.WriteConfig(cfg); err != nil {
				return err
			}
			printConfig(c, cfg)
			return nil
		},
	}
}

func printConfig(c *cli.Context, cfg *evidence.Config) {
	w := c.App.Writer
	if cfg.Asset != "" {
		fmt.Fprintf(w, "asset      %s (current asset; change with cairn use)\n", cfg.Asset)
	}
	if t := cfg.TSA; t != nil && t.URL != "" {
		every := t.Every
		if every == "" {
			every = evidence.DefaultTimestampEvery.String() + " (default)"
		}
		fmt.Fprintf(w, "tsa.url    %s\ntsa.every  %s\n", t.URL, every)
		if t.Roots != "" {
			fmt.Fprintf(w, "tsa.roots  %s (checks tokens as they arrive; in the ledger's folder, so verify reports it as not independent: see cairn config --user)\n", t.Roots)
		} else {
			fmt.Fprintf(w, "tsa.roots  (none: tokens are checked, but their TSA is not known to be trusted)\n")
		}
	} else {
		fmt.Fprintf(w, "tsa        (none: set one with cairn config tsa.url URL)\n")
	}
	for _, v := range cfg.Witnesses {
		fmt.Fprintf(w, "witness    %s (in the ledger's folder: not independent; see cairn config --user)\n", v)
	}
	if p := cfg.Publish; p != nil && p.URL != "" {
		every := p.Every
		if every == "" {
			every = evidence.DefaultPublishEvery.String() + " (default)"
		}
		fmt.Fprintf(w, "witness.url   %s\nwitness.every %s\n", p.URL, every)
		if p.StudioURL != "" {
			fmt.Fprintf(w, "studio.url    %s\n", p.StudioURL)
		}
	}
	for _, v := range cfg.Studios {
		fmt.Fprintf(w, "studio     %s (in the ledger's folder: not independent; see cairn config --user)\n", v)
	}
	if cfg.Lang != "" {
		fmt.Fprintf(w, "lang       %s (packs and labels)\n", cfg.Lang)
	}
	if cfg.TZ != "" {
		fmt.Fprintf(w, "tz         %s (packs show times in it beside UTC)\n", cfg.TZ)
	}
}

// httpURL checks that v is an http:// or https:// URL.
func httpURL(key, v string) error {
	if !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") {
		return usageErrorf("%s %q is not an http:// or https:// URL", key, v)
	}
	return nil
}

func setConfig(b *evidence.Book, cfg *evidence.Config, key, value string) error {
	if cfg.TSA == nil && strings.HasPrefix(key, "tsa.") {
		cfg.TSA = &evidence.TSAConfig{}
	}
	if cfg.Publish == nil && (strings.HasPrefix(key, "witness.") || key == "studio.url") {
		cfg.Publish = &evidence.PublishConfig{}
	}
	switch key {
	case "tsa.url":
		if err := httpURL(key, value); err != nil {
			return err
		}
		cfg.TSA.URL = value
	case "witness.url":
		if err := httpURL(key, value); err != nil {
			return err
		}
		cfg.Publish.URL = value
	case "witness.every":
		d, err := time.ParseDuration(value)
		if err != nil || d < 0 {
			return usageErrorf("witness.every %q is not a duration such as 15m or 1h", value)
		}
		cfg.Publish.Every = d.String()
	case "studio.url":
		if err := httpURL(key, value); err != nil {
			return err
		}
		cfg.Publish.StudioURL = value
	case "studio":
		if _, err := note.NewVerifier(value); err != nil {
			return usageErrorf("studio: %q is not a studio log key (cairn witness id --log prints one): %v", value, err)
		}
		if !slices.Contains(cfg.Studios, value) {
			cfg.Studios = append(cfg.Studios, value)
		}
	case "tsa.roots":
		data, err := evidence.ReadRoots(value)
		if err != nil {
			return usageErrorf("tsa.roots: %v", err)
		}
		if err := os.WriteFile(filepath.Join(b.Dir, evidence.TSARootsFile), data, 0o644); err != nil {
			return err
		}
		cfg.TSA.Roots = evidence.TSARootsFile
	case "tsa.every":
		d, err := time.ParseDuration(value)
		if err != nil || d < 0 {
			return usageErrorf("tsa.every %q is not a duration such as 15m or 1h", value)
		}
		cfg.TSA.Every = d.String()
	case "witness":
		v, err := witness.NewVerifier(value)
		if err != nil {
			return usageErrorf("witness: %q is not a witness verifier key (cairn witness init prints one): %v", value, err)
		}
		for _, w := range cfg.Witnesses {
			if w == value {
				return nil
			}
		}
		_ = v
		cfg.Witnesses = append(cfg.Witnesses, value)
	case "lang":
		if msg.For(value) == nil {
			return usageErrorf("lang %q: cairn writes in %s", value, msg.Codes())
		}
		cfg.Lang = value
	case "tz":
		if _, err := loadZone(value, "tz"); err != nil {
			return err
		}
		cfg.TZ = value
	default:
		return usageErrorf("unknown setting %q; the settings are %s", key, ledgerSettings)
	}
	return nil
}

const (
	ledgerSettings = "tsa.url, tsa.roots, tsa.every, witness, witness.url, witness.every, studio, studio.url, lang and tz"
	userSettings   = "tsa.roots, ca.roots, witness, key, studio and font"
)

func unsetConfig(cfg *evidence.Config, key string) error {
	switch key {
	case "tsa", "tsa.url":
		cfg.TSA = nil
	case "tsa.roots":
		if cfg.TSA != nil {
			cfg.TSA.Roots = ""
		}
	case "tsa.every":
		if cfg.TSA != nil {
			cfg.TSA.Every = ""
		}
	case "witness", "witnesses":
		cfg.Witnesses = nil
	case "witness.url":
		cfg.Publish = nil
	case "witness.every":
		if cfg.Publish != nil {
			cfg.Publish.Every = ""
		}
	case "studio.url":
		if cfg.Publish != nil {
			cfg.Publish.StudioURL = ""
		}
	case "studio", "studios":
		cfg.Studios = nil
	case "lang":
		cfg.Lang = ""
	case "tz":
		cfg.TZ = ""
	default:
		return usageErrorf("unknown setting %q; the settings are %s", key, ledgerSettings)
	}
	return nil
}

// userConfig is cairn config --user: the verifier's own trust anchors.
func userConfig(c *cli.Context) error {
	cfg, err := evidence.ReadUserConfig()
	if err != nil {
		return err
	}
	args := c.Args().Slice()
	switch {
	case len(args) == 0:
	case c.Bool("unset") && len(args) == 1:
		switch args[0] {
		case "tsa.roots":
			cfg.TSARoots = ""
		case "ca.roots":
			cfg.CARoots = ""
		case "witness", "witnesses":
			cfg.Witnesses = nil
		case "key", "keys":
			cfg.Keys = nil
		case "studio", "studios":
			cfg.Studios = nil
		case "font", "fonts":
			cfg.Fonts = nil
		default:
			return usageErrorf("unknown setting %q; your own settings are %s", args[0], userSettings)
		}
	case len(args) == 2 && !c.Bool("unset"):
		if err := setUserConfig(cfg, args[0], args[1]); err != nil {
			return err
		}
	default:
		return usageErrorf("give a KEY and a VALUE, for example: cairn config --user tsa.roots roots.pem")
	}
	if len(args) > 0 {
		if err := evidence.WriteUserConfig(cfg); err != nil {
			return err
		}
	}
	if c.Bool("json") {
		return printJSON(c.App.Writer, cfg)
	}
	w := c.App.Writer
	dir, _ := evidence.UserConfigDir()
	fmt.Fprintf(w, "your settings (%s)\n", dir)
	if cfg.TSARoots != "" {
		fmt.Fprintf(w, "tsa.roots  %s\n", filepath.Join(dir, cfg.TSARoots))
	} else {
		fmt.Fprintf(w, "tsa.roots  (none: timestamps are reported as NOT checked unless you give --tsa-roots)\n")
	}
	if cfg.CARoots != "" {
		fmt.Fprintf(w, "ca.roots   %s\n", filepath.Join(dir, cfg.CARoots))
	}
	for _, v := range cfg.Witnesses {
		fmt.Fprintf(w, "witness    %s\n", v)
	}
	for _, v := range cfg.Keys {
		fmt.Fprintf(w, "key        %s\n", v)
	}
	for _, v := range cfg.Studios {
		fmt.Fprintf(w, "studio     %s\n", v)
	}
	for _, v := range cfg.Fonts {
		fmt.Fprintf(w, "font       %s\n", v)
	}
	return nil
}

func setUserConfig(cfg *evidence.UserConfig, key, value string) error {
	addUnique := func(list *[]string, v string) {
		for _, x := range *list {
			if x == v {
				return
			}
		}
		*list = append(*list, v)
	}
	switch key {
	case "tsa.roots":
		if err := evidence.SetUserTSARoots(cfg, value); err != nil {
			return usageErrorf("tsa.roots: %v", err)
		}
	case "ca.roots":
		if err := evidence.SetUserCARoots(cfg, value); err != nil {
			return usageErrorf("ca.roots: %v", err)
		}
	case "witness":
		if _, err := witness.NewVerifier(value); err != nil {
			return usageErrorf("witness: %q is not a witness verifier key (cairn witness id prints one): %v", value, err)
		}
		addUnique(&cfg.Witnesses, value)
	case "key":
		if _, err := note.NewVerifier(value); err != nil {
			return usageErrorf("key: %q is not a checkpoint verifier key (cairn id --vkey prints one): %v", value, err)
		}
		addUnique(&cfg.Keys, value)
	case "studio":
		if _, err := note.NewVerifier(value); err != nil {
			return usageErrorf("studio: %q is not a studio log key (cairn witness id --log prints one): %v", value, err)
		}
		addUnique(&cfg.Studios, value)
	case "font":
		abs, err := filepath.Abs(value)
		if err != nil {
			return usageErrorf("font: %v", err)
		}
		if _, err := export.CheckFont(abs); err != nil {
			return usageErrorf("font: %v", err)
		}
		addUnique(&cfg.Fonts, abs)
	default:
		return usageErrorf("unknown setting %q; your own settings are %s", key, userSettings)
	}
	return nil
}
