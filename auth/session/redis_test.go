package session

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/overstap/overstap/auth/identity"
	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/internal/config"
	"github.com/overstap/overstap/internal/testsvc"
)

// writeCounter counts every Redis command that may write, pipelined or not.
type writeCounter struct{ n atomic.Int64 }

var readOnly = map[string]bool{"get": true, "mget": true, "smembers": true, "scan": true, "ping": true, "type": true, "strlen": true, "pttl": true, "ttl": true, "hello": true, "client": true}

func (w *writeCounter) count(cmd redis.Cmder) {
	if !readOnly[strings.ToLower(cmd.Name())] {
		w.n.Add(1)
	}
}
func (w *writeCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (w *writeCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		w.count(cmd)
		return next(ctx, cmd)
	}
}
func (w *writeCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, c := range cmds {
			w.count(c)
		}
		return next(ctx, cmds)
	}
}

// redisHarness runs the suite on the machine's Redis, each store on a key
// prefix of its own under the test's prefix.
func redisHarness(t *testing.T, r testsvc.R, ids *idSet) harness {
	wc := &writeCounter{}
	r.Client.AddHook(wc)
	var n atomic.Int64
	return harness{
		open: func(t *testing.T, cfg Config) Store {
			cfg.KeyPrefix = fmt.Sprintf("%s%d:", r.Prefix, n.Add(1))
			st, err := NewRedis(r.Client, cfg)
			if err != nil {
				t.Fatal(err)
			}
			return st
		},
		writes:  func() int64 { return wc.n.Load() },
		created: ids.add,
	}
}

type idSet struct {
	mu  sync.Mutex
	ids []string
}

func (s *idSet) add(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ids = append(s.ids, id)
}

func TestRedisStore(t *testing.T) {
	r := testsvc.Redis(t)
	ids := &idSet{}
	runStoreSuite(t, redisHarness(t, r, ids))
	t.Run("scan reveals nothing", func(t *testing.T) {
		st := scanRedis(t, r, ids.ids, nil)
		if st.keys == 0 {
			t.Fatal("the suite left no keys to inspect")
		}
		t.Logf("scanned %d keys, %d session ids checked", st.keys, len(ids.ids))
	})
}

var nrnShaped = regexp.MustCompile(`(^|[^0-9])[0-9]{11}([^0-9]|$)|[0-9]{2}\.[0-9]{2}\.[0-9]{2}-[0-9]{3}\.[0-9]{2}|[0-9]{6}[ -][0-9]{3}[ -][0-9]{2}`)

// scanStats summarises a scan of the test's keys.
type scanStats struct {
	keys                     int
	maxSession, maxIDToken   int
	sessions, idTokens, sets int
}

// scanRedis reads every key under the test's prefix and fails on anything
// that would help someone holding a dump: an NRN-shaped string (in any
// written form), a session id, or a given clear value. It also checks that
// no session record exceeds 1 KiB.
func scanRedis(t *testing.T, r testsvc.R, ids []string, secrets []string) scanStats {
	t.Helper()
	ctx := context.Background()
	var st scanStats
	var haystacks []string
	var keys []string
	var mu sync.Mutex // ForEachMaster runs concurrently
	scan := func(ctx context.Context, c redis.UniversalClient) error {
		iter := c.Scan(ctx, 0, r.Prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			mu.Lock()
			keys = append(keys, iter.Val())
			mu.Unlock()
		}
		return iter.Err()
	}
	var err error
	if cc, ok := r.Client.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return scan(ctx, c) })
	} else {
		err = scan(ctx, r.Client)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range keys {
		st.keys++
		haystacks = append(haystacks, key)
		typ, err := r.Client.Type(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		rest := strings.TrimPrefix(key, r.Prefix)
		rest = rest[strings.IndexByte(rest, ':')+1:] // drop the per-store number
		switch typ {
		case "string":
			v, err := r.Client.Get(ctx, key).Result()
			if err != nil {
				t.Fatal(err)
			}
			haystacks = append(haystacks, v)
			switch {
			case strings.HasPrefix(rest, "s:"):
				st.sessions++
				st.maxSession = max(st.maxSession, len(v))
				if len(v) > 1024 {
					t.Errorf("session record of %d bytes, more than 1 KiB", len(v))
				}
			case strings.HasPrefix(rest, "t:"):
				st.idTokens++
				st.maxIDToken = max(st.maxIDToken, len(v))
			}
		case "set":
			st.sets++
			m, err := r.Client.SMembers(ctx, key).Result()
			if err != nil {
				t.Fatal(err)
			}
			haystacks = append(haystacks, m...)
		case "none":
		default:
			t.Errorf("unexpected key type %s", typ)
		}
	}
	var needles []string
	for _, id := range ids {
		raw, _ := base64.RawURLEncoding.DecodeString(id)
		needles = append(needles, id, string(raw))
	}
	needles = append(needles, secrets...)
	for _, h := range haystacks {
		if spans := nrn.Find(h); len(spans) > 0 {
			t.Errorf("Redis holds a national number (%s)", spans[0].Number.Mask())
		}
		// NRN-shaped even with wrong check digits: 11 digits in a row, or
		// the card's dotted form.
		if nrnShaped.MatchString(h) {
			t.Errorf("Redis holds an NRN-shaped string")
		}
		for _, n := range needles {
			if n != "" && strings.Contains(h, n) {
				t.Errorf("Redis holds a value it must not (a session id or a clear value, %d bytes)", len(n))
			}
		}
	}
	return st
}

// realisticIDToken builds an itsme-like RS256 ID token carrying the
// national number: the signature is 256 random bytes, the size of an
// RSA-2048 signature.
func realisticIDToken(t testing.TB, n nrn.Number) string {
	t.Helper()
	enc := base64.RawURLEncoding
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "kid": "Cq3Xp5dZ0b9yL2wQmF7vT8eR1uI4oA6s", "typ": "JWT"})
	claims, _ := json.Marshal(map[string]any{
		"iss": "https://idp.prd.itsme.services/v2", "sub": "7y4ne1ca3hq1ue0k6ux0xmxnpi0p5fh3a8zk",
		"aud": "municipality-eloket-prd", "exp": 1772445900, "iat": 1772445600, "auth_time": 1772445590,
		"nonce": "kq5Zr8cV2mW7nT0xB4yH1jL6sD9fG3aE5uP8iO2wQ1e",
		"acr":   "http://itsme.services/v2/claim/acr_advanced",
		"amr":   []string{"http://itsme.services/v2/claim/amr_mobile"},
		"sid":   "5c0a4c7e-8b1d-4f6e-9a2b-3c4d5e6f7a8b",
		"http://itsme.services/v2/claim/BENationalNumber": n.Digits(),
		"given_name": "Jan", "family_name": "Testpersoon", "locale": "nl",
	})
	sig := make([]byte, 256)
	rand.Read(sig)
	return enc.EncodeToString(header) + "." + enc.EncodeToString(claims) + "." + enc.EncodeToString(sig)
}

// profileSessions are realistic sessions of the three providers, with
// long-ish values.
func profileSessions(t testing.TB, n nrn.Number) []*Session {
	ref := n.Ref(refKey)
	tok := realisticIDToken(t, n)
	at := time.Date(2026, 3, 2, 8, 59, 50, 0, time.UTC)
	return []*Session{
		{NRNRef: ref, AccountID: "burger-0001234567", IDToken: tok, Identity: identity.Identity{NRN: n, Provider: "fas",
			Issuer: "http://idp.iamfas.int.belgium.be:80/fas/oauth2", Subject: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b",
			SID: "Ux1X4tWbKk3NQ2yFvD1fM0aR9sE7cH5g", ACR: "0", AMR: []string{"urn:be:fedict:iam:fas:Level500"},
			Name: "Jan Peeters", Level: identity.LevelHigh, AuthTime: at}},
		{NRNRef: ref, AccountID: "burger-0001234567", IDToken: tok, Identity: identity.Identity{NRN: n, Provider: "itsme",
			Issuer: "https://idp.prd.itsme.services/v2", Subject: "7y4ne1ca3hq1ue0k6ux0xmxnpi0p5fh3a8zk",
			SID: "5c0a4c7e-8b1d-4f6e-9a2b-3c4d5e6f7a8b", ACR: "http://itsme.services/v2/claim/acr_advanced",
			AMR: []string{"http://itsme.services/v2/claim/amr_mobile"}, Level: identity.LevelHigh, AuthTime: at}},
		{NRNRef: ref, AccountID: "burger-0001234567", IDToken: tok, Identity: identity.Identity{NRN: n, Provider: "acmidm",
			Issuer: "https://authenticatie.vlaanderen.be/op", Subject: "2c7c6f0e-4b2a-4d61-9e5b-0f3a1d8c7b64",
			SID: "b1f0c4d2-8e7a-4c3b-9d6e-5f4a3b2c1d0e", ACR: "urn:be:vlaanderen:authmech:eidassubstantial",
			AMR: []string{"urn:be:vlaanderen:authmech:itsme", "mfa"}, Level: identity.LevelSubstantial, AuthTime: at}},
	}
}

func TestRedisRecordsRevealNothing(t *testing.T) {
	r := testsvc.Redis(t)
	ctx := context.Background()
	st, err := NewRedis(r.Client, Config{Keys: []config.Secret{testKey(1)}, KeyPrefix: r.Prefix + "0:"})
	if err != nil {
		t.Fatal(err)
	}
	var ids, secrets []string
	gen := nrn.NewGenerator(42)
	for range 10 {
		n := gen.Next()
		secrets = append(secrets, n.Digits(), n.Format())
		for _, s := range profileSessions(t, n) {
			secrets = append(secrets, s.Subject, s.SID, s.AccountID)
			id, err := st.Create(ctx, s)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
			if _, err := st.Load(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
	}
	stats := scanRedis(t, r, ids, secrets)
	if stats.sessions != len(ids) || stats.idTokens != len(ids) {
		t.Fatalf("found %d session and %d ID token records, want %d each", stats.sessions, stats.idTokens, len(ids))
	}
	t.Logf("largest session record %d bytes (limit 1024); largest ID token record %d bytes (token %d bytes); %d index sets",
		stats.maxSession, stats.maxIDToken, len(realisticIDToken(t, gen.Next())), stats.sets)
}

func TestRedisKeyRotation(t *testing.T) {
	r := testsvc.Redis(t)
	ctx := context.Background()
	clk := newClock()
	open := func(keys ...config.Secret) *Redis {
		st, err := NewRedis(r.Client, Config{Keys: keys, KeyPrefix: r.Prefix, Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	old := open(testKey(1))
	active, err := old.Create(ctx, testSession(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	idle, err := old.Create(ctx, testSession(t, 2))
	if err != nil {
		t.Fatal(err)
	}

	// Step 1: new key first, old key still in the ring. Nobody is logged
	// out; a record sealed with the old key is resealed on its next load,
	// even within the touch interval.
	both := open(testKey(2), testKey(1))
	wc := &writeCounter{}
	r.Client.AddHook(wc)
	if _, err := both.Load(ctx, active); err != nil {
		t.Fatalf("the old key no longer opens: %v", err)
	}
	if n := wc.n.Load(); n != 1 {
		t.Errorf("%d writes on the first load after rotation, want 1 (reseal)", n)
	}
	if _, err := both.Load(ctx, active); err != nil {
		t.Fatal(err)
	}
	if n := wc.n.Load(); n != 1 {
		t.Errorf("%d writes after a second load, want still 1", n)
	}
	if tok, err := both.IDToken(ctx, idle); err != nil || tok == "" {
		t.Errorf("IDToken sealed with the old key: %q, %v", tok, err)
	}
	fresh, err := both.Create(ctx, testSession(t, 3))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Load(ctx, fresh); !errors.Is(err, ErrNotFound) {
		t.Errorf("a node with only the old key opened a record sealed with the new one: %v", err)
	}

	// Step 2: old key dropped. Resealed and new sessions live on; a session
	// not seen since the rotation is gone, without a panic.
	only := open(testKey(2))
	for _, id := range []string{active, fresh} {
		if _, err := only.Load(ctx, id); err != nil {
			t.Errorf("after dropping the old key: %v", err)
		}
	}
	if _, err := only.Load(ctx, idle); !errors.Is(err, ErrNotFound) {
		t.Errorf("a record sealed with a dropped key: %v, want ErrNotFound", err)
	}
	if _, err := only.IDToken(ctx, idle); !errors.Is(err, ErrNotFound) {
		t.Errorf("an ID token sealed with a dropped key: %v, want ErrNotFound", err)
	}

	// A node with an unrelated key opens nothing, and deletes nothing it
	// cannot open (mid roll-out, another node may hold the key).
	stranger := open(testKey(9))
	for _, id := range []string{active, fresh} {
		if _, err := stranger.Load(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("unrelated key: %v, want ErrNotFound", err)
		}
		if _, err := only.Load(ctx, id); err != nil {
			t.Errorf("a node that could not open the record removed it: %v", err)
		}
	}
}

func TestRedisTamperedRecords(t *testing.T) {
	r := testsvc.Redis(t)
	ctx := context.Background()
	logs := &testsvc.SyncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	st, err := NewRedis(r.Client, Config{Keys: []config.Secret{testKey(1)}, KeyPrefix: r.Prefix, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	id, err := st.Create(ctx, testSession(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	other, err := st.Create(ctx, testSession(t, 2))
	if err != nil {
		t.Fatal(err)
	}
	key, otherKey := st.sessionKey(hashID(id)), st.sessionKey(hashID(other))
	orig, err := r.Client.Get(ctx, key).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	otherBlob, _ := r.Client.Get(ctx, otherKey).Bytes()
	tokBlob, _ := r.Client.Get(ctx, st.tokenKey(hashID(id))).Bytes()
	flip := func(i int) []byte {
		b := append([]byte(nil), orig...)
		b[i] ^= 0x01
		return b
	}
	for _, tc := range []struct {
		name string
		v    []byte
	}{
		{"version byte", flip(0)},
		{"key id", flip(2)},
		{"nonce", flip(sealHeader + 3)},
		{"ciphertext", flip(sealHeader + 24 + 5)},
		{"tag", flip(len(orig) - 1)},
		{"truncated", orig[:len(orig)-1]},
		{"only the header", orig[:sealHeader]},
		{"empty", nil},
		{"extra byte", append(append([]byte(nil), orig...), 0)},
		{"another session's record", otherBlob},
		{"its own ID token record", tokBlob},
		{"garbage", []byte(strings.Repeat("\xff", 2000))},
		{"oversized", make([]byte, maxRecord+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := r.Client.Set(ctx, key, tc.v, time.Minute).Err(); err != nil {
				t.Fatal(err)
			}
			if s, err := st.Load(ctx, id); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Load = %v, %v; want ErrNotFound", s, err)
			}
			if err := r.Client.Set(ctx, key, orig, time.Minute).Err(); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Load(ctx, id); err != nil {
				t.Fatalf("the untouched record does not load: %v", err)
			}
		})
	}
	t.Run("log lines name no session", func(t *testing.T) {
		out := logs.String()
		if !strings.Contains(out, "does not open") {
			t.Fatalf("tampered records were not logged: %q", out)
		}
		for _, v := range []string{id, other, hashID(id), hashID(other), testSession(t, 1).NRN.Digits()} {
			if strings.Contains(out, v) {
				t.Fatalf("a log line names a session or a person: %q", out)
			}
		}
	})
	t.Run("ID token swapped between sessions", func(t *testing.T) {
		otherTok, _ := r.Client.Get(ctx, st.tokenKey(hashID(other))).Bytes()
		r.Client.Set(ctx, st.tokenKey(hashID(id)), otherTok, time.Minute)
		if _, err := st.IDToken(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Fatalf("IDToken = %v, want ErrNotFound", err)
		}
	})
	t.Run("malformed generation fails closed", func(t *testing.T) {
		r.Client.Set(ctx, st.genKey(), "not-a-number", time.Minute)
		defer r.Client.Del(ctx, st.genKey())
		if _, err := st.Load(ctx, other); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Load = %v, want ErrUnavailable", err)
		}
	})
}

func TestRedisTTLs(t *testing.T) {
	r := testsvc.Redis(t)
	ctx := context.Background()
	clk := newClock()
	st, err := NewRedis(r.Client, Config{Keys: []config.Secret{testKey(1)}, KeyPrefix: r.Prefix, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	s := testSession(t, 1)
	id, err := st.Create(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	hid := hashID(id)
	for _, tc := range []struct {
		key      string
		min, max time.Duration
	}{
		{st.sessionKey(hid), DefaultIdleTimeout - time.Minute, DefaultIdleTimeout},
		{st.tokenKey(hid), DefaultAbsoluteTimeout - time.Minute, DefaultAbsoluteTimeout},
		{st.prefix + "p:" + personIndex(s.NRNRef), DefaultAbsoluteTimeout - time.Minute, DefaultAbsoluteTimeout},
		{st.prefix + "i:" + sidIndex(s.Issuer, s.SID), DefaultAbsoluteTimeout - time.Minute, DefaultAbsoluteTimeout},
		{st.prefix + "u:" + subjectIndex(s.Issuer, s.Subject), DefaultAbsoluteTimeout - time.Minute, DefaultAbsoluteTimeout},
	} {
		ttl, err := r.Client.PTTL(ctx, tc.key).Result()
		if err != nil || ttl < tc.min || ttl > tc.max {
			t.Errorf("TTL of %s = %v, %v; want between %v and %v", strings.TrimPrefix(tc.key, r.Prefix), ttl, err, tc.min, tc.max)
		}
	}
	// A touch late in the session extends the record's TTL, never past the
	// absolute expiry.
	for range 24 { // 11h36m: less than the idle timeout left
		clk.Advance(29 * time.Minute)
		if _, err := st.Load(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	left := s.AbsoluteExpiry.Sub(clk.Now())
	if ttl := r.Client.PTTL(ctx, st.sessionKey(hid)).Val(); ttl > left || ttl < left-time.Second {
		t.Errorf("TTL near the absolute expiry = %v, want about %v", ttl, left)
	}
}

// TestScanDetectors makes sure the scan would notice what it looks for.
func TestScanDetectors(t *testing.T) {
	n := nrn.NewGenerator(5).Next()
	for _, v := range []string{n.Digits(), n.Format(), "x" + n.Digits() + "y", n.Digits()[:6] + " " + n.Digits()[6:9] + " " + n.Digits()[9:], "12345678901"} {
		if !nrnShaped.MatchString(v) {
			t.Errorf("pattern misses %s", nrn.Scrub(v))
		}
	}
	for _, v := range []string{"123456789012", "1234567890", "t_ab12:3:s:AbC"} {
		if nrnShaped.MatchString(v) {
			t.Errorf("pattern matches %q", v)
		}
	}
}
