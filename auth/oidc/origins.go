package oidc

import "net/url"

// BrowserOrigins are the origins the browser is sent to by this provider:
// the authorization and end-session endpoints (scheme://host[:port]),
// for the gateway's Content-Security-Policy form-action (a form posted to
// the gateway that redirects to the IdP is checked against it). Before
// discovery succeeded it is empty.
func (p *Provider) BrowserOrigins() []string {
	m, err := p.metadata()
	if err != nil {
		return nil
	}
	var out []string
	for _, raw := range []string{m.authURL, m.endSessionURL} {
		if o := origin(raw); o != "" {
			out = append(out, o)
		}
	}
	return out
}

func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
