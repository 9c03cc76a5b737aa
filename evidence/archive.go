package evidence

import (
	"github.com/cairn-ledger/cairn/ledger"
	"github.com/cairn-ledger/cairn/ledger/archive"
)

// ArchiveRules returns a rule book and the options that feed an archive's
// records through it as archive.Verify or archive.Restore reads them, as cairn
// verify does with a ledger's: the same rules, the keys that may sign each
// checkpoint, and a retraction's target read back from the archive.
func ArchiveRules(progress func(int64)) (*RuleBook, archive.Options) {
	earlier := &archive.Entries{}
	rb := NewRuleBook(func(seq int64) (*ledger.Record, *Step, error) {
		entry, err := earlier.Entry(seq)
		if err != nil {
			return nil, nil, err
		}
		r, err := ledger.DecodeEntry(entry)
		if err != nil {
			return nil, nil, err
		}
		s, err := DecodeStep(r.Payload)
		return r, s, err
	})
	return rb, archive.Options{
		CheckRecord:       func(r *ledger.Record) error { _, err := rb.Apply(r); return err },
		CheckpointSigners: rb.CheckpointSigners,
		KnownKeys:         rb.AllKeys,
		Progress:          progress,
		Earlier:           earlier,
	}
}
