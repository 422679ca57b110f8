package session

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/overstap/overstap/auth/identity"
	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/internal/config"
	"github.com/overstap/overstap/internal/testsvc"
)

// cacheEnv is one session store in Redis shared by the caches ("nodes")
// of a test.
type cacheEnv struct {
	r     testsvc.R
	store Store
	clk   *testsvc.OffsetClock
	ch    string
	seq   int
}

func newCacheEnv(t *testing.T, idle, abs time.Duration) *cacheEnv {
	t.Helper()
	r := testsvc.Redis(t)
	clk := &testsvc.OffsetClock{}
	st, err := NewRedis(r.Client, Config{Store: "redis", Redis: RedisConfig{URL: "redis://unused"},
		Keys: []config.Secret{testKey(1)}, KeyPrefix: r.Prefix + "sess:", IdleTimeout: idle, AbsoluteTimeout: abs, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &cacheEnv{r: r, store: st, clk: clk, ch: r.Prefix + "sess:invalidate"}
}

// node is one gateway's cache. client nil: the shared test client.
func (e *cacheEnv) node(t *testing.T, ttl time.Duration, client redis.UniversalClient) *Cached {
	t.Helper()
	if client == nil {
		client = e.r.Client
	}
	c, err := NewCached(e.store, client, CacheConfig{TTL: ttl, Channel: e.ch, Now: e.clk.Now, Heartbeat: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if ttl > 0 {
		waitFor(t, "subscription live", c.Live)
	}
	return c
}

func (e *cacheEnv) create(t *testing.T, sid string) (string, *Session) {
	t.Helper()
	e.seq++
	n, err := nrn.Synthetic(time.Date(1980, 1, 2, 0, 0, 0, 0, time.UTC), e.seq%2 == 0, 900+e.seq)
	if err != nil {
		t.Fatal(err)
	}
	g := &Session{NRNRef: n.Ref(nrn.MustRefKey([]byte("cache-test-reference-key-32bytes"))), AccountID: fmt.Sprint(e.seq),
		Identity: identity.Identity{NRN: n, Provider: "p", Issuer: "https://idp.test", Subject: fmt.Sprintf("sub-%d", e.seq), SID: sid,
			AMR: []string{"pwd"}, Level: identity.LevelSubstantial, AuthTime: e.clk.Now()}}
	id, err := e.store.Create(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	return id, g
}

// waitFor polls cond (no timing assertion: the bound is only a hang guard).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for start := time.Now(); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Since(start) > 20*time.Second {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func mustLoad(t *testing.T, c Store, id string) *Session {
	t.Helper()
	s, err := c.Load(context.Background(), id)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return s
}

func mustGone(t *testing.T, c Store, id, why string) {
	t.Helper()
	if s, err := c.Load(context.Background(), id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("%s: Load = %v, %v; want ErrNoSession", why, s != nil, err)
	}
}

func TestCacheHitMiss(t *testing.T) {
	e := newCacheEnv(t, 0, 0)
	c := e.node(t, time.Minute, nil)
	id, want := e.create(t, "sid-1")
	s := mustLoad(t, c, id)
	if c.Hits() != 0 || c.Len() != 1 {
		t.Fatalf("after first load: hits %d len %d", c.Hits(), c.Len())
	}
	if s.NRNRef != want.NRNRef || s.Subject != want.Subject || s.Level != want.Level || s.NRN != want.NRN {
		t.Fatalf("loaded %+v", s)
	}
	s.AMR[0] = "changed" // callers get copies
	s.Subject = "changed"
	s2 := mustLoad(t, c, id)
	if c.Hits() != 1 {
		t.Fatalf("second load not a hit: hits %d", c.Hits())
	}
	if s2.AMR[0] != "pwd" || s2.Subject != want.Subject {
		t.Fatalf("cached entry changed through a returned copy: %+v", s2)
	}
	mustGone(t, c, "no-such-session-id", "unknown id")
	id2, _ := e.create(t, "")
	if mustLoad(t, c, id2).Subject == s2.Subject {
		t.Fatal("second session answered with the first one")
	}
	if c.Len() != 2 {
		t.Fatalf("len %d, want 2", c.Len())
	}
	for k := range c.m { // keys are keyed hashes, not ids
		if strings.Contains(string(k[:]), id) {
			t.Fatal("raw id in a map key")
		}
	}
}

func TestCacheTTLExpiry(t *testing.T) {
	e := newCacheEnv(t, 0, 0)
	c := e.node(t, 10*time.Second, nil)
	id, _ := e.create(t, "")
	mustLoad(t, c, id)
	// Deleted behind the cache's back (no invalidation): served until TTL.
	if err := e.store.Delete(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	mustLoad(t, c, id)
	e.clk.Advance(10 * time.Second)
	mustGone(t, c, id, "after TTL")
}

func TestCacheDisabled(t *testing.T) {
	e := newCacheEnv(t, 0, 0)
	c := e.node(t, 0, nil)
	id, _ := e.create(t, "")
	mustLoad(t, c, id)
	if c.Live() || c.Hits() != 0 {
		t.Fatal("TTL 0 must not cache")
	}
	if err := e.store.Delete(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	mustGone(t, c, id, "TTL 0")
	if _, err := NewCached(e.store, nil, CacheConfig{TTL: time.Second}); err == nil {
		t.Fatal("cache without Redis accepted")
	}
}

// Revocation on node A evicts node B's entries, by every kind of revocation.
func TestCacheInvalidationAcrossNodes(t *testing.T) {
	e := newCacheEnv(t, 0, 0)
	a := e.node(t, time.Hour, nil)
	b := e.node(t, time.Hour, nil)
	ctx := context.Background()
	cases := []struct {
		name   string
		revoke func(id string, s *Session) error
	}{
		{"Delete", func(id string, _ *Session) error { return a.Delete(ctx, id) }},
		{"RevokePerson", func(_ string, s *Session) error { _, err := a.RevokePerson(ctx, s.NRNRef); return err }},
		{"RevokeSID", func(_ string, s *Session) error { _, err := a.RevokeSID(ctx, s.Issuer, s.SID); return err }},
		{"RevokeSubject", func(_ string, s *Session) error {
			_, err := a.RevokeSubject(ctx, s.Issuer, s.Subject)
			return err
		}},
		{"RevokeAll", func(string, *Session) error { _, err := a.RevokeAll(ctx); return err }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id, s := e.create(t, "sid-"+tc.name)
			other, _ := e.create(t, "sid-other-"+tc.name)
			mustLoad(t, a, id)
			mustLoad(t, b, id)
			mustLoad(t, b, other)
			hits := b.Hits()
			mustLoad(t, b, id)
			if b.Hits() != hits+1 {
				t.Fatal("node B does not serve from its cache")
			}
			n := b.Invalidations()
			if err := tc.revoke(id, s); err != nil {
				t.Fatal(err)
			}
			mustGone(t, a, id, "node A right after its own revocation")
			waitFor(t, "node B to receive the invalidation", func() bool { return b.Invalidations() > n })
			mustGone(t, b, id, "node B after the invalidation")
			if tc.name != "RevokeAll" {
				mustLoad(t, b, other) // others untouched
			}
		})
	}
}

// killPubSub drops the pub/sub connections of the client named name.
func killPubSub(t *testing.T, r testsvc.R, name string) {
	t.Helper()
	list, err := r.Client.ClientList(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	killed := 0
	for _, line := range strings.Split(list, "\n") {
		if !strings.Contains(line, " name="+name+" ") || !strings.Contains(line, " sub=1 ") {
			continue
		}
		for _, f := range strings.Fields(line) {
			if id, ok := strings.CutPrefix(f, "id="); ok {
				if err := r.Client.Do(context.Background(), "CLIENT", "KILL", "ID", id).Err(); err != nil {
					t.Fatal(err)
				}
				killed++
			}
		}
	}
	if killed == 0 {
		t.Fatal("no pub/sub connection found to kill")
	}
}

// A lost subscription empties the cache and bypasses it until re-subscribed;
// a cache that never subscribed is bypassed.
func TestCacheSubscriptionLoss(t *testing.T) {
	e := newCacheEnv(t, 0, 0)
	opt, err := redis.ParseURL(e.r.URL)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimSuffix(e.r.Prefix, ":") + "_sub"
	opt.ClientName = name
	own := redis.NewClient(opt)
	t.Cleanup(func() { own.Close() })
	c := e.node(t, time.Hour, own)
	id, _ := e.create(t, "")
	mustLoad(t, c, id)
	mustLoad(t, c, id)
	if c.Hits() != 1 {
		t.Fatal("not cached")
	}
	lost := c.losses.Load()
	killPubSub(t, e.r, name)
	waitFor(t, "the cache to see the loss", func() bool { return c.losses.Load() > lost })
	// Deleted behind the cache's back while it was down: the entry is gone.
	if err := e.store.Delete(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	mustGone(t, c, id, "after subscription loss")
	// It comes back by itself and caches again.
	waitFor(t, "re-subscription", c.Live)
	id2, _ := e.create(t, "")
	mustLoad(t, c, id2)
	h := c.Hits()
	mustLoad(t, c, id2)
	if c.Hits() != h+1 {
		t.Fatal("not caching after re-subscription")
	}

	t.Run("never subscribed", func(t *testing.T) {
		dead := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", testsvc.FreePort(t)), MaxRetries: -1})
		t.Cleanup(func() { dead.Close() })
		c, err := NewCached(e.store, dead, CacheConfig{TTL: time.Hour, Channel: e.ch, Now: e.clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		id, _ := e.create(t, "")
		mustLoad(t, c, id)
		mustLoad(t, c, id)
		if c.Live() || c.Hits() != 0 || c.Len() != 0 {
			t.Fatalf("cache used without a subscription: live %v hits %d len %d", c.Live(), c.Hits(), c.Len())
		}
		if err := e.store.Delete(context.Background(), id); err != nil {
			t.Fatal(err)
		}
		mustGone(t, c, id, "no subscription")
		// Its revocations fail loudly (cannot publish) but still revoke.
		id2, _ := e.create(t, "")
		if err := c.Delete(context.Background(), id2); err == nil {
			t.Fatal("Delete reported success without publishing")
		}
		mustGone(t, e.store, id2, "deleted in the store")
	})
}

// An entry never outlives the session: cached, it is gone when the idle
// expiry or the absolute one passes.
func TestCacheTimeouts(t *testing.T) {
	for _, tc := range []struct {
		name      string
		idle, abs time.Duration
		first     time.Duration // before the first load
	}{
		{"past the idle timeout", time.Minute, time.Hour, 0},
		// The first load touches: the idle expiry is now capped by the
		// absolute one.
		{"past the absolute timeout", 10 * time.Minute, 11 * time.Minute, 9*time.Minute + 59*time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newCacheEnv(t, tc.idle, tc.abs)
			c := e.node(t, time.Hour, nil)
			id, _ := e.create(t, "")
			e.clk.Advance(tc.first)
			mustLoad(t, c, id)
			e.clk.Advance(30 * time.Second)
			mustLoad(t, c, id)
			if c.Hits() != 1 {
				t.Fatal("not cached")
			}
			e.clk.Advance(31 * time.Second)
			mustGone(t, c, id, tc.name)
		})
	}
}

// Cached hits still keep the session alive: one Load per TTL reaches the
// store, which touches as usual.
func TestCacheKeepsTouching(t *testing.T) {
	e := newCacheEnv(t, time.Minute, time.Hour) // touch interval 6s
	c := e.node(t, 5*time.Second, nil)
	id, _ := e.create(t, "")
	for range 60 { // 4 minutes of activity, 4 idle timeouts
		mustLoad(t, c, id)
		mustLoad(t, c, id)
		e.clk.Advance(4 * time.Second)
	}
	if c.Hits() < 60 {
		t.Fatalf("hits %d", c.Hits())
	}
}

// Concurrent loads, deletes and revocations on two nodes (run with -race);
// once a Delete on a node returns, that node never serves the session.
func TestCacheConcurrent(t *testing.T) {
	e := newCacheEnv(t, 0, 0)
	a := e.node(t, time.Hour, nil)
	b := e.node(t, time.Hour, nil)
	ctx := context.Background()
	const n = 40
	ids := make([]string, n)
	for i := range ids {
		ids[i], _ = e.create(t, "")
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				node := a
				if (i+g)%2 == 0 {
					node = b
				}
				if _, err := node.Load(ctx, ids[(i*7+g)%n]); err != nil && !errors.Is(err, ErrNotFound) {
					t.Error(err)
					return
				}
			}
		}()
	}
	for i, id := range ids {
		node := a
		if i%2 == 1 {
			node = b
		}
		if err := node.Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
		mustGone(t, node, id, "right after Delete on the same node")
	}
	close(stop)
	wg.Wait()
	waitFor(t, "all invalidations", func() bool { return a.Invalidations() >= n && b.Invalidations() >= n })
	for _, id := range ids {
		mustGone(t, a, id, "node A at the end")
		mustGone(t, b, id, "node B at the end")
	}
}

func TestCacheBounded(t *testing.T) {
	e := newCacheEnv(t, 0, 0)
	c, err := NewCached(e.store, e.r.Client, CacheConfig{TTL: time.Hour, MaxEntries: 3, Channel: e.ch, Now: e.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	waitFor(t, "subscription live", c.Live)
	for range 10 {
		id, _ := e.create(t, "")
		mustLoad(t, c, id)
		if c.Len() > 3 {
			t.Fatalf("len %d > MaxEntries 3", c.Len())
		}
	}
	if c.Len() != 3 {
		t.Fatalf("len %d, want 3", c.Len())
	}
}
