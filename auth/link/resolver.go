package link

import (
	"context"
	"errors"
	"fmt"

	"github.com/overstap/overstap/auth/gateway/hook"
	"github.com/overstap/overstap/auth/identity"
)

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
