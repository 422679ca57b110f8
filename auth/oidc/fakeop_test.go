package oidc

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/internal/config"
)

// Test keys are generated once per test binary.
var (
	keysOnce                                         sync.Once
	opKey, otherKey, rpSigKey, rpEncKey, wrongEncKey *rsa.PrivateKey
)

func testKeys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		gen := func() *rsa.PrivateKey {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			return k
		}
		opKey, otherKey, rpSigKey, rpEncKey, wrongEncKey = gen(), gen(), gen(), gen(), gen()
	})
}

func pemOf(t testing.TB, k any) config.Secret {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return config.NewSecret(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func testNRN(t testing.TB) nrn.Number {
	t.Helper()
	n, err := nrn.Synthetic(time.Date(1985, 7, 30, 0, 0, 0, 0, time.UTC), true, 901)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// badChecksum returns the digits of n with the check digits changed.
func badChecksum(n nrn.Number) string {
	d := n.Digits()
	last := (d[10]-'0'+1)%10 + '0'
	return d[:10] + string(last)
}

// fakeOP is a minimal OpenID provider for unit tests of the verifier:
// discovery, JWKS, a token endpoint that checks PKCE and single-use codes,
// and userinfo. Tokens are built per test case.
type fakeOP struct {
	t      testing.TB
	srv    *httptest.Server
	issuer string // the iss tokens carry and discovery announces

	issParam   bool
	mu         sync.Mutex
	codes      map[string]*codeGrant
	clientAuth func(r *http.Request) error
	// idToken builds the id_token for a grant.
	idToken func(g *codeGrant) string
	// userinfo returns content type and body.
	userinfo  func(g *codeGrant) (string, string)
	lastGrant *codeGrant
	// jwksHits counts requests to the JWKS endpoint; jwksGate, when set,
	// holds each JWKS answer until it is closed; jwksExtra are served after
	// k1 (key rotation).
	jwksHits  atomic.Int64
	jwksGate  chan struct{}
	jwksExtra []jose.JSONWebKey
}

type codeGrant struct {
	nonce, challenge string
	used             bool
}

func newFakeOP(t testing.TB) *fakeOP {
	testKeys(t)
	op := &fakeOP{t: t, codes: map[string]*codeGrant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		d := map[string]any{
			"issuer": op.issuer, "authorization_endpoint": op.srv.URL + "/authorize",
			"token_endpoint": op.srv.URL + "/token", "jwks_uri": op.srv.URL + "/jwks",
			"userinfo_endpoint": op.srv.URL + "/userinfo", "end_session_endpoint": op.srv.URL + "/logout",
			"id_token_signing_alg_values_supported":          []string{"RS256"},
			"authorization_response_iss_parameter_supported": op.issParam,
		}
		_ = json.NewEncoder(w).Encode(d)
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		op.jwksHits.Add(1)
		op.mu.Lock()
		gate, extra := op.jwksGate, op.jwksExtra
		op.mu.Unlock()
		if gate != nil {
			<-gate
		}
		set := jose.JSONWebKeySet{Keys: append([]jose.JSONWebKey{{Key: &opKey.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}, extra...)}
		_ = json.NewEncoder(w).Encode(set)
	})
	mux.HandleFunc("POST /token", op.token)
	mux.HandleFunc("GET /userinfo", func(w http.ResponseWriter, r *http.Request) {
		op.mu.Lock()
		g := op.lastGrant
		op.mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer at-1" || op.userinfo == nil {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		ct, body := op.userinfo(g)
		w.Header().Set("Content-Type", ct)
		_, _ = w.Write([]byte(body))
	})
	op.srv = httptest.NewServer(mux)
	op.issuer = op.srv.URL
	t.Cleanup(op.srv.Close)
	return op
}

func (op *fakeOP) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad", http.StatusBadRequest)
		return
	}
	fail := func(code string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = fmt.Fprintf(w, `{"error":%q}`, code)
	}
	if op.clientAuth != nil {
		if err := op.clientAuth(r); err != nil {
			op.t.Logf("fake op: client auth: %v", err)
			fail("invalid_client")
			return
		}
	}
	op.mu.Lock()
	g, ok := op.codes[r.PostForm.Get("code")]
	if !ok || g.used {
		op.mu.Unlock()
		fail("invalid_grant")
		return
	}
	g.used = true
	op.lastGrant = g
	op.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		fail("invalid_grant")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token": "at-1", "token_type": "Bearer", "expires_in": 300, "id_token": op.idToken(g),
	})
}

// authorize plays the IdP's authorization endpoint: it records a code for
// the auth URL's nonce and PKCE challenge and returns the callback query.
func (op *fakeOP) authorize(t testing.TB, authURL string) (state, code string) {
	t.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" {
		t.Fatalf("auth URL lacks PKCE S256 or nonce: %s", authURL)
	}
	code = "code-" + rand.Text()
	op.mu.Lock()
	op.codes[code] = &codeGrant{nonce: q.Get("nonce"), challenge: q.Get("code_challenge")}
	op.mu.Unlock()
	return q.Get("state"), code
}

// sign signs claims as a compact JWS.
func sign(t testing.TB, key any, alg jose.SignatureAlgorithm, kid string, typ string, claims map[string]any) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(claims)
	obj, err := s.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// encrypt wraps a JWS in a JWE (nested JWT, cty JWT).
func encrypt(t testing.TB, jws string, alg jose.KeyAlgorithm, key any) string {
	t.Helper()
	e, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: alg, Key: key},
		(&jose.EncrypterOptions{}).WithContentType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	obj, err := e.Encrypt([]byte(jws))
	if err != nil {
		t.Fatal(err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// unsigned builds an alg:none token by hand (go-jose refuses to).
func unsigned(claims map[string]any) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"k1"}`))
	b, _ := json.Marshal(claims)
	return h + "." + base64.RawURLEncoding.EncodeToString(b) + "."
}

// hsWithPublicKey builds the algorithm-confusion token: HS256 with the
// provider's RSA public key (PEM) as the HMAC secret.
func hsWithPublicKey(t testing.TB, claims map[string]any) string {
	t.Helper()
	der, _ := x509.MarshalPKIXPublicKey(&opKey.PublicKey)
	pub := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	return sign(t, pub, jose.HS256, "k1", "", claims)
}

const testClientID = "rp-client"

// testConfig returns a provider config for profile against op.
func testConfig(t testing.TB, op *fakeOP, profile string) ProviderConfig {
	t.Helper()
	testKeys(t)
	c := ProviderConfig{
		Name: profile, Profile: profile, Issuer: op.srv.URL, ClientID: testClientID,
		ClientSecret: config.NewSecret([]byte("s3cret-for-tests-only-0123456789")),
		RedirectURL:  "https://rp.test/auth/callback/" + profile,
	}
	if op.issuer != op.srv.URL {
		c.ExpectedIssuer = op.issuer
	}
	if profile == "itsme" {
		c.PrivateKey, c.PrivateKeyID = pemOf(t, rpSigKey), "rp-sig"
		c.EncryptionKey, c.EncryptionKeyID = pemOf(t, rpEncKey), "rp-enc"
	}
	return c
}

func newTestProvider(t testing.TB, cfg ProviderConfig, flows FlowStore) *Provider {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if flows == nil {
		flows = NewMemoryStore(nil, 0)
	}
	p, err := New(ctx, cfg, Deps{Flows: flows, RetryMin: 20 * time.Millisecond, RetryMax: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	defer wcancel()
	if err := p.WaitReady(wctx); err != nil {
		t.Fatal(err)
	}
	return p
}

// browser is a cookie holder for driving AuthRequest/Callback directly.
type browser struct{ cookies []*http.Cookie }

func (b *browser) start(t testing.TB, p *Provider, opts LoginOptions) string {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "https://rp.test/login", nil)
	for _, c := range b.cookies {
		req.AddCookie(c)
	}
	u, err := p.AuthRequest(rec, req, opts)
	if err != nil {
		t.Fatalf("AuthRequest: %v", err)
	}
	if cs := rec.Result().Cookies(); len(cs) > 0 {
		b.cookies = cs
	}
	return u
}

func (b *browser) callback(p *Provider, query url.Values) (*Login, error) {
	req := httptest.NewRequest(http.MethodGet, "https://rp.test/auth/callback?"+query.Encode(), nil)
	for _, c := range b.cookies {
		req.AddCookie(c)
	}
	return p.Callback(httptest.NewRecorder(), req)
}

// baseClaims are valid ID token claims for a grant.
func baseClaims(op *fakeOP, g *codeGrant) map[string]any {
	now := time.Now()
	return map[string]any{
		"iss": op.issuer, "sub": "sub-1", "aud": testClientID, "exp": now.Add(5 * time.Minute).Unix(),
		"iat": now.Unix(), "nonce": g.nonce, "auth_time": now.Unix(), "sid": "sid-1",
		"given_name": "Test", "family_name": "Persona",
	}
}

func callbackQuery(state, code string) url.Values {
	return url.Values{"state": {state}, "code": {code}}
}
