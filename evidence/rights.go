package evidence

import "github.com/cairn-ledger/cairn/internal/msg"

// BasisMeaning says in plain words (m's) what a basis of rights means, for the
// pack and asset show. It states what the basis is, not who won a dispute:
// the contract, where one is recorded, decides.
func BasisMeaning(m *msg.Catalogue, basis, contract string) string {
	w := &m.Rights
	switch basis {
	case "employment":
		return w.Employment.String()
	case "commission":
		if contract != "" {
			return w.CommissionContract.String()
		}
		return w.Commission.String()
	case "assignment":
		if contract == "" {
			return w.Assignment.String()
		}
		return w.AssignmentContract.String()
	case "own":
		return w.Own.String()
	case "other":
		return w.Other.String()
	}
	return w.NotRecorded.String()
}
