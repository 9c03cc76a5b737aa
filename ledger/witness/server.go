package witness

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Headers of a 200 answer that tell a cairn client where the studio log holds
// the cosigned checkpoint. C2SP clients ignore them.
const (
	HeaderStudioLog   = "Cairn-Studio-Log"       // the studio log's origin
	HeaderStudioIndex = "Cairn-Studio-Log-Index" // the entry's index
)

// SizeContentType is the content type of a 409 answer (C2SP tlog-witness).
const SizeContentType = "text/x.tlog.size"

// HandlerOptions bound what one client may ask of the witness.
type HandlerOptions struct {
	// Rate is the number of add-checkpoint requests per second one client
	// address may make on average, Burst how many at once; 0 is unlimited.
	Rate  float64
	Burst int
	// Log, if set, gets one line per refused or failed request.
	Log *log.Logger
}

// Handler serves C2SP tlog-witness over HTTP:
//
//	POST /add-checkpoint           the witness's answer (Witness.AddCheckpoint)
//	GET  /<hex SHA-256 of origin>/checkpoint   the latest cosigned checkpoint
//
// Request bodies are bounded (MaxRequestSize, else 413), and so is each client
// address's rate (429 with Retry-After).
func Handler(w *Witness, opts HandlerOptions) http.Handler {
	h := &handler{w: w, opts: opts, buckets: map[string]*bucket{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /add-checkpoint", h.addCheckpoint)
	mux.HandleFunc("GET /{hash}/checkpoint", h.latest)
	return mux
}

type handler struct {
	w    *Witness
	opts HandlerOptions

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

// A bucket is a token bucket for one client address.
type bucket struct {
	tokens float64
	last   time.Time
}

// allow takes a token for the client at addr, if it has one.
func (h *handler) allow(addr string) bool {
	if h.opts.Rate <= 0 {
		return true
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	burst := float64(max(h.opts.Burst, 1))
	now := time.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	// Forget idle clients now and then, so that the table stays small.
	if now.Sub(h.swept) > time.Minute {
		for k, b := range h.buckets {
			if now.Sub(b.last).Seconds()*h.opts.Rate >= burst {
				delete(h.buckets, k)
			}
		}
		h.swept = now
	}
	b := h.buckets[host]
	if b == nil {
		b = &bucket{tokens: burst, last: now}
		h.buckets[host] = b
	}
	b.tokens = min(burst, b.tokens+now.Sub(b.last).Seconds()*h.opts.Rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (h *handler) addCheckpoint(rw http.ResponseWriter, req *http.Request) {
	if !h.allow(req.RemoteAddr) {
		rw.Header().Set("Retry-After", "1")
		http.Error(rw, "too many requests from this address; try again in a second", http.StatusTooManyRequests)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(rw, req.Body, MaxRequestSize))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		http.Error(rw, fmt.Sprintf("a request body may have at most %d bytes", MaxRequestSize), http.StatusRequestEntityTooLarge)
		return
	case err != nil:
		http.Error(rw, "reading the request: "+err.Error(), http.StatusBadRequest)
		return
	}
	old, proof, cp, err := ParseRequest(body)
	var cs *Cosigned
	if err == nil {
		cs, err = h.w.AddCheckpoint(req.Context(), old, proof, cp)
	}
	if err != nil {
		var conflict *ConflictError
		if errors.As(err, &conflict) {
			rw.Header().Set("Content-Type", SizeContentType)
			rw.WriteHeader(http.StatusConflict)
			fmt.Fprintf(rw, "%d\n", conflict.Size)
			return
		}
		status := Status(err)
		if h.opts.Log != nil {
			h.opts.Log.Printf("%s: %d: %v", req.RemoteAddr, status, err)
		}
		msg := err.Error()
		if status == http.StatusInternalServerError {
			msg = "the witness could not record the checkpoint; try again later"
		}
		http.Error(rw, msg, status)
		return
	}
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if cs.Studio != nil {
		rw.Header().Set(HeaderStudioLog, cs.Studio.Log)
		rw.Header().Set(HeaderStudioIndex, strconv.FormatInt(cs.Studio.Index, 10))
	}
	rw.Write(cs.Line)
}

func (h *handler) latest(rw http.ResponseWriter, req *http.Request) {
	raw, err := hex.DecodeString(req.PathValue("hash"))
	if err != nil || len(raw) != 32 || strings.ToLower(req.PathValue("hash")) != req.PathValue("hash") {
		http.NotFound(rw, req)
		return
	}
	note, err := h.w.Latest([32]byte(raw))
	if err != nil {
		http.Error(rw, "reading the witness state failed", http.StatusInternalServerError)
		return
	}
	if note == nil {
		http.NotFound(rw, req)
		return
	}
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	rw.Header().Set("Cache-Control", "no-cache")
	rw.Write(note)
}
