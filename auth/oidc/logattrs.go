package oidc

import (
	"log/slog"

	"github.com/overstap/overstap/auth/nrn"
)

func slogKind(k Kind) slog.Attr { return slog.String("kind", string(k)) }

func slogErr(err error) slog.Attr {
	if err == nil {
		return slog.Attr{}
	}
	return slog.String("err", nrn.Scrub(err.Error()))
}

// levelFor logs citizen-caused outcomes at Info and the rest at Warn.
func levelFor(k Kind) slog.Level {
	switch k {
	case KindAccessDenied, KindLoginRequired, KindStateInvalid, KindNoNRN:
		return slog.LevelInfo
	}
	return slog.LevelWarn
}
