package hash

import (
	"context"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// BenchmarkVerify: one outside vector per scheme, at the parameters the tool
// wrote (see testdata/hash/vectors.jsonl for each tool's cost).
func BenchmarkVerify(b *testing.B) {
	h, err := New(Config{BcryptCost: 4})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	seen := map[string]bool{}
	for _, v := range loadVectors(b) {
		if v.Expect != "match" || seen[v.Tool] {
			continue
		}
		seen[v.Tool] = true
		p := Params{Hint: v.Hint, Salt: v.Salt}
		b.Run(v.Scheme+"/"+v.Tool, func(b *testing.B) {
			for b.Loop() {
				if res, err := h.Verify(ctx, v.Hash, v.Password, p); err != nil || !res.Match {
					b.Fatal(res, err)
				}
			}
		})
	}
}

func BenchmarkIdentify(b *testing.B) {
	h, _ := New(Config{})
	vs := loadVectors(b)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		v := vs[i%len(vs)]
		_, _ = h.Identify(v.Hash, Params{Hint: v.Hint, Salt: v.Salt})
	}
}

// pool runs f(0..n-1) on workers goroutines.
func pool(n, workers int, f func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}

const batchCost = 10

func batchInputs(b *testing.B, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = md5hex("password-" + strconv.Itoa(i))
	}
	return out
}

// batch is the set-up the batch benchmarks share: the same inputs, pool
// size and cost for raw bcrypt and for Wrap.
type batch struct {
	b       *testing.B
	h       *Hasher
	in      []string
	workers int
}

func newBatch(b *testing.B) *batch {
	workers := runtime.NumCPU()
	h, err := New(Config{BcryptCost: batchCost})
	if err != nil {
		b.Fatal(err)
	}
	return &batch{b: b, h: h, in: batchInputs(b, 4*workers), workers: workers}
}

// raw hashes every input with x/crypto bcrypt and returns the wall time.
func (x *batch) raw() time.Duration {
	t0 := time.Now()
	pool(len(x.in), x.workers, func(i int) {
		if _, err := bcrypt.GenerateFromPassword([]byte(x.in[i]), batchCost); err != nil {
			x.b.Error(err)
		}
	})
	return time.Since(t0)
}

// wrap wraps every input and returns the wall time.
func (x *batch) wrap() time.Duration {
	t0 := time.Now()
	ctx := context.Background()
	pool(len(x.in), x.workers, func(i int) {
		if _, err := x.h.Wrap(ctx, x.in[i], Params{}); err != nil {
			x.b.Error(err)
		}
	})
	return time.Since(t0)
}

// BenchmarkRawBcryptBatch: the baseline, x/crypto bcrypt at cost 10 on a
// worker pool of NumCPU.
func BenchmarkRawBcryptBatch(b *testing.B) {
	x := newBatch(b)
	for b.Loop() {
		x.raw()
	}
	b.ReportMetric(float64(b.N*len(x.in))/b.Elapsed().Seconds(), "hashes/s")
}

// BenchmarkWrapBatch: Wrap of md5 values at cost 10 on the same pool.
func BenchmarkWrapBatch(b *testing.B) {
	x := newBatch(b)
	for b.Loop() {
		x.wrap()
	}
	b.ReportMetric(float64(b.N*len(x.in))/b.Elapsed().Seconds(), "hashes/s")
}

// BenchmarkWrapVsRawBcrypt runs a raw bcrypt batch and a Wrap batch (same
// inputs, cost, pool) in every iteration, in alternating order, so both see
// the same machine load, and reports Wrap's throughput as a fraction of raw bcrypt's
// ("wrap/raw"; the bar is ≥ 0.90).
func BenchmarkWrapVsRawBcrypt(b *testing.B) {
	x := newBatch(b)
	var raw, wrap time.Duration
	for i := 0; b.Loop(); i++ {
		// Alternate the order so that neither side always runs first.
		if i%2 == 0 {
			raw += x.raw()
			wrap += x.wrap()
		} else {
			wrap += x.wrap()
			raw += x.raw()
		}
	}
	n := float64(b.N * len(x.in))
	b.ReportMetric(n/raw.Seconds(), "raw-hashes/s")
	b.ReportMetric(n/wrap.Seconds(), "wrap-hashes/s")
	b.ReportMetric(raw.Seconds()/wrap.Seconds(), "wrap/raw")
}

// BenchmarkWrapPrepare measures what Wrap adds to bcrypt: parsing the
// stored value and computing f(H). Compare with one bcrypt at cost 10
// (≈ 57 ms here) to see why the batch ratio is bounded by noise.
func BenchmarkWrapPrepare(b *testing.B) {
	h, _ := New(Config{})
	stored := md5hex("password")
	for b.Loop() {
		d, err := h.parse(stored, Params{})
		if err != nil {
			b.Fatal(err)
		}
		_ = wrapInput(d.digest)
	}
}

// BenchmarkBcryptCost10 is one raw x/crypto bcrypt at the batch cost, the
// denominator for BenchmarkWrapPrepare.
func BenchmarkBcryptCost10(b *testing.B) {
	for b.Loop() {
		if _, err := bcrypt.GenerateFromPassword([]byte("password"), batchCost); err != nil {
			b.Fatal(err)
		}
	}
}
