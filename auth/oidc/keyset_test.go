package oidc

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/overstap/overstap/internal/testsvc"
)

// newClockedProvider is newTestProvider with the given clock.
func newClockedProvider(t *testing.T, cfg ProviderConfig, now func() time.Time) *Provider {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	p, err := New(ctx, cfg, Deps{Flows: NewMemoryStore(now, 0), Now: now, RetryMin: 20 * time.Millisecond, RetryMax: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	defer wcancel()
	if err := p.WaitReady(wctx); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestUnknownKidRefetchIsRateLimited floods the provider with logout tokens
// naming random kids and counts the requests reaching the IdP's JWKS
// endpoint (a real HTTP server on 127.0.0.1): concurrent callers share one
// fetch, later ones within jwksMinRefresh cause none, and after the interval
// a rotated key is picked up again.
func TestUnknownKidRefetchIsRateLimited(t *testing.T) {
	testKeys(t)
	op := newFakeOP(t)
	clk := testsvc.NewClock(time.Now())
	p := newClockedProvider(t, testConfig(t, op, "acmidm"), clk.Now)
	ctx := context.Background()
	if n := op.jwksHits.Load(); n != 1 {
		t.Fatalf("JWKS fetched %d times at discovery, want 1", n)
	}
	token := func(key any, kid string) string {
		c := logoutClaims(op)
		c["iat"] = clk.Now().Unix()
		c["exp"] = clk.Now().Add(2 * time.Minute).Unix()
		return sign(t, key, jose.RS256, kid, "logout+jwt", c)
	}
	reject := func(raw string) error {
		_, err := p.ValidateLogoutToken(ctx, raw)
		if err == nil {
			t.Fatal("token with an unknown kid accepted")
		}
		if !errors.Is(err, ErrLogoutTokenInvalid) {
			t.Fatalf("err = %v, want ErrLogoutTokenInvalid", err)
		}
		return err
	}

	// Within the interval after discovery: no fetch at all.
	for i := range 20 {
		reject(token(otherKey, "random-"+rand.Text()+string(rune('a'+i))))
	}
	if n := op.jwksHits.Load(); n != 1 {
		t.Fatalf("JWKS fetched %d times for 20 unknown kids within %s of discovery, want 1", n, jwksMinRefresh)
	}

	// After the interval: a concurrent flood shares one fetch. The JWKS
	// answer is held until every caller has been let go, so they all
	// arrive while the fetch runs or right after it.
	clk.Advance(jwksMinRefresh + time.Second)
	gate := make(chan struct{})
	op.mu.Lock()
	op.jwksGate = gate
	op.mu.Unlock()
	const flood = 64
	toks := make([]string, flood)
	for i := range toks {
		toks[i] = token(otherKey, "flood-"+rand.Text())
	}
	var wg sync.WaitGroup
	for i := range flood {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reject(toks[i])
		}()
	}
	close(gate)
	wg.Wait()
	if n := op.jwksHits.Load(); n != 2 {
		t.Fatalf("JWKS fetched %d times after a flood of %d unknown kids, want 2 (discovery + one shared refetch)", n, flood)
	}
	m, _ := p.metadata()
	if got := m.keys.fetchCount(); got != 1 {
		t.Fatalf("refetches started = %d, want 1", got)
	}
	err := reject(token(otherKey, "after-flood"))
	if !strings.Contains(err.Error(), "not refetched") {
		t.Errorf("rejection does not say why no refetch happened: %v", err)
	}
	if n := op.jwksHits.Load(); n != 2 {
		t.Fatalf("JWKS fetched %d times, want still 2", n)
	}

	// Key rotation still works once the interval has passed.
	op.mu.Lock()
	op.jwksExtra = []jose.JSONWebKey{{Key: &otherKey.PublicKey, KeyID: "k2", Algorithm: "RS256", Use: "sig"}}
	op.mu.Unlock()
	clk.Advance(jwksMinRefresh + time.Second)
	if _, err := p.ValidateLogoutToken(ctx, token(otherKey, "k2")); err != nil {
		t.Fatalf("token signed with the rotated key k2: %v", err)
	}
	if n := op.jwksHits.Load(); n != 3 {
		t.Fatalf("JWKS fetched %d times, want 3 after the rotation", n)
	}
	// The old key keeps working from the cache, without a fetch.
	if _, err := p.ValidateLogoutToken(ctx, token(opKey, "k1")); err != nil {
		t.Fatalf("token signed with k1: %v", err)
	}
	if n := op.jwksHits.Load(); n != 3 {
		t.Fatalf("JWKS fetched %d times for a cached kid, want 3", n)
	}
}

// TestKeySetFetchBounds checks the JWKS reader: encryption keys and private
// parts are not kept, an oversized or empty set is refused.
func TestKeySetFetchBounds(t *testing.T) {
	testKeys(t)
	op := newFakeOP(t)
	op.jwksExtra = []jose.JSONWebKey{
		{Key: &rpEncKey.PublicKey, KeyID: "enc", Algorithm: "RSA-OAEP-256", Use: "enc"},
		{Key: otherKey, KeyID: "priv", Algorithm: "RS256", Use: "sig"},
		{Key: []byte("0123456789abcdef0123456789abcdef"), KeyID: "hmac", Algorithm: "HS256"},
	}
	keys, err := fetchJWKS(context.Background(), op.srv.Client(), op.srv.URL+"/jwks")
	if err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range keys {
		kids = append(kids, k.KeyID)
		if !k.IsPublic() {
			t.Errorf("key %q kept private material", k.KeyID)
		}
	}
	if strings.Join(kids, ",") != "k1,priv" {
		t.Errorf("kept keys %v, want k1,priv", kids)
	}
	big := strings.Repeat(" ", maxJWKS+1)
	for name, body := range map[string]string{"oversized": `{"keys":[]}` + big, "empty": `{"keys":[]}`, "not JSON": "<html>"} {
		t.Run(name, func(t *testing.T) {
			srv := newBodyServer(t, body)
			if _, err := fetchJWKS(context.Background(), srv.Client(), srv.URL); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func newBodyServer(t *testing.T, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestIdPRedirectPolicy: requests to the IdP follow redirects only to https
// (or loopback http from a loopback http endpoint in development), never
// from a remote IdP to plain http or to loopback.
func TestIdPRedirectPolicy(t *testing.T) {
	req := func(u string) *http.Request {
		r, err := http.NewRequest(http.MethodGet, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, tc := range []struct {
		from, to string
		ok       bool
	}{
		{"https://idp.example/jwks", "https://cdn.idp.example/jwks", true},
		{"http://127.0.0.1:8080/jwks", "http://127.0.0.1:8080/keys", true},
		{"http://127.0.0.1:8080/jwks", "https://idp.example/jwks", true},
		{"https://idp.example/jwks", "http://idp.example/jwks", false},
		{"https://idp.example/jwks", "http://127.0.0.1:6379/", false},
		{"https://idp.example/jwks", "https://127.0.0.1/admin", false},
		{"https://idp.example/jwks", "https://localhost/admin", false},
		{"http://127.0.0.1:8080/jwks", "http://10.0.0.1/jwks", false},
		{"https://idp.example/jwks", "https://user:pw@idp.example/jwks", false},
		{"https://idp.example/jwks", "ftp://idp.example/jwks", false},
	} {
		err := checkIdPRedirect(req(tc.to), []*http.Request{req(tc.from)})
		if (err == nil) != tc.ok {
			t.Errorf("%s -> %s: err = %v, want ok=%v", tc.from, tc.to, err, tc.ok)
		}
	}
	via := []*http.Request{req("https://a.example/1"), req("https://a.example/2"), req("https://a.example/3")}
	if err := checkIdPRedirect(req("https://a.example/4"), via); err == nil {
		t.Error("a fourth redirect was followed")
	}

	// Wired into the provider: a JWKS that redirects to plain http on a
	// non-loopback host keeps the provider not ready, with the reason,
	// and no connection is attempted.
	testKeys(t)
	op := newFakeOP(t)
	inner := op.srv.Config.Handler
	op.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/jwks" {
			http.Redirect(w, r, "http://203.0.113.7/jwks", http.StatusFound)
			return
		}
		inner.ServeHTTP(w, r)
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	newRetryingProvider(t, ctx, op, "refusing a redirect")
}
