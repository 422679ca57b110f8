package oidc

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
)

// benchSetup returns a ready itsme provider, a flow state and a pre-made
// token response (JWE RSA-OAEP-256 around an RS256 ID token with the NRN).
func benchSetup(b *testing.B) (*Provider, *metadata, *flowState, *oauth2.Token, string) {
	op := newFakeOP(b)
	cfg := testConfig(b, op, "itsme")
	p := newTestProvider(b, cfg, nil)
	m, err := p.metadata()
	if err != nil {
		b.Fatal(err)
	}
	fs := &flowState{Provider: p.name, Nonce: rand.Text(), ReturnTo: "/", MinRank: 2, Created: time.Now().Unix()}
	now := time.Now()
	claims := map[string]any{
		"iss": op.issuer, "sub": "sub-1", "aud": testClientID, "exp": now.Add(5 * time.Minute).Unix(),
		"iat": now.Unix(), "nonce": fs.Nonce, "auth_time": now.Unix(), "acr": "http://itsme.services/v2/claim/acr_advanced",
		itsmeNRN: testNRN(b).Digits(), "given_name": "Test", "family_name": "Persona",
	}
	jws := sign(b, opKey, jose.RS256, "k1", "JWT", claims)
	jwe := encrypt(b, jws, jose.RSA_OAEP_256, &rpEncKey.PublicKey)
	tok := (&oauth2.Token{AccessToken: "at-1", TokenType: "Bearer"}).WithExtra(map[string]any{"id_token": jwe})
	// Warm the key cache (the first Verify fetches the JWKS).
	if _, err := p.finish(context.Background(), m, fs, tok); err != nil {
		b.Fatal(err)
	}
	return p, m, fs, tok, jws
}

// BenchmarkCallbackVerify measures the callback work after the token
// response has arrived (the IdP round trip excluded): JWE decryption
// (RSA-OAEP-256 + A256GCM), go-oidc verification (RS256), nonce/iat/azp,
// level and max_age checks, NRN extraction and checksum. Target ≤ 5 ms.
func BenchmarkCallbackVerify(b *testing.B) {
	p, m, fs, tok, _ := benchSetup(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.finish(ctx, m, fs, tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineGoOIDCVerify is the baseline in the same run: go-oidc's
// bare Verify of the same (already decrypted) ID token.
func BenchmarkBaselineGoOIDCVerify(b *testing.B) {
	_, m, _, _, jws := benchSetup(b)
	ctx := context.Background()
	v := oidc.NewVerifier(m.issuer, m.keys, &oidc.Config{ClientID: testClientID, SupportedSigningAlgs: []string{"RS256"}})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, jws); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineRSAOAEPDecrypt is the other baseline: go-jose's bare
// JWE decryption of the same token.
func BenchmarkBaselineRSAOAEPDecrypt(b *testing.B) {
	_, _, _, tok, _ := benchSetup(b)
	raw := tok.Extra("id_token").(string)
	b.ReportAllocs()
	for b.Loop() {
		jwe, err := jose.ParseEncrypted(raw, jweKeyAlgs, jweEncs)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := jwe.Decrypt(rpEncKey); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoginLoopback is a whole login without a browser: AuthRequest,
// then Callback with the code exchange against the fake OP on loopback
// (acmidm profile: token endpoint + userinfo round trips, and the OP signs
// each ID token — IdP work included, so this is an upper bound).
func BenchmarkLoginLoopback(b *testing.B) {
	op := newFakeOP(b)
	n := testNRN(b)
	op.userinfo = func(g *codeGrant) (string, string) {
		return "application/json", `{"sub":"sub-1","given_name":"Test","family_name":"Persona"}`
	}
	op.idToken = func(g *codeGrant) string {
		c := baseClaims(op, g)
		c["acr"], c["rrn"] = acmHigh, n.Digits()
		return sign(b, opKey, jose.RS256, "k1", "JWT", c)
	}
	p := newTestProvider(b, testConfig(b, op, "acmidm"), nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		u, err := p.AuthRequest(rec, httptest.NewRequest(http.MethodGet, "https://rp.test/login", nil), LoginOptions{MinLevel: "high"})
		if err != nil {
			b.Fatal(err)
		}
		state, code := op.authorize(b, u)
		req := httptest.NewRequest(http.MethodGet, "https://rp.test/auth/callback?"+callbackQuery(state, code).Encode(), nil)
		for _, c := range rec.Result().Cookies() {
			req.AddCookie(c)
		}
		if _, err := p.Callback(httptest.NewRecorder(), req); err != nil {
			b.Fatal(err)
		}
	}
}
