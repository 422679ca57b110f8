package session

import (
	"context"
	"testing"
	"time"

	"github.com/overstap/overstap/internal/config"
	"github.com/overstap/overstap/internal/testsvc"
)

// The benchmarks compare each store operation with a raw Redis command on a
// value of the same size, in the same run: only the ratios mean something
// on a shared machine.

func benchStores(b *testing.B) (map[string]Store, testsvc.R) {
	r := testsvc.Redis(b)
	mem, err := NewMemory(Config{})
	if err != nil {
		b.Fatal(err)
	}
	red, err := NewRedis(r.Client, Config{Keys: []config.Secret{testKey(1)}, KeyPrefix: r.Prefix})
	if err != nil {
		b.Fatal(err)
	}
	return map[string]Store{"memory": mem, "redis": red}, r
}

func BenchmarkLoad(b *testing.B) {
	ctx := context.Background()
	stores, r := benchStores(b)
	s := profileSessions(b, testSession(b, 1).NRN)[2]
	for _, name := range []string{"memory", "redis"} {
		st := stores[name]
		id, err := st.Create(ctx, s)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := st.Load(ctx, id); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"-parallel", func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := st.Load(ctx, id); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
	// Baseline: a raw GET of a value as large as the sealed record.
	red := stores["redis"].(*Redis)
	id, _ := red.Create(ctx, s)
	val, err := r.Client.Get(ctx, red.sessionKey(hashID(id))).Bytes()
	if err != nil {
		b.Fatal(err)
	}
	key := r.Prefix + "baseline"
	r.Client.Set(ctx, key, val, 0)
	b.Logf("sealed session record: %d bytes", len(val))
	b.Run("redis-raw-get", func(b *testing.B) {
		for b.Loop() {
			if err := r.Client.Get(ctx, key).Err(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("redis-raw-get-parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := r.Client.Get(ctx, key).Err(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

func BenchmarkCreate(b *testing.B) {
	ctx := context.Background()
	stores, r := benchStores(b)
	s := profileSessions(b, testSession(b, 1).NRN)[2]
	for _, name := range []string{"memory", "redis"} {
		st := stores[name]
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				c := *s
				if _, err := st.Create(ctx, &c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// Baseline: a raw SET of a value as large as the sealed record.
	val := make([]byte, 380)
	key := r.Prefix + "baseline"
	b.Run("redis-raw-set", func(b *testing.B) {
		for b.Loop() {
			if err := r.Client.Set(ctx, key, val, 0).Err(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCodec isolates the CPU cost of a load: open and decode a record.
func BenchmarkCodec(b *testing.B) {
	ring, err := newKeyRing([]config.Secret{testKey(1)})
	if err != nil {
		b.Fatal(err)
	}
	s := storedSession(b)
	c := sealContext(kindSession, hashID("x"))
	blob, _ := ring.seal(c, encodeRecord(s, 1))
	b.Run("open+decode", func(b *testing.B) {
		for b.Loop() {
			p, _, err := ring.open(c, blob)
			if err != nil {
				b.Fatal(err)
			}
			if _, _, err := decodeRecord(p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode+seal", func(b *testing.B) {
		for b.Loop() {
			if _, err := ring.seal(c, encodeRecord(s, 1)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRedisInterleaved alternates a store operation and its raw Redis
// baseline in the same loop, so that both see the same machine load (the
// machine is shared): it reports each one's mean time and their ratio.
func BenchmarkRedisInterleaved(b *testing.B) {
	ctx := context.Background()
	stores, r := benchStores(b)
	red := stores["redis"].(*Redis)
	s := profileSessions(b, testSession(b, 1).NRN)[2]
	id, err := red.Create(ctx, s)
	if err != nil {
		b.Fatal(err)
	}
	val, err := r.Client.Get(ctx, red.sessionKey(hashID(id))).Bytes()
	if err != nil {
		b.Fatal(err)
	}
	key := r.Prefix + "baseline"
	r.Client.Set(ctx, key, val, 0)
	pair := func(b *testing.B, op, base func() error) {
		var tOp, tBase time.Duration
		for b.Loop() {
			t0 := time.Now()
			if err := op(); err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			if err := base(); err != nil {
				b.Fatal(err)
			}
			tOp += t1.Sub(t0)
			tBase += time.Since(t1)
		}
		b.ReportMetric(float64(tOp.Nanoseconds())/float64(b.N), "store-ns/op")
		b.ReportMetric(float64(tBase.Nanoseconds())/float64(b.N), "raw-ns/op")
		b.ReportMetric(float64(tOp)/float64(tBase), "ratio")
	}
	b.Run("load-vs-get", func(b *testing.B) {
		pair(b,
			func() error { _, err := red.Load(ctx, id); return err },
			func() error { return r.Client.Get(ctx, key).Err() })
	})
	b.Run("create-vs-set", func(b *testing.B) {
		pair(b,
			func() error { c := *s; _, err := red.Create(ctx, &c); return err },
			func() error { return r.Client.Set(ctx, key, val, time.Hour).Err() })
	})
}
