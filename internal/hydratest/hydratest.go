// Package hydratest runs Ory Hydra, an OpenID Certified provider, for
// interop tests: one Hydra process per test on free loopback ports with
// in-memory storage, and its login, consent and logout handler written
// here in Go against Hydra's admin API. The handler authenticates whoever
// the test says (a [Persona]: subject, acr, amr, ID token claims such as a
// synthetic national number and names) and records what Hydra asked.
//
// The binary is built from the pinned tools module in scripts/hydratool by
// `make services` (scripts/hydra.sh) and found at $OVERSTAP_HYDRA or in
// the tools cache. When it is missing a test fails with CI=true and skips
// locally, saying how to build it.
package hydratest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/overstap/overstap/internal/testsvc"
)

// Binary returns the path of the Hydra binary: $OVERSTAP_HYDRA, else
// "hydra" in the tools cache that scripts/hydra.sh fills
// ($OVERSTAP_TOOLS_DIR, else $XDG_CACHE_HOME/overstap or
// ~/.cache/overstap).
func Binary() string {
	if p := os.Getenv("OVERSTAP_HYDRA"); p != "" {
		return p
	}
	dir := os.Getenv("OVERSTAP_TOOLS_DIR")
	if dir == "" {
		base := os.Getenv("XDG_CACHE_HOME")
		if base == "" {
			home, _ := os.UserHomeDir()
			base = filepath.Join(home, ".cache")
		}
		dir = filepath.Join(base, "overstap")
	}
	return filepath.Join(dir, "hydra")
}

// Persona is who the login handler authenticates.
type Persona struct {
	// Subject is the sub Hydra puts in the tokens.
	Subject string
	// ACR is the acr of the login. Empty: the first of the acr_values the
	// relying party asked for (a citizen who completes what was asked);
	// empty too when none was asked.
	ACR string
	// AMR is the amr of the login.
	AMR []string
	// Claims go into the ID token and the userinfo answer (Hydra's consent
	// session): a national-number claim, names, ...
	Claims map[string]any
}

// LoginSeen is what Hydra's login request held, as the handler saw it.
type LoginSeen struct {
	ClientID  string
	ACRValues []string
	Skip      bool
	Scopes    []string
	SessionID string
	ACR       string // the acr the handler accepted the login with
}

// Hydra is one running Hydra with its login/consent/logout handler.
type Hydra struct {
	// Issuer is the issuer URL as Hydra writes it in discovery and tokens.
	Issuer string
	// Public and Admin are the base URLs of Hydra's public and admin APIs.
	Public, Admin string

	t      testing.TB
	client *http.Client

	mu      sync.Mutex
	persona Persona
	logins  []LoginSeen
	logouts int
}

// Start runs Hydra for t on free loopback ports and stops it when t ends.
func Start(t testing.TB) *Hydra {
	t.Helper()
	bin := Binary()
	if fi, err := os.Stat(bin); err != nil || fi.IsDir() {
		if err == nil {
			err = errors.New("is a directory")
		}
		testsvc.Unavailable(t, "Ory Hydra ("+bin+")", err, "make services (scripts/hydra.sh builds it once from scripts/hydratool)")
		return nil
	}
	h := &Hydra{t: t, client: &http.Client{Timeout: 10 * time.Second}}
	ui := httptest.NewServer(http.HandlerFunc(h.serveUI))
	t.Cleanup(ui.Close)

	pub, adm := testsvc.FreePort(t), testsvc.FreePort(t)
	h.Public = "http://127.0.0.1:" + strconv.Itoa(pub)
	h.Admin = "http://127.0.0.1:" + strconv.Itoa(adm)
	secret := make([]byte, 24)
	_, _ = rand.Read(secret)

	cmd := exec.Command(bin, "serve", "all", "--dev", "--sqa-opt-out")
	cmd.Env = append(os.Environ(),
		"DSN=memory",
		"SQA_OPT_OUT=true",
		"LOG_LEVEL=warn",
		"LOG_LEAK_SENSITIVE_VALUES=false",
		"SERVE_PUBLIC_HOST=127.0.0.1", "SERVE_PUBLIC_PORT="+strconv.Itoa(pub),
		"SERVE_ADMIN_HOST=127.0.0.1", "SERVE_ADMIN_PORT="+strconv.Itoa(adm),
		"URLS_SELF_ISSUER="+h.Public+"/",
		"URLS_SELF_PUBLIC="+h.Public+"/",
		"URLS_LOGIN="+ui.URL+"/login",
		"URLS_CONSENT="+ui.URL+"/consent",
		"URLS_LOGOUT="+ui.URL+"/logout",
		"URLS_POST_LOGOUT_REDIRECT="+ui.URL+"/logged-out",
		"SECRETS_SYSTEM="+hex.EncodeToString(secret),
		"STRATEGIES_ACCESS_TOKEN=opaque",
		"OIDC_SUBJECT_IDENTIFIERS_SUPPORTED_TYPES=public",
	)
	logs := &testsvc.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("hydratest: starting %s: %v", bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("hydratest: Hydra log:\n%s", tail(logs.String(), 8<<10))
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := h.client.Get(h.Admin + "/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-exited:
			t.Fatalf("hydratest: Hydra exited before it was ready:\n%s", tail(logs.String(), 8<<10))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("hydratest: Hydra not ready after 60 s:\n%s", tail(logs.String(), 8<<10))
		}
	}
	// Hydra would generate its ID token key (RSA 4096) on the first
	// public request, which takes seconds on a loaded machine: give it a
	// 2048-bit key of ours first.
	h.SetSigningKey(newKey(t), "hydratest-1")
	var disc struct {
		Issuer string `json:"issuer"`
	}
	h.getJSON(h.Public+"/.well-known/openid-configuration", &disc)
	h.Issuer = disc.Issuer
	return h
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// SetPersona makes the next logins authenticate p.
func (h *Hydra) SetPersona(p Persona) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.persona = p
}

// Logins returns what the login requests held so far, oldest first.
func (h *Hydra) Logins() []LoginSeen {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]LoginSeen(nil), h.logins...)
}

// Logouts returns how many logout requests the handler accepted.
func (h *Hydra) Logouts() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.logouts
}

// Client is an OAuth 2.0 client registration at Hydra.
type Client struct {
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	Scope                  string // space-separated; "openid profile" when empty
	// AuthMethod is client_secret_basic (default), client_secret_post or
	// private_key_jwt.
	AuthMethod string
	// JWKS is the client's public key set (JSON) for private_key_jwt.
	JWKS json.RawMessage
	// BackChannelLogoutURI receives Hydra's logout tokens.
	BackChannelLogoutURI string
}

// Registered is a created client.
type Registered struct {
	ID, Secret string
}

// CreateClient registers c through the admin API.
func (h *Hydra) CreateClient(c Client) Registered {
	h.t.Helper()
	if c.Scope == "" {
		c.Scope = "openid profile"
	}
	if c.AuthMethod == "" {
		c.AuthMethod = "client_secret_basic"
	}
	body := map[string]any{
		"redirect_uris":              c.RedirectURIs,
		"post_logout_redirect_uris":  c.PostLogoutRedirectURIs,
		"grant_types":                []string{"authorization_code"},
		"response_types":             []string{"code"},
		"scope":                      c.Scope,
		"token_endpoint_auth_method": c.AuthMethod,
	}
	if c.AuthMethod == "private_key_jwt" {
		body["jwks"] = c.JWKS
		body["token_endpoint_auth_signing_alg"] = "RS256"
	}
	if c.BackChannelLogoutURI != "" {
		body["backchannel_logout_uri"] = c.BackChannelLogoutURI
		body["backchannel_logout_session_required"] = true
	}
	var out struct {
		ID     string `json:"client_id"`
		Secret string `json:"client_secret"`
	}
	h.call(http.MethodPost, "/admin/clients", body, http.StatusCreated, &out)
	return Registered{ID: out.ID, Secret: out.Secret}
}

// SigningKeyID returns the kid Hydra signs ID tokens with now.
func (h *Hydra) SigningKeyID() string {
	h.t.Helper()
	var set struct {
		Keys []struct {
			KID string `json:"kid"`
		} `json:"keys"`
	}
	h.call(http.MethodGet, "/admin/keys/hydra.openid.id-token", nil, http.StatusOK, &set)
	if len(set.Keys) == 0 {
		h.t.Fatal("hydratest: Hydra has no ID token signing key")
	}
	return set.Keys[0].KID
}

// RotateSigningKey adds a new RS256 key to Hydra's ID token key set and
// deletes the old one, so every token from now on is signed by a key the
// relying party has never seen. It returns the new kid.
func (h *Hydra) RotateSigningKey() string {
	h.t.Helper()
	old := h.SigningKeyID()
	kid := "rotated-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	jwk := jose.JSONWebKey{Key: newKey(h.t), KeyID: kid, Algorithm: "RS256", Use: "sig"}
	h.call(http.MethodPut, "/admin/keys/hydra.openid.id-token/"+url.PathEscape(kid), jwk, http.StatusOK, nil)
	h.call(http.MethodDelete, "/admin/keys/hydra.openid.id-token/"+url.PathEscape(old), nil, http.StatusNoContent, nil)
	if got := h.SigningKeyID(); got != kid {
		h.t.Fatalf("hydratest: after rotation Hydra signs with %q, want %q", got, kid)
	}
	return kid
}

func newKey(t testing.TB) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("hydratest: %v", err)
	}
	return k
}

// SetSigningKey makes key (RS256, kid) Hydra's only ID token signing key,
// so two Hydras can sign with the same key (a token of one then differs
// from the other's only by its issuer).
func (h *Hydra) SetSigningKey(key *rsa.PrivateKey, kid string) {
	h.t.Helper()
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key, KeyID: kid, Algorithm: "RS256", Use: "sig"}}}
	h.call(http.MethodPut, "/admin/keys/hydra.openid.id-token", set, http.StatusOK, nil)
	if got := h.SigningKeyID(); got != kid {
		h.t.Fatalf("hydratest: Hydra signs with %q, want %q", got, kid)
	}
}

// EndSession ends Hydra's login session sid from the admin side (the IdP
// logs the citizen out, e.g. from another application): Hydra then sends
// a back-channel logout token to every client of that session.
func (h *Hydra) EndSession(sid string) {
	h.t.Helper()
	h.call(http.MethodDelete, "/admin/oauth2/auth/sessions/login?sid="+url.QueryEscape(sid), nil, http.StatusNoContent, nil)
}

// serveUI is Hydra's login, consent and logout UI.
func (h *Hydra) serveUI(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var redirect string
	var err error
	switch r.URL.Path {
	case "/login":
		redirect, err = h.login(q.Get("login_challenge"))
	case "/consent":
		redirect, err = h.consent(q.Get("consent_challenge"))
	case "/logout":
		redirect, err = h.logout(q.Get("logout_challenge"))
	case "/logged-out":
		_, _ = io.WriteString(w, "logged out at Hydra")
		return
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, redirect, http.StatusFound)
}

type redirectTo struct {
	RedirectTo string `json:"redirect_to"`
}

func (h *Hydra) login(challenge string) (string, error) {
	var req struct {
		Skip      bool     `json:"skip"`
		Subject   string   `json:"subject"`
		Scopes    []string `json:"requested_scope"`
		SessionID string   `json:"session_id"`
		Client    struct {
			ID string `json:"client_id"`
		} `json:"client"`
		OIDC struct {
			ACRValues []string `json:"acr_values"`
		} `json:"oidc_context"`
	}
	q := "?login_challenge=" + url.QueryEscape(challenge)
	if err := h.do(http.MethodGet, "/admin/oauth2/auth/requests/login"+q, nil, http.StatusOK, &req); err != nil {
		return "", err
	}
	h.mu.Lock()
	p := h.persona
	acr := p.ACR
	if acr == "" && len(req.OIDC.ACRValues) > 0 {
		acr = req.OIDC.ACRValues[0]
	}
	h.logins = append(h.logins, LoginSeen{ClientID: req.Client.ID, ACRValues: req.OIDC.ACRValues, Skip: req.Skip,
		Scopes: req.Scopes, SessionID: req.SessionID, ACR: acr})
	h.mu.Unlock()
	subject := p.Subject
	if req.Skip {
		subject = req.Subject // Hydra requires the remembered subject
	}
	if subject == "" {
		return "", errors.New("hydratest: no persona set")
	}
	var out redirectTo
	err := h.do(http.MethodPut, "/admin/oauth2/auth/requests/login/accept"+q, map[string]any{
		"subject": subject, "acr": acr, "amr": p.AMR, "remember": true, "remember_for": 0,
	}, http.StatusOK, &out)
	return out.RedirectTo, err
}

func (h *Hydra) consent(challenge string) (string, error) {
	var req struct {
		Scopes   []string `json:"requested_scope"`
		Audience []string `json:"requested_access_token_audience"`
	}
	q := "?consent_challenge=" + url.QueryEscape(challenge)
	if err := h.do(http.MethodGet, "/admin/oauth2/auth/requests/consent"+q, nil, http.StatusOK, &req); err != nil {
		return "", err
	}
	h.mu.Lock()
	claims := h.persona.Claims
	h.mu.Unlock()
	if claims == nil {
		claims = map[string]any{}
	}
	var out redirectTo
	err := h.do(http.MethodPut, "/admin/oauth2/auth/requests/consent/accept"+q, map[string]any{
		"grant_scope": req.Scopes, "grant_access_token_audience": req.Audience, "remember": false,
		"session": map[string]any{"id_token": claims},
	}, http.StatusOK, &out)
	return out.RedirectTo, err
}

func (h *Hydra) logout(challenge string) (string, error) {
	var out redirectTo
	q := "?logout_challenge=" + url.QueryEscape(challenge)
	if err := h.do(http.MethodPut, "/admin/oauth2/auth/requests/logout/accept"+q, nil, http.StatusOK, &out); err != nil {
		return "", err
	}
	h.mu.Lock()
	h.logouts++
	h.mu.Unlock()
	return out.RedirectTo, nil
}

// call is do for the test goroutine: a failure ends the test.
func (h *Hydra) call(method, path string, body any, want int, out any) {
	h.t.Helper()
	if err := h.do(method, path, body, want, out); err != nil {
		h.t.Fatal(err)
	}
}

func (h *Hydra) getJSON(u string, out any) {
	h.t.Helper()
	resp, err := h.client.Get(u)
	if err != nil {
		h.t.Fatalf("hydratest: GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(out); err != nil {
		h.t.Fatalf("hydratest: GET %s: %v", u, err)
	}
}

// do calls Hydra's admin API.
func (h *Hydra) do(method, path string, body any, want int, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("hydratest: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, h.Admin+path, rd)
	if err != nil {
		return fmt.Errorf("hydratest: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return fmt.Errorf("hydratest: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != want {
		return fmt.Errorf("hydratest: %s %s: HTTP %d (want %d): %s", method, path, resp.StatusCode, want, bytes.TrimSpace(b))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("hydratest: %s %s: %w", method, path, err)
		}
	}
	return nil
}
