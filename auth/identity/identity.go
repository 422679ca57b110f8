package identity

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/overstap/overstap/auth/nrn"
	"golang.org/x/text/unicode/norm"
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
	// Name is the display name the provider asserted, as CleanName made it
	// ("" when none).
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

// MaxName bounds a display name (bytes, after cleaning): longer is not a
// name, and it travels in a header on every request.
const MaxName = 256

// CleanName makes a provider's name safe to show and to compare: Unicode
// NFC (a provider may send "e" + combining accent where the app stored
// "é"), control characters and the bidirectional overrides and isolates
// (which can make a name display as another) removed, runs of white space
// folded to one space, trimmed. A name longer than MaxName bytes after
// that is dropped (""), not cut. Identity.Name is always a CleanName.
func CleanName(s string) string {
	if len(s) > 4*MaxName {
		return ""
	}
	s = norm.NFC.String(s)
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case r == unicode.ReplacementChar, unicode.IsControl(r), bidiControl(r):
			continue
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	if b.Len() > MaxName {
		return ""
	}
	return b.String()
}

// bidiControl reports whether r is a bidirectional embedding, override or
// isolate (U+202A-U+202E, U+2066-U+2069). The marks U+200E/U+200F stay:
// Arabic and Hebrew names may need them.
func bidiControl(r rune) bool {
	return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069
}
