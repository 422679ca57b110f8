package oidc

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/overstap/overstap/auth/devidp"
	"github.com/overstap/overstap/internal/config"
)

var devidpKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// startDevIdP runs the project's dev IdP (all profiles) on loopback. Its
// HTTP client trusts the RP test servers' certificate (for back-channel
// logout posts).
func startDevIdP(t *testing.T) *devidp.Server {
	ts := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(ts.Close)
	certs := httptest.NewTLSServer(http.NotFoundHandler())
	hc := certs.Client()
	certs.Close()
	hc.Timeout = 5 * time.Second
	idp, err := devidp.New(devidp.Config{IssuerBase: ts.URL, SigningRSAKey: devidpKey(), HTTPClient: hc}, nil)
	if err != nil {
		t.Fatalf("devidp.New: %v", err)
	}
	ts.Config.Handler = idp.Handler()
	return idp
}

// devRP is one relying party registered at the dev IdP for one profile.
type devRP struct {
	*rpServer
	idp *devidp.Server
}

func newDevRP(t *testing.T, idp *devidp.Server, profile devidp.Profile, ourProfile string, mod func(*devidp.ClientConfig)) *devRP {
	testKeys(t)
	rp := newRPServer(t)
	secret := "dev-secret-" + string(profile)
	cfg := ProviderConfig{
		Name: ourProfile, Profile: ourProfile, Issuer: idp.Issuer(profile), ClientID: "rp-" + string(profile),
		ClientSecret: config.NewSecret([]byte(secret)), RedirectURL: rp.srv.URL + "/auth/callback",
		PostLogoutRedirectURL: rp.srv.URL + "/logged-out",
	}
	cc := devidp.ClientConfig{
		ID: cfg.ClientID, Profile: profile, AuthMethod: "client_secret_basic", Secret: cfg.ClientSecret,
		RedirectURIs: []string{cfg.RedirectURL}, PostLogoutRedirectURIs: []string{cfg.PostLogoutRedirectURL},
		BackchannelLogoutURI: rp.srv.URL + "/backchannel",
	}
	if ourProfile == "itsme" {
		cfg.PrivateKey, cfg.PrivateKeyID = pemOf(t, rpSigKey), "rp-sig"
		cfg.EncryptionKey, cfg.EncryptionKeyID = pemOf(t, rpEncKey), "rp-enc"
		cc.AuthMethod = "private_key_jwt"
	}
	if mod != nil {
		mod(&cc)
		cfg.ClientID = cc.ID
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	p, err := New(ctx, cfg, Deps{Flows: NewMemoryStore(nil, 0), RetryMin: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rp.p = p
	if ourProfile == "itsme" {
		var ks jose.JSONWebKeySet
		if err := json.Unmarshal(p.PublicJWKS(), &ks); err != nil || len(ks.Keys) != 2 {
			t.Fatalf("PublicJWKS: %v %d", err, len(ks.Keys))
		}
		cc.Keys = &ks
	}
	if err := idp.RegisterClient(cc); err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := p.WaitReady(wctx); err != nil {
		t.Fatal(err)
	}
	return &devRP{rpServer: rp, idp: idp}
}

// login plays the whole login in a cookie-jar browser: RP /login → dev IdP
// picker (answered with choice) → RP /auth/callback.
func (d *devRP) login(t *testing.T, c *http.Client, opts LoginOptions, choice devidp.Choice) (*Login, error) {
	t.Helper()
	d.mu.Lock()
	d.opts = opts
	d.mu.Unlock()
	resp, err := noRedirect(c).Get(d.srv.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	authURL := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || authURL == "" {
		t.Fatalf("RP /login: %d", resp.StatusCode)
	}
	cb, err := d.idp.BrowserLogin(context.Background(), c, authURL, choice)
	if err != nil && cb == nil {
		t.Fatalf("BrowserLogin: %v", err)
	}
	if !strings.HasPrefix(cb.String(), d.srv.URL+"/auth/callback?") {
		t.Fatalf("IdP sent the browser to %s", cb.Redacted())
	}
	resp, err = c.Get(cb.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, id, err := d.result()
	return id, err
}

func persona(t *testing.T, idp *devidp.Server, key string) devidp.Persona {
	for _, p := range idp.Personas() {
		if p.Key == key {
			return p
		}
	}
	t.Fatalf("no persona %q", key)
	return devidp.Persona{}
}

// TestIntegrationDevIdP is the whole login against the project's dev IdP in
// each profile (FAS-, itsme- and ACM-like), over real HTTP on loopback.
func TestIntegrationDevIdP(t *testing.T) {
	// zitadel's op logs through slog's default logger.
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.DiscardHandler))
	idp := startDevIdP(t)
	type tc struct {
		name      string
		opts      LoginOptions
		choice    devidp.Choice
		want      Kind // "" = success
		wantLevel string
	}
	profiles := []struct {
		idp   devidp.Profile
		ours  string
		mod   func(*devidp.ClientConfig)
		cases []tc
	}{
		{idp: devidp.ProfileFAS, ours: "fas", cases: []tc{
			{name: "eID Level500, 450 required", opts: LoginOptions{MinLevel: "urn:be:fedict:iam:fas:Level450"},
				choice: devidp.Choice{Persona: devidp.PersonaParentA, Level: "500"}, wantLevel: "urn:be:fedict:iam:fas:Level500"},
			{name: "Level200 when 450 required", opts: LoginOptions{MinLevel: "urn:be:fedict:iam:fas:Level450"},
				choice: devidp.Choice{Persona: devidp.PersonaParentA, Level: "200"}, want: KindLevelTooLow},
			{name: "Level100 never yields an NRN", choice: devidp.Choice{Persona: devidp.PersonaUnrelated, Level: "100"}, want: KindNoNRN},
			{name: "BIS number holder", choice: devidp.Choice{Persona: devidp.PersonaBIS, Level: "500"}, wantLevel: "urn:be:fedict:iam:fas:Level500"},
			{name: "cancelled", choice: devidp.Choice{Persona: devidp.PersonaParentA, Action: "cancel"}, want: KindAccessDenied},
		}},
		{idp: devidp.ProfileFAS, ours: "fas", mod: func(c *devidp.ClientConfig) { c.UserinfoSigned = true }, cases: []tc{
			{name: "userinfo as application/jwt", choice: devidp.Choice{Persona: devidp.PersonaParentB, Level: "450"}, wantLevel: "urn:be:fedict:iam:fas:Level450"},
		}},
		{idp: devidp.ProfileITSME, ours: "itsme", cases: []tc{
			{name: "advanced", opts: LoginOptions{MinLevel: "http://itsme.services/v2/claim/acr_advanced", UILocales: []string{"nl"}},
				choice: devidp.Choice{Persona: devidp.PersonaParentB, Level: "advanced"}, wantLevel: "http://itsme.services/v2/claim/acr_advanced"},
			{name: "basic when advanced required", opts: LoginOptions{MinLevel: "high"},
				choice: devidp.Choice{Persona: devidp.PersonaParentB, Level: "basic"}, want: KindLevelTooLow},
			{name: "foreign document", choice: devidp.Choice{Persona: devidp.PersonaForeign, Level: "basic"}, want: KindNoNRN},
			{name: "foreign document allowed", opts: LoginOptions{AllowNoNRN: true},
				choice: devidp.Choice{Persona: devidp.PersonaForeign, Level: "basic"}, wantLevel: "http://itsme.services/v2/claim/acr_basic"},
		}},
		{idp: devidp.ProfileACM, ours: "acmidm", cases: []tc{
			{name: "eid", opts: LoginOptions{MinLevel: "substantial"}, choice: devidp.Choice{Persona: devidp.PersonaAdult, Level: "eid"},
				wantLevel: "urn:be:vlaanderen:authmech:eidashigh"},
			{name: "csampassword when eidassubstantial required", opts: LoginOptions{MinLevel: "urn:be:vlaanderen:authmech:eidassubstantial"},
				choice: devidp.Choice{Persona: devidp.PersonaAdult, Level: "csampassword"}, want: KindLevelTooLow},
			{name: "csamselfreg never yields an NRN", choice: devidp.Choice{Persona: devidp.PersonaRoommate, Level: "csamselfreg"}, want: KindNoNRN},
			{name: "step-up with max_age and prompt=login", opts: LoginOptions{MinLevel: "high", MaxAge: time.Minute, Prompt: "login"},
				choice: devidp.Choice{Persona: devidp.PersonaAdult, Level: "itsme"}, wantLevel: "urn:be:vlaanderen:authmech:eidashigh"},
		}},
	}
	for _, pr := range profiles {
		name := string(pr.idp)
		if pr.mod != nil {
			name += "-variant"
		}
		t.Run(name, func(t *testing.T) {
			d := newDevRP(t, idp, pr.idp, pr.ours, pr.mod)
			for _, c := range pr.cases {
				t.Run(c.name, func(t *testing.T) {
					browser := d.browserClient(t)
					id, err := d.login(t, browser, c.opts, c.choice)
					if c.want != "" {
						if KindOf(err) != c.want {
							t.Fatalf("kind %q (%v), want %s", KindOf(err), err, c.want)
						}
						return
					}
					if err != nil {
						t.Fatalf("login failed: %v", err)
					}
					per := persona(t, idp, c.choice.Persona)
					if id.LevelName != c.wantLevel {
						t.Errorf("level = %q, want %q", id.LevelName, c.wantLevel)
					}
					if per.HasNRN() && !id.NRN.Equal(per.NRN) {
						t.Errorf("NRN = %s, want %s", id.NRN.Mask(), per.NRN.Mask())
					}
					if !per.HasNRN() && !id.NRN.IsZero() {
						t.Errorf("NRN for a persona without one")
					}
					if id.Subject != idp.Subject(pr.idp, per.Key) || id.Issuer != idp.Issuer(pr.idp) {
						t.Errorf("sub/iss = %q %q", id.Subject, id.Issuer)
					}
					if id.GivenName != per.GivenName {
						t.Errorf("given name = %q, want %q", id.GivenName, per.GivenName)
					}
				})
			}
		})
	}
	t.Run("back-channel and RP-initiated logout", func(t *testing.T) {
		d := newDevRP(t, idp, devidp.ProfileACM, "acmidm", func(c *devidp.ClientConfig) { c.ID = "rp-acm-logout" })
		browser := d.browserClient(t)
		id, err := d.login(t, browser, LoginOptions{}, devidp.Choice{Persona: devidp.PersonaParentA, Level: "eid"})
		if err != nil {
			t.Fatal(err)
		}
		// RP-initiated logout: the dev IdP ends its session and returns to us.
		lu, err := d.p.LogoutURL(id.IDToken, "", "bye")
		if err != nil {
			t.Fatal(err)
		}
		resp, err := browser.Get(lu)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Request.URL; got.Path != "/logged-out" || got.Query().Get("state") != "bye" {
			t.Errorf("after logout the browser is at %s", got.Redacted())
		}
		// Log in again, then the IdP logs the person out everywhere: the RP
		// receives and validates a back-channel logout token.
		id, err = d.login(t, browser, LoginOptions{}, devidp.Choice{Persona: devidp.PersonaParentA, Level: "eid"})
		if err != nil {
			t.Fatal(err)
		}
		if err := idp.LogoutPersona(context.Background(), devidp.ProfileACM, devidp.PersonaParentA); err != nil {
			t.Fatalf("LogoutPersona: %v", err)
		}
		d.mu.Lock()
		logouts := append([]*LogoutClaims(nil), d.logouts...)
		d.mu.Unlock()
		found := false
		for _, l := range logouts {
			if l.Issuer == id.Issuer && (l.SID != "" && l.SID == id.SID || l.SID == "" && l.Subject == id.Subject) {
				found = true
			}
		}
		if !found {
			t.Fatalf("no matching logout token among %d (want sid %q / sub %q)", len(logouts), id.SID, id.Subject)
		}
	})
}
