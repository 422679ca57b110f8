package upstream

import (
	"net/http"
	"strings"
)

// builtinStrip are identity headers other gateways and web servers use; a
// client must never be able to send them to the app. Lower case, dashes.
var builtinStrip = []string{
	"x-forwarded-user", "x-forwarded-email", "x-forwarded-preferred-username",
	"x-forwarded-groups", "x-forwarded-access-token", "x-remote-user", "remote-user",
	"x-remote-email", "x-remote-name", "x-remote-groups", "x-user", "x-email",
	"x-pomerium-jwt-assertion", "x-ms-client-principal", "x-ms-client-principal-name",
	"x-ms-client-principal-id", "x-webauth-user", "x-proxy-user", "auth-user",
}

// stripPrefixes are header name prefixes reserved for gateways.
var stripPrefixes = []string{"x-auth-request-", "x-overstap-"}

// stripper deletes identity headers.
type stripper struct {
	names map[string]struct{} // lower case, '_' mapped to '-'
}

func newStripper(extra ...string) *stripper {
	s := &stripper{names: make(map[string]struct{}, len(builtinStrip)+len(extra))}
	for _, n := range builtinStrip {
		s.names[n] = struct{}{}
	}
	for _, n := range extra {
		if n != "" {
			s.names[foldName(n)] = struct{}{}
		}
	}
	return s
}

// foldName lower-cases a header name and maps '_' to '-', the way some
// servers (nginx with underscores_in_headers, CGI/PHP $_SERVER) read it.
func foldName(n string) string {
	return strings.ReplaceAll(strings.ToLower(n), "_", "-")
}

// matches reports whether a header name is an identity header, without
// allocating for names up to 128 bytes.
func (s *stripper) matches(name string) bool {
	var buf [128]byte
	if len(name) > len(buf) {
		f := foldName(name)
		return s.matchFolded(f)
	}
	b := buf[:len(name)]
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		case c == '_':
			c = '-'
		}
		b[i] = c
	}
	if _, ok := s.names[string(b)]; ok {
		return true
	}
	for _, p := range stripPrefixes {
		if len(b) >= len(p) && string(b[:len(p)]) == p {
			return true
		}
	}
	return false
}

func (s *stripper) matchFolded(f string) bool {
	if _, ok := s.names[f]; ok {
		return true
	}
	for _, p := range stripPrefixes {
		if strings.HasPrefix(f, p) {
			return true
		}
	}
	return false
}

// strip deletes every identity header from h (all values, every casing).
func (s *stripper) strip(h http.Header) {
	for k := range h {
		if s.matches(k) {
			delete(h, k)
		}
	}
}
