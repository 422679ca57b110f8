package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
)

// jwksMinRefresh is the shortest time between two fetches of a provider's
// key set. A token naming an unknown kid triggers a refetch (OIDC Core
// §10.1.1, key rotation), so without this bound a flood of tokens with
// random kids would make the gateway hammer the IdP's jwks_uri.
const jwksMinRefresh = 30 * time.Second

// jwksFetchTimeout bounds one key set fetch; it runs detached from the
// caller that started it, because other callers wait for the same fetch.
const jwksFetchTimeout = 15 * time.Second

// errKeyNotFound is wrapped when no cached key verifies a token and the key
// set may not be refetched yet.
var errKeyNotFound = errors.New("oidc: no key of the provider verifies the token")

// remoteKeys is the provider's key set, an oidc.KeySet. Unlike go-oidc's
// RemoteKeySet it refetches at most once per jwksMinRefresh (a failed fetch
// counts too: a failing IdP is not retried in a loop), concurrent callers
// share one fetch, and the response body is bounded by maxJWKS.
type remoteKeys struct {
	url    string
	client *http.Client
	now    func() time.Time
	algs   []jose.SignatureAlgorithm
	log    *slog.Logger

	mu       sync.Mutex
	keys     []jose.JSONWebKey
	last     time.Time  // start of the last fetch
	inflight *keysFetch // nil when no fetch runs
	fetches  int        // fetches started, for tests and metrics
}

var _ oidc.KeySet = (*remoteKeys)(nil)

type keysFetch struct {
	done chan struct{}
	err  error
}

func newRemoteKeys(url string, client *http.Client, now func() time.Time, algs []string, log *slog.Logger, initial []jose.JSONWebKey, fetchedAt time.Time) *remoteKeys {
	a := make([]jose.SignatureAlgorithm, len(algs))
	for i, s := range algs {
		a[i] = jose.SignatureAlgorithm(s)
	}
	return &remoteKeys{url: url, client: client, now: now, algs: a, log: log, keys: initial, last: fetchedAt}
}

// VerifySignature implements oidc.KeySet: it verifies jwt with the cached
// key named by its kid (every cached key when it has none), refetching the
// key set once when none verifies and the last fetch is old enough.
func (r *remoteKeys) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	jws, err := jose.ParseSigned(jwt, r.algs)
	if err != nil {
		return nil, fmt.Errorf("oidc: malformed jwt: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("oidc: exactly one signature required")
	}
	kid := jws.Signatures[0].Header.KeyID
	if payload, ok := verifyWith(jws, r.cached(), kid); ok {
		return payload, nil
	}
	if err := r.refresh(ctx); err != nil {
		return nil, err
	}
	if payload, ok := verifyWith(jws, r.cached(), kid); ok {
		return payload, nil
	}
	return nil, fmt.Errorf("%w (kid %.64q)", errKeyNotFound, kid)
}

func verifyWith(jws *jose.JSONWebSignature, keys []jose.JSONWebKey, kid string) ([]byte, bool) {
	for i := range keys {
		if kid != "" && keys[i].KeyID != kid {
			continue
		}
		if payload, err := jws.Verify(&keys[i]); err == nil {
			return payload, true
		}
	}
	return nil, false
}

func (r *remoteKeys) cached() []jose.JSONWebKey {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.keys
}

// refresh refetches the key set, joining a fetch already running, unless
// the last fetch started less than jwksMinRefresh ago.
func (r *remoteKeys) refresh(ctx context.Context) error {
	r.mu.Lock()
	f := r.inflight
	if f == nil {
		if since := r.now().Sub(r.last); since >= 0 && since < jwksMinRefresh {
			r.mu.Unlock()
			return fmt.Errorf("%w; key set not refetched (last fetch %s ago, at most one per %s)", errKeyNotFound, since.Round(time.Second), jwksMinRefresh)
		}
		f = &keysFetch{done: make(chan struct{})}
		r.inflight, r.last = f, r.now()
		r.fetches++
		go r.fetch(f)
	}
	r.mu.Unlock()
	select {
	case <-f.done:
		return f.err
	case <-ctx.Done():
		return fmt.Errorf("oidc: waiting for the key set: %w", ctx.Err())
	}
}

func (r *remoteKeys) fetch(f *keysFetch) {
	ctx, cancel := context.WithTimeout(context.Background(), jwksFetchTimeout)
	defer cancel()
	keys, err := fetchJWKS(ctx, r.client, r.url)
	r.mu.Lock()
	if err == nil {
		r.keys = keys
	}
	r.inflight = nil
	r.mu.Unlock()
	if err != nil {
		r.log.Warn("oidc: key set refetch failed; keeping the cached keys", "err", err)
	}
	f.err = err
	close(f.done)
}

func (r *remoteKeys) fetchCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fetches
}

// fetchJWKS reads a JSON Web Key Set (at most maxJWKS bytes) and returns its
// public signing keys. Keys of types go-jose does not know and keys marked
// "use": "enc" are skipped (RFC 7517 §5); an empty result is an error.
func fetchJWKS(ctx context.Context, client *http.Client, u string) ([]jose.JSONWebKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("oidc: jwks: %w", err)
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("oidc: jwks: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKS+1))
	if err != nil {
		return nil, fmt.Errorf("oidc: jwks: reading: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("oidc: jwks: HTTP %d", resp.StatusCode)
	}
	if len(body) > maxJWKS {
		return nil, errors.New("oidc: jwks: too large")
	}
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("oidc: jwks: %w", err)
	}
	var keys []jose.JSONWebKey
	for _, rk := range raw.Keys {
		var k jose.JSONWebKey
		if err := json.Unmarshal(rk, &k); err != nil {
			if errors.Is(err, jose.ErrUnsupportedKeyType) {
				continue
			}
			return nil, fmt.Errorf("oidc: jwks: %w", err)
		}
		if k.Use == "enc" {
			continue
		}
		if !k.IsPublic() {
			// Never keep private material a misconfigured IdP published.
			k = k.Public()
		}
		if !k.Valid() {
			continue
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("oidc: jwks: no usable signing keys")
	}
	return keys, nil
}
