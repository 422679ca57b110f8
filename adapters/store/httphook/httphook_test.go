package httphook

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/overstap/overstap/adapters/store"
	"github.com/overstap/overstap/adapters/store/sqlstore"
	"github.com/overstap/overstap/adapters/store/storetest"
	"github.com/overstap/overstap/internal/config"
)

var testKey = []byte("0123456789abcdef0123456789abcdef-test-key")

// liteSeeder writes fixture rows into the SQLite table behind the hook.
type liteSeeder struct{ db *sql.DB }

func (s liteSeeder) Seed(t testing.TB, rows ...storetest.Row) {
	t.Helper()
	for _, r := range rows {
		var pw, n any
		if r.Password != nil {
			pw = *r.Password
		}
		if r.NRN != nil {
			n = *r.NRN
		}
		if _, err := s.db.Exec(`INSERT INTO accounts VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, r.Username, pw, r.Salt, n, r.Name, r.Disabled, r.Federated); err != nil {
			t.Fatal(err)
		}
	}
}

func (s liteSeeder) Append(t testing.TB, id, suffix string) {
	if _, err := s.db.Exec(`UPDATE accounts SET pw = pw || ? WHERE id = ?`, suffix, id); err != nil {
		t.Error(err)
	}
}

func (s liteSeeder) Credential(t testing.TB, id string) (string, bool) {
	var v sql.NullString
	if err := s.db.QueryRow(`SELECT pw FROM accounts WHERE id = ?`, id).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v.String, !v.Valid
}

// backend returns an sqlstore over a fresh SQLite file and a seeder.
func backend(t testing.TB) (*sqlstore.Store, liteSeeder) {
	dsn := "file:" + filepath.Join(t.TempDir(), "vendor.db") + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE accounts (id TEXT PRIMARY KEY, username TEXT, pw TEXT, salt TEXT, nrn TEXT,
		full_name TEXT, disabled INTEGER, federated INTEGER)`); err != nil {
		t.Fatal(err)
	}
	s, err := sqlstore.Open(context.Background(), "vendor", sqlstore.Config{Driver: "sqlite", DSN: config.NewSecret([]byte(dsn)),
		Table: "accounts", Columns: sqlstore.Columns{ID: "id", Username: "username", Password: "pw", Salt: "salt", NRN: "nrn",
			Name: "full_name", Disabled: "disabled", Federated: "federated"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, liteSeeder{db}
}

// hook starts the reference server on loopback over real HTTP.
func hook(t testing.TB, b store.Store, wrap func(http.Handler) http.Handler) *httptest.Server {
	srv, err := NewServer(ServerConfig{Backend: b, Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = srv
	if wrap != nil {
		h = wrap(h)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts
}

func client(t testing.TB, url string, mod func(*Config)) *Client {
	cfg := Config{URL: url, Key: config.NewSecret(testKey), InsecureAllowHTTP: true}
	if mod != nil {
		mod(&cfg)
	}
	c, err := Open(context.Background(), "legacy", cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestContractHTTPHook(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (store.Store, storetest.Seeder) {
		b, seed := backend(t)
		// Mounted under a prefix, as behind a vendor's router: the
		// signature covers the path the client sent.
		ts := hook(t, b, func(h http.Handler) http.Handler { return http.StripPrefix("/hooks/overstap", h) })
		return client(t, ts.URL+"/hooks/overstap/", nil), seed
	})
}

// signedRequest builds a request as the client would, for tampering.
func signedRequest(t *testing.T, base, path string, body []byte, ts time.Time, nonce string, key []byte) *http.Request {
	req, err := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	tss := strconv.FormatInt(ts.Unix(), 10)
	req.Header.Set(HeaderTimestamp, tss)
	req.Header.Set(HeaderNonce, nonce)
	req.Header.Set(HeaderSignature, sign(key, http.MethodPost, path, tss, nonce, body))
	return req
}

func TestServerRejects(t *testing.T) {
	b, seed := backend(t)
	seed.Seed(t, storetest.Row{ID: "1", Username: "jan", Password: storetest.P("h"), Name: "Jan"})
	ts := hook(t, b, nil)
	body := []byte(`{"id":"1"}`)
	now := time.Now()
	n := 0
	nonce := func() string { n++; return fmt.Sprintf("nonce-%016d", n) }
	cases := []struct {
		name   string
		req    func() *http.Request
		status int
	}{
		{"valid", func() *http.Request { return signedRequest(t, ts.URL, PathGet, body, now, nonce(), testKey) }, 200},
		{"wrong key", func() *http.Request {
			return signedRequest(t, ts.URL, PathGet, body, now, nonce(), []byte("another-key-another-key-another-key"))
		}, 401},
		{"tampered body", func() *http.Request {
			r := signedRequest(t, ts.URL, PathGet, body, now, nonce(), testKey)
			r.Body = http.NoBody
			r.ContentLength = 0
			return r
		}, 401},
		{"other path", func() *http.Request {
			r := signedRequest(t, ts.URL, PathGet, body, now, nonce(), testKey)
			r2, _ := http.NewRequest(http.MethodPost, ts.URL+PathIterate, bytes.NewReader(body))
			r2.Header = r.Header
			return r2
		}, 401},
		{"too old", func() *http.Request {
			return signedRequest(t, ts.URL, PathGet, body, now.Add(-6*time.Minute), nonce(), testKey)
		}, 401},
		{"future", func() *http.Request {
			return signedRequest(t, ts.URL, PathGet, body, now.Add(6*time.Minute), nonce(), testKey)
		}, 401},
		{"short nonce", func() *http.Request { return signedRequest(t, ts.URL, PathGet, body, now, "x", testKey) }, 401},
		{"no headers", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, ts.URL+PathGet, bytes.NewReader(body))
			return r
		}, 401},
		{"unknown field", func() *http.Request {
			return signedRequest(t, ts.URL, PathGet, []byte(`{"id":"1","x":1}`), now, nonce(), testKey)
		}, 400},
		{"bad nrn", func() *http.Request {
			return signedRequest(t, ts.URL, PathLookupNRN, []byte(`{"nrn":"12345678901"}`), now, nonce(), testKey)
		}, 400},
		{"iterate limit", func() *http.Request {
			return signedRequest(t, ts.URL, PathIterate, []byte(`{"limit":100000}`), now, nonce(), testKey)
		}, 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, err := http.DefaultClient.Do(c.req())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, c.status)
			}
		})
	}
	t.Run("replay", func(t *testing.T) {
		fixed := nonce()
		for i, want := range []int{200, 401} {
			resp, err := http.DefaultClient.Do(signedRequest(t, ts.URL, PathGet, body, now, fixed, testKey))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Fatalf("attempt %d: status %d, want %d", i, resp.StatusCode, want)
			}
		}
	})
}

// TestClientRefusesUnsignedResponse: a response without the hook's
// signature (a proxy, an impostor) is not believed.
func TestClientRefusesUnsignedResponse(t *testing.T) {
	b, _ := backend(t)
	ts := hook(t, b, nil)
	c := client(t, ts.URL, nil)
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{}`)) // "ok" to everything, unsigned
	}))
	defer fake.Close()
	c.base.Host = strings.TrimPrefix(fake.URL, "http://")
	err := c.CompareAndSwap(context.Background(), store.Swap{ID: "1", Old: "a", New: "b"})
	if err == nil || !strings.Contains(err.Error(), "signature") {
		t.Fatalf("unsigned ok accepted: %v", err)
	}
}

// TestRetriesOnlyIdempotent: reads are retried through 503s; a
// compare-and-swap is sent exactly once.
func TestRetriesOnlyIdempotent(t *testing.T) {
	b, seed := backend(t)
	seed.Seed(t, storetest.Row{ID: "1", Username: "jan", Password: storetest.P("h"), Name: "Jan"})
	var fail, calls atomic.Int32
	ts := hook(t, b, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			if fail.Load() > 0 {
				fail.Add(-1)
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	c := client(t, ts.URL, func(c *Config) { c.Retries = 3 })
	ctx := context.Background()
	fail.Store(2)
	calls.Store(0)
	if a, err := c.Get(ctx, "1"); err != nil || a.Username != "jan" {
		t.Fatalf("get through 503s: %v", err)
	}
	if calls.Load() != 3 {
		t.Fatalf("%d calls, want 3", calls.Load())
	}
	fail.Store(5)
	calls.Store(0)
	err := c.CompareAndSwap(ctx, store.Swap{ID: "1", Old: "h", New: "x"})
	if err == nil || errors.Is(err, store.ErrConflict) {
		t.Fatalf("CAS on 503: %v", err)
	}
	if calls.Load() != 1 {
		t.Fatalf("CAS sent %d times", calls.Load())
	}
	if _, err := c.SwapBatch(ctx, []store.Swap{{ID: "1", Old: "h", New: "x"}}); err == nil || calls.Load() != 2 {
		t.Fatalf("batch retried or succeeded: %v, %d calls", err, calls.Load())
	}
	if v, _ := seed.Credential(t, "1"); v != "h" {
		t.Fatal("written despite failure")
	}
}

func TestClientTimeout(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	}))
	defer slow.Close()
	start := time.Now()
	_, err := Open(context.Background(), "legacy", Config{URL: slow.URL, Key: config.NewSecret(testKey),
		InsecureAllowHTTP: true, Timeout: 100 * time.Millisecond, Retries: -1}, nil)
	if err == nil || time.Since(start) > 1500*time.Millisecond {
		t.Fatalf("no timeout: %v", err)
	}
}

// TestNonUTF8OverTheWire: bytes that are not UTF-8 survive JSON.
func TestNonUTF8OverTheWire(t *testing.T) {
	b, seed := backend(t)
	pw := "md5\xff\xfe"
	seed.Seed(t, storetest.Row{ID: "1", Username: "jos\xe9", Password: &pw, Name: "Jos"})
	c := client(t, hook(t, b, nil).URL, nil)
	ctx := context.Background()
	a, err := c.LookupByUsername(ctx, "jos\xe9")
	if err != nil || a.Credential != pw || a.Username != "jos\xe9" {
		t.Fatalf("%q %q %v", a.Credential, a.Username, err)
	}
	if err := c.CompareAndSwap(ctx, store.Swap{ID: "1", Old: pw, New: "new\xff"}); err != nil {
		t.Fatal(err)
	}
	if v, _ := seed.Credential(t, "1"); v != "new\xff" {
		t.Fatalf("stored %q", v)
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		keys []string
	}{
		{"empty", Config{}, []string{"url:", "key:"}},
		{"http", Config{URL: "http://vendor.example/hook", Key: config.NewSecret(testKey)}, []string{"url: must be https"}},
		{"userinfo", Config{URL: "https://u:p@vendor.example/", Key: config.NewSecret(testKey)}, []string{"url:"}},
		{"short key", Config{URL: "https://vendor.example/", Key: config.NewSecret([]byte("short"))}, []string{"key:"}},
		{"ranges", Config{URL: "https://vendor.example/", Key: config.NewSecret(testKey), Timeout: time.Hour, Retries: 50}, []string{"timeout:", "retries:"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { storetest.WantKeys(t, c.cfg.Validate(), c.keys...) })
	}
}

func BenchmarkIterateHTTPHook(b *testing.B) {
	be, seed := backend(b)
	for i := range 5000 {
		seed.Seed(b, storetest.Row{ID: fmt.Sprintf("%06d", i), Username: fmt.Sprint("u", i), Password: storetest.P("{SSHA}abcdefabcdef"), Name: "N"})
	}
	c := client(b, hook(b, be, nil).URL, nil)
	b.Run("direct-sqlstore", func(b *testing.B) { storetest.BenchIterate(b, be) })
	b.Run("hook", func(b *testing.B) { storetest.BenchIterate(b, c) })
}
