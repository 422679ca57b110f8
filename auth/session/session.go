package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/overstap/overstap/auth/identity"
	"github.com/overstap/overstap/auth/nrn"
)

// Errors callers branch on with errors.Is.
var (
	// ErrNotFound means there is no valid session for the id: unknown,
	// malformed, expired, deleted, revoked, or sealed with a key that is no
	// longer in the ring. The gateway treats it as "not logged in".
	ErrNotFound = errors.New("session: not found")
	// ErrUnavailable means the store could not be reached or failed (Redis
	// down, timeout, context cancelled). The cause is wrapped too. The
	// gateway fails closed on it (503), it must not treat it as logged out.
	ErrUnavailable = errors.New("session: store unavailable")
	// ErrInvalid means a session given to Create breaks a bound or misses
	// a required field.
	ErrInvalid = errors.New("session: invalid session")
)

// Session is one login. The store sets CreatedAt, LastSeen, IdleExpiry and
// normalises AbsoluteExpiry on Create; times come back in UTC, truncated to
// the millisecond.
type Session struct {
	// Identity is what the login proved, kept unchanged (auth/identity).
	// Issuer and Subject are required. Its NRN is stored only inside the
	// sealed record; it never appears in a key, a log or an error. Its
	// AuthTime is when the user authenticated at the provider (auth_time,
	// or the callback time when the provider does not send it).
	identity.Identity
	// NRNRef is the keyed reference of the national number, made with
	// nrn.Number.Ref; RevokePerson finds sessions by it. Empty only for a
	// login without a national number.
	NRNRef string
	// AccountID is the legacy application's account id, if linked.
	AccountID string
	// CreatedAt is when the session was created (set by the store).
	CreatedAt time.Time
	// LastSeen is the last time the store recorded activity (set by the
	// store; it moves in steps of Config.TouchInterval, not per request).
	LastSeen time.Time
	// IdleExpiry is when the session ends without activity: the earlier of
	// LastSeen + Config.IdleTimeout and AbsoluteExpiry (set by the store).
	IdleExpiry time.Time
	// AbsoluteExpiry is when the session ends regardless of activity. On
	// Create the store keeps a caller's earlier value and otherwise uses
	// CreatedAt + Config.AbsoluteTimeout.
	AbsoluteExpiry time.Time
	// IDToken is the raw ID token, kept for the id_token_hint of
	// RP-initiated logout. Create stores it in a separate record; Load does
	// not return it (read it with Store.IDToken at logout).
	IDToken string
}

// Store keeps sessions. Implementations are safe for concurrent use. Every
// method returns ErrUnavailable (wrapping the cause) when the backing
// service fails, and never puts a session id, a national number or a
// subject in an error.
type Store interface {
	// Create stores s under a fresh random id (256 bits from crypto/rand,
	// new on every call, so a login never reuses an id) and returns the
	// id, the value for the session cookie. It sets s.CreatedAt,
	// s.LastSeen, s.IdleExpiry and s.AbsoluteExpiry. ErrInvalid for a
	// session that breaks a bound.
	Create(ctx context.Context, s *Session) (id string, err error)
	// Load returns the session for id, or ErrNotFound. It checks idle and
	// absolute expiry and revocation, and slides the idle expiry, writing
	// only when LastSeen is older than Config.TouchInterval. The returned
	// session is the caller's copy; its IDToken is empty.
	Load(ctx context.Context, id string) (*Session, error)
	// IDToken returns the ID token stored with the session, or
	// ErrNotFound. It is a logout hint only: it may still be returned after
	// the session's idle expiry (until its absolute expiry), so it must not
	// be taken as proof of a live session — call Load for that.
	IDToken(ctx context.Context, id string) (string, error)
	// Delete removes the session (logout). Deleting an unknown id is not
	// an error.
	Delete(ctx context.Context, id string) error
	// RevokePerson removes every session whose NRNRef is ref and returns
	// how many were removed.
	RevokePerson(ctx context.Context, ref string) (int, error)
	// RevokeSID removes the sessions of issuer with this sid (OIDC
	// Back-Channel Logout 1.0 §2.5) and returns how many were removed.
	RevokeSID(ctx context.Context, issuer, sid string) (int, error)
	// RevokeSubject removes every session of issuer's subject sub and
	// returns how many were removed.
	RevokeSubject(ctx context.Context, issuer, sub string) (int, error)
	// RevokeAll ends every session. Sessions are invalid as soon as it
	// returns without error; the count says how many records it removed.
	RevokeAll(ctx context.Context) (int, error)
	// Ping reports whether the store is usable (for /readyz).
	Ping(ctx context.Context) error
	// Close releases what the store owns.
	Close() error
}

// Bounds on what a session may hold. A typical session is a few hundred
// bytes; these only stop abuse.
const (
	maxField    = 512      // each string field
	maxAMR      = 16       // entries in AMR
	maxIDToken  = 16 << 10 // the ID token (an itsme JWE is a few KiB)
	idBytes     = 32       // random bytes in a session id
	idLen       = 43       // base64url (no padding) length of idBytes
	hashedIDLen = idLen    // base64url length of a SHA-256
	maxRecord   = 32 << 10 // a sealed record larger than this is refused
)

// newID returns a fresh session id: base64url of 32 crypto/rand bytes.
func newID() (string, error) {
	var b [idBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("session: random id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// validID reports whether id has the shape of an id made by newID. Load and
// friends refuse anything else before touching the store.
func validID(id string) bool {
	if len(id) != idLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !isB64URL(id[i]) {
			return false
		}
	}
	// The last character of 32 bytes in base64url carries 4 padding bits
	// that must be zero; reject non-canonical forms.
	b, err := base64.RawURLEncoding.Strict().DecodeString(id)
	return err == nil && len(b) == idBytes
}

func isB64URL(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// hashID is the name under which a session is kept: base64url(SHA-256(id)).
// The id has 256 bits of entropy, so the hash cannot be reversed.
func hashID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// indexName hashes the parts of a revocation index name, separated by NUL
// bytes, so that neither a reference nor an issuer+subject appears in a key.
func indexName(kind string, parts ...string) string {
	h := sha256.New()
	h.Write([]byte("overstap/session/index/v1\x00" + kind))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

func personIndex(ref string) string          { return indexName("person", ref) }
func sidIndex(issuer, sid string) string     { return indexName("sid", issuer, sid) }
func subjectIndex(issuer, sub string) string { return indexName("sub", issuer, sub) }

// validate checks the bounds of a session given to Create.
func validate(s *Session) error {
	if s == nil {
		return fmt.Errorf("%w: nil", ErrInvalid)
	}
	var errs []error
	field := func(name, v string, required bool) {
		switch {
		case required && v == "":
			errs = append(errs, fmt.Errorf("%s is required", name))
		case len(v) > maxField:
			errs = append(errs, fmt.Errorf("%s is longer than %d bytes", name, maxField))
		}
	}
	field("Issuer", s.Issuer, true)
	field("Subject", s.Subject, true)
	field("Provider", s.Provider, false)
	field("AccountID", s.AccountID, false)
	field("SID", s.SID, false)
	field("ACR", s.ACR, false)
	field("Name", s.Name, false)
	if s.NRNRef != "" && !nrn.IsRef(s.NRNRef) {
		errs = append(errs, errors.New("NRNRef is not a reference made by nrn.Number.Ref"))
	}
	if !s.NRN.IsZero() && s.NRNRef == "" {
		errs = append(errs, errors.New("NRNRef is required with NRN"))
	}
	if len(s.AMR) > maxAMR {
		errs = append(errs, fmt.Errorf("AMR has more than %d entries", maxAMR))
	} else if slices.ContainsFunc(s.AMR, func(a string) bool { return a == "" || len(a) > maxField }) {
		errs = append(errs, fmt.Errorf("AMR entries must be 1 to %d bytes", maxField))
	}
	if len(s.IDToken) > maxIDToken {
		errs = append(errs, fmt.Errorf("IDToken is longer than %d bytes", maxIDToken))
	}
	if !s.Level.Valid() {
		errs = append(errs, errors.New("Level is not an eIDAS level"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalid, errors.Join(errs...))
	}
	return nil
}

// ms truncates t to the millisecond in UTC, the precision the stores keep;
// the zero time stays zero.
func ms(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return time.UnixMilli(t.UnixMilli()).UTC()
}

// timing is the expiry arithmetic shared by both stores.
type timing struct {
	idle, absolute, touch time.Duration
}

// start fills the store-owned fields of a new session created at now. It
// refuses a session whose absolute expiry has already passed.
func (tm timing) start(s *Session, now time.Time) error {
	now = ms(now)
	s.CreatedAt, s.LastSeen = now, now
	s.AuthTime = ms(s.AuthTime)
	abs := now.Add(tm.absolute)
	if e := ms(s.AbsoluteExpiry); !e.IsZero() && e.Before(abs) {
		abs = e
	}
	if !abs.After(now) {
		return fmt.Errorf("%w: AbsoluteExpiry has passed", ErrInvalid)
	}
	s.AbsoluteExpiry = abs
	s.IdleExpiry = tm.idleExpiry(s)
	return nil
}

// create is the start of both stores' Create: it validates s, draws its
// ID and starts its timers at now. It returns the ID and its hash, the key
// the store files s under.
func (tm timing) create(s *Session, now time.Time) (id, hid string, err error) {
	if err := validate(s); err != nil {
		return "", "", err
	}
	if id, err = newID(); err != nil {
		return "", "", err
	}
	if err := tm.start(s, now); err != nil {
		return "", "", err
	}
	return id, hashID(id), nil
}

// absoluteExpiry is the stored absolute expiry, capped by the configured
// timeout, so shortening the timeout applies to existing sessions too.
func (tm timing) absoluteExpiry(s *Session) time.Time {
	limit := s.CreatedAt.Add(tm.absolute)
	if s.AbsoluteExpiry.IsZero() || limit.Before(s.AbsoluteExpiry) {
		return limit
	}
	return s.AbsoluteExpiry
}

func (tm timing) idleExpiry(s *Session) time.Time {
	e := s.LastSeen.Add(tm.idle)
	if abs := tm.absoluteExpiry(s); abs.Before(e) {
		return abs
	}
	return e
}

// check recomputes the expiries of a stored session at now and reports
// whether it is still valid and whether LastSeen is due for a refresh.
func (tm timing) check(s *Session, now time.Time) (valid, touch bool) {
	s.AbsoluteExpiry = tm.absoluteExpiry(s)
	s.IdleExpiry = tm.idleExpiry(s)
	if !now.Before(s.IdleExpiry) {
		return false, false
	}
	return true, now.Sub(s.LastSeen) >= tm.touch
}

// refresh moves LastSeen to now and recomputes the idle expiry.
func (tm timing) refresh(s *Session, now time.Time) {
	s.LastSeen = ms(now)
	s.IdleExpiry = tm.idleExpiry(s)
}

// clone returns a deep copy of s.
func clone(s *Session) *Session {
	c := *s
	c.AMR = slices.Clone(s.AMR)
	return &c
}
