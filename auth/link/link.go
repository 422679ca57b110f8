package link

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/overstap/overstap/adapters/store"
	"github.com/overstap/overstap/auth/gateway/hook"
	"github.com/overstap/overstap/auth/identity"
	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/internal/audit"
)

// RevokedMarker replaces a revoked legacy credential. It hashes to nothing,
// and the hash library reads a leading "!" as "no usable password".
const RevokedMarker = "!overstap-revoked:link"

// Status of a link record.
const (
	StatusRevoking = "revoking" // recorded, credential revocation not yet confirmed
	StatusLinked   = "linked"
)

// Record is one link as the state store keeps it: references only.
type Record struct {
	App       string
	NRNRef    string
	AccountID string
	Issuer    string
	Subject   string
	Status    string
	Created   time.Time
}

// Errors of a Records implementation.
var (
	ErrNotFound = errors.New("link: no link")
	ErrExists   = errors.New("link: already linked")
)

// Records persists links. Implementations are safe for concurrent use across
// processes (a unique key on App+NRNRef).
type Records interface {
	Get(ctx context.Context, app, nrnRef string) (Record, error)
	// Insert returns ErrExists when a link for App+NRNRef exists.
	Insert(ctx context.Context, r Record) error
	SetStatus(ctx context.Context, app, nrnRef, status string) error
}

// Accounts is the slice of a user store linking needs.
type Accounts interface {
	LookupByNRN(ctx context.Context, n nrn.Number) ([]store.Account, error)
	Get(ctx context.Context, id string) (store.Account, error)
	CompareAndSwap(ctx context.Context, s store.Swap) error
	SetFederated(ctx context.Context, id string, federated bool) error
	Capabilities() store.Capabilities
}

// Config is one app's linking policy.
type Config struct {
	// RevokeOnLink revokes the legacy password when the link is made
	// (default true; set false only for an app that must keep passwords).
	RevokeOnLink *bool `yaml:"revoke_on_link"`
}

// Linker links identities to accounts of one app's store.
type Linker struct {
	app      string
	accounts Accounts
	records  Records
	refKey   nrn.RefKey
	revoke   bool
	audit    audit.Func
	log      *slog.Logger
	now      func() time.Time
}

// Deps are a Linker's collaborators.
type Deps struct {
	Accounts Accounts
	Records  Records
	RefKey   nrn.RefKey
	Audit    audit.Func
	Logger   *slog.Logger
	Now      func() time.Time
}

// New returns a Linker for app.
func New(app string, cfg Config, d Deps) (*Linker, error) {
	if app == "" || d.Accounts == nil || d.Records == nil {
		return nil, errors.New("link: app, accounts and records are required")
	}
	if d.RefKey.IsZero() {
		return nil, errors.New("link: a reference key (nrn.RefKey) is required")
	}
	l := &Linker{app: app, accounts: d.Accounts, records: d.Records, refKey: d.RefKey, revoke: cfg.RevokeOnLink == nil || *cfg.RevokeOnLink,
		audit: d.Audit, log: d.Logger, now: d.Now}
	if l.audit == nil {
		l.audit = audit.Discard
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	if l.now == nil {
		l.now = time.Now
	}
	return l, nil
}

// Kind of a resolution.
type Kind int

const (
	// Linked: Account is the citizen's legacy account.
	Linked Kind = iota + 1
	// NoAccount: the store has no account for this national number.
	NoAccount
	// Choose: several accounts carry this number; Choices lists them and
	// the citizen picks one (LinkChosen).
	Choose
	// Flagged: the account's data disagree (its NRN column and its
	// NRN-shaped username name different people); not linked, the admin
	// must look.
	Flagged
)

// Resolution is the outcome of Resolve.
type Resolution struct {
	Kind    Kind
	Account store.Account
	Choices []store.Account
}

// Resolve finds or makes the link for a verified identity. An error means
// the store or the state store is unavailable: nothing is half-linked, and
// the citizen is asked to retry.
func (l *Linker) Resolve(ctx context.Context, id *identity.Identity) (Resolution, error) {
	if id.NRN.IsZero() {
		return Resolution{}, errors.New("link: identity without national number")
	}
	ref := id.NRN.Ref(l.refKey)
	if rec, err := l.records.Get(ctx, l.app, ref); err == nil {
		return l.finish(ctx, rec, id)
	} else if !errors.Is(err, ErrNotFound) {
		return Resolution{}, fmt.Errorf("link: state store: %w", err)
	}
	accs, err := l.accounts.LookupByNRN(ctx, id.NRN)
	if err != nil {
		return Resolution{}, fmt.Errorf("link: user store: %w", err)
	}
	switch len(accs) {
	case 0:
		l.audit(ctx, "link.no_account", audit.Info, ref, map[string]string{"app": l.app})
		return Resolution{Kind: NoAccount}, nil
	case 1:
		return l.link(ctx, id, accs[0])
	}
	l.audit(ctx, "link.several_accounts", audit.Info, ref, map[string]string{"app": l.app, "count": fmt.Sprint(len(accs))})
	return Resolution{Kind: Choose, Choices: accs}, nil
}

// LinkChosen links the account the citizen chose among several carrying
// their national number. accountID must be one of them.
func (l *Linker) LinkChosen(ctx context.Context, id *identity.Identity, accountID string) (Resolution, error) {
	if id.NRN.IsZero() {
		return Resolution{}, errors.New("link: identity without national number")
	}
	accs, err := l.accounts.LookupByNRN(ctx, id.NRN)
	if err != nil {
		return Resolution{}, fmt.Errorf("link: user store: %w", err)
	}
	for _, a := range accs {
		if a.ID == accountID {
			return l.link(ctx, id, a)
		}
	}
	return Resolution{}, errors.New("link: the chosen account does not carry this national number")
}

// disagrees reports whether an account's NRN column and its NRN-shaped
// username name two different people.
func disagrees(acc store.Account) bool {
	if acc.NRNSource != "column" {
		return false
	}
	u, _ := nrn.Shaped(acc.Username)
	return !u.IsZero() && !u.Equal(acc.NRN)
}

func (l *Linker) link(ctx context.Context, id *identity.Identity, acc store.Account) (Resolution, error) {
	ref := id.NRN.Ref(l.refKey)
	if disagrees(acc) {
		l.audit(ctx, "link.flagged", audit.Info, ref, map[string]string{"app": l.app, "account": nrn.Scrub(acc.ID), "reason": "nrn_column_and_username_differ"})
		return Resolution{Kind: Flagged}, nil
	}
	rec := Record{App: l.app, NRNRef: ref, AccountID: acc.ID, Issuer: id.Issuer, Subject: id.Subject, Status: StatusRevoking, Created: l.now().UTC()}
	if !l.revoke {
		rec.Status = StatusLinked
	}
	switch err := l.records.Insert(ctx, rec); {
	case errors.Is(err, ErrExists):
		// A concurrent login of the same person won: continue from its record.
		existing, gerr := l.records.Get(ctx, l.app, ref)
		if gerr != nil {
			return Resolution{}, fmt.Errorf("link: state store: %w", gerr)
		}
		return l.finish(ctx, existing, id)
	case err != nil:
		return Resolution{}, fmt.Errorf("link: state store: %w", err)
	}
	l.audit(ctx, "link.created", audit.Success, ref, map[string]string{"app": l.app, "account": nrn.Scrub(acc.ID), "issuer": id.Issuer})
	return l.finish(ctx, rec, id)
}

// finish completes a recorded link: revoke when still "revoking", then
// return the account.
func (l *Linker) finish(ctx context.Context, rec Record, id *identity.Identity) (Resolution, error) {
	acc, err := l.accounts.Get(ctx, rec.AccountID)
	if errors.Is(err, store.ErrNotFound) {
		l.audit(ctx, "link.account_gone", audit.Info, rec.NRNRef, map[string]string{"app": l.app, "account": nrn.Scrub(rec.AccountID)})
		return Resolution{Kind: NoAccount}, nil
	}
	if err != nil {
		return Resolution{}, fmt.Errorf("link: user store: %w", err)
	}
	if !acc.NRN.IsZero() && !acc.NRN.Equal(id.NRN) || disagrees(acc) {
		// The linked account now belongs to someone else (its id was
		// reused, or its data were changed): never hand it out on an old
		// link; the admin must look.
		l.audit(ctx, "link.stale", audit.Info, rec.NRNRef, map[string]string{"app": l.app, "account": nrn.Scrub(rec.AccountID), "reason": "account_nrn_changed"})
		return Resolution{Kind: Flagged}, nil
	}
	if rec.Status == StatusRevoking {
		if acc, err = l.revokeCredential(ctx, acc); err != nil {
			return Resolution{}, err
		}
		if err := l.records.SetStatus(ctx, l.app, rec.NRNRef, StatusLinked); err != nil {
			return Resolution{}, fmt.Errorf("link: state store: %w", err)
		}
		l.audit(ctx, "link.credential_revoked", audit.Success, rec.NRNRef, map[string]string{"app": l.app, "account": nrn.Scrub(acc.ID)})
	}
	return Resolution{Kind: Linked, Account: acc}, nil
}

// revokeCredential replaces the account's credential by the marker, by
// compare-and-swap; a concurrent change is re-read and revoked too (a few
// tries), since the policy is that this account now uses federated login.
func (l *Linker) revokeCredential(ctx context.Context, acc store.Account) (store.Account, error) {
	for try := 0; try < 3; try++ {
		if !acc.CredentialNull && strings.HasPrefix(acc.Credential, "!") {
			break // already unusable
		}
		err := l.accounts.CompareAndSwap(ctx, store.Swap{ID: acc.ID, Old: acc.Credential, OldNull: acc.CredentialNull, New: RevokedMarker})
		if err == nil {
			acc.Credential, acc.CredentialNull = RevokedMarker, false
			break
		}
		if !errors.Is(err, store.ErrConflict) {
			return acc, fmt.Errorf("link: revoking the legacy password: %w", err)
		}
		if acc, err = l.accounts.Get(ctx, acc.ID); err != nil {
			return acc, fmt.Errorf("link: user store: %w", err)
		}
		if try == 2 {
			return acc, errors.New("link: legacy password keeps changing; retry")
		}
	}
	if l.accounts.Capabilities().Federated {
		if err := l.accounts.SetFederated(ctx, acc.ID, true); err != nil {
			return acc, fmt.Errorf("link: setting the federated flag: %w", err)
		}
		acc.Federated = true
	}
	return acc, nil
}

// Resolver finds the legacy account of a login by linking, for the
// gateway (its AccountResolver): the verified national number is looked up
// in the app's user store, the link is recorded, and the legacy password
// revoked (Linker.Resolve). Its refusals are the hook contract's account
// errors, which the gateway shows as pages.
type Resolver struct {
	// Linkers by app name. A login whose return path matches no app uses
	// Default ("" when there is none: refused).
	Linkers map[string]*Linker
	Default string
}

// Resolve links the login's identity for app and returns the legacy
// account id.
func (a Resolver) Resolve(ctx context.Context, app string, id *identity.Identity) (string, error) {
	if _, ok := a.Linkers[app]; !ok {
		app = a.Default
	}
	lk, ok := a.Linkers[app]
	if !ok {
		return "", fmt.Errorf("%w: no linking configured for this app", hook.ErrNoAccount)
	}
	if id.NRN.IsZero() {
		return "", fmt.Errorf("%w: login without national number", hook.ErrNoAccount)
	}
	res, err := lk.Resolve(ctx, id)
	if err != nil {
		return "", err // a store is down: the gateway answers with a retry page
	}
	switch res.Kind {
	case Linked:
		if res.Account.ID == "" {
			return "", errors.New("link: linked account without id")
		}
		return res.Account.ID, nil
	case Choose:
		return "", hook.ErrAccountChoice
	case Flagged:
		return "", hook.ErrAccountFlagged
	default:
		return "", hook.ErrNoAccount
	}
}
