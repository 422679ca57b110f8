package integration

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/overstap/overstap/adapters/upstream"
	"github.com/overstap/overstap/auth/devidp"
	"github.com/overstap/overstap/auth/gateway"
	"github.com/overstap/overstap/auth/gateway/route"
	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/auth/oidc"
	"github.com/overstap/overstap/auth/session"
	"github.com/overstap/overstap/internal/config"
	"github.com/overstap/overstap/internal/testsvc"
)

var idpKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func secret(n int) config.Secret {
	b := make([]byte, n)
	rand.Read(b)
	return config.NewSecret([]byte(hex.EncodeToString(b)[:n]))
}

// Shared secrets of all gateway instances of one test (they share Redis).
type shared struct {
	sessKey   config.Secret
	refKey    config.Secret
	adminTok  config.Secret
	rdb       redis.UniversalClient
	prefix    string
	idp       *devidp.Server
	idpSrv    *httptest.Server
	upstream  *httptest.Server
	upHits    atomic.Int64
	lastSeen  atomic.Value // http.Header the upstream saw last
	clientSeq atomic.Int64
	clock     *testsvc.OffsetClock // shared by the dev IdP, the RPs and the gateways
}

func quietZitadel(t *testing.T) {
	old := slog.Default()
	slog.SetDefault(slog.New(slog.DiscardHandler))
	t.Cleanup(func() { slog.SetDefault(old) })
}

func newShared(t *testing.T, rdb redis.UniversalClient, prefix string) *shared {
	t.Helper()
	quietZitadel(t)
	sh := &shared{sessKey: config.NewSecret([]byte(hex.EncodeToString(randBytes(32)))), refKey: secret(40),
		adminTok: secret(40), rdb: rdb, prefix: prefix, clock: &testsvc.OffsetClock{}}
	sh.idpSrv = httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(sh.idpSrv.Close)
	idp, err := devidp.New(devidp.Config{IssuerBase: sh.idpSrv.URL, SigningRSAKey: idpKey(), Now: sh.clock.Now}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sh.idpSrv.Config.Handler = idp.Handler()
	sh.idp = idp
	sh.upstream = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sh.upHits.Add(1)
		sh.lastSeen.Store(r.Header.Clone())
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"path": r.URL.EscapedPath(), "headers": r.Header})
	}))
	t.Cleanup(sh.upstream.Close)
	return sh
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// gw is one gateway instance.
type gw struct {
	g      *gateway.Gateway
	url    string
	direct string
	admin  string
	ops    string
	clock  *testsvc.OffsetClock
	client string
}

func testApps(up string) []gateway.AppConfig {
	return []gateway.AppConfig{{
		App: route.App{Name: "eloket", MinLevel: "low", Rules: []route.Rule{
			{Path: "/static/**", Class: route.Public},
			{Path: "/login", Methods: []string{"POST"}, Class: route.LegacyLogin},
			{Path: "/admin/**", Class: route.Blocked},
			{Path: "/bank", Class: route.StepUp, MinLevel: "high", MaxAuthAge: time.Minute},
			{Path: "/transfer", Class: route.StepUp, MinLevel: "substantial", MaxAuthAge: 3 * time.Second},
			{Path: "/family/add", Class: route.FamilyLink},
		}},
		Upstream: up,
		Identity: upstream.Config{Headers: upstream.HeaderNames{Account: "X-Legacy-User", Level: "X-Legacy-Level"}},
	}}
}

// newGateway starts a gateway over real HTTP on loopback with Redis
// sessions (store) and the dev IdP's FAS profile.
func newGateway(t *testing.T, sh *shared, store session.Store, mod func(*gateway.Config)) *gw {
	t.Helper()
	return newGatewayAt(t, sh, store, "", mod)
}

// newGatewayAt is newGateway with a public URL other than its own address
// (behind nginx); the gateway's own address is in gw.direct.
func newGatewayAt(t *testing.T, sh *shared, store session.Store, public string, mod func(*gateway.Config)) *gw {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	direct := base
	if public != "" {
		base = public
	}
	cid := "gw-" + string(rune('a'+sh.clientSeq.Add(1)))
	sec := "secret-" + cid
	pc := oidc.ProviderConfig{
		Name: "fas", Profile: "fas", Issuer: sh.idp.Issuer(devidp.ProfileFAS), ClientID: cid,
		ClientSecret: config.NewSecret([]byte(sec)), RedirectURL: base + "/.overstap/callback/fas",
		PostLogoutRedirectURL: base + "/.overstap/logged-out",
	}
	if err := sh.idp.RegisterClient(devidp.ClientConfig{
		ID: cid, Profile: devidp.ProfileFAS, AuthMethod: "client_secret_basic", Secret: pc.ClientSecret,
		RedirectURIs: []string{pc.RedirectURL}, PostLogoutRedirectURIs: []string{pc.PostLogoutRedirectURL},
		BackchannelLogoutURI: base + "/.overstap/backchannel-logout/fas",
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	p, err := oidc.New(ctx, pc, oidc.Deps{Flows: oidc.NewRedisStore(sh.rdb, sh.prefix+"oidc:"),
		Replay: oidc.NewRedisStore(sh.rdb, sh.prefix+"oidc:"), DevInsecureCookies: true, RetryMin: 20 * time.Millisecond, Now: sh.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	waitReady(t, ctx, p)
	cfg := gateway.Config{
		PublicURL: base, DevInsecureCookies: true, TrustedProxies: []string{"127.0.0.1/32"},
		NRNRefKey: nrn.MustRefKey(sh.refKey.Bytes()), AdminToken: sh.adminTok, Apps: testApps(sh.upstream.URL), Brand: "Gemeente Testdorp",
		Limits: gateway.Limits{StoreTimeout: 500 * time.Millisecond},
	}
	if mod != nil {
		mod(&cfg)
	}
	ck := sh.clock
	g, err := gateway.New(cfg, gateway.Deps{Sessions: store, Providers: []gateway.Authenticator{p}, Now: ck.Now, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: g, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	adm := httptest.NewServer(g.AdminHandler())
	t.Cleanup(adm.Close)
	ops := httptest.NewServer(g.OpsHandler())
	t.Cleanup(ops.Close)
	return &gw{g: g, url: base, direct: direct, admin: adm.URL, ops: ops.URL, clock: ck, client: cid}
}

func redisStore(t *testing.T, sh *shared, rdb redis.UniversalClient) session.Store {
	t.Helper()
	s, err := session.NewRedis(rdb, session.Config{Store: "redis", Redis: session.RedisConfig{URL: "redis://unused"}, Keys: []config.Secret{sh.sessKey}, KeyPrefix: sh.prefix + "sess:"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// browser is a cookie-jar client that does not follow redirects.
func browser(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

func get(t *testing.T, c *http.Client, u string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Accept", "text/html")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func abs(base, loc string) string {
	u, _ := url.Parse(base)
	l, _ := url.Parse(loc)
	return u.ResolveReference(l).String()
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// login walks a browser through: protected path → /.overstap/login → dev
// IdP (choice) → callback → back to the path. It returns the callback's
// response.
func (g *gw) login(t *testing.T, sh *shared, c *http.Client, path string, choice devidp.Choice) *http.Response {
	t.Helper()
	resp, _ := get(t, c, g.url+path, nil)
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), "/.overstap/login?return_to=") {
		t.Fatalf("protected path: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = get(t, c, abs(g.url, resp.Header.Get("Location")), nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login start: %d", resp.StatusCode)
	}
	return g.finish(t, sh, c, resp.Header.Get("Location"), choice)
}

// finish plays the IdP part and the callback.
func (g *gw) finish(t *testing.T, sh *shared, c *http.Client, authURL string, choice devidp.Choice) *http.Response {
	t.Helper()
	cb, err := sh.idp.BrowserLogin(context.Background(), c, authURL, choice)
	if cb == nil {
		t.Fatalf("BrowserLogin: %v", err)
	}
	if !strings.HasPrefix(cb.String(), g.url+"/.overstap/callback/fas?") {
		t.Fatalf("IdP sent the browser to %s", cb.Redacted())
	}
	resp, _ := get(t, c, cb.String(), nil)
	return resp
}

// upstreamSaw fetches path through the gateway and returns the upstream's
// echo (headers it received).
func upstreamSaw(t *testing.T, c *http.Client, u string, hdr http.Header) (int, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	req.Header = hdr.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "text/html")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return resp.StatusCode, nil
	}
	var echo struct {
		Headers http.Header `json:"headers"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&echo); err != nil {
		t.Fatalf("not the upstream: %v", err)
	}
	return 200, echo.Headers
}

func persona(t *testing.T, sh *shared, key string) devidp.Persona {
	for _, p := range sh.idp.Personas() {
		if p.Key == key {
			return p
		}
	}
	t.Fatalf("no persona %s", key)
	return devidp.Persona{}
}

// setupRedis returns the shared Redis with a prefix of our own.
func setupRedis(t *testing.T) testsvc.R { return testsvc.Redis(t) }

// redisGateway is the usual start of a test: the test's Redis, the shared
// IdP and upstream on it, and one gateway keeping its sessions there.
func redisGateway(t *testing.T) (testsvc.R, *shared, *gw) {
	r := setupRedis(t)
	sh := newShared(t, r.Client, r.Prefix)
	return r, sh, newGateway(t, sh, redisStore(t, sh, r.Client), nil)
}

type tw struct{ t *testing.T }

func (w tw) Write(b []byte) (int, error) { w.t.Log(strings.TrimSpace(string(b))); return len(b), nil }

// testLogger sends the gateway's log to the test log (shown on failure).
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tw{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// waitReady waits at most 10 s for p's discovery.
func waitReady(t *testing.T, ctx context.Context, p *oidc.Provider) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
}
