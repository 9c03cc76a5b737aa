// Package archive writes, checks and restores a portable archive of a whole
// ledger: a POSIX tar file that holds the exact entry bytes, the signed
// checkpoints, the timestamp tokens and cosignatures stored beside them, and the
// stored files, with a manifest first that names and hashes every member.
//
// An archive does not depend on Badger or on cairn: FORMAT.md §8 specifies it, and
// tar, sha256sum and an RFC 6962 implementation are enough to check it. It is
// checked as it is read, in one pass, so neither Verify nor Restore needs memory
// that grows with the ledger.
package archive

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"github.com/cairn-ledger/cairn/internal/strict"
	"github.com/cairn-ledger/cairn/ledger"
)

// Format is the newest value of the manifest's "format" field: v1 with the
// studio log's proofs of cosignatures (FORMAT.md §8). An archive holds it only
// when it has such members, and says FormatV1 otherwise, so that readers of v1
// go on reading every archive that needs nothing new.
const Format = "cairn.archive/v2"

// FormatV1 is v2 without studio log proofs.
const FormatV1 = "cairn.archive/v1"

// ManifestName is the name of the first member.
const ManifestName = "manifest.json"

// RecordsName is the member holding every entry, concatenated in order.
const RecordsName = "records"

// Member kinds.
const (
	KindRecords     = "records"
	KindCheckpoint  = "checkpoint"
	KindTimestamp   = "timestamp"
	KindCosignature = "cosignature"
	KindStudioProof = "studio-proof"     // v2: the studio log's tlog-proof of a cosignature
	KindStudioToken = "studio-timestamp" // v2: the token over that proof's checkpoint
	KindFile        = "file"
)

// A Manifest describes an archive: the ledger it holds and every other member,
// in the order they follow it.
type Manifest struct {
	Format  string   `json:"format"`
	Origin  string   `json:"origin"`
	Size    int64    `json:"size"` // number of records
	Root    string   `json:"root"` // RFC 6962 root of all records, base64
	Members []Member `json:"members"`
}

// A Member is one tar member after the manifest.
type Member struct {
	Name     string `json:"name"`
	Kind     string `json:"kind"`
	Bytes    int64  `json:"bytes"`
	SHA256   string `json:"sha256"`
	TreeSize int64  `json:"tree_size,omitempty"` // checkpoint, timestamp, cosignature, studio: the checkpoint's size
	Witness  string `json:"witness,omitempty"`   // cosignature, studio: the witness's name
}

// manifestShape is the JSON shape of a manifest, derived from its json tags.
var manifestShape = strict.ShapeOf(reflect.TypeOf(Manifest{}))

// Limits that keep a reader's work proportional to a sane archive.
const (
	maxManifest = 256 << 20
	maxNote     = 64 << 10
	maxToken    = 1 << 20
	maxMembers  = 1 << 24
)

var memberName = regexp.MustCompile(`^(records|checkpoints/[0-9]{20}\.note|timestamps/[0-9]{20}\.tsr|cosignatures/[0-9]{20}-[0-9]{1,9}\.note|studio/[0-9]{20}-[0-9]{1,9}\.(tlog-proof|tsr)|files/[0-9a-f]{64})$`)

// checkpointName, timestampName and cosignatureName name the members of a
// checkpoint of size n. The size is zero-padded so that names sort by size.
func checkpointName(n int64) string { return fmt.Sprintf("checkpoints/%020d.note", n) }
func timestampName(n int64) string  { return fmt.Sprintf("timestamps/%020d.tsr", n) }
func cosignatureName(n int64, i int) string {
	return fmt.Sprintf("cosignatures/%020d-%d.note", n, i)
}

// studioName names the studio log proof (ext "tlog-proof") or its token (ext
// "tsr") of the cosignature member cosignatureName(n, i).
func studioName(n int64, i int, ext string) string {
	return fmt.Sprintf("studio/%020d-%d.%s", n, i, ext)
}

// root decodes the manifest's root hash.
func (m *Manifest) root() ([32]byte, error) {
	var h [32]byte
	b, err := strict.Base64(m.Root)
	if err != nil || len(b) != len(h) {
		return h, fmt.Errorf("root %q is not a base64 SHA-256 hash", m.Root)
	}
	copy(h[:], b)
	return h, nil
}

// parseManifest decodes and checks the form of a manifest: every field present
// and well-formed, names unique and in the order FORMAT.md §8 gives, a checkpoint of
// the whole ledger, and every timestamp and cosignature beside a checkpoint.
func parseManifest(data []byte) (*Manifest, error) {
	// One reading of the bytes (exact names, none twice, no null, UTF-8).
	if err := strict.Check(data, manifestShape); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("not valid JSON of the expected shape: %v", err)
	}
	if dec.More() {
		return nil, errors.New("data after the JSON object")
	}
	if m.Format != Format && m.Format != FormatV1 {
		return nil, fmt.Errorf("format %q, this cairn reads %q and %q", m.Format, Format, FormatV1)
	}
	if !ledger.ValidOrigin(m.Origin) {
		return nil, fmt.Errorf("invalid origin %q", m.Origin)
	}
	if m.Size < 1 {
		return nil, fmt.Errorf("size %d: an archive holds at least one record", m.Size)
	}
	if _, err := m.root(); err != nil {
		return nil, err
	}
	if len(m.Members) == 0 || m.Members[0].Name != RecordsName || m.Members[0].Kind != KindRecords {
		return nil, fmt.Errorf("the first member after %s must be %q", ManifestName, RecordsName)
	}
	if len(m.Members) > maxMembers {
		return nil, fmt.Errorf("%d members, at most %d are allowed", len(m.Members), maxMembers)
	}
	seen := map[string]bool{}
	checkpoints := map[int64]bool{}
	order := memberOrder{}
	cosigners := map[string]string{} // cosignature member name -> witness
	studios := false
	for i, mb := range m.Members {
		if !memberName.MatchString(mb.Name) {
			return nil, fmt.Errorf("member %d: invalid name %q", i, mb.Name)
		}
		if seen[mb.Name] {
			return nil, fmt.Errorf("member %q is listed twice", mb.Name)
		}
		seen[mb.Name] = true
		if s, err := hex.DecodeString(mb.SHA256); err != nil || len(s) != 32 || strings.ToLower(mb.SHA256) != mb.SHA256 {
			return nil, fmt.Errorf("member %q: sha256 %q is not 64 lowercase hex digits", mb.Name, mb.SHA256)
		}
		if mb.Bytes < 0 {
			return nil, fmt.Errorf("member %q: negative size", mb.Name)
		}
		want := ""
		switch mb.Kind {
		case KindRecords:
			if i != 0 {
				return nil, fmt.Errorf("member %q: only the first member holds records", mb.Name)
			}
			want = RecordsName
		case KindCheckpoint:
			if mb.TreeSize < 1 || mb.TreeSize > m.Size {
				return nil, fmt.Errorf("member %q: checkpoint size %d is outside 1..%d", mb.Name, mb.TreeSize, m.Size)
			}
			if mb.Bytes > maxNote {
				return nil, fmt.Errorf("member %q: %d bytes is too large for a checkpoint", mb.Name, mb.Bytes)
			}
			checkpoints[mb.TreeSize] = true
			want = checkpointName(mb.TreeSize)
		case KindTimestamp, KindCosignature:
			if !checkpoints[mb.TreeSize] {
				return nil, fmt.Errorf("member %q: no checkpoint member of size %d precedes it", mb.Name, mb.TreeSize)
			}
			if mb.Kind == KindTimestamp {
				if mb.Bytes > maxToken {
					return nil, fmt.Errorf("member %q: %d bytes is too large for a timestamp token", mb.Name, mb.Bytes)
				}
				want = timestampName(mb.TreeSize)
			} else {
				if mb.Bytes > maxNote {
					return nil, fmt.Errorf("member %q: %d bytes is too large for a cosigned checkpoint", mb.Name, mb.Bytes)
				}
				if mb.Witness == "" || strings.ContainsAny(mb.Witness, " \n+") || len(mb.Witness) > 200 {
					return nil, fmt.Errorf("member %q: invalid witness name %q", mb.Name, mb.Witness)
				}
				want = mb.Name
				if !strings.HasPrefix(mb.Name, fmt.Sprintf("cosignatures/%020d-", mb.TreeSize)) {
					want = cosignatureName(mb.TreeSize, 0)
				}
				cosigners[mb.Name] = mb.Witness
			}
		case KindStudioProof, KindStudioToken:
			studios = true
			stem := strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(mb.Name, "studio/"), ".tlog-proof"), ".tsr")
			cos := "cosignatures/" + stem + ".note"
			if w, ok := cosigners[cos]; !ok || w != mb.Witness || !strings.HasPrefix(stem, fmt.Sprintf("%020d-", mb.TreeSize)) {
				return nil, fmt.Errorf("member %q: no cosignature member %s of size %d by %q precedes it", mb.Name, cos, mb.TreeSize, mb.Witness)
			}
			if mb.Bytes > maxNote+64*64 {
				return nil, fmt.Errorf("member %q: %d bytes is too large", mb.Name, mb.Bytes)
			}
			ext := "tlog-proof"
			if mb.Kind == KindStudioToken {
				ext = "tsr"
				if i == 0 || m.Members[i-1].Name != "studio/"+stem+".tlog-proof" {
					return nil, fmt.Errorf("member %q: its proof member must come just before it", mb.Name)
				}
			}
			want = "studio/" + stem + "." + ext
		case KindFile:
			want = "files/" + mb.SHA256
		default:
			return nil, fmt.Errorf("member %q: unknown kind %q", mb.Name, mb.Kind)
		}
		if mb.Name != want {
			return nil, fmt.Errorf("member %q of kind %s should be named %q", mb.Name, mb.Kind, want)
		}
		if (mb.Kind == KindRecords || mb.Kind == KindFile) && mb.TreeSize != 0 {
			return nil, fmt.Errorf("member %q: tree_size is only for checkpoints, timestamps, cosignatures and studio log proofs", mb.Name)
		}
		if mb.Kind != KindCosignature && mb.Kind != KindStudioProof && mb.Kind != KindStudioToken && mb.Witness != "" {
			return nil, fmt.Errorf("member %q: witness is only for cosignatures and studio log proofs", mb.Name)
		}
		if err := order.next(mb); err != nil {
			return nil, err
		}
	}
	if studios != (m.Format == Format) {
		if studios {
			return nil, fmt.Errorf("format %q has no studio log proofs; an archive with them is %q", m.Format, Format)
		}
		return nil, fmt.Errorf("a %q archive has studio log proofs; one without is %q", Format, FormatV1)
	}
	if !checkpoints[m.Size] {
		return nil, fmt.Errorf("no checkpoint covers all %d records; an archive is anchored by one", m.Size)
	}
	return &m, nil
}

// memberOrder checks FORMAT.md §8's order of members: records; checkpoints by
// size; timestamps by size; cosignatures by size, numbered from 0 for each size,
// one per witness; studio log proofs (each followed by its token) by size;
// files by SHA-256. One archive has one layout.
type memberOrder struct {
	rank      int
	last      Member
	cosigN    int
	witnesses map[string]bool
}

var kindRank = map[string]int{KindRecords: 0, KindCheckpoint: 1, KindTimestamp: 2, KindCosignature: 3, KindStudioProof: 4, KindStudioToken: 4, KindFile: 5}

func (o *memberOrder) next(mb Member) error {
	r := kindRank[mb.Kind]
	sameKind := r == o.rank && o.last.Kind != ""
	switch {
	case r < o.rank:
		return fmt.Errorf("member %q (%s) comes after the %s members; the order is records, checkpoints, timestamps, cosignatures, studio log proofs, files", mb.Name, mb.Kind, o.last.Kind)
	case r == kindRank[KindStudioProof]:
		// Each proof, then its token, by the size of the checkpoint they
		// prove; parseManifest checks the pairs.
		if o.rank == r && mb.TreeSize < o.last.TreeSize {
			return fmt.Errorf("member %q comes after studio log proofs of a larger checkpoint", mb.Name)
		}
	case mb.Kind == KindCosignature:
		if !sameKind || mb.TreeSize != o.last.TreeSize {
			o.cosigN, o.witnesses = 0, map[string]bool{}
		}
		if sameKind && mb.TreeSize < o.last.TreeSize {
			return fmt.Errorf("member %q comes after cosignatures of a larger checkpoint", mb.Name)
		}
		if mb.Name != cosignatureName(mb.TreeSize, o.cosigN) {
			return fmt.Errorf("member %q should be named %q: cosignatures of one checkpoint are numbered from 0", mb.Name, cosignatureName(mb.TreeSize, o.cosigN))
		}
		if o.witnesses[mb.Witness] {
			return fmt.Errorf("member %q: a second cosignature by %s of the same checkpoint", mb.Name, mb.Witness)
		}
		o.witnesses[mb.Witness] = true
		o.cosigN++
	case sameKind && mb.Name <= o.last.Name:
		return fmt.Errorf("member %q comes after %q; %s members are in ascending order", mb.Name, o.last.Name, mb.Kind)
	}
	o.rank, o.last = r, mb
	return nil
}

// A Problem is one thing wrong with an archive: the member it is in, the record
// if it is about one (else -1), and what is wrong.
type Problem struct {
	Member string
	Seq    int64
	What   string
}

func (p Problem) String() string {
	if p.Seq >= 0 {
		return fmt.Sprintf("member %s: record %d: %s", p.Member, p.Seq, p.What)
	}
	if p.Member == "" {
		return p.What
	}
	return fmt.Sprintf("member %s: %s", p.Member, p.What)
}

// An Error lists what is wrong with a damaged archive, in the order found.
type Error struct{ Problems []Problem }

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("damaged archive: ")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// memberOwner is the user and group name of every member (FORMAT.md §8).
const memberOwner = "cairn"
