package oidc_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"

	"github.com/overstap/overstap/auth/oidc"
	"github.com/overstap/overstap/internal/config"
)

// Example shows how a gateway wires one provider: start a login, handle the
// callback (branching on the outcome kind), and accept back-channel logout.
func Example() {
	ctx := context.Background()
	secret, _ := config.ResolveSecret("${FAS_CLIENT_SECRET}", os.LookupEnv, config.ReadSecretFile)
	p, err := oidc.New(ctx, oidc.ProviderConfig{
		Name: "fas", Profile: "fas",
		Issuer:         "https://idp.iamfas.int.belgium.be/fas/oauth2",
		ExpectedIssuer: "http://idp.iamfas.int.belgium.be:80/fas/oauth2", // as observed; logged at start-up
		ClientID:       "eloket", ClientSecret: secret,
		RedirectURL: "https://eloket.gemeente.be/auth/callback/fas",
		MinLevel:    "urn:be:fedict:iam:fas:Level400",
	}, oidc.Deps{Flows: oidc.NewMemoryStore(nil, 0), Logger: slog.Default()})
	if err != nil {
		return // configuration error: every problem, with its key
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login/fas", func(w http.ResponseWriter, r *http.Request) {
		u, err := p.AuthRequest(w, r, oidc.LoginOptions{ReturnTo: r.URL.Query().Get("rd"), UILocales: []string{"nl"}})
		if err != nil {
			http.Error(w, "login unavailable", http.StatusServiceUnavailable) // p.Ready() says why
			return
		}
		http.Redirect(w, r, u, http.StatusFound)
	})
	mux.HandleFunc("GET /auth/callback/fas", func(w http.ResponseWriter, r *http.Request) {
		id, err := p.Callback(w, r)
		var ce *oidc.CallbackError
		switch {
		case errors.As(err, &ce) && ce.Kind == oidc.KindLevelTooLow:
			http.Error(w, ce.Safe, http.StatusForbidden) // offer a stronger login
		case err != nil:
			http.Error(w, "login failed", http.StatusForbidden)
		default:
			_ = id // look up the account by id.NRN, create the session, redirect to id.ReturnTo
		}
	})
	mux.HandleFunc("POST /backchannel-logout/fas", func(w http.ResponseWriter, r *http.Request) {
		lc, err := p.ValidateLogoutToken(r.Context(), r.PostFormValue("logout_token"))
		switch {
		case errors.Is(err, oidc.ErrLogoutTokenInvalid):
			http.Error(w, "invalid", http.StatusBadRequest)
		case err != nil:
			http.Error(w, "try again", http.StatusServiceUnavailable)
		default:
			_ = lc // revoke sessions by (lc.Issuer, lc.SID), or by (lc.Issuer, lc.Subject)
		}
	})
}
