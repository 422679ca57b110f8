package hash

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Params is what the store knows about a value that does not describe
// itself. Self-describing values ("$2y$...", "{SSHA}...", "pbkdf2_sha256$...")
// are identified from the value whatever the hint says, because stores mix
// formats after partial upgrades; locked and empty markers likewise win.
type Params struct {
	// Hint is the store-configured scheme of bare values: "plaintext",
	// "md5", "sha1", "sha256", "sha512", "md5(salt+password)",
	// "md5(password+salt)", and the same salted forms for sha1, sha256 and
	// sha512 (see Hints). "" identifies bare hex by its length (32 md5, 40
	// sha1, 64 sha256, 128 sha512).
	Hint string
	// Salt is the separate salt column, used by the salted hints.
	Salt string
}

// Info describes a stored value.
type Info struct {
	// Scheme is the scheme name (one of Schemes(), or "ldap-crypt/<inner>",
	// "wrapped(<inner>)").
	Scheme string
	// Strength grades the value; see the thresholds in strength.go.
	Strength Strength
	// Usable is false for locked and empty markers: no password opens them.
	Usable bool
	// Cost describes the cost parameters, e.g. "bcrypt cost 10".
	Cost string
	// Wrappable reports whether Wrap accepts the value (a usable value of a
	// scheme whose digest can be recomputed, or plaintext).
	Wrappable bool
}

// Result is the outcome of Verify.
type Result struct {
	// Match reports whether the password matches.
	Match bool
	// Scheme is the identified scheme name.
	Scheme string
	// NeedsUpgrade reports whether the value should be replaced by a fresh
	// Hash after a successful login (see Hasher.NeedsUpgrade).
	NeedsUpgrade bool
	// Expensive reports whether the verification ran the scheme's slow
	// function (bcrypt, PBKDF2, argon2, ...): callers that equalise timing
	// count it as their one expensive operation.
	Expensive bool
}

// Hasher identifies, verifies and produces password hashes. It is safe for
// concurrent use.
type Hasher struct {
	cfg     Config
	limits  Limits
	schemes []*scheme
	sem     chan struct{}
	// unit is the time of one bcrypt-12 verification here, measured once
	// (lazily) for the derived budget of schemes other than bcrypt.
	unitMu sync.Mutex
	unit   time.Duration
}

// New returns a Hasher for cfg (zero fields take their defaults).
func New(cfg Config) (*Hasher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("hash: invalid config: %w", err)
	}
	cfg = cfg.withDefaults()
	return &Hasher{
		cfg:     cfg,
		limits:  cfg.Limits,
		schemes: schemeTable(),
		sem:     make(chan struct{}, cfg.MaxConcurrent),
	}, nil
}

// Identify names the scheme of stored and grades it, without a password. It
// returns an *UnsupportedError for an unknown or malformed value and a
// *LimitError for a cost over the configured caps.
func (h *Hasher) Identify(stored string, p Params) (Info, error) {
	d, err := h.parse(stored, p)
	if err != nil {
		return Info{Scheme: schemeOf(err)}, err
	}
	return Info{Scheme: d.name, Strength: d.strength, Usable: d.usable, Cost: d.cost, Wrappable: wrappable(d)}, nil
}

// Verify checks password against stored in constant time (for a given
// scheme and length). A locked or empty marker never matches and is not an
// error. Unknown or malformed values give an *UnsupportedError, absurd costs
// a *LimitError; neither ever matches. Expensive schemes wait for a limiter
// slot; ctx is checked before the work.
func (h *Hasher) Verify(ctx context.Context, stored, password string, p Params) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("hash: verify: %w", err)
	}
	d, err := h.parse(stored, p)
	if err != nil {
		return Result{Scheme: schemeOf(err)}, err
	}
	res := Result{Scheme: d.name}
	if !d.usable {
		return res, nil
	}
	if len(password) > MaxPasswordBytes {
		return res, ErrPasswordTooLong
	}
	if d.s.expensive {
		release, err := h.acquire(ctx)
		if err != nil {
			return res, err
		}
		defer release()
	}
	res.Expensive = d.s.expensive
	ok, err := h.check(d, []byte(password))
	if err != nil {
		return res, err
	}
	res.Match = ok
	res.NeedsUpgrade = h.needsUpgrade(d)
	return res, nil
}

// Hash returns a new bcrypt hash of password at the configured cost.
// Passwords over bcrypt's 72-byte input limit are refused with
// ErrPasswordTooLong rather than silently truncated, and empty ones with
// ErrEmptyPassword.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if password == "" {
		return "", ErrEmptyPassword
	}
	if len(password) > 72 {
		return "", fmt.Errorf("%w: bcrypt takes at most 72 bytes, got %d", ErrPasswordTooLong, len(password))
	}
	release, err := h.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	b, err := bcrypt.GenerateFromPassword([]byte(password), h.cfg.BcryptCost)
	if err != nil {
		return "", fmt.Errorf("hash: bcrypt: %w", err)
	}
	return string(b), nil
}

// NeedsUpgrade reports whether stored should be replaced by a fresh Hash
// once the password is known: true for every scheme other than bcrypt, for
// wrapped values, for bcrypt below the configured cost, and for values that
// cannot be parsed; false for locked and empty markers (there is nothing to
// upgrade) and for bcrypt at or above the configured cost. Unlike Kratos it
// upgrades on cost, not only on a change of family.
func (h *Hasher) NeedsUpgrade(stored string, p Params) bool {
	d, err := h.parse(stored, p)
	if err != nil {
		return true
	}
	return h.needsUpgrade(d)
}

func (h *Hasher) needsUpgrade(d *decoded) bool {
	if !d.usable {
		return false
	}
	if d.s.name != "bcrypt" {
		return true
	}
	return d.rounds < h.cfg.BcryptCost
}

// Schemes lists the scheme names this Hasher knows, in match order.
func (h *Hasher) Schemes() []string {
	out := make([]string, 0, len(h.schemes))
	for _, s := range h.schemes {
		out = append(out, s.name)
	}
	return out
}

// BcryptCost returns the configured cost of new hashes.
func (h *Hasher) BcryptCost() int { return h.cfg.BcryptCost }

// acquire takes a limiter slot, honouring ctx.
func (h *Hasher) acquire(ctx context.Context) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("hash: %w", err)
	}
	select {
	case h.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("hash: waiting for a hashing slot: %w", ctx.Err())
	}
	if err := ctx.Err(); err != nil {
		<-h.sem
		return nil, fmt.Errorf("hash: %w", err)
	}
	return func() { <-h.sem }, nil
}

func schemeOf(err error) string {
	var ue *UnsupportedError
	if errors.As(err, &ue) {
		return ue.Scheme
	}
	var le *LimitError
	if errors.As(err, &le) {
		return le.Scheme
	}
	return ""
}
