//go:build !linux

package ledger

// releaseMappedTables is a no-op where /proc/self/maps does not exist.
func releaseMappedTables(dir string) {}
