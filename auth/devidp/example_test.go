package devidp_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"golang.org/x/oauth2"

	"github.com/overstap/overstap/auth/devidp"
	"github.com/overstap/overstap/internal/config"
)

// A relying party's test: start the dev IdP on loopback, register the RP,
// log in as a persona at a chosen level and exchange the code.
func Example() {
	ts := httptest.NewServer(http.NotFoundHandler())
	defer ts.Close()
	idp, err := devidp.New(devidp.Config{
		IssuerBase: ts.URL,
		Clients: []devidp.ClientConfig{{
			ID: "gateway", Profile: devidp.ProfileACM, AuthMethod: "client_secret_basic",
			Secret:       config.NewSecret([]byte("dev-secret")),
			RedirectURIs: []string{"http://127.0.0.1:8080/callback"},
		}},
	}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	ts.Config.Handler = idp.Handler()

	issuer := idp.Issuer(devidp.ProfileACM)
	conf := oauth2.Config{
		ClientID: "gateway", ClientSecret: "dev-secret", RedirectURL: "http://127.0.0.1:8080/callback",
		Scopes:   []string{"openid", "profile", "rrn"},
		Endpoint: oauth2.Endpoint{AuthURL: issuer + "/v1/auth", TokenURL: issuer + "/v1/token", AuthStyle: oauth2.AuthStyleInHeader},
	}
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("acr_values", "urn:be:vlaanderen:authmech:eid"))

	back, err := idp.BrowserLogin(context.Background(), &http.Client{}, authURL,
		devidp.Choice{Persona: devidp.PersonaParentA, Level: "itsme"})
	if err != nil {
		fmt.Println(err)
		return
	}
	tok, err := conf.Exchange(context.Background(), back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("issuer path:", strings.TrimPrefix(issuer, ts.URL))
	fmt.Println("state:", back.Query().Get("state"))
	fmt.Println("got an ID token:", tok.Extra("id_token") != nil)
	// Output:
	// issuer path: /acm/op
	// state: state-1
	// got an ID token: true
}
