package server

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/overstap/overstap/adapters/registry"
	"github.com/overstap/overstap/adapters/state"
	"github.com/overstap/overstap/adapters/store/csvstore"
	"github.com/overstap/overstap/adapters/store/storeconfig"
	"github.com/overstap/overstap/adapters/upstream"
	"github.com/overstap/overstap/auth/devidp"
	"github.com/overstap/overstap/auth/family"
	"github.com/overstap/overstap/auth/gateway"
	"github.com/overstap/overstap/auth/gateway/route"
	"github.com/overstap/overstap/auth/legacylogin"
	"github.com/overstap/overstap/auth/oidc"
	"github.com/overstap/overstap/auth/session"
	"github.com/overstap/overstap/internal/config"
)

var idpKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func randomSecret(n int) config.Secret {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return config.NewSecret([]byte(hex.EncodeToString(b)[:n]))
}

// testConfig is a configuration for two apps behind one gateway: "eloket"
// with a CSV user store, linking and the family section, "other" without
// linking. The provider is an in-process dev IdP.
func testConfig(t *testing.T) (Config, *httptest.Server) {
	t.Helper()
	dir := t.TempDir()
	idpSrv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(idpSrv.Close)
	idp, err := devidp.New(devidp.Config{IssuerBase: idpSrv.URL, SigningRSAKey: idpKey()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	idpSrv.Config.Handler = idp.Handler()
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("app")) }))
	t.Cleanup(app.Close)
	const public = "http://127.0.0.1:9" // never served: requests go to the handler
	pc := oidc.ProviderConfig{Name: "fas", Profile: "fas", Issuer: idp.Issuer(devidp.ProfileFAS), ClientID: "gw",
		ClientSecret: randomSecret(24), RedirectURL: public + "/.overstap/callback/fas"}
	if err := idp.RegisterClient(devidp.ClientConfig{ID: "gw", Profile: devidp.ProfileFAS, AuthMethod: "client_secret_basic",
		Secret: pc.ClientSecret, RedirectURIs: []string{pc.RedirectURL}}); err != nil {
		t.Fatal(err)
	}
	users := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(users, []byte("id;username;password\n1;jan;geheim\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	persons, relations := filepath.Join(dir, "persons.csv"), filepath.Join(dir, "relations.csv")
	if err := (registry.Export{}).WriteCSV(persons, relations); err != nil {
		t.Fatal(err)
	}
	rules := []route.Rule{{Path: "/login", Methods: []string{"POST"}, Class: route.LegacyLogin},
		{Path: "/family/add", Methods: []string{"POST"}, Class: route.FamilyLink}}
	cfg := Config{
		NRNRefKey: randomSecret(32),
		State:     state.Config{Driver: "sqlite", Path: filepath.Join(dir, "state.db")},
		Gateway: &gateway.Config{PublicURL: public, DevInsecureCookies: true, AdminToken: randomSecret(32), Apps: []gateway.AppConfig{
			{App: route.App{Name: "eloket", Hosts: []string{"eloket.test"}, Rules: rules}, Upstream: app.URL,
				Identity: upstream.Config{}},
			{App: route.App{Name: "other", Hosts: []string{"other.test"}, Rules: rules}, Upstream: app.URL},
		}},
		Sessions:  session.Config{Store: "memory"},
		Providers: []oidc.ProviderConfig{pc},
		Stores: []storeconfig.Config{{Name: "eloket", Type: "csv", CSV: &csvstore.Config{Path: users, ChangesPath: filepath.Join(dir, "changes.csv"), Delimiter: ";",
			Columns: csvstore.Columns{ID: "id", Username: "username", Password: "password"}, SchemeHint: "plaintext"}}},
		Linking: map[string]AppLinking{"eloket": {Store: "eloket",
			LegacyLogin: legacylogin.Config{Fields: legacylogin.Fields{Username: "u", Password: "p"}}}},
		Family: &family.Config{Registry: registry.Config{Kind: "csv", CSV: registry.CSVConfig{Persons: persons, Relations: relations}},
			StepUp: family.StepUp{Level: "high", MaxAge: 10 * time.Minute},
			Apps:   []family.AppConfig{{Name: "eloket", MemberField: "nrn", ReturnTo: "/family"}}},
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg, app
}

func do(t *testing.T, h http.Handler, method, host, path string, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, "http://"+host+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, "http://"+host+path, nil)
	}
	req.Header.Set("Accept", "text/html")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// TestBuildAssemblesEveryPart: one Build wires the legacy-login hook of
// the app with linking (and only of it), the family hooks, pages and
// admin routes, and the readiness checks of the state and user stores.
func TestBuildAssemblesEveryPart(t *testing.T) {
	cfg, _ := testConfig(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := Build(ctx, cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if srv.Family == nil || len(srv.Provider) != 1 {
		t.Fatalf("family %v, providers %d", srv.Family, len(srv.Provider))
	}
	g := srv.Gateway

	// eloket: its legacy-login hook decides (an NRN-shaped username is
	// sent to the federated login page, never checked against the store).
	w := do(t, g, "POST", "eloket.test", "/login", url.Values{"u": {"85073000188"}, "p": {"85073000188"}})
	if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), `action="/.overstap/login"`) {
		t.Fatalf("eloket legacy login: %d %s", w.Code, w.Body.String())
	}
	// A username that is no national number, under block_all: refused by
	// the hook too, and the app never sees it.
	w = do(t, g, "POST", "eloket.test", "/login", url.Values{"u": {"jan"}, "p": {"geheim"}})
	if w.Code == http.StatusOK || strings.Contains(w.Body.String(), "app") && !strings.Contains(w.Body.String(), "<html") {
		t.Fatalf("eloket legacy login of jan reached the app: %d", w.Code)
	}
	// other: no linking, so no hook: the gateway's own denial page.
	w = do(t, g, "POST", "other.test", "/login", url.Values{"u": {"jan"}, "p": {"geheim"}})
	if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), `action="/.overstap/login"`) {
		t.Fatalf("other legacy login: %d", w.Code)
	}
	// The family pages are mounted and rendered from auth/family's set:
	// without a session, a login is required.
	w = do(t, g, "GET", "eloket.test", "/.overstap/family/", nil)
	if w.Code != http.StatusFound || !strings.HasPrefix(w.Header().Get("Location"), "/.overstap/login?") {
		t.Fatalf("family page: %d %s", w.Code, w.Header().Get("Location"))
	}
	// The family admin routes sit behind the admin token.
	req := httptest.NewRequest("POST", "http://admin/admin/family/grants/revoke", strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer "+string(cfg.Gateway.AdminToken.Bytes()))
	aw := httptest.NewRecorder()
	g.AdminHandler().ServeHTTP(aw, req)
	if aw.Code == http.StatusNotFound || aw.Code == http.StatusUnauthorized {
		t.Fatalf("family admin route: %d", aw.Code)
	}
	// Readiness covers the state store and the user store.
	rw := httptest.NewRecorder()
	g.OpsHandler().ServeHTTP(rw, httptest.NewRequest("GET", "http://ops/readyz", nil))
	for _, name := range []string{"state", "store:eloket"} {
		if !strings.Contains(rw.Body.String(), name) {
			t.Errorf("readyz does not check %s: %s", name, rw.Body.String())
		}
	}
}

// TestBuildFamilyRegistrySeam: the register can be replaced by Options
// (tests), with nothing set through package state.
func TestBuildFamilyRegistrySeam(t *testing.T) {
	cfg, _ := testConfig(t)
	cfg.Family.Registry = registry.Config{Kind: "csv", CSV: registry.CSVConfig{Persons: "/nonexistent/p.csv", Relations: "/nonexistent/r.csv"}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := Build(ctx, cfg, Options{}); err == nil || !strings.HasPrefix(err.Error(), "family.registry:") {
		t.Fatalf("missing register: %v", err)
	}
	m, err := registry.NewMemory("test", registry.Export{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := Build(ctx, cfg, Options{FamilyRegistry: m})
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
}

// TestBuildStepErrorsNameTheirSection: a failing step says which section
// of the configuration it comes from and closes what earlier steps opened.
func TestBuildStepErrorsNameTheirSection(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, tc := range []struct {
		name, prefix string
		mod          func(*Config)
	}{
		{"no gateway", "gateway:", func(c *Config) { c.Gateway = nil }},
		{"no provider", "providers:", func(c *Config) { c.Providers = nil }},
		{"state", "state:", func(c *Config) { c.State = state.Config{Driver: "nope"} }},
		{"store", "stores: eloket:", func(c *Config) { c.Stores[0].CSV.Path = "/nonexistent/users.csv" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _ := testConfig(t)
			tc.mod(&cfg)
			_, err := Build(ctx, cfg, Options{})
			if err == nil || !strings.HasPrefix(err.Error(), tc.prefix) {
				t.Fatalf("err = %v, want prefix %q", err, tc.prefix)
			}
		})
	}
}
