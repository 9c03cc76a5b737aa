package main

import (
	"strings"
	"time"
	_ "time/tzdata" // a machine without a zone database still shows Europe/Amsterdam

	"github.com/urfave/cli/v2"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/internal/msg"
)

func langFlag(what string) cli.Flag {
	return &cli.StringFlag{Name: "lang", Usage: what + " in this language: " + msg.Codes() + " (default: the ledger's setting lang, else en)"}
}

func tzFlag() cli.Flag {
	return &cli.StringFlag{Name: "tz", Usage: "show times in this time zone beside UTC, such as Europe/Amsterdam, or UTC for UTC alone (default: the ledger's setting tz, else Europe/Amsterdam for nl and UTC for en)"}
}

// settings reads the ledger's settings and the language its output is
// written in.
func settings(c *cli.Context, b *evidence.Book) (*evidence.Config, *msg.Catalogue, error) {
	cfg, err := evidence.ReadConfig(b.Dir)
	if err != nil {
		return nil, nil, err
	}
	m, err := language(c, cfg)
	return cfg, m, err
}

// language is the catalogue --lang names, else the ledger's setting, else
// English. cfg may be nil (an archive has no settings).
func language(c *cli.Context, cfg *evidence.Config) (*msg.Catalogue, error) {
	code := c.String("lang")
	from := "--lang"
	if code == "" && cfg != nil && cfg.Lang != "" {
		code, from = cfg.Lang, "the setting lang (cairn config lang)"
	}
	if code == "" {
		return msg.English, nil
	}
	m := msg.For(strings.ToLower(code))
	if m == nil {
		return nil, usageErrorf("%s %q: cairn writes in %s", from, code, msg.Codes())
	}
	return m, nil
}

// zone is the time zone --tz names, else the ledger's setting, else the
// language's default; nil means UTC alone.
func zone(c *cli.Context, cfg *evidence.Config, m *msg.Catalogue) (*time.Location, error) {
	name, from := c.String("tz"), "--tz"
	if name == "" && cfg != nil && cfg.TZ != "" {
		name, from = cfg.TZ, "the setting tz (cairn config tz)"
	}
	if name == "" {
		name = m.Zone
	}
	return loadZone(name, from)
}

// loadZone reads an IANA zone name; "" and UTC mean UTC alone.
func loadZone(name, from string) (*time.Location, error) {
	if name == "" || strings.EqualFold(name, "UTC") {
		return nil, nil
	}
	// "Local" would show the exporter's zone under a name that says nothing.
	loc, err := time.LoadLocation(name)
	if err != nil || name == "Local" {
		return nil, usageErrorf("%s %q is not a time zone; give an IANA name such as Europe/Amsterdam or America/New_York, or UTC", from, name)
	}
	return loc, nil
}
