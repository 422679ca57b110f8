package upstream_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/overstap/overstap/adapters/upstream"
	"github.com/overstap/overstap/internal/config"
)

// verifyAssertion is what a vendor's Go app does with the assertion header:
// check the signature against the gateway's JWKS, then iss, aud, exp/nbf.
// Cache the key set and refetch it when an unknown kid shows up (rotation).
func verifyAssertion(raw string, keys jose.JSONWebKeySet, issuer, app string, now time.Time) (string, error) {
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		return "", err
	}
	if len(tok.Headers) != 1 {
		return "", errors.New("one signature expected")
	}
	found := keys.Key(tok.Headers[0].KeyID)
	if len(found) == 0 {
		return "", errors.New("unknown kid: refetch the JWKS once, then refuse")
	}
	var c jwt.Claims
	if err := tok.Claims(found[0].Key, &c); err != nil {
		return "", err
	}
	// Leeway 5 s; the gateway never issues assertions living over 60 s.
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: issuer, AnyAudience: jwt.Audience{app}, Time: now}, 5*time.Second); err != nil {
		return "", err
	}
	if c.Expiry == nil || c.Expiry.Time().Sub(now) > 65*time.Second {
		return "", errors.New("lifetime too long")
	}
	return c.Subject, nil // the legacy account id
}

// Example shows a vendor verifying the gateway's signed identity assertion
// in Go. The gateway side is simulated by a Signer and a JWKS server.
func Example() {
	// Gateway side (done by overstap, shown here to make the example run).
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	signer, _ := upstream.NewSigner(upstream.SignerConfig{
		Issuer: "https://eloket.gemeente.be",
		Keys:   []upstream.KeyConfig{{ID: "2026-11", PrivateKey: config.NewSecret(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))}},
	})
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(signer.JWKS())
	}))
	defer gw.Close()
	now := time.Now()
	assertion, _ := signer.Sign("eloket", upstream.Identity{Account: "legacy-4711"}, false, now, 30*time.Second)

	// App side: fetch the JWKS from <gateway>/.well-known/overstap/jwks.json.
	resp, err := http.Get(gw.URL + upstream.JWKSPath)
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	var keys jose.JSONWebKeySet
	if err := json.Unmarshal(body, &keys); err != nil {
		fmt.Println(err)
		return
	}
	account, err := verifyAssertion(assertion, keys, "https://eloket.gemeente.be", "eloket", now)
	fmt.Println(account, err)
	_, err = verifyAssertion(assertion, keys, "https://eloket.gemeente.be", "other-app", now)
	fmt.Println(err != nil)
	_, err = verifyAssertion(assertion, keys, "https://eloket.gemeente.be", "eloket", now.Add(2*time.Minute))
	fmt.Println(err != nil)
	// Output:
	// legacy-4711 <nil>
	// true
	// true
}
