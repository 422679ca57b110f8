package interop

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/auth/oidc"
	"github.com/overstap/overstap/internal/config"
	"github.com/overstap/overstap/internal/hydratest"
	"github.com/overstap/overstap/internal/server"
	"github.com/overstap/overstap/internal/testsvc"
)

// The broker's level values (Keycloak-style "acr" strings), mapped in the
// gateway's configuration onto eIDAS levels.
const (
	acrLow         = "urn:broker:loa:low"
	acrSubstantial = "urn:broker:loa:substantial"
	acrHigh        = "urn:broker:loa:high"
)

// brokerLevels is the level table of the broker provider (YAML, under the
// provider).
const brokerLevels = `
    levels:
      - {value: "` + acrLow + `", level: low}
      - {value: "` + acrSubstantial + `", level: substantial}
      - {value: "` + acrHigh + `", level: high}
    nrn_claim: rrn`

// appRules protect the test app: /public is open, /iban needs a fresh
// substantial login, everything else a session at the app's minimum.
const appRules = `
      rules:
        - {path: /public/**, class: public}
        - {path: /iban, class: step_up, min_level: substantial, max_auth_age: 5m}`

// suite is one Hydra and one test app shared by the scenarios; every
// scenario runs its own gateway with its own client at Hydra.
type suite struct {
	t   *testing.T
	h   *hydratest.Hydra
	app *httptest.Server
}

// seen is what the app received on one request.
type seen struct {
	Path    string `json:"path"`
	Account string `json:"account"`
	Name    string `json:"name"`
	Level   string `json:"level"`
	NRN     string `json:"nrn"`
}

func newSuite(t *testing.T) *suite {
	h := hydratest.Start(t)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(seen{Path: r.URL.Path, Account: r.Header.Get("X-Account"),
			Name: r.Header.Get("X-Name"), Level: r.Header.Get("X-Level"), NRN: r.Header.Get("X-Nrn")})
	}))
	t.Cleanup(app.Close)
	return &suite{t: t, h: h, app: app}
}

// gwOpts vary one gateway.
type gwOpts struct {
	auth      string            // client authentication; client_secret_basic when empty
	provider  string            // YAML added under the provider (4-space indent)
	gateway   string            // YAML added under gateway (2-space indent)
	headers   string            // identity headers of the app (flow mapping)
	transport http.RoundTripper // wraps the gateway's HTTP client to the IdP
	notReady  bool              // do not wait for discovery (a scenario where it fails)
}

// gw is one running gateway.
type gw struct {
	url    string
	client hydratest.Registered
	logs   *testsvc.SyncBuffer
	clock  *testsvc.OffsetClock // the gateway's own clock (Hydra runs on real time; moved ahead, never behind)
}

// startGateway registers a client at Hydra and runs a gateway for it the
// way `overstap serve` does: YAML → config.Decode (strict, validated) →
// server.Build → Listen → Serve.
func (s *suite) startGateway(t *testing.T, o gwOpts) *gw {
	t.Helper()
	port := testsvc.FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	if o.auth == "" {
		o.auth = "client_secret_basic"
	}
	if o.headers == "" {
		o.headers = "{account: X-Account, name: X-Name, level: X-Level}"
	}
	reg := hydratest.Client{
		RedirectURIs:           []string{base + "/.overstap/callback/broker"},
		PostLogoutRedirectURIs: []string{base + "/.overstap/logged-out"},
		AuthMethod:             o.auth,
		BackChannelLogoutURI:   base + "/.overstap/backchannel-logout/broker",
	}
	credentials := ""
	dir := t.TempDir()
	if o.auth == "private_key_jwt" {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		der, _ := x509.MarshalPKCS8PrivateKey(key)
		keyFile := filepath.Join(dir, "client.pem")
		if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		reg.JWKS, _ = json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "gw-1", Algorithm: "RS256", Use: "sig"}}})
		credentials = fmt.Sprintf("private_key: \"file:%s\"\n    private_key_id: gw-1", keyFile)
	}
	c := s.h.CreateClient(reg)
	if credentials == "" {
		credentials = fmt.Sprintf("client_secret: \"insecure-literal:%s\"", c.Secret)
	}
	issuer := s.h.Issuer
	yaml := fmt.Sprintf(`
log: {format: text, level: info}
nrn_ref_key: "insecure-literal:0123456789abcdef0123456789abcdef"
state: {path: %[1]s}
sessions: {store: memory}
providers:
  - name: broker
    profile: generic
    issuer: %[2]s
    client_id: %[3]s
    %[4]s
    client_auth: %[5]s
    redirect_url: %[6]s/.overstap/callback/broker
    post_logout_redirect_url: %[6]s/.overstap/logged-out%[7]s
gateway:
  listen: 127.0.0.1:%[8]d
  public_url: %[6]s
  dev_insecure_cookies: true
  metrics_listen: ""
  admin_listen: ""%[9]s
  apps:
    - name: eloket
      upstream: %[10]s
      identity: {profile: headers, headers: %[11]s}%[12]s
`, filepath.Join(dir, "state.db"), issuer, c.ID, credentials, o.auth, base, o.provider, port, o.gateway,
		s.app.URL, o.headers, appRules)
	var cfg server.Config
	if err := config.Decode(strings.NewReader(yaml), &cfg); err != nil {
		t.Fatalf("configuration refused: %v\n%s", err, yaml)
	}
	logs, clock := &testsvc.SyncBuffer{}, &testsvc.OffsetClock{}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.Build(ctx, cfg, server.Options{
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:    clock.Now,
		OIDC: func(d *oidc.Deps) {
			d.RetryMin, d.RetryMax = 50*time.Millisecond, 200*time.Millisecond
			if o.transport != nil {
				d.HTTPClient = &http.Client{Timeout: 10 * time.Second, Transport: o.transport}
			}
		},
	})
	if err != nil {
		cancel()
		t.Fatalf("server.Build: %v", err)
	}
	ls, err := srv.Gateway.Listen()
	if err != nil {
		cancel()
		srv.Close()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Gateway.Serve(ctx, ls) }()
	t.Cleanup(func() {
		cancel()
		<-done
		srv.Close()
		if t.Failed() {
			t.Logf("gateway log:\n%s", logs.String())
		}
	})
	if !o.notReady {
		eventually(t, "provider ready", func() bool { return srv.Provider[0].Ready() == nil })
	}
	return &gw{url: base, client: c, logs: logs, clock: clock}
}

// browser is a citizen's browser: cookies, English pages, redirects
// followed.
func browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 20 * time.Second, Transport: english{}, CheckRedirect: func(_ *http.Request, via []*http.Request) error {
		if len(via) > 20 {
			return fmt.Errorf("too many redirects")
		}
		return nil
	}}
}

type english struct{}

func (english) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Accept-Language", "en")
	return http.DefaultTransport.RoundTrip(r)
}

// hasSession reports whether b's gateway session reaches the app without
// a login (a request that does not follow the redirect to the IdP).
func hasSession(t *testing.T, b *http.Client, g *gw) bool {
	t.Helper()
	nf := *b
	nf.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	p := get(t, &nf, g.url+"/dossier")
	switch p.status {
	case http.StatusOK:
		return true
	case http.StatusFound, http.StatusSeeOther:
		return false
	}
	t.Fatalf("unexpected answer %d %.300s", p.status, p.body)
	return false
}

// tokenSwap is the gateway's transport to the IdP: it keeps the ID token
// of every token response (keep) or replaces it with another one (put), as
// a mix-up attacker or a confused token endpoint would.
type tokenSwap struct {
	mu   sync.Mutex
	kept string
	put  string
}

func (s *tokenSwap) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil || !strings.HasSuffix(r.URL.Path, "/oauth2/token") || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if id, _ := m["id_token"].(string); id != "" {
		s.kept = id
	}
	if s.put != "" {
		m["id_token"] = s.put
	}
	s.mu.Unlock()
	body, _ = json.Marshal(m)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Del("Content-Length")
	return resp, nil
}

func (s *tokenSwap) idToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.kept
}

// eventually waits up to 10 s for cond.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("not after 10 s: %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type page struct {
	status int
	url    string
	body   string
}

func get(t *testing.T, b *http.Client, u string) page {
	t.Helper()
	resp, err := b.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return page{status: resp.StatusCode, url: resp.Request.URL.String(), body: string(body)}
}

// appSaw decodes what the test app received; it fails when the page is
// not the app's answer.
func appSaw(t *testing.T, p page) seen {
	t.Helper()
	var s seen
	if p.status != http.StatusOK || json.Unmarshal([]byte(p.body), &s) != nil || s.Path == "" {
		t.Fatalf("the app was not reached: %d %s\n%.600s", p.status, p.url, p.body)
	}
	return s
}

// refused checks that the gateway answered with one of its error pages.
func refused(t *testing.T, p page, status int, text string) {
	t.Helper()
	if p.status != status || !strings.Contains(p.body, text) {
		t.Fatalf("want a %d page with %q, got %d %s\n%.800s", status, text, p.status, p.url, p.body)
	}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// confirmStepUp presses the button of the gateway's step-up page ("log in
// again, more strongly") that p is, and returns where that leads.
func confirmStepUp(t *testing.T, b *http.Client, g *gw, p page) page {
	t.Helper()
	u, _ := url.Parse(p.url)
	m := csrfRE.FindStringSubmatch(p.body)
	if u.Path != "/.overstap/stepup" || m == nil {
		t.Fatalf("not the step-up page: %d %s\n%.500s", p.status, p.url, p.body)
	}
	resp, err := b.PostForm(g.url+"/.overstap/stepup", url.Values{"csrf": {m[1]}, "return_to": {u.Query().Get("return_to")}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return page{status: resp.StatusCode, url: resp.Request.URL.String(), body: string(body)}
}

// logout posts the gateway's logout form.
func logout(t *testing.T, b *http.Client, g *gw) page {
	t.Helper()
	form := get(t, b, g.url+"/.overstap/logout")
	m := csrfRE.FindStringSubmatch(form.body)
	if m == nil {
		t.Fatalf("no csrf field on the logout page: %.500s", form.body)
	}
	resp, err := b.PostForm(g.url+"/.overstap/logout", url.Values{"csrf": {m[1]}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, url: resp.Request.URL.String(), body: string(body)}
}

// citizen returns a persona with a synthetic national number.
func citizen(t *testing.T, sub string, seq int, claims map[string]any) (hydratest.Persona, nrn.Number) {
	n, err := nrn.Synthetic(time.Date(1985, 7, 30, 0, 0, 0, 0, time.UTC), seq%2 == 1, seq)
	if err != nil {
		t.Fatal(err)
	}
	c := map[string]any{"rrn": n.Digits()}
	for k, v := range claims {
		c[k] = v
	}
	return hydratest.Persona{Subject: sub, Claims: c}, n
}

// lastLogin is the last login request Hydra's login handler saw.
// lowCitizen makes Hydra authenticate a citizen (subject sub, synthetic
// number seq) at the low level from now on.
func (s *suite) lowCitizen(t *testing.T, sub string, seq int) {
	p, _ := citizen(t, sub, seq, nil)
	p.ACR = acrLow
	s.h.SetPersona(p)
}

func (s *suite) lastLogin(t *testing.T) hydratest.LoginSeen {
	t.Helper()
	l := s.h.Logins()
	if len(l) == 0 {
		t.Fatal("Hydra saw no login")
	}
	return l[len(l)-1]
}

// TestHydra is the interop suite against Ory Hydra v2.3.0 as a generic
// provider (a broker such as Keycloak or LemonLDAP::NG): each scenario is
// a subtest with its own gateway and client.
func TestHydra(t *testing.T) {
	s := newSuite(t)

	t.Run("login to a protected route", func(t *testing.T) {
		g := s.startGateway(t, gwOpts{provider: brokerLevels})
		p, n := citizen(t, "broker-sub-1", 901, map[string]any{"given_name": "Zoë", "family_name": "Françoise-Noël"})
		p.ACR = acrLow
		s.h.SetPersona(p)
		b := browser()
		got := appSaw(t, get(t, b, g.url+"/dossier"))
		if got.Account != n.Digits() || got.Level != "low" || got.Path != "/dossier" {
			t.Errorf("app saw %+v", got)
		}
		// The name: given + family name, percent-encoded UTF-8 in the header.
		if got.Name != "Zo%C3%AB%20Fran%C3%A7oise-No%C3%ABl" {
			t.Errorf("name header %q", got.Name)
		}
		if acr := s.lastLogin(t).ACRValues; len(acr) != 1 || acr[0] != acrLow {
			t.Errorf("acr_values sent %v, want [%s] (the app's minimum, low)", acr, acrLow)
		}
		// The name claim wins over given + family name; Arabic and CJK
		// arrive intact, NFC.
		for _, name := range []string{"محمد العلوي", "王小明", "Rene\u0301e D'Hondt"} {
			p, _ := citizen(t, "broker-sub-1b", 901, map[string]any{"name": name, "given_name": "x", "family_name": "y"})
			p.ACR = acrLow
			s.h.SetPersona(p)
			got := appSaw(t, get(t, browser(), g.url+"/dossier"))
			want := strings.ReplaceAll(name, "e\u0301", "\u00e9")
			if d, err := url.PathUnescape(got.Name); err != nil || d != want {
				t.Errorf("name %q reached the app as %q (%q)", name, got.Name, d)
			}
		}
		s.h.SetPersona(p)
		// The session holds: no new login at Hydra.
		before := len(s.h.Logins())
		appSaw(t, get(t, b, g.url+"/dossier/2"))
		if len(s.h.Logins()) != before {
			t.Error("a second request logged in again")
		}
	})

	t.Run("generic provider without a level table counts as low", func(t *testing.T) {
		g := s.startGateway(t, gwOpts{provider: "\n    nrn_claim: rrn"})
		p, n := citizen(t, "broker-sub-2", 903, nil)
		p.ACR = "whatever-the-broker-says"
		s.h.SetPersona(p)
		b := browser()
		got := appSaw(t, get(t, b, g.url+"/dossier"))
		if got.Account != n.Digits() || got.Level != "low" {
			t.Errorf("app saw %+v", got)
		}
		if acr := s.lastLogin(t).ACRValues; len(acr) != 0 {
			t.Errorf("acr_values %v sent without a level table", acr)
		}
		// A route that needs more is refused with a clear page, without
		// sending the citizen to a login that can only fail.
		before := len(s.h.Logins())
		refused(t, confirmStepUp(t, b, g, get(t, b, g.url+"/iban")), http.StatusForbidden, "Stronger login needed")
		if len(s.h.Logins()) != before {
			t.Error("the citizen was sent to the provider for a level it cannot assert")
		}
	})

	t.Run("level mapping and step-up with acr_values", func(t *testing.T) {
		g := s.startGateway(t, gwOpts{provider: brokerLevels})
		p, _ := citizen(t, "broker-sub-3", 905, nil)
		s.h.SetPersona(p) // acr: whatever the gateway asks for
		b := browser()
		if got := appSaw(t, get(t, b, g.url+"/dossier")); got.Level != "low" {
			t.Errorf("first login: level %q", got.Level)
		}
		// /iban needs a fresh substantial login: the gateway asks Hydra
		// for the broker's substantial value and forces a new login.
		got := appSaw(t, confirmStepUp(t, b, g, get(t, b, g.url+"/iban")))
		if got.Level != "substantial" || got.Path != "/iban" {
			t.Errorf("after step-up the app saw %+v", got)
		}
		l := s.lastLogin(t)
		if len(l.ACRValues) != 1 || l.ACRValues[0] != acrSubstantial || l.Skip {
			t.Errorf("step-up login at Hydra: acr_values %v, skip %v; want [%s] and a new authentication", l.ACRValues, l.Skip, acrSubstantial)
		}
		// Hydra (the broker) answers a lower level than asked: refused.
		p.ACR = acrLow
		s.h.SetPersona(p)
		refused(t, get(t, browser(), g.url+"/iban"), http.StatusForbidden, "Stronger login needed")
		// A value that is not in the table counts as no level at all.
		p.ACR = "urn:broker:loa:unknown"
		s.h.SetPersona(p)
		refused(t, get(t, browser(), g.url+"/dossier"), http.StatusForbidden, "Stronger login needed")
		// The strongest value reaches high.
		p.ACR = acrHigh
		s.h.SetPersona(p)
		if got := appSaw(t, get(t, browser(), g.url+"/iban")); got.Level != "high" {
			t.Errorf("high login: level %q", got.Level)
		}
	})

	t.Run("require_nrn both ways", func(t *testing.T) {
		// Default: a login without a national number is refused.
		g := s.startGateway(t, gwOpts{provider: brokerLevels})
		s.h.SetPersona(hydratest.Persona{Subject: "staff-17", ACR: acrLow, Claims: map[string]any{"name": "Staff Member"}})
		refused(t, get(t, browser(), g.url+"/dossier"), http.StatusForbidden, "No national register number received")
		// An invalid number is refused even so.
		s.h.SetPersona(hydratest.Persona{Subject: "staff-18", ACR: acrLow, Claims: map[string]any{"rrn": "85073003329"}})
		refused(t, get(t, browser(), g.url+"/dossier"), http.StatusBadRequest, "")

		// require_nrn: false with account_id: subject: the identity-only
		// app gets the provider's subject.
		g = s.startGateway(t, gwOpts{provider: brokerLevels + "\n    require_nrn: false", gateway: "\n  account_id: subject",
			headers: "{account: X-Account, name: X-Name, level: X-Level, nrn: X-Nrn}"})
		s.h.SetPersona(hydratest.Persona{Subject: "staff-17", ACR: acrSubstantial, Claims: map[string]any{"name": "Staff Member"}})
		got := appSaw(t, get(t, browser(), g.url+"/dossier"))
		if got.Account != "staff-17" || got.NRN != "" || got.Level != "substantial" {
			t.Errorf("identity-only app saw %+v", got)
		}
		// A number, when the provider sends one, is still checked and
		// passed on where the app asks for it; the account stays the subject.
		p, n := citizen(t, "staff-19", 907, nil)
		p.ACR = acrLow
		s.h.SetPersona(p)
		got = appSaw(t, get(t, browser(), g.url+"/dossier"))
		if got.Account != "staff-19" || got.NRN != n.Digits() {
			t.Errorf("app saw %+v", got)
		}
	})

	t.Run("back-channel logout from Hydra ends the gateway session", func(t *testing.T) {
		g := s.startGateway(t, gwOpts{provider: brokerLevels})
		s.lowCitizen(t, "broker-sub-4", 909)
		b, other := browser(), browser()
		appSaw(t, get(t, b, g.url+"/dossier"))
		sid := s.lastLogin(t).SessionID
		p2, _ := citizen(t, "broker-sub-5", 911, nil)
		p2.ACR = acrLow
		s.h.SetPersona(p2)
		appSaw(t, get(t, other, g.url+"/dossier"))
		if sid == "" || !hasSession(t, b, g) {
			t.Fatalf("no session to end (sid %q)", sid)
		}
		s.h.EndSession(sid) // Hydra posts a logout token to the gateway
		eventually(t, "the gateway session ends", func() bool { return !hasSession(t, b, g) })
		if !hasSession(t, other, g) {
			t.Error("another citizen's session ended too")
		}
	})

	t.Run("RP-initiated logout at Hydra", func(t *testing.T) {
		g := s.startGateway(t, gwOpts{provider: brokerLevels})
		s.lowCitizen(t, "broker-sub-6", 913)
		b := browser()
		appSaw(t, get(t, b, g.url+"/dossier"))
		before := s.h.Logouts()
		out := logout(t, b, g)
		if out.status != http.StatusOK || !strings.HasPrefix(out.url, g.url+"/.overstap/logged-out") {
			t.Fatalf("logout ended at %d %s", out.status, out.url)
		}
		if s.h.Logouts() != before+1 {
			t.Error("Hydra's logout was not reached")
		}
		if hasSession(t, b, g) {
			t.Error("the gateway session survived the logout")
		}
		// Hydra's session ended too: the next login is a new authentication.
		appSaw(t, get(t, b, g.url+"/dossier"))
		if s.lastLogin(t).Skip {
			t.Error("Hydra still remembered the citizen after the logout")
		}
	})

	t.Run("signing-key rotation mid-session", func(t *testing.T) {
		g := s.startGateway(t, gwOpts{provider: brokerLevels})
		s.lowCitizen(t, "broker-sub-7", 915)
		b := browser()
		appSaw(t, get(t, b, g.url+"/dossier"))
		sid := s.lastLogin(t).SessionID
		kid := s.h.RotateSigningKey() // the old key is deleted at Hydra
		// The gateway refetches a provider's keys at most every 30 s
		// (a flood of unknown kids must not hammer the IdP): move its
		// clock past that instead of waiting.
		g.clock.Advance(31 * time.Second)
		if !hasSession(t, b, g) {
			t.Fatal("the session did not survive the key rotation")
		}
		// A new login is signed with the new key and verifies, no restart.
		p2, n2 := citizen(t, "broker-sub-8", 917, nil)
		p2.ACR = acrLow
		s.h.SetPersona(p2)
		got := appSaw(t, get(t, browser(), g.url+"/dossier"))
		if got.Account != n2.Digits() {
			t.Errorf("login after rotation: app saw %+v", got)
		}
		if s.h.SigningKeyID() != kid {
			t.Error("Hydra does not sign with the new key")
		}
		// A logout token signed with the new key is accepted as well.
		s.h.EndSession(sid)
		eventually(t, "the first session ends by back-channel logout", func() bool { return !hasSession(t, b, g) })
	})

	for _, auth := range []string{"client_secret_basic", "client_secret_post", "private_key_jwt"} {
		t.Run("client authentication "+auth, func(t *testing.T) {
			// Hydra enforces the method the client is registered with.
			g := s.startGateway(t, gwOpts{auth: auth, provider: brokerLevels})
			p, n := citizen(t, "broker-auth-"+auth, 919, nil)
			p.ACR = acrLow
			s.h.SetPersona(p)
			if got := appSaw(t, get(t, browser(), g.url+"/dossier")); got.Account != n.Digits() {
				t.Errorf("app saw %+v", got)
			}
		})
	}

	t.Run("wrong audience or issuer refused", func(t *testing.T) {
		p, _ := citizen(t, "broker-sub-9", 921, nil)
		p.ACR = acrLow
		// An ID token Hydra issued to another client (gateway A).
		keepA := &tokenSwap{}
		a := s.startGateway(t, gwOpts{provider: brokerLevels, transport: keepA})
		s.h.SetPersona(p)
		appSaw(t, get(t, browser(), a.url+"/dossier"))
		if keepA.idToken() == "" {
			t.Fatal("no ID token captured")
		}
		swap := &tokenSwap{put: keepA.idToken()}
		g := s.startGateway(t, gwOpts{provider: brokerLevels, transport: swap})
		refused(t, get(t, browser(), g.url+"/dossier"), http.StatusBadRequest, "")
		if !strings.Contains(g.logs.String(), "expected audience") {
			t.Errorf("not refused for its audience:\n%s", g.logs.String())
		}

		// An ID token of another issuer: a second Hydra signing with the
		// same key, so only the issuer differs.
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		s.h.SetSigningKey(key, "shared")
		h2 := hydratest.Start(t)
		h2.SetSigningKey(key, "shared")
		s2 := &suite{t: t, h: h2, app: s.app}
		keepB := &tokenSwap{}
		other := s2.startGateway(t, gwOpts{provider: brokerLevels, transport: keepB})
		h2.SetPersona(p)
		appSaw(t, get(t, browser(), other.url+"/dossier"))
		swap = &tokenSwap{put: keepB.idToken()}
		g = s.startGateway(t, gwOpts{provider: brokerLevels, transport: swap})
		refused(t, get(t, browser(), g.url+"/dossier"), http.StatusBadRequest, "")
		if !strings.Contains(g.logs.String(), "issued by a different provider") {
			t.Errorf("not refused for its issuer:\n%s", g.logs.String())
		}

		// Discovery naming another issuer than configured: the provider
		// never becomes ready and logins get the unavailable page.
		g = s.startGateway(t, gwOpts{provider: brokerLevels + "\n    expected_issuer: http://127.0.0.1:1/", notReady: true})
		eventually(t, "discovery refused", func() bool { return strings.Contains(g.logs.String(), "differs from the expected") })
		refused(t, get(t, browser(), g.url+"/dossier"), http.StatusServiceUnavailable, "")
	})
}
