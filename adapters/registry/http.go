package registry

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/internal/wiresign"
)

// The signed JSON protocol (docs/adapters/registry.md). It is the store
// hook's scheme (internal/wiresign) with its own domain string, so a
// signature of one protocol is never valid in the other.
const (
	HeaderTimestamp = wiresign.HeaderTimestamp
	HeaderNonce     = wiresign.HeaderNonce
	HeaderSignature = wiresign.HeaderSignature
	PathPerson      = "/v1/person"
	PathHousehold   = "/v1/household"
	// MinKeyLen is the minimum length of the shared key.
	MinKeyLen = 32
	// Window is how far a request timestamp may be from the server's clock.
	Window = 5 * time.Minute
)

const maxWireBody = 1 << 20

const registryDomain = wiresign.Domain("overstap-registry-v1")

// maxNonces bounds the server's replay cache (more than 100 000 held
// nonces: refused).
const maxNonces = 100_001

func signRequest(key []byte, method, path, ts, nonce string, body []byte) string {
	return registryDomain.Request(key, method, path, ts, nonce, body)
}

func signResponse(key []byte, status int, nonce string, body []byte) string {
	return registryDomain.Response(key, status, nonce, body)
}

// Wire types.
type (
	wireRequest struct {
		NRN string `json:"nrn"`
	}
	wirePerson struct {
		NRN       string   `json:"nrn"`
		BirthDate string   `json:"birth_date,omitempty"`
		Deceased  bool     `json:"deceased"`
		Children  []string `json:"children"`
		Wards     []string `json:"wards"`
	}
	wireMember struct {
		NRN      string `json:"nrn"`
		Position string `json:"position"`
		Begin    string `json:"begin,omitempty"`
		End      string `json:"end,omitempty"`
	}
	wireHousehold struct {
		ID      string       `json:"id"`
		Members []wireMember `json:"members"`
	}
	wireError struct {
		Error string `json:"error"`
	}
)

// HTTPSource is a Source asking a signed JSON service.
type HTTPSource struct {
	base *url.URL
	key  []byte
	hc   *http.Client
	now  func() time.Time
}

var _ Source = (*HTTPSource)(nil)

// NewHTTP validates c and returns the source. It does not call the
// service: an unreachable service fails lookups closed.
func NewHTTP(c HTTPConfig) (*HTTPSource, error) {
	if err := c.check(); err != nil {
		return nil, fmt.Errorf("registry: invalid http config: %w", err)
	}
	u, _ := url.Parse(strings.TrimSuffix(c.URL, "/"))
	s := &HTTPSource{base: u, key: c.Key.Bytes(), hc: c.HTTPClient, now: c.Now}
	t := c.Timeout
	if t == 0 {
		t = 5 * time.Second
	}
	if s.hc == nil {
		s.hc = &http.Client{Timeout: t, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Name implements Source.
func (s *HTTPSource) Name() string { return "http" }

func (s *HTTPSource) call(ctx context.Context, path string, n nrn.Number, out any) error {
	body, _ := json.Marshal(wireRequest{NRN: n.Digits()})
	var nb [16]byte
	_, _ = rand.Read(nb[:])
	nonce := hex.EncodeToString(nb[:])
	ts := strconv.FormatInt(s.now().Unix(), 10)
	full := s.base.Path + path
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base.Scheme+"://"+s.base.Host+full, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: http: %v", ErrUnavailable, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderNonce, nonce)
	req.Header.Set(HeaderSignature, signRequest(s.key, http.MethodPost, full, ts, nonce, body))
	resp, err := s.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%w: http %s: %s", ErrUnavailable, path, nrn.Scrub(err.Error()))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxWireBody+1))
	if err != nil || len(data) > maxWireBody {
		return fmt.Errorf("%w: http %s: response unreadable or too large", ErrUnavailable, path)
	}
	if !hmac.Equal([]byte(resp.Header.Get(HeaderSignature)), []byte(signResponse(s.key, resp.StatusCode, nonce, data))) {
		return fmt.Errorf("%w: http %s: response signature invalid (status %d)", ErrUnavailable, path, resp.StatusCode)
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return ErrNotFound
	default:
		return fmt.Errorf("%w: http %s: status %d", ErrUnavailable, path, resp.StatusCode)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("%w: http %s: malformed response", ErrUnavailable, path)
	}
	return nil
}

func parseList(ss []string) ([]nrn.Number, error) {
	out := make([]nrn.Number, 0, len(ss))
	for _, s := range ss {
		n, err := nrn.Parse(s)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

func parseDate(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.DateOnly, s)
}

// Person implements Source.
func (s *HTTPSource) Person(ctx context.Context, n nrn.Number) (Person, error) {
	if n.IsZero() {
		return Person{}, ErrNotFound
	}
	var w wirePerson
	if err := s.call(ctx, PathPerson, n, &w); err != nil {
		return Person{}, err
	}
	p := Person{NRN: n, Deceased: w.Deceased}
	var err error
	if p.Birth, err = parseDate(w.BirthDate); err != nil {
		return Person{}, fmt.Errorf("%w: http: birth_date is not YYYY-MM-DD", ErrUnavailable)
	}
	if p.Children, err = parseList(w.Children); err != nil {
		return Person{}, fmt.Errorf("%w: http: invalid national number among children", ErrUnavailable)
	}
	if p.Wards, err = parseList(w.Wards); err != nil {
		return Person{}, fmt.Errorf("%w: http: invalid national number among wards", ErrUnavailable)
	}
	if got, err := nrn.Parse(w.NRN); err != nil || !got.Equal(n) {
		return Person{}, fmt.Errorf("%w: http: the answer is about another person", ErrUnavailable)
	}
	return p, nil
}

// Household implements Source.
func (s *HTTPSource) Household(ctx context.Context, n nrn.Number) (Household, error) {
	if n.IsZero() {
		return Household{}, ErrNotFound
	}
	var w wireHousehold
	if err := s.call(ctx, PathHousehold, n, &w); err != nil {
		return Household{}, err
	}
	h := Household{ID: w.ID}
	for _, m := range w.Members {
		num, err := nrn.Parse(m.NRN)
		if err != nil {
			return Household{}, fmt.Errorf("%w: http: invalid national number in household", ErrUnavailable)
		}
		b, err1 := parseDate(m.Begin)
		e, err2 := parseDate(m.End)
		if err1 != nil || err2 != nil {
			return Household{}, fmt.Errorf("%w: http: household dates are not YYYY-MM-DD", ErrUnavailable)
		}
		h.Members = append(h.Members, Member{NRN: num, Position: m.Position, Begin: b, End: e})
	}
	return h, nil
}

// Server serves a Source over the signed protocol: what a municipality
// (or a MAGDA gateway) runs for kind http, and the tests' fake.
type Server struct {
	src    Source
	key    []byte
	log    *slog.Logger
	verify *wiresign.Verifier
}

// NewServer returns the handler. now nil means time.Now.
func NewServer(src Source, key []byte, now func() time.Time, logger *slog.Logger) (*Server, error) {
	if len(key) < MinKeyLen {
		return nil, errors.New("registry: server key must be at least 32 bytes")
	}
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Server{src: src, key: key, log: logger,
		verify: &wiresign.Verifier{Domain: registryDomain, Key: key, Now: now, Window: Window, MaxNonces: maxNonces}}, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 4<<10))
	if err != nil {
		s.write(w, "", http.StatusRequestEntityTooLarge, wireError{"bad_request"})
		return
	}
	nonce := r.Header.Get(HeaderNonce)
	if why := s.verify.Verify(r, body); why != "" {
		s.log.Warn("registry: request refused", "reason", why)
		s.write(w, "", http.StatusUnauthorized, wireError{"unauthorized"})
		return
	}
	if r.Method != http.MethodPost {
		s.write(w, nonce, http.StatusMethodNotAllowed, wireError{"bad_request"})
		return
	}
	var req wireRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	n, perr := nrn.Number{}, error(nil)
	if err := dec.Decode(&req); err == nil {
		n, perr = nrn.Parse(req.NRN)
	}
	if err != nil || perr != nil {
		s.write(w, nonce, http.StatusBadRequest, wireError{"bad_request"})
		return
	}
	switch {
	case strings.HasSuffix(r.URL.Path, PathPerson):
		p, err := s.src.Person(r.Context(), n)
		if s.fail(w, nonce, err) {
			return
		}
		out := wirePerson{NRN: n.Digits(), Deceased: p.Deceased, Children: digits(p.Children), Wards: digits(p.Wards)}
		if !p.Birth.IsZero() {
			out.BirthDate = p.Birth.Format(time.DateOnly)
		}
		s.write(w, nonce, http.StatusOK, out)
	case strings.HasSuffix(r.URL.Path, PathHousehold):
		h, err := s.src.Household(r.Context(), n)
		if s.fail(w, nonce, err) {
			return
		}
		out := wireHousehold{ID: h.ID, Members: []wireMember{}}
		for _, m := range h.Members {
			wm := wireMember{NRN: m.NRN.Digits(), Position: m.Position}
			if !m.Begin.IsZero() {
				wm.Begin = m.Begin.Format(time.DateOnly)
			}
			if !m.End.IsZero() {
				wm.End = m.End.Format(time.DateOnly)
			}
			out.Members = append(out.Members, wm)
		}
		s.write(w, nonce, http.StatusOK, out)
	default:
		s.write(w, nonce, http.StatusNotFound, wireError{"unknown_path"})
	}
}

func digits(ns []nrn.Number) []string {
	out := make([]string, 0, len(ns))
	for _, n := range ns {
		out = append(out, n.Digits())
	}
	return out
}

func (s *Server) fail(w http.ResponseWriter, nonce string, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrNotConfigured):
		s.write(w, nonce, http.StatusNotFound, wireError{"not_found"})
	default:
		s.log.Warn("registry: source failed", "err", nrn.Scrub(err.Error()))
		s.write(w, nonce, http.StatusServiceUnavailable, wireError{"unavailable"})
	}
	return true
}

func (s *Server) write(w http.ResponseWriter, nonce string, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	if nonce != "" {
		w.Header().Set(HeaderSignature, signResponse(s.key, status, nonce, b))
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
