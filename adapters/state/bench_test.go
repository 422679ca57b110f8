package state

import (
	"context"
	"testing"
)

// BenchmarkAppend compares Append (transaction, head lock, hash, insert,
// head update) with a bare autocommit INSERT of the same row into a table
// of the same shape, in the same run.
func BenchmarkAppend(b *testing.B) {
	for _, be := range []struct {
		name string
		cfg  func(b *testing.B) Config
	}{
		{"sqlite", func(b *testing.B) Config { return Config{Path: b.TempDir() + "/s.db"} }},
		{"postgres", func(b *testing.B) Config {
			return Config{Driver: "postgres", DSN: postgresDSN(b)}
		}},
	} {
		b.Run(be.name+"/raw-insert", func(b *testing.B) {
			s := openB(b, be.cfg(b))
			if _, err := s.DB().Exec("CREATE TABLE bench_raw AS SELECT * FROM audit_log WHERE 1 = 0"); err != nil {
				b.Fatal(err)
			}
			q := s.Dialect().Rebind(`INSERT INTO bench_raw (seq, at, type, actor, target, app, outcome, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
			e := event(b, 1)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := s.DB().Exec(q, i, e.Time.UnixNano(), e.Type, e.Actor, e.Target, e.App, e.Outcome, `{"acr":"x"}`, "p", "h"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(be.name+"/append", func(b *testing.B) {
			s := openB(b, be.cfg(b))
			e := event(b, 1)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := s.Append(context.Background(), e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerify compares Verify of 2000 entries with a bare scan of the
// same rows.
func BenchmarkVerify(b *testing.B) {
	s := openB(b, Config{Path: b.TempDir() + "/s.db"})
	for i := 0; i < 2000; i++ {
		if _, err := s.Append(context.Background(), event(b, i)); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("raw-scan", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			rows, err := s.DB().Query("SELECT " + entryColumns + " FROM audit_log ORDER BY seq")
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for rows.Next() {
				if _, _, err := scanEntry(rows); err != nil {
					b.Fatal(err)
				}
				n++
			}
			rows.Close()
			if n != 2000 {
				b.Fatal(n)
			}
		}
	})
	b.Run("verify", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			rep, err := s.Verify(context.Background())
			if err != nil || !rep.OK() || rep.Entries != 2000 {
				b.Fatal(rep, err)
			}
		}
	})
}

func openB(b *testing.B, cfg Config) *Store {
	b.Helper()
	s, err := Open(context.Background(), cfg, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}
