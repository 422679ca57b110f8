package gateway

import (
	"net/http"
	"strings"
)

// ownCookie reports whether a cookie name belongs to the gateway: the
// session, CSRF and pre-auth (login flow) cookies are all named
// "overstap…", with the __Host- prefix outside development. Matching the
// namespace rather than three names keeps a future cookie from leaking.
func ownCookie(name string) bool {
	name = strings.TrimLeft(name, " \t")
	name = strings.TrimPrefix(strings.TrimPrefix(name, "__Host-"), "__Secure-")
	return strings.HasPrefix(name, "overstap")
}

// stripOwnCookies removes the gateway's cookies from the Cookie headers of
// a request to the app: the session id is a bearer token the app must
// never see. Every other cookie pair passes byte for byte, in order,
// duplicates and odd spellings included; a Cookie header left empty goes.
func stripOwnCookies(h http.Header) {
	vs := h["Cookie"]
	if len(vs) == 0 {
		return
	}
	out := vs[:0:0]
	for _, v := range vs {
		if !strings.Contains(v, "overstap") {
			out = append(out, v)
			continue
		}
		var kept []string
		for _, pair := range strings.Split(v, ";") {
			name, _, _ := strings.Cut(pair, "=")
			if ownCookie(name) {
				continue
			}
			kept = append(kept, pair)
		}
		if nv := strings.TrimLeft(strings.Join(kept, ";"), " \t"); nv != "" {
			out = append(out, nv)
		}
	}
	if len(out) == 0 {
		delete(h, "Cookie")
		return
	}
	h["Cookie"] = out
}
