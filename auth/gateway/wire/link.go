package wire

import (
	"context"
	"errors"
	"fmt"

	"github.com/overstap/overstap/auth/gateway"
	"github.com/overstap/overstap/auth/link"
)

// Linked resolves the legacy account of a login by linking: the verified
// national number is looked up in the app's user store, the link is
// recorded, and the legacy password revoked (auth/link).
type Linked struct {
	// Linkers by app name. A login whose return path matches no app uses
	// Default ("" when there is none: refused).
	Linkers map[string]*link.Linker
	Default string
}

var _ gateway.AccountResolver = Linked{}

// Resolve links the login's identity and returns the legacy account id.
func (a Linked) Resolve(ctx context.Context, l *gateway.Login) (string, error) {
	app := l.App
	if _, ok := a.Linkers[app]; !ok {
		app = a.Default
	}
	lk, ok := a.Linkers[app]
	if !ok {
		return "", fmt.Errorf("%w: no linking configured for this app", gateway.ErrNoAccount)
	}
	if l.NRN.IsZero() {
		return "", fmt.Errorf("%w: login without national number", gateway.ErrNoAccount)
	}
	res, err := lk.Resolve(ctx, &l.Identity)
	if err != nil {
		return "", err // a store is down: the gateway answers with a retry page
	}
	switch res.Kind {
	case link.Linked:
		if res.Account.ID == "" {
			return "", errors.New("wire: linked account without id")
		}
		return res.Account.ID, nil
	case link.Choose:
		return "", gateway.ErrAccountChoice
	case link.Flagged:
		return "", gateway.ErrAccountFlagged
	default:
		return "", gateway.ErrNoAccount
	}
}
