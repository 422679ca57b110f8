package gateway

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/overstap/overstap/auth/gateway/route"
)

// csp is the Content-Security-Policy of every gateway page; form-action
// also lists the providers' browser origins (formAction).
const csp = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'%s; frame-ancestors 'none'; base-uri 'none'"

// BrowserOriginer is implemented by providers that know the origins they
// send the browser to (authorization and end-session endpoints).
type BrowserOriginer interface {
	BrowserOrigins() []string
}

// formAction lists the providers' origins for form-action: the login,
// step-up and logout forms post to the gateway, which redirects to the
// IdP, and browsers check form-action on that redirect too.
func (g *Gateway) formAction() string {
	var b strings.Builder
	for _, p := range g.providers {
		bo, ok := p.(BrowserOriginer)
		if !ok {
			continue
		}
		for _, o := range bo.BrowserOrigins() {
			if cspSource(o) {
				b.WriteString(" ")
				b.WriteString(o)
			}
		}
	}
	return b.String()
}

// cspSource accepts only scheme://host[:port] made of safe characters.
func cspSource(o string) bool {
	rest, ok := strings.CutPrefix(o, "https://")
	if !ok {
		if rest, ok = strings.CutPrefix(o, "http://"); !ok {
			return false
		}
	}
	if rest == "" || len(rest) > 255 {
		return false
	}
	for _, c := range rest {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == ':' || c == '[' || c == ']') {
			return false
		}
	}
	return true
}

// pageHeaders sets the security headers of a gateway page.
func (g *Gateway) pageHeaders(h http.Header) {
	h.Set("Content-Security-Policy", fmt.Sprintf(csp, g.formAction()))
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	if g.tls {
		h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
	}
}

// cookie names; the __Host- prefix (Secure, Path=/, no Domain) unless
// DevInsecureCookies.
func cookieNames(dev bool) (session, csrf, lang string) {
	if dev {
		return "overstap_session", "overstap_csrf", "lang"
	}
	return "__Host-overstap", "__Host-overstap-csrf", "lang"
}

func (g *Gateway) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		Secure: !g.cfg.DevInsecureCookies, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

// cookieValue returns the first cookie named name, bounded in length.
func cookieValue(r *http.Request, name string, maxLen int) string {
	c, err := r.Cookie(name)
	if err != nil || len(c.Value) > maxLen {
		return ""
	}
	return c.Value
}

// csrfLen is the length of a CSRF token: crypto/rand.Text's 26 base32
// characters (128 bits, safe in a cookie and a form field).
const csrfLen = 26

// csrfToken returns the double-submit token, setting the cookie when the
// browser has none yet.
func (g *Gateway) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if v := cookieValue(r, g.csrfCookie, 64); len(v) == csrfLen {
		return v
	}
	v := rand.Text()
	g.setCookie(w, g.csrfCookie, v, 0)
	return v
}

// checkCSRF compares the form's token with the cookie in constant time.
// The request must be a POST of a form; the body is already bounded.
func (g *Gateway) checkCSRF(r *http.Request) bool {
	c := cookieValue(r, g.csrfCookie, 64)
	f := r.PostFormValue("csrf")
	if len(c) != csrfLen || len(f) != csrfLen {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(c), []byte(f)) == 1
}

// equalSecret compares a presented secret with the configured one in
// constant time, also with respect to length.
func equalSecret(got, want []byte) bool {
	a, b := sha256.Sum256(got), sha256.Sum256(want)
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1 && len(want) > 0
}

// SafeReturnTo checks a return path and returns its canonical form: only
// a same-origin relative path is accepted ("/x/y?q=1"). Refused: absolute
// and scheme-relative URLs (//evil, /\evil, https://evil, javascript:),
// backslashes, control characters (tabs, newlines), non-ASCII, fragments,
// and any path route.Normalize refuses (encoded slashes or backslashes,
// double encoding). The path is returned in its clean form, which never
// starts with "//".
func SafeReturnTo(s string) (string, bool) {
	if s == "" || len(s) > 2048 || s[0] != '/' {
		return "", false
	}
	if len(s) > 1 && (s[1] == '/' || s[1] == '\\') {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= 0x20 || c >= 0x7f || c == '\\' || c == '#' {
			return "", false
		}
	}
	path, query, _ := strings.Cut(s, "?")
	p, err := route.Normalize(path)
	if err != nil {
		return "", false
	}
	u, err := url.Parse(p.Clean)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || strings.HasPrefix(p.Clean, "//") {
		return "", false
	}
	if query != "" {
		if _, err := url.ParseQuery(query); err != nil {
			return "", false
		}
		return p.Clean + "?" + query, true
	}
	return p.Clean, true
}

// trusted reports whether the direct peer is a trusted proxy.
func (g *Gateway) trusted(r *http.Request) bool {
	if len(g.trustedProxies) == 0 {
		return false
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	a := ap.Addr().Unmap()
	for _, p := range g.trustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientIP is the peer's address, or, when the peer is a trusted proxy,
// the right-most X-Forwarded-For entry that is not a trusted proxy.
func (g *Gateway) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if !g.trusted(r) {
		return host
	}
	xff := r.Header.Values("X-Forwarded-For")
	for i := len(xff) - 1; i >= 0; i-- {
		parts := strings.Split(xff[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			a, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				return host // garbage: stop at what we know
			}
			a = a.Unmap()
			isTrusted := false
			for _, p := range g.trustedProxies {
				if p.Contains(a) {
					isTrusted = true
					break
				}
			}
			if !isTrusted {
				return a.String()
			}
			host = a.String()
		}
	}
	return host
}

// headerBytes is the size of r's request line and header fields as they
// came on the wire ("Name: value\r\n" each), the measure of
// Limits.MaxHeaderBytes. net/http's own limit allows 4 KiB of slack and is
// only as strict as the server it runs in (the demo's, a test's), so the
// handler enforces the configured number itself.
func headerBytes(r *http.Request) int {
	n := len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto) + 2
	if r.Host != "" {
		n += len("Host: ") + len(r.Host) + 2
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + 2 + len(v) + 2
		}
	}
	return n
}

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
