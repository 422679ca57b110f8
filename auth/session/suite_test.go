package session

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/overstap/overstap/auth/identity"
	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/internal/config"
	"github.com/overstap/overstap/internal/testsvc"
)

// harness adapts a store implementation to the shared suite.
type harness struct {
	// open returns a store configured by cfg, on a namespace of its own.
	open func(t *testing.T, cfg Config) Store
	// writes returns how many record writes the backend has seen so far;
	// nil when the backend cannot count them.
	writes func() int64
	// created records every session id the suite was given, for the
	// Redis scan afterwards.
	created func(id string)
}

// runStoreSuite is the behaviour every Store must show.
func runStoreSuite(t *testing.T, h harness) {
	ctx := context.Background()
	logs := &testsvc.SyncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var ids idSet
	record := h.created
	h.created = func(id string) {
		ids.add(id)
		if record != nil {
			record(id)
		}
	}
	defer func() {
		// Nothing the stores logged may show a session id or a national number.
		out := logs.String()
		if spans := nrn.Find(out); len(spans) > 0 {
			t.Errorf("a log line shows a national number (%s)", spans[0].Number.Mask())
		}
		for _, id := range ids.ids {
			if strings.Contains(out, id) {
				t.Errorf("a log line shows a session id")
				break
			}
		}
	}()
	newStore := func(t *testing.T, mod func(*Config)) (Store, *testsvc.Clock) {
		t.Helper()
		clk := newClock()
		cfg := Config{Keys: []config.Secret{testKey(1)}, Now: clk.Now, Logger: logger}
		if mod != nil {
			mod(&cfg)
		}
		return h.open(t, cfg), clk
	}
	create := func(t *testing.T, st Store, s *Session) string {
		t.Helper()
		id, err := st.Create(ctx, s)
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		if h.created != nil {
			h.created(id)
		}
		return id
	}
	mustLoad := func(t *testing.T, st Store, id string) *Session {
		t.Helper()
		s, err := st.Load(ctx, id)
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		return s
	}
	gone := func(t *testing.T, st Store, id string) {
		t.Helper()
		if s, err := st.Load(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Load = %v, %v; want ErrNotFound", s, err)
		}
	}

	t.Run("create and load", func(t *testing.T) {
		st, clk := newStore(t, nil)
		in := testSession(t, 1)
		id := create(t, st, in)
		now := ms(clk.Now())
		want := *testSession(t, 1)
		want.IDToken = ""
		want.CreatedAt, want.LastSeen = now, now
		want.IdleExpiry = now.Add(DefaultIdleTimeout)
		want.AbsoluteExpiry = now.Add(DefaultAbsoluteTimeout)
		got := mustLoad(t, st, id)
		opt := cmp.Comparer(func(a, b nrn.Number) bool { return a.Equal(b) })
		if d := cmp.Diff(&want, got, opt); d != "" {
			t.Errorf("loaded session (-want +got):\n%s", d)
		}
		if !in.CreatedAt.Equal(now) || !in.IdleExpiry.Equal(want.IdleExpiry) || !in.AbsoluteExpiry.Equal(want.AbsoluteExpiry) {
			t.Errorf("Create did not fill the times of its argument: %+v", in)
		}
		tok, err := st.IDToken(ctx, id)
		if err != nil || tok != testSession(t, 1).IDToken {
			t.Errorf("IDToken = %q, %v", tok, err)
		}
	})

	t.Run("fresh id on every create", func(t *testing.T) {
		st, _ := newStore(t, nil)
		s := testSession(t, 2)
		seen := map[string]bool{}
		for range 100 {
			id := create(t, st, s)
			if !validID(id) {
				t.Fatalf("id %q has not the shape of 32 random bytes in base64url", id)
			}
			if seen[id] {
				t.Fatalf("id repeated after %d creates", len(seen))
			}
			seen[id] = true
		}
		for id := range seen {
			mustLoad(t, st, id)
		}
	})

	t.Run("unknown and malformed ids", func(t *testing.T) {
		st, _ := newStore(t, nil)
		id := create(t, st, testSession(t, 3))
		for _, tc := range []struct{ name, id string }{
			{"empty", ""},
			{"short", "abc"},
			{"one char short", id[:idLen-1]},
			{"one char long", id + "A"},
			{"bad character", "!" + id[1:]},
			{"padding", id[:idLen-1] + "="},
			{"non-canonical last character", id[:idLen-1] + string(flipLowBits(id[idLen-1]))},
			{"huge", strings.Repeat("A", 1<<20)},
			{"unknown but well formed", mustNewID(t)},
			{"hash of a real id", hashID(id)},
		} {
			t.Run(tc.name, func(t *testing.T) {
				gone(t, st, tc.id)
				if _, err := st.IDToken(ctx, tc.id); !errors.Is(err, ErrNotFound) {
					t.Errorf("IDToken: %v, want ErrNotFound", err)
				}
				if err := st.Delete(ctx, tc.id); err != nil {
					t.Errorf("Delete: %v", err)
				}
			})
		}
		mustLoad(t, st, id)
	})

	t.Run("invalid sessions refused", func(t *testing.T) {
		st, _ := newStore(t, nil)
		long := strings.Repeat("x", maxField+1)
		for _, tc := range []struct {
			name string
			mod  func(*Session)
		}{
			{"no issuer", func(s *Session) { s.Issuer = "" }},
			{"no subject", func(s *Session) { s.Subject = "" }},
			{"long subject", func(s *Session) { s.Subject = long }},
			{"long account", func(s *Session) { s.AccountID = long }},
			{"long sid", func(s *Session) { s.SID = long }},
			{"long acr", func(s *Session) { s.ACR = long }},
			{"long provider", func(s *Session) { s.Provider = long }},
			{"NRN ref not a ref", func(s *Session) { s.NRNRef = s.NRN.Digits() }},
			{"NRN without ref", func(s *Session) { s.NRNRef = "" }},
			{"too many amr", func(s *Session) { s.AMR = make([]string, maxAMR+1); fill(s.AMR, "pwd") }},
			{"empty amr entry", func(s *Session) { s.AMR = []string{""} }},
			{"long amr entry", func(s *Session) { s.AMR = []string{long} }},
			{"huge id token", func(s *Session) { s.IDToken = strings.Repeat("a", maxIDToken+1) }},
			{"level beyond high", func(s *Session) { s.Level = identity.LevelHigh + 1 }},
			{"absolute expiry passed", func(s *Session) { s.AbsoluteExpiry = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC) }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := testSession(t, 4)
				tc.mod(s)
				id, err := st.Create(ctx, s)
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("Create = %q, %v; want ErrInvalid", id, err)
				}
				if strings.Contains(err.Error(), s.NRN.Digits()) {
					t.Errorf("error shows the national number: %v", err)
				}
			})
		}
		if _, err := st.Create(ctx, nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("Create(nil) = %v", err)
		}
	})

	t.Run("idle expiry slides", func(t *testing.T) {
		st, clk := newStore(t, nil)
		id := create(t, st, testSession(t, 5))
		for range 5 { // activity every 29 minutes keeps it alive
			clk.Advance(DefaultIdleTimeout - time.Minute)
			mustLoad(t, st, id)
		}
		clk.Advance(DefaultIdleTimeout)
		gone(t, st, id)
		gone(t, st, id)
	})

	t.Run("idle expiry exact boundary", func(t *testing.T) {
		st, clk := newStore(t, nil)
		id := create(t, st, testSession(t, 5))
		clk.Advance(DefaultIdleTimeout - time.Millisecond)
		mustLoad(t, st, id) // touches: LastSeen moves
		id2 := create(t, st, testSession(t, 5))
		clk.Advance(DefaultIdleTimeout)
		gone(t, st, id)
		gone(t, st, id2)
	})

	t.Run("absolute expiry", func(t *testing.T) {
		st, clk := newStore(t, nil)
		s := testSession(t, 6)
		id := create(t, st, s)
		abs := s.AbsoluteExpiry
		for clk.Now().Add(20 * time.Minute).Before(abs) {
			clk.Advance(20 * time.Minute)
			got := mustLoad(t, st, id)
			if got.IdleExpiry.After(abs) {
				t.Fatalf("IdleExpiry %v after AbsoluteExpiry %v", got.IdleExpiry, abs)
			}
		}
		clk.Advance(abs.Sub(clk.Now()))
		gone(t, st, id)
	})

	t.Run("earlier absolute expiry of the caller is kept", func(t *testing.T) {
		st, clk := newStore(t, nil)
		s := testSession(t, 7)
		s.AbsoluteExpiry = clk.Now().Add(time.Hour)
		id := create(t, st, s)
		if want := ms(clk.Now().Add(time.Hour)); !s.AbsoluteExpiry.Equal(want) {
			t.Fatalf("AbsoluteExpiry = %v, want %v", s.AbsoluteExpiry, want)
		}
		clk.Advance(29 * time.Minute)
		mustLoad(t, st, id)
		clk.Advance(29 * time.Minute)
		if got := mustLoad(t, st, id); !got.IdleExpiry.Equal(s.AbsoluteExpiry) {
			t.Errorf("IdleExpiry = %v, want the absolute expiry %v", got.IdleExpiry, s.AbsoluteExpiry)
		}
		clk.Advance(2 * time.Minute)
		gone(t, st, id)

		s = testSession(t, 7)
		s.AbsoluteExpiry = clk.Now().Add(100 * time.Hour) // later than allowed: capped
		create(t, st, s)
		if want := ms(clk.Now().Add(DefaultAbsoluteTimeout)); !s.AbsoluteExpiry.Equal(want) {
			t.Fatalf("AbsoluteExpiry = %v, want the cap %v", s.AbsoluteExpiry, want)
		}
	})

	t.Run("touch is coalesced", func(t *testing.T) {
		st, clk := newStore(t, func(c *Config) { c.TouchInterval = 3 * time.Minute })
		id := create(t, st, testSession(t, 8))
		first := mustLoad(t, st, id).LastSeen
		var before int64
		if h.writes != nil {
			before = h.writes()
		}
		for range 50 { // 50 requests within 2.5 minutes: no write
			clk.Advance(3 * time.Second)
			if got := mustLoad(t, st, id).LastSeen; !got.Equal(first) {
				t.Fatalf("LastSeen moved to %v within the touch interval", got)
			}
		}
		if h.writes != nil {
			if n := h.writes() - before; n != 0 {
				t.Fatalf("%d writes for 50 loads within the touch interval, want 0", n)
			}
		}
		clk.Advance(30 * time.Second) // now 3 minutes after LastSeen
		got := mustLoad(t, st, id)
		if !got.LastSeen.Equal(ms(clk.Now())) {
			t.Fatalf("LastSeen = %v after the interval, want %v", got.LastSeen, ms(clk.Now()))
		}
		if want := ms(clk.Now()).Add(DefaultIdleTimeout); !got.IdleExpiry.Equal(want) {
			t.Fatalf("IdleExpiry = %v, want %v", got.IdleExpiry, want)
		}
		if h.writes != nil {
			if n := h.writes() - before; n != 1 {
				t.Fatalf("%d writes after the interval, want 1", n)
			}
		}
		if again := mustLoad(t, st, id).LastSeen; !again.Equal(got.LastSeen) {
			t.Fatalf("the touch was not persisted: LastSeen %v, want %v", again, got.LastSeen)
		}
	})

	revokeCase := func(name string, revoke func(Store, *Session) (int, error)) {
		t.Run(name, func(t *testing.T) {
			st, _ := newStore(t, nil)
			target := testSession(t, 10)
			var mine []string
			for range 3 {
				mine = append(mine, create(t, st, target))
			}
			others := []string{create(t, st, testSession(t, 11)), create(t, st, testSession(t, 12))}
			n, err := revoke(st, target)
			if err != nil || n != 3 {
				t.Fatalf("revoke = %d, %v; want 3", n, err)
			}
			for _, id := range mine {
				gone(t, st, id)
				if _, err := st.IDToken(ctx, id); !errors.Is(err, ErrNotFound) {
					t.Errorf("IDToken of a revoked session: %v", err)
				}
			}
			for _, id := range others {
				mustLoad(t, st, id)
			}
			if n, err := revoke(st, target); err != nil || n != 0 {
				t.Fatalf("second revoke = %d, %v; want 0", n, err)
			}
			mustLoad(t, st, create(t, st, target)) // a new login works
		})
	}
	revokeCase("revoke person", func(st Store, s *Session) (int, error) { return st.RevokePerson(ctx, s.NRNRef) })
	revokeCase("revoke sid", func(st Store, s *Session) (int, error) { return st.RevokeSID(ctx, s.Issuer, s.SID) })
	revokeCase("revoke subject", func(st Store, s *Session) (int, error) { return st.RevokeSubject(ctx, s.Issuer, s.Subject) })

	t.Run("revoke with empty or foreign keys", func(t *testing.T) {
		st, _ := newStore(t, nil)
		s := testSession(t, 13)
		id := create(t, st, s)
		for name, f := range map[string]func() (int, error){
			"empty ref":     func() (int, error) { return st.RevokePerson(ctx, "") },
			"other ref":     func() (int, error) { return st.RevokePerson(ctx, testSession(t, 14).NRNRef) },
			"empty sid":     func() (int, error) { return st.RevokeSID(ctx, s.Issuer, "") },
			"sid elsewhere": func() (int, error) { return st.RevokeSID(ctx, "https://other.example", s.SID) },
			"empty sub":     func() (int, error) { return st.RevokeSubject(ctx, s.Issuer, "") },
			"sub elsewhere": func() (int, error) { return st.RevokeSubject(ctx, "https://other.example", s.Subject) },
			// The NUL separator keeps (issuer, sid) pairs apart.
			"shifted pair": func() (int, error) { return st.RevokeSID(ctx, s.Issuer+s.SID[:1], s.SID[1:]) },
		} {
			if n, err := f(); err != nil || n != 0 {
				t.Errorf("%s: revoked %d, %v", name, n, err)
			}
		}
		mustLoad(t, st, id)
	})

	t.Run("revoke all", func(t *testing.T) {
		st, clk := newStore(t, nil)
		var ids []string
		for i := range 5 {
			ids = append(ids, create(t, st, testSession(t, 20+i)))
		}
		n, err := st.RevokeAll(ctx)
		if err != nil || n != 5 {
			t.Fatalf("RevokeAll = %d, %v; want 5", n, err)
		}
		for _, id := range ids {
			gone(t, st, id)
		}
		clk.Advance(time.Second)
		id := create(t, st, testSession(t, 20))
		mustLoad(t, st, id)
		if n, err := st.RevokeAll(ctx); err != nil || n != 1 {
			t.Fatalf("second RevokeAll = %d, %v; want 1", n, err)
		}
		gone(t, st, id)
	})

	t.Run("delete", func(t *testing.T) {
		st, _ := newStore(t, nil)
		s := testSession(t, 30)
		id := create(t, st, s)
		keep := create(t, st, s)
		if err := st.Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
		gone(t, st, id)
		if _, err := st.IDToken(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("IDToken after Delete: %v", err)
		}
		if err := st.Delete(ctx, id); err != nil {
			t.Errorf("second Delete: %v", err)
		}
		mustLoad(t, st, keep)
		if n, err := st.RevokePerson(ctx, s.NRNRef); err != nil || n != 1 {
			t.Errorf("RevokePerson after Delete = %d, %v; want 1 (the deleted one is no longer indexed)", n, err)
		}
	})

	t.Run("session without national number or sid or id token", func(t *testing.T) {
		st, _ := newStore(t, nil)
		s := testSession(t, 31)
		s.NRN, s.NRNRef, s.SID, s.IDToken, s.AMR, s.AccountID = nrn.Number{}, "", "", "", nil, ""
		id := create(t, st, s)
		got := mustLoad(t, st, id)
		if !got.NRN.IsZero() || got.NRNRef != "" || got.SID != "" || got.AMR != nil {
			t.Errorf("loaded %+v", got)
		}
		if _, err := st.IDToken(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("IDToken: %v, want ErrNotFound", err)
		}
		if n, err := st.RevokeSubject(ctx, s.Issuer, s.Subject); err != nil || n != 1 {
			t.Errorf("RevokeSubject = %d, %v", n, err)
		}
	})

	t.Run("loaded session is the caller's copy", func(t *testing.T) {
		st, _ := newStore(t, nil)
		id := create(t, st, testSession(t, 32))
		got := mustLoad(t, st, id)
		got.AMR[0] = "changed"
		got.AccountID = "changed"
		again := mustLoad(t, st, id)
		if again.AMR[0] == "changed" || again.AccountID == "changed" {
			t.Fatal("changing a loaded session changed the store")
		}
	})

	t.Run("cancelled context", func(t *testing.T) {
		st, _ := newStore(t, nil)
		id := create(t, st, testSession(t, 33))
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := st.Load(cctx, id); !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.Canceled) {
			t.Errorf("Load with a cancelled context: %v, want ErrUnavailable wrapping context.Canceled", err)
		}
		if _, err := st.Create(cctx, testSession(t, 33)); !errors.Is(err, ErrUnavailable) {
			t.Errorf("Create with a cancelled context: %v", err)
		}
		mustLoad(t, st, id)
	})

	t.Run("ping", func(t *testing.T) {
		st, _ := newStore(t, nil)
		if err := st.Ping(ctx); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("concurrent use", func(t *testing.T) {
		st, clk := newStore(t, func(c *Config) { c.TouchInterval = time.Second })
		shared := testSession(t, 40)
		var wg sync.WaitGroup
		errc := make(chan error, 64)
		for g := range 8 {
			wg.Go(func() {
				for i := range 25 {
					s := testSession(t, 41+g)
					if i%5 == 0 {
						s = testSession(t, 40) // the person being revoked meanwhile
					}
					id, err := st.Create(ctx, s)
					if err != nil {
						errc <- err
						return
					}
					if h.created != nil {
						h.created(id)
					}
					for range 4 {
						clk.Advance(400 * time.Millisecond)
						if _, err := st.Load(ctx, id); err != nil && !(i%5 == 0 && errors.Is(err, ErrNotFound)) {
							errc <- fmt.Errorf("Load: %w", err)
							return
						}
					}
					if i%2 == 0 {
						if err := st.Delete(ctx, id); err != nil {
							errc <- err
							return
						}
					}
				}
			})
		}
		wg.Go(func() {
			for range 20 {
				if _, err := st.RevokePerson(ctx, shared.NRNRef); err != nil {
					errc <- err
					return
				}
			}
		})
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Error(err)
		}
		// Whatever survived the race is still revocable.
		if _, err := st.RevokePerson(ctx, shared.NRNRef); err != nil {
			t.Fatal(err)
		}
		if n, err := st.RevokePerson(ctx, shared.NRNRef); err != nil || n != 0 {
			t.Errorf("after the race, a second revoke found %d, %v", n, err)
		}
	})
}
