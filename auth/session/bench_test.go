package session

import (
	"context"
	"testing"

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
