package family

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/overstap/overstap/adapters/registry"
	"github.com/overstap/overstap/auth/gateway/pages"
	"github.com/overstap/overstap/auth/identity"
)

// Config is the `family` section of the configuration.
type Config struct {
	// Registry is the population register that may verify a link without
	// consent (a minor child by descent, or a ward). Default: none.
	Registry registry.Config `yaml:"registry"`
	// StepUp is what adding, approving and revoking require.
	StepUp StepUp `yaml:"step_up"`
	// InvitationTTL is how long an invitation code is valid (default
	// 336h = 14 days, at most 30 days).
	InvitationTTL time.Duration `yaml:"invitation_ttl"`
	// MaxAttempts is how many times an invitation may be opened by someone
	// who is not the invited person before it locks (default 3).
	MaxAttempts int `yaml:"max_attempts"`
	// MaxPending bounds the open invitations of one requester (default 10).
	MaxPending int `yaml:"max_pending"`
	// GrantTTL is the validity of a grant (default 17520h = 2 years); a
	// grant for a minor child ends at the child's 18th birthday at the
	// latest.
	GrantTTL time.Duration `yaml:"grant_ttl"`
	// Apps are the per-app family routes, by the gateway's app name.
	Apps []AppConfig `yaml:"apps"`
}

// StepUp is a level and a maximum age of the authentication.
type StepUp struct {
	// Level is "substantial" or "high" (default high).
	Level string `yaml:"level"`
	// MaxAge is how old the authentication may be (default 10m).
	MaxAge time.Duration `yaml:"max_age"`
}

// AppConfig is one legacy app's family routes. The route classes
// themselves (family_link, family_data, credential) are the gateway's
// route rules; this says how to read them.
type AppConfig struct {
	// Name is the gateway's app name.
	Name string `yaml:"name"`
	// Label is how the family pages name the app, in every page language
	// (nl, fr, de, en: all four, or none; default: Name).
	Label Words `yaml:"label"`
	// MemberField is the field of the family-add request that carries the
	// member's national number (form, JSON or multipart; default
	// "rijksregisternummer").
	MemberField string `yaml:"member_field"`
	// MemberPath is the pattern of family-data and credential paths with
	// the segment holding the member's legacy account id, written
	// {member}; a final /** matches any rest (default "/family/{member}/**").
	MemberPath string `yaml:"member_path"`
	// Actions are the named routes a grant may allow acting on
	// (non-GET family-data requests); a non-GET family-data request that
	// matches none is refused.
	Actions []Action `yaml:"actions"`
	// InviteActions are the actions an invitation asks for besides
	// viewing (each must be in Actions).
	InviteActions []string `yaml:"invite_actions"`
	// ReturnTo is where the requester continues after a step-up (the
	// app's family page; default "/").
	ReturnTo string `yaml:"return_to"`
	// MaxBodyBytes bounds the family-add body (default 16 KiB).
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
}

// Action is a named route acting on a member's behalf.
type Action struct {
	Name string `yaml:"name"`
	// Label is how the family pages name what the action lets the
	// requester do ("pay your bills"), in every page language (all four,
	// or none; default: Name).
	Label   Words    `yaml:"label"`
	Methods []string `yaml:"methods"`
	// Path is a pattern like MemberPath ("/family/{member}/payments").
	Path string `yaml:"path"`
}

// Defaults.
const (
	DefaultInvitationTTL = 14 * 24 * time.Hour
	DefaultGrantTTL      = 2 * 365 * 24 * time.Hour
	DefaultMaxAttempts   = 3
	DefaultMaxPending    = 10
	DefaultStepUpMaxAge  = 10 * time.Minute
	DefaultMemberField   = "rijksregisternummer"
	DefaultMemberPath    = "/family/{member}/**"
)

func (c *Config) setDefaults() {
	if c.InvitationTTL == 0 {
		c.InvitationTTL = DefaultInvitationTTL
	}
	if c.GrantTTL == 0 {
		c.GrantTTL = DefaultGrantTTL
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.MaxPending == 0 {
		c.MaxPending = DefaultMaxPending
	}
	if c.StepUp.Level == "" {
		c.StepUp.Level = "high"
	}
	if c.StepUp.MaxAge == 0 {
		c.StepUp.MaxAge = DefaultStepUpMaxAge
	}
	for i := range c.Apps {
		a := &c.Apps[i]
		if a.MemberField == "" {
			a.MemberField = DefaultMemberField
		}
		if a.MemberPath == "" {
			a.MemberPath = DefaultMemberPath
		}
		if a.ReturnTo == "" {
			a.ReturnTo = "/"
		}
		if a.MaxBodyBytes == 0 {
			a.MaxBodyBytes = 16 << 10
		}
	}
}

// Validate reports every problem of the section, each with its key.
func (c Config) Validate() error {
	var errs []error
	if err := c.Registry.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("registry.%w", err))
	}
	if c.StepUp.Level != "" {
		if l, err := identity.ParseLevel(c.StepUp.Level); err != nil || l < identity.LevelSubstantial {
			errs = append(errs, errors.New("step_up.level: substantial or high"))
		}
	}
	if c.StepUp.MaxAge < 0 || c.StepUp.MaxAge > time.Hour {
		errs = append(errs, errors.New("step_up.max_age: between 0 (default 10m) and 1h"))
	}
	if c.InvitationTTL < 0 || c.InvitationTTL > 30*24*time.Hour {
		errs = append(errs, errors.New("invitation_ttl: between 0 (default 336h) and 720h"))
	}
	if c.GrantTTL < 0 || c.GrantTTL > 5*365*24*time.Hour {
		errs = append(errs, errors.New("grant_ttl: between 0 (default 17520h) and 5 years"))
	}
	if c.MaxAttempts < 0 || c.MaxAttempts > 20 {
		errs = append(errs, errors.New("max_attempts: between 0 (default 3) and 20"))
	}
	if c.MaxPending < 0 || c.MaxPending > 1000 {
		errs = append(errs, errors.New("max_pending: between 0 (default 10) and 1000"))
	}
	if len(c.Apps) == 0 {
		errs = append(errs, errors.New("apps: at least one app (the gateway's app name and its family routes)"))
	}
	seen := map[string]bool{}
	for i, a := range c.Apps {
		k := fmt.Sprintf("apps[%d].", i)
		if a.Name == "" || seen[a.Name] {
			errs = append(errs, fmt.Errorf("%sname: required and unique", k))
		}
		seen[a.Name] = true
		errs = append(errs, a.Label.check(k+"label")...)
		if a.MemberField != "" && (strings.ContainsAny(a.MemberField, " &=;") || len(a.MemberField) > 64) {
			errs = append(errs, fmt.Errorf("%smember_field: a plain field name", k))
		}
		if a.MemberPath != "" {
			if _, err := compileMemberPath(a.MemberPath); err != nil {
				errs = append(errs, fmt.Errorf("%smember_path: %w", k, err))
			}
		}
		names := map[string]bool{}
		for j, act := range a.Actions {
			ak := fmt.Sprintf("%sactions[%d].", k, j)
			if !validName(act.Name) || names[act.Name] {
				errs = append(errs, fmt.Errorf("%sname: unique, [a-z0-9_-]", ak))
			}
			names[act.Name] = true
			errs = append(errs, act.Label.check(ak+"label")...)
			if _, err := compileMemberPath(act.Path); err != nil {
				errs = append(errs, fmt.Errorf("%spath: %w", ak, err))
			}
			for _, m := range act.Methods {
				if m == "" || strings.ToUpper(m) != m || m == "GET" || m == "HEAD" {
					errs = append(errs, fmt.Errorf("%smethods: upper-case methods other than GET/HEAD (viewing is the view scope)", ak))
				}
			}
		}
		for _, n := range a.InviteActions {
			if !names[n] {
				errs = append(errs, fmt.Errorf("%sinvite_actions: %q is not among actions", k, n))
			}
		}
		if a.ReturnTo != "" && (!strings.HasPrefix(a.ReturnTo, "/") || strings.HasPrefix(a.ReturnTo, "//")) {
			errs = append(errs, fmt.Errorf("%sreturn_to: a local path like /family", k))
		}
		if a.MaxBodyBytes < 0 || a.MaxBodyBytes > 1<<20 {
			errs = append(errs, fmt.Errorf("%smax_body_bytes: between 0 (default 16 KiB) and 1 MiB", k))
		}
	}
	return errors.Join(errs...)
}

// Words is a text in each page language (pages.Languages).
type Words map[string]string

// In is the text in lang; else in the first page language that has one
// (nl, fr, de, en); else fallback.
func (w Words) In(lang, fallback string) string {
	if t := w[lang]; t != "" {
		return t
	}
	for _, l := range pages.Languages {
		if t := w[l]; t != "" {
			return t
		}
	}
	return fallback
}

// check reports, with key, each page language an incomplete w lacks and
// each language that is not a page language.
func (w Words) check(key string) []error {
	if len(w) == 0 {
		return nil
	}
	var errs []error
	for _, l := range pages.Languages {
		if strings.TrimSpace(w[l]) == "" {
			errs = append(errs, fmt.Errorf("%s.%s: missing (give the text in %s)", key, l, strings.Join(pages.Languages, ", ")))
		}
	}
	for l := range w {
		if !slices.Contains(pages.Languages, l) {
			errs = append(errs, fmt.Errorf("%s.%s: not a page language (%s)", key, l, strings.Join(pages.Languages, ", ")))
		}
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errs
}

// memberPath is a compiled pattern: literal segments, "{member}" once, "*"
// for one segment, and a final "**".
type memberPath struct {
	segs []string
}

func compileMemberPath(p string) (memberPath, error) {
	if !strings.HasPrefix(p, "/") {
		return memberPath{}, errors.New("must start with /")
	}
	segs := strings.Split(strings.Trim(p, "/"), "/")
	n := 0
	for i, s := range segs {
		switch {
		case s == "{member}":
			n++
		case s == "**" && i != len(segs)-1:
			return memberPath{}, errors.New("** only at the end")
		case s == "" || s == "." || s == "..":
			return memberPath{}, errors.New("empty, . or .. segment")
		}
		segs[i] = strings.ToLower(s)
	}
	if n != 1 {
		return memberPath{}, errors.New("needs exactly one {member} segment")
	}
	return memberPath{segs: segs}, nil
}

// claims reports whether a clean path lies in the pattern's member tree:
// its leading segments equal the literal segments before {member} and a
// segment follows them. A path that claims but does not match cannot be
// placed on its route and is denied (fail closed), never taken for the
// citizen's own.
func (m memberPath) claims(path string) bool {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for i, s := range m.segs {
		if s == "{member}" {
			return i < len(parts) && parts[i] != ""
		}
		if i >= len(parts) || (s != "*" && !strings.EqualFold(s, parts[i])) {
			return false
		}
	}
	return false
}

// match returns the member segment of a clean path, and whether the path
// matches.
func (m memberPath) match(path string) (string, bool) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	member := ""
	for i, s := range m.segs {
		if s == "**" {
			return member, member != ""
		}
		if i >= len(parts) {
			return "", false
		}
		switch s {
		case "{member}":
			member = parts[i]
		case "*":
		default:
			if !strings.EqualFold(s, parts[i]) {
				return "", false
			}
		}
	}
	return member, len(parts) == len(m.segs) && member != ""
}
