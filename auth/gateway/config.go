package gateway

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/overstap/overstap/adapters/upstream"
	"github.com/overstap/overstap/auth/gateway/route"
	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/internal/config"
)

// Config is the gateway section of the configuration.
type Config struct {
	// Listen is the address of the citizen-facing listener
	// (default 127.0.0.1:8080).
	Listen string `yaml:"listen"`
	// PublicURL is the gateway's public base URL (https://eloket.gemeente.be),
	// used for callback and post-logout URLs and as the assertion issuer.
	PublicURL string `yaml:"public_url"`
	// TLSCertFile and TLSKeyFile enable TLS on Listen (HSTS is then sent).
	// Without them the gateway speaks plain HTTP and must sit behind a
	// trusted TLS-terminating proxy.
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`
	// TrustedProxies are the CIDR prefixes whose X-Forwarded-* headers are
	// believed (client IP, forward-auth's original method/URI/host). Empty:
	// none are.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// Brand is the municipality's name on the pages.
	Brand string `yaml:"brand"`
	// HomeURL is where "back to the start page" on the gateway's pages
	// leads: a page that needs no login, such as the municipality's website
	// (https://www.gemeente.be) or a public path of the app (/welkom).
	// Default "/", the app's root: when that route is protected, a citizen
	// whom the login cannot help (no account, no national number) is sent
	// back to the IdP from there, so set it.
	HomeURL string `yaml:"home_url"`
	// ProviderLabels are the labels on the login buttons (e.g. fas: eID);
	// the provider's name otherwise.
	ProviderLabels map[string]string `yaml:"provider_labels"`
	// AccountID says which legacy account id the app gets until account
	// linking is configured: "nrn" (the app's accounts are keyed by the
	// national number, the legacy situation) or "subject" (the IdP's sub).
	AccountID string `yaml:"account_id"`
	// NRNRefKey keys the HMAC reference of national numbers
	// (nrn.Number.Ref); sessions are revoked per person by it. Not in the
	// gateway section of the file: the assembly gives it the top-level
	// nrn_ref_key, checked once at load (see MovedKeys).
	NRNRefKey nrn.RefKey `yaml:"-"`
	// DevInsecureCookies drops the Secure flag and the __Host- prefix so
	// the gateway works over plain http://localhost. Development only; it
	// is logged at start-up.
	DevInsecureCookies bool `yaml:"dev_insecure_cookies"`
	// Apps are the legacy apps behind the gateway.
	Apps []AppConfig `yaml:"apps"`
	// Assertion holds the signing keys of the assertion profile.
	Assertion upstream.SignerConfig `yaml:"assertion"`
	// MetricsListen serves /metrics, /healthz and /readyz, e.g.
	// 127.0.0.1:9090 (configs/gateway.yaml, the container image). Empty:
	// off (serve warns). No port is bound unless written here.
	MetricsListen string `yaml:"metrics_listen"`
	// AdminListen serves the admin API, e.g. 127.0.0.1:9091; needs
	// admin_token. Empty: off.
	AdminListen string `yaml:"admin_listen"`
	// AdminToken is the bearer token of the admin API (at least 32 bytes).
	AdminToken config.Secret `yaml:"admin_token"`
	// AccessLog writes one info line per app request: method, canonical
	// path (no query), status, bytes, duration, app, route class, the
	// policy's decision and the session's NRN reference (never a session
	// id, a token or a national number). Off by default.
	AccessLog bool `yaml:"access_log"`
	// Limits bound requests.
	Limits Limits `yaml:"limits"`
}

// Limits bound what one request may cost.
type Limits struct {
	MaxHeaderBytes      int           `yaml:"max_header_bytes"`        // default 32 KiB
	MaxBodyBytes        int64         `yaml:"max_body_bytes"`          // proxied bodies, default 10 MiB
	ReadHeaderTimeout   time.Duration `yaml:"read_header_timeout"`     // default 10s
	BodyTimeout         time.Duration `yaml:"body_timeout"`            // reading a request body, default 60s
	IdleTimeout         time.Duration `yaml:"idle_timeout"`            // keep-alive, default 120s
	UpstreamTimeout     time.Duration `yaml:"upstream_timeout"`        // response headers from the app, default 60s
	DialTimeout         time.Duration `yaml:"dial_timeout"`            // default 5s
	MaxIdleConnsPerHost int           `yaml:"max_idle_conns_per_host"` // default 512
	ShutdownTimeout     time.Duration `yaml:"shutdown_timeout"`        // default 20s
	StoreTimeout        time.Duration `yaml:"store_timeout"`           // session store calls, default 2s
}

// AppConfig is one legacy app.
type AppConfig struct {
	route.App `yaml:",inline"`
	// Upstream is the app's base URL (http://127.0.0.1:8081). Empty for
	// apps only protected through forward-auth.
	Upstream string `yaml:"upstream"`
	// RewriteHost sends the upstream's host as Host instead of the
	// client's.
	RewriteHost bool `yaml:"rewrite_host"`
	// Identity is how the app learns who the citizen is.
	Identity upstream.Config `yaml:"identity"`
	// NoAccount is what happens when a verified citizen has no account
	// in the app: "page" (default: a clear page, contact the municipality)
	// or "register" (the citizen is sent to RegisterPath, the only route
	// that receives them, with the verified national number and the
	// registration marker; as soon as the app has created the account,
	// the next request links it).
	NoAccount string `yaml:"no_account"`
	// RegisterPath is the app's registration route for no_account:
	// register (e.g. /registreren); it and the paths below it receive the
	// registering citizen.
	RegisterPath string `yaml:"register_path"`
}

func (c *Config) setDefaults() {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8080"
	}
	if c.AccountID == "" {
		c.AccountID = "nrn"
	}
	if c.Brand == "" {
		c.Brand = "overstap"
	}
	l := &c.Limits
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if l.MaxHeaderBytes == 0 {
		l.MaxHeaderBytes = 32 << 10
	}
	if l.MaxBodyBytes == 0 {
		l.MaxBodyBytes = 10 << 20
	}
	if l.MaxIdleConnsPerHost == 0 {
		l.MaxIdleConnsPerHost = 512
	}
	def(&l.ReadHeaderTimeout, 10*time.Second)
	def(&l.BodyTimeout, 60*time.Second)
	def(&l.IdleTimeout, 120*time.Second)
	def(&l.UpstreamTimeout, 60*time.Second)
	def(&l.DialTimeout, 5*time.Second)
	def(&l.ShutdownTimeout, 20*time.Second)
	def(&l.StoreTimeout, 2*time.Second)
}

// MovedKeys are keys the gateway section no longer has (config.KeyMover):
// the file's loader names where they went.
func (Config) MovedKeys() map[string]string {
	return map[string]string{
		"nrn_ref_key": "moved: set the top-level nrn_ref_key (one key for every part) and remove it here",
	}
}

// Validate reports every problem of the configuration.
func (c Config) Validate() error {
	var errs []error
	if u, err := url.Parse(c.PublicURL); err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && c.DevInsecureCookies)) || (u.Path != "" && u.Path != "/") {
		errs = append(errs, errors.New("public_url: must be the gateway's https origin, e.g. https://eloket.gemeente.be (http only with dev_insecure_cookies)"))
	}
	for _, l := range []struct{ key, addr string }{{"listen", c.Listen}, {"metrics_listen", c.MetricsListen}, {"admin_listen", c.AdminListen}} {
		if err := checkListen(l.addr); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", l.key, err))
		}
	}
	if err := checkHomeURL(c.HomeURL, c.DevInsecureCookies); err != nil {
		errs = append(errs, fmt.Errorf("home_url: %w", err))
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		errs = append(errs, errors.New("tls_cert_file: set both tls_cert_file and tls_key_file, or neither"))
	}
	if _, err := parsePrefixes(c.TrustedProxies); err != nil {
		errs = append(errs, fmt.Errorf("trusted_proxies: %w", err))
	}
	switch c.AccountID {
	case "", "nrn", "subject":
	default:
		errs = append(errs, errors.New(`account_id: must be "nrn" or "subject"`))
	}
	if c.AdminListen != "" && len(c.AdminToken.Bytes()) < 32 {
		errs = append(errs, errors.New("admin_token: required with admin_listen, at least 32 bytes"))
	}
	if len(c.Apps) == 0 {
		errs = append(errs, errors.New("apps: at least one app is required"))
	}
	needSigner := false
	for i, a := range c.Apps {
		// The app's routes (route.App) and identity (upstream.Config) are
		// validated by their own Validate methods, which the configuration
		// loader calls, and again by New.
		k := fmt.Sprintf("apps[%d].", i)
		if a.Upstream != "" {
			if u, err := url.Parse(a.Upstream); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
				errs = append(errs, fmt.Errorf("%supstream: must be an http(s) base URL without query", k))
			}
		}
		if a.Identity.Profile == upstream.ProfileAssertion {
			needSigner = true
		}
		switch a.NoAccount {
		case "", "page":
			if a.RegisterPath != "" {
				errs = append(errs, fmt.Errorf("%sregister_path: only with no_account: register", k))
			}
		case "register":
			if p, err := route.Normalize(a.RegisterPath); err != nil || a.RegisterPath == "" || p.Clean != a.RegisterPath || a.RegisterPath == "/" {
				errs = append(errs, fmt.Errorf("%sregister_path: required with no_account: register, a clean path like /registreren", k))
			}
			nrnOut := a.Identity.Headers.NRN != ""
			if a.Identity.Profile == upstream.ProfileAssertion {
				nrnOut = a.Identity.AssertionNRN
			}
			if !nrnOut {
				errs = append(errs, fmt.Errorf("%sno_account: register needs the national number propagated (identity.headers.nrn or identity.assertion_nrn)", k))
			}
		default:
			errs = append(errs, fmt.Errorf("%sno_account: must be page or register", k))
		}
	}
	if needSigner && len(c.Assertion.Keys) == 0 {
		errs = append(errs, errors.New("assertion.keys: an app uses the assertion profile: give at least one signing key"))
	}
	l := c.Limits
	if l.MaxHeaderBytes < 0 || l.MaxHeaderBytes > 1<<20 {
		errs = append(errs, errors.New("limits.max_header_bytes: between 4096 and 1 MiB"))
	}
	if l.MaxBodyBytes < 0 {
		errs = append(errs, errors.New("limits.max_body_bytes: must not be negative"))
	}
	return errors.Join(errs...)
}

// checkListen checks a listen address ("" is allowed: default or off)
// without binding it: host:port, the host an IP address or a name, the
// port a number up to 65535.
func checkListen(addr string) error {
	if addr == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port (e.g. 127.0.0.1:8080)", addr)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || (n == 0 && port != "0") {
		return fmt.Errorf("%q: port must be a number from 1 to 65535", addr)
	}
	if host != "" && strings.ContainsAny(host, " /\\?#@") {
		return fmt.Errorf("%q: host must be an IP address or a host name", addr)
	}
	return nil
}

// parsePrefixes parses CIDR prefixes (or single addresses) once.
func parsePrefixes(ss []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range ss {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not an address or CIDR prefix", s)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// checkHomeURL accepts an absolute https URL (http only with dev cookies,
// as the demo on loopback uses), or a local path starting with one slash.
func checkHomeURL(s string, dev bool) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || strings.ContainsAny(s, "\\ \t\r\n"):
		return errors.New("must be an https URL or a path like /welkom")
	case u.Scheme == "" && u.Host == "":
		if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") {
			return errors.New("a path must start with a single /")
		}
	case u.Scheme == "https" || (u.Scheme == "http" && dev):
		if u.Host == "" || u.User != nil {
			return errors.New("an absolute URL needs a host and no user info")
		}
	default:
		return errors.New("must be an https URL (http only with dev_insecure_cookies) or a path like /welkom")
	}
	return nil
}
