package witness

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// post sends body to the witness with a plain HTTP client, the way C2SP
// tlog-witness describes it, and returns the status, content type and body.
func postRaw(t *testing.T, url, body string) (int, string, string) {
	t.Helper()
	resp, err := http.Post(url+"/add-checkpoint", "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

// request writes an add-checkpoint body by hand from the spec: "old N", one
// base64 hash per line, an empty line, the checkpoint.
func request(old int64, proof tlog.TreeProof, cp []byte) string {
	s := fmt.Sprintf("old %d\n", old)
	for _, h := range proof {
		s += base64.StdEncoding.EncodeToString(h[:]) + "\n"
	}
	return s + "\n" + string(cp)
}

// TestHTTPAgainstSpec checks each answer C2SP tlog-witness specifies with a
// plain HTTP client: 200 with signature lines, 400, 403, 404, 409 with
// text/x.tlog.size, 422; and the bounds: 413 and 429.
func TestHTTPAgainstSpec(t *testing.T) {
	f := newFixture(t)
	srv := httptest.NewServer(Handler(f.w, HandlerOptions{Rate: 1000, Burst: 1000}))
	defer srv.Close()

	cp5 := f.log.checkpoint(t, 5)
	code, ct, body := postRaw(t, srv.URL, request(0, nil, cp5))
	if code != 200 || !strings.HasPrefix(body, "— "+witnessName+" ") || !strings.HasSuffix(body, "\n") || strings.Count(body, "\n") != 1 {
		t.Fatalf("200: %d %q %q", code, ct, body)
	}
	// The client may concatenate the answer to the checkpoint and open it with
	// the witness key (the spec's suggestion).
	if _, err := note.Open([]byte(string(cp5)+body), note.VerifierList(f.verifier(t))); err != nil {
		t.Fatalf("answer does not verify: %v", err)
	}

	// 409: a stale old size, answered with the witness's size.
	f.log.tree.grow(t, 8, "record ")
	cp8 := f.log.checkpoint(t, 8)
	code, ct, body = postRaw(t, srv.URL, request(2, f.log.tree.proof(t, 2, 8), cp8))
	if code != 409 || ct != "text/x.tlog.size" || body != "5\n" {
		t.Fatalf("409: %d %q %q", code, ct, body)
	}
	// Retried from that size it is cosigned.
	if code, _, body = postRaw(t, srv.URL, request(5, f.log.tree.proof(t, 5, 8), cp8)); code != 200 {
		t.Fatalf("retry: %d %q", code, body)
	}

	// 422: a bad proof, and another root at the same size.
	f.log.tree.grow(t, 9, "record ")
	cp9 := f.log.checkpoint(t, 9)
	if code, _, body = postRaw(t, srv.URL, request(8, f.log.tree.proof(t, 7, 9), cp9)); code != 422 {
		t.Errorf("bad proof: %d %q", code, body)
	}
	fork := &memTree{}
	fork.grow(t, 8, "rewritten ")
	if code, _, body = postRaw(t, srv.URL, request(8, nil, f.log.sign(t, 8, fork.root(t, 8)))); code != 422 {
		t.Errorf("fork: %d %q", code, body)
	}
	if code, _, body = postRaw(t, srv.URL, request(0, tlog.TreeProof{{}}, cp9)); code != 409 {
		t.Errorf("stale old size with a proof: %d %q", code, body)
	}

	// 403: no trusted signature, or a trusted key's signature that fails.
	impostor := newTestLog(t, testOrigin)
	if code, _, body = postRaw(t, srv.URL, request(0, nil, impostor.checkpoint(t, 3))); code != 403 {
		t.Errorf("untrusted key: %d %q", code, body)
	}
	if code, _, body = postRaw(t, srv.URL, request(8, nil, corruptLastSignature(t, cp8))); code != 403 {
		t.Errorf("bad signature: %d %q", code, body)
	}

	// 404: an origin the witness does not follow.
	other := newTestLog(t, "example.com/not-followed")
	if code, _, body = postRaw(t, srv.URL, request(0, nil, other.checkpoint(t, 3))); code != 404 {
		t.Errorf("unknown origin: %d %q", code, body)
	}

	// 400: an old size above the checkpoint's, and bodies that are not requests.
	for name, b := range map[string]string{
		"old above size": request(9, nil, cp8),
		"no old line":    string(cp8),
		"no empty line":  "old 8\n" + string(cp8),
	} {
		if code, _, body = postRaw(t, srv.URL, b); code != 400 {
			t.Errorf("%s: %d %q", name, code, body)
		}
	}
	// Only POST.
	resp, err := http.Get(srv.URL + "/add-checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /add-checkpoint: %d", resp.StatusCode)
	}

	// 413: a body larger than any request can be is not read to its end.
	big := "old 0\n\n" + strings.Repeat("x", MaxRequestSize)
	if code, _, _ = postRaw(t, srv.URL, big); code != http.StatusRequestEntityTooLarge {
		t.Errorf("large body: %d", code)
	}

	// The monitoring endpoint serves the latest cosigned checkpoint.
	h := sha256.Sum256([]byte(testOrigin))
	resp, err = http.Get(srv.URL + "/" + hex.EncodeToString(h[:]) + "/checkpoint")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.HasPrefix(got, cp8) {
		t.Errorf("checkpoint endpoint: %d %q", resp.StatusCode, got)
	}
	h = sha256.Sum256([]byte("example.com/not-followed"))
	resp, _ = http.Get(srv.URL + "/" + hex.EncodeToString(h[:]) + "/checkpoint")
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("checkpoint of an unknown log: %d", resp.StatusCode)
	}
}

func TestHTTPRateLimit(t *testing.T) {
	f := newFixture(t)
	srv := httptest.NewServer(Handler(f.w, HandlerOptions{Rate: 0.001, Burst: 3}))
	defer srv.Close()
	cp := f.log.checkpoint(t, 2)
	var codes []int
	for range 5 {
		code, _, _ := postRaw(t, srv.URL, request(0, nil, cp))
		codes = append(codes, code)
	}
	if fmt.Sprint(codes) != "[200 409 409 429 429]" {
		t.Errorf("codes %v", codes)
	}
}
