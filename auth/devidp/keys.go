package devidp

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// signingKey is the one RSA key all profiles sign with (RS256).
type signingKey struct {
	priv *rsa.PrivateKey
	kid  string
}

func newSigningKey(priv *rsa.PrivateKey) (*signingKey, error) {
	if priv.N.BitLen() < 2048 {
		return nil, errors.New("devidp: signing key must be at least 2048 bits")
	}
	jwk := jose.JSONWebKey{Key: &priv.PublicKey}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("devidp: key thumbprint: %w", err)
	}
	return &signingKey{priv: priv, kid: base64.RawURLEncoding.EncodeToString(tp)[:16]}, nil
}

func parseRSAKey(pemBytes []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("not a PEM block")
	}
	var key any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM type %q is not an RSA private key", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("parsing key: %w", err)
	}
	rk, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("not an RSA key")
	}
	if rk.N.BitLen() < 2048 {
		return nil, errors.New("RSA key must be at least 2048 bits")
	}
	return rk, nil
}

// op.SigningKey
func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *signingKey) Key() any                                    { return k.priv }
func (k *signingKey) ID() string                                  { return k.kid }

// publicKey is the op.Key view of the signing key for the JWKS endpoint.
type publicKey struct{ k *signingKey }

func (p publicKey) ID() string                         { return p.k.kid }
func (p publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (p publicKey) Use() string                        { return "sig" }
func (p publicKey) Key() any                           { return &p.k.priv.PublicKey }

var (
	_ op.SigningKey = (*signingKey)(nil)
	_ op.Key        = publicKey{}
)

// jwks returns the public JWK set of the signing key.
func (k *signingKey) jwks() jose.JSONWebKeySet {
	return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.priv.PublicKey, KeyID: k.kid, Algorithm: string(jose.RS256), Use: "sig"}}}
}

// sign signs claims as a compact JWS with typ (empty: "JWT").
func (k *signingKey) sign(claims any, typ string) (string, error) {
	if typ == "" {
		typ = "JWT"
	}
	opts := (&jose.SignerOptions{}).WithType(jose.ContentType(typ)).WithHeader(jose.HeaderKey("kid"), k.kid)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: k.priv}, opts)
	if err != nil {
		return "", fmt.Errorf("devidp: signer: %w", err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("devidp: claims: %w", err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("devidp: signing: %w", err)
	}
	return jws.CompactSerialize()
}

// encryptJWT encrypts a signed JWT to the client's enc key: JWE with
// RSA-OAEP-256 key wrapping, A256GCM content encryption and cty "JWT"
// (nested JWT, RFC 7519 §5.2), as itsme does.
func encryptJWT(signed string, enc *jose.JSONWebKey) (string, error) {
	pub, ok := enc.Key.(*rsa.PublicKey)
	if !ok {
		return "", errors.New("devidp: the client's enc key is not an RSA public key")
	}
	return encryptNested(signed, jose.Recipient{Algorithm: jose.RSA_OAEP_256, Key: pub, KeyID: enc.KeyID})
}

// encryptJWTDirect encrypts a signed JWT with "dir" + A256GCM under the
// key derived from a client secret (OIDC Core §10.2).
func encryptJWTDirect(signed string, secret []byte) (string, error) {
	if len(secret) == 0 {
		return "", errors.New("devidp: no client secret to derive the key from")
	}
	key := sha256.Sum256(secret)
	return encryptNested(signed, jose.Recipient{Algorithm: jose.DIRECT, Key: key[:]})
}

// encryptNested encrypts a signed JWT to rcpt with A256GCM content
// encryption and cty "JWT" (a nested JWT).
func encryptNested(signed string, rcpt jose.Recipient) (string, error) {
	opts := (&jose.EncrypterOptions{}).WithContentType("JWT").WithType("JWT")
	e, err := jose.NewEncrypter(jose.A256GCM, rcpt, opts)
	if err != nil {
		return "", fmt.Errorf("devidp: encrypter: %w", err)
	}
	obj, err := e.Encrypt([]byte(signed))
	if err != nil {
		return "", fmt.Errorf("devidp: encrypting: %w", err)
	}
	return obj.CompactSerialize()
}

// keyCache fetches client JWK sets from jwks_uri (loopback only, checked at
// registration) and keeps them one minute.
type keyCache struct {
	mu     sync.Mutex
	client *http.Client
	now    func() time.Time
	sets   map[string]cachedSet
}

type cachedSet struct {
	set     *jose.JSONWebKeySet
	fetched time.Time
}

func (c *keyCache) get(ctx context.Context, uri string) (*jose.JSONWebKeySet, error) {
	c.mu.Lock()
	if cs, ok := c.sets[uri]; ok && c.now().Sub(cs.fetched) < time.Minute {
		c.mu.Unlock()
		return cs.set, nil
	}
	c.mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, fmt.Errorf("devidp: jwks_uri: %w", err)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("devidp: fetching client JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("devidp: fetching client JWKS: status %d", resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil || len(b) > maxJWKSBytes {
		return nil, errors.New("devidp: client JWKS unreadable or too large")
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("devidp: client JWKS: %w", err)
	}
	if err := checkClientKeys(&set); err != nil {
		return nil, fmt.Errorf("devidp: client JWKS: %w", err)
	}
	c.mu.Lock()
	if len(c.sets) > 1000 {
		clear(c.sets)
	}
	c.sets[uri] = cachedSet{set: &set, fetched: c.now()}
	c.mu.Unlock()
	return &set, nil
}

func generateRSAKey() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) }

// maxJTIs caps the client-assertion replay cache.
const maxJTIs = 100_000

// reserveJTI records a client-assertion id until its expiry (at most 1 h,
// the longest iat age op accepts) and reports false if it was already used
// or the cache is full of unexpired ids (fail closed).
func (s *Server) reserveJTI(key string, exp time.Time) bool {
	now := s.now()
	if limit := now.Add(time.Hour); exp.After(limit) || exp.IsZero() {
		exp = limit
	}
	s.jtiMu.Lock()
	defer s.jtiMu.Unlock()
	if e, ok := s.jtis[key]; ok && now.Before(e) {
		return false
	}
	if len(s.jtis) >= maxJTIs {
		for k, e := range s.jtis {
			if now.After(e) {
				delete(s.jtis, k)
			}
		}
		if len(s.jtis) >= maxJTIs {
			return false
		}
	}
	s.jtis[key] = exp
	return true
}

// releaseJTI forgets an id whose request failed, so the client may retry.
func (s *Server) releaseJTI(key string) {
	s.jtiMu.Lock()
	defer s.jtiMu.Unlock()
	delete(s.jtis, key)
}
