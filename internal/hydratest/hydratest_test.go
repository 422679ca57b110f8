package hydratest

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// TestLoginConsent runs one authorization code flow through Hydra and the
// handler: the ID token carries the persona's acr, amr and claims, the
// handler saw the acr_values asked, and after RotateSigningKey tokens are
// signed with the new key.
func TestLoginConsent(t *testing.T) {
	h := Start(t)
	var got *http.Request
	rp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r }))
	defer rp.Close()
	c := h.CreateClient(Client{RedirectURIs: []string{rp.URL + "/cb"}})
	ctx := context.Background()
	prov, err := oidc.NewProvider(ctx, h.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	conf := oauth2.Config{ClientID: c.ID, ClientSecret: c.Secret, Endpoint: prov.Endpoint(), RedirectURL: rp.URL + "/cb",
		Scopes: []string{"openid", "profile"}}
	login := func(acrValues string) *oidc.IDToken {
		t.Helper()
		jar, _ := cookiejar.New(nil)
		browser := &http.Client{Jar: jar}
		v := oauth2.GenerateVerifier()
		u := conf.AuthCodeURL("state-123456789", oauth2.S256ChallengeOption(v),
			oauth2.SetAuthURLParam("nonce", "nonce-123456789"), oauth2.SetAuthURLParam("acr_values", acrValues))
		got = nil
		resp, err := browser.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got == nil || got.URL.Query().Get("code") == "" {
			t.Fatalf("no code at the RP: %d %v", resp.StatusCode, got)
		}
		tok, err := conf.Exchange(ctx, got.URL.Query().Get("code"), oauth2.VerifierOption(v))
		if err != nil {
			t.Fatal(err)
		}
		idt, err := prov.Verifier(&oidc.Config{ClientID: c.ID}).Verify(ctx, tok.Extra("id_token").(string))
		if err != nil {
			t.Fatal(err)
		}
		return idt
	}
	h.SetPersona(Persona{Subject: "citizen-1", AMR: []string{"pwd"}, Claims: map[string]any{"given_name": "Zoë"}})
	idt := login("urn:test:substantial")
	var cl struct {
		ACR       string   `json:"acr"`
		AMR       []string `json:"amr"`
		GivenName string   `json:"given_name"`
		SID       string   `json:"sid"`
	}
	if err := idt.Claims(&cl); err != nil {
		t.Fatal(err)
	}
	if idt.Subject != "citizen-1" || cl.ACR != "urn:test:substantial" || !slices.Equal(cl.AMR, []string{"pwd"}) || cl.GivenName != "Zoë" || cl.SID == "" {
		t.Errorf("ID token: sub %q %+v", idt.Subject, cl)
	}
	if l := h.Logins(); len(l) != 1 || !slices.Equal(l[0].ACRValues, []string{"urn:test:substantial"}) || l[0].ClientID != c.ID {
		t.Errorf("logins seen: %+v", l)
	}
	kid := h.RotateSigningKey()
	h.SetPersona(Persona{Subject: "citizen-2", ACR: "fixed"})
	idt = login("urn:test:high")
	if err := idt.Claims(&cl); err != nil {
		t.Fatal(err)
	}
	if idt.Subject != "citizen-2" || cl.ACR != "fixed" {
		t.Errorf("second login: sub %q acr %q", idt.Subject, cl.ACR)
	}
	if h.SigningKeyID() != kid {
		t.Errorf("signing key %q, want %q", h.SigningKeyID(), kid)
	}
}
