package storetest

import (
	"context"
	"testing"

	"github.com/overstap/overstap/adapters/store"
)

// BenchIterate reads the whole of s in pages of 1,000 per benchmark loop
// and reports the throughput in rows/s: the adapter side every backend's
// iteration benchmark compares with its native read.
func BenchIterate(b *testing.B, s store.Store) {
	n := 0
	for b.Loop() {
		var cur store.Cursor
		for {
			page, next, err := s.Iterate(context.Background(), cur, 1000)
			if err != nil {
				b.Fatal(err)
			}
			n += len(page)
			if next == "" {
				break
			}
			cur = next
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "rows/s")
}
