package oidc

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/overstap/overstap/auth/identity"
	"github.com/overstap/overstap/internal/config"
)

const (
	itsmeNRN = "http://itsme.services/v2/claim/BENationalNumber"
	fas500   = "urn:be:fedict:iam:fas:Level500"
	acmHigh  = "urn:be:vlaanderen:authmech:eidashigh"
)

// profileSetup prepares op for a profile's normal, valid behaviour and
// returns the default claims function.
func profileSetup(t *testing.T, op *fakeOP, profile string) func(g *codeGrant) map[string]any {
	n := testNRN(t)
	switch profile {
	case "fas":
		op.userinfo = func(g *codeGrant) (string, string) {
			b, _ := json.Marshal(map[string]any{"sub": "sub-1", "egovNRN": n.Digits(), "givenName": "Test", "surname": "Persona", "prefLanguage": "nl"})
			return "application/json", string(b)
		}
		return func(g *codeGrant) map[string]any {
			c := baseClaims(op, g)
			c["acr"], c["amr"] = "0", []string{fas500}
			return c
		}
	case "itsme":
		op.clientAuth = itsmeClientAuth(op)
		return func(g *codeGrant) map[string]any {
			c := baseClaims(op, g)
			c["acr"], c[itsmeNRN] = "http://itsme.services/v2/claim/acr_advanced", n.Digits()
			return c
		}
	default:
		op.userinfo = func(g *codeGrant) (string, string) {
			return "application/json", `{"sub":"sub-1","given_name":"Test","family_name":"Persona"}`
		}
		return func(g *codeGrant) map[string]any {
			c := baseClaims(op, g)
			c["acr"], c["rrn"] = acmHigh, n.Digits()
			return c
		}
	}
}

// itsmeClientAuth checks a private_key_jwt assertion signed by rpSigKey.
func itsmeClientAuth(op *fakeOP) func(r *http.Request) error {
	return func(r *http.Request) error {
		if r.PostForm.Get("client_secret") != "" || r.Header.Get("Authorization") != "" {
			return fmt.Errorf("secret sent with private_key_jwt")
		}
		if r.PostForm.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
			return fmt.Errorf("assertion type")
		}
		jws, err := jose.ParseSigned(r.PostForm.Get("client_assertion"), []jose.SignatureAlgorithm{jose.RS256})
		if err != nil {
			return err
		}
		b, err := jws.Verify(&rpSigKey.PublicKey)
		if err != nil {
			return err
		}
		var c struct {
			Iss, Sub, Aud, Jti string
			Exp                int64
		}
		if err := json.Unmarshal(b, &c); err != nil {
			return err
		}
		if c.Iss != testClientID || c.Sub != testClientID || c.Aud != op.srv.URL+"/token" || c.Jti == "" || c.Exp < time.Now().Unix() {
			return fmt.Errorf("assertion claims %+v", c)
		}
		return nil
	}
}

type cbCase struct {
	name     string
	profile  string // default acmidm
	cfg      func(*ProviderConfig)
	opts     LoginOptions
	mutate   func(c map[string]any)
	token    func(t *testing.T, claims map[string]any) string
	userinfo func(g *codeGrant) (string, string)
	query    func(q url.Values)
	issParam bool
	opSetup  func(op *fakeOP)
	want     Kind
}

func defaultToken(t *testing.T, profile string) func(t *testing.T, c map[string]any) string {
	return func(t *testing.T, c map[string]any) string {
		jws := sign(t, opKey, jose.RS256, "k1", "JWT", c)
		if profile == "itsme" {
			return encrypt(t, jws, jose.RSA_OAEP_256, &rpEncKey.PublicKey)
		}
		return jws
	}
}

func runCase(t *testing.T, tc cbCase) (*Login, error) {
	t.Helper()
	if tc.profile == "" {
		tc.profile = "acmidm"
	}
	op := newFakeOP(t)
	op.issParam = tc.issParam
	claimsFor := profileSetup(t, op, tc.profile)
	if tc.userinfo != nil {
		op.userinfo = tc.userinfo
	}
	if tc.opSetup != nil {
		tc.opSetup(op)
	}
	tokenFn := tc.token
	if tokenFn == nil {
		tokenFn = defaultToken(t, tc.profile)
	}
	op.idToken = func(g *codeGrant) string {
		c := claimsFor(g)
		if tc.mutate != nil {
			tc.mutate(c)
		}
		return tokenFn(t, c)
	}
	cfg := testConfig(t, op, tc.profile)
	if tc.cfg != nil {
		tc.cfg(&cfg)
	}
	p := newTestProvider(t, cfg, nil)
	var b browser
	state, code := op.authorize(t, b.start(t, p, tc.opts))
	q := callbackQuery(state, code)
	if tc.query != nil {
		tc.query(q)
	}
	return b.callback(p, q)
}

// TestCallbackRejections is the rejection table: one case per rule, like
// go-oidc's TestVerify.
func TestCallbackRejections(t *testing.T) {
	testKeys(t)
	now := time.Now()
	cases := []cbCase{
		{name: "wrong iss", mutate: func(c map[string]any) { c["iss"] = "https://evil.test" }, want: KindTokenInvalid},
		{name: "wrong aud", mutate: func(c map[string]any) { c["aud"] = "someone-else" }, want: KindTokenInvalid},
		{name: "several aud without azp", mutate: func(c map[string]any) { c["aud"] = []string{testClientID, "other"} }, want: KindTokenInvalid},
		{name: "azp not us", mutate: func(c map[string]any) { c["azp"] = "other" }, want: KindTokenInvalid},
		{name: "expired", mutate: func(c map[string]any) { c["exp"] = now.Add(-time.Minute).Unix() }, want: KindTokenInvalid},
		{name: "iat in the future", mutate: func(c map[string]any) { c["iat"] = now.Add(10 * time.Minute).Unix() }, want: KindTokenInvalid},
		{name: "nbf in the future", mutate: func(c map[string]any) { c["nbf"] = now.Add(time.Hour).Unix() }, want: KindTokenInvalid},
		{name: "iat before the login started", mutate: func(c map[string]any) { c["iat"] = now.Add(-time.Hour).Unix() }, want: KindTokenInvalid},
		{name: "iat missing", mutate: func(c map[string]any) { delete(c, "iat") }, want: KindTokenInvalid},
		{name: "nonce missing", mutate: func(c map[string]any) { delete(c, "nonce") }, want: KindTokenInvalid},
		{name: "nonce mismatched", mutate: func(c map[string]any) { c["nonce"] = "x" + c["nonce"].(string) }, want: KindTokenInvalid},
		{name: "sub not a string", mutate: func(c map[string]any) { c["sub"] = 12345 }, want: KindTokenInvalid},
		{name: "alg none", token: func(t *testing.T, c map[string]any) string { return unsigned(c) }, want: KindTokenInvalid},
		{name: "HS256 with the RSA public key", token: func(t *testing.T, c map[string]any) string { return hsWithPublicKey(t, c) }, want: KindTokenInvalid},
		{name: "unknown kid", token: func(t *testing.T, c map[string]any) string { return sign(t, otherKey, jose.RS256, "k-unknown", "", c) }, want: KindTokenInvalid},
		{name: "known kid wrong key", token: func(t *testing.T, c map[string]any) string { return sign(t, otherKey, jose.RS256, "k1", "", c) }, want: KindTokenInvalid},
		{name: "alg outside allow-list", cfg: func(c *ProviderConfig) { c.AllowedAlgs = []string{"ES256"} },
			want: KindTokenInvalid},
		{name: "garbage id_token", token: func(t *testing.T, c map[string]any) string { return "a.b.c" }, want: KindTokenInvalid},
		{name: "oversized id_token", token: func(t *testing.T, c map[string]any) string { return strings.Repeat("a", maxIDToken+1) }, want: KindTokenInvalid},
		{name: "missing NRN", mutate: func(c map[string]any) { delete(c, "rrn") }, want: KindNoNRN},
		{name: "bad NRN checksum", mutate: func(c map[string]any) { c["rrn"] = badChecksum(testNRN(t)) }, want: KindNRNInvalid},
		{name: "NRN not a string", mutate: func(c map[string]any) { c["rrn"] = 85073090101 }, want: KindNRNInvalid},
		{name: "ACM csampassword when eidassubstantial required",
			opts:   LoginOptions{MinLevel: "urn:be:vlaanderen:authmech:eidassubstantial"},
			mutate: func(c map[string]any) { c["acr"] = "urn:be:vlaanderen:authmech:csampassword" }, want: KindLevelTooLow},
		{name: "ACM csamselfreg never yields an NRN", opts: LoginOptions{},
			mutate: func(c map[string]any) { c["acr"] = "urn:be:vlaanderen:authmech:csamselfreg" }, want: KindNoNRN},
		{name: "ACM unknown acr when a level is required", opts: LoginOptions{MinLevel: "low"},
			mutate: func(c map[string]any) { c["acr"] = "urn:unknown" }, want: KindLevelTooLow},
		{name: "FAS Level200 when 450 required", profile: "fas",
			opts:   LoginOptions{MinLevel: "urn:be:fedict:iam:fas:Level450"},
			mutate: func(c map[string]any) { c["amr"] = []string{"urn:be:fedict:iam:fas:Level200"} }, want: KindLevelTooLow},
		{name: "FAS acr and amr disagree: the lower counts", profile: "fas",
			opts: LoginOptions{MinLevel: "urn:be:fedict:iam:fas:Level450"},
			mutate: func(c map[string]any) {
				c["acr"], c["amr"] = "urn:be:fedict:iam:fas:Level200", []string{fas500}
			}, want: KindLevelTooLow},
		{name: "FAS Level100 never yields an NRN", profile: "fas",
			mutate: func(c map[string]any) { c["amr"] = []string{"urn:be:fedict:iam:fas:Level100"} }, want: KindNoNRN},
		{name: "FAS userinfo sub differs", profile: "fas",
			userinfo: func(g *codeGrant) (string, string) { return "application/json", `{"sub":"other","egovNRN":"x"}` }, want: KindTokenInvalid},
		{name: "FAS userinfo JWT unsigned", profile: "fas",
			userinfo: func(g *codeGrant) (string, string) {
				return "application/jwt", unsigned(map[string]any{"sub": "sub-1", "egovNRN": testNRN(t).Digits()})
			}, want: KindTokenInvalid},
		{name: "FAS userinfo JWE with the wrong key", profile: "fas",
			cfg: func(c *ProviderConfig) { c.EncryptionKey = pemOf(t, rpEncKey) },
			userinfo: func(g *codeGrant) (string, string) {
				jws := sign(t, opKey, jose.RS256, "k1", "", map[string]any{"sub": "sub-1", "egovNRN": testNRN(t).Digits()})
				return "application/jwt", encrypt(t, jws, jose.RSA_OAEP_256, &wrongEncKey.PublicKey)
			}, want: KindTokenInvalid},
		{name: "FAS userinfo JWT signed by another key", profile: "fas",
			userinfo: func(g *codeGrant) (string, string) {
				return "application/jwt", sign(t, otherKey, jose.RS256, "k1", "", map[string]any{"sub": "sub-1", "egovNRN": testNRN(t).Digits()})
			}, want: KindTokenInvalid},
		{name: "FAS userinfo oversized", profile: "fas",
			userinfo: func(g *codeGrant) (string, string) {
				return "application/json", `{"sub":"sub-1","x":"` + strings.Repeat("a", maxUserinfoBody) + `"}`
			}, want: KindTokenInvalid},
		{name: "auth_time too old for max_age", opts: LoginOptions{MaxAge: 5 * time.Minute},
			mutate: func(c map[string]any) { c["auth_time"] = now.Add(-time.Hour).Unix() }, want: KindLevelTooLow},
		{name: "auth_time missing with max_age", opts: LoginOptions{MaxAge: 5 * time.Minute},
			mutate: func(c map[string]any) { delete(c, "auth_time") }, want: KindLevelTooLow},
		{name: "auth_time before a prompt=login request", opts: LoginOptions{Prompt: "login"},
			mutate: func(c map[string]any) { c["auth_time"] = now.Add(-10 * time.Minute).Unix() }, want: KindLevelTooLow},
		{name: "itsme JWE with the wrong key", profile: "itsme",
			token: func(t *testing.T, c map[string]any) string {
				return encrypt(t, sign(t, opKey, jose.RS256, "k1", "", c), jose.RSA_OAEP_256, &wrongEncKey.PublicKey)
			}, want: KindTokenInvalid},
		{name: "itsme signed-only when JWE required", profile: "itsme",
			token: func(t *testing.T, c map[string]any) string { return sign(t, opKey, jose.RS256, "k1", "", c) }, want: KindTokenInvalid},
		{name: "itsme JWE wrapping an unsigned token", profile: "itsme",
			token: func(t *testing.T, c map[string]any) string {
				return encrypt(t, unsigned(c), jose.RSA_OAEP_256, &rpEncKey.PublicKey)
			}, want: KindTokenInvalid},
		{name: "itsme user without BENationalNumber", profile: "itsme",
			mutate: func(c map[string]any) { delete(c, itsmeNRN) }, want: KindNoNRN},
		{name: "itsme basic when advanced required", profile: "itsme", opts: LoginOptions{MinLevel: "high"},
			mutate: func(c map[string]any) { c["acr"] = "http://itsme.services/v2/claim/acr_basic" }, want: KindLevelTooLow},
		{name: "IdP access_denied", query: func(q url.Values) { q.Del("code"); q.Set("error", "access_denied") }, want: KindAccessDenied},
		{name: "IdP login_required", query: func(q url.Values) { q.Del("code"); q.Set("error", "login_required") }, want: KindLoginRequired},
		{name: "IdP temporarily_unavailable", query: func(q url.Values) { q.Del("code"); q.Set("error", "temporarily_unavailable") }, want: KindIdPUnavailable},
		{name: "iss parameter of another provider", query: func(q url.Values) { q.Set("iss", "https://other-idp.test") }, want: KindIssuerMismatch},
		{name: "iss parameter missing where announced", issParam: true, want: KindIssuerMismatch},
		{name: "code missing", query: func(q url.Values) { q.Del("code") }, want: KindBadRequest},
		{name: "code oversized", query: func(q url.Values) { q.Set("code", strings.Repeat("c", maxCode+1)) }, want: KindBadRequest},
		{name: "code unknown", query: func(q url.Values) { q.Set("code", "code-forged") }, want: KindCodeInvalid},
		{name: "state oversized", query: func(q url.Values) { q.Set("state", strings.Repeat("s", 200)) }, want: KindStateInvalid},
		{name: "state unknown", query: func(q url.Values) { q.Set("state", rand.Text()) }, want: KindStateInvalid},
		{name: "parameter repeated", query: func(q url.Values) { q.Add("code", "again") }, want: KindBadRequest},
		{name: "private_key_jwt refused", profile: "itsme", cfg: func(c *ProviderConfig) { c.PrivateKey = pemOf(t, otherKey) }, want: KindIdPError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id, err := runCase(t, tc)
			if err == nil {
				t.Fatalf("accepted, identity for %s", id.Subject)
			}
			var ce *CallbackError
			if !errors.As(err, &ce) {
				t.Fatalf("error %T %v is not a *CallbackError", err, err)
			}
			if ce.Kind != tc.want {
				t.Fatalf("kind = %s, want %s (%v)", ce.Kind, tc.want, err)
			}
			t.Logf("rejected: %v", err)
			if ce.Safe == "" {
				t.Error("no safe message")
			}
			if n := testNRN(t); strings.Contains(err.Error(), n.Digits()) {
				t.Error("error text contains the national number")
			}
			if tc.want == KindNoNRN && !errors.Is(err, ErrNoNationalNumber) {
				t.Error("KindNoNRN error does not match ErrNoNationalNumber")
			}
		})
	}
}

// TestCallbackAccepts covers the valid path of each profile variant.
func TestCallbackAccepts(t *testing.T) {
	testKeys(t)
	n := testNRN(t)
	cases := []struct {
		cbCase
		wantLevel string
		wantEIDAS identity.Level
		wantNRN   bool
	}{
		{cbCase: cbCase{name: "acmidm eid", opts: LoginOptions{MinLevel: "substantial"},
			mutate: func(c map[string]any) { c["acr"] = "urn:be:vlaanderen:authmech:eid" }}, wantLevel: acmHigh, wantEIDAS: identity.LevelHigh, wantNRN: true},
		{cbCase: cbCase{name: "acmidm csamtotp meets substantial", opts: LoginOptions{MinLevel: "urn:be:vlaanderen:authmech:eidassubstantial"},
			mutate: func(c map[string]any) { c["acr"] = "urn:be:vlaanderen:authmech:csamtotp" }},
			wantLevel: "urn:be:vlaanderen:authmech:eidassubstantial", wantEIDAS: identity.LevelSubstantial, wantNRN: true},
		{cbCase: cbCase{name: "fas level in amr, acr 0, userinfo JSON", profile: "fas", opts: LoginOptions{MinLevel: "urn:be:fedict:iam:fas:Level450"}},
			wantLevel: fas500, wantEIDAS: identity.LevelHigh, wantNRN: true},
		{cbCase: cbCase{name: "fas citizen variant, userinfo JWT", profile: "fas",
			mutate: func(c map[string]any) { c["amr"] = []string{"urn:be:fedict:iam:fas:citizen:Level450"} },
			userinfo: func(g *codeGrant) (string, string) {
				return "application/jwt; charset=utf-8", sign(t, opKey, jose.RS256, "k1", "JWT", map[string]any{"sub": "sub-1", "egovNRN": n.Digits(), "givenName": "Test"})
			}}, wantLevel: "urn:be:fedict:iam:fas:Level450", wantEIDAS: identity.LevelHigh, wantNRN: true},
		{cbCase: cbCase{name: "fas userinfo signed then encrypted", profile: "fas",
			cfg: func(c *ProviderConfig) { c.EncryptionKey = pemOf(t, rpEncKey) },
			userinfo: func(g *codeGrant) (string, string) {
				jws := sign(t, opKey, jose.RS256, "k1", "JWT", map[string]any{"sub": "sub-1", "egovNRN": n.Digits(), "givenName": "Test"})
				return "application/jwt", encrypt(t, jws, jose.RSA_OAEP_256, &rpEncKey.PublicKey)
			}}, wantLevel: fas500, wantEIDAS: identity.LevelHigh, wantNRN: true},
		{cbCase: cbCase{name: "itsme JWE RSA-OAEP-256 + private_key_jwt", profile: "itsme", opts: LoginOptions{MinLevel: "http://itsme.services/v2/claim/acr_advanced"}},
			wantLevel: "http://itsme.services/v2/claim/acr_advanced", wantEIDAS: identity.LevelHigh, wantNRN: true},
		{cbCase: cbCase{name: "itsme dir A256GCM with the client secret", profile: "itsme",
			cfg: func(c *ProviderConfig) {
				c.ClientAuth = ClientSecretPost
				c.PrivateKey, c.EncryptionKey = config.Secret{}, config.Secret{}
			},
			opSetup: func(op *fakeOP) {
				op.clientAuth = func(r *http.Request) error {
					if r.PostForm.Get("client_secret") != "s3cret-for-tests-only-0123456789" {
						return fmt.Errorf("client_secret_post expected")
					}
					return nil
				}
			},
			token: func(t *testing.T, c map[string]any) string {
				key := sha256Sum([]byte("s3cret-for-tests-only-0123456789"))
				return encrypt(t, sign(t, opKey, jose.RS256, "k1", "", c), jose.DIRECT, key)
			}}, wantLevel: "http://itsme.services/v2/claim/acr_advanced", wantEIDAS: identity.LevelHigh, wantNRN: true},
		{cbCase: cbCase{name: "itsme foreign document allowed by the gateway", profile: "itsme", opts: LoginOptions{AllowNoNRN: true},
			mutate: func(c map[string]any) { delete(c, itsmeNRN) }}, wantLevel: "http://itsme.services/v2/claim/acr_advanced", wantEIDAS: identity.LevelHigh},
		{cbCase: cbCase{name: "iss parameter present and right", issParam: true, query: nil}, wantLevel: acmHigh, wantEIDAS: identity.LevelHigh, wantNRN: true},
		{cbCase: cbCase{name: "max_age satisfied", opts: LoginOptions{MaxAge: time.Minute, Prompt: "login"}}, wantLevel: acmHigh, wantEIDAS: identity.LevelHigh, wantNRN: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.issParam {
				tc.query = func(q url.Values) {}
			}
			id, err := runCaseWithIss(t, tc.cbCase)
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if id.LevelName != tc.wantLevel || id.Level != tc.wantEIDAS {
				t.Errorf("level = %q/%q, want %q/%q", id.LevelName, id.Level, tc.wantLevel, tc.wantEIDAS)
			}
			if got := !id.NRN.IsZero(); got != tc.wantNRN {
				t.Fatalf("has NRN = %v, want %v", got, tc.wantNRN)
			}
			if tc.wantNRN && !id.NRN.Equal(n) {
				t.Errorf("NRN = %s, want %s", id.NRN.Mask(), n.Mask())
			}
			if id.Subject != "sub-1" || id.ReturnTo != "/" || id.IDToken == "" || strings.Count(id.IDToken, ".") != 2 {
				t.Errorf("identity = %+v", id)
			}
			if id.GivenName != "Test" {
				t.Errorf("given name = %q", id.GivenName)
			}
		})
	}
}

// runCaseWithIss is runCase, adding the right iss parameter when the case
// announces RFC 9207 support.
func runCaseWithIss(t *testing.T, tc cbCase) (*Login, error) {
	if !tc.issParam {
		return runCase(t, tc)
	}
	var issuer string
	tc.query = func(q url.Values) { q.Set("iss", issuer) }
	tc.cfg = chainCfg(tc.cfg, func(c *ProviderConfig) { issuer = c.Issuer })
	return runCase(t, tc)
}

func chainCfg(a, b func(*ProviderConfig)) func(*ProviderConfig) {
	return func(c *ProviderConfig) {
		if a != nil {
			a(c)
		}
		b(c)
	}
}

func sha256Sum(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}

// TestCallbackSubjectBounds checks OIDC Core §2 on sub at the boundary: 255
// ASCII characters pass, 256 do not, and the cause names sub.
func TestCallbackSubjectBounds(t *testing.T) {
	testKeys(t)
	for _, tc := range []struct {
		name string
		sub  string
		ok   bool
	}{
		{"255 characters", strings.Repeat("s", 255), true},
		{"printable ASCII", "AZaz09 -._~!$&'()*+,;=:@/?", true},
		{"256 characters", strings.Repeat("s", 256), false},
		{"empty", "", false},
		{"DEL character", "sub\x7f", false},
		{"newline (log forging)", "sub-1\nlevel=INFO msg=forged", false},
		{"not ASCII", "s\u00fcb-1", false},
		{"missing", "(delete)", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := runCase(t, cbCase{
				mutate: func(c map[string]any) {
					c["sub"] = tc.sub
					if tc.sub == "(delete)" {
						delete(c, "sub")
					}
				},
				userinfo: func(g *codeGrant) (string, string) {
					sub := tc.sub
					if sub == "(delete)" {
						sub = ""
					}
					b, _ := json.Marshal(map[string]any{"sub": sub, "given_name": "Test"})
					return "application/json", string(b)
				},
			})
			if tc.ok {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				if id.Subject != tc.sub {
					t.Fatalf("subject = %q", id.Subject)
				}
				return
			}
			if KindOf(err) != KindTokenInvalid || !strings.Contains(err.Error(), "sub") {
				t.Fatalf("err = %v, want a token_invalid error naming sub", err)
			}
		})
	}
}
