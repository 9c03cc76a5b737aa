package evidence

import "time"

// Disclosure dates are calendar dates (YYYY-MM-DD) without a time zone, as a
// designer writes them; the ledger's times are instants. These functions say
// how the two are compared, so that the CLI, the pack and the C2PA manifest
// agree.

// The earliest and latest time zones in use (UTC-12 and UTC+14): a date has
// begun somewhere once it has begun at UTC+14, and has ended everywhere once it
// has ended at UTC-12.
var (
	zoneEarliest = time.FixedZone("UTC+14", 14*3600)
	zoneLatest   = time.FixedZone("UTC-12", -12*3600)
)

// DateHasCome reports whether the calendar date has begun anywhere on Earth
// at now. A disclosure dated later has not happened yet: cairn refuses to
// record it, and never states it as a publication.
func DateHasCome(date string, now time.Time) bool {
	return date <= now.In(zoneEarliest).Format(dateLayout)
}

// DateBefore reports whether the calendar date ended, everywhere on Earth,
// before t: a disclosure so dated is earlier than a record made at t.
func DateBefore(date string, t time.Time) bool {
	return date < t.In(zoneLatest).Format(dateLayout)
}

const dateLayout = "2006-01-02"

// checkDisclosureDate refuses, for a new disclosure step, a date that has not
// come. A recorded step is not checked against the clock: a verifier reads it
// as it was signed, and the pack says what it is.
func checkDisclosureDate(date string, now time.Time) error {
	if DateHasCome(date, now) {
		return nil
	}
	return inputErrorf("--date %s is in the future (today is %s); record a disclosure when it has happened. Nothing was recorded", date, now.Format(dateLayout))
}
