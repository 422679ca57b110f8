package devidp

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func TestConfigValidate(t *testing.T) {
	good := func() Config {
		return Config{Listen: "127.0.0.1:8081", IssuerBase: "http://127.0.0.1:8081", Clients: []ClientConfig{fasClient(false), itsmeClient(), acmClient()}}
	}
	sig, _ := rpKeys()
	privJWKS, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: sig, KeyID: "k", Use: "sig"}}})
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		want   []string // each must appear as the start of one error line
	}{
		{"good", func(*Config) {}, nil},
		{"no issuer", func(c *Config) { c.IssuerBase = "" }, []string{"issuer_base: required"}},
		{"public issuer", func(c *Config) { c.IssuerBase = "https://idp.example.be" }, []string{"issuer_base: the dev IdP is loopback only"}},
		{"issuer with path", func(c *Config) { c.IssuerBase = "http://127.0.0.1:8081/x" }, []string{"issuer_base: must have no path"}},
		{"listen on all interfaces", func(c *Config) { c.Listen = "0.0.0.0:8081" }, []string{"listen: the dev IdP listens on loopback only"}},
		{"listen without port", func(c *Config) { c.Listen = "127.0.0.1" }, []string{"listen: must be host:port"}},
		{"unknown profile", func(c *Config) { c.Profiles = []Profile{"fas", "csam"} }, []string{`profiles[1]: unknown profile "csam"`}},
		{"client of a disabled profile", func(c *Config) { c.Profiles = []Profile{"fas"} }, []string{"clients[1].profile: profile \"itsme\" is not enabled", "clients[2].profile"}},
		{"bad signing key", func(c *Config) { c.SigningKey = secret("not pem") }, []string{"signing_key: not a PEM block"}},
		{"caps", func(c *Config) { c.MaxAuthRequests = -1; c.MaxSessions = 2_000_000 }, []string{"max_auth_requests:", "max_sessions:"}},
		{"duplicate id", func(c *Config) { c.Clients[1].ID = "fas-rp" }, []string{`clients[1].id: duplicate client id "fas-rp"`}},
		{"fas with private_key_jwt", func(c *Config) { c.Clients[0].AuthMethod = "private_key_jwt"; c.Clients[0].Keys = rpPublicJWKS() }, []string{"clients[0].auth_method: profile fas accepts only"}},
		{"missing secret", func(c *Config) { c.Clients[2].Secret = secret("") }, []string{"clients[2].secret: required for client_secret_basic"}},
		{"unknown auth method", func(c *Config) { c.Clients[2].AuthMethod = "tls_client_auth" }, []string{`clients[2].auth_method: "tls_client_auth" is not one of`}},
		{"itsme without keys", func(c *Config) { c.Clients[1].Keys = nil }, []string{"clients[1].jwks: a public JWK set"}},
		{"itsme public client", func(c *Config) { c.Clients[1].AuthMethod = "none"; c.Clients[1].Keys = nil }, []string{"clients[1].auth_method: profile itsme encrypts"}},
		{"private key registered", func(c *Config) { c.Clients[1].Keys = nil; c.Clients[1].JWKS = string(privJWKS) }, []string{"clients[1].jwks: key 0 is a private key"}},
		{"jwks not json", func(c *Config) { c.Clients[1].Keys = nil; c.Clients[1].JWKS = "{" }, []string{"clients[1].jwks: not a JWK set"}},
		{"public redirect", func(c *Config) { c.Clients[0].RedirectURIs = []string{"https://eloket.example.be/cb"} }, []string{"clients[0].redirect_uris[0]: the dev IdP is loopback only"}},
		{"no redirect", func(c *Config) { c.Clients[0].RedirectURIs = nil }, []string{"clients[0].redirect_uris: at least one"}},
		{"fragment redirect", func(c *Config) { c.Clients[0].RedirectURIs = []string{"http://127.0.0.1/cb#x"} }, []string{"clients[0].redirect_uris[0]: must have no user info and no fragment"}},
		{"public backchannel", func(c *Config) { c.Clients[0].BackchannelLogoutURI = "http://10.0.0.1/bcl" }, []string{"clients[0].backchannel_logout_uri: the dev IdP is loopback only"}},
		{"userinfo_signed on acm", func(c *Config) { c.Clients[2].UserinfoSigned = true }, []string{"clients[2].userinfo_signed:"}},
		{"bad id", func(c *Config) { c.Clients[0].ID = "a b" }, []string{"clients[0].id: required"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good()
			tc.mutate(&c)
			err := c.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			lines := strings.Split(err.Error(), "\n")
			for _, w := range tc.want {
				found := false
				for _, l := range lines {
					if strings.HasPrefix(l, w) {
						found = true
					}
				}
				if !found {
					t.Errorf("no error line starting %q in:\n%v", w, err)
				}
			}
			if _, err := New(c, nil); err == nil {
				t.Error("New accepted the invalid config")
			}
		})
	}
}

func TestParseConfig(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "key.pem")
	der := x509.MarshalPKCS1PrivateKey(testKey())
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, yaml, wantErr string
	}{
		{"ok", `
listen: 127.0.0.1:8081
issuer_base: http://127.0.0.1:8081
signing_key: file:` + keyFile + `
profiles: [fas, acm]
session_lifetime: 2h
max_auth_requests: 50
authorization_response_iss: true
clients:
  - id: rp
    profile: fas
    auth_method: client_secret_basic
    secret: insecure-literal:x
    redirect_uris: [http://127.0.0.1:8080/cb]
`, ""},
		{"unknown key", "issuer_base: http://127.0.0.1:1\nlisten_addr: x\n", "field listen_addr not found"},
		{"literal secret refused", `
issuer_base: http://127.0.0.1:1
clients:
  - id: rp
    profile: fas
    auth_method: client_secret_basic
    secret: plain
    redirect_uris: [http://127.0.0.1:8080/cb]
`, "a secret must be a reference"},
		{"invalid", "issuer_base: http://example.org\n", "issuer_base: the dev IdP is loopback only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseConfig([]byte(tc.yaml))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(c.Clients) != 1 || c.Clients[0].Secret.Value() != "x" || len(c.Profiles) != 2 ||
					c.SessionLifetime != 2*time.Hour || c.MaxAuthRequests != 50 || !c.AuthorizationResponseIss {
					t.Errorf("decoded %+v", c)
				}
				idp, err := New(c, nil)
				if err != nil {
					t.Fatal(err)
				}
				if got := idp.PublicJWKS().Keys[0].Key.(*rsa.PublicKey); !got.Equal(&testKey().PublicKey) {
					t.Error("signing key from file not used")
				}
				if idp.Issuer(ProfileITSME) != "" || idp.Issuer(ProfileACM) != "http://127.0.0.1:8081/acm/op" {
					t.Error("profiles not as configured")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("got %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestBoundedState(t *testing.T) {
	e := startIdP(t, func(c *Config) {
		c.Clients = []ClientConfig{fasClient(false)}
		c.MaxAuthRequests = 5
		c.MaxSessions = 3
	})
	_, ch := pkce()
	au := authURL(e.idp.Issuer(ProfileFAS)+"/authorize", "fas-rp", testRedirect, "openid", "s", "n", ch, nil)
	hc := noFollow(jarClient(t))
	for range 20 {
		get(t, hc, au)
	}
	ps := e.idp.profiles[ProfileFAS]
	ps.mu.Lock()
	n := len(ps.requests)
	ps.mu.Unlock()
	if n > 5 {
		t.Errorf("%d pending requests, cap 5", n)
	}
	for range 6 {
		_, _ = fasLogin(t, e, jarClient(t), "fas-rp", PersonaUnrelated)
	}
	ps.mu.Lock()
	ns, nt := len(ps.sessions), len(ps.tokens)
	ps.mu.Unlock()
	if ns > 3 || nt > 3 {
		t.Errorf("%d sessions, %d tokens; cap 3", ns, nt)
	}
}

// TestExampleConfig keeps configs/devidp.yaml valid.
func TestExampleConfig(t *testing.T) {
	b, err := os.ReadFile("../../configs/devidp.yaml")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("OVERSTAP_DEVIDP_ACM_SECRET", "example")
	c, err := ParseConfig(b)
	if err != nil {
		t.Fatalf("configs/devidp.yaml: %v", err)
	}
	if len(c.Clients) != 3 || c.Listen == "" {
		t.Errorf("decoded %+v", c)
	}
	if _, err := New(c, nil); err != nil {
		t.Fatal(err)
	}
}
