package upstream

import (
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"strings"
	"time"

	"github.com/overstap/overstap/auth/identity"
)

// Profiles.
const (
	ProfileHeaders   = "headers"
	ProfileAssertion = "assertion"
)

// ErrNoAccount is returned when an identity without a legacy account id
// would be sent to the app.
var ErrNoAccount = errors.New("upstream: identity has no legacy account id")

// Identity is what the app is told about the citizen: the login's
// identity as the relying party produced it, and the legacy account.
// Only what the profile asks for leaves: the account (or the registration
// mark), the NRN where configured, the display name (Name) and the eIDAS
// level (Level).
type Identity struct {
	identity.Identity
	Account string // the legacy account id (required unless Registering)
	// Registering: a verified citizen without an account yet, sent only to
	// the app's registration route (app policy no_account: register). No
	// account id; the NRN is required and must be propagated.
	Registering bool
}

// RegistrationHeader marks a registration request in the headers profile
// ("1"); the assertion profile carries the claim "registration": true and
// no sub. Clients cannot send it: X-Overstap-* is always stripped.
const RegistrationHeader = "X-Overstap-Registration"

// ErrRegistration is returned by Apply for a registering identity the
// profile cannot carry (no NRN, or the NRN is not propagated).
var ErrRegistration = errors.New("upstream: a registration needs the national number propagated (headers.nrn or assertion_nrn)")

// HeaderNames are the request headers of the headers profile.
type HeaderNames struct {
	// Account carries the legacy account id (default X-Overstap-Account).
	Account string `yaml:"account"`
	// NRN carries the national number in clear (11 digits); empty (the
	// default) means it is not sent. Only for apps that really need it.
	NRN string `yaml:"nrn"`
	// Name carries the display name as percent-encoded UTF-8 (every byte
	// but A-Z a-z 0-9 - . _ ~ encoded, see EncodeName: decode it with any
	// URL decoder, e.g. PHP rawurldecode); empty: not sent.
	Name string `yaml:"name"`
	// Level carries the assurance level; empty: not sent.
	Level string `yaml:"level"`
}

// Config is the identity propagation of one app.
type Config struct {
	// Profile is "headers" (default) or "assertion".
	Profile string `yaml:"profile"`
	// Headers names the headers of the headers profile.
	Headers HeaderNames `yaml:"headers"`
	// AssertionHeader carries the JWT of the assertion profile (default
	// X-Overstap-Assertion). "Authorization" sends "Bearer <jwt>" and then
	// the client's own Authorization header is always removed.
	AssertionHeader string `yaml:"assertion_header"`
	// AssertionLifetime of the JWT (default 30s, at most 60s).
	AssertionLifetime time.Duration `yaml:"assertion_lifetime"`
	// AssertionNRN adds the national number (claim "nrn") to the JWT.
	AssertionNRN bool `yaml:"assertion_nrn"`
	// StripHeaders are further header names to delete from every request,
	// on top of the built-in identity-header families (IdentityHeaders); a
	// final "*" makes a prefix ("X-Legacy-*").
	StripHeaders []string `yaml:"strip_headers"`
}

// Validate reports every problem of the configuration.
func (c *Config) Validate() error {
	var errs []error
	switch c.Profile {
	case "", ProfileHeaders, ProfileAssertion:
	default:
		errs = append(errs, fmt.Errorf("profile: %q is not headers or assertion", c.Profile))
	}
	check := func(key, v string) {
		if v != "" && !validHeaderName(v) {
			errs = append(errs, fmt.Errorf("%s: %q is not a valid header name", key, v))
		}
	}
	check("headers.account", c.Headers.Account)
	check("headers.nrn", c.Headers.NRN)
	check("headers.name", c.Headers.Name)
	check("headers.level", c.Headers.Level)
	check("assertion_header", c.AssertionHeader)
	for i, h := range c.StripHeaders {
		if p, ok := strings.CutSuffix(h, "*"); ok && p != "" {
			h = p
		}
		check(fmt.Sprintf("strip_headers[%d]", i), h)
	}
	if c.AssertionLifetime < 0 || c.AssertionLifetime > MaxLifetime {
		errs = append(errs, errors.New("assertion_lifetime: must be between 1s and 60s"))
	}
	return errors.Join(errs...)
}

func validHeaderName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Propagator strips and sets the identity headers of one app. It is safe
// for concurrent use.
type Propagator struct {
	profile   string
	names     HeaderNames // canonical
	assertion string      // canonical header of the JWT
	bearer    bool
	lifetime  time.Duration
	withNRN   bool
	audience  string
	signer    *Signer
	strip     *stripper
}

// New builds the propagator of the app named audience. signer is needed
// for the assertion profile only.
func New(c Config, audience string, signer *Signer) (*Propagator, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("upstream: %w", err)
	}
	p := &Propagator{profile: c.Profile, audience: audience, signer: signer, withNRN: c.AssertionNRN, lifetime: c.AssertionLifetime}
	if p.profile == "" {
		p.profile = ProfileHeaders
	}
	if p.lifetime == 0 {
		p.lifetime = 30 * time.Second
	}
	canon := func(s, def string) string {
		if s == "" {
			return def
		}
		return textproto.CanonicalMIMEHeaderKey(s)
	}
	p.names = HeaderNames{
		Account: canon(c.Headers.Account, "X-Overstap-Account"),
		NRN:     canon(c.Headers.NRN, ""),
		Name:    canon(c.Headers.Name, ""),
		Level:   canon(c.Headers.Level, ""),
	}
	p.assertion = canon(c.AssertionHeader, "X-Overstap-Assertion")
	p.bearer = p.assertion == "Authorization"
	extra := append([]string{p.names.Account, p.names.NRN, p.names.Name, p.names.Level, p.assertion}, c.StripHeaders...)
	if p.profile == ProfileAssertion {
		if signer == nil {
			return nil, errors.New("upstream: the assertion profile needs signing keys (assertion.keys)")
		}
	} else if p.bearer {
		// Authorization is only ours when the assertion uses it.
		extra = extra[:len(extra)-1]
	}
	p.strip = newStripper(extra...)
	return p, nil
}

// CarriesNRN reports whether the profile propagates the national number
// (headers.nrn set, or assertion_nrn).
func (p *Propagator) CarriesNRN() bool {
	if p.profile == ProfileAssertion {
		return p.withNRN
	}
	return p.names.NRN != ""
}

// Strip deletes every client-supplied identity header from h: the
// configured names, the well-known ones (X-Forwarded-User, X-Remote-User,
// Remote-User, X-Auth-Request-*, X-Overstap-*, ...), in any casing and
// with '_' for '-', and Authorization when the assertion travels in it.
func (p *Propagator) Strip(h http.Header) { p.strip.strip(h) }

// Apply sets the identity on h (a request header for the reverse proxy, a
// response header for forward-auth). Call Strip first.
func (p *Propagator) Apply(h http.Header, id Identity, now time.Time) error {
	if id.Registering {
		if id.Account != "" || id.NRN.IsZero() || !p.CarriesNRN() {
			return ErrRegistration
		}
	} else if id.Account == "" {
		return ErrNoAccount
	}
	if p.profile == ProfileAssertion {
		tok, err := p.signer.Sign(p.audience, id, p.withNRN, now, p.lifetime)
		if err != nil {
			return err
		}
		if p.bearer {
			tok = "Bearer " + tok
		}
		h[p.assertion] = []string{tok}
		return nil
	}
	if !id.Registering && !safeValue(id.Account) {
		return fmt.Errorf("upstream: account id has characters a header cannot carry")
	}
	if id.Registering {
		h[RegistrationHeader] = []string{"1"}
	} else {
		h[p.names.Account] = []string{id.Account}
	}
	if p.names.NRN != "" && !id.NRN.IsZero() {
		h[p.names.NRN] = []string{id.NRN.Digits()}
	}
	if p.names.Name != "" && id.Name != "" {
		h[p.names.Name] = []string{EncodeName(id.Name)}
	}
	if p.names.Level != "" {
		h[p.names.Level] = []string{id.Level.String()}
	}
	return nil
}

// ResponseHeaders lists the header names Apply may set, for forward-auth
// proxy configurations that copy them.
func (p *Propagator) ResponseHeaders() []string {
	if p.profile == ProfileAssertion {
		return []string{p.assertion}
	}
	out := []string{p.names.Account}
	for _, n := range []string{p.names.NRN, p.names.Name, p.names.Level} {
		if n != "" {
			out = append(out, n)
		}
	}
	return out
}

// safeValue reports whether v is printable ASCII, so it cannot split or
// confuse a header.
func safeValue(v string) bool {
	if v == "" || len(v) > 1024 {
		return false
	}
	return !strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r > 0x7e })
}
