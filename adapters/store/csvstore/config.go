package csvstore

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"
)

// Config describes an export file and where changes go.
type Config struct {
	// Path is the export file (read only, never modified).
	Path string `yaml:"path"`
	// ChangesPath is the append-only changes file for the vendor's import
	// (created with mode 0600 at the first change). Must differ from Path.
	ChangesPath string `yaml:"changes_path"`
	// Delimiter is "," (default), ";", "tab" or "|".
	Delimiter string `yaml:"delimiter"`
	// Columns maps account fields onto header names of the export.
	Columns Columns `yaml:"columns"`
	// IDType is "text" (default; byte-wise key order) or "integer".
	IDType string `yaml:"id_type"`
	// SchemeHint names the hash scheme of credentials that do not
	// describe themselves; passed on as Account.SchemeHint.
	SchemeHint string `yaml:"scheme_hint"`
	// DisabledInverted says the disabled column is an "active" flag.
	DisabledInverted bool `yaml:"disabled_inverted"`
	// Now is the clock for change timestamps (nil: time.Now).
	Now func() time.Time `yaml:"-"`
}

// Columns are header names in the export. ID, Username and Password are
// required. An empty password field is read as NULL.
type Columns struct {
	ID        string `yaml:"id"`
	Username  string `yaml:"username"`
	Password  string `yaml:"password"`
	Salt      string `yaml:"salt"`
	NRN       string `yaml:"nrn"`
	Name      string `yaml:"name"`
	Disabled  string `yaml:"disabled"`
	Federated string `yaml:"federated"`
}

func (c Config) delimiter() (rune, bool) {
	switch c.Delimiter {
	case "", ",":
		return ',', true
	case ";":
		return ';', true
	case "tab", "\t":
		return '\t', true
	case "|":
		return '|', true
	}
	return 0, false
}

// Validate reports every problem with the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.Path == "" {
		errs = append(errs, errors.New("path: required (the export file)"))
	}
	if c.ChangesPath == "" {
		errs = append(errs, errors.New("changes_path: required (where changes for the vendor go)"))
	} else if c.Path != "" && filepath.Clean(c.ChangesPath) == filepath.Clean(c.Path) {
		errs = append(errs, errors.New("changes_path: must not be the export file, which is never modified"))
	}
	if _, ok := c.delimiter(); !ok {
		errs = append(errs, fmt.Errorf("delimiter: %q is not one of , ; tab |", c.Delimiter))
	}
	for _, col := range []struct{ key, v string }{{"id", c.Columns.ID}, {"username", c.Columns.Username}, {"password", c.Columns.Password}} {
		if col.v == "" {
			errs = append(errs, fmt.Errorf("columns.%s: required (a header name of the export)", col.key))
		}
	}
	switch c.IDType {
	case "", "text", "integer":
	default:
		errs = append(errs, fmt.Errorf("id_type: %q is not text or integer", c.IDType))
	}
	return errors.Join(errs...)
}
