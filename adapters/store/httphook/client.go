package httphook

import (
	"bytes"
	"context"
	"crypto/hmac"
	crand "crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/overstap/overstap/adapters/store"
	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/internal/config"
)

// Adapter is the adapter name errors start with.
const Adapter = "httphook"

// Config configures the client side: where the vendor's hook is and the
// shared key.
type Config struct {
	// URL is the hook's base URL; protocol paths (/v1/...) are appended.
	// Must be https unless InsecureAllowHTTP.
	URL string `yaml:"url"`
	// Key is the shared HMAC-SHA256 key, at least 32 bytes.
	Key config.Secret `yaml:"key"`
	// Timeout bounds one HTTP attempt (default 10s).
	Timeout time.Duration `yaml:"timeout"`
	// Retries is how often an idempotent call is retried after a network
	// error, 429 or 5xx (default 2; 0 keeps the default, -1 disables).
	// Compare-and-swap and batches are never retried.
	Retries int `yaml:"retries"`
	// SchemeHint applies to accounts for which the hook gives none.
	SchemeHint string `yaml:"scheme_hint"`
	// InsecureAllowHTTP allows a plain-http URL. Only for a hook on the
	// same host or in tests: the protocol signs but does not encrypt.
	InsecureAllowHTTP bool `yaml:"insecure_allow_http"`
	// HTTPClient overrides the transport (tests, custom CAs).
	HTTPClient *http.Client `yaml:"-"`
	// Now is the clock for request timestamps (nil: time.Now).
	Now func() time.Time `yaml:"-"`
}

// Validate reports every problem with the configuration.
func (c Config) Validate() error {
	var errs []error
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		errs = append(errs, errors.New("url: required (the hook's base URL)"))
	case err != nil || !u.IsAbs() || u.Host == "":
		errs = append(errs, errors.New("url: must be an absolute URL"))
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		errs = append(errs, errors.New("url: must not contain credentials, a query or a fragment"))
	case u.Scheme == "http" && !c.InsecureAllowHTTP:
		errs = append(errs, errors.New("url: must be https (or set insecure_allow_http for a hook on the same host)"))
	case u.Scheme != "https" && u.Scheme != "http":
		errs = append(errs, errors.New("url: scheme must be https"))
	}
	if len(c.Key.Bytes()) < MinKeyLen {
		errs = append(errs, errors.New("key: required, at least 32 bytes (a secret reference)"))
	}
	if c.Timeout < 0 || c.Timeout > 5*time.Minute {
		errs = append(errs, errors.New("timeout: must be between 0 (default 10s) and 5m"))
	}
	if c.Retries < -1 || c.Retries > 10 {
		errs = append(errs, errors.New("retries: must be between -1 and 10"))
	}
	return errors.Join(errs...)
}

// maxResponse bounds a response body.
const maxResponse = 64 << 20

// Client is a store.Store talking to a vendor's hook. Safe for concurrent
// use.
type Client struct {
	name    string
	cfg     Config
	base    *url.URL
	hc      *http.Client
	now     func() time.Time
	log     *slog.Logger
	x       store.Errorer
	retries int
	caps    store.Capabilities
}

var _ store.Store = (*Client)(nil)

// Open validates cfg and asks the hook for its capabilities.
func Open(ctx context.Context, name string, cfg Config, logger *slog.Logger) (*Client, error) {
	x := store.Errorer{Adapter: Adapter, Store: name}
	if err := cfg.Validate(); err != nil {
		return nil, x.Err("config", "", err)
	}
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	u, _ := url.Parse(cfg.URL)
	c := &Client{name: name, cfg: cfg, base: u, hc: cfg.HTTPClient, now: cfg.Now, log: logger, x: x, retries: cfg.Retries}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	if c.hc == nil {
		c.hc = &http.Client{Timeout: timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if c.now == nil {
		c.now = time.Now
	}
	switch c.retries {
	case 0:
		c.retries = 2
	case -1:
		c.retries = 0
	}
	var caps capabilitiesResponse
	if err := c.call(ctx, "capabilities", "", http.MethodGet, PathCapabilities, nil, &caps, true); err != nil {
		return nil, err
	}
	c.caps = store.Capabilities{AtomicCAS: caps.AtomicCAS, Federated: caps.Federated, Transactions: caps.Transactions}
	return c, nil
}

// Name returns the configured store name.
func (c *Client) Name() string { return c.name }

// Capabilities are what the hook declared at Open.
func (c *Client) Capabilities() store.Capabilities { return c.caps }

// Close releases idle connections.
func (c *Client) Close() error {
	c.hc.CloseIdleConnections()
	return nil
}

// errRetry marks an attempt worth retrying.
type errRetry struct{ error }

// call performs one protocol call; op and id name it in errors.
func (c *Client) call(ctx context.Context, op, id, method, path string, in, out any, idempotent bool) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return c.x.Errf(op, id, "encode request: %w", err)
		}
	}
	attempts := 1
	if idempotent {
		attempts += c.retries
	}
	var last error
	for i := range attempts {
		if i > 0 {
			d := (100 * time.Millisecond) << (i - 1)
			d = min(d, 2*time.Second)
			d += time.Duration(rand.Int64N(int64(d)/2 + 1))
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return c.x.Errf(op, id, "%w (after: %w)", ctx.Err(), last)
			case <-t.C:
			}
		}
		err := c.attempt(ctx, method, path, body, out)
		var re errRetry
		if !errors.As(err, &re) {
			return c.x.Err(op, id, err)
		}
		last = re.error
		c.log.Warn("httphook: attempt failed", "store", c.name, "op", op, "attempt", i+1, "err", nrn.Scrub(last.Error()))
	}
	return c.x.Errf(op, id, "%w", last)
}

func (c *Client) attempt(ctx context.Context, method, path string, b []byte, out any) error {
	u := *c.base
	u.Path = trimSlash(u.Path) + path
	u.RawPath = ""
	var rd io.Reader
	if b != nil {
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return err
	}
	var nb [18]byte
	crand.Read(nb[:]) // crypto/rand never fails on Linux
	nonce := base64.RawURLEncoding.EncodeToString(nb[:])
	ts := strconv.FormatInt(c.now().Unix(), 10)
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderNonce, nonce)
	req.Header.Set(HeaderSignature, sign(c.cfg.Key.Bytes(), method, u.EscapedPath(), ts, nonce, b))
	if b != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return errRetry{fmt.Errorf("request: %w", err)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return errRetry{fmt.Errorf("reading response: %w", err)}
	}
	if len(data) > maxResponse {
		return errors.New("response larger than 64 MiB")
	}
	if resp.StatusCode == http.StatusUnauthorized {
		return errors.New("the hook refused the request signature (check the shared key and the clocks)")
	}
	if resp.StatusCode == http.StatusTooManyRequests || (resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented) {
		if !c.validResponse(resp, nonce, data) {
			return errRetry{fmt.Errorf("status %d (unsigned)", resp.StatusCode)}
		}
		return errRetry{fmt.Errorf("status %d", resp.StatusCode)}
	}
	if !c.validResponse(resp, nonce, data) {
		return fmt.Errorf("status %d: response signature missing or wrong", resp.StatusCode)
	}
	if resp.StatusCode != http.StatusOK {
		var e errorResponse
		json.Unmarshal(data, &e)
		switch e.Error {
		case CodeNotFound:
			return store.ErrNotFound
		case CodeConflict:
			return store.ErrConflict
		case CodeAmbiguous:
			return store.ErrAmbiguous
		case CodeUnsupported:
			return store.ErrUnsupported
		}
		return fmt.Errorf("status %d, error code %.40q", resp.StatusCode, e.Error)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("decode response: %w", err)
		}
	}
	return nil
}

func (c *Client) validResponse(resp *http.Response, nonce string, data []byte) bool {
	want := signResponse(c.cfg.Key.Bytes(), resp.StatusCode, nonce, data)
	return hmac.Equal([]byte(want), []byte(resp.Header.Get(HeaderSignature)))
}

func trimSlash(p string) string {
	for len(p) > 0 && p[len(p)-1] == '/' {
		p = p[:len(p)-1]
	}
	return p
}

func (c *Client) account(op string, w WireAccount) (store.Account, error) {
	a, err := FromWire(w, c.cfg.SchemeHint)
	if err != nil {
		return store.Account{}, c.x.Errf(op, w.ID, "hook sent a bad account: %w", err)
	}
	return a, nil
}

func (c *Client) accounts(op string, ws []WireAccount) ([]store.Account, error) {
	out := make([]store.Account, 0, len(ws))
	for _, w := range ws {
		a, err := c.account(op, w)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// Iterate returns up to limit accounts after the cursor in the hook's key
// order.
func (c *Client) Iterate(ctx context.Context, after store.Cursor, limit int) ([]store.Account, store.Cursor, error) {
	if err := store.CheckLimit(limit); err != nil || limit > maxIterate {
		return nil, "", c.x.Errf("iterate", "", "limit %d out of range 1..%d", limit, maxIterate)
	}
	var resp accountsResponse
	if err := c.call(ctx, "iterate", "", http.MethodPost, PathIterate, iterateRequest{After: string(after), Limit: limit}, &resp, true); err != nil {
		return nil, "", err
	}
	if len(resp.Accounts) > limit {
		return nil, "", c.x.Errf("iterate", "", "hook returned %d accounts for limit %d", len(resp.Accounts), limit)
	}
	as, err := c.accounts("iterate", resp.Accounts)
	if err != nil {
		return nil, "", err
	}
	if resp.Next != "" && len(as) == 0 {
		return nil, "", c.x.Errf("iterate", "", "hook returned a cursor without accounts")
	}
	return as, store.Cursor(resp.Next), nil
}

// Get returns the account with that id.
func (c *Client) Get(ctx context.Context, id string) (store.Account, error) {
	if id == "" || len(id) > store.MaxValue {
		return store.Account{}, c.x.Err("get", id, store.ErrNotFound)
	}
	var resp accountResponse
	if err := c.call(ctx, "get", id, http.MethodPost, PathGet, getRequest{ID: id}, &resp, true); err != nil {
		return store.Account{}, err
	}
	return c.account("get", resp.Account)
}

// LookupByUsername returns the one account with that username.
func (c *Client) LookupByUsername(ctx context.Context, username string) (store.Account, error) {
	const op = "lookup by username"
	if username == "" || len(username) > store.MaxValue {
		return store.Account{}, c.x.Err(op, "", store.ErrNotFound)
	}
	var req usernameRequest
	req.Username, req.UsernameB64 = encodeBytes(username)
	var resp accountResponse
	if err := c.call(ctx, op, "", http.MethodPost, PathLookupUsername, req, &resp, true); err != nil {
		return store.Account{}, err
	}
	return c.account(op, resp.Account)
}

// LookupByNRN returns every account of the national number.
func (c *Client) LookupByNRN(ctx context.Context, n nrn.Number) ([]store.Account, error) {
	const op = "lookup by nrn"
	if n.IsZero() {
		return nil, c.x.Errf(op, "", "no national number given")
	}
	var resp accountsResponse
	if err := c.call(ctx, op, "", http.MethodPost, PathLookupNRN, nrnRequest{NRN: n.Digits()}, &resp, true); err != nil {
		return nil, err
	}
	return c.accounts(op, resp.Accounts)
}

// CompareAndSwap asks the hook to swap; never retried (a lost response
// leaves the outcome unknown: the error says so and the caller re-reads).
func (c *Client) CompareAndSwap(ctx context.Context, s store.Swap) error {
	if err := s.Check(); err != nil {
		return c.x.Err("compare-and-swap", s.ID, err)
	}
	return c.call(ctx, "compare-and-swap", s.ID, http.MethodPost, PathCompareAndSwap, swapToWire(s), nil, false)
}

// SwapBatch sends the swaps in one request; never retried.
func (c *Client) SwapBatch(ctx context.Context, swaps []store.Swap) ([]error, error) {
	results := make([]error, len(swaps))
	if len(swaps) == 0 {
		return results, nil
	}
	if len(swaps) > maxSwaps {
		return nil, c.x.Errf("swap batch", "", "%d swaps, at most %d", len(swaps), maxSwaps)
	}
	req := batchRequest{Swaps: make([]WireSwap, len(swaps))}
	for i, s := range swaps {
		if err := s.Check(); err != nil {
			return nil, c.x.Err("swap batch", s.ID, err)
		}
		req.Swaps[i] = swapToWire(s)
	}
	var resp batchResponse
	if err := c.call(ctx, "swap batch", "", http.MethodPost, PathSwapBatch, req, &resp, false); err != nil {
		return nil, err
	}
	if len(resp.Results) != len(swaps) {
		return nil, c.x.Errf("swap batch", "", "hook returned %d results for %d swaps", len(resp.Results), len(swaps))
	}
	for i, r := range resp.Results {
		switch r {
		case ResultOK:
		case CodeConflict:
			results[i] = c.x.Err("compare-and-swap", swaps[i].ID, store.ErrConflict)
		case CodeNotFound:
			results[i] = c.x.Err("compare-and-swap", swaps[i].ID, store.ErrNotFound)
		default:
			return nil, c.x.Errf("swap batch", swaps[i].ID, "hook returned an unknown result")
		}
	}
	return results, nil
}

// SetFederated sets the flag (idempotent, so retried).
func (c *Client) SetFederated(ctx context.Context, id string, federated bool) error {
	if !c.caps.Federated {
		return c.x.Err("set federated", id, store.ErrUnsupported)
	}
	return c.call(ctx, "set federated", id, http.MethodPost, PathSetFederated, federatedRequest{ID: id, Federated: federated}, nil, true)
}
