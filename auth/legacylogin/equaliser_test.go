package legacylogin

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/overstap/overstap/auth/ratelimit"
	"github.com/overstap/overstap/migrate/hash"
)

// countingHasher counts the expensive operations the interceptor runs: a
// verification that ran a slow function (the real one or the
// equaliser's dummy) and a Hash.
type countingHasher struct {
	h *hash.Hasher

	mu        sync.Mutex
	expensive int
	dummy     string
}

func (c *countingHasher) Verify(ctx context.Context, stored, password string, p hash.Params) (hash.Result, error) {
	res, err := c.h.Verify(ctx, stored, password, p)
	c.mu.Lock()
	if res.Expensive {
		c.expensive++
	}
	c.mu.Unlock()
	return res, err
}

func (c *countingHasher) Hash(ctx context.Context, password string) (string, error) {
	c.mu.Lock()
	c.expensive++
	c.mu.Unlock()
	return c.h.Hash(ctx, password)
}

func (c *countingHasher) take() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.expensive
	c.expensive = 0
	return n
}

// TestEveryAnswerDoesTheSameWork: every answer of the gateway_password
// path runs exactly one expensive hash operation — unknown user, wrong
// password on a cheap legacy hash and on a migrated bcrypt hash, locked
// username, rate-limited client, NRN-shaped username, account with a
// national number, disabled account, correct password of a migrated
// account, correct legacy password (its rehash is the work). No timing is
// measured here; scripts/bench-timing.sh measures the times.
func TestEveryAnswerDoesTheSameWork(t *testing.T) {
	f := newFixture(t)
	ch := &countingHasher{h: f.hasher}
	lim, err := ratelimit.NewMemory(ratelimit.Config{IP: ratelimit.Rule{Limit: 3, Window: time.Hour, Ban: time.Hour},
		User: ratelimit.Rule{Limit: 3, Window: time.Hour, Ban: time.Hour}}, refKey.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	i, err := New(ctx, Config{Fields: Fields{Username: "gebruikersnaam", Password: "wachtwoord"}, Policy: PolicyGatewayPassword},
		Deps{Accounts: f.store, Hasher: ch, Limiter: lim, RefKey: refKey})
	if err != nil {
		t.Fatal(err)
	}
	ch.take() // New hashes the dummy once
	migrated, err := f.hasher.Hash(ctx, "Blue-Orbit-7351")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Exec(`INSERT INTO burgers (gebruikersnaam, wachtwoord, naam) VALUES ('an.migrated', ?, 'An'), ('locked.user', ?, 'L')`,
		migrated, "{MD5}"+b64md5("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.Exec(`INSERT INTO burgers (gebruikersnaam, wachtwoord, naam) VALUES ('gone.user', NULL, 'G')`); err != nil {
		t.Fatal(err)
	}
	for k := range 3 {
		_ = lim.Fail(ctx, "10.0.0."+string(rune('1'+k)), UserRef(refKey, "locked.user"))
		_ = lim.Fail(ctx, "10.9.9.9", UserRef(refKey, "spray"+string(rune('a'+k))))
	}
	cases := []struct {
		name, user, pw, ip string
		want               Outcome
	}{
		{"unknown user", "nobody", "Whatever-1", "10.1.0.1", Invalid},
		{"wrong password, legacy MD5", "jan.peeters", "wrong", "10.1.0.2", Invalid},
		{"wrong password, migrated bcrypt", "an.migrated", "wrong", "10.1.0.3", Invalid},
		{"locked username", "locked.user", "x", "10.1.0.4", Invalid},
		{"rate-limited client", "jan.peeters", "Correct-Horse-42", "10.9.9.9", Invalid},
		{"NRN-shaped username", f.citizen.Format(), f.citizen.Digits(), "10.1.0.5", UseFederated},
		{"account with a national number", "piet.nrn", "Some-Pass-99", "10.1.0.6", UseFederated},
		{"account without a credential", "gone.user", "x", "10.1.0.7", Invalid},
		{"correct password, migrated account", "an.migrated", "Blue-Orbit-7351", "10.1.0.8", Verified},
		{"correct password, legacy account (rehash)", "jan.peeters", "Correct-Horse-42", "10.1.0.9", Verified},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := i.Decide(ctx, loginReq(c.user, c.pw), c.ip)
			if err != nil || res.Outcome != c.want {
				t.Fatalf("Decide = %+v, %v; want %v", res, err, c.want)
			}
			if n := ch.take(); n != 1 {
				t.Fatalf("%d expensive operations, want exactly 1", n)
			}
		})
	}
	// block_all never checks a password, so it has nothing to equalise.
	b, err := New(ctx, Config{Fields: Fields{Username: "gebruikersnaam", Password: "wachtwoord"}}, Deps{Hasher: ch, RefKey: refKey})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"nobody", f.citizen.Digits()} {
		if res, _ := b.Decide(ctx, loginReq(u, "x"), "10.2.0.1"); res.Outcome != UseFederated || ch.take() != 0 {
			t.Fatalf("block_all: %+v", res)
		}
	}
}
