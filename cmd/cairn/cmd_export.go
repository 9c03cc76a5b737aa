package main

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/urfave/cli/v2"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/export"
	"github.com/cairn-ledger/cairn/internal/tmpfile"
	"github.com/cairn-ledger/cairn/internal/userfile"
)

func cmdExport() *cli.Command {
	return &cli.Command{
		Name:      "export",
		Usage:     "write the signed PDF evidence pack of one asset",
		ArgsUsage: "[ASSET]",
		Description: `export writes a PDF that tells the story of one asset for people who have never
heard of hashes: who holds the rights, what the human did and what the AI made
(with draft wording for a copyright registration), every step with its full
text and pictures, the third-party inputs, and how to check it all.

The exact signed records of the asset, with proofs that they are in the ledger,
are attached as evidence.json; --with-files attaches the stored files too. The
pack is anchored to a checkpoint of the whole ledger (signed now and stored, or
the newest one if it already covers everything), and the PDF is signed with
your key. Only this asset is in the pack: other assets appear only as hashes.

The pack is written in English or Dutch (--lang nl: every sentence in Dutch,
for a Dutch court or IP lawyer; what people typed stays as typed). Times are
shown in UTC, and with --tz, or in a Dutch pack, also in the designer's time
zone (Europe/Amsterdam unless --tz or the setting tz says otherwise). A studio
sets its defaults once: cairn config lang nl; cairn config tz Europe/Amsterdam.

Everything people type is drawn, emoji too (as outlines from the Noto Emoji
font built into cairn). CJK and other scripts the built-in fonts lack are
drawn with a TrueType font from the machine: one named with cairn config
--user font FILE.ttf, or one fontconfig finds; without one, such a character
is shown as [U+XXXX]. The exact text is always in evidence.json.

ASSET defaults to the current asset (cairn use).

Trusted time for the pack itself: with a time-stamping service (cairn config
tsa.url, or --tsa URL), the PDF signature carries an RFC 3161 signature
timestamp, and the PDF a DSS with the signer's and the TSA's certificates
(PAdES). If no token comes within 30 seconds, or the token is bad, export
fails and writes nothing (exit 3): try again, or make the pack without one on
purpose with --no-tsa.

A firm's certificate: --sign-with FILE.p12 signs the PDF with a certificate a
CA issued (PKCS #12 with the key and its chain; ECDSA P-256 or RSA), instead of
your cairn key. Its passphrase is asked on the terminal, or taken from
CAIRN_P12_PASSPHRASE; it is never printed. The pack names the certificate's
holder as its exporter (a custodian), never as an author; verify-pack checks
the chain against the CA roots the verifier trusts (--ca-roots FILE, or cairn
config --user ca.roots). You need no cairn identity for it, unless you are an
author of the ledger.

Examples:
  cairn export poster -o poster.pdf
  cairn export poster -o poster-nl.pdf --lang nl
  cairn export poster -o poster.pdf --tz America/New_York
  cairn export poster --archive mira-ledger.tar -o poster.pdf
  cairn export poster -o poster.pdf --tsa https://freetsa.org/tsr --tsa-roots freetsa-cacert.pem
  cairn --dir /shared/mira/.cairn export poster -o poster.pdf --sign-with kantoor.p12
  cairn export poster -o draft.pdf --no-tsa

Check a pack with:
  cairn verify-pack FILE.pdf`,
		Flags: []cli.Flag{
			dirFlag(),
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "the PDF file to write (required)"},
			&cli.BoolFlag{Name: "with-files", Usage: "also embed the stored files the steps refer to"},
			&cli.StringFlag{Name: "c2pa", Usage: "also write a C2PA manifest definition for the final file into this directory"},
			&cli.BoolFlag{Name: "redact-prompts", Usage: "with --c2pa: put only the prompts' SHA-256 in the manifest, not their text"},
			&cli.StringFlag{Name: "archive", Usage: "export from an archive written by cairn archive (checked, never restored) instead of a ledger"},
			&cli.StringFlag{Name: "tsa", Usage: "timestamp the PDF signature with this RFC 3161 service (default: cairn config tsa.url)"},
			&cli.StringFlag{Name: "tsa-roots", Usage: "PEM roots the TSA must chain to (default: cairn config tsa.roots)"},
			&cli.BoolFlag{Name: "no-tsa", Usage: "make the pack without a signature timestamp, even with a TSA configured"},
			&cli.StringFlag{Name: "sign-with", Usage: "sign the PDF with this CA-issued certificate and key (PKCS #12 file; passphrase asked, or from CAIRN_P12_PASSPHRASE)"},
			langFlag("write the pack"),
			tzFlag(),
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return usageErrorf("export takes at most one asset (got %d arguments)", c.NArg())
			}
			out := c.String("out")
			if out == "" && c.String("c2pa") == "" {
				return usageErrorf("where should the pack go? Give -o FILE.pdf")
			}
			if fi, err := os.Stat(out); err == nil && fi.IsDir() {
				return usageErrorf("-o %s is a directory; give a file name such as %s", out, filepath.Join(out, "evidence.pdf"))
			}
			if c.Bool("no-tsa") && (c.String("tsa") != "" || c.String("tsa-roots") != "") {
				return usageErrorf("--no-tsa makes a pack without a signature timestamp; it cannot go with --tsa or --tsa-roots")
			}
			// The certificate is read, and its passphrase asked, before the
			// ledger is opened: nothing waits on the terminal with a lock held.
			var signWith *export.CertSigner
			if p := c.String("sign-with"); p != "" {
				var err error
				if signWith, err = loadCertSigner(c, p); err != nil {
					return err
				}
			}
			var id *evidence.Identity
			var b *evidence.Book
			var err error
			if a := c.String("archive"); a != "" {
				var cleanup func()
				id, b, cleanup, err = openArchiveToExport(c, a, signWith != nil)
				if cleanup != nil {
					defer cleanup()
				}
			} else {
				id, b, err = openExporter(c, signWith != nil)
			}
			if err != nil {
				return err
			}
			if id == nil && c.String("c2pa") != "" {
				b.Close()
				return usageErrorf("--c2pa needs your cairn identity, which signs the manifest's ledger assertion; create one with: cairn id new --name \"Your Name\"")
			}
			// The ledger is locked only while it is read: drawing and signing
			// the pack must not keep the designer waiting.
			var once sync.Once
			release := func() { once.Do(func() { b.Close() }) }
			defer release()
			cfg, m, err := settings(c, b)
			if err != nil {
				return err
			}
			loc, err := zone(c, cfg, m)
			if err != nil {
				return err
			}
			asset := c.Args().First()
			if asset == "" {
				if cfg.Asset == "" {
					return usageErrorf("which asset? Give it as an argument (cairn export ASSET -o FILE.pdf), or choose one with: cairn use ID")
				}
				asset = cfg.Asset
			}
			var writeC2PA func() error
			if dir := c.String("c2pa"); dir != "" {
				if writeC2PA, err = prepareC2PA(c, b, id, asset, dir); err != nil {
					return err
				}
			}
			if out != "" {
				user, err := evidence.ReadUserConfig()
				if err != nil {
					return err
				}
				opts := export.Options{WithFiles: c.Bool("with-files"), DoneReading: release, SignWith: signWith,
					Lang: m, Zone: loc, Fonts: user.Fonts, SystemFonts: true}
				if !c.Bool("no-tsa") {
					url, roots, err := tsaSettings(c, b)
					if err != nil {
						return err
					}
					if url != "" {
						opts.TSA = &export.TSAOptions{URL: url, Roots: roots}
					}
				}
				p, err := export.ExportPack(b, id, asset, opts)
				var te *export.TSAError
				if errors.As(err, &te) {
					return fmt.Errorf("export FAILED, nothing was written: %w. Try again when the service answers, or make the pack without a signature timestamp on purpose: add --no-tsa", err)
				}
				if err != nil {
					return err
				}
				if err := writeFileAtomic(out, p.PDF); err != nil {
					return fmt.Errorf("writing %s: %w", out, err)
				}
				printExported(c, out, asset, p, id, signWith)
			}
			if writeC2PA != nil {
				return writeC2PA()
			}
			return nil
		},
	}
}

// writeFileAtomic writes data to a temporary file next to path and renames it,
// so that a failed export never leaves half a PDF under the final name.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	// An export killed part-way leaves its temporary file; the next one here
	// removes it.
	tmpfile.Sweep(dir, exportPattern)
	tmp, err := tmpfile.Create(dir, exportPattern)
	if err != nil {
		return err
	}
	defer tmp.Discard()
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	tmp.Chmod(0o644)
	return tmp.Commit(path)
}

const exportPattern = ".cairn-export-*"

// printExported says what was written: who signed it, and whether and by
// whom the signature is timestamped.
func printExported(c *cli.Context, out, asset string, p *export.Pack, id *evidence.Identity, signWith *export.CertSigner) {
	w := c.App.Writer
	by := ""
	if signWith != nil {
		cert := signWith.Chain[0]
		by = fmt.Sprintf("%s (certificate issued by %s)", safeLine(cert.Subject.String(), 120), safeLine(cert.Issuer.String(), 120))
	} else {
		by = id.Fingerprint()
	}
	fmt.Fprintf(w, "wrote %s: evidence pack for %s (%s), signed by %s\n", out, asset, evidence.HumanSize(int64(len(p.PDF))), by)
	switch {
	case p.Timestamp != nil:
		trust := "TSA chains to the configured roots"
		if !p.Checked {
			trust = "TSA not checked against trusted roots (configure them: cairn config tsa.roots FILE, or --tsa-roots FILE)"
		}
		fmt.Fprintf(w, "  signature timestamped: the pack existed no later than %s\n  TSA %s; %s\n", p.Timestamp.Latest().Format(time.RFC3339), safeLine(p.Timestamp.TSA, 120), trust)
	case c.Bool("no-tsa"):
		fmt.Fprintf(w, "  no signature timestamp (--no-tsa): the signing time is this computer's clock\n")
	}
}

// openExporter loads the identity and opens the ledger read-only. With a
// certificate to sign with, an identity is optional: without one, the
// exporter is a custodian known by the certificate alone.
func openExporter(c *cli.Context, haveCert bool) (*evidence.Identity, *evidence.Book, error) {
	if haveCert && !haveIdentity() {
		b, err := openBookWith(c, &evidence.OpenOptions{ReadOnly: true})
		return nil, b, err
	}
	return openSigningToRead(c)
}

// haveIdentity reports whether an identity key file exists.
func haveIdentity() bool {
	path, err := keyPath()
	if err != nil {
		return false
	}
	_, err = os.Stat(path)
	return !errors.Is(err, os.ErrNotExist)
}

// openArchiveToExport checks an archive and rebuilds its ledger in a private
// temporary directory, removed when the book is closed, so that legal staff
// can export from an archive a designer handed over without restoring it.
// With a certificate to sign with, an identity is optional.
func openArchiveToExport(c *cli.Context, path string, haveCert bool) (*evidence.Identity, *evidence.Book, func(), error) {
	var id *evidence.Identity
	if !haveCert || haveIdentity() {
		var err error
		if id, err = loadIdentity(c); err != nil {
			return nil, nil, nil, err
		}
	}
	dir, cleanup, err := rebuildTemp(c, path, "export FAILED, nothing was written", c.App.Writer)
	if err != nil {
		return nil, nil, nil, err
	}
	b, err := evidence.Open(dir, &evidence.OpenOptions{ReadOnly: true})
	if err != nil {
		cleanup()
		return nil, nil, nil, err
	}
	return id, b, cleanup, nil
}

// maxP12File bounds a PKCS #12 file: a key and a chain take a few KiB.
const maxP12File = 1 << 20

// loadCertSigner reads a PKCS #12 file with go-pkcs12, which reads what
// OpenSSL 3 writes by default (PBES2 with AES, an HMAC-SHA-256 MAC) as well as
// the legacy 3DES/RC2 files; golang.org/x/crypto/pkcs12 refuses the former
// ("unknown digest algorithm") and any file with a chain. A file without a
// passphrase is opened as it is; otherwise the passphrase comes from
// CAIRN_P12_PASSPHRASE or the terminal and is never printed.
func loadCertSigner(c *cli.Context, path string) (*export.CertSigner, error) {
	data, err := userfile.Read(path, "PKCS #12 file", maxP12File)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		fmt.Fprintf(c.App.ErrWriter, "cairn: warning: %s holds a private key and others may read it (mode %04o); chmod 600 %s\n", path, fi.Mode().Perm(), path)
	}
	const env = "CAIRN_P12_PASSPHRASE"
	pass := os.Getenv(env)
	key, leaf, chain, err := pkcs12.DecodeChain(data, pass)
	if errors.Is(err, pkcs12.ErrIncorrectPassword) && pass == "" {
		p, rerr := readSecret(env, "the PKCS #12 file "+path, "Passphrase for "+path+": ", false)
		if rerr != nil {
			return nil, rerr
		}
		key, leaf, chain, err = pkcs12.DecodeChain(data, string(p))
		if errors.Is(err, pkcs12.ErrIncorrectPassword) {
			return nil, usageErrorf("--sign-with %s: wrong passphrase", path)
		}
	} else if errors.Is(err, pkcs12.ErrIncorrectPassword) {
		return nil, usageErrorf("--sign-with %s: the passphrase in %s does not open it", path, env)
	}
	if err != nil {
		return nil, usageErrorf("--sign-with %s: not a PKCS #12 file with one key and its certificate: %v", path, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, usageErrorf("--sign-with %s: its key (%T) cannot sign", path, key)
	}
	// The leaf is the certificate of the key, wherever the file put it.
	all := append([]*x509.Certificate{leaf}, chain...)
	for i, cert := range all {
		if pub, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); ok && pub.Equal(signer.Public()) {
			all[0], all[i] = all[i], all[0]
			break
		}
	}
	cs := &export.CertSigner{Key: signer, Chain: all}
	if err := export.CheckCertSigner(cs, time.Now()); err != nil {
		return nil, usageErrorf("--sign-with %s: %v", path, err)
	}
	return cs, nil
}
