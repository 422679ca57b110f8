package session

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/overstap/overstap/internal/config"
)

// Defaults for Config fields left zero.
const (
	// DefaultIdleTimeout and DefaultAbsoluteTimeout follow NIST SP 800-63B
	// §4.2.3 (AAL2: reauthenticate after 30 minutes idle, 12 hours overall).
	DefaultIdleTimeout     = 30 * time.Minute
	DefaultAbsoluteTimeout = 12 * time.Hour
	// DefaultKeyPrefix starts every Redis key of the session store.
	DefaultKeyPrefix = "overstap:session:"
	// DefaultMaxSessions bounds the memory store.
	DefaultMaxSessions = 100_000
)

// KeySize is the size of a session sealing key in bytes.
const KeySize = 32

// maxKeys bounds the key ring.
const maxKeys = 8

// Config configures a session store. The zero value of a field means its
// default; New* functions validate and fill defaults on a copy.
type Config struct {
	// Store selects the implementation for Open: "memory" (default, one
	// node) or "redis".
	Store string `yaml:"store"`
	// IdleTimeout ends a session after this long without activity
	// (default 30m).
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// AbsoluteTimeout ends a session this long after login, whatever the
	// activity (default 12h).
	AbsoluteTimeout time.Duration `yaml:"absolute_timeout"`
	// TouchInterval is how stale LastSeen may get before Load writes it
	// back (default IdleTimeout/10). Larger means fewer writes and an idle
	// timeout that may end up to this much early.
	TouchInterval time.Duration `yaml:"touch_interval"`
	// Keys is the key ring sealing records in Redis: each 32 bytes, given
	// raw, as 64 hex digits or as base64 (standard or URL alphabet). The
	// first key seals; all keys open. To rotate on several nodes: add the
	// new key second everywhere, then move it first everywhere, then drop
	// the old key after AbsoluteTimeout. Required for "redis".
	Keys []config.Secret `yaml:"keys"`
	// KeyPrefix starts every Redis key (default "overstap:session:").
	KeyPrefix string `yaml:"key_prefix"`
	// MaxSessions bounds the memory store; when full, the sessions touched
	// least recently are evicted (default 100000).
	MaxSessions int `yaml:"max_sessions"`
	// Redis says how to reach Redis for Store "redis".
	Redis RedisConfig `yaml:"redis"`

	// Now returns the current time (default time.Now).
	Now func() time.Time `yaml:"-"`
	// Logger receives warnings (default: discard). It never receives a
	// session id or a national number.
	Logger *slog.Logger `yaml:"-"`
}

// Validate returns every problem in cfg, each starting with its YAML key.
// The redis section is checked only for store "redis".
func (cfg Config) Validate() error { return cfg.validate(true) }

// ValidatesSubtree marks Config as a config.SubtreeValidator: Validate
// checks the redis section itself, and only when store is "redis", so the
// loader must not validate it on its own (it would require redis.url for
// the memory store).
func (Config) ValidatesSubtree() {}

var _ config.SubtreeValidator = Config{}

// validate checks cfg; withRedis includes the redis section (NewRedis is
// given a client and does not need it).
func (cfg Config) validate(withRedis bool) error {
	var errs []error
	switch cfg.Store {
	case "", "memory", "redis":
	default:
		errs = append(errs, fmt.Errorf(`store: %q is not "memory" or "redis"`, cfg.Store))
	}
	if cfg.IdleTimeout < 0 {
		errs = append(errs, errors.New("idle_timeout: must be positive (default 30m)"))
	}
	if cfg.AbsoluteTimeout < 0 {
		errs = append(errs, errors.New("absolute_timeout: must be positive (default 12h)"))
	}
	idle, abs := cfg.IdleTimeout, cfg.AbsoluteTimeout
	if idle == 0 {
		idle = DefaultIdleTimeout
	}
	if abs == 0 {
		abs = DefaultAbsoluteTimeout
	}
	if idle > 0 && abs > 0 && idle > abs {
		errs = append(errs, fmt.Errorf("idle_timeout: %v is longer than absolute_timeout %v", idle, abs))
	}
	if cfg.IdleTimeout > 0 && cfg.IdleTimeout < time.Second {
		errs = append(errs, errors.New("idle_timeout: must be at least 1s"))
	}
	if cfg.TouchInterval < 0 || (cfg.TouchInterval > 0 && cfg.TouchInterval >= idle) {
		errs = append(errs, fmt.Errorf("touch_interval: must be between 0 and idle_timeout (%v); default idle_timeout/10", idle))
	}
	if len(cfg.Keys) > maxKeys {
		errs = append(errs, fmt.Errorf("keys: at most %d keys", maxKeys))
	}
	seen := map[[4]byte]bool{}
	for i, k := range cfg.Keys {
		b, err := parseKey(k)
		if err != nil {
			errs = append(errs, fmt.Errorf("keys[%d]: %w", i, err))
			continue
		}
		id := keyID(b)
		if seen[id] {
			errs = append(errs, fmt.Errorf("keys[%d]: the same key appears twice", i))
		}
		seen[id] = true
	}
	if cfg.Store == "redis" && len(cfg.Keys) == 0 {
		errs = append(errs, errors.New(`keys: at least one 32-byte key is required for store "redis" (e.g. ${OVERSTAP_SESSION_KEY} holding 64 hex digits from "openssl rand -hex 32")`))
	}
	if strings.ContainsAny(cfg.KeyPrefix, "{}") {
		errs = append(errs, errors.New("key_prefix: must not contain { or } (a Redis Cluster hash tag would put every session on one node)"))
	}
	if len(cfg.KeyPrefix) > 128 {
		errs = append(errs, errors.New("key_prefix: at most 128 bytes"))
	}
	if cfg.MaxSessions < 0 {
		errs = append(errs, errors.New("max_sessions: must be positive (default 100000)"))
	}
	if cfg.Store == "redis" && withRedis {
		if err := cfg.Redis.Validate(); err != nil {
			errs = append(errs, prefixErr("redis.", err))
		}
	}
	return errors.Join(errs...)
}

// prefixErr prefixes each joined error of err with p.
func prefixErr(p string, err error) error {
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		var out []error
		for _, e := range joined.Unwrap() {
			out = append(out, fmt.Errorf("%s%w", p, e))
		}
		return errors.Join(out...)
	}
	return fmt.Errorf("%s%w", p, err)
}

// withDefaults validates cfg (without its redis section: whoever needs it
// checks it) and returns a copy with defaults filled in.
func (cfg Config) withDefaults() (Config, error) {
	if err := cfg.validate(false); err != nil {
		return cfg, fmt.Errorf("session: invalid config: %w", err)
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.AbsoluteTimeout == 0 {
		cfg.AbsoluteTimeout = DefaultAbsoluteTimeout
	}
	if cfg.TouchInterval == 0 {
		cfg.TouchInterval = cfg.IdleTimeout / 10
	}
	if cfg.KeyPrefix == "" {
		cfg.KeyPrefix = DefaultKeyPrefix
	}
	if cfg.MaxSessions == 0 {
		cfg.MaxSessions = DefaultMaxSessions
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg, nil
}

func (cfg Config) timing() timing {
	return timing{idle: cfg.IdleTimeout, absolute: cfg.AbsoluteTimeout, touch: cfg.TouchInterval}
}

// parseKey decodes a key given raw (32 bytes), as hex (64) or base64 (43/44).
func parseKey(s config.Secret) ([]byte, error) {
	v := s.Bytes()
	var b []byte
	var err error
	switch len(v) {
	case 0:
		return nil, errors.New("is empty")
	case KeySize:
		b = v
	case 2 * KeySize:
		b, err = hex.DecodeString(string(v))
	case 43:
		b, err = base64.RawURLEncoding.DecodeString(string(v))
		if err != nil {
			b, err = base64.RawStdEncoding.DecodeString(string(v))
		}
	case 44:
		b, err = base64.URLEncoding.DecodeString(string(v))
		if err != nil {
			b, err = base64.StdEncoding.DecodeString(string(v))
		}
	default:
		return nil, fmt.Errorf("must be %d bytes: raw, 64 hex digits or base64 (got %d characters)", KeySize, len(v))
	}
	if err != nil || len(b) != KeySize {
		return nil, fmt.Errorf("must be %d bytes: raw, 64 hex digits or base64 (does not decode)", KeySize)
	}
	return b, nil
}
