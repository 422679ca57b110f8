// Package devidptest starts the development OpenID provider for tests of
// relying parties: a loopback httptest server, a shared signing key (RSA
// generation is slow), and a cookie-jar browser.
//
//	idp := devidptest.Start(t, func(c *devidp.Config) {
//		c.Clients = []devidp.ClientConfig{{ID: "rp", Profile: devidp.ProfileFAS, ...}}
//	})
//	back, err := idp.BrowserLogin(ctx, devidptest.Browser(t), authURL,
//		devidp.Choice{Persona: devidp.PersonaParentA, Level: "450"})
//	// back is the RP's redirect_uri with code and state.
package devidptest

import (
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/overstap/overstap/auth/devidp"
)

var sharedKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

// IdP is a running dev IdP.
type IdP struct {
	*devidp.Server
	// URL is the issuer base ("http://127.0.0.1:port").
	URL string
	// HTTP is the underlying test server (closed by t.Cleanup).
	HTTP *httptest.Server
}

// Start runs a dev IdP on loopback until the test ends. mutate may add
// clients and change settings; IssuerBase and the signing key are set
// before mutate runs.
func Start(t testing.TB, mutate func(*devidp.Config)) *IdP {
	t.Helper()
	key, err := sharedKey()
	if err != nil {
		t.Fatalf("devidptest: key: %v", err)
	}
	ts := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(ts.Close)
	cfg := devidp.Config{IssuerBase: ts.URL, SigningRSAKey: key}
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := devidp.New(cfg, nil)
	if err != nil {
		t.Fatalf("devidptest: %v", err)
	}
	ts.Config.Handler = s.Handler()
	return &IdP{Server: s, URL: ts.URL, HTTP: ts}
}

// Browser returns an HTTP client with a cookie jar, like one browser.
func Browser(t testing.TB) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatalf("devidptest: %v", err)
	}
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}
