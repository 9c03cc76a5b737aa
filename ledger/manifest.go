package ledger

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/pb"
	"google.golang.org/protobuf/proto"
)

// maxManifestBytes is the size past which open rewrites Badger's MANIFEST.
//
// The MANIFEST is a log of table creations and deletions that every open replays
// in full. Each short process adds a change set or two, about 23 bytes, and
// Badger rewrites the file only after 10,000 table deletions, a constant it does
// not export. By then an open spends 12 ms more than on a fresh ledger (DESIGN.md,
// "Storage"). Rewriting at 16 KiB keeps the replay under a millisecond, for one
// rewrite every 700 or so runs.
var maxManifestBytes = 16 << 10 // a variable for tests

// compactManifest rewrites the MANIFEST in dir as a single change set that
// creates the tables it lists, when the file has grown past maxManifestBytes.
// This is what Badger does itself after 10,000 deletions, done sooner. The caller
// holds the ledger lock and Badger is not open.
//
// The new file keeps the old one's 8-byte header (magic and versions) and uses
// Badger's own change-set encoding: a big-endian length, a CRC-32C and the
// protobuf ManifestChangeSet. It is written beside the MANIFEST, synced, read
// back and compared table by table, and only then renamed over it, so a crash at
// any point leaves one complete MANIFEST or the other.
func compactManifest(dir string) error {
	path := filepath.Join(dir, badger.ManifestFilename)
	// Every open comes here: a small MANIFEST costs one stat, nothing more.
	if fi, err := os.Stat(path); err != nil || fi.Size() <= int64(maxManifestBytes) {
		return nil // a missing MANIFEST is Badger's to create or report
	}
	old, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read the storage manifest: %w", err)
	}
	m, complete, err := replayManifest(path)
	if err != nil {
		return fmt.Errorf("read the storage manifest: %w", err)
	}
	if !complete {
		// A torn change set at the end (a crash during a write) is one Badger
		// drops when it opens; leave such a file to Badger.
		return nil
	}
	ids := make([]uint64, 0, len(m.Tables))
	for id := range m.Tables {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	set := &pb.ManifestChangeSet{}
	for _, id := range ids {
		t := m.Tables[id]
		set.Changes = append(set.Changes, &pb.ManifestChange{
			Id:             id,
			Op:             pb.ManifestChange_CREATE,
			Level:          uint32(t.Level),
			KeyId:          t.KeyID,
			EncryptionAlgo: pb.EncryptionAlgo_aes, // what Badger writes for every table
			Compression:    uint32(t.Compression),
		})
	}
	changes, err := proto.Marshal(set)
	if err != nil {
		return fmt.Errorf("encode the storage manifest: %w", err)
	}
	buf := make([]byte, 0, 16+len(changes))
	buf = append(buf, old[:8]...)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(changes)))
	buf = binary.BigEndian.AppendUint32(buf, crc32.Checksum(changes, crc32.MakeTable(crc32.Castagnoli)))
	buf = append(buf, changes...)

	tmp := path + ".cairn-rewrite"
	if err := writeSynced(tmp, buf); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("rewrite the storage manifest: %w", err)
	}
	check, complete, err := replayManifest(tmp)
	if err == nil && (!complete || !sameTables(m, check)) {
		err = fmt.Errorf("the rewritten manifest lists other tables")
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("rewrite the storage manifest: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("rewrite the storage manifest: %w", err)
	}
	return syncDir(dir)
}

// replayManifest reads a MANIFEST with Badger's own reader. complete is false
// when the file ends in a partial change set.
func replayManifest(path string) (m badger.Manifest, complete bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return m, false, err
	}
	defer f.Close()
	m, end, err := badger.ReplayManifestFile(f, 0, badger.DefaultOptions(filepath.Dir(path)).WithLogger(nil))
	if err != nil {
		return m, false, err
	}
	fi, err := f.Stat()
	if err != nil {
		return m, false, err
	}
	return m, fi.Size() == end, nil
}

func sameTables(a, b badger.Manifest) bool {
	if len(a.Tables) != len(b.Tables) {
		return false
	}
	for id, t := range a.Tables {
		if u, ok := b.Tables[id]; !ok || u != t {
			return false
		}
	}
	return true
}

func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
