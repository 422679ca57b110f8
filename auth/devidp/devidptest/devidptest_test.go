package devidptest_test

import (
	"context"
	"net/url"
	"testing"

	"golang.org/x/oauth2"

	"github.com/overstap/overstap/auth/devidp"
	"github.com/overstap/overstap/auth/devidp/devidptest"
	"github.com/overstap/overstap/internal/config"
)

func TestStart(t *testing.T) {
	idp := devidptest.Start(t, nil)
	// Clients can be registered after start, once the RP knows its URL.
	err := idp.RegisterClient(devidp.ClientConfig{
		ID: "rp", Profile: devidp.ProfileACM, AuthMethod: "client_secret_post",
		Secret: config.NewSecret([]byte("x")), RedirectURIs: []string{"http://127.0.0.1:1/cb"},
	})
	if err != nil {
		t.Fatal(err)
	}
	conf := oauth2.Config{
		ClientID: "rp", ClientSecret: "x", RedirectURL: "http://127.0.0.1:1/cb", Scopes: []string{"openid", "rrn"},
		Endpoint: oauth2.Endpoint{AuthURL: idp.Issuer(devidp.ProfileACM) + "/v1/auth", TokenURL: idp.Issuer(devidp.ProfileACM) + "/v1/token", AuthStyle: oauth2.AuthStyleInParams},
	}
	v := oauth2.GenerateVerifier()
	back, err := idp.BrowserLogin(context.Background(), devidptest.Browser(t), conf.AuthCodeURL("st", oauth2.S256ChallengeOption(v)),
		devidp.Choice{Persona: devidp.PersonaMinor, Level: "itsme"})
	if err != nil {
		t.Fatal(err)
	}
	if back.Query().Get("state") != "st" {
		t.Fatalf("back %v", back)
	}
	tok, err := conf.Exchange(context.Background(), back.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	if tok.Extra("id_token") == nil {
		t.Error("no id_token")
	}
	if _, err := url.Parse(idp.URL); err != nil {
		t.Error(err)
	}
}
