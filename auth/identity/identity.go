package identity

import (
	"fmt"
	"strings"
	"time"

	"github.com/overstap/overstap/auth/nrn"
)

// Level is an eIDAS level of assurance, ordered LevelNone < LevelLow <
// LevelSubstantial < LevelHigh. It has this one meaning everywhere: what a
// provider's acr/amr counted as (auth/oidc maps its own level table onto
// it), what a route requires, and what a session holds. Provider-specific
// level names never leave auth/oidc.
type Level uint8

// The eIDAS levels. LevelNone is a login that asserted no known level.
const (
	LevelNone Level = iota
	LevelLow
	LevelSubstantial
	LevelHigh
)

// ParseLevel reads "low", "substantial" or "high" (any case).
func ParseLevel(s string) (Level, error) {
	switch strings.ToLower(s) {
	case "low":
		return LevelLow, nil
	case "substantial":
		return LevelSubstantial, nil
	case "high":
		return LevelHigh, nil
	}
	return LevelNone, fmt.Errorf("identity: unknown level %q (want low, substantial or high)", s)
}

// String returns "low", "substantial", "high", or "none".
func (l Level) String() string {
	switch l {
	case LevelLow:
		return "low"
	case LevelSubstantial:
		return "substantial"
	case LevelHigh:
		return "high"
	}
	return "none"
}

// Valid reports whether l is one of the four levels.
func (l Level) Valid() bool { return l <= LevelHigh }

// MarshalText writes the level's name.
func (l Level) MarshalText() ([]byte, error) {
	if !l.Valid() {
		return nil, fmt.Errorf("identity: invalid level %d", uint8(l))
	}
	return []byte(l.String()), nil
}

// UnmarshalText reads a level name ("none" or "" for LevelNone).
func (l *Level) UnmarshalText(b []byte) error {
	if s := string(b); s == "" || s == "none" {
		*l = LevelNone
		return nil
	}
	v, err := ParseLevel(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// Identity is what one login proved. The zero value proves nothing.
type Identity struct {
	// Provider is the configured name of the provider used to log in.
	Provider string
	// Issuer and Subject are the ID token's iss and sub.
	Issuer  string
	Subject string
	// SID is the provider's session id (the ID token's sid, for
	// back-channel logout); may be empty.
	SID string
	// NRN is the checksum-validated national number; zero for a login
	// that carries none. Sensitive: never log it (use NRN.Ref or Mask).
	NRN nrn.Number
	// Name is the display name the provider asserted ("" when none).
	Name string
	// Level is the eIDAS level reached.
	Level Level
	// ACR and AMR are the provider's acr and amr as received (audit only;
	// decisions use Level).
	ACR string
	AMR []string
	// AuthTime is when the citizen authenticated at the provider (zero
	// when the provider sent none and nobody set it).
	AuthTime time.Time
}

// Meets reports whether the identity reaches level min and, when maxAge
// is positive, authenticated at most maxAge before now: the one test of a
// route's minimum level and of a step-up.
func (id *Identity) Meets(min Level, maxAge time.Duration, now time.Time) bool {
	if id == nil || id.Level < min {
		return false
	}
	if maxAge > 0 && (id.AuthTime.IsZero() || now.Sub(id.AuthTime) > maxAge) {
		return false
	}
	return true
}
