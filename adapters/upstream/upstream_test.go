package upstream

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/overstap/overstap/auth/identity"
	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/internal/config"
)

func ecPEM(t testing.TB) config.Secret {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := x509.MarshalPKCS8PrivateKey(k)
	return config.NewSecret(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: b}))
}

func rsaPEM(t testing.TB, bits int) config.Secret {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return config.NewSecret(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
}

// identityNames are every identity header name a client might try, in
// several spellings.
var identityNames = []string{
	"X-Overstap-Account", "x-overstap-account", "X-OVERSTAP-ACCOUNT", "X_Overstap_Account",
	"X-Overstap-Assertion", "X-Overstap-Anything", "X-Legacy-User", "x-legacy-user", "X_LEGACY_USER",
	"X-Legacy-Nrn", "X-Legacy-Name", "X-Legacy-Level",
	"X-Forwarded-User", "x-forwarded-user", "X_Forwarded_User", "X-Remote-User", "X_Remote_User",
	"x_remote_user", "Remote-User", "REMOTE_USER", "remote-user", "X-Auth-Request-User",
	"X-Auth-Request-Email", "x-auth-request-access-token", "X_AUTH_REQUEST_GROUPS",
	"X-Forwarded-Email", "X-Forwarded-Groups", "X-Pomerium-Jwt-Assertion", "X-Custom-Id",
	// The identity-header families of issue 15's attack: every one reached
	// the app before.
	"Remote-Email", "Remote-Groups", "Remote-Name", "Cf-Access-Authenticated-User-Email", "Cf-Access-Jwt-Assertion",
	"X-Amzn-Oidc-Identity", "X-Amzn-Oidc-Data", "x-amzn-oidc-accesstoken", "X-Goog-Authenticated-User-Email",
	"X-Goog-Authenticated-User-Id", "X-Goog-Iap-Jwt-Assertion", "Oidc-Claim-Sub", "OIDC_CLAIM_email", "OIDC_access_token",
	"X-Forwarded-Client-Cert", "Ssl-Client-Cert", "SSL_CLIENT_S_DN", "X-Ssl-Client-Cert", "X-Authenticated-User",
	"X-Authenticated-Userid", "X-Remote-User", "X-Remote-Email", "X-Pomerium-Claim-Email", "X-Ms-Client-Principal",
	"X-MS-CLIENT-PRINCIPAL-NAME", "X-Ms-Token-Aad-Id-Token", "Shib-Identity-Provider", "Mellon-NameID",
	"X-Authentik-Username", "X-Vouch-User", "X-Consumer-Username", "X-Userinfo", "X-Jwt-Assertion", "X-Webauth-User",
	"X-Client-Cert", "X-Arr-ClientCert", "X-User-Id", "X-Forwarded-Tls-Client-Cert", "X-Legacy-Extra",
}

// TestIdentityHeadersList: every entry is lower case, unique, has a
// source, and a prefix ends in '-'.
func TestIdentityHeadersList(t *testing.T) {
	seen := map[string]bool{}
	for _, h := range IdentityHeaders {
		if h.Name == "" || h.Name != strings.ToLower(h.Name) || strings.Contains(h.Name, "_") || h.Source == "" || seen[h.Name] {
			t.Errorf("bad entry %+v", h)
		}
		seen[h.Name] = true
	}
	if len(builtinStrip)+len(stripPrefixes) != len(IdentityHeaders) {
		t.Fatal("split lost entries")
	}
}

func TestStripHeadersProfile(t *testing.T) {
	p, err := New(Config{
		Headers:      HeaderNames{Account: "X-Legacy-User", NRN: "X-Legacy-NRN", Name: "X-Legacy-Name", Level: "X-Legacy-Level"},
		StripHeaders: []string{"X-Custom-Id", "X-Legacy-*"},
	}, "eloket", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range identityNames {
		t.Run(name, func(t *testing.T) {
			h := http.Header{}
			h[name] = []string{"attacker", "attacker2"} // raw key, as a lenient parser might keep it
			h.Add(name, "attacker3")                    // canonical key too
			h.Set("Accept", "text/html")
			h.Set("Authorization", "Basic abc") // not ours in the headers profile
			p.Strip(h)
			for k := range h {
				if foldName(k) == foldName(name) {
					t.Fatalf("%q survived as %q", name, k)
				}
			}
			if h.Get("Accept") == "" || h.Get("Authorization") == "" {
				t.Fatal("unrelated headers removed")
			}
		})
	}
}

func TestApplyHeaders(t *testing.T) {
	n, _ := nrn.Synthetic(time.Date(1985, 7, 30, 0, 0, 0, 0, time.UTC), true, 901)
	cases := []struct {
		name string
		cfg  Config
		want map[string]string
		none []string
	}{
		{"default account only", Config{}, map[string]string{"X-Overstap-Account": "acc-1"}, []string{"X-Legacy-Nrn"}},
		{"all", Config{Headers: HeaderNames{Account: "x-legacy-user", NRN: "X-Legacy-NRN", Name: "X-Name", Level: "X-Level"}},
			map[string]string{"X-Legacy-User": "acc-1", "X-Legacy-Nrn": n.Digits(), "X-Name": "Ren%C3%A9e%20Peeters", "X-Level": "high"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := New(c.cfg, "eloket", nil)
			if err != nil {
				t.Fatal(err)
			}
			h := http.Header{}
			if err := p.Apply(h, Identity{Account: "acc-1", Identity: identity.Identity{NRN: n, Name: "Renée Peeters", Level: identity.LevelHigh}}, time.Now()); err != nil {
				t.Fatal(err)
			}
			for k, v := range c.want {
				if got := h.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			for _, k := range c.none {
				if h.Get(k) != "" {
					t.Errorf("%s set", k)
				}
			}
		})
	}
	p, _ := New(Config{}, "eloket", nil)
	for _, bad := range []string{"", "a\r\nX-Evil: 1", "a\x00", "é"} {
		t.Run("reject "+bad, func(t *testing.T) {
			if err := p.Apply(http.Header{}, Identity{Account: bad}, time.Now()); err == nil {
				t.Fatal("want error")
			}
		})
	}
}

func TestAssertion(t *testing.T) {
	now := time.Now()
	for _, c := range []struct {
		name string
		key  config.Secret
		alg  jose.SignatureAlgorithm
	}{{"ES256", ecPEM(t), jose.ES256}, {"RS256", rsaPEM(t, 2048), jose.RS256}} {
		t.Run(c.name, func(t *testing.T) {
			old := ecPEM(t)
			s, err := NewSigner(SignerConfig{Issuer: "https://gw.example", Keys: []KeyConfig{{ID: "new", PrivateKey: c.key}, {ID: "old", PrivateKey: old}}})
			if err != nil {
				t.Fatal(err)
			}
			var set jose.JSONWebKeySet
			if err := json.Unmarshal(s.JWKS(), &set); err != nil {
				t.Fatal(err)
			}
			if len(set.Keys) != 2 || set.Keys[0].KeyID != "new" || set.Keys[1].KeyID != "old" || !set.Keys[0].IsPublic() {
				t.Fatalf("jwks: %s", s.JWKS())
			}
			if strings.Contains(string(s.JWKS()), `"d"`) {
				t.Fatal("private part published")
			}
			p, err := New(Config{Profile: ProfileAssertion, AssertionHeader: "Authorization", AssertionLifetime: 61 * time.Second}, "eloket", s)
			if err == nil {
				t.Fatal("lifetime above 60s must be refused")
			}
			p, err = New(Config{Profile: ProfileAssertion, AssertionHeader: "Authorization", AssertionNRN: true}, "eloket", s)
			if err != nil {
				t.Fatal(err)
			}
			h := http.Header{"Authorization": {"Bearer forged"}}
			p.Strip(h)
			if h.Get("Authorization") != "" {
				t.Fatal("client Authorization kept")
			}
			n, _ := nrn.Synthetic(time.Date(1990, 1, 2, 0, 0, 0, 0, time.UTC), false, 902)
			if err := p.Apply(h, Identity{Account: "acc-7", Identity: identity.Identity{NRN: n, Level: identity.LevelHigh}}, now); err != nil {
				t.Fatal(err)
			}
			raw := strings.TrimPrefix(h.Get("Authorization"), "Bearer ")
			tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{c.alg})
			if err != nil {
				t.Fatal(err)
			}
			if tok.Headers[0].KeyID != "new" {
				t.Fatalf("kid %q", tok.Headers[0].KeyID)
			}
			keys := set.Key("new")
			var cl Claims
			if err := tok.Claims(keys[0].Key, &cl); err != nil {
				t.Fatal(err)
			}
			if err := cl.ValidateWithLeeway(jwt.Expected{Issuer: "https://gw.example", AnyAudience: jwt.Audience{"eloket"}, Time: now}, 0); err != nil {
				t.Fatal(err)
			}
			if cl.Subject != "acc-7" || cl.ID == "" || cl.NRN != n.Digits() || cl.Level != "high" {
				t.Fatalf("claims %+v", cl)
			}
			if life := cl.Expiry.Time().Sub(cl.IssuedAt.Time()); life > MaxLifetime || life <= 0 {
				t.Fatalf("lifetime %v", life)
			}
			// Expired after 60 s, and wrong audience refused.
			if err := cl.ValidateWithLeeway(jwt.Expected{Time: now.Add(61 * time.Second)}, 0); err == nil {
				t.Fatal("expired assertion accepted")
			}
			if err := cl.ValidateWithLeeway(jwt.Expected{AnyAudience: jwt.Audience{"other"}, Time: now}, 0); err == nil {
				t.Fatal("wrong audience accepted")
			}
			// jti is fresh every time.
			h2 := http.Header{}
			_ = p.Apply(h2, Identity{Account: "acc-7"}, now)
			if h2.Get("Authorization") == h.Get("Authorization") {
				t.Fatal("same token twice")
			}
		})
	}
}

func TestSignerConfigErrors(t *testing.T) {
	_, err := NewSigner(SignerConfig{Issuer: "nope", Keys: []KeyConfig{
		{ID: "a", PrivateKey: config.NewSecret([]byte("garbage"))},
		{ID: "a", PrivateKey: rsaPEM(t, 1024)},
	}})
	for _, want := range []string{"issuer:", "keys[0].private_key", "keys[1].id", "keys[1].private_key: RSA keys must have at least 2048"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
	if _, err := New(Config{Profile: ProfileAssertion}, "x", nil); err == nil {
		t.Fatal("assertion without signer accepted")
	}
	if _, err := New(Config{Profile: "cookies", Headers: HeaderNames{Account: "Bad Name"}}, "x", nil); err == nil ||
		!strings.Contains(err.Error(), "profile:") || !strings.Contains(err.Error(), "headers.account:") {
		t.Fatalf("got %v", err)
	}
}

func BenchmarkStripApply(b *testing.B) {
	p, _ := New(Config{Headers: HeaderNames{Account: "X-Legacy-User"}}, "eloket", nil)
	h := http.Header{"Accept": {"*/*"}, "User-Agent": {"x"}, "Cookie": {"a=b"}, "Accept-Encoding": {"gzip"}, "X-Remote-User": {"x"}}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		p.Strip(h)
		_ = p.Apply(h, Identity{Account: "acc-1"}, now)
	}
}

// TestRegistration: a registering identity carries the NRN and the
// registration marker, never an account id, and only where the profile
// propagates the NRN.
func TestRegistration(t *testing.T) {
	n, _ := nrn.Synthetic(time.Date(1990, 1, 2, 0, 0, 0, 0, time.UTC), true, 931)
	id := Identity{Identity: identity.Identity{NRN: n, Level: identity.LevelHigh}, Registering: true}
	s, err := NewSigner(SignerConfig{Issuer: "https://gw.example", Keys: []KeyConfig{{ID: "k", PrivateKey: ecPEM(t)}}})
	if err != nil {
		t.Fatal(err)
	}
	withNRN, _ := New(Config{Profile: ProfileAssertion, AssertionNRN: true}, "eloket", s)
	h := http.Header{}
	if err := withNRN.Apply(h, id, time.Now()); err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.ParseSigned(h.Get("X-Overstap-Assertion"), []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	var c Claims
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
		t.Fatal(err)
	}
	if !c.Registration || c.Subject != "" || c.NRN != n.Digits() {
		t.Fatalf("claims %+v", c)
	}
	without, _ := New(Config{Profile: ProfileAssertion}, "eloket", s)
	if err := without.Apply(http.Header{}, id, time.Now()); !errors.Is(err, ErrRegistration) {
		t.Fatalf("assertion without NRN: %v", err)
	}
	headers, _ := New(Config{Headers: HeaderNames{NRN: "X-Nrn"}}, "eloket", nil)
	h = http.Header{}
	if err := headers.Apply(h, id, time.Now()); err != nil || h.Get(RegistrationHeader) != "1" || h.Get("X-Nrn") != n.Digits() || h.Get("X-Overstap-Account") != "" {
		t.Fatalf("headers: %v %v", err, h)
	}
	plain, _ := New(Config{}, "eloket", nil)
	if err := plain.Apply(http.Header{}, id, time.Now()); !errors.Is(err, ErrRegistration) {
		t.Fatalf("headers without NRN: %v", err)
	}
	if err := headers.Apply(http.Header{}, Identity{Identity: identity.Identity{NRN: n}, Account: "a", Registering: true}, time.Now()); !errors.Is(err, ErrRegistration) {
		t.Fatal("registering with an account id accepted")
	}
	// Clients cannot send the marker.
	h = http.Header{RegistrationHeader: {"1"}}
	headers.Strip(h)
	if h.Get(RegistrationHeader) != "" {
		t.Fatal("client registration marker kept")
	}
}

// TestStripperPrefixesPerApp: two apps' own strip_headers prefixes stay
// each app's own (they once shared the built-in list's spare capacity, so
// the second app's prefix replaced the first's).
func TestStripperPrefixesPerApp(t *testing.T) {
	a := newStripper("X-Legacy-A-*")
	b := newStripper("X-Legacy-B-*")
	if !a.matches("X-Legacy-A-User") || a.matches("X-Legacy-B-User") {
		t.Error("app a: its own prefix lost or b's leaked in")
	}
	if !b.matches("X-Legacy-B-User") || b.matches("X-Legacy-A-User") {
		t.Error("app b: its own prefix lost or a's leaked in")
	}
	if a.matches("X-Harmless") || !a.matches("Remote-Email") {
		t.Error("built-in list changed")
	}
}
