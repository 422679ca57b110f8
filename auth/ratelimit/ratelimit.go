package ratelimit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// Scope is what a counter is kept for.
type Scope string

const (
	// ScopeIP counts attempts per client IP address.
	ScopeIP Scope = "ip"
	// ScopeUser counts attempts per username reference.
	ScopeUser Scope = "user"
)

// Rule is a sliding-window limit: Limit failures within Window lead to a ban
// of Ban.
type Rule struct {
	Limit  int           `yaml:"limit"`
	Window time.Duration `yaml:"window"`
	Ban    time.Duration `yaml:"ban"`
}

// Config configures a Limiter.
type Config struct {
	// IP limits failed attempts per client IP. Default 50 in 10m, ban 15m.
	IP Rule `yaml:"ip"`
	// User limits failed attempts per username. Default 10 in 15m, ban 15m.
	User Rule `yaml:"user"`
	// MaxConsecutive locks a username after this many failures without a
	// success in between, until an admin lifts it (NIST SP 800-63B §5.2.2
	// allows at most 100). Default 100.
	MaxConsecutive int `yaml:"max_consecutive"`
	// KeyPrefix prefixes every Redis key. Default "overstap:rl:".
	KeyPrefix string `yaml:"key_prefix"`
	// Now is the clock; nil means time.Now.
	Now func() time.Time `yaml:"-"`
}

// Defaults for Config fields left zero.
var (
	DefaultIP   = Rule{Limit: 50, Window: 10 * time.Minute, Ban: 15 * time.Minute}
	DefaultUser = Rule{Limit: 10, Window: 15 * time.Minute, Ban: 15 * time.Minute}
)

// DefaultMaxConsecutive is the NIST SP 800-63B ceiling.
const DefaultMaxConsecutive = 100

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.IP == (Rule{}) {
		c.IP = DefaultIP
	}
	if c.User == (Rule{}) {
		c.User = DefaultUser
	}
	if c.MaxConsecutive == 0 {
		c.MaxConsecutive = DefaultMaxConsecutive
	}
	if c.KeyPrefix == "" {
		c.KeyPrefix = "overstap:rl:"
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Validate reports every problem of the configuration (defaults applied).
func (c Config) Validate() error {
	c = c.WithDefaults()
	var errs []error
	for _, r := range []struct {
		key  string
		rule Rule
	}{{"ip", c.IP}, {"user", c.User}} {
		if r.rule.Limit < 1 || r.rule.Limit > 100_000 {
			errs = append(errs, fmt.Errorf("%s.limit: must be between 1 and 100000", r.key))
		}
		if r.rule.Window < time.Second || r.rule.Window > 24*time.Hour {
			errs = append(errs, fmt.Errorf("%s.window: must be between 1s and 24h", r.key))
		}
		if r.rule.Ban < time.Second || r.rule.Ban > 30*24*time.Hour {
			errs = append(errs, fmt.Errorf("%s.ban: must be between 1s and 720h", r.key))
		}
	}
	if c.MaxConsecutive < 1 || c.MaxConsecutive > DefaultMaxConsecutive {
		errs = append(errs, fmt.Errorf("max_consecutive: must be between 1 and %d (NIST SP 800-63B §5.2.2)", DefaultMaxConsecutive))
	}
	if c.User.Limit > c.MaxConsecutive {
		errs = append(errs, errors.New("user.limit: must not exceed max_consecutive"))
	}
	return errors.Join(errs...)
}

// Decision is the answer for one attempt.
type Decision struct {
	// Allowed is false when any of the keys is banned or locked.
	Allowed bool
	// RetryAfter is how long the longest ban still runs (0 for a lock that
	// only an admin lifts, or when allowed).
	RetryAfter time.Duration
	// Scope is the scope that refused, when not allowed.
	Scope Scope
}

// Ban is one active ban, as the admin API lists it.
type Ban struct {
	Scope Scope
	// Ref is the limiter's opaque reference of the key (never the IP or the
	// username itself).
	Ref string
	// Until is when the ban ends; zero for a lock only an admin lifts.
	Until time.Time
	// Locked is true for a consecutive-failure lock.
	Locked bool
}

// ErrUnavailable is returned when the backend cannot be reached. Callers
// fail closed: an attempt that cannot be counted is refused.
var ErrUnavailable = errors.New("ratelimit: backend unavailable")

// Limiter is the contract both backends implement. Safe for concurrent use.
type Limiter interface {
	// Check reports whether an attempt from ip for userRef may proceed. It
	// counts nothing.
	Check(ctx context.Context, ip, userRef string) (Decision, error)
	// Fail records a failed attempt for both keys and bans a key whose limit
	// is reached.
	Fail(ctx context.Context, ip, userRef string) error
	// Succeed resets the consecutive-failure count and window of userRef.
	Succeed(ctx context.Context, userRef string) error
	// Bans lists active bans and locks.
	Bans(ctx context.Context) ([]Ban, error)
	// Lift removes a ban or lock by its reference; it reports whether one
	// existed.
	Lift(ctx context.Context, scope Scope, ref string) (bool, error)
	// Ref returns the opaque reference for a raw key, as Bans shows it.
	// For ScopeIP the address is first normalised with IPKey.
	Ref(scope Scope, raw string) string
}

// refer computes the opaque reference of a raw key; IP keys are normalised
// with IPKey first, so every spelling of an address, and every address of
// one IPv6 /64, share one counter.
func refer(secret []byte, scope Scope, raw string) string {
	if scope == ScopeIP {
		raw = IPKey(raw)
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("overstap/ratelimit/v1\x00"))
	m.Write([]byte(scope))
	m.Write([]byte{0})
	m.Write([]byte(raw))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

func validSecret(secret []byte) error {
	if len(secret) < 16 {
		return errors.New("ratelimit: key must be at least 16 bytes")
	}
	return nil
}

// IPKey returns the key the limiter counts a client address under: an
// IPv4 address (also when written IPv4-mapped, ::ffff:1.2.3.4) as itself,
// and an IPv6 address as its /64 prefix ("2001:db8:1:2::/64"), because one
// host is usually given a whole /64 and could otherwise rotate addresses
// inside it to escape the per-IP limit. A zone and a port (as in
// "[::1]:443" or "1.2.3.4:80") are dropped. A value that is not an address
// is returned as it is, so it is still counted.
func IPKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		ap, perr := netip.ParseAddrPort(ip)
		if perr != nil {
			return ip
		}
		a = ap.Addr()
	}
	a = a.WithZone("").Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// Starts bounds how many logins one client address may start (the
// gateway's StartLimiter): every start counts against the IP rule of L.
type Starts struct{ L Limiter }

// Allow refuses when the client's limit is reached, else counts the start.
func (s Starts) Allow(ctx context.Context, ip string) (bool, error) {
	d, err := s.L.Check(ctx, ip, "")
	if err != nil || !d.Allowed {
		return false, err
	}
	return true, s.L.Fail(ctx, ip, "")
}
