package oidc

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/overstap/overstap/internal/testsvc"
)

// validFlow returns a provider and fake OP producing valid acmidm tokens.
func validFlow(t *testing.T, flows FlowStore) (*Provider, *fakeOP) {
	op := newFakeOP(t)
	claims := profileSetup(t, op, "acmidm")
	op.idToken = func(g *codeGrant) string { return defaultToken(t, "acmidm")(t, claims(g)) }
	return newTestProvider(t, testConfig(t, op, "acmidm"), flows), op
}

func TestFlowRejections(t *testing.T) {
	testKeys(t)
	t.Run("state reused", func(t *testing.T) {
		p, op := validFlow(t, nil)
		var b browser
		state, code := op.authorize(t, b.start(t, p, LoginOptions{}))
		if _, err := b.callback(p, callbackQuery(state, code)); err != nil {
			t.Fatalf("first callback: %v", err)
		}
		_, err := b.callback(p, callbackQuery(state, code))
		if KindOf(err) != KindStateInvalid {
			t.Fatalf("replayed callback: kind %q (%v), want state_invalid", KindOf(err), err)
		}
	})
	t.Run("state from another browser", func(t *testing.T) {
		p, op := validFlow(t, nil)
		var victim, attacker browser
		state, code := op.authorize(t, victim.start(t, p, LoginOptions{}))
		attacker.start(t, p, LoginOptions{}) // attacker has a pre-auth cookie of their own
		_, err := attacker.callback(p, callbackQuery(state, code))
		if KindOf(err) != KindStateInvalid {
			t.Fatalf("kind %q (%v), want state_invalid", KindOf(err), err)
		}
		// The state was consumed: the victim must start again (fail closed).
		if _, err := victim.callback(p, callbackQuery(state, code)); KindOf(err) != KindStateInvalid {
			t.Fatalf("victim after attack: %v", err)
		}
	})
	t.Run("no pre-auth cookie", func(t *testing.T) {
		p, op := validFlow(t, nil)
		var b browser
		state, code := op.authorize(t, b.start(t, p, LoginOptions{}))
		b.cookies = nil
		if _, err := b.callback(p, callbackQuery(state, code)); KindOf(err) != KindStateInvalid {
			t.Fatalf("kind %q (%v), want state_invalid", KindOf(err), err)
		}
	})
	t.Run("code replayed with a fresh state", func(t *testing.T) {
		p, op := validFlow(t, nil)
		var b browser
		state, code := op.authorize(t, b.start(t, p, LoginOptions{}))
		if _, err := b.callback(p, callbackQuery(state, code)); err != nil {
			t.Fatalf("first callback: %v", err)
		}
		state2, _ := op.authorize(t, b.start(t, p, LoginOptions{}))
		if _, err := b.callback(p, callbackQuery(state2, code)); KindOf(err) != KindCodeInvalid {
			t.Fatalf("kind %q (%v), want code_invalid", KindOf(err), err)
		}
	})
	t.Run("state of another provider", func(t *testing.T) {
		flows := NewMemoryStore(nil, 0)
		p, op := validFlow(t, flows)
		cfg2 := testConfig(t, op, "acmidm")
		cfg2.Name = "acm2"
		p2 := newTestProvider(t, cfg2, flows)
		var b browser
		state, code := op.authorize(t, b.start(t, p, LoginOptions{}))
		if _, err := b.callback(p2, callbackQuery(state, code)); KindOf(err) != KindStateInvalid {
			t.Fatalf("kind %q (%v), want state_invalid", KindOf(err), err)
		}
	})
	t.Run("PKCE verifier of another flow", func(t *testing.T) {
		p, op := validFlow(t, nil)
		var b browser
		_, code := op.authorize(t, b.start(t, p, LoginOptions{}))
		state2 := mustState(t, b.start(t, p, LoginOptions{}))
		if _, err := b.callback(p, callbackQuery(state2, code)); KindOf(err) != KindCodeInvalid {
			t.Fatalf("kind %q (%v), want code_invalid", KindOf(err), err)
		}
	})
	t.Run("POST callback", func(t *testing.T) {
		p, _ := validFlow(t, nil)
		req := httptest.NewRequest(http.MethodPost, "https://rp.test/auth/callback", nil)
		if _, err := p.Callback(httptest.NewRecorder(), req); KindOf(err) != KindBadRequest {
			t.Fatalf("kind %q", KindOf(err))
		}
	})
}

func mustState(t *testing.T, authURL string) string {
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("state")
}

func TestAuthRequest(t *testing.T) {
	p, _ := validFlow(t, nil)
	rec := httptest.NewRecorder()
	u, err := p.AuthRequest(rec, httptest.NewRequest(http.MethodGet, "/", nil), LoginOptions{
		ReturnTo: "/aanvraag?x=1", MinLevel: "substantial", MaxAge: 90 * time.Second, Prompt: "login", UILocales: []string{"nl", "fr"},
	})
	if err != nil {
		t.Fatal(err)
	}
	pu, _ := url.Parse(u)
	q := pu.Query()
	want := map[string]string{
		"response_type": "code", "client_id": testClientID, "code_challenge_method": "S256",
		"acr_values": "urn:be:vlaanderen:authmech:eidassubstantial", "max_age": "90", "prompt": "login",
		"ui_locales": "nl fr", "redirect_uri": "https://rp.test/auth/callback/acmidm", "scope": "openid profile rrn",
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	if len(q.Get("state")) < tokenLen || len(q.Get("nonce")) < tokenLen || len(q.Get("code_challenge")) != 43 {
		t.Errorf("weak state/nonce/challenge: %v", q)
	}
	cs := rec.Result().Cookies()
	if len(cs) != 1 {
		t.Fatalf("cookies = %v", cs)
	}
	c := cs[0]
	if c.Name != "__Host-overstap-login" || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" || c.MaxAge != 600 {
		t.Errorf("pre-auth cookie = %+v", c)
	}
	for _, bad := range []LoginOptions{
		{ReturnTo: "https://evil.test/"}, {ReturnTo: "//evil.test"}, {ReturnTo: "/\\evil.test"}, {ReturnTo: "/a\r\nb"},
		{MinLevel: "urn:unknown"}, {Prompt: "evil"}, {UILocales: []string{"nl\"x"}}, {MaxAge: -time.Second},
	} {
		if _, err := p.AuthRequest(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil), bad); err == nil {
			t.Errorf("AuthRequest(%+v) accepted", bad)
		}
	}
}

// TestFlowStores runs the same contract against memory and real Redis.
func TestFlowStores(t *testing.T) {
	ctx := context.Background()
	stores := map[string]func(t *testing.T) interface {
		FlowStore
		ReplayCache
	}{
		"memory": func(t *testing.T) interface {
			FlowStore
			ReplayCache
		} {
			return NewMemoryStore(nil, 0)
		},
		"redis": func(t *testing.T) interface {
			FlowStore
			ReplayCache
		} {
			r := testsvc.Redis(t)
			return NewRedisStore(r.Client, r.Prefix+"oidc:")
		},
	}
	for name, mk := range stores {
		t.Run(name, func(t *testing.T) {
			s := mk(t)
			if err := s.Put(ctx, "k1", []byte("v1"), time.Minute); err != nil {
				t.Fatal(err)
			}
			if err := s.Put(ctx, "k1", []byte("v2"), time.Minute); !errors.Is(err, ErrFlowExists) {
				t.Fatalf("second Put: %v", err)
			}
			v, err := s.Take(ctx, "k1")
			if err != nil || string(v) != "v1" {
				t.Fatalf("Take = %q, %v", v, err)
			}
			if _, err := s.Take(ctx, "k1"); !errors.Is(err, ErrFlowNotFound) {
				t.Fatalf("second Take: %v", err)
			}
			if err := s.Put(ctx, "short", []byte("v"), 50*time.Millisecond); err != nil {
				t.Fatal(err)
			}
			time.Sleep(120 * time.Millisecond)
			if _, err := s.Take(ctx, "short"); !errors.Is(err, ErrFlowNotFound) {
				t.Fatalf("expired Take: %v", err)
			}
			fresh, err := s.Add(ctx, "jti", time.Minute)
			if err != nil || !fresh {
				t.Fatalf("Add = %v, %v", fresh, err)
			}
			fresh, err = s.Add(ctx, "jti", time.Minute)
			if err != nil || fresh {
				t.Fatalf("second Add = %v, %v", fresh, err)
			}
		})
	}
	t.Run("memory bound", func(t *testing.T) {
		s := NewMemoryStore(nil, 2)
		_ = s.Put(ctx, "a", nil, time.Minute)
		_ = s.Put(ctx, "b", nil, time.Minute)
		if err := s.Put(ctx, "c", nil, time.Minute); !errors.Is(err, ErrStoreFull) {
			t.Fatalf("third Put: %v", err)
		}
	})
}

// TestRedisFlowHoldsNothingUsable logs in through a Redis flow store and
// checks the stored value reveals neither nonce, verifier nor return path.
func TestRedisFlowHoldsNothingUsable(t *testing.T) {
	r := testsvc.Redis(t)
	store := NewRedisStore(r.Client, r.Prefix+"oidc:")
	p, op := validFlow(t, store)
	var b browser
	authURL := b.start(t, p, LoginOptions{ReturnTo: "/geheim-pad"})
	state, code := op.authorize(t, authURL)
	keys, err := r.Client.Keys(context.Background(), r.Prefix+"*").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys = %v, %v", keys, err)
	}
	if strings.Contains(keys[0], state) {
		t.Error("the Redis key contains the state")
	}
	val, _ := r.Client.Get(context.Background(), keys[0]).Result()
	nonce := mustQuery(t, authURL, "nonce")
	for _, secret := range []string{nonce, "/geheim-pad", state} {
		if strings.Contains(val, secret) {
			t.Errorf("stored flow contains %q in clear", secret)
		}
	}
	id, err := b.callback(p, callbackQuery(state, code))
	if err != nil || id.ReturnTo != "/geheim-pad" {
		t.Fatalf("callback: %v %v", id, err)
	}
	if n, _ := r.Client.Exists(context.Background(), keys[0]).Result(); n != 0 {
		t.Error("flow not deleted after use")
	}
}

func mustQuery(t *testing.T, u, k string) string {
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return pu.Query().Get(k)
}

// TestDiscoveryRetry: the IdP is down at start; New still succeeds, Ready
// says why, and the provider becomes ready once the IdP answers.
func TestDiscoveryRetry(t *testing.T) {
	testKeys(t)
	var up atomic.Bool
	op := newFakeOP(t)
	inner := op.srv.Config.Handler
	op.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		inner.ServeHTTP(w, r)
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := newRetryingProvider(t, ctx, op, "502")
	if !errors.Is(p.Ready(), ErrNotReady) {
		t.Fatal("Ready error does not wrap ErrNotReady")
	}
	if _, err := p.AuthRequest(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil), LoginOptions{}); !errors.Is(err, ErrNotReady) {
		t.Fatalf("AuthRequest before ready: %v", err)
	}
	up.Store(true)
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	defer wcancel()
	if err := p.WaitReady(wctx); err != nil {
		t.Fatal(err)
	}
	if p.Ready() != nil {
		t.Fatal("not ready after discovery")
	}
}

// TestJWKSUnavailableAtStart: discovery works but the key set does not;
// the provider stays not ready with the reason, then recovers.
func TestJWKSUnavailableAtStart(t *testing.T) {
	testKeys(t)
	op := newFakeOP(t)
	inner := op.srv.Config.Handler
	var down atomic.Bool
	down.Store(true)
	op.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/jwks" && down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		inner.ServeHTTP(w, r)
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := newRetryingProvider(t, ctx, op, "jwks: HTTP 503")
	down.Store(false)
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	defer wcancel()
	if err := p.WaitReady(wctx); err != nil {
		t.Fatal(err)
	}
}

// newRetryingProvider starts a provider for op whose discovery retries
// fast, and waits until its readiness error mentions cause.
func newRetryingProvider(t *testing.T, ctx context.Context, op *fakeOP, cause string) *Provider {
	t.Helper()
	p, err := New(ctx, testConfig(t, op, "acmidm"), Deps{Flows: NewMemoryStore(nil, 0), RetryMin: 10 * time.Millisecond, RetryMax: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(errString(p.Ready()), cause) {
		if time.Now().After(deadline) {
			t.Fatalf("Ready() = %v, want %q in it", p.Ready(), cause)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return p
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
