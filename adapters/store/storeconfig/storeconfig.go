package storeconfig

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"

	"github.com/overstap/overstap/adapters/store"
	"github.com/overstap/overstap/adapters/store/csvstore"
	"github.com/overstap/overstap/adapters/store/httphook"
	"github.com/overstap/overstap/adapters/store/ldapstore"
	"github.com/overstap/overstap/adapters/store/sqlstore"
)

// Config selects and configures one user store.
type Config struct {
	// Name identifies the store in messages, runs and reports
	// (letters, digits, "-", "_"; at most 64).
	Name string `yaml:"name"`
	// Type is the adapter: sql, ldap, csv or httphook. Exactly the section
	// of that name must be present.
	Type string `yaml:"type"`
	// SQL configures a PostgreSQL, MySQL/MariaDB or SQLite table.
	SQL *sqlstore.Config `yaml:"sql"`
	// LDAP configures a directory.
	LDAP *ldapstore.Config `yaml:"ldap"`
	// CSV configures an export file and its changes file.
	CSV *csvstore.Config `yaml:"csv"`
	// HTTPHook configures a vendor's hook endpoint.
	HTTPHook *httphook.Config `yaml:"httphook"`
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// Types lists the adapter types.
var Types = []string{"sql", "ldap", "csv", "httphook"}

// Validate checks the name, the type and that exactly its section is set.
func (c Config) Validate() error {
	var errs []error
	if !nameRE.MatchString(c.Name) {
		errs = append(errs, errors.New("name: required: letters, digits, - and _, at most 64 (e.g. eloket)"))
	}
	present := map[string]bool{"sql": c.SQL != nil, "ldap": c.LDAP != nil, "csv": c.CSV != nil, "httphook": c.HTTPHook != nil}
	known := false
	for _, t := range Types {
		if c.Type == t {
			known = true
		}
	}
	if !known {
		errs = append(errs, fmt.Errorf("type: %q is not one of sql, ldap, csv, httphook", c.Type))
	} else if !present[c.Type] {
		errs = append(errs, fmt.Errorf("%s: required for type %s", c.Type, c.Type))
	}
	for _, t := range Types {
		if present[t] && t != c.Type {
			errs = append(errs, fmt.Errorf("%s: only the section of the chosen type (%s) may be set", t, c.Type))
		}
	}
	return errors.Join(errs...)
}

// Open validates cfg and opens the adapter it selects. logger may be nil.
// On error the Store is a nil interface (never a nil adapter pointer in a
// non-nil interface, which a caller's Close would panic on).
func Open(ctx context.Context, cfg Config, logger *slog.Logger) (store.Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("storeconfig: %w", err)
	}
	var s store.Store
	var err error
	switch cfg.Type {
	case "sql":
		s, err = nonNil(sqlstore.Open(ctx, cfg.Name, *cfg.SQL, logger))
	case "ldap":
		s, err = nonNil(ldapstore.Open(ctx, cfg.Name, *cfg.LDAP, logger))
	case "csv":
		s, err = nonNil(csvstore.Open(ctx, cfg.Name, *cfg.CSV, logger))
	default:
		s, err = nonNil(httphook.Open(ctx, cfg.Name, *cfg.HTTPHook, logger))
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// nonNil turns an adapter's (pointer, error) into (interface, error) with
// a nil interface whenever the pointer is nil.
func nonNil[S interface {
	comparable
	store.Store
}](s S, err error) (store.Store, error) {
	var zero S
	if err != nil || s == zero {
		if err == nil {
			err = errors.New("storeconfig: adapter returned no store")
		}
		return nil, err
	}
	return s, nil
}
