package main

import (
	"errors"
	"fmt"

	"github.com/overstap/overstap/adapters/state"
	"github.com/overstap/overstap/internal/config"
	"github.com/overstap/overstap/internal/logging"
)

// minRefKey is the least length of nrn_ref_key: a 256-bit HMAC key.
const minRefKey = 32

// fileConfig is overstap's configuration file (--config). Each section is
// the typed Config of the package it configures; the field comments of those
// structs are the user documentation, kept in step with
// docs/configuration.md by TestConfigurationDocumented.
type fileConfig struct {
	// Log is the process log on stderr.
	Log logging.Config `yaml:"log"`
	// NRNRefKey is the key of the keyed HMAC-SHA256 that turns national
	// numbers into pseudonymous references ("nrnref1:...") for logs, the
	// audit log, metrics and cache keys. Required, at least 32 bytes, a
	// secret reference ("${ENV_VAR}" or "file:/path"). Changing it makes
	// every stored reference unmatchable: keep it for the life of the data.
	// Generate one with: head -c 32 /dev/urandom | base64
	NRNRefKey config.Secret `yaml:"nrn_ref_key"`
	// State is overstap's own database: links, grants, invitations, the
	// audit log, the migration journal.
	State state.Config `yaml:"state"`
}

// Validate checks what no section checks for itself.
func (c fileConfig) Validate() error {
	var errs []error
	switch {
	case c.NRNRefKey.IsZero():
		errs = append(errs, errors.New(`nrn_ref_key: required; e.g. nrn_ref_key: "${OVERSTAP_NRN_REF_KEY}" with 32 random bytes (head -c 32 /dev/urandom | base64)`))
	case len(c.NRNRefKey.Bytes()) < minRefKey:
		errs = append(errs, fmt.Errorf("nrn_ref_key: must be at least %d bytes (it is %d); generate one with head -c 32 /dev/urandom | base64", minRefKey, len(c.NRNRefKey.Bytes())))
	}
	return errors.Join(errs...)
}

// loadConfig reads and validates the configuration file at path, reporting
// every problem with its key.
func loadConfig(path string) (fileConfig, error) {
	var c fileConfig
	if path == "" {
		return c, errors.New("--config is required")
	}
	if err := config.Load(path, &c); err != nil {
		return fileConfig{}, err
	}
	return c, nil
}
