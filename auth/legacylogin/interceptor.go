package legacylogin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/overstap/overstap/adapters/store"
	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/auth/ratelimit"
	"github.com/overstap/overstap/internal/audit"
	"github.com/overstap/overstap/migrate/hash"
)

// Policy says what happens to legacy logins with a username that is not a
// national number.
type Policy string

const (
	// PolicyBlockAll refuses every legacy password login (default).
	PolicyBlockAll Policy = "block_all"
	// PolicyGatewayPassword lets the gateway itself check the password of
	// accounts without a national number (people without a Belgian eID).
	PolicyGatewayPassword Policy = "gateway_password"
)

// RevokedMarker replaces a credential that may no longer be used: it is not
// a hash of anything, and the hash library reads a leading "!" as "no usable
// password".
const RevokedMarker = "!overstap-revoked"

// Config configures an Interceptor for one app.
type Config struct {
	// Fields names the legacy login form's username and password fields.
	Fields Fields `yaml:"fields"`
	// Policy is block_all (default) or gateway_password.
	Policy Policy `yaml:"policy"`
	// MaxBody bounds a login request body in bytes (default 64 KiB).
	MaxBody int64 `yaml:"max_body"`
	// ShowForm lets a GET of the login route through to the app, so the old
	// form stays visible under block_all too; whatever it posts is still
	// decided here and never reaches the app. Off (default): a GET shows
	// the explanation at once, and nobody types a national number into a
	// form that cannot work. The demo turns it on to show the refusal.
	// gateway_password always shows the app's form.
	ShowForm bool `yaml:"show_form"`
}

// Validate reports every problem of the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.Fields.Username == "" {
		errs = append(errs, errors.New("fields.username: required (the legacy form's username field)"))
	}
	if c.Fields.Password == "" {
		errs = append(errs, errors.New("fields.password: required (the legacy form's password field)"))
	}
	switch c.Policy {
	case "", PolicyBlockAll, PolicyGatewayPassword:
	default:
		errs = append(errs, fmt.Errorf("policy: %q is not block_all or gateway_password", c.Policy))
	}
	if c.MaxBody < 0 || c.MaxBody > 1<<20 {
		errs = append(errs, errors.New("max_body: must be between 0 (default 64 KiB) and 1 MiB"))
	}
	return errors.Join(errs...)
}

// Outcome is what the gateway does with a legacy login request.
type Outcome int

const (
	// UseFederated: the username is a national number, or the account has
	// one, or its password is NRN-derived: show "your old login no longer
	// works — log in with itsme or your eID".
	UseFederated Outcome = iota + 1
	// Invalid: wrong username or password, or locked by brute-force
	// regulation — deliberately the same outcome.
	Invalid
	// BadRequest: the request could not be read unambiguously.
	BadRequest
	// Verified: the gateway checked the password; create a session for
	// Result.Account.
	Verified
)

// Result is the interceptor's decision.
type Result struct {
	Outcome Outcome
	// Account is set for Verified.
	Account store.Account
	// Upgraded is true when the stored hash was replaced by a bcrypt hash.
	Upgraded bool
}

// Accounts is the slice of a user store the interceptor needs.
type Accounts interface {
	LookupByUsername(ctx context.Context, username string) (store.Account, error)
	CompareAndSwap(ctx context.Context, s store.Swap) error
}

// Hasher is the slice of the hash library the interceptor needs.
type Hasher interface {
	Verify(ctx context.Context, stored, password string, p hash.Params) (hash.Result, error)
	Hash(ctx context.Context, password string) (string, error)
}

// Deps are the interceptor's collaborators. Accounts, Hasher and Limiter are
// needed only for PolicyGatewayPassword.
type Deps struct {
	Accounts Accounts
	Hasher   Hasher
	Limiter  ratelimit.Limiter
	// RefKey keys NRN and username references (nrn.Number.Ref).
	RefKey nrn.RefKey
	Audit  audit.Func
	Logger *slog.Logger
}

// Interceptor decides on legacy login requests for one app.
type Interceptor struct {
	cfg   Config
	d     Deps
	dummy string // a hash verified when there is no account, for equal timing
}

// New returns an Interceptor; for gateway_password it needs every dependency.
func New(ctx context.Context, cfg Config, d Deps) (*Interceptor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Policy == "" {
		cfg.Policy = PolicyBlockAll
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = 64 << 10
	}
	if d.RefKey.IsZero() {
		return nil, errors.New("legacylogin: a reference key (nrn.RefKey) is required")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Audit == nil {
		d.Audit = audit.Discard
	}
	i := &Interceptor{cfg: cfg, d: d}
	if cfg.Policy == PolicyGatewayPassword {
		if d.Accounts == nil || d.Hasher == nil || d.Limiter == nil {
			return nil, errors.New("legacylogin: policy gateway_password needs a user store, a hasher and a rate limiter")
		}
		dummy, err := d.Hasher.Hash(ctx, "overstap-timing-equaliser")
		if err != nil {
			return nil, fmt.Errorf("legacylogin: %w", err)
		}
		i.dummy = dummy
	}
	return i, nil
}

// userRef is the reference of a username for limits and audit: usernames
// can be personal data too.
func (i *Interceptor) userRef(u string) string { return UserRef(i.d.RefKey, u) }

// UserRef is the reference under which a username is rate-limited and
// audited (keyed HMAC, case and surrounding space ignored): what the admin
// API computes to lift a lock by username.
func UserRef(key nrn.RefKey, username string) string {
	return "user:" + nrnlessRef(key.Bytes(), strings.ToLower(strings.TrimSpace(username)))
}

// Decide reads a legacy login request and decides. An error means a backend
// (store, rate limiter) is unavailable: the gateway answers 503 and nothing
// is forwarded.
func (i *Interceptor) Decide(ctx context.Context, r *http.Request, clientIP string) (Result, error) {
	a, err := Extract(r, i.cfg.Fields, i.cfg.MaxBody)
	if err != nil {
		i.d.Audit(ctx, "legacy_login.malformed", audit.Denied, "", map[string]string{"reason": reason(err)})
		return Result{Outcome: BadRequest}, nil
	}
	if n, shaped := nrn.Shaped(a.Username); shaped {
		if i.cfg.Policy == PolicyGatewayPassword {
			// The gateway checks passwords here: this answer costs what
			// every other answer of the password path costs.
			e := i.equaliser(a.Password)
			defer e.finish(ctx)
		}
		ref := "nrn-shaped-invalid"
		if !n.IsZero() {
			ref = n.Ref(i.d.RefKey)
		}
		i.d.Audit(ctx, "legacy_login.nrn_refused", audit.Denied, ref, nil)
		return Result{Outcome: UseFederated}, nil
	}
	if i.cfg.Policy != PolicyGatewayPassword {
		i.d.Audit(ctx, "legacy_login.blocked", audit.Denied, i.userRef(a.Username), nil)
		return Result{Outcome: UseFederated}, nil
	}
	return i.checkPassword(ctx, a, clientIP)
}

func (i *Interceptor) checkPassword(ctx context.Context, a Attempt, clientIP string) (Result, error) {
	// Every answer below does the same expensive work exactly once: the
	// real verification when the stored hash is a slow one, a verification
	// of a dummy bcrypt hash at the target cost otherwise (unknown user,
	// locked, rate limited, an account with a national number, a disabled
	// account, a cheap legacy hash), or the rehash of a successful login.
	e := i.equaliser(a.Password)
	defer e.finish(ctx)
	uref := i.userRef(a.Username)
	dec, err := i.d.Limiter.Check(ctx, clientIP, uref)
	if err != nil {
		return Result{}, fmt.Errorf("legacylogin: rate limiter: %w", err)
	}
	if !dec.Allowed {
		i.d.Audit(ctx, "legacy_login.locked", audit.Denied, uref, map[string]string{"scope": string(dec.Scope)})
		return Result{Outcome: Invalid}, nil
	}
	acc, err := i.d.Accounts.LookupByUsername(ctx, a.Username)
	switch {
	case errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrAmbiguous):
		return i.fail(ctx, clientIP, uref, "unknown_or_ambiguous")
	case err != nil:
		return Result{}, fmt.Errorf("legacylogin: user store: %w", err)
	}
	if !acc.NRN.IsZero() {
		// This person has a national number: federated login only. The
		// answer tells a prober that the username exists, so it costs
		// like a wrong password: same verification time (the equaliser),
		// counted against the client and the username.
		if err := i.d.Limiter.Fail(ctx, clientIP, uref); err != nil {
			return Result{}, fmt.Errorf("legacylogin: rate limiter: %w", err)
		}
		i.d.Audit(ctx, "legacy_login.nrn_account_refused", audit.Denied, acc.NRN.Ref(i.d.RefKey), nil)
		return Result{Outcome: UseFederated}, nil
	}
	if acc.Disabled || acc.CredentialNull {
		return i.fail(ctx, clientIP, uref, "disabled")
	}
	p := hash.Params{Hint: acc.SchemeHint, Salt: acc.Salt}
	res, err := i.d.Hasher.Verify(ctx, acc.Credential, a.Password, p)
	if res.Expensive {
		e.spend()
	}
	if err != nil {
		if ctx.Err() != nil {
			return Result{}, ctx.Err()
		}
		i.d.Logger.Warn("legacylogin: stored credential not verifiable", "account", nrn.Scrub(acc.ID), "err", err)
		return i.fail(ctx, clientIP, uref, "unverifiable_hash")
	}
	if !res.Match {
		return i.fail(ctx, clientIP, uref, "mismatch")
	}
	if i.contextual(a.Password, acc) {
		// Right password, but one an attacker can guess from public context
		// (NIST SP 800-63B §5.1.1.2): take it out of use.
		if err := i.d.Accounts.CompareAndSwap(ctx, store.Swap{ID: acc.ID, Old: acc.Credential, New: RevokedMarker}); err != nil {
			i.d.Logger.Warn("legacylogin: revoking a context-word password failed", "account", nrn.Scrub(acc.ID), "err", err)
		}
		i.d.Audit(ctx, "legacy_login.context_password_revoked", audit.Info, uref, map[string]string{"account": nrn.Scrub(acc.ID)})
		return Result{Outcome: UseFederated}, nil
	}
	if err := i.d.Limiter.Succeed(ctx, uref); err != nil {
		return Result{}, fmt.Errorf("legacylogin: rate limiter: %w", err)
	}
	out := Result{Outcome: Verified, Account: acc}
	if res.NeedsUpgrade {
		e.spend() // the rehash is this answer's expensive work
		if nh, err := i.d.Hasher.Hash(ctx, a.Password); err != nil {
			i.d.Logger.Warn("legacylogin: rehash failed", "account", nrn.Scrub(acc.ID), "err", err)
		} else if err := i.d.Accounts.CompareAndSwap(ctx, store.Swap{ID: acc.ID, Old: acc.Credential, New: nh}); err != nil {
			// The login stands; the upgrade is retried on the next one.
			i.d.Logger.Warn("legacylogin: storing upgraded hash failed", "account", nrn.Scrub(acc.ID), "err", err)
		} else {
			out.Upgraded = true
			out.Account.Credential = nh
		}
	}
	i.d.Audit(ctx, "legacy_login.verified", audit.Success, uref, map[string]string{"account": nrn.Scrub(acc.ID), "upgraded": fmt.Sprint(out.Upgraded)})
	return out, nil
}

// contextual reports whether password is NRN-shaped or contains the
// username or the account's name parts (NIST SP 800-63B context words).
func (i *Interceptor) contextual(password string, acc store.Account) bool {
	if nrn.LooksLike(password) {
		return true
	}
	pw := strings.ToLower(password)
	for _, w := range hash.ContextWords(acc.Username, nrn.Number{}, acc.Name) {
		if w = strings.ToLower(w); len([]rune(w)) >= 4 && strings.Contains(pw, w) {
			return true
		}
	}
	return false
}

func (i *Interceptor) fail(ctx context.Context, ip, uref, why string) (Result, error) {
	if err := i.d.Limiter.Fail(ctx, ip, uref); err != nil {
		return Result{}, fmt.Errorf("legacylogin: rate limiter: %w", err)
	}
	i.d.Audit(ctx, "legacy_login.failed", audit.Denied, uref, map[string]string{"reason": why})
	return Result{Outcome: Invalid}, nil
}

// equaliser makes every answer of the password path do the same
// expensive work once: finish verifies a dummy bcrypt hash at the target
// cost unless the answer already spent that work (a slow real
// verification, a rehash). One per request; not safe for concurrent use.
type equaliser struct {
	i        *Interceptor
	password string
	spent    bool
}

func (i *Interceptor) equaliser(password string) *equaliser {
	return &equaliser{i: i, password: password}
}

// spend records that the answer did its expensive work itself.
func (e *equaliser) spend() { e.spent = true }

// finish does the expensive work if the answer has not.
func (e *equaliser) finish(ctx context.Context) {
	if e.spent {
		return
	}
	e.spent = true
	_, _ = e.i.d.Hasher.Verify(ctx, e.i.dummy, e.password, hash.Params{})
}

func reason(err error) string {
	switch {
	case errors.Is(err, ErrTooLarge):
		return "too_large"
	case errors.Is(err, ErrDuplicate):
		return "duplicate_field"
	case errors.Is(err, ErrContentType):
		return "content_type"
	}
	return "malformed"
}
