package ratelimit

import (
	"context"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/overstap/overstap/internal/testsvc"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

// newFunc builds a limiter of one backend over a shared clock. Calling it
// twice in one test gives two limiters sharing the backend's state where the
// backend is shared (Redis), like two gateway nodes.
type newFunc func(t *testing.T, cfg Config) Limiter

func testCfg(c *testsvc.Clock) Config {
	return Config{
		IP:             Rule{Limit: 6, Window: time.Minute, Ban: 5 * time.Minute},
		User:           Rule{Limit: 3, Window: time.Minute, Ban: 2 * time.Minute},
		MaxConsecutive: 7,
		Now:            c.Now,
	}
}

func runSuite(t *testing.T, mk newFunc) {
	ctx := context.Background()
	// start is a limiter with the test rules on a clock of its own.
	start := func(t *testing.T) (*testsvc.Clock, Limiter) {
		c := testsvc.NewClock(time.Unix(1_800_000_000, 0))
		return c, mk(t, testCfg(c))
	}
	t.Run("user limit bans then expires", func(t *testing.T) {
		c, l := start(t)
		for i := 0; i < 2; i++ {
			mustFail(t, l, "127.0.0.2", "alice")
			c.Advance(time.Second)
		}
		if d, _ := l.Check(ctx, "127.0.0.2", "alice"); !d.Allowed {
			t.Fatalf("banned after 2 of 3 failures: %+v", d)
		}
		mustFail(t, l, "127.0.0.2", "alice")
		d, err := l.Check(ctx, "127.0.0.3", "alice")
		if err != nil || d.Allowed || d.Scope != ScopeUser {
			t.Fatalf("after limit: %+v %v, want user ban", d, err)
		}
		if d.RetryAfter <= 0 || d.RetryAfter > 2*time.Minute {
			t.Fatalf("RetryAfter = %v", d.RetryAfter)
		}
		if d, _ := l.Check(ctx, "127.0.0.3", "bob"); !d.Allowed {
			t.Fatalf("other user refused: %+v", d)
		}
		c.Advance(2*time.Minute + time.Second)
		if d, _ := l.Check(ctx, "127.0.0.3", "alice"); !d.Allowed {
			t.Fatalf("still banned after ban time: %+v", d)
		}
	})
	t.Run("window slides", func(t *testing.T) {
		c, l := start(t)
		for i := 0; i < 10; i++ {
			mustFail(t, l, "", "carol")
			c.Advance(31 * time.Second) // at most 2 failures in any minute
			if err := l.Succeed(ctx, "nobody"); err != nil {
				t.Fatal(err)
			}
			if i < 6 {
				if d, _ := l.Check(ctx, "", "carol"); !d.Allowed {
					t.Fatalf("failure %d: banned though the window never held 3: %+v", i, d)
				}
			}
		}
	})
	t.Run("ip limit across usernames", func(t *testing.T) {
		_, l := start(t)
		for i := 0; i < 6; i++ {
			mustFail(t, l, "127.0.0.9", "user"+string(rune('a'+i)))
		}
		d, _ := l.Check(ctx, "127.0.0.9", "fresh")
		if d.Allowed || d.Scope != ScopeIP {
			t.Fatalf("ip not banned after 6 usernames: %+v", d)
		}
		if d, _ := l.Check(ctx, "127.0.0.10", "fresh"); !d.Allowed {
			t.Fatalf("other ip refused: %+v", d)
		}
	})
	t.Run("ipv4-mapped spelling shares the IPv4 counter", func(t *testing.T) {
		_, l := start(t)
		for i := 0; i < 6; i++ {
			ip := "127.0.0.20"
			if i%2 == 1 {
				ip = "::ffff:127.0.0.20"
			}
			mustFail(t, l, ip, "")
		}
		for _, ip := range []string{"127.0.0.20", "::ffff:127.0.0.20", "::FFFF:7f00:14"} {
			if d, _ := l.Check(ctx, ip, ""); d.Allowed || d.Scope != ScopeIP {
				t.Fatalf("%s not banned after 6 failures under two spellings: %+v", ip, d)
			}
		}
		if d, _ := l.Check(ctx, "127.0.0.21", ""); !d.Allowed {
			t.Fatalf("neighbour IPv4 refused: %+v", d)
		}
	})
	t.Run("ipv6 addresses of one /64 share a counter", func(t *testing.T) {
		_, l := start(t)
		for _, ip := range []string{"2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff:ffff:ffff:ffff",
			"2001:db8:1:2:1234::9", "[2001:db8:1:2::77]:443", "2001:db8:1:2::5"} {
			mustFail(t, l, ip, "")
		}
		if d, _ := l.Check(ctx, "2001:db8:1:2:abcd::1", ""); d.Allowed || d.Scope != ScopeIP {
			t.Fatalf("fresh address of the /64 not banned after 6 failures spread over it: %+v", d)
		}
		if d, _ := l.Check(ctx, "2001:db8:1:3::1", ""); !d.Allowed {
			t.Fatalf("address of the next /64 refused: %+v", d)
		}
		if l.Ref(ScopeIP, "2001:db8:1:2::1") != l.Ref(ScopeIP, "2001:db8:1:2:ffff::1") {
			t.Error("Ref differs inside one /64")
		}
	})
	t.Run("consecutive failures lock until lifted", func(t *testing.T) {
		c, l := start(t)
		for i := 0; i < 7; i++ {
			mustFail(t, l, "", "dave")
			c.Advance(3 * time.Minute) // past window and ban each time
		}
		c.Advance(24 * time.Hour)
		d, _ := l.Check(ctx, "", "dave")
		if d.Allowed {
			t.Fatal("not locked after max_consecutive failures")
		}
		bans, err := l.Bans(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ref := l.Ref(ScopeUser, "dave")
		found := false
		for _, b := range bans {
			if strings.Contains(b.Ref, "dave") {
				t.Fatalf("ban list shows the raw username: %+v", b)
			}
			if b.Ref == ref && b.Locked {
				found = true
			}
		}
		if !found {
			t.Fatalf("lock not listed: %+v", bans)
		}
		if ok, err := l.Lift(ctx, ScopeUser, ref); err != nil || !ok {
			t.Fatalf("Lift = %v, %v", ok, err)
		}
		if d, _ := l.Check(ctx, "", "dave"); !d.Allowed {
			t.Fatalf("still locked after lift: %+v", d)
		}
		if ok, _ := l.Lift(ctx, ScopeUser, ref); ok {
			t.Fatal("second lift reported a ban")
		}
	})
	t.Run("success resets consecutive count", func(t *testing.T) {
		c, l := start(t)
		for i := 0; i < 20; i++ {
			mustFail(t, l, "", "erin")
			c.Advance(3 * time.Minute)
			if i%5 == 4 {
				if err := l.Succeed(ctx, "erin"); err != nil {
					t.Fatal(err)
				}
			}
		}
		if d, _ := l.Check(ctx, "", "erin"); !d.Allowed {
			t.Fatalf("locked although a success came every 5 failures: %+v", d)
		}
	})
}

func mustFail(t *testing.T, l Limiter, ip, user string) {
	t.Helper()
	if err := l.Fail(context.Background(), ip, user); err != nil {
		t.Fatal(err)
	}
}

func TestMemory(t *testing.T) {
	runSuite(t, func(t *testing.T, cfg Config) Limiter {
		l, err := NewMemory(cfg, secret)
		if err != nil {
			t.Fatal(err)
		}
		return l
	})
}

func TestRedis(t *testing.T) {
	r := testsvc.Redis(t)
	var mu sync.Mutex
	prefixes := map[string]string{} // test name -> prefix, shared by nodes
	runSuite(t, func(t *testing.T, cfg Config) Limiter {
		mu.Lock()
		p, ok := prefixes[t.Name()]
		if !ok {
			p = r.Prefix + testsvc.Name("rl") + ":"
			prefixes[t.Name()] = p
		}
		mu.Unlock()
		cfg.KeyPrefix = p
		l, err := NewRedis(r.Client, cfg, secret)
		if err != nil {
			t.Fatal(err)
		}
		return l
	})
	t.Run("two nodes share counts", func(t *testing.T) {
		c := testsvc.NewClock(time.Unix(1_800_000_000, 0))
		cfg := testCfg(c)
		cfg.KeyPrefix = r.Prefix + "shared:"
		a, err := NewRedis(r.Client, cfg, secret)
		if err != nil {
			t.Fatal(err)
		}
		b, err := NewRedis(r.Client, cfg, secret)
		if err != nil {
			t.Fatal(err)
		}
		mustFail(t, a, "", "frank")
		mustFail(t, b, "", "frank")
		if d, _ := a.Check(context.Background(), "", "frank"); !d.Allowed {
			t.Fatal("banned after 2 of 3 failures")
		}
		mustFail(t, a, "", "frank")
		if d, _ := b.Check(context.Background(), "", "frank"); d.Allowed {
			t.Fatal("node b does not see node a's failures")
		}
	})
	// No raw username or IP in any key.
	keys, err := r.Client.Keys(context.Background(), r.Prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) == 0 {
		t.Fatal("suite wrote no keys under the test prefix")
	}
	for _, k := range keys {
		for _, raw := range []string{"alice", "dave", "127.0.0."} {
			if strings.Contains(k, raw) {
				t.Errorf("key %q contains %q", k, raw)
			}
		}
	}
}

func TestRedisUnavailableFailsClosed(t *testing.T) {
	port := testsvc.FreePort(t) // nothing listens there
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(port), MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer c.Close()
	l, err := NewRedis(c, Config{}, secret)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := l.Check(ctx, "127.0.0.1", "u"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Check err = %v, want ErrUnavailable", err)
	}
	if err := l.Fail(ctx, "127.0.0.1", "u"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Fail err = %v, want ErrUnavailable", err)
	}
}

func TestConfigValidate(t *testing.T) {
	for name, tc := range map[string]struct {
		cfg  Config
		want string
	}{
		"defaults ok":          {Config{}, ""},
		"over NIST":            {Config{MaxConsecutive: 101}, "max_consecutive"},
		"zero window":          {Config{User: Rule{Limit: 3, Ban: time.Minute}}, "user.window"},
		"user above max":       {Config{User: Rule{Limit: 50, Window: time.Minute, Ban: time.Minute}, MaxConsecutive: 10}, "user.limit"},
		"negative ip ban":      {Config{IP: Rule{Limit: 3, Window: time.Minute, Ban: -1}}, "ip.ban"},
		"all reported at once": {Config{IP: Rule{Limit: -1}, MaxConsecutive: 500}, "ip.limit"},
	} {
		t.Run(name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want mention of %q", err, tc.want)
			}
		})
	}
	if _, err := NewMemory(Config{}, []byte("short")); err == nil {
		t.Fatal("short secret accepted")
	}
}

func TestIPKey(t *testing.T) {
	for in, want := range map[string]string{
		"1.2.3.4":               "1.2.3.4",
		"::ffff:1.2.3.4":        "1.2.3.4",
		"::ffff:102:304":        "1.2.3.4",
		"1.2.3.4:8080":          "1.2.3.4",
		"[::ffff:1.2.3.4]:443":  "1.2.3.4",
		"2001:db8:1:2:3:4:5:6":  "2001:db8:1:2::/64",
		"2001:DB8:1:2::1":       "2001:db8:1:2::/64",
		"[2001:db8:1:2::1]:443": "2001:db8:1:2::/64",
		"fe80::1%eth0":          "fe80::/64",
		"::1":                   "::/64",
		"not-an-address":        "not-an-address",
		"":                      "",
	} {
		if got := IPKey(in); got != want {
			t.Errorf("IPKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzIPKey: IPKey never panics, is idempotent, and an IPv6 result is a
// /64 prefix.
func FuzzIPKey(f *testing.F) {
	for _, s := range []string{"1.2.3.4", "::ffff:1.2.3.4", "[::1]:80", "2001:db8::1%eth0", "fe80::1", "", "x", "1.2.3.4:99999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k := IPKey(s)
		if IPKey(k) != k {
			t.Fatalf("IPKey(%q) = %q, IPKey of that = %q", s, k, IPKey(k))
		}
		if strings.Contains(k, ":") && strings.HasSuffix(k, "/64") {
			return
		}
		if a, err := netip.ParseAddr(k); err == nil && !a.Is4() {
			t.Fatalf("IPKey(%q) = %q: an IPv6 address not bucketed", s, k)
		}
	})
}
