package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/cairn-ledger/cairn/internal/ceiling"
	"github.com/cairn-ledger/cairn/ledger"
	"github.com/cairn-ledger/cairn/ledger/witness"
)

// benchLog is a ledger reduced to what the witness sees of it: records' leaf
// hashes, and its checkpoint key.
type benchLog struct {
	origin string
	key    ed25519.PrivateKey
	hashes []tlog.Hash
	n      int64
}

func (l *benchLog) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		out[i] = l.hashes[x]
	}
	return out, nil
}

// next appends a record and returns the add-checkpoint request for the new
// size, proven from the size before.
func (l *benchLog) next(b *testing.B) []byte {
	var rec [32]byte
	rand.Read(rec[:])
	hs, err := tlog.StoredHashes(l.n, rec[:], l)
	if err != nil {
		b.Fatal(err)
	}
	l.hashes = append(l.hashes, hs...)
	old := l.n
	l.n++
	root, err := tlog.TreeHash(l.n, l)
	if err != nil {
		b.Fatal(err)
	}
	var proof tlog.TreeProof
	if old > 0 {
		if proof, err = tlog.ProveTree(l.n, old, l); err != nil {
			b.Fatal(err)
		}
	}
	body := (&ledger.Checkpoint{Origin: l.origin, Size: l.n, Root: root}).Body()
	text, err := note.Sign(&note.Note{Text: body}, ledger.NoteSigner(l.origin, l.key))
	if err != nil {
		b.Fatal(err)
	}
	return witness.FormatRequest(old, proof, text)
}

// BenchmarkPublish is the studio witness's throughput: publishes per second
// (an add-checkpoint request, with its consistency proof, answered 200) to a
// `cairn witness serve` process, with its studio log (Tessera) and without,
// from 256 ledgers at once. Requests are made before the timing; the clients
// run in this process. Each timed round is followed by a window as long as it
// of the work a publish cannot avoid, on every core: verifying the ledger's
// signature and signing the cosignature (the signing ceiling). A publish also
// writes the witness's record (Badger, synced) and, with the log, waits for
// Tessera to sequence its entry (batches of up to 50 ms).
func BenchmarkPublish(b *testing.B) {
	bin, err := buildCairn()
	if err != nil {
		b.Fatal(err)
	}
	const logs, rounds, perRound = 256, 3, 8
	for _, withLog := range []bool{true, false} {
		name := "witness+log"
		if !withLog {
			name = "witness-only"
		}
		b.Run(name, func(b *testing.B) {
			dir := b.TempDir()
			cfg := filepath.Join(dir, "cfg")
			env := append(os.Environ(), "XDG_CONFIG_HOME="+cfg, "CAIRN_WITNESS_KEY=")
			init := exec.Command(bin, "witness", "init", "--name", "bench.example/witness")
			init.Env = env
			if out, err := init.CombinedOutput(); err != nil {
				b.Fatalf("witness init: %v\n%s", err, out)
			}
			st, err := witness.OpenStore(filepath.Join(cfg, "cairn", "witness-state"), time.Second)
			if err != nil {
				b.Fatal(err)
			}
			w := witness.New(st, nil)
			var ls []*benchLog
			for range logs {
				pub, key, _ := ed25519.GenerateKey(rand.Reader)
				l := &benchLog{origin: ledger.NewOrigin(), key: key}
				if _, err := w.AddLog(l.origin, ledger.VerifierKey(l.origin, pub)); err != nil {
					b.Fatal(err)
				}
				ls = append(ls, l)
			}
			st.Close()
			reqs := make([][][]byte, logs) // by log, in order
			for i, l := range ls {
				for range 1 + rounds*perRound {
					reqs[i] = append(reqs[i], l.next(b))
				}
			}

			ln, _ := net.Listen("tcp", "127.0.0.1:0")
			addr := ln.Addr().String()
			ln.Close()
			args := []string{"witness", "serve", "--listen", addr, "--rate", "0", "--url-file", filepath.Join(dir, "url")}
			if withLog {
				args = append(args, "--log", filepath.Join(dir, "log"))
			}
			srv := exec.Command(bin, args...)
			srv.Env = env
			var serr bytes.Buffer
			srv.Stderr = &serr
			if err := srv.Start(); err != nil {
				b.Fatal(err)
			}
			defer func() { srv.Process.Kill(); srv.Wait() }()
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				if _, err := os.Stat(filepath.Join(dir, "url")); err == nil {
					break
				}
				if time.Now().After(deadline) {
					b.Fatalf("the witness did not start:\n%s", serr.String())
				}
			}
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: logs}}
			url := "http://" + addr + "/add-checkpoint"

			var pubTime, ceilTime time.Duration
			var pubs, ceilOps int64
			var rates []float64
			sig := ed25519.Sign(ls[0].key, []byte("bench"))
			pub := ls[0].key.Public().(ed25519.PublicKey)
			_, wkey, _ := ed25519.GenerateKey(rand.Reader)
			b.ResetTimer()
			// Round 0 warms up (connections, the first write of each record)
			// and is not counted.
			for r := range rounds + 1 {
				first, last := 0, 1
				if r > 0 {
					first, last = 1+(r-1)*perRound, 1+r*perRound
				}
				var wg sync.WaitGroup
				var failed atomic.Value
				start := time.Now()
				for i := range ls {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for _, body := range reqs[i][first:last] {
							resp, err := hc.Post(url, "text/plain", bytes.NewReader(body))
							if err != nil {
								failed.Store(err.Error())
								return
							}
							out, _ := io.ReadAll(resp.Body)
							resp.Body.Close()
							if resp.StatusCode != 200 {
								failed.Store(fmt.Sprintf("%s: %s", resp.Status, out))
								return
							}
						}
					}()
				}
				wg.Wait()
				d := time.Since(start)
				if f := failed.Load(); f != nil {
					b.Fatalf("publish: %v", f)
				}
				if r == 0 {
					continue
				}
				pubTime += d
				pubs += logs * perRound
				rates = append(rates, float64(logs*perRound)/d.Seconds())
				// The ceiling, for as long: verify + cosign on every core.
				ops, took := ceiling.Run(d, func() {
					ed25519.Verify(pub, []byte("bench"), sig)
					ed25519.Sign(wkey, []byte("cosignature/v1\ntime 1\nbench"))
				})
				ceilTime += took
				ceilOps += ops
			}
			b.StopTimer()
			sort.Float64s(rates)
			rate := float64(pubs) / pubTime.Seconds()
			ceiling := float64(ceilOps) / ceilTime.Seconds()
			b.ReportMetric(rate, "publishes/s")
			b.ReportMetric(rates[0], "min-publishes/s")
			b.ReportMetric(rates[len(rates)-1], "max-publishes/s")
			b.ReportMetric(ceiling, "verify+sign-ceiling/s")
			b.ReportMetric(100*rate/ceiling, "%-of-ceiling")
			b.ReportMetric(0, "ns/op")
			b.Logf("%s: %d publishes from %d ledgers in %d rounds: %.0f/s (rounds %s); ceiling %.0f/s",
				name, pubs, logs, rounds, rate, fmtRates(rates), ceiling)
		})
	}
}

func fmtRates(rs []float64) string {
	var s []string
	for _, r := range rs {
		s = append(s, fmt.Sprintf("%.0f", r))
	}
	return strings.Join(s, ", ")
}
