package devidp

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
)

// Choice is what a tester picks on the picker page.
type Choice struct {
	// Persona is a persona key (PersonaParentA, ...).
	Persona string
	// Level is a level key of the profile ("500", "advanced", "eid"); empty
	// takes the preselected one (the requested minimum, or the default).
	Level string
	// Action is "login" (default), "continue" (reuse the browser's session)
	// or "cancel" (the RP gets error=access_denied).
	Action string
}

var (
	reHidden   = regexp.MustCompile(`name="(id|csrf)" value="([^"]*)"`)
	reSelected = regexp.MustCompile(`name="level" value="([^"]*)" checked`)
)

// ErrNoPicker is returned by BrowserLogin when the IdP answered without
// showing the picker (for example an error redirect, or prompt=none).
var ErrNoPicker = errors.New("devidp: the IdP did not show the picker")

// BrowserLogin plays the browser for tests: it GETs authURL with hc (give
// it a cookie jar to keep the IdP session across calls; without one, a
// fresh jar is used for this call only), answers the picker with c, and
// returns the URL the IdP finally redirects to outside itself — normally
// the RP's redirect_uri with code and state (or error). It does not follow
// that last redirect. When the IdP redirects away without a picker (an
// error, prompt=none), it returns that URL and ErrNoPicker.
func (s *Server) BrowserLogin(ctx context.Context, hc *http.Client, authURL string, c Choice) (*url.URL, error) {
	local := *hc
	if local.Jar == nil {
		jar, err := cookiejar.New(nil)
		if err != nil {
			return nil, err
		}
		local.Jar = jar
	}
	var leaving *url.URL
	local.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > 10 {
			return errors.New("devidp: too many redirects")
		}
		if !strings.HasPrefix(req.URL.String(), s.base+"/") {
			leaving = req.URL
			return http.ErrUseLastResponse
		}
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := local.Do(req)
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if leaving != nil {
		return leaving, ErrNoPicker
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("devidp: picker answered %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	vals := url.Values{}
	for _, m := range reHidden.FindAllStringSubmatch(string(body), -1) {
		vals.Set(m[1], html.UnescapeString(m[2]))
	}
	if vals.Get(FieldRequestID) == "" || vals.Get(FieldCSRF) == "" {
		return nil, ErrNoPicker
	}
	action := c.Action
	if action == "" {
		action = "login"
	}
	vals.Set(FieldAction, action)
	if action == "login" {
		level := c.Level
		if level == "" {
			if m := reSelected.FindStringSubmatch(string(body)); m != nil {
				level = m[1]
			}
		}
		vals.Set(FieldPersona, c.Persona)
		vals.Set(FieldLevel, level)
	}
	post, err := http.NewRequestWithContext(ctx, http.MethodPost, resp.Request.URL.ResolveReference(&url.URL{Path: "login"}).String(), strings.NewReader(vals.Encode()))
	if err != nil {
		return nil, err
	}
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = local.Do(post)
	if err != nil {
		return nil, err
	}
	body, _ = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if leaving == nil {
		return nil, fmt.Errorf("devidp: login did not redirect to the RP (status %d): %.300s", resp.StatusCode, body)
	}
	return leaving, nil
}
