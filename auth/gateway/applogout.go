package gateway

import (
	"net/http"

	"github.com/overstap/overstap/auth/gateway/route"
)

// appLogout serves a request of the logout class (the app's own logout
// URL and method): the app gets the request with the session's identity so
// that it clears its own session, its response is kept only for its
// Set-Cookie headers, the gateway session ends too, and the browser goes
// to the provider's logout (where it has one) and then to "you are logged
// out". Without that, the app's logout button would clear only the app's
// cookie and the next visitor of a shared computer would be logged in as
// the previous citizen by the gateway session.
func (g *Gateway) appLogout(w http.ResponseWriter, r *http.Request, a *app, p route.Path) {
	s, _ := g.loadSession(r) // nil without one, or with the store down: the app still clears its own
	if s != nil && s.AccountID == "" {
		s = nil // a registering citizen has no app session to end
	}
	if a.proxy != nil {
		g.limitBody(w, r)
		rec := &setCookieRecorder{h: http.Header{}}
		g.forward(rec, r, a, s, p)
		for _, c := range rec.h.Values("Set-Cookie") {
			w.Header().Add("Set-Cookie", c)
		}
	}
	g.logOut(w, r)
}

// setCookieRecorder is the ResponseWriter the app's logout answer goes to:
// it keeps the headers (for Set-Cookie) and drops status and body.
type setCookieRecorder struct{ h http.Header }

func (c *setCookieRecorder) Header() http.Header         { return c.h }
func (c *setCookieRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (c *setCookieRecorder) WriteHeader(int)             {}
