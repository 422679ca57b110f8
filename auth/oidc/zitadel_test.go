package oidc

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/overstap/overstap/internal/config"
	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
)

// rpServer is the relying party under test over real HTTPS on loopback: it
// serves /login (AuthRequest) and /auth/callback (Callback) and records
// the outcome of the last callback.
type rpServer struct {
	srv *httptest.Server
	p   *Provider

	mu        sync.Mutex
	lastQuery url.Values
	lastID    *Login
	lastErr   error
	opts      LoginOptions
	logouts   []*LogoutClaims
}

func newRPServer(t *testing.T) *rpServer {
	rp := &rpServer{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		rp.mu.Lock()
		opts := rp.opts
		rp.mu.Unlock()
		u, err := rp.p.AuthRequest(w, r, opts)
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		http.Redirect(w, r, u, http.StatusFound)
	})
	mux.HandleFunc("GET /auth/callback", func(w http.ResponseWriter, r *http.Request) {
		id, err := rp.p.Callback(w, r)
		rp.mu.Lock()
		rp.lastQuery, rp.lastID, rp.lastErr = r.URL.Query(), id, err
		rp.mu.Unlock()
		if err != nil {
			http.Error(w, string(KindOf(err)), http.StatusForbidden)
			return
		}
		_, _ = io.WriteString(w, "welcome")
	})
	// Back-channel logout (OIDC Back-Channel Logout 1.0 §2.8: 200 or 400).
	mux.HandleFunc("POST /backchannel", func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		lc, err := rp.p.ValidateLogoutToken(r.Context(), r.PostFormValue("logout_token"))
		if err != nil {
			w.Header().Set("Cache-Control", "no-store")
			http.Error(w, "invalid logout token", http.StatusBadRequest)
			return
		}
		rp.mu.Lock()
		rp.logouts = append(rp.logouts, lc)
		rp.mu.Unlock()
		w.Header().Set("Cache-Control", "no-store")
	})
	mux.HandleFunc("GET /logged-out", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "logged out")
	})
	rp.srv = httptest.NewTLSServer(mux)
	t.Cleanup(rp.srv.Close)
	return rp
}

// browserClient is a cookie-jar client trusting the RP's test certificate.
func (rp *rpServer) browserClient(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := rp.srv.Client()
	c.Jar = jar
	c.Timeout = 10 * time.Second
	return c
}

func (rp *rpServer) result() (url.Values, *Login, error) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return rp.lastQuery, rp.lastID, rp.lastErr
}

// startZitadelOP runs zitadel's example OpenID provider on a loopback port.
func startZitadelOP(t *testing.T, redirectURI string) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	issuer := "http://" + l.Addr().String()
	st := storage.NewStorageWithClients(storage.NewUserStore(issuer), map[string]*storage.Client{
		"web": storage.WebClient("web", "secret", redirectURI),
	})
	router := exampleop.SetupServer(issuer, st, nil, false)
	srv := &http.Server{Handler: router, ReadHeaderTimeout: 5 * time.Second, ErrorLog: nil}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return issuer
}

// TestIntegrationZitadelExampleOP is the whole login against an
// independent provider (zitadel's example OP, an OpenID-certified library)
// over real HTTP on loopback, with PKCE: cookie-jar browser → RP /login →
// OP /auth → OP login form → OP callback → RP /auth/callback.
func TestIntegrationZitadelExampleOP(t *testing.T) {
	// The example OP logs every request through slog's default logger.
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.DiscardHandler))

	rp := newRPServer(t)
	issuer := startZitadelOP(t, rp.srv.URL+"/auth/callback")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, err := New(ctx, ProviderConfig{
		Name: "zitadel", Profile: "generic", Issuer: issuer, ClientID: "web",
		ClientSecret: config.NewSecret([]byte("secret")), RedirectURL: rp.srv.URL + "/auth/callback",
		FetchUserinfo: true, RequireNRN: new(false),
	}, Deps{Flows: NewMemoryStore(nil, 0), RetryMin: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rp.p = p
	rp.opts = LoginOptions{ReturnTo: "/home", AllowNoNRN: true}
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := p.WaitReady(wctx); err != nil {
		t.Fatal(err)
	}
	c := rp.browserClient(t)
	user := "test-user@127.0.0.1"

	login := func(t *testing.T) *http.Response {
		// 1. RP /login → OP /auth → OP login page.
		resp, err := c.Get(rp.srv.URL + "/login")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		reqID := resp.Request.URL.Query().Get("authRequestID")
		if resp.StatusCode != http.StatusOK || reqID == "" {
			t.Fatalf("login page: %d at %s", resp.StatusCode, resp.Request.URL)
		}
		// 2. Submit the OP's login form → OP callback → RP callback.
		resp, err = c.PostForm(issuer+"/login/username", url.Values{"id": {reqID}, "username": {user}, "password": {"verysecure"}})
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}

	t.Run("login", func(t *testing.T) {
		resp := login(t)
		_, id, err := rp.result()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("callback: %d %v", resp.StatusCode, err)
		}
		if id.Subject != "id1" || id.Issuer != issuer || id.ReturnTo != "/home" || id.GivenName != "Test" || id.FamilyName != "User" {
			t.Errorf("identity = %+v", id)
		}
		if !id.NRN.IsZero() {
			t.Error("NRN from a provider that has none")
		}
	})
	t.Run("code replayed", func(t *testing.T) {
		login(t)
		q, _, err := rp.result()
		if err != nil {
			t.Fatal(err)
		}
		// A fresh login in the same browser, answered with the used code.
		resp, err := noRedirect(c).Get(rp.srv.URL + "/login")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		state := loc.Query().Get("state")
		resp, err = c.Get(rp.srv.URL + "/auth/callback?" + url.Values{"state": {state}, "code": {q.Get("code")}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if _, _, err := rp.result(); KindOf(err) != KindCodeInvalid {
			t.Fatalf("kind %q (%v), want code_invalid", KindOf(err), err)
		}
	})
	t.Run("state reused", func(t *testing.T) {
		login(t)
		q, _, err := rp.result()
		if err != nil {
			t.Fatal(err)
		}
		resp, err := c.Get(rp.srv.URL + "/auth/callback?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if _, _, err := rp.result(); KindOf(err) != KindStateInvalid {
			t.Fatalf("kind %q (%v), want state_invalid", KindOf(err), err)
		}
	})
	t.Run("state from another browser", func(t *testing.T) {
		// The victim's browser stops before the RP callback; the attacker's
		// browser (own cookie jar) replays the callback URL.
		victim := noRedirectAt(rp.browserClient(t), rp.srv.URL+"/auth/callback")
		resp, err := victim.Get(rp.srv.URL + "/login")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		reqID := resp.Request.URL.Query().Get("authRequestID")
		resp, err = victim.PostForm(issuer+"/login/username", url.Values{"id": {reqID}, "username": {user}, "password": {"verysecure"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		cb := resp.Header.Get("Location")
		if !strings.HasPrefix(cb, rp.srv.URL+"/auth/callback?") {
			t.Fatalf("victim stopped at %d %q", resp.StatusCode, cb)
		}
		attacker := rp.browserClient(t)
		resp, err = attacker.Get(cb)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if _, _, err := rp.result(); KindOf(err) != KindStateInvalid {
			t.Fatalf("kind %q (%v), want state_invalid", KindOf(err), err)
		}
	})
}

// noRedirect returns a copy of c that does not follow redirects.
func noRedirect(c *http.Client) *http.Client {
	cc := *c
	cc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cc
}

// noRedirectAt follows redirects except to URLs starting with prefix.
func noRedirectAt(c *http.Client, prefix string) *http.Client {
	cc := *c
	cc.CheckRedirect = func(r *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(r.URL.String(), prefix) {
			return http.ErrUseLastResponse
		}
		return nil
	}
	return &cc
}
