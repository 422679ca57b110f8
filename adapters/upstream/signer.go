package upstream

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/overstap/overstap/internal/config"
)

// JWKSPath is where the gateway serves the public keys of the assertion.
const JWKSPath = "/.well-known/overstap/jwks.json"

// MaxLifetime is the longest lifetime an assertion may have.
const MaxLifetime = 60 * time.Second

// KeyConfig is one signing key.
type KeyConfig struct {
	// ID is the key id (kid) published in the JWKS and the JWT header.
	ID string `yaml:"id"`
	// PrivateKey is a PEM private key (PKCS#8, SEC1 EC or PKCS#1 RSA):
	// P-256 signs ES256, RSA (2048 bits or more) signs RS256.
	PrivateKey config.Secret `yaml:"private_key"`
}

// SignerConfig configures the assertion signer.
type SignerConfig struct {
	// Issuer is the iss of every assertion (default: the gateway's public_url).
	Issuer string `yaml:"issuer"`
	// Keys: the first signs, all are published, so a new key can be
	// published before it signs and an old one kept until assertions
	// signed with it have expired (rotation).
	Keys []KeyConfig `yaml:"keys"`
}

// Validate reports every problem of the configuration. An empty
// configuration is valid (no app uses the assertion profile); NewSigner
// refuses it.
func (c *SignerConfig) Validate() error {
	if c.Issuer == "" && len(c.Keys) == 0 {
		return nil
	}
	if c.Issuer == "" { // the gateway fills in its public_url
		d := *c
		d.Issuer = "https://issuer.invalid"
		return d.validate()
	}
	return c.validate()
}

func (c *SignerConfig) validate() error {
	var errs []error
	if u, err := url.Parse(c.Issuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, errors.New("issuer: must be the gateway's absolute URL"))
	}
	if len(c.Keys) == 0 {
		errs = append(errs, errors.New("keys: at least one signing key is required for the assertion profile"))
	}
	seen := map[string]bool{}
	for i, k := range c.Keys {
		if k.ID == "" || seen[k.ID] {
			errs = append(errs, fmt.Errorf("keys[%d].id: required and unique", i))
		}
		seen[k.ID] = true
		if _, _, err := parseKey(k.PrivateKey.Bytes()); err != nil {
			errs = append(errs, fmt.Errorf("keys[%d].private_key: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

// parseKey reads a PEM private key and picks its algorithm.
func parseKey(p []byte) (crypto.Signer, jose.SignatureAlgorithm, error) {
	b, _ := pem.Decode(p)
	if b == nil {
		return nil, "", errors.New("not a PEM private key")
	}
	var k any
	var err error
	switch b.Type {
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(b.Bytes)
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	default:
		return nil, "", fmt.Errorf("unsupported PEM block %q", b.Type)
	}
	if err != nil {
		return nil, "", fmt.Errorf("parse: %w", err)
	}
	switch k := k.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, "", errors.New("EC keys must be P-256 (ES256)")
		}
		return k, jose.ES256, nil
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return nil, "", errors.New("RSA keys must have at least 2048 bits")
		}
		return k, jose.RS256, nil
	}
	return nil, "", errors.New("only P-256 EC and RSA keys are supported")
}

// Signer signs identity assertions. It is safe for concurrent use.
type Signer struct {
	issuer string
	signer jose.Signer
	jwks   []byte
}

// NewSigner validates the configuration and loads the keys.
func NewSigner(c SignerConfig) (*Signer, error) {
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("upstream: %w", err)
	}
	var set jose.JSONWebKeySet
	var s *Signer
	for i, kc := range c.Keys {
		k, alg, _ := parseKey(kc.PrivateKey.Bytes())
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.Public(), KeyID: kc.ID, Algorithm: string(alg), Use: "sig"})
		if i == 0 {
			js, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: k, KeyID: kc.ID}},
				(&jose.SignerOptions{}).WithType("JWT"))
			if err != nil {
				return nil, fmt.Errorf("upstream: signer: %w", err)
			}
			s = &Signer{issuer: c.Issuer, signer: js}
		}
	}
	b, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("upstream: jwks: %w", err)
	}
	s.jwks = b
	return s, nil
}

// JWKS returns the public key set as JSON (served at JWKSPath).
func (s *Signer) JWKS() []byte { return s.jwks }

// Issuer returns the iss of the assertions.
func (s *Signer) Issuer() string { return s.issuer }

// Claims are the claims of an identity assertion.
type Claims struct {
	jwt.Claims
	Name  string `json:"name,omitempty"`
	Level string `json:"acr,omitempty"`
	NRN   string `json:"nrn,omitempty"`
	// Registration: a verified citizen without an account (no sub); only
	// the app's registration route receives it.
	Registration bool `json:"registration,omitempty"`
}

// Sign makes an assertion for audience about id, valid for lifetime
// (capped at MaxLifetime) from now.
func (s *Signer) Sign(audience string, id Identity, withNRN bool, now time.Time, lifetime time.Duration) (string, error) {
	switch {
	case id.Registering && (id.Account != "" || id.NRN.IsZero() || !withNRN):
		return "", ErrRegistration
	case !id.Registering && id.Account == "":
		return "", ErrNoAccount
	}
	lifetime = min(lifetime, MaxLifetime)
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", fmt.Errorf("upstream: jti: %w", err)
	}
	c := Claims{
		Claims: jwt.Claims{
			Issuer:    s.issuer,
			Subject:   id.Account,
			Audience:  jwt.Audience{audience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now.Add(-5 * time.Second)),
			Expiry:    jwt.NewNumericDate(now.Add(lifetime)),
			ID:        base64.RawURLEncoding.EncodeToString(jti[:]),
		},
		Name:         id.Name,
		Level:        id.Level.String(),
		Registration: id.Registering,
	}
	if withNRN && !id.NRN.IsZero() {
		c.NRN = id.NRN.Digits()
	}
	tok, err := jwt.Signed(s.signer).Claims(c).Serialize()
	if err != nil {
		return "", fmt.Errorf("upstream: sign: %w", err)
	}
	return tok, nil
}
