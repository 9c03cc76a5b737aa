package evidence

// BasisMeaning says in plain words what a basis of rights means, for the pack
// and asset show. It states what the basis is, not who won a dispute: the
// contract, where one is recorded, decides.
func BasisMeaning(basis, contract string) string {
	switch basis {
	case "employment":
		return "made in employment: the rights in an employee's work usually belong to the employer"
	case "commission":
		s := "commissioned work: the maker keeps the rights unless a contract assigns them; no assignment is recorded (a transfer by deed or contract is recorded as basis assignment)"
		if contract != "" {
			s = "commissioned work: the maker keeps the rights unless the contract assigns them; whether it does is in the contract, not in this record"
		}
		return s
	case "assignment":
		if contract == "" {
			return "assigned: the rights were transferred to the rights holder by deed or contract; the deed or contract itself is not recorded here"
		}
		return "assigned: the rights were transferred to the rights holder by the deed or contract named here"
	case "own":
		return "the author's own work: the author holds the rights"
	case "other":
		return "another basis: see the contract"
	}
	return "not recorded"
}
