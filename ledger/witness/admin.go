package witness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// The witness server holds its store for as long as it runs, and Badger lets
// no other process open it. Commands that change or read the store while the
// server runs (cairn witness trust, list) ask the server instead, over a Unix
// socket in the store's directory, which only the store's owner can reach
// (the directory is mode 0700). Nothing of this is reachable over the network.

// AdminSocket is the name of the server's socket in the store's directory.
const AdminSocket = "admin.sock"

// ListenAdmin listens on the admin socket of the store in dir, replacing a
// stale socket file left by a server that died.
func ListenAdmin(dir string) (net.Listener, error) {
	p := dir + "/" + AdminSocket
	if len(p) > 100 {
		return nil, fmt.Errorf("the witness state directory %s has too long a path for its admin socket (%d bytes, at most 100); give --state a shorter one", dir, len(p))
	}
	// The caller holds the store's lock, so no live server owns the socket.
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return net.Listen("unix", p)
}

// AdminHandler serves the admin requests:
//
//	POST /trust    body "origin\nvkey\n": AddLog; answers "added" or "known"
//	GET  /records  every record, as a JSON object by origin
func AdminHandler(w *Witness) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /trust", func(rw http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 8<<10))
		origin, vkey, ok := strings.Cut(strings.TrimSuffix(string(body), "\n"), "\n")
		if err != nil || !ok {
			http.Error(rw, "the body is the origin and the key, one per line", http.StatusBadRequest)
			return
		}
		added, err := w.AddLog(origin, vkey)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		if added {
			io.WriteString(rw, "added\n")
		} else {
			io.WriteString(rw, "known\n")
		}
	})
	mux.HandleFunc("GET /records", func(rw http.ResponseWriter, r *http.Request) {
		out := map[string]*Record{}
		if err := w.store.Records(func(origin string, rec *Record) error { out[origin] = rec; return nil }); err != nil {
			http.Error(rw, err.Error(), http.StatusInternalServerError)
			return
		}
		rw.Header().Set("Content-Type", "application/json")
		json.NewEncoder(rw).Encode(out)
	})
	return mux
}

// ErrNoServer is returned by the admin client when no server answers.
var ErrNoServer = errors.New("no witness server is running for this state")

func adminClient(dir string) (*http.Client, error) {
	p := dir + "/" + AdminSocket
	if _, err := os.Stat(p); err != nil {
		return nil, ErrNoServer
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", p)
		},
	}}, nil
}

// AdminTrust asks the server that holds the store in dir to trust vkey for
// origin; it reports whether the key was new, or ErrNoServer.
func AdminTrust(dir, origin, vkey string) (bool, error) {
	hc, err := adminClient(dir)
	if err != nil {
		return false, err
	}
	resp, err := hc.Post("http://witness/trust", "text/plain", strings.NewReader(origin+"\n"+vkey+"\n"))
	if err != nil {
		return false, ErrNoServer // a socket file without a server behind it
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
	if resp.StatusCode != http.StatusOK {
		return false, errors.New(strings.TrimSpace(string(body)))
	}
	return string(body) == "added\n", nil
}

// AdminRecords asks the server that holds the store in dir for every record,
// or returns ErrNoServer.
func AdminRecords(dir string) (map[string]*Record, error) {
	hc, err := adminClient(dir)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Get("http://witness/records")
	if err != nil {
		return nil, ErrNoServer
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
		return nil, errors.New(strings.TrimSpace(string(body)))
	}
	out := map[string]*Record{}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 256<<20)).Decode(&out); err != nil {
		return nil, fmt.Errorf("the witness server's records: %v", err)
	}
	return out, nil
}
