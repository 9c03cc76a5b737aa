package witness

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// Earlier releases kept a witness's state in one JSON file. It is read only to
// import it into a Store (FORMAT.md §3.2, "Earlier JSON state").

// stateVersion is the version of the JSON state file format.
const stateVersion = 1

// maxStateSize bounds the state file, which holds one small entry per log.
const maxStateSize = 16 << 20

// State is an earlier release's witness state file.
type State struct {
	Version int             `json:"version"`
	Logs    map[string]*Log `json:"logs"` // by checkpoint origin
}

// Log is the JSON state of one log: its keys and the largest checkpoint
// cosigned (size, root and the note as received; empty until the first), and
// the Unix time of the latest cosignature.
type Log struct {
	Keys       []string  `json:"keys"`
	Size       int64     `json:"size"`
	Root       tlog.Hash `json:"root"`
	Checkpoint string    `json:"checkpoint,omitempty"`
	Time       int64     `json:"time,omitempty"`
}

// ParseState parses and checks a JSON state file.
func ParseState(data []byte) (*State, error) {
	if len(data) > maxStateSize {
		return nil, fmt.Errorf("witness state: %d bytes is too large", len(data))
	}
	var s State
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("witness state: %v", err)
	}
	if dec.More() {
		return nil, errors.New("witness state: trailing data")
	}
	if s.Version != stateVersion {
		return nil, fmt.Errorf("witness state: version %d, want %d", s.Version, stateVersion)
	}
	if s.Logs == nil {
		s.Logs = map[string]*Log{}
	}
	for origin, l := range s.Logs {
		if err := l.check(origin); err != nil {
			return nil, fmt.Errorf("witness state: log %q: %v", origin, err)
		}
	}
	return &s, nil
}

func (l *Log) check(origin string) error {
	if l == nil {
		return errors.New("no entry")
	}
	r := &Record{Keys: l.Keys, Size: l.Size, Root: l.Root, Checkpoint: l.Checkpoint, Time: l.Time}
	if l.Checkpoint == "" && l.Time != 0 {
		return errors.New("time without a checkpoint")
	}
	return r.check(origin)
}

// Marshal encodes the state as indented JSON, logs sorted by origin.
func (s *State) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(s, "", "\t")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
