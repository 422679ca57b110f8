package oidc

import (
	"context"
	"crypto/rand"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func logoutClaims(op *fakeOP) map[string]any {
	now := time.Now()
	return map[string]any{
		"iss": op.issuer, "aud": testClientID, "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
		"jti": "jti-" + rand.Text(), "sub": "sub-1", "sid": "sid-1",
		"events": map[string]any{backchannelEvent: map[string]any{}},
	}
}

// TestValidateLogoutToken is the back-channel logout rejection table
// (OIDC Back-Channel Logout 1.0 §2.6).
func TestValidateLogoutToken(t *testing.T) {
	testKeys(t)
	op := newFakeOP(t)
	p := newTestProvider(t, testConfig(t, op, "acmidm"), nil)
	ctx := context.Background()
	signed := func(typ string) func(t *testing.T, c map[string]any) string {
		return func(t *testing.T, c map[string]any) string { return sign(t, opKey, jose.RS256, "k1", typ, c) }
	}
	now := time.Now()
	cases := []struct {
		name   string
		mutate func(c map[string]any)
		token  func(t *testing.T, c map[string]any) string
		ok     bool
	}{
		{name: "valid with typ", ok: true},
		{name: "valid without typ", token: signed(""), ok: true},
		{name: "valid sid only", mutate: func(c map[string]any) { delete(c, "sub") }, ok: true},
		{name: "valid sub only", mutate: func(c map[string]any) { delete(c, "sid") }, ok: true},
		{name: "valid without exp", mutate: func(c map[string]any) { delete(c, "exp") }, ok: true},
		{name: "nonce present", mutate: func(c map[string]any) { c["nonce"] = "n" }},
		{name: "events missing", mutate: func(c map[string]any) { delete(c, "events") }},
		{name: "events lacks the logout member", mutate: func(c map[string]any) { c["events"] = map[string]any{"other": map[string]any{}} }},
		{name: "logout event not an object", mutate: func(c map[string]any) { c["events"] = map[string]any{backchannelEvent: "yes"} }},
		// Ory Hydra v2.3.0 (OpenID Certified) types its logout tokens
		// "JWT" (internal/interop TestHydra); the events claim and the
		// absence of a nonce tell them from an ID token.
		{name: "valid typ JWT", token: signed("JWT"), ok: true},
		{name: "wrong typ (access token)", token: signed("at+jwt")},
		{name: "wrong typ (ID token)", token: signed("id_token+jwt")},
		{name: "sub and sid missing", mutate: func(c map[string]any) { delete(c, "sub"); delete(c, "sid") }},
		{name: "sub longer than 255", mutate: func(c map[string]any) { c["sub"] = strings.Repeat("s", 256) }},
		{name: "sub not ASCII", mutate: func(c map[string]any) { c["sub"] = "süb" }},
		{name: "valid sub of 255", mutate: func(c map[string]any) { c["sub"] = strings.Repeat("s", 255) }, ok: true},
		{name: "jti missing", mutate: func(c map[string]any) { delete(c, "jti") }},
		{name: "wrong iss", mutate: func(c map[string]any) { c["iss"] = "https://evil.test" }},
		{name: "wrong aud", mutate: func(c map[string]any) { c["aud"] = "other" }},
		{name: "iat missing", mutate: func(c map[string]any) { delete(c, "iat") }},
		{name: "iat in the future", mutate: func(c map[string]any) { c["iat"] = now.Add(time.Hour).Unix() }},
		{name: "iat too old", mutate: func(c map[string]any) { c["iat"] = now.Add(-time.Hour).Unix(); delete(c, "exp") }},
		{name: "expired", mutate: func(c map[string]any) { c["exp"] = now.Add(-time.Second).Unix() }},
		{name: "alg none", token: func(t *testing.T, c map[string]any) string { return unsigned(c) }},
		{name: "HS256 with the RSA public key", token: func(t *testing.T, c map[string]any) string { return hsWithPublicKey(t, c) }},
		{name: "unknown kid", token: func(t *testing.T, c map[string]any) string {
			return sign(t, otherKey, jose.RS256, "zz", "logout+jwt", c)
		}},
		{name: "oversized", token: func(t *testing.T, c map[string]any) string { return strings.Repeat("a", maxLogoutToken+1) }},
		{name: "encrypted", token: func(t *testing.T, c map[string]any) string { return "a.b.c.d.e" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := logoutClaims(op)
			if tc.mutate != nil {
				tc.mutate(c)
			}
			tok := tc.token
			if tok == nil {
				tok = signed("logout+jwt")
			}
			got, err := p.ValidateLogoutToken(ctx, tok(t, c))
			if tc.ok {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				if got.Issuer != op.issuer || got.Subject != strOr(c["sub"]) || got.SID != strOr(c["sid"]) {
					t.Errorf("claims = %+v", got)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrLogoutTokenInvalid) {
				t.Fatalf("error does not wrap ErrLogoutTokenInvalid: %v", err)
			}
			t.Logf("rejected: %v", err)
		})
	}
	t.Run("replayed jti", func(t *testing.T) {
		raw := signed("logout+jwt")(t, logoutClaims(op))
		if _, err := p.ValidateLogoutToken(ctx, raw); err != nil {
			t.Fatal(err)
		}
		_, err := p.ValidateLogoutToken(ctx, raw)
		if !errors.Is(err, ErrLogoutTokenReplayed) || !errors.Is(err, ErrLogoutTokenInvalid) {
			t.Fatalf("replay: %v", err)
		}
	})
}

func strOr(v any) string {
	s, _ := v.(string)
	return s
}

func TestLogoutURL(t *testing.T) {
	testKeys(t)
	op := newFakeOP(t)
	cfg := testConfig(t, op, "acmidm")
	cfg.PostLogoutRedirectURL = "https://rp.test/logged-out"
	p := newTestProvider(t, cfg, nil)
	u, err := p.LogoutURL("hint.jws.sig", "", "st")
	if err != nil {
		t.Fatal(err)
	}
	pu, _ := url.Parse(u)
	q := pu.Query()
	if pu.Path != "/logout" || q.Get("id_token_hint") != "hint.jws.sig" || q.Get("post_logout_redirect_uri") != "https://rp.test/logged-out" ||
		q.Get("state") != "st" || q.Get("client_id") != testClientID {
		t.Errorf("logout URL = %s", u)
	}
	if _, err := p.LogoutURL("", "javascript:alert(1)", ""); err == nil {
		t.Error("accepted a non-https post-logout redirect")
	}
}
