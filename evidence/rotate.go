package evidence

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/cairn-ledger/cairn/internal/tmpfile"
	"github.com/cairn-ledger/cairn/ledger"
)

// A key rotation must never lock its user out, whatever point a crash, a kill
// or a full disk stops it at. It therefore happens in this order:
//
//  1. the new key is saved durably beside the key file, as PATH.pending-<new key id>;
//  2. the ledger records the rotation, signed by the old key, which retires it;
//  3. the old key file is linked as PATH.retired-<old key id>, and the pending
//     file is renamed over PATH.
//
// Before 2, the old key at PATH still signs and nothing was recorded. After 3,
// PATH holds the new key and the old one is kept beside it. Between 2 and 3 the
// ledger has retired the key at PATH and the new one waits in its pending file:
// FinishRotation, run by the next command that signs in that ledger, completes
// step 3. PATH itself always holds a whole key file, the old one or the new.

// PendingKeyPath is where a rotation keeps the new key pub until it is recorded
// and put in place. The name carries the key's ID, so that an interrupted
// rotation's key is never overwritten by a later one.
func PendingKeyPath(path string, pub ed25519.PublicKey) string {
	return path + ".pending-" + ledger.KeyID(pub)
}

// RetiredKeyPath is where the key pub is kept once a rotation has replaced it.
func RetiredKeyPath(path string, pub ed25519.PublicKey) string {
	return path + ".retired-" + ledger.KeyID(pub)
}

// SavePending saves id durably as the pending new key of a rotation of the key
// at path (step 1), and returns where. A failure (a full disk) leaves no file.
func (id *Identity) SavePending(path string, passphrase []byte) (string, error) {
	data, err := id.marshal(passphrase)
	if err != nil {
		return "", err
	}
	pending := PendingKeyPath(path, id.Public())
	// A rotation killed while it saved leaves a temporary key file.
	tmpfile.Sweep(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp-*")
	if err := WriteFileDurable(pending, data, 0o600); err != nil {
		return "", fmt.Errorf("saving the new key to %s: %w", pending, err)
	}
	return pending, nil
}

// InstallRotated completes a recorded rotation from old to fresh (step 3): the
// key file at path (old) is kept as its retired copy and the pending file of
// fresh takes its place. It can be run again after an interruption.
func InstallRotated(path string, old, fresh ed25519.PublicKey) (retired string, err error) {
	retired = RetiredKeyPath(path, old)
	if err := os.Link(path, retired); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("keeping the old key as %s: %w", retired, err)
	}
	if err := syncDirErr(filepath.Dir(path)); err != nil {
		return "", err
	}
	if err := os.Rename(PendingKeyPath(path, fresh), path); err != nil {
		return "", fmt.Errorf("putting the new key in place at %s: %w", path, err)
	}
	return retired, syncDirErr(filepath.Dir(path))
}

// RotatedTo reports, for a key this ledger retired, the rotation record that
// retired it and the key it introduced.
func (b *Book) RotatedTo(pub ed25519.PublicKey) (next ed25519.PublicKey, seq int64, retired bool, err error) {
	seq, retired = b.idx.Retired[hex.EncodeToString(pub)]
	if !retired {
		return nil, 0, false, nil
	}
	r, err := b.Ledger.Get(seq)
	if err != nil {
		return nil, seq, true, err
	}
	s, err := DecodeStep(r.Payload)
	if err != nil {
		return nil, seq, true, fmt.Errorf("record %d: %w", seq, err)
	}
	k, err := base64.StdEncoding.DecodeString(s.Key)
	if err != nil || len(k) != ed25519.PublicKeySize {
		return nil, seq, true, fmt.Errorf("record %d: the rotation names no valid new key", seq)
	}
	return ed25519.PublicKey(k), seq, true, nil
}

// FinishRotation brings the key file at path up to date with this ledger when
// the key in it, id, was retired here by a rotation that an interrupted `cairn
// id rotate` recorded but did not put in place: it installs the pending new key
// and returns it, with a message saying so. passphrase opens the pending file
// (a rotation keeps the passphrase). It returns id unchanged when the ledger did
// not retire it, and an input error that says what to restore when the new key
// is nowhere.
func (b *Book) FinishRotation(path string, id *Identity, passphrase func() ([]byte, error)) (*Identity, string, error) {
	next, seq, retired, err := b.RotatedTo(id.Public())
	if err != nil || !retired {
		return id, "", err
	}
	if _, _, again, _ := b.RotatedTo(next); again {
		return nil, "", inputErrorf("key %s was retired by the key rotation in record %d, and the key it introduced, %s, was retired since; sign with the newest key: restore its identity file to %s",
			id.Fingerprint(), seq, ledger.KeyID(next), path)
	}
	pending := PendingKeyPath(path, next)
	if _, err := os.Stat(pending); errors.Is(err, fs.ErrNotExist) {
		return nil, "", inputErrorf("key %s was retired by the key rotation in record %d, which introduced key %s, but that key's file is not at %s or %s. "+
			"Restore the identity file of key %s from your backup to %s (the old key cannot sign here any more)",
			id.Fingerprint(), seq, ledger.KeyID(next), path, pending, ledger.KeyID(next), path)
	}
	fresh, err := LoadIdentity(pending, passphrase)
	if err != nil {
		return nil, "", err
	}
	if !fresh.Public().Equal(next) {
		return nil, "", fmt.Errorf("%s holds key %s, not the key %s that record %d introduced", pending, fresh.Fingerprint(), ledger.KeyID(next), seq)
	}
	retiredPath, err := InstallRotated(path, id.Public(), next)
	if err != nil {
		return nil, "", fmt.Errorf("finishing the key rotation of record %d: %w", seq, err)
	}
	msg := fmt.Sprintf("finished the key rotation recorded in #%d, which an earlier run did not complete: "+
		"signing with the new key %s (now in %s); the old key %s is kept in %s", seq, fresh.Fingerprint(), path, id.Fingerprint(), retiredPath)
	return fresh, msg, nil
}
