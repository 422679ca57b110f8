package devidp

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/overstap/overstap/internal/browsertest"
)

// TestPickerInRealBrowser drives the picker with headless Chromium: the
// form, its CSRF cookie, the CSP and the redirect chain back to the RP work
// in a real browser, not only in the Go client.
func TestPickerInRealBrowser(t *testing.T) {
	var mu sync.Mutex
	var got url.Values
	rpSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			w.WriteHeader(http.StatusNoContent) // favicon.ico
			return
		}
		mu.Lock()
		got = r.URL.Query()
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><p id="done">back at the RP</p>`))
	}))
	defer rpSrv.Close()
	redirect := rpSrv.URL + "/callback"
	e := startIdP(t, func(c *Config) {
		cl := fasClient(false)
		cl.RedirectURIs = []string{redirect}
		c.Clients = []ClientConfig{cl}
	})
	issuer := e.idp.Issuer(ProfileFAS)
	conf := oauth2.Config{
		ClientID: "fas-rp", ClientSecret: "s3cret-fas", RedirectURL: redirect, Scopes: []string{"openid", "egovnrn"},
		Endpoint: oauth2.Endpoint{AuthURL: issuer + "/authorize", TokenURL: issuer + "/access_token", AuthStyle: oauth2.AuthStyleInHeader},
	}
	verifier := oauth2.GenerateVerifier()
	b := browsertest.New(t, 60*time.Second)
	b.Do(
		chromedp.Navigate(conf.AuthCodeURL("browser-state", oauth2.S256ChallengeOption(verifier))),
		chromedp.WaitVisible(`input[name="persona"][value="minor"]`),
		chromedp.Click(`input[name="persona"][value="minor"]`),
		chromedp.Click(`input[name="level"][value="450"]`),
		chromedp.Click(`button[value="login"]`),
		chromedp.WaitVisible("#done"),
	)
	mu.Lock()
	q := got
	mu.Unlock()
	if q.Get("state") != "browser-state" || q.Get("code") == "" {
		t.Fatalf("RP got %v", q)
	}
	tok, err := conf.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if tok.Extra("id_token") == nil {
		t.Fatal("no ID token")
	}
	if errs := b.ConsoleErrors(); len(errs) != 0 {
		t.Errorf("console errors: %v", errs)
	}
}
