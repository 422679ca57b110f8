package gateway_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/overstap/overstap/adapters/upstream"
	"github.com/overstap/overstap/auth/gateway"
	"github.com/overstap/overstap/auth/gateway/route"
	"github.com/overstap/overstap/auth/identity"
	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/auth/oidc"
	"github.com/overstap/overstap/auth/session"
	"github.com/overstap/overstap/internal/config"
)

// stubProvider is a test double of the gateway's own Authenticator
// interface (the real relying party is tested in auth/gateway/integration against
// the dev IdP).
type stubProvider struct{ ready error }

func (stubProvider) Name() string   { return "stub" }
func (s stubProvider) Ready() error { return s.ready }
func (stubProvider) AuthRequest(w http.ResponseWriter, r *http.Request, req oidc.LoginOptions) (string, error) {
	return "https://idp.example/auth?acr=" + req.MinLevel, nil
}
func (stubProvider) Callback(http.ResponseWriter, *http.Request) (*oidc.Login, error) {
	return nil, &oidc.CallbackError{Kind: oidc.KindAccessDenied, Err: errors.New("cancelled")}
}
func (stubProvider) LogoutURL(string, string, string) (string, error) {
	return "", oidc.ErrNoEndSession
}
func (stubProvider) ValidateLogoutToken(context.Context, string) (*oidc.LogoutClaims, error) {
	return nil, errors.New("invalid")
}

type fixture struct {
	g      *gateway.Gateway
	srv    *httptest.Server
	store  session.Store
	cookie string
	n      nrn.Number
	up     *httptest.Server
}

func newFixture(t *testing.T, upHandler http.Handler, mod func(*gateway.Config)) *fixture {
	t.Helper()
	return newFixtureDeps(t, upHandler, mod, nil)
}

func newFixtureDeps(t *testing.T, upHandler http.Handler, mod func(*gateway.Config), dmod func(*gateway.Deps)) *fixture {
	t.Helper()
	store, err := session.NewMemory(session.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if upHandler == nil {
		upHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "user=%s path=%s", r.Header.Get("X-Overstap-Account"), r.URL.EscapedPath())
		})
	}
	up := httptest.NewServer(upHandler)
	t.Cleanup(up.Close)
	cfg := gateway.Config{
		PublicURL: "http://gw.example", DevInsecureCookies: true, TrustedProxies: []string{"127.0.0.1"},
		NRNRefKey: nrn.MustRefKey([]byte(strings.Repeat("k", 32))), AdminToken: config.NewSecret([]byte(strings.Repeat("t", 32))),
		Apps: []gateway.AppConfig{{App: route.App{Name: "eloket", Rules: []route.Rule{
			{Path: "/static/**", Class: route.Public},
			{Path: "/admin/**", Class: route.Blocked},
			{Path: "/bank", Class: route.StepUp, MinLevel: "high", MaxAuthAge: time.Minute},
		}}, Upstream: up.URL}},
	}
	if mod != nil {
		mod(&cfg)
	}
	deps := gateway.Deps{Sessions: store, Providers: []gateway.Authenticator{stubProvider{}}}
	if dmod != nil {
		dmod(&deps)
	}
	g, err := gateway.New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	n, _ := nrn.Synthetic(time.Date(1980, 3, 4, 0, 0, 0, 0, time.UTC), false, 903)
	id, err := store.Create(context.Background(), &session.Session{NRNRef: n.Ref(nrn.MustRefKey([]byte(strings.Repeat("k", 32)))),
		AccountID: "acc-42", Identity: identity.Identity{NRN: n, Provider: "stub", Issuer: "https://idp.example", Subject: "s1",
			Name: "Jan Peeters", Level: identity.LevelSubstantial, AuthTime: time.Now()}})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{g: g, srv: srv, store: store, cookie: "overstap_session=" + id, n: n, up: up}
}

func (f *fixture) do(t *testing.T, method, path string, hdr map[string]string, body io.Reader) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, body)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func TestProxyBasics(t *testing.T) {
	f := newFixture(t, nil, nil)
	cases := []struct {
		name, method, path string
		hdr                map[string]string
		want               int
		body               string
	}{
		{"authenticated", "GET", "/a/b/c", map[string]string{"Cookie": f.cookie}, 200, "user=acc-42 path=/a/b/c"},
		{"ambiguous path refused by default", "GET", "/a/./b//c", map[string]string{"Cookie": f.cookie}, 400, ""},
		{"path parameter refused by default", "GET", "/a;jsessionid=1/b", map[string]string{"Cookie": f.cookie}, 400, ""},
		{"ambiguous own path refused", "GET", "/.overstap/./login", nil, 400, ""},
		{"identity survives a hostile Connection header", "GET", "/x", map[string]string{"Cookie": f.cookie,
			"Connection": "X-Overstap-Account, keep-alive", "X-Overstap-Account": "forged"}, 200, "user=acc-42 path=/x"},
		{"forged identity on public route", "GET", "/static/x", map[string]string{"X-Overstap-Account": "forged"}, 200, "user= path"},
		{"public", "GET", "/static/x.css", nil, 200, "user= path=/static/x.css"},
		{"browser no session", "GET", "/x", map[string]string{"Accept": "text/html"}, 302, ""},
		{"api no session", "GET", "/x", map[string]string{"Accept": "application/json"}, 401, `"login_required"`},
		{"xhr no session", "GET", "/x", map[string]string{"X-Requested-With": "XMLHttpRequest"}, 401, ""},
		{"malformed cookie", "GET", "/x", map[string]string{"Cookie": "overstap_session=%%%;;", "Accept": "text/html"}, 302, ""},
		{"huge cookie value", "GET", "/x", map[string]string{"Cookie": "overstap_session=" + strings.Repeat("a", 4000), "Accept": "text/html"}, 302, ""},
		{"blocked", "GET", "/admin/x", map[string]string{"Cookie": f.cookie, "Accept": "text/html"}, 403, "<h1>"},
		{"ambiguous", "GET", "/a%2fb", map[string]string{"Cookie": f.cookie}, 400, ""},
		{"step-up needed (substantial < high)", "GET", "/bank", map[string]string{"Cookie": f.cookie, "Accept": "text/html"}, 302, ""},
		{"step-up api", "GET", "/bank", map[string]string{"Cookie": f.cookie, "Accept": "application/json"}, 401, "insufficient_user_authentication"},
		{"unknown gateway endpoint", "GET", "/.overstap/nope", nil, 404, ""},
		{"login POST without csrf", "POST", "/.overstap/login", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 403, ""},
		{"stepup POST without csrf", "POST", "/.overstap/stepup", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 403, ""},
		{"logout POST without csrf", "POST", "/.overstap/logout", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 403, ""},
		// The forms' other methods get the gateway's 405 page, not the mux's text.
		{"login PUT", "PUT", "/.overstap/login", map[string]string{"Accept": "text/html"}, 405, `"error":"method"`},
		{"stepup DELETE", "DELETE", "/.overstap/stepup", nil, 405, `"error":"method"`},
		{"logout PATCH", "PATCH", "/.overstap/logout", nil, 405, `"error":"method"`},
		{"login HEAD", "HEAD", "/.overstap/login?provider=nope", nil, 400, ""},
		{"backchannel GET", "GET", "/.overstap/backchannel-logout", nil, 405, ""},
		{"backchannel invalid", "POST", "/.overstap/backchannel-logout", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 400, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body io.Reader
			if c.method == "POST" {
				body = strings.NewReader("logout_token=x&provider=stub")
			}
			resp, b := f.do(t, c.method, c.path, c.hdr, body)
			if resp.StatusCode != c.want || !strings.Contains(b, c.body) {
				t.Fatalf("%d %q", resp.StatusCode, b)
			}
		})
	}
}

// TestUpstreamDown: 502 page, nothing of the identity in it.
func TestUpstreamDown(t *testing.T) {
	f := newFixture(t, nil, nil)
	f.up.Close()
	resp, body := f.do(t, "GET", "/x", map[string]string{"Cookie": f.cookie, "Accept": "text/html"}, nil)
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "<h1>") {
		t.Fatalf("%d", resp.StatusCode)
	}
	if strings.Contains(body, "acc-42") || strings.Contains(body, f.n.Digits()) || resp.Header.Get("X-Overstap-Account") != "" {
		t.Fatal("identity leaked in the error")
	}
}

func TestBodyLimit(t *testing.T) {
	f := newFixture(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			w.WriteHeader(499)
		}
	}), func(c *gateway.Config) { c.Limits.MaxBodyBytes = 1000 })
	resp, _ := f.do(t, "POST", "/x", map[string]string{"Cookie": f.cookie}, strings.NewReader(strings.Repeat("a", 5000)))
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized body: %d", resp.StatusCode)
	}
	resp, _ = f.do(t, "POST", "/x", map[string]string{"Cookie": f.cookie}, strings.NewReader(strings.Repeat("a", 500)))
	if resp.StatusCode != 200 {
		t.Fatalf("small body: %d", resp.StatusCode)
	}
}

// TestWebSocketPassThrough: an Upgrade request reaches the app with the
// identity, and the hijacked connection carries bytes both ways.
func TestWebSocketPassThrough(t *testing.T) {
	f := newFixture(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "websocket" || r.Header.Get("X-Overstap-Account") != "acc-42" {
			http.Error(w, "no upgrade", 400)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		brw.Flush()
		line, _ := brw.ReadString('\n')
		brw.WriteString("echo:" + line)
		brw.Flush()
	}), nil)
	conn, err := net.Dial("tcp", strings.TrimPrefix(f.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "GET /ws HTTP/1.1\r\nHost: x\r\nCookie: %s\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nX-Overstap-Account: forged\r\n\r\n", f.cookie)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("%v %v", err, resp)
	}
	fmt.Fprintf(conn, "hello\n")
	line, err := br.ReadString('\n')
	if err != nil || line != "echo:hello\n" {
		t.Fatalf("%q %v", line, err)
	}
}

func TestForwardAuthModes(t *testing.T) {
	f := newFixture(t, nil, func(c *gateway.Config) {
		c.Apps[0].Identity = upstream.Config{Headers: upstream.HeaderNames{Account: "X-Legacy-User"}}
	})
	traefik := func(method, uri string, extra map[string]string) map[string]string {
		h := map[string]string{"X-Forwarded-Method": method, "X-Forwarded-Uri": uri, "X-Forwarded-Host": "eloket.example"}
		for k, v := range extra {
			h[k] = v
		}
		return h
	}
	cases := []struct {
		name   string
		hdr    map[string]string
		want   int
		header string // expected X-Legacy-User
		loc    string
	}{
		{"traefik ok", traefik("GET", "/x?y=1", map[string]string{"Cookie": f.cookie}), 200, "acc-42", ""},
		{"traefik browser no session", traefik("GET", "/x?y=1", map[string]string{"Accept": "text/html"}), 302, "", "/.overstap/login?return_to=%2Fx%3Fy%3D1"},
		{"traefik api no session", traefik("GET", "/x", map[string]string{"Accept": "application/json"}), 401, "", ""},
		{"traefik step-up", traefik("GET", "/bank", map[string]string{"Cookie": f.cookie, "Accept": "text/html"}), 302, "", "/.overstap/stepup?return_to=%2Fbank"},
		{"traefik blocked", traefik("POST", "/ADMIN/x", map[string]string{"Cookie": f.cookie}), 403, "", ""},
		{"traefik dot segment refused", traefik("POST", "/ADMIN/./x", map[string]string{"Cookie": f.cookie}), 400, "", ""},
		{"traefik public", traefik("GET", "/static/a", nil), 200, "", ""},
		{"traefik ambiguous", traefik("GET", "/a/..%2fadmin", map[string]string{"Cookie": f.cookie}), 400, "", ""},
		{"nginx browser gets 401", map[string]string{"X-Original-URI": "/x", "X-Original-Method": "GET", "Accept": "text/html"}, 401, "", ""},
		{"nginx ok", map[string]string{"X-Original-URI": "/x", "X-Original-Method": "GET", "Cookie": f.cookie}, 200, "acc-42", ""},
		{"no uri", map[string]string{"Cookie": f.cookie}, 400, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, _ := f.do(t, "GET", "/.overstap/auth", c.hdr, nil)
			if resp.StatusCode != c.want || resp.Header.Get("X-Legacy-User") != c.header || resp.Header.Get("Location") != c.loc {
				t.Fatalf("%d %q %q", resp.StatusCode, resp.Header.Get("X-Legacy-User"), resp.Header.Get("Location"))
			}
		})
	}
	// Untrusted caller: refused whatever it claims.
	g2 := newFixture(t, nil, func(c *gateway.Config) { c.TrustedProxies = []string{"10.0.0.0/8"} })
	resp, _ := g2.do(t, "GET", "/.overstap/auth", traefik("GET", "/x", map[string]string{"Cookie": g2.cookie}), nil)
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("untrusted caller: %d", resp.StatusCode)
	}
}

func TestOpsAndAdmin(t *testing.T) {
	f := newFixture(t, nil, nil)
	f.do(t, "GET", "/x", map[string]string{"Cookie": f.cookie}, nil)
	f.do(t, "GET", "/admin/x", map[string]string{"Cookie": f.cookie}, nil)
	ops := httptest.NewServer(f.g.OpsHandler())
	defer ops.Close()
	resp, err := http.Get(ops.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := string(b)
	for _, want := range []string{`overstap_gateway_requests_total{app="eloket",class="protected",code="200"} 1`,
		`overstap_gateway_requests_total{app="eloket",class="blocked",code="403"} 1`, "overstap_gateway_session_store_seconds"} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics miss %s", want)
		}
	}
	if strings.Contains(m, f.n.Digits()) || strings.Contains(m, "acc-42") || nrn.Contains(m) {
		t.Fatal("personal data in metrics")
	}
	resp, _ = http.Get(ops.URL + "/readyz")
	if resp.StatusCode != 200 {
		t.Fatalf("readyz %d", resp.StatusCode)
	}
	adm := httptest.NewServer(f.g.AdminHandler())
	defer adm.Close()
	post := func(tok, path, body string) int {
		req, _ := http.NewRequest("POST", adm.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	tok := strings.Repeat("t", 32)
	for _, c := range []struct {
		tok, path, body string
		want            int
	}{
		{"", "/admin/revoke/all", "", 401},
		{strings.Repeat("t", 31), "/admin/revoke/all", "", 401},
		{tok + "x", "/admin/revoke/all", "", 401},
		{tok, "/admin/revoke/person", `{"nrn":"1"}`, 400},
		{tok, "/admin/revoke/person", `{"nrn":"` + f.n.Format() + `","x":1}`, 400},
		{tok, "/admin/revoke/person", strings.Repeat("{", 10000), 400},
		{tok, "/admin/revoke/person", `{"nrn":"` + f.n.Format() + `"}`, 200},
	} {
		if got := post(c.tok, c.path, c.body); got != c.want {
			t.Errorf("%s %q: %d want %d", c.path, c.body, got, c.want)
		}
	}
	if resp, _ := f.do(t, "GET", "/x", map[string]string{"Cookie": f.cookie, "Accept": "text/html"}, nil); resp.StatusCode != 302 {
		t.Fatalf("revoked session still works: %d", resp.StatusCode)
	}
}

// TestServerBounds: huge headers are refused and a slowloris client is cut
// off by the real server settings.
func TestServerBounds(t *testing.T) {
	f := newFixture(t, nil, func(c *gateway.Config) {
		c.Listen = "127.0.0.1:0"
		c.MetricsListen, c.AdminListen = "", ""
		c.Limits.ReadHeaderTimeout = 300 * time.Millisecond
		c.Limits.MaxHeaderBytes = 8 << 10
	})
	ls, err := f.g.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.g.Serve(ctx, ls) }()
	base := "http://" + ls.Main.Addr().String()
	req, _ := http.NewRequest("GET", base+"/x", nil)
	req.Header.Set("X-Big", strings.Repeat("a", 64<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("huge header: %d", resp.StatusCode)
	}
	conn, err := net.Dial("tcp", ls.Main.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: x\r\n") // never finishes the headers
	conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	start := time.Now()
	_, err = io.ReadAll(conn)
	if err != nil || time.Since(start) > 2*time.Second {
		t.Fatalf("slow client not cut off: %v after %v", err, time.Since(start))
	}
	conn.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestConfigErrors(t *testing.T) {
	_, err := gateway.New(gateway.Config{PublicURL: "http://x", TrustedProxies: []string{"nope"}, AccountID: "email",
		AdminListen: "127.0.0.1:0", Apps: []gateway.AppConfig{{App: route.App{Name: "a"}, Upstream: "ftp://x",
			Identity: upstream.Config{Profile: upstream.ProfileAssertion}}}}, gateway.Deps{})
	if err == nil {
		t.Fatal("bad config accepted")
	}
	for _, want := range []string{"public_url:", "trusted_proxies:", "account_id:", "admin_token:", "apps[0].upstream:",
		"assertion.keys:", "session store", "provider", "nrn_ref_key"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
}

// TestIdPUnavailableAtLogin: a provider whose discovery failed gives a
// clear 503 page instead of a redirect to nowhere.
func TestIdPUnavailableAtLogin(t *testing.T) {
	store, _ := session.NewMemory(session.Config{})
	g, err := gateway.New(gateway.Config{PublicURL: "https://gw.example", TLSCertFile: "/nonexistent/c.pem", TLSKeyFile: "/nonexistent/k.pem",
		NRNRefKey: nrn.MustRefKey([]byte(strings.Repeat("k", 32))),
		Apps:      []gateway.AppConfig{{App: route.App{Name: "a"}, Upstream: "http://127.0.0.1:1"}}},
		gateway.Deps{Sessions: store, Providers: []gateway.Authenticator{stubProvider{ready: errors.New("discovery failed")}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"nl", "fr", "de", "en"} {
		req := httptest.NewRequest("GET", "/.overstap/login?return_to=/x", nil)
		req.Header.Set("Accept-Language", lang)
		w := httptest.NewRecorder()
		g.ServeHTTP(w, req)
		if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), `lang="`+lang+`"`) {
			t.Fatalf("%s: %d", lang, w.Code)
		}
		// TLS configured: HSTS on pages; the page's other security headers.
		h := w.Header()
		if !strings.HasPrefix(h.Get("Strict-Transport-Security"), "max-age=") ||
			h.Get("Content-Security-Policy") != "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'" {
			t.Fatalf("headers %v", h)
		}
	}
}

type namedStub struct {
	stubProvider
	name string
}

// PublicJWKS makes namedStub a KeyPublisher (the itsme case).
func (n namedStub) PublicJWKS() []byte {
	if n.name == "itsme" {
		return []byte(`{"keys":[]}`)
	}
	return nil
}

func (n namedStub) Name() string { return n.name }

// TestLoginChoiceAndLanguage: with two providers the login page offers
// both (CSRF form); POST with the token starts the chosen one; the
// language switch only returns to local paths.
func TestLoginChoiceAndLanguage(t *testing.T) {
	store, _ := session.NewMemory(session.Config{})
	g, err := gateway.New(gateway.Config{PublicURL: "http://gw.example", DevInsecureCookies: true,
		NRNRefKey: nrn.MustRefKey([]byte(strings.Repeat("k", 32))), ProviderLabels: map[string]string{"fas": "eID"},
		Apps: []gateway.AppConfig{{App: route.App{Name: "a", Rules: []route.Rule{{Path: "/bank", Class: route.StepUp, MinLevel: "high"}}},
			Upstream: "http://127.0.0.1:1"}}},
		gateway.Deps{Sessions: store, Providers: []gateway.Authenticator{namedStub{name: "fas"}, namedStub{name: "itsme"}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g)
	defer srv.Close()
	jarless := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("GET", srv.URL+"/.overstap/login?return_to=/bank", nil)
	req.Header.Set("Cookie", "lang=de")
	resp, err := jarless.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(body)
	if resp.StatusCode != 200 || !strings.Contains(page, `lang="de"`) || !strings.Contains(page, `value="fas">Anmelden mit eID`) ||
		!strings.Contains(page, `value="itsme">Anmelden mit itsme`) {
		t.Fatalf("choice page: %d %s", resp.StatusCode, page)
	}
	var csrf string
	for _, c := range resp.Cookies() {
		if c.Name == "overstap_csrf" {
			csrf = c.Value
		}
	}
	if csrf == "" || !strings.Contains(page, `name="csrf" value="`+csrf+`"`) {
		t.Fatal("no double-submit token")
	}
	post := func(form, cookie string) *http.Response {
		req, _ := http.NewRequest("POST", srv.URL+"/.overstap/login", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Cookie", cookie)
		resp, err := jarless.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := post("provider=itsme&return_to=/bank&csrf="+csrf, "overstap_csrf="+csrf); r.StatusCode != 303 ||
		r.Header.Get("Location") != "https://idp.example/auth?acr=high" {
		t.Fatalf("start itsme: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	other := strings.Repeat("A", len(csrf))
	if r := post("provider=itsme&csrf="+other, "overstap_csrf="+csrf); r.StatusCode != 403 {
		t.Fatalf("wrong token: %d", r.StatusCode)
	}
	if r := post("provider=nope&csrf="+csrf, "overstap_csrf="+csrf); r.StatusCode != 400 {
		t.Fatalf("unknown provider: %d", r.StatusCode)
	}
	for path, want := range map[string]int{"/.overstap/jwks/itsme": 200, "/.overstap/jwks/fas": 404, "/.overstap/jwks/nope": 404} {
		resp, err := jarless.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
	}
	for rt, want := range map[string]string{"/x?y=1": "/x?y=1", "//evil.example": "/", "https://evil.example": "/"} {
		resp, err := jarless.Get(srv.URL + "/.overstap/lang?l=fr&return_to=" + url.QueryEscape(rt))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("Location") != want || !strings.Contains(resp.Header.Get("Set-Cookie"), "lang=fr") {
			t.Fatalf("lang %s: %s %s", rt, resp.Header.Get("Location"), resp.Header.Get("Set-Cookie"))
		}
	}
}

// TestAssertionProfileEndToEnd: the app gets a signed assertion it can
// verify with the JWKS the gateway serves; a forged one never reaches it.
func TestAssertionProfileEndToEnd(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	got := make(chan string, 4)
	f := newFixture(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- strings.Join(r.Header.Values("X-Overstap-Assertion"), "|")
	}), func(c *gateway.Config) {
		c.Assertion = upstream.SignerConfig{Keys: []upstream.KeyConfig{{ID: "k1",
			PrivateKey: config.NewSecret(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))}}}
		c.Apps[0].Identity = upstream.Config{Profile: upstream.ProfileAssertion}
	})
	resp, jwks := f.do(t, "GET", upstream.JWKSPath, nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(jwks, `"kid":"k1"`) {
		t.Fatalf("jwks: %d %s", resp.StatusCode, jwks)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(jwks), &set); err != nil {
		t.Fatal(err)
	}
	f.do(t, "GET", "/x", map[string]string{"Cookie": f.cookie, "X-Overstap-Assertion": "forged"}, nil)
	raw := <-got
	if strings.Contains(raw, "forged") || strings.Contains(raw, "|") {
		t.Fatalf("assertion header %q", raw)
	}
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	var cl jwt.Claims
	if err := tok.Claims(set.Key("k1")[0].Key, &cl); err != nil {
		t.Fatal(err)
	}
	if err := cl.ValidateWithLeeway(jwt.Expected{Issuer: "http://gw.example", AnyAudience: jwt.Audience{"eloket"}, Time: time.Now()}, 0); err != nil {
		t.Fatal(err)
	}
	if cl.Subject != "acc-42" {
		t.Fatalf("sub %q", cl.Subject)
	}
	// Anonymous request to a public route: no assertion, forged one removed.
	f.do(t, "GET", "/static/a", map[string]string{"X-Overstap-Assertion": "forged"}, nil)
	if raw := <-got; raw != "" {
		t.Fatalf("public route got %q", raw)
	}
}

// TestTLS: with certificate files the main listener speaks TLS (≥ 1.2) and
// pages carry HSTS.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(k)
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
	f := newFixture(t, nil, func(c *gateway.Config) {
		c.Listen, c.MetricsListen, c.AdminListen = "127.0.0.1:0", "", ""
		c.TLSCertFile, c.TLSKeyFile = certFile, keyFile
		c.PublicURL, c.DevInsecureCookies = "https://127.0.0.1", false
	})
	ls, err := f.g.Listen()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.g.Serve(ctx, ls) }()
	pool := x509.NewCertPool()
	cert, _ := x509.ParseCertificate(der)
	pool.AddCert(cert)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get("https://" + ls.Main.Addr().String() + "/.overstap/logout")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil || !strings.HasPrefix(resp.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == "__Host-overstap-csrf" && !ck.Secure {
			t.Fatal("csrf cookie not Secure")
		}
	}
	old := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11}}}
	if _, err := old.Get("https://" + ls.Main.Addr().String() + "/"); err == nil {
		t.Fatal("TLS 1.1 accepted")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestPathPolicyNormalize: an app with path_policy normalize gets the
// canonical path, the one its route was judged on; encodings no two
// servers read alike stay refused.
func TestPathPolicyNormalize(t *testing.T) {
	f := newFixture(t, nil, func(c *gateway.Config) { c.Apps[0].PathPolicy = route.PathNormalize })
	cases := []struct {
		path string
		want int
		body string
	}{
		{"/a/./b//c", 200, "path=/a/b/c"},
		{"/a;jsessionid=1/b", 200, "path=/a/b"},
		{"/a./b%20", 200, "path=/a/b"},
		{"/x/..;/admin/x", 403, ""},
		{"/admin;x=1/x", 403, ""},
		{"/ADMIN./x", 403, ""},
		{"/a%2fb", 400, ""},
		{"/a%252fb", 400, ""},
		{"/%c0%ae%c0%ae/admin", 400, ""},
		{"/%C5%BFtatic/x", 400, ""},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			resp, b := f.do(t, "GET", c.path, map[string]string{"Cookie": f.cookie, "Accept": "text/html"}, nil)
			if resp.StatusCode != c.want || !strings.Contains(b, c.body) {
				t.Fatalf("%d %q", resp.StatusCode, b)
			}
		})
	}
}

// TestOwnCookiesNeverReachApp: the session, CSRF and pre-auth cookies are
// the gateway's bearer tokens; the app's cookies pass byte for byte, in
// order, with duplicates and odd spellings.
func TestOwnCookiesNeverReachApp(t *testing.T) {
	var seen []string
	f := newFixture(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append([]string(nil), r.Header["Cookie"]...)
	}), nil)
	id := strings.TrimPrefix(f.cookie, "overstap_session=")
	cases := []struct {
		name string
		in   []string
		want []string
	}{
		{"mixed", []string{`a=1; overstap_session=` + id + `; b=2; a=3; __Host-overstap-login=x; Weird Name=v;  c="q"; overstap-login=y; e=`},
			[]string{`a=1; b=2; a=3; Weird Name=v;  c="q"; e=`}},
		{"own first", []string{`overstap_session=` + id + `;JSESSIONID=AbC.n1;PHPSESSID=x`}, []string{`JSESSIONID=AbC.n1;PHPSESSID=x`}},
		{"two headers, one only ours", []string{`overstap_session=` + id, `overstap_csrf=z; lang=nl`}, []string{`lang=nl`}},
		{"only ours", []string{`overstap_session=` + id + `; __Host-overstap-csrf=1; __Secure-overstap-x=2`}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			seen = nil
			req, _ := http.NewRequest("GET", f.srv.URL+"/x", nil)
			req.Header["Cookie"] = c.in
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if fmt.Sprintf("%q", seen) != fmt.Sprintf("%q", c.want) {
				t.Fatalf("app got %q, want %q", seen, c.want)
			}
		})
	}
}

// TestHeaderLimitAsConfigured: limits.max_header_bytes holds to the byte
// in the handler, whatever server runs it (httptest's allows 1 MiB).
func TestHeaderLimitAsConfigured(t *testing.T) {
	f := newFixture(t, nil, func(c *gateway.Config) { c.Limits.MaxHeaderBytes = 8 << 10 })
	for _, c := range []struct {
		size int
		want int
	}{{6 << 10, 200}, {9 << 10, 431}, {512 << 10, 431}} {
		resp, _ := f.do(t, "GET", "/x", map[string]string{"Cookie": f.cookie, "X-Big": strings.Repeat("a", c.size)}, nil)
		if resp.StatusCode != c.want {
			t.Errorf("%d bytes: %d, want %d", c.size, resp.StatusCode, c.want)
		}
	}
}

// TestConfigHomeURL: home_url ("back to the start page") is an https URL, a
// local path, or (dev cookies only) an http URL; nothing else.
func TestConfigHomeURL(t *testing.T) {
	base := func(home string, dev bool) error {
		c := gateway.Config{PublicURL: "https://gw.example", HomeURL: home, DevInsecureCookies: dev,
			Apps: []gateway.AppConfig{{App: route.App{Name: "a"}, Upstream: "http://127.0.0.1:1"}}}
		if dev {
			c.PublicURL = "http://127.0.0.1:8080"
		}
		return c.Validate()
	}
	for _, tc := range []struct {
		home string
		dev  bool
		ok   bool
	}{
		{"", false, true}, {"https://www.gemeente.be", false, true}, {"/welkom", false, true},
		{"http://127.0.0.1:8082/", true, true},
		{"http://www.gemeente.be", false, false}, {"//evil.example/", false, false}, {"javascript:alert(1)", false, false},
		{"welkom", false, false}, {"https://user@www.gemeente.be", false, false}, {"https:///x", false, false},
		{"/a b", false, false}, {`/\evil.example`, false, false},
	} {
		err := base(tc.home, tc.dev)
		if got := err == nil || !strings.Contains(err.Error(), "home_url:"); got != tc.ok {
			t.Errorf("home_url %q (dev %v): ok=%v, err %v", tc.home, tc.dev, got, err)
		}
	}
}

// TestAppLogoutEndsGatewaySession: the app's own logout (class logout)
// reaches the app, its Set-Cookie passes, the gateway session ends and the
// browser goes to "you are logged out".
func TestAppLogoutEndsGatewaySession(t *testing.T) {
	var saw string
	f := newFixture(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		saw = r.Method + " " + r.URL.Path + " " + r.Header.Get("X-Overstap-Account")
		http.SetCookie(w, &http.Cookie{Name: "app_sessie", Value: "", Path: "/", MaxAge: -1})
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	}), func(c *gateway.Config) {
		c.Apps[0].Rules = append(c.Apps[0].Rules, route.Rule{Path: "/logout", Methods: []string{"POST"}, Class: route.Logout})
	})
	resp, _ := f.do(t, "POST", "/logout", map[string]string{"Cookie": f.cookie + "; app_sessie=x"}, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/.overstap/logged-out" {
		t.Fatalf("%d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if saw != "POST /logout acc-42" {
		t.Fatalf("the app saw %q", saw)
	}
	var appCleared, gwCleared bool
	for _, c := range resp.Cookies() {
		appCleared = appCleared || (c.Name == "app_sessie" && c.MaxAge < 0)
		gwCleared = gwCleared || (c.Name == "overstap_session" && c.MaxAge < 0)
	}
	if !appCleared || !gwCleared {
		t.Fatalf("cookies %v", resp.Header.Values("Set-Cookie"))
	}
	if resp, _ := f.do(t, "GET", "/x", map[string]string{"Cookie": f.cookie, "Accept": "text/html"}, nil); resp.StatusCode != http.StatusFound {
		t.Fatalf("the old session still works: %d", resp.StatusCode)
	}
	// Without a session the app still gets its logout.
	saw = ""
	if resp, _ := f.do(t, "POST", "/logout", nil, nil); resp.StatusCode != http.StatusSeeOther || saw != "POST /logout " {
		t.Fatalf("no session: %d, app saw %q", resp.StatusCode, saw)
	}
}
