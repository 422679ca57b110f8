package migrate

import (
	"os"
	"runtime/debug"
)

// BulkGCPercent is the garbage-collector target of the migrate commands
// (GOGC; the Go default is 100).
//
// A bulk run allocates about 2 KiB per account (the page read, the sealed
// old value, the journal and store statements) on a live heap of a few
// megabytes, so with the default the collector runs every few thousand
// accounts and took a third of the process's CPU, on the cores the
// database needs too. At 400 the heap may grow to five times the live
// data between collections: tens of megabytes, still flat in the number
// of accounts (docs/benchmarks.md), for a quarter less CPU.
const BulkGCPercent = 400

// BulkGC sets the collector for a bulk run (BulkGCPercent) unless the GOGC
// environment variable chose a setting, and returns the function that
// restores the previous one. The migrate commands call it once at start.
func BulkGC() (restore func()) {
	if _, set := os.LookupEnv("GOGC"); set {
		return func() {}
	}
	old := debug.SetGCPercent(BulkGCPercent)
	return func() { debug.SetGCPercent(old) }
}
