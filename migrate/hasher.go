package migrate

import (
	"context"

	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/migrate/hash"
)

// HashAdapter adapts a *hash.Hasher to the engine's Hasher interface.
func HashAdapter(h *hash.Hasher) Hasher { return hashAdapter{h} }

type hashAdapter struct{ h *hash.Hasher }

func (a hashAdapter) Identify(stored, hint, salt string) (HashInfo, error) {
	info, err := a.h.Identify(stored, hash.Params{Hint: hint, Salt: salt})
	if err != nil {
		return HashInfo{}, err
	}
	return HashInfo{Scheme: info.Scheme, Strength: strengthOf(info.Strength), Usable: info.Usable}, nil
}

func strengthOf(s hash.Strength) Strength {
	switch s {
	case hash.StrengthWeak:
		return StrengthWeak
	case hash.StrengthAcceptable:
		return StrengthAcceptable
	case hash.StrengthStrong:
		return StrengthStrong
	}
	return StrengthNone
}

func (a hashAdapter) IsDerived(ctx context.Context, stored, hint, salt string, n nrn.Number) (bool, error) {
	return a.h.IsDerived(ctx, stored, hash.Params{Hint: hint, Salt: salt}, n)
}

func (a hashAdapter) Wrap(ctx context.Context, stored, hint, salt string) (string, error) {
	return a.h.Wrap(ctx, stored, hash.Params{Hint: hint, Salt: salt})
}
