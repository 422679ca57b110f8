package devidp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/overstap/overstap/internal/config"
)

// testKey is one 2048-bit RSA key per test binary (generation is slow).
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

var rpKeys = sync.OnceValues(func() (*rsa.PrivateKey, *rsa.PrivateKey) {
	sig, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	enc, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return sig, enc
})

// rpPublicJWKS is the itsme-style RP key set: one sig and one enc key.
func rpPublicJWKS() *jose.JSONWebKeySet {
	sig, enc := rpKeys()
	return &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &sig.PublicKey, KeyID: "rp-sig", Use: "sig", Algorithm: "RS256"},
		{Key: &enc.PublicKey, KeyID: "rp-enc", Use: "enc", Algorithm: "RSA-OAEP-256"},
	}}
}

type env struct {
	idp *Server
	ts  *httptest.Server
	now time.Time
}

func startIdP(t *testing.T, mutate func(*Config)) *env {
	t.Helper()
	ts := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(ts.Close)
	cfg := Config{IssuerBase: ts.URL, SigningRSAKey: testKey()}
	if mutate != nil {
		mutate(&cfg)
	}
	idp, err := New(cfg, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ts.Config.Handler = idp.Handler()
	return &env{idp: idp, ts: ts, now: time.Now()}
}

// testRedirect is a callback URL that is never actually hit
// (BrowserLogin stops before it).
const testRedirect = "http://127.0.0.1:1/callback"

func jarClient(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 10 * time.Second}
}

func pkce() (verifier, challenge string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

func secret(s string) config.Secret { return config.NewSecret([]byte(s)) }

func discover(t *testing.T, issuer string) *oidc.Provider {
	t.Helper()
	p, err := oidc.NewProvider(context.Background(), issuer)
	if err != nil {
		t.Fatalf("discovery of %s: %v", issuer, err)
	}
	return p
}

// authURL builds an authorization request URL.
func authURL(endpoint, clientID, redirect, scope, state, nonce, challenge string, extra url.Values) string {
	q := url.Values{
		"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirect},
		"scope": {scope}, "state": {state}, "nonce": {nonce},
	}
	if challenge != "" {
		q.Set("code_challenge", challenge)
		q.Set("code_challenge_method", "S256")
	}
	for k, v := range extra {
		q[k] = v
	}
	return endpoint + "?" + q.Encode()
}

func stringsReader(s string) io.Reader { return strings.NewReader(s) }

func newBenchServer(b *testing.B) *env {
	ts := httptest.NewServer(http.NotFoundHandler())
	b.Cleanup(ts.Close)
	idp, err := New(Config{IssuerBase: ts.URL, SigningRSAKey: testKey(), Clients: []ClientConfig{fasClient(false)}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	ts.Config.Handler = idp.Handler()
	return &env{idp: idp, ts: ts, now: time.Now()}
}

// postForm posts f to u with c and closes the response body: for requests
// of which a test reads the status and headers only.
func postForm(t *testing.T, c *http.Client, u string, f url.Values) *http.Response {
	t.Helper()
	resp, err := c.PostForm(u, f)
	return closed(t, resp, err)
}

// get gets u with c and closes the response body, as postForm.
func get(t *testing.T, c *http.Client, u string) *http.Response {
	t.Helper()
	resp, err := c.Get(u)
	return closed(t, resp, err)
}

// closed fails t on a request error, else closes the response body.
func closed(t *testing.T, resp *http.Response, err error) *http.Response {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}
