package oidc

import (
	"errors"
	"fmt"
	"slices"

	"github.com/overstap/overstap/auth/identity"
)

// LevelConfig is one row of a provider's level table in the configuration
// (a generic provider or broker): the acr/amr value the provider sends for
// a way of logging in, and the eIDAS level it counts as.
type LevelConfig struct {
	// Value is the acr (or amr) value, as sent in acr_values and found in
	// the ID token (e.g. Keycloak "gold", a URN, or "2").
	Value string `yaml:"value"`
	// Aliases are other values that mean the same level.
	Aliases []string `yaml:"aliases"`
	// Level is the eIDAS level of assurance it counts as: low, substantial
	// or high.
	Level identity.Level `yaml:"level"`
	// NoNRN marks a way of logging in that never proves a national number
	// (a self-registered account): an NRN claim is ignored at this level.
	NoNRN bool `yaml:"no_nrn"`
}

// maxLevels bounds a configured level table.
const maxLevels = 32

// ErrLevelUnavailable is returned (wrapped) by AuthRequest when no level of
// the provider reaches the minimum asked for: a generic provider without a
// level table (its logins count as low) asked for substantial or high, or
// a table whose strongest row is below the minimum. The gateway shows the
// "stronger login needed" page instead of sending the citizen to a login
// that can only fail.
var ErrLevelUnavailable = errors.New("oidc: the provider cannot assert the required level")

// tableFrom turns configured rows into the profile's level table.
func tableFrom(rows []LevelConfig) []Level {
	out := make([]Level, 0, len(rows))
	for _, r := range rows {
		out = append(out, Level{Name: r.Value, Aliases: slices.Clone(r.Aliases), EIDAS: r.Level, NoNRN: r.NoNRN})
	}
	return out
}

// validateLevels checks a configured level table: values are acr tokens
// (no spaces: acr_values is space-separated), unique, each with an eIDAS
// level, weakest first.
func validateLevels(rows []LevelConfig) []error {
	var errs []error
	if len(rows) > maxLevels {
		errs = append(errs, fmt.Errorf("levels: at most %d rows", maxLevels))
	}
	seen := map[string]bool{}
	prev := 0
	for i, r := range rows {
		for j, v := range append([]string{r.Value}, r.Aliases...) {
			key := fmt.Sprintf("levels[%d].value", i)
			if j > 0 {
				key = fmt.Sprintf("levels[%d].aliases[%d]", i, j-1)
			}
			switch {
			case !validToken(v, 256):
				errs = append(errs, fmt.Errorf("%s: required, printable ASCII without spaces (at most 256 characters)", key))
			case seen[v]:
				errs = append(errs, fmt.Errorf("%s: %q appears twice in the table", key, v))
			}
			seen[v] = true
		}
		if r.Level == identity.LevelNone || !r.Level.Valid() {
			errs = append(errs, fmt.Errorf("levels[%d].level: required: low, substantial or high", i))
			continue
		}
		if int(r.Level) < prev {
			errs = append(errs, fmt.Errorf("levels[%d].level: %s after a stronger row: list the levels weakest first", i, r.Level))
		}
		prev = max(prev, int(r.Level))
	}
	return errs
}
