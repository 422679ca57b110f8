package upstream

import (
	"net/http"
	"slices"
	"strings"
)

// IdentityHeaders is the maintained list of identity headers that auth
// proxies, load balancers and web-server auth modules set for the app
// behind them. A client must never be able to send one to the app, so
// every request loses all of them (every casing, '_' read as '-') before
// the gateway sets its own. Names ending in '-' are prefixes. The list and
// its sources are in docs/gateway.md ("Headers the app never gets from a
// client"); extend it here, in one place.
var IdentityHeaders = []struct{ Name, Source string }{
	{"x-overstap-", "overstap itself"},
	{"x-auth-request-", "oauth2-proxy (--set-xauthrequest)"},
	{"x-forwarded-", "oauth2-proxy X-Forwarded-User/-Email/-Groups/-Preferred-Username/-Access-Token, Envoy X-Forwarded-Client-Cert (X-Forwarded-For/-Host/-Proto are reset by the gateway)"},
	{"remote-", "Authelia, Authentik, Caddy forward_auth examples (Remote-User, -Email, -Groups, -Name)"},
	{"x-remote-", "Apache/nginx REMOTE_USER passed on (X-Remote-User, -Email, -Name, -Groups)"},
	{"x-authentik-", "Authentik proxy outpost"},
	{"x-pomerium-", "Pomerium (X-Pomerium-Jwt-Assertion, X-Pomerium-Claim-*)"},
	{"x-vouch-", "Vouch Proxy (X-Vouch-User, X-Vouch-Idp-Claims-*)"},
	{"cf-access-", "Cloudflare Access (Cf-Access-Authenticated-User-Email, Cf-Access-Jwt-Assertion)"},
	{"x-amzn-oidc-", "AWS Application Load Balancer (x-amzn-oidc-identity, -data, -accesstoken)"},
	{"x-goog-authenticated-user-", "Google Cloud IAP (X-Goog-Authenticated-User-Email, -Id)"},
	{"x-goog-iap-", "Google Cloud IAP (X-Goog-IAP-JWT-Assertion)"},
	{"x-ms-client-principal", "Azure App Service authentication (X-MS-CLIENT-PRINCIPAL)"},
	{"x-ms-client-principal-", "Azure App Service authentication (X-MS-CLIENT-PRINCIPAL-NAME, -ID, -IDP)"},
	{"x-ms-token-", "Azure App Service token store (X-MS-TOKEN-AAD-ID-TOKEN, ...)"},
	{"oidc-", "Apache mod_auth_openidc (OIDC_CLAIM_*, OIDC_access_token, OIDC_id_token_payload)"},
	{"mellon-", "Apache mod_auth_mellon (MELLON_*)"},
	{"shib-", "Shibboleth SP (Shib-Session-ID, Shib-Identity-Provider, ...)"},
	{"ssl-client-", "Apache mod_ssl / nginx client certificate passed on (SSL_CLIENT_CERT, SSL_CLIENT_S_DN, ...)"},
	{"x-ssl-client-", "client certificate headers of HAProxy and nginx examples (X-SSL-Client-Cert, -DN, -Verify)"},
	{"x-client-cert", "client certificate header of several proxies (X-Client-Cert)"},
	{"x-client-cert-", "client certificate headers of several proxies (X-Client-Cert-Chain, ...)"},
	{"x-client-verify", "nginx examples ($ssl_client_verify)"},
	{"x-arr-clientcert", "IIS Application Request Routing"},
	{"x-authenticated-", "Kong OAuth2 plugin (X-Authenticated-Userid, -Scope), X-Authenticated-User of various proxies"},
	{"x-consumer-", "Kong (X-Consumer-ID, -Custom-ID, -Username, -Groups)"},
	{"x-credential-identifier", "Kong"},
	{"x-anonymous-consumer", "Kong"},
	{"x-userinfo", "Kong OIDC plugin"},
	{"x-id-token", "Kong OIDC plugin"},
	{"x-jwt-assertion", "WSO2 API Manager (X-JWT-Assertion)"},
	{"x-jwt-assertion-", "WSO2 API Manager (X-JWT-Assertion-<tenant>)"},
	{"x-webauth-", "Grafana auth proxy convention (X-WEBAUTH-USER)"},
	{"x-auth-userid", "Keycloak Gatekeeper / Louketo"},
	{"x-auth-username", "Keycloak Gatekeeper / Louketo"},
	{"x-auth-email", "Keycloak Gatekeeper / Louketo"},
	{"x-auth-subject", "Keycloak Gatekeeper / Louketo"},
	{"x-auth-roles", "Keycloak Gatekeeper / Louketo"},
	{"x-auth-groups", "Keycloak Gatekeeper / Louketo"},
	{"x-proxy-user", "Hadoop/Hue style proxy-user headers"},
	{"x-user", "generic"},
	{"x-user-", "generic (X-User-Id, -Email, -Name)"},
	{"x-email", "generic"},
	{"x-username", "generic"},
	{"x-userid", "generic"},
	{"auth-user", "generic"},
	{"remote-user", "generic (Remote-User without a proxy prefix)"},
}

// builtinStrip and stripPrefixes are IdentityHeaders split into exact
// names and prefixes.
var builtinStrip, stripPrefixes = func() (names, prefixes []string) {
	for _, h := range IdentityHeaders {
		if strings.HasSuffix(h.Name, "-") {
			prefixes = append(prefixes, h.Name)
		} else {
			names = append(names, h.Name)
		}
	}
	return names, prefixes
}()

// stripper deletes identity headers.
type stripper struct {
	names    map[string]struct{} // lower case, '_' mapped to '-'
	prefixes []string            // stripPrefixes plus the app's "Name-*" entries
}

func newStripper(extra ...string) *stripper {
	// A copy: appending an app's prefixes to the shared slice would let
	// two apps overwrite each other's entry in its spare capacity.
	s := &stripper{names: make(map[string]struct{}, len(builtinStrip)+len(extra)), prefixes: slices.Clone(stripPrefixes)}
	for _, n := range builtinStrip {
		s.names[n] = struct{}{}
	}
	for _, n := range extra {
		switch {
		case strings.HasSuffix(n, "*"):
			s.prefixes = append(s.prefixes, foldName(strings.TrimSuffix(n, "*")))
		case n != "":
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
	for _, p := range s.prefixes {
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
	for _, p := range s.prefixes {
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
