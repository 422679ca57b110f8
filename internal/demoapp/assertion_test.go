package demoapp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/overstap/overstap/adapters/upstream"
	"github.com/overstap/overstap/internal/config"
)

func signer(t *testing.T, kid string) *upstream.Signer {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	s, err := upstream.NewSigner(upstream.SignerConfig{
		Issuer: "http://127.0.0.1:8080",
		Keys:   []upstream.KeyConfig{{ID: kid, PrivateKey: config.NewSecret(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAssertionVerifier(t *testing.T) {
	good := signer(t, "k1")
	other := signer(t, "k1") // same kid, other key: a forgery
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(good.JWKS()) }))
	defer jwks.Close()
	v := &AssertionVerifier{JWKSURL: jwks.URL, Issuer: "http://127.0.0.1:8080", Audience: "eloket", Header: "X-Overstap-Assertion"}
	now := time.Now()
	sign := func(s *upstream.Signer, aud string, at time.Time) string {
		tok, err := s.Sign(aud, upstream.Identity{Account: "2"}, false, at, 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	for _, tc := range []struct {
		name    string
		hdrs    []string
		wantOK  bool
		wantErr bool
	}{
		{"none", nil, false, false},
		{"valid", []string{sign(good, "eloket", now)}, true, false},
		{"other app", []string{sign(good, "andere-app", now)}, true, true},
		{"expired", []string{sign(good, "eloket", now.Add(-2*time.Minute))}, true, true},
		{"forged key", []string{sign(other, "eloket", now)}, true, true},
		{"two headers", []string{sign(good, "eloket", now), sign(good, "eloket", now)}, true, true},
		{"garbage", []string{"x.y.z"}, true, true},
		{"huge", []string{strings.Repeat("a", 10_000)}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			for _, h := range tc.hdrs {
				r.Header.Add("X-Overstap-Assertion", h)
			}
			acc, ok, err := v.Identity(r)
			if ok != tc.wantOK || (err != nil) != tc.wantErr {
				t.Fatalf("ok=%v err=%v, want ok=%v err=%v", ok, err, tc.wantOK, tc.wantErr)
			}
			if tc.wantOK && !tc.wantErr && acc != "2" {
				t.Fatalf("account = %q", acc)
			}
		})
	}
}
