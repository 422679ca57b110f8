package migrate

import (
	"os"
	"runtime/debug"
	"testing"
)

func TestBulkGC(t *testing.T) {
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)

	t.Setenv("GOGC", "") // restored after the test
	os.Unsetenv("GOGC")
	restore := BulkGC()
	if got := debug.SetGCPercent(BulkGCPercent); got != BulkGCPercent {
		t.Fatalf("GC percent %d during a bulk run, want %d", got, BulkGCPercent)
	}
	restore()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("GC percent %d after restore, want the previous 100", got)
	}

	// An operator's GOGC wins.
	t.Setenv("GOGC", "150")
	debug.SetGCPercent(150)
	restore = BulkGC()
	if got := debug.SetGCPercent(150); got != 150 {
		t.Fatalf("GC percent %d with GOGC=150 set, want it left alone", got)
	}
	restore()
}
