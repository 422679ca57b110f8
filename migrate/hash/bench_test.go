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

// BenchmarkRawBcryptBatch: the baseline, x/crypto bcrypt at cost 10 on a
// worker pool of NumCPU.
func BenchmarkRawBcryptBatch(b *testing.B) {
	workers := runtime.NumCPU()
	in := batchInputs(b, 4*workers)
	for b.Loop() {
		pool(len(in), workers, func(i int) {
			if _, err := bcrypt.GenerateFromPassword([]byte(in[i]), batchCost); err != nil {
				b.Error(err)
			}
		})
	}
	b.ReportMetric(float64(b.N*len(in))/b.Elapsed().Seconds(), "hashes/s")
}

// BenchmarkWrapBatch: Wrap of md5 values at cost 10 on the same pool.
func BenchmarkWrapBatch(b *testing.B) {
	workers := runtime.NumCPU()
	h, err := New(Config{BcryptCost: batchCost})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	in := batchInputs(b, 4*workers)
	for b.Loop() {
		pool(len(in), workers, func(i int) {
			if _, err := h.Wrap(ctx, in[i], Params{}); err != nil {
				b.Error(err)
			}
		})
	}
	b.ReportMetric(float64(b.N*len(in))/b.Elapsed().Seconds(), "hashes/s")
}

// BenchmarkWrapVsRawBcrypt runs a raw bcrypt batch and a Wrap batch (same
// inputs, cost, pool) in every iteration, in alternating order, so both see
// the same machine load, and reports Wrap's throughput as a fraction of raw bcrypt's
// ("wrap/raw"; the bar is ≥ 0.90).
func BenchmarkWrapVsRawBcrypt(b *testing.B) {
	workers := runtime.NumCPU()
	h, err := New(Config{BcryptCost: batchCost})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	in := batchInputs(b, 4*workers)
	rawBatch := func() time.Duration {
		t0 := time.Now()
		pool(len(in), workers, func(i int) {
			if _, err := bcrypt.GenerateFromPassword([]byte(in[i]), batchCost); err != nil {
				b.Error(err)
			}
		})
		return time.Since(t0)
	}
	wrapBatch := func() time.Duration {
		t0 := time.Now()
		pool(len(in), workers, func(i int) {
			if _, err := h.Wrap(ctx, in[i], Params{}); err != nil {
				b.Error(err)
			}
		})
		return time.Since(t0)
	}
	var raw, wrap time.Duration
	for i := 0; b.Loop(); i++ {
		// Alternate the order so that neither side always runs first.
		if i%2 == 0 {
			raw += rawBatch()
			wrap += wrapBatch()
		} else {
			wrap += wrapBatch()
			raw += rawBatch()
		}
	}
	n := float64(b.N * len(in))
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
