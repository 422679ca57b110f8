package devidp

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/overstap/overstap/auth/nrn"
)

func itsmeClient() ClientConfig {
	return ClientConfig{
		ID: "itsme-rp", Profile: ProfileITSME, AuthMethod: "private_key_jwt", Keys: rpPublicJWKS(),
		RedirectURIs: []string{testRedirect},
	}
}

// clientAssertion is an RP's private_key_jwt assertion (iss = sub =
// client_id, aud as given).
func clientAssertion(t *testing.T, clientID, aud string) string {
	t.Helper()
	sig, _ := rpKeys()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: sig},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "rp-sig"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	b, _ := json.Marshal(map[string]any{
		"iss": clientID, "sub": clientID, "aud": aud, "jti": rand.Text(),
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
	})
	jws, err := signer.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := jws.CompactSerialize()
	return s
}

// decryptJWE opens an itsme-style nested JWT with the RP's enc key and
// checks the header.
func decryptJWE(t *testing.T, s string) string {
	t.Helper()
	_, enc := rpKeys()
	obj, err := jose.ParseEncrypted(s, []jose.KeyAlgorithm{jose.RSA_OAEP_256}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		t.Fatalf("not a JWE (RSA-OAEP-256/A256GCM): %v", err)
	}
	if cty, _ := obj.Header.ExtraHeaders["cty"].(string); cty != "JWT" {
		t.Errorf("cty %q, want JWT", cty)
	}
	if obj.Header.KeyID != "rp-enc" {
		t.Errorf("kid %q, want rp-enc", obj.Header.KeyID)
	}
	plain, err := obj.Decrypt(enc)
	if err != nil {
		t.Fatalf("decrypt: %v", err)
	}
	return string(plain)
}

func TestITSMEFlow(t *testing.T) {
	for _, tc := range []struct {
		name     string
		persona  string
		level    string
		audIsTok bool
		wantNRN  bool
		wantACR  string
	}{
		{"advanced, aud token endpoint", PersonaAdult, "advanced", true, true, "http://itsme.services/v2/claim/acr_advanced"},
		{"basic, aud issuer", PersonaParentB, "basic", false, true, "http://itsme.services/v2/claim/acr_basic"},
		{"foreign document has no BENationalNumber", PersonaForeign, "basic", true, false, "http://itsme.services/v2/claim/acr_basic"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := startIdP(t, func(c *Config) { c.Clients = []ClientConfig{itsmeClient()} })
			ctx := context.Background()
			issuer := e.idp.Issuer(ProfileITSME)
			prov := discover(t, issuer)
			var disc map[string]any
			if err := prov.Claims(&disc); err != nil {
				t.Fatal(err)
			}
			if algs, _ := disc["id_token_encryption_alg_values_supported"].([]any); len(algs) != 1 || algs[0] != "RSA-OAEP-256" {
				t.Errorf("discovery id_token_encryption_alg_values_supported = %v", disc["id_token_encryption_alg_values_supported"])
			}
			conf := oauth2.Config{
				ClientID: "itsme-rp", RedirectURL: testRedirect,
				Endpoint: oauth2.Endpoint{AuthURL: prov.Endpoint().AuthURL, TokenURL: prov.Endpoint().TokenURL, AuthStyle: oauth2.AuthStyleInParams},
				Scopes:   []string{"openid", "service:TEST", "eid", "profile"},
			}
			verifier := oauth2.GenerateVerifier()
			au := conf.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", "nn"),
				oauth2.SetAuthURLParam("claims", `{"id_token":{"`+ClaimITSMENRN+`":null}}`),
				oauth2.SetAuthURLParam("acr_values", "http://itsme.services/v2/claim/acr_basic"))
			back, err := e.idp.BrowserLogin(ctx, jarClient(t), au, Choice{Persona: tc.persona, Level: tc.level})
			if err != nil {
				t.Fatalf("login: %v", err)
			}
			aud := issuer
			if tc.audIsTok {
				aud = prov.Endpoint().TokenURL
			}
			tok, err := conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier),
				oauth2.SetAuthURLParam("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
				oauth2.SetAuthURLParam("client_assertion", clientAssertion(t, "itsme-rp", aud)))
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			raw, _ := tok.Extra("id_token").(string)
			if strings.Count(raw, ".") != 4 {
				t.Fatalf("id_token is not a compact JWE: %d dots", strings.Count(raw, "."))
			}
			inner := decryptJWE(t, raw)
			idt, err := prov.Verifier(&oidc.Config{ClientID: "itsme-rp"}).Verify(ctx, inner)
			if err != nil {
				t.Fatalf("verify inner ID token: %v", err)
			}
			var c map[string]any
			_ = idt.Claims(&c)
			if c["acr"] != tc.wantACR || c["nonce"] != "nn" || c["sid"] == nil {
				t.Errorf("claims acr=%v nonce=%v sid=%v", c["acr"], c["nonce"], c["sid"])
			}
			if exp, iat := c["exp"].(float64), c["iat"].(float64); exp-iat != 300 {
				t.Errorf("ID token lifetime %v s, want 300", exp-iat)
			}
			got, _ := c[ClaimITSMENRN].(string)
			per, _ := e.idp.persona(tc.persona)
			if tc.wantNRN {
				n, err := nrn.Parse(got)
				if err != nil || !n.Equal(per.NRN) {
					t.Errorf("BENationalNumber wrong (%s): %v", nrn.Scrub(got), err)
				}
			} else if _, present := c[ClaimITSMENRN]; present {
				t.Error("BENationalNumber present for a foreign-document user")
			}

			// Userinfo: signed then encrypted, application/jwt.
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, prov.UserInfoEndpoint(), nil)
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/jwt" {
				t.Fatalf("userinfo %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			signed := decryptJWE(t, string(body))
			ks := oidc.NewRemoteKeySet(ctx, issuer+"/jwks")
			payload, err := ks.VerifySignature(ctx, signed)
			if err != nil {
				t.Fatalf("userinfo signature: %v", err)
			}
			var uc map[string]any
			_ = json.Unmarshal(payload, &uc)
			if uc["iss"] != issuer || uc["aud"] != "itsme-rp" || uc["sub"] != idt.Subject || uc["given_name"] != per.GivenName {
				t.Errorf("userinfo claims %v", uc)
			}
			if _, present := uc[ClaimITSMENRN]; present != tc.wantNRN {
				t.Errorf("userinfo BENationalNumber present=%v", present)
			}
		})
	}
}

func TestITSMEPicker(t *testing.T) {
	e := startIdP(t, func(c *Config) { c.Clients = []ClientConfig{itsmeClient()} })
	_, ch := pkce()
	au := authURL(e.idp.Issuer(ProfileITSME)+"/authorization", "itsme-rp", testRedirect, "openid eid", "s", "n", ch, nil)
	resp, err := jarClient(t).Get(au)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(body)
	for _, want := range []string{Banner, `value="foreign"`, `value="basic" checked`, `name="csrf"`} {
		if !strings.Contains(page, want) {
			t.Errorf("picker lacks %q", want)
		}
	}
	if strings.Contains(page, `value="minor"`) {
		t.Error("itsme offers a 10-year-old (itsme users are 16+)")
	}
	if nrn.Contains(page) {
		t.Error("picker shows a national number in clear")
	}
}

// TestITSMESecretClientDirectEncryption: an itsme client authenticating
// with client_secret_post gets its ID token encrypted with "dir"/A256GCM
// under SHA-256(secret) (OIDC Core §10.2).
func TestITSMESecretClientDirectEncryption(t *testing.T) {
	e := startIdP(t, func(c *Config) {
		c.Clients = []ClientConfig{{ID: "itsme-secret", Profile: ProfileITSME, AuthMethod: "client_secret_post",
			Secret: secret("itsme-shared-secret"), RedirectURIs: []string{testRedirect}}}
	})
	ctx := context.Background()
	issuer := e.idp.Issuer(ProfileITSME)
	prov := discover(t, issuer)
	conf := oauth2.Config{ClientID: "itsme-secret", ClientSecret: "itsme-shared-secret", RedirectURL: testRedirect,
		Endpoint: oauth2.Endpoint{AuthURL: prov.Endpoint().AuthURL, TokenURL: prov.Endpoint().TokenURL, AuthStyle: oauth2.AuthStyleInParams},
		Scopes:   []string{"openid", "eid"}}
	v := oauth2.GenerateVerifier()
	back, err := e.idp.BrowserLogin(ctx, jarClient(t), conf.AuthCodeURL("s", oauth2.S256ChallengeOption(v)), Choice{Persona: PersonaAdult})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := conf.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	obj, err := jose.ParseEncrypted(tok.Extra("id_token").(string), []jose.KeyAlgorithm{jose.DIRECT}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		t.Fatalf("not a dir/A256GCM JWE: %v", err)
	}
	key := sha256.Sum256([]byte("itsme-shared-secret"))
	inner, err := obj.Decrypt(key[:])
	if err != nil {
		t.Fatalf("decrypt: %v", err)
	}
	idt, err := prov.Verifier(&oidc.Config{ClientID: "itsme-secret"}).Verify(ctx, string(inner))
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	_ = idt.Claims(&c)
	if _, ok := c[ClaimITSMENRN]; !ok {
		t.Error("no BENationalNumber")
	}
	wrong := sha256.Sum256([]byte("another secret"))
	if _, err := obj.Decrypt(wrong[:]); err == nil {
		t.Error("decrypted with the wrong key")
	}
}
