package witness

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/cairn-ledger/cairn/ledger"
)

// A Record is what the witness keeps for one log, under the log's origin: the
// keys it trusts for it and the latest checkpoint it cosigned (FORMAT.md §3.2,
// "Witness state"). One record per origin, written in one transaction.
type Record struct {
	// Keys are the signed-note verifier keys (Ed25519, "name+hash+key") whose
	// signature makes a checkpoint of this log acceptable. Added by AddLog only:
	// a key is never learned from a checkpoint.
	Keys []string `json:"keys"`

	// Size and Root are the latest checkpoint cosigned; 0 and the zero hash until
	// the first. Checkpoint is that note with only the log signatures the witness
	// verified; Cosignature the witness's signature line on it. A note made of
	// the two is what the witness logs in its studio log. Cosignature is empty
	// for state imported from a JSON state file, which kept none.
	Size        int64     `json:"size"`
	Root        tlog.Hash `json:"root"`
	Checkpoint  string    `json:"checkpoint,omitempty"`
	Cosignature string    `json:"cosignature,omitempty"`

	// Time is the Unix time of the latest cosignature; cosignatures of one log
	// never go back in time, even if the clock does.
	Time int64 `json:"time,omitempty"`

	// Studio says where the studio log holds Checkpoint with Cosignature, once
	// it does.
	Studio *StudioRef `json:"studio,omitempty"`
}

// A StudioRef is the position of a cosigned checkpoint in a studio log.
type StudioRef struct {
	Log   string `json:"log"`   // the studio log's origin
	Index int64  `json:"index"` // the entry's index in it
}

// Cosigned returns the note the witness logs for the record's checkpoint: the
// checkpoint with its verified log signatures and the witness's cosignature.
func (r *Record) Cosigned() []byte {
	if r.Cosignature == "" {
		return nil
	}
	return []byte(r.Checkpoint + r.Cosignature)
}

func (r *Record) check(origin string) error {
	if !ledger.ValidOrigin(origin) {
		return errors.New("invalid origin")
	}
	if len(r.Keys) == 0 {
		return errors.New("no keys")
	}
	for _, k := range r.Keys {
		if _, err := note.NewVerifier(k); err != nil {
			return fmt.Errorf("key %q: %v", k, err)
		}
	}
	if r.Size < 0 || r.Time < 0 {
		return errors.New("negative size or time")
	}
	if r.Checkpoint == "" {
		if r.Size != 0 || r.Root != (tlog.Hash{}) || r.Cosignature != "" || r.Studio != nil {
			return errors.New("size, root, cosignature or studio log entry without a checkpoint")
		}
		return nil
	}
	c, err := ledger.ParseCheckpoint([]byte(r.Checkpoint))
	if err != nil {
		return err
	}
	if c.Origin != origin || c.Size != r.Size || c.Root != r.Root {
		return errors.New("checkpoint does not match size and root")
	}
	return nil
}

// A Store keeps a witness's records in a Badger database in a directory of its
// own, behind a lock file: one process at a time. The server (cairn witness
// serve) holds it for as long as it runs.
type Store struct {
	dir  string
	db   *badger.DB
	lock *ledger.FileLock
	// created is true when Open made the database: a new store, which may
	// import an earlier JSON state.
	created bool
}

// ErrStoreLocked is wrapped when another process holds the store.
var ErrStoreLocked = errors.New("the witness state is in use by another process")

const storeLockName = "witness.lock"

// OpenStore opens (or creates) the store in dir, waiting up to timeout for
// another process that holds it.
func OpenStore(dir string, timeout time.Duration) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("witness state: %v", err)
	}
	lockPath := filepath.Join(dir, storeLockName)
	lock, err := ledger.LockFile(lockPath, dir, timeout)
	if errors.Is(err, ledger.ErrLocked) {
		return nil, fmt.Errorf("%w: %s%s", ErrStoreLocked, dir, ledger.LockHolder(lockPath))
	}
	if err != nil {
		return nil, fmt.Errorf("witness state: %v", err)
	}
	_, statErr := os.Stat(filepath.Join(dir, "MANIFEST"))
	db, err := badger.Open(storeOptions(dir))
	if err != nil {
		lock.Release()
		return nil, fmt.Errorf("witness state %s: %v", dir, err)
	}
	st := &Store{dir: dir, db: db, lock: lock, created: errors.Is(statErr, os.ErrNotExist)}
	if err := db.View(func(txn *badger.Txn) error {
		_, err := txn.Get(importKey)
		return err
	}); !errors.Is(err, badger.ErrKeyNotFound) {
		st.Close()
		if err == nil {
			return nil, fmt.Errorf("witness state %s: an import of a JSON state was interrupted; remove the directory and import the file again (cairn witness import FILE)", dir)
		}
		return nil, fmt.Errorf("witness state %s: %v", dir, err)
	}
	return st, nil
}

// storeOptions are Badger's settings for a small store that a long-running
// server writes one record at a time, durably, and that short commands open
// now and then (shared/notes/badger-cli.md).
func storeOptions(dir string) badger.Options {
	return badger.DefaultOptions(dir).
		WithSyncWrites(true).
		WithLogger(nil).
		WithMemTableSize(8 << 20).
		WithValueLogFileSize(16 << 20).
		WithNumMemtables(2).
		WithNumLevelZeroTables(2).
		WithNumLevelZeroTablesStall(4).
		WithNumCompactors(2).
		WithBlockCacheSize(0).
		WithIndexCacheSize(0).
		WithCompression(options.None).
		WithMetricsEnabled(false).
		WithNumGoroutines(2).
		WithCompactL0OnClose(true)
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

// Close closes the database and releases the lock.
func (s *Store) Close() error {
	err := s.db.Close()
	if lerr := s.lock.Release(); err == nil {
		err = lerr
	}
	return err
}

// importKey marks an import under way (Store.Import).
var importKey = []byte("i/importing")

func recordKey(origin string) []byte { return append([]byte("o/"), origin...) }

// hashKey indexes origins by SHA-256, for the C2SP monitoring endpoint
// (GET /<hex SHA-256 of the origin>/checkpoint).
func hashKey(origin string) []byte {
	h := sha256.Sum256([]byte(origin))
	return append([]byte("h/"), h[:]...)
}

// get returns the record for origin, or nil.
func (s *Store) get(origin string) (*Record, error) {
	var r *Record
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(recordKey(origin))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			r, err = decodeRecord(origin, v)
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("witness state %s: %v", s.dir, err)
	}
	return r, nil
}

func decodeRecord(origin string, v []byte) (*Record, error) {
	var r Record
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("record of %q: %v", origin, err)
	}
	if err := r.check(origin); err != nil {
		return nil, fmt.Errorf("record of %q: %v", origin, err)
	}
	return &r, nil
}

// put stores the record for origin, durably, before it returns.
func (s *Store) put(origin string, r *Record) error {
	if err := r.check(origin); err != nil {
		return fmt.Errorf("witness: record of %q: %v", origin, err)
	}
	if err := s.db.Update(func(txn *badger.Txn) error { return setRecord(txn, origin, r) }); err != nil {
		return fmt.Errorf("witness: saving the state of %q: %v", origin, err)
	}
	return nil
}

func setRecord(txn *badger.Txn, origin string, r *Record) error {
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := txn.Set(hashKey(origin), []byte(origin)); err != nil {
		return err
	}
	return txn.Set(recordKey(origin), v)
}

// originByHash returns the origin whose SHA-256 is h, or "".
func (s *Store) originByHash(h [32]byte) (string, error) {
	var origin string
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(append([]byte("h/"), h[:]...))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		v, err := item.ValueCopy(nil)
		origin = string(v)
		return err
	})
	return origin, err
}

// Records calls fn for every record, in order of origin.
func (s *Store) Records(fn func(origin string, r *Record) error) error {
	return s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("o/")})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			origin := string(it.Item().Key()[2:])
			var r *Record
			err := it.Item().Value(func(v []byte) (err error) {
				r, err = decodeRecord(origin, v)
				return err
			})
			if err != nil {
				return fmt.Errorf("witness state %s: %v", s.dir, err)
			}
			if err := fn(origin, r); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Store) empty() (bool, error) {
	empty := true
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("o/")})
		defer it.Close()
		it.Rewind()
		empty = !it.Valid()
		return nil
	})
	return empty, err
}

// Created reports whether OpenStore made a new database.
func (s *Store) Created() bool { return s.created }

// Import copies an earlier JSON state (FORMAT.md §3.2, "Earlier JSON state")
// into the store, which must hold no record yet: it returns the number of logs
// imported. Each log's checkpoint keeps only the signatures of the keys it
// trusts. A state that cannot be read strictly is an error, and nothing is
// imported.
func (s *Store) Import(data []byte) (int, error) {
	st, err := ParseState(data)
	if err != nil {
		return 0, err
	}
	empty, err := s.empty()
	if err != nil {
		return 0, err
	}
	if !empty {
		return 0, fmt.Errorf("witness state %s already holds logs; cairn imports a JSON state only into a new one", s.dir)
	}
	recs := map[string]*Record{}
	for origin, l := range st.Logs {
		r := &Record{Keys: l.Keys, Size: l.Size, Root: l.Root, Time: l.Time}
		if l.Checkpoint != "" {
			n, err := note.Open([]byte(l.Checkpoint), verifiers(l.Keys))
			if err != nil {
				return 0, fmt.Errorf("witness state: log %q: its checkpoint is not signed by its keys: %v", origin, err)
			}
			n.UnverifiedSigs = nil
			cp, err := note.Sign(n)
			if err != nil {
				return 0, err
			}
			r.Checkpoint = string(cp)
		}
		recs[origin] = r
	}
	// A marker first, then the records in transactions that stay within
	// Badger's limit, then the marker goes: a crash in between leaves a store
	// that OpenStore refuses, rather than one that silently lacks logs.
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(importKey, []byte("1")) }); err != nil {
		return 0, fmt.Errorf("witness state %s: importing: %v", s.dir, err)
	}
	batch := s.db.NewTransaction(true)
	n := 0
	for origin, r := range recs {
		if err := r.check(origin); err != nil {
			batch.Discard()
			return 0, fmt.Errorf("witness state: log %q: %v", origin, err)
		}
		if err := setRecord(batch, origin, r); err != nil {
			batch.Discard()
			return 0, err
		}
		if n++; n%256 == 0 {
			if err := batch.Commit(); err != nil {
				return 0, fmt.Errorf("witness state %s: importing: %v", s.dir, err)
			}
			batch = s.db.NewTransaction(true)
		}
	}
	if err := batch.Delete(importKey); err != nil {
		batch.Discard()
		return 0, err
	}
	if err := batch.Commit(); err != nil {
		return 0, fmt.Errorf("witness state %s: importing: %v", s.dir, err)
	}
	return len(recs), nil
}

func verifiers(keys []string) note.Verifiers {
	var vs []note.Verifier
	for _, k := range keys {
		if v, err := note.NewVerifier(k); err == nil { // checked by Record.check
			vs = append(vs, v)
		}
	}
	return note.VerifierList(vs...)
}
