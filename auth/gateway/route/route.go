package route

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/overstap/overstap/auth/identity"
)

// Class is the protection a route gets.
type Class string

// The route classes, from least to most restrictive.
const (
	Public      Class = "public"       // no session needed; identity headers still stripped
	Protected   Class = "protected"    // a session at the app's minimum level
	StepUp      Class = "step_up"      // a session at MinLevel, authenticated within MaxAuthAge
	Logout      Class = "logout"       // the app's own logout: the gateway ends its session too, then shows "you are logged out"
	FamilyData  Class = "family_data"  // another person's data: decided by the family hook (a live grant); denied without one
	FamilyLink  Class = "family_link"  // family-member linking: decided by the family hook; denied without one
	Credential  Class = "credential"   // changing a credential: only one's own, decided by the family hook; denied without one
	LegacyLogin Class = "legacy_login" // the legacy password login: decided by the legacy-login hook; denied without one
	Blocked     Class = "blocked"      // never reaches the app
)

// Hooked reports whether requests of the class are decided by a hook of
// the gateway (denied when no hook is configured for the class).
func (c Class) Hooked() bool {
	switch c {
	case FamilyData, FamilyLink, Credential, LegacyLogin:
		return true
	}
	return false
}

// rank orders classes by restrictiveness: when several rules match, the
// most restrictive wins.
func (c Class) rank() int {
	switch c {
	case Public:
		return 1
	case Protected:
		return 2
	case StepUp:
		return 3
	case Logout:
		// Above protected and step_up, so a broad rule cannot turn the
		// app's logout into a plain request; below every hooked class.
		return 4
	case FamilyData:
		return 5
	case FamilyLink:
		return 6
	case Credential:
		return 7
	case LegacyLogin:
		return 8
	case Blocked:
		return 9
	}
	return 0
}

// Rule is one route rule of an app.
type Rule struct {
	// Methods the rule applies to (upper case); empty means every method.
	Methods []string `yaml:"methods"`
	// Path pattern on the normalised path: literal segments, "*" for
	// exactly one segment, and a final "**" for any number of segments
	// (including none). Matching ignores case and a trailing slash.
	Path string `yaml:"path"`
	// Class of the route.
	Class Class `yaml:"class"`
	// MinLevel for step_up: low, substantial or high.
	MinLevel string `yaml:"min_level"`
	// MaxAuthAge for step_up: the authentication must be at most this old
	// (0: no limit).
	MaxAuthAge time.Duration `yaml:"max_auth_age"`
}

// App is the routing part of one legacy app's configuration.
type App struct {
	// Name identifies the app (metrics label, assertion audience).
	Name string `yaml:"name"`
	// Hosts the app is served on ("eloket.gemeente.be", "*.gemeente.be");
	// empty means every host.
	Hosts []string `yaml:"hosts"`
	// PathPrefix the app is mounted under ("/" by default).
	PathPrefix string `yaml:"path_prefix"`
	// Default class for paths no rule matches (protected by default).
	Default Class `yaml:"default"`
	// MinLevel for protected routes (low by default).
	MinLevel string `yaml:"min_level"`
	// Rules of the app; when several match, the most restrictive wins.
	Rules []Rule `yaml:"rules"`
	// PathPolicy for request paths that are not in canonical form (path
	// parameters such as ";jsessionid=", dot segments, repeated slashes,
	// trailing dots or spaces on a segment; see Normalize): "refuse"
	// (default) answers 400, "normalize" forwards the canonical form.
	// Encodings no two servers read alike (encoded slash or backslash,
	// double encoding, NUL, overlong UTF-8, characters that fold to ASCII)
	// are refused whatever the policy.
	PathPolicy PathPolicy `yaml:"path_policy"`
}

// PathPolicy says what an app does with an ambiguous request path.
type PathPolicy string

// The path policies.
const (
	PathRefuse    PathPolicy = "refuse"    // answer 400 (the default)
	PathNormalize PathPolicy = "normalize" // forward the canonical form
)

// Validate reports every problem of the app, keys relative to the app.
func (a *App) Validate() error {
	var errs []error
	if a.Name == "" || strings.ContainsAny(a.Name, " \t\r\n/") {
		errs = append(errs, errors.New("name: required, no spaces or slashes"))
	}
	for i, h := range a.Hosts {
		if h == "" || strings.ContainsAny(h, "/ :") {
			errs = append(errs, fmt.Errorf("hosts[%d]: must be a host name without port or scheme", i))
		}
	}
	if a.PathPrefix != "" {
		if p, err := Normalize(a.PathPrefix); err != nil || (a.PathPrefix != "/" && p.Clean != strings.TrimSuffix(a.PathPrefix, "/")) {
			errs = append(errs, errors.New("path_prefix: must be a clean absolute path like /eloket"))
		}
	}
	switch a.PathPolicy {
	case "", PathRefuse, PathNormalize:
	default:
		errs = append(errs, fmt.Errorf("path_policy: unknown policy %q (refuse or normalize)", a.PathPolicy))
	}
	if a.Default != "" && a.Default.rank() == 0 {
		errs = append(errs, fmt.Errorf("default: unknown class %q", a.Default))
	}
	if a.MinLevel != "" {
		if _, err := identity.ParseLevel(a.MinLevel); err != nil {
			errs = append(errs, fmt.Errorf("min_level: %w", err))
		}
	}
	for i, r := range a.Rules {
		k := fmt.Sprintf("rules[%d].", i)
		if _, err := compilePattern(r.Path); err != nil {
			errs = append(errs, fmt.Errorf("%spath: %w", k, err))
		}
		if r.Class.rank() == 0 {
			errs = append(errs, fmt.Errorf("%sclass: unknown class %q (public, protected, step_up, logout, family_data, family_link, credential, legacy_login, blocked)", k, r.Class))
		}
		for j, m := range r.Methods {
			if m == "" || strings.ToUpper(m) != m || strings.ContainsAny(m, " \t/") {
				errs = append(errs, fmt.Errorf("%smethods[%d]: must be an upper-case HTTP method", k, j))
			}
		}
		if r.Class == StepUp {
			if _, err := identity.ParseLevel(r.MinLevel); err != nil {
				errs = append(errs, fmt.Errorf("%smin_level: %w", k, err))
			}
			if r.MaxAuthAge < 0 {
				errs = append(errs, fmt.Errorf("%smax_auth_age: must not be negative", k))
			}
		} else if r.MinLevel != "" || r.MaxAuthAge != 0 {
			errs = append(errs, fmt.Errorf("%smin_level: only for class step_up", k))
		}
	}
	return errors.Join(errs...)
}

// Decision is what the table says about one request.
type Decision struct {
	App        int    // index of the app in the table's configuration
	AppName    string // the app's name
	Class      Class
	MinLevel   identity.Level // minimum level (protected and step_up)
	MaxAuthAge time.Duration  // step_up: 0 means no limit
	Path       Path           // the normalised path
}

// ErrNoApp is returned by Match when no app serves the host and path.
var ErrNoApp = errors.New("route: no app for this host and path")

type rule struct {
	methods  []string
	pattern  []string
	class    Class
	level    identity.Level
	maxAge   time.Duration
	original string
}

type app struct {
	name     string
	hosts    []string // exact lower-case names, or ".suffix" for "*.suffix"
	prefix   string   // lower-case match form, "" for root
	def      Class
	minLevel identity.Level
	rules    []rule
	// normalize: forward ambiguous paths in canonical form (else refuse).
	normalize bool
}

// Table matches requests to apps and route classes. It is immutable and
// safe for concurrent use.
type Table struct {
	apps []app
}

// New compiles the apps. It validates them all first.
func New(apps []App) (*Table, error) {
	var errs []error
	for i := range apps {
		if err := apps[i].Validate(); err != nil {
			errs = append(errs, fmt.Errorf("apps[%d].%w", i, err))
		}
	}
	if len(apps) == 0 {
		errs = append(errs, errors.New("apps: at least one app is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	t := &Table{}
	for _, a := range apps {
		c := app{name: a.Name, def: a.Default, minLevel: identity.LevelLow, normalize: a.PathPolicy == PathNormalize}
		if c.def == "" {
			c.def = Protected
		}
		if a.MinLevel != "" {
			c.minLevel, _ = identity.ParseLevel(a.MinLevel)
		}
		for _, h := range a.Hosts {
			h = strings.ToLower(strings.TrimSuffix(h, "."))
			c.hosts = append(c.hosts, strings.TrimPrefix(h, "*"))
		}
		if a.PathPrefix != "" && a.PathPrefix != "/" {
			p, _ := Normalize(a.PathPrefix)
			c.prefix = p.Match
		}
		for _, r := range a.Rules {
			pat, _ := compilePattern(r.Path)
			cr := rule{methods: r.Methods, pattern: pat, class: r.Class, maxAge: r.MaxAuthAge, original: r.Path}
			if r.Class == StepUp {
				cr.level, _ = identity.ParseLevel(r.MinLevel)
				cr.level = max(cr.level, c.minLevel)
			}
			c.rules = append(c.rules, cr)
		}
		t.apps = append(t.apps, c)
	}
	return t, nil
}

// compilePattern checks a rule pattern and splits it into lower-case
// segments.
func compilePattern(p string) ([]string, error) {
	if p == "" || p[0] != '/' {
		return nil, errors.New("must start with /")
	}
	if p == "/" {
		return nil, nil
	}
	if strings.ContainsAny(p, "%\\;?#") {
		return nil, errors.New("write the path decoded, without % ; ? # or backslashes")
	}
	segs := strings.Split(strings.Trim(p, "/"), "/")
	for i, s := range segs {
		switch {
		case s == "" || s == "." || s == "..":
			return nil, errors.New("empty, . or .. segment")
		case s == "**" && i != len(segs)-1:
			return nil, errors.New("** only as the last segment")
		case s != "*" && s != "**" && strings.Contains(s, "*"):
			return nil, errors.New("* only as a whole segment")
		}
		segs[i] = strings.ToLower(s)
	}
	return segs, nil
}

// HostOnly lower-cases a Host header and removes the port and a final dot.
func HostOnly(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.ToLower(strings.TrimSuffix(host, "."))
}

// Match decides the app and class for a request: host as in the Host
// header, method, and the raw (still escaped) path. It returns
// ErrAmbiguousPath (answer 400) or ErrNoApp (answer 404).
func (t *Table) Match(host, method, rawPath string) (Decision, error) {
	p, err := Normalize(rawPath)
	if err != nil {
		return Decision{}, err
	}
	return t.MatchPath(HostOnly(host), method, p)
}

// MatchPath is Match for a path already normalised and a host already
// passed through HostOnly. An ambiguous path (Path.Ambiguous) is refused
// with ErrAmbiguousPath unless the app's path policy is normalize.
func (t *Table) MatchPath(host, method string, p Path) (Decision, error) {
	best := -1
	for i := range t.apps {
		a := &t.apps[i]
		if !a.hostMatches(host) || !prefixMatches(a.prefix, p.Match) {
			continue
		}
		if best < 0 || len(a.prefix) > len(t.apps[best].prefix) {
			best = i
		}
	}
	if best < 0 {
		return Decision{}, ErrNoApp
	}
	a := &t.apps[best]
	if p.Ambiguous && !a.normalize {
		return Decision{}, ErrAmbiguousPath
	}
	rest := p.Match[len(a.prefix):]
	d := Decision{App: best, AppName: a.name, Class: a.def, Path: p}
	matched := false
	for i := range a.rules {
		r := &a.rules[i]
		if !r.methodMatches(method) || !patternMatches(r.pattern, rest) {
			continue
		}
		if !matched || r.class.rank() > d.Class.rank() {
			d.Class, d.MinLevel, d.MaxAuthAge = r.class, r.level, r.maxAge
		} else if r.class == StepUp && d.Class == StepUp {
			d.MinLevel = max(d.MinLevel, r.level)
			if r.maxAge > 0 && (d.MaxAuthAge == 0 || r.maxAge < d.MaxAuthAge) {
				d.MaxAuthAge = r.maxAge
			}
		}
		matched = true
	}
	if d.Class == Protected || d.Class == FamilyData || d.Class == FamilyLink || d.Class == Credential {
		d.MinLevel = a.minLevel
	}
	return d, nil
}

func (a *app) hostMatches(host string) bool {
	if len(a.hosts) == 0 {
		return true
	}
	for _, h := range a.hosts {
		if h == host || (h[0] == '.' && strings.HasSuffix(host, h)) {
			return true
		}
	}
	return false
}

func prefixMatches(prefix, p string) bool {
	if prefix == "" {
		return true
	}
	return p == prefix || (strings.HasPrefix(p, prefix) && p[len(prefix)] == '/')
}

func (r *rule) methodMatches(m string) bool {
	if len(r.methods) == 0 {
		return true
	}
	m = strings.ToUpper(m)
	for _, x := range r.methods {
		// HEAD is served as GET by almost every app, so a GET rule covers it.
		if x == m || (m == "HEAD" && x == "GET") {
			return true
		}
	}
	return false
}

// patternMatches matches segment patterns against a match-form path.
func patternMatches(pat []string, p string) bool {
	p = strings.TrimPrefix(p, "/")
	for i, s := range pat {
		if s == "**" {
			return true
		}
		if p == "" {
			return false
		}
		seg := p
		j := strings.IndexByte(p, '/')
		if j >= 0 {
			seg, p = p[:j], p[j+1:]
		} else {
			p = ""
		}
		if s != "*" && s != seg {
			return false
		}
		if i == len(pat)-1 {
			return p == ""
		}
	}
	return p == ""
}
