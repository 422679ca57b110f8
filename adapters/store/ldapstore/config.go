package ldapstore

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/overstap/overstap/internal/config"
)

// Config describes the directory and the attribute mapping.
type Config struct {
	// URL is ldaps://host:636 or ldap://host:389.
	URL string `yaml:"url"`
	// StartTLS upgrades an ldap:// connection before binding.
	StartTLS bool `yaml:"start_tls"`
	// CAFile is a PEM bundle to verify the server (default: system roots).
	CAFile string `yaml:"ca_file"`
	// ServerName overrides the TLS server name.
	ServerName string `yaml:"server_name"`
	// InsecureSkipVerify disables certificate verification. Never in
	// production; logged at start-up.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
	// InsecureAllowPlain allows ldap:// without StartTLS (the bind password
	// and every hash travel in clear). Only for a directory on the same host.
	InsecureAllowPlain bool `yaml:"insecure_allow_plain"`
	// BindDN and BindPassword authenticate overstap; it needs read access
	// to the mapped attributes and write access to the password (and the
	// federated flag).
	BindDN       string        `yaml:"bind_dn"`
	BindPassword config.Secret `yaml:"bind_password"`
	// BaseDN is searched (whole subtree) for accounts.
	BaseDN string `yaml:"base_dn"`
	// Filter selects accounts (default "(objectClass=inetOrgPerson)").
	Filter string `yaml:"filter"`
	// Attributes maps account fields onto attribute names.
	Attributes Attributes `yaml:"attributes"`
	// PageSize is the paged-search page size (default 500).
	PageSize int `yaml:"page_size"`
	// Timeout bounds connecting and each operation (default 10s).
	Timeout time.Duration `yaml:"timeout"`
	// SchemeHint applies to password values that do not describe
	// themselves ({SSHA}... values do).
	SchemeHint string `yaml:"scheme_hint"`
	// DisabledInverted says the disabled attribute is an "active" flag.
	DisabledInverted bool `yaml:"disabled_inverted"`
}

// Attributes names the attributes. ID defaults to "uid" (use entryUUID or
// employeeNumber when uids change), Username to "uid", Password to
// "userPassword", Name to "cn".
type Attributes struct {
	ID        string `yaml:"id"`
	Username  string `yaml:"username"`
	Password  string `yaml:"password"`
	Salt      string `yaml:"salt"`
	NRN       string `yaml:"nrn"`
	Name      string `yaml:"name"`
	Disabled  string `yaml:"disabled"`
	Federated string `yaml:"federated"`
}

var attrRE = regexp.MustCompile(`^(?:[A-Za-z][A-Za-z0-9-]{0,63}|[0-9]+(?:\.[0-9]+)+)$`)

func (c Config) withDefaults() Config {
	a := &c.Attributes
	if a.ID == "" {
		a.ID = "uid"
	}
	if a.Username == "" {
		a.Username = "uid"
	}
	if a.Password == "" {
		a.Password = "userPassword"
	}
	if a.Name == "" {
		a.Name = "cn"
	}
	if c.Filter == "" {
		c.Filter = "(objectClass=inetOrgPerson)"
	}
	if c.PageSize == 0 {
		c.PageSize = 500
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
	return c
}

// Validate reports every problem with the configuration.
func (c Config) Validate() error {
	var errs []error
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		errs = append(errs, errors.New("url: required (ldaps://host:636 or ldap://host:389)"))
	case err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "":
		errs = append(errs, errors.New("url: must be ldaps://host[:port] or ldap://host[:port]"))
	case u.Scheme == "ldap" && !c.StartTLS && !c.InsecureAllowPlain:
		errs = append(errs, errors.New("url: ldap:// without start_tls sends passwords in clear; use ldaps://, start_tls: true, or insecure_allow_plain for a directory on the same host"))
	case u.Scheme == "ldaps" && c.StartTLS:
		errs = append(errs, errors.New("start_tls: not with ldaps://"))
	}
	if c.BindDN != "" {
		if _, err := ldap.ParseDN(c.BindDN); err != nil {
			errs = append(errs, fmt.Errorf("bind_dn: %w", err))
		}
		if c.BindPassword.IsZero() {
			errs = append(errs, errors.New("bind_password: required with bind_dn"))
		}
	} else {
		errs = append(errs, errors.New("bind_dn: required (overstap must bind to read passwords)"))
	}
	if c.BaseDN == "" {
		errs = append(errs, errors.New("base_dn: required"))
	} else if _, err := ldap.ParseDN(c.BaseDN); err != nil {
		errs = append(errs, fmt.Errorf("base_dn: %w", err))
	}
	d := c.withDefaults()
	if _, err := ldap.CompileFilter(d.Filter); err != nil {
		errs = append(errs, fmt.Errorf("filter: %w", err))
	}
	for _, a := range []struct{ key, v string }{
		{"id", d.Attributes.ID}, {"username", d.Attributes.Username}, {"password", d.Attributes.Password},
		{"salt", d.Attributes.Salt}, {"nrn", d.Attributes.NRN}, {"name", d.Attributes.Name},
		{"disabled", d.Attributes.Disabled}, {"federated", d.Attributes.Federated},
	} {
		if a.v != "" && !attrRE.MatchString(a.v) {
			errs = append(errs, fmt.Errorf("attributes.%s: %q is not an attribute name", a.key, a.v))
		}
	}
	if c.PageSize < 0 || c.PageSize > 10_000 {
		errs = append(errs, errors.New("page_size: must be between 1 and 10000"))
	}
	if c.Timeout < 0 || c.Timeout > 5*time.Minute {
		errs = append(errs, errors.New("timeout: must be between 0 (default 10s) and 5m"))
	}
	return errors.Join(errs...)
}
