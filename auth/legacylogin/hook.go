package legacylogin

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/overstap/overstap/auth/gateway/hook"
	"github.com/overstap/overstap/auth/gateway/pages"
	"github.com/overstap/overstap/auth/identity"
)

// Hook puts an Interceptor in front of an app's legacy_login routes. No
// legacy login post is ever forwarded to the app: a GET shows the
// "your old login no longer works" page (policy block_all) or the app's
// own form (gateway_password, or show_form), and every POST is decided by
// the gateway.
type Hook struct {
	I *Interceptor
	// Home is where a gateway-password login lands ("/" by default).
	Home string
}

var _ hook.Hook = (*Hook)(nil)

// Intercept decides one legacy login request.
func (h *Hook) Intercept(w http.ResponseWriter, r *http.Request, c *hook.Request) hook.Result {
	g := c.Gateway
	done := hook.Result{Handled: true}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		q := r.URL.Query()
		if (h.I.cfg.Policy == PolicyGatewayPassword || h.I.cfg.ShowForm) && !q.Has(explainParam) {
			if carriesCredentials(q, h.I.cfg.Fields) {
				// An app that also logs in on GET must not get the old
				// credentials this way: only the form itself goes through.
				h.useFederated(w, r, c, http.StatusForbidden)
				return done
			}
			// The app's own form; what it posts comes back here.
			return hook.Result{Forward: r}
		}
		h.useFederated(w, r, c, http.StatusOK)
		return done
	case http.MethodPost:
	default:
		g.Error(w, r, http.StatusMethodNotAllowed, pages.KindMethod, nil)
		return done
	}
	if h.I.cfg.Policy == PolicyGatewayPassword && !sameOrigin(r) {
		// A password login posted from another site would log the browser
		// in as the attacker's account (login CSRF).
		g.Error(w, r, http.StatusForbidden, pages.KindCSRF, nil)
		return done
	}
	res, err := h.I.Decide(r.Context(), r, g.ClientIP(r))
	if err != nil {
		g.Error(w, r, http.StatusServiceUnavailable, pages.KindUnavailable, err)
		return done
	}
	switch res.Outcome {
	case UseFederated:
		h.useFederated(w, r, c, http.StatusForbidden)
	case BadRequest:
		g.Error(w, r, http.StatusBadRequest, pages.KindBadRequest, nil)
	case Invalid:
		g.Error(w, r, http.StatusUnauthorized, pages.KindBadCredentials, nil)
	case Verified:
		// The gateway itself is the issuer of a password login; back-channel
		// logout never matches it (no IdP knows it).
		s := &hook.Session{AccountID: res.Account.ID, Identity: identity.Identity{Provider: "password",
			Issuer: "urn:overstap:password", Subject: c.App + ":" + res.Account.ID, Level: identity.LevelLow, AuthTime: g.Now()}}
		if err := g.StartSession(r.Context(), w, r, s); err != nil {
			g.Error(w, r, http.StatusServiceUnavailable, pages.KindUnavailable, err)
			return done
		}
		home := h.Home
		if home == "" {
			home = "/"
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, home, http.StatusSeeOther)
	default:
		g.Error(w, r, http.StatusForbidden, pages.KindForbidden, nil)
	}
	return done
}

// useFederated shows the explanation page to browsers and a JSON error to
// API clients (a JSON login body, or no HTML in Accept).
func (h *Hook) useFederated(w http.ResponseWriter, r *http.Request, c *hook.Request, status int) {
	if strings.Contains(strings.ToLower(r.Header.Get("Content-Type")), "json") || !pages.WantsPage(r) {
		pages.JSON(w, status, map[string]string{"error": "use_federated_login", "login": hook.Prefix + "login"})
		return
	}
	// A language switch comes back to the login path, whose GET shows
	// this page again (asked for explicitly: with the app's form shown on
	// GET, the bare path would show the form instead).
	c.Gateway.Page(w, r, status, pages.Legacy, pages.Data{Action: hook.Prefix + "login", ReturnTo: "/", Here: c.Path + "?" + explainParam}, true)
}

// carriesCredentials reports whether a query names the login form's
// username or password field, in any letter case.
func carriesCredentials(q url.Values, f Fields) bool {
	for k := range q {
		if strings.EqualFold(k, f.Username) || strings.EqualFold(k, f.Password) {
			return true
		}
	}
	return false
}

// explainParam on a GET of the login route asks for the explanation page
// rather than the app's form.
const explainParam = "uitleg"

// crossOrigin is net/http's login-CSRF check; never changed after start-up.
var crossOrigin = http.NewCrossOriginProtection()

// sameOrigin reports whether a post may come from the login form itself,
// as http.CrossOriginProtection decides: Sec-Fetch-Site same-origin or none
// (typed by the user), else an Origin whose host is the request's own; a
// request carrying neither header is not a browser's (curl, an old client)
// and is accepted. Browsers have sent Origin on every POST since 2020, so
// the Referer is no longer consulted.
func sameOrigin(r *http.Request) bool {
	return crossOrigin.Check(r) == nil
}
