package witness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/cairn-ledger/cairn/ledger"
)

// An Answer is a witness's answer to a checkpoint it cosigned.
type Answer struct {
	// Note is the checkpoint with the witness's cosignature line added, which
	// was checked with the witness's verifier.
	Note []byte
	// Old is the old size the witness accepted the checkpoint from.
	Old int64
	// StudioLog and StudioIndex say where the witness's studio log holds the
	// cosigned checkpoint; StudioIndex is -1 if the witness keeps no such log.
	StudioLog   string
	StudioIndex int64
}

// maxAnswerSize bounds what a client reads of a witness's answer.
const maxAnswerSize = 64 << 10

// Submit asks the witness whose submission prefix is url to cosign checkpoint,
// a signed checkpoint note, guessing that it cosigned size guess last. prove
// returns the consistency proof from an old size to the checkpoint's. On a 409
// it proves from the size the witness names, and tries again, up to three
// times. The cosignature must verify with v, the witness's key the caller
// trusts; other signature lines in the answer are ignored.
//
// A refusal is an error that Status maps back to its HTTP status: a
// *ConflictError (with Rollback set when the witness has seen more of the log
// than the checkpoint holds), or one wrapping ErrMalformed, ErrUntrusted,
// ErrUnknownLog, ErrFork or ErrInconsistent (422), or ErrUnavailable.
func Submit(ctx context.Context, hc *http.Client, url string, checkpoint []byte, guess int64, prove func(old int64) (tlog.TreeProof, error), v note.Verifier) (*Answer, error) {
	cp, err := ledger.ParseCheckpoint(checkpoint)
	if err != nil {
		return nil, err
	}
	endpoint := strings.TrimSuffix(url, "/") + "/add-checkpoint"
	old := min(guess, cp.Size)
	for try := 0; ; try++ {
		var proof tlog.TreeProof
		if old > 0 && old < cp.Size {
			if proof, err = prove(old); err != nil {
				return nil, err
			}
		}
		ans, err := post(ctx, hc, endpoint, old, proof, checkpoint)
		var conflict *ConflictError
		if errors.As(err, &conflict) {
			conflict.Origin = cp.Origin
			if conflict.Size > cp.Size {
				conflict.Rollback = true
				return nil, conflict
			}
			if try < 3 && conflict.Size != old {
				old = conflict.Size
				continue
			}
			return nil, conflict
		}
		if err != nil {
			return nil, err
		}
		signed := append(bytes.Clone(checkpoint), ans.Note...)
		n, err := note.Open(signed, note.VerifierList(v))
		if err != nil {
			return nil, fmt.Errorf("witness at %s answered without a valid cosignature by %s: %v", url, v.Name(), err)
		}
		var line []byte
		for _, s := range n.Sigs {
			line = fmt.Appendf(nil, "— %s %s\n", s.Name, s.Base64)
		}
		ans.Note = append(bytes.Clone(checkpoint), line...)
		ans.Old = old
		return ans, nil
	}
}

// post sends one request; a 200's body is returned in Answer.Note.
func post(ctx context.Context, hc *http.Client, endpoint string, old int64, proof tlog.TreeProof, checkpoint []byte) (*Answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(FormatRequest(old, proof, checkpoint)))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading the witness's answer: %v", err)
	}
	if len(body) > maxAnswerSize {
		return nil, fmt.Errorf("the witness's answer is larger than %d bytes", maxAnswerSize)
	}
	said := strings.TrimSpace(string(body))
	if len(said) > 300 {
		said = said[:300] + "…"
	}
	switch resp.StatusCode {
	case http.StatusOK:
		ans := &Answer{Note: body, StudioIndex: -1, StudioLog: resp.Header.Get(HeaderStudioLog)}
		if s := resp.Header.Get(HeaderStudioIndex); s != "" && ans.StudioLog != "" {
			if ans.StudioIndex, err = strconv.ParseInt(s, 10, 64); err != nil || ans.StudioIndex < 0 {
				return nil, fmt.Errorf("the witness's %s header %q is not an index", HeaderStudioIndex, s)
			}
		}
		return ans, nil
	case http.StatusConflict:
		if ct := resp.Header.Get("Content-Type"); ct != SizeContentType {
			return nil, fmt.Errorf("the witness answered 409 with Content-Type %q, not %s", ct, SizeContentType)
		}
		size, err := ParseSize(body)
		if err != nil {
			return nil, err
		}
		return nil, &ConflictError{Size: size}
	}
	kind := map[int]error{
		http.StatusBadRequest:          ErrMalformed,
		http.StatusForbidden:           ErrUntrusted,
		http.StatusNotFound:            ErrUnknownLog,
		http.StatusUnprocessableEntity: ErrInconsistent,
		http.StatusServiceUnavailable:  ErrUnavailable,
	}[resp.StatusCode]
	if kind == nil {
		return nil, fmt.Errorf("the witness answered %s: %s", resp.Status, said)
	}
	return nil, fmt.Errorf("%w (the witness answered %s: %s)", kind, resp.Status, said)
}
