package httphook

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/overstap/overstap/adapters/store"
	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/internal/wiresign"
)

// Server is the reference hook server: it serves the protocol from any
// store.Store. Vendors run it in front of their database (e.g. with the
// sqlstore adapter) or copy it into their own code base.
type Server struct {
	backend store.Store
	key     []byte
	log     *slog.Logger
	mux     *http.ServeMux
	verify  *wiresign.Verifier
}

// ServerConfig configures a Server.
type ServerConfig struct {
	// Backend is the store the hook serves.
	Backend store.Store
	// Key is the shared HMAC key (at least 32 bytes).
	Key []byte
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Logger receives request failures (nil: discard).
	Logger *slog.Logger
}

// Limits of the server.
const (
	// Window is how far a request's timestamp may be from the server's
	// clock, either way.
	Window = 5 * time.Minute
	// maxNonces bounds the replay cache; beyond it the server refuses
	// requests (fail closed) until old entries expire.
	maxNonces = 200_000
	// maxRequestBody bounds a request body.
	maxRequestBody = 8 << 20
	// maxIterate bounds one page.
	maxIterate = 10_000
	// maxSwaps bounds one batch.
	maxSwaps = 10_000
)

// NewServer returns a Server for cfg.
func NewServer(cfg ServerConfig) (*Server, error) {
	var errs []error
	if cfg.Backend == nil {
		errs = append(errs, errors.New("httphook: server needs a backend store"))
	}
	if len(cfg.Key) < MinKeyLen {
		errs = append(errs, errors.New("httphook: server key shorter than 32 bytes"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	s := &Server{backend: cfg.Backend, key: append([]byte(nil), cfg.Key...), log: cfg.Logger}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	s.verify = &wiresign.Verifier{Domain: hookDomain, Key: s.key, Now: now, Window: Window, MaxNonces: maxNonces}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	m := http.NewServeMux()
	m.HandleFunc("GET "+PathCapabilities, s.auth(s.capabilities))
	m.HandleFunc("POST "+PathGet, s.auth(s.get))
	m.HandleFunc("POST "+PathLookupUsername, s.auth(s.lookupUsername))
	m.HandleFunc("POST "+PathLookupNRN, s.auth(s.lookupNRN))
	m.HandleFunc("POST "+PathIterate, s.auth(s.iterate))
	m.HandleFunc("POST "+PathCompareAndSwap, s.auth(s.compareAndSwap))
	m.HandleFunc("POST "+PathSwapBatch, s.auth(s.swapBatch))
	m.HandleFunc("POST "+PathSetFederated, s.auth(s.setFederated))
	s.mux = m
	return s, nil
}

// ServeHTTP serves the protocol.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// reply is what a handler answers: a status and a JSON value.
type reply struct {
	status int
	body   any
}

type handler func(r *http.Request, body []byte) reply

func fail(status int, code string) reply { return reply{status, errorResponse{Error: code}} }

// auth verifies the signature, the time window and the nonce, then runs h
// and signs its response.
func (s *Server) auth(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
		if err != nil {
			s.write(w, "", fail(http.StatusRequestEntityTooLarge, CodeBadRequest))
			return
		}
		nonce := r.Header.Get(HeaderNonce)
		if code := s.verify.Verify(r, body); code != "" {
			s.log.Warn("httphook: request refused", "path", r.URL.Path, "reason", code)
			// Unsigned: an unauthenticated caller learns nothing from it.
			s.write(w, "", fail(http.StatusUnauthorized, CodeUnauthorized))
			return
		}
		s.write(w, nonce, h(r, body))
	}
}

func (s *Server) write(w http.ResponseWriter, nonce string, rep reply) {
	b, err := json.Marshal(rep.body)
	if err != nil {
		rep, b = fail(http.StatusInternalServerError, CodeInternal), []byte(`{"error":"internal"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if nonce != "" {
		w.Header().Set(HeaderSignature, signResponse(s.key, rep.status, nonce, b))
	}
	w.WriteHeader(rep.status)
	w.Write(b)
}

// decode parses a request body strictly.
func decode(body []byte, v any) bool {
	d := json.NewDecoder(strings.NewReader(string(body)))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return false
	}
	return !d.More()
}

// mapErr turns a backend error into a reply; the error itself is logged,
// redacted, never sent.
func (s *Server) mapErr(err error) reply {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fail(http.StatusNotFound, CodeNotFound)
	case errors.Is(err, store.ErrConflict):
		return fail(http.StatusConflict, CodeConflict)
	case errors.Is(err, store.ErrAmbiguous):
		return fail(http.StatusConflict, CodeAmbiguous)
	case errors.Is(err, store.ErrUnsupported):
		return fail(http.StatusNotImplemented, CodeUnsupported)
	}
	s.log.Error("httphook: backend failed", "err", nrn.Scrub(err.Error()))
	return fail(http.StatusInternalServerError, CodeInternal)
}

func (s *Server) capabilities(*http.Request, []byte) reply {
	c := s.backend.Capabilities()
	return reply{http.StatusOK, capabilitiesResponse{AtomicCAS: c.AtomicCAS, Federated: c.Federated, Transactions: c.Transactions}}
}

func (s *Server) get(r *http.Request, body []byte) reply {
	var req getRequest
	if !decode(body, &req) {
		return fail(http.StatusBadRequest, CodeBadRequest)
	}
	a, err := s.backend.Get(r.Context(), req.ID)
	if err != nil {
		return s.mapErr(err)
	}
	return reply{http.StatusOK, accountResponse{Account: ToWire(a)}}
}

func (s *Server) lookupUsername(r *http.Request, body []byte) reply {
	var req usernameRequest
	if !decode(body, &req) {
		return fail(http.StatusBadRequest, CodeBadRequest)
	}
	u, err := decodeBytes(req.Username, req.UsernameB64)
	if err != nil {
		return fail(http.StatusBadRequest, CodeBadRequest)
	}
	a, err := s.backend.LookupByUsername(r.Context(), u)
	if err != nil {
		return s.mapErr(err)
	}
	return reply{http.StatusOK, accountResponse{Account: ToWire(a)}}
}

func (s *Server) lookupNRN(r *http.Request, body []byte) reply {
	var req nrnRequest
	if !decode(body, &req) {
		return fail(http.StatusBadRequest, CodeBadRequest)
	}
	n, err := nrn.Parse(req.NRN)
	if err != nil {
		return fail(http.StatusBadRequest, CodeBadRequest)
	}
	as, err := s.backend.LookupByNRN(r.Context(), n)
	if err != nil {
		return s.mapErr(err)
	}
	return reply{http.StatusOK, accountsResponse{Accounts: wireAll(as)}}
}

func wireAll(as []store.Account) []WireAccount {
	out := make([]WireAccount, len(as))
	for i, a := range as {
		out[i] = ToWire(a)
	}
	return out
}

func (s *Server) iterate(r *http.Request, body []byte) reply {
	var req iterateRequest
	if !decode(body, &req) || req.Limit <= 0 || req.Limit > maxIterate {
		return fail(http.StatusBadRequest, CodeBadRequest)
	}
	as, next, err := s.backend.Iterate(r.Context(), store.Cursor(req.After), req.Limit)
	if err != nil {
		return s.mapErr(err)
	}
	return reply{http.StatusOK, accountsResponse{Accounts: wireAll(as), Next: string(next)}}
}

func (s *Server) compareAndSwap(r *http.Request, body []byte) reply {
	var req WireSwap
	if !decode(body, &req) {
		return fail(http.StatusBadRequest, CodeBadRequest)
	}
	sw, err := swapFromWire(req)
	if err != nil {
		return fail(http.StatusBadRequest, CodeBadRequest)
	}
	if err := s.backend.CompareAndSwap(r.Context(), sw); err != nil {
		return s.mapErr(err)
	}
	return reply{http.StatusOK, struct{}{}}
}

func (s *Server) swapBatch(r *http.Request, body []byte) reply {
	var req batchRequest
	if !decode(body, &req) || len(req.Swaps) > maxSwaps {
		return fail(http.StatusBadRequest, CodeBadRequest)
	}
	swaps := make([]store.Swap, len(req.Swaps))
	for i, w := range req.Swaps {
		sw, err := swapFromWire(w)
		if err != nil {
			return fail(http.StatusBadRequest, CodeBadRequest)
		}
		swaps[i] = sw
	}
	res, err := s.backend.SwapBatch(r.Context(), swaps)
	if err != nil {
		return s.mapErr(err)
	}
	out := batchResponse{Results: make([]string, len(res))}
	for i, e := range res {
		switch {
		case e == nil:
			out.Results[i] = ResultOK
		case errors.Is(e, store.ErrConflict):
			out.Results[i] = CodeConflict
		case errors.Is(e, store.ErrNotFound):
			out.Results[i] = CodeNotFound
		default:
			return s.mapErr(e)
		}
	}
	return reply{http.StatusOK, out}
}

func (s *Server) setFederated(r *http.Request, body []byte) reply {
	var req federatedRequest
	if !decode(body, &req) {
		return fail(http.StatusBadRequest, CodeBadRequest)
	}
	if err := s.backend.SetFederated(r.Context(), req.ID, req.Federated); err != nil {
		return s.mapErr(err)
	}
	return reply{http.StatusOK, struct{}{}}
}
