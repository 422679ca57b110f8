package integration

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/overstap/overstap/adapters/upstream"
	"github.com/overstap/overstap/auth/devidp"
	"github.com/overstap/overstap/auth/gateway"
	"github.com/overstap/overstap/internal/config"
)

// TestDisplayNameReachesTheApp: the display name the provider asserted
// travels, as part of the one identity value, from the relying party
// through the Redis session store to the app: in the headers profile's
// identity.headers.name (percent-encoded UTF-8) and in the assertion's
// "name" claim, next to the eIDAS level.
func TestDisplayNameReachesTheApp(t *testing.T) {
	r := setupRedis(t)
	sh := newShared(t, r.Client, r.Prefix)
	pa := persona(t, sh, devidp.PersonaParentA)
	if pa.Name() == " " || pa.GivenName == "" {
		t.Fatal("persona without a name")
	}

	t.Run("headers", func(t *testing.T) {
		g := newGateway(t, sh, redisStore(t, sh, r.Client), func(c *gateway.Config) {
			c.Apps[0].Identity.Headers.Name = "X-Legacy-Name"
		})
		c := browser(t)
		if resp := g.login(t, sh, c, "/dossier", devidp.Choice{Persona: pa.Key, Level: "400"}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("callback: %d", resp.StatusCode)
		}
		code, saw := upstreamSaw(t, c, g.url+"/dossier", nil)
		if code != 200 {
			t.Fatalf("upstream: %d", code)
		}
		name, err := url.PathUnescape(saw.Get("X-Legacy-Name"))
		if err != nil || name != pa.Name() {
			t.Fatalf("app got name %q (%v), want %q", saw.Get("X-Legacy-Name"), err, pa.Name())
		}
		if saw.Get("X-Legacy-Level") != "substantial" || saw.Get("X-Legacy-User") != pa.NRN.Digits() {
			t.Fatalf("app got %v", saw)
		}
	})

	t.Run("assertion", func(t *testing.T) {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		g := newGateway(t, sh, redisStore(t, sh, r.Client), func(c *gateway.Config) {
			c.Apps[0].Identity = upstream.Config{Profile: upstream.ProfileAssertion}
			c.Assertion = upstream.SignerConfig{Keys: []upstream.KeyConfig{{ID: "k1",
				PrivateKey: config.NewSecret(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))}}}
		})
		c := browser(t)
		if resp := g.login(t, sh, c, "/dossier", devidp.Choice{Persona: pa.Key, Level: "500"}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("callback: %d", resp.StatusCode)
		}
		code, saw := upstreamSaw(t, c, g.url+"/dossier", nil)
		if code != 200 {
			t.Fatalf("upstream: %d", code)
		}
		// Verify with the key set the gateway publishes, as an app does.
		resp, err := http.Get(g.url + upstream.JWKSPath)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(body, &set); err != nil {
			t.Fatal(err)
		}
		tok, err := jwt.ParseSigned(saw.Get("X-Overstap-Assertion"), []jose.SignatureAlgorithm{jose.ES256})
		if err != nil {
			t.Fatal(err)
		}
		var cl upstream.Claims
		if err := tok.Claims(set.Key("k1")[0].Key, &cl); err != nil {
			t.Fatal(err)
		}
		if err := cl.ValidateWithLeeway(jwt.Expected{AnyAudience: jwt.Audience{"eloket"}, Time: time.Now()}, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		if cl.Name != pa.Name() || cl.Level != "high" || cl.Subject != pa.NRN.Digits() {
			t.Fatalf("assertion name %q level %q sub ok %v; want %q high", cl.Name, cl.Level, cl.Subject == pa.NRN.Digits(), pa.Name())
		}
	})
}
