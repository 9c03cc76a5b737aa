package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/transparency-dev/tessera"
	"github.com/urfave/cli/v2"

	"github.com/cairn-ledger/cairn/evidence"
	"github.com/cairn-ledger/cairn/ledger/studio"
	"github.com/cairn-ledger/cairn/ledger/witness"
)

func cmdWitnessServe() *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "run the witness as a C2SP tlog-witness server, optionally with the studio log",
		Description: `serve answers C2SP tlog-witness requests (POST /add-checkpoint) until it is
stopped (Ctrl-C or SIGTERM). Each checkpoint it cosigns is on disk before the
answer: the state of each ledger is one record in the witness state directory.
It answers 404 for a ledger it does not follow, 403 for a checkpoint no trusted
key signed, 409 (with its size) for a stale old size, and 422 for a bad proof or
another root at the same size. GET /<SHA-256 of origin, hex>/checkpoint gives
the last checkpoint cosigned. A request body has at most 35 KiB (413 beyond),
and one client address at most --rate requests a second on average (429).

With --log DIR it appends every checkpoint it cosigns, before answering, to the
studio log in DIR: a transparency log run by Trillian Tessera on its POSIX
driver, in C2SP tlog-tiles files, served read-only under /log/. Checkpoints it
refuses as a fork or a rollback are kept there too, as evidence. The log's
checkpoints are signed with the studio key (cairn witness id --log), timestamped
by --tsa, and cosigned by the witnesses of --log-witnesses (a Sigsum-style
policy file, as Tessera reads it). One witness writes a log directory.

While it runs, cairn witness trust and list ask it (over a socket in the state
directory, which only you can reach).

Examples:
  cairn witness serve --listen 127.0.0.1:7380
  cairn witness serve --listen :7380 --log /srv/studio-log --tsa https://freetsa.org/tsr --tsa-roots freetsa.pem
  cairn witness serve --listen :7443 --tls-cert cert.pem --tls-key key.pem --log /srv/studio-log`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Usage: "the address to listen on, such as :7380 or 127.0.0.1:7380", Required: true},
			&cli.StringFlag{Name: "log", Usage: "keep the studio log in this directory"},
			logOriginFlag(),
			&cli.DurationFlag{Name: "log-interval", Value: time.Second, Usage: "how often the studio log publishes a checkpoint while entries arrive"},
			&cli.StringFlag{Name: "log-witnesses", Usage: "a witness policy file for the studio log's checkpoints (Tessera's format)"},
			&cli.StringFlag{Name: "tsa", Usage: "an RFC 3161 time-stamping service for the studio log's checkpoints"},
			&cli.StringFlag{Name: "tsa-roots", Usage: "PEM roots the TSA's tokens must chain to"},
			&cli.DurationFlag{Name: "tsa-every", Value: time.Minute, Usage: "timestamp a studio log checkpoint at most this often (0: every new one)"},
			&cli.StringFlag{Name: "tls-cert", Usage: "serve HTTPS with this PEM certificate (chain)"},
			&cli.StringFlag{Name: "tls-key", Usage: "the PEM private key of --tls-cert"},
			&cli.Float64Flag{Name: "rate", Value: 20, Usage: "add-checkpoint requests per second one client address may make (0: no limit)"},
			&cli.IntFlag{Name: "burst", Value: 100, Usage: "requests one client address may make at once above --rate"},
			&cli.StringFlag{Name: "url-file", Usage: "write the server's URL to this file once it listens (for scripts; --listen 127.0.0.1:0 picks a free port)"},
			stateFlag(),
		},
		Action: witnessServe,
	}
}

func witnessServe(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageErrorf("serve takes no arguments (got %q)", c.Args().First())
	}
	var tlsCert *tls.Certificate
	switch cert, key := c.String("tls-cert"), c.String("tls-key"); {
	case cert != "" && key != "":
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return usageErrorf("--tls-cert/--tls-key: %v", err)
		}
		tlsCert = &pair
	case cert != "" || key != "":
		return usageErrorf("give both --tls-cert and --tls-key")
	}
	logDir := c.String("log")
	var policy *tessera.WitnessGroup
	if p := c.String("log-witnesses"); p != "" {
		if logDir == "" {
			return usageErrorf("--log-witnesses needs --log DIR")
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return usageErrorf("--log-witnesses: %v", err)
		}
		g, err := tessera.NewWitnessGroupFromPolicy(data)
		if err != nil {
			return usageErrorf("--log-witnesses %s: %v", p, err)
		}
		policy = &g
	}
	if (c.String("tsa") != "" || c.String("tsa-roots") != "") && logDir == "" {
		return usageErrorf("--tsa and --tsa-roots date the studio log's checkpoints: they need --log DIR")
	}
	var roots *x509.CertPool
	if p := c.String("tsa-roots"); p != "" {
		pool, _, err := evidence.LoadRoots(p)
		if err != nil {
			return usageErrorf("--tsa-roots: %v", err)
		}
		roots = pool
	}

	// Listen first: a taken port is an input error, and nothing was opened.
	ln, err := net.Listen("tcp", c.String("listen"))
	if err != nil {
		return usageErrorf("--listen %s: %v", c.String("listen"), err)
	}
	defer ln.Close()

	w, err := openWitness(c, 2*time.Second)
	if err != nil {
		return err
	}
	defer w.Store().Close()
	logger := log.New(c.App.ErrWriter, "cairn witness: ", log.LstdFlags)

	mux := http.NewServeMux()
	mux.Handle("/", witness.Handler(w, witness.HandlerOptions{Rate: c.Float64("rate"), Burst: c.Int("burst"), Log: logger}))
	var slog *studio.Log
	if logDir != "" {
		_, seed, err := loadCosigner(c)
		if err != nil {
			return err
		}
		origin := studioLogOrigin(c, w.Cosigner())
		key, err := studio.DeriveKey(seed, origin)
		if err != nil {
			return err
		}
		opts := studio.Options{Origin: origin, Key: key, Witnesses: policy, CheckpointInterval: c.Duration("log-interval"),
			TSA: c.String("tsa"), TSARoots: roots, TSAEvery: c.Duration("tsa-every"), Log: logger}
		if slog, err = studio.Open(logDir, opts); err != nil {
			if errors.Is(err, studio.ErrLocked) {
				return usageErrorf("%v", err)
			}
			return err
		}
		// Tessera's goroutines stop when the log is closed, on every way out.
		defer func() {
			if err := slog.Close(); err != nil {
				logger.Print(err)
			}
		}()
		w.SetStudioLog(slog)
		n, err := w.CatchUpStudio(context.Background())
		if err != nil {
			return fmt.Errorf("bringing the studio log up to date: %v", err)
		}
		if n > 0 {
			fmt.Fprintf(c.App.ErrWriter, "added the last cosigned checkpoint of %d logs to the studio log\n", n)
		}
		mux.Handle("/log/", http.StripPrefix("/log", studio.Handler(logDir)))
	}

	admin, err := witness.ListenAdmin(w.Store().Dir())
	if err != nil {
		return err
	}
	adminSrv := &http.Server{Handler: witness.AdminHandler(w), ReadHeaderTimeout: 5 * time.Second}
	go adminSrv.Serve(admin)
	defer func() {
		adminSrv.Close()
		os.Remove(admin.Addr().String())
	}()

	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          logger,
	}
	scheme := "http"
	if tlsCert != nil {
		scheme = "https"
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*tlsCert}, MinVersion: tls.VersionTLS12}
	}
	url := fmt.Sprintf("%s://%s", scheme, ln.Addr())
	fmt.Fprintf(c.App.Writer, "witness %s serving C2SP tlog-witness at %s/\n", w.Cosigner().Name(), url)
	if slog != nil {
		fmt.Fprintf(c.App.Writer, "studio log %s at %s/log/ (%s)\n", slog.Origin(), url, logDir)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if p := c.String("url-file"); p != "" {
		if err := os.WriteFile(p+".tmp", []byte(url+"\n"), 0o644); err != nil {
			return err
		}
		if err := os.Rename(p+".tmp", p); err != nil {
			return err
		}
		defer os.Remove(p)
	}
	done := make(chan error, 1)
	go func() {
		if tlsCert != nil {
			done <- srv.ServeTLS(ln, "", "")
		} else {
			done <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-done:
		return fmt.Errorf("serving: %v", err)
	case <-ctx.Done():
	}
	fmt.Fprintln(c.App.ErrWriter, "stopping: finishing the requests under way")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Printf("shutdown: %v", err)
	}
	return nil
}
