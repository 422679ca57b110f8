package devidp

import (
	"crypto/rand"
	"crypto/subtle"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Form fields of the picker.
const (
	FieldRequestID = "id"
	FieldCSRF      = "csrf"
	FieldPersona   = "persona"
	FieldLevel     = "level"
	FieldAction    = "action" // "login" (default), "continue" (SSO), "cancel"
	csrfCookie     = "devidp_csrf"
	randLen        = 26 // length of a crypto/rand.Text token (base32, 128 bits)
)

type pickerPersona struct {
	Persona
	Masked string
}

type pickerData struct {
	Banner      string
	Title       string
	Issuer      string
	ClientID    string
	ID          string
	CSRF        string
	Scopes      []string
	ACRValues   []string
	MaxAge      string
	PromptLogin bool
	Personas    []pickerPersona
	Levels      []Level
	Selected    string
	MinRank     int
	Continue    *pickerContinue
	Error       string
}

type pickerContinue struct {
	Name     string
	Level    string
	AuthTime string
}

var pickerTmpl = template.Must(template.New("picker").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Dev IdP — {{.Title}}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:sans-serif;margin:0;background:#f4f4f4;color:#222}
.banner{background:#b00020;color:#fff;padding:.8em 1em;font-weight:bold}
main{max-width:46em;margin:1em auto;background:#fff;padding:1em 1.5em;border-radius:6px}
fieldset{margin:1em 0}label{display:block;margin:.3em 0}small{color:#555}
.err{color:#b00020;font-weight:bold}button{padding:.5em 1.2em;margin-right:.5em}
</style></head><body>
<div class="banner" role="alert">{{.Banner}}</div>
<main>
<h1>{{.Title}}</h1>
<p><small>Issuer {{.Issuer}} · client <code>{{.ClientID}}</code> · scopes {{range .Scopes}}<code>{{.}}</code> {{end}}
{{if .ACRValues}}· requested acr_values {{range .ACRValues}}<code>{{.}}</code> {{end}}{{end}}
{{if .MaxAge}}· max_age {{.MaxAge}} s{{end}}{{if .PromptLogin}} · prompt=login{{end}}</small></p>
{{if .Error}}<p class="err">{{.Error}}</p>{{end}}
{{if .Continue}}
<form method="post" action="login">
<input type="hidden" name="id" value="{{.ID}}"><input type="hidden" name="csrf" value="{{.CSRF}}">
<p>Signed in as <b>{{.Continue.Name}}</b> ({{.Continue.Level}}, since {{.Continue.AuthTime}}).</p>
<button name="action" value="continue">Continue without logging in again</button>
</form>
{{end}}
<form method="post" action="login">
<input type="hidden" name="id" value="{{.ID}}"><input type="hidden" name="csrf" value="{{.CSRF}}">
<fieldset><legend>Who are you? (synthetic test personas)</legend>
{{range $i, $p := .Personas}}<label><input type="radio" name="persona" value="{{$p.Key}}"{{if eq $i 0}} checked{{end}}>
{{$p.Name}} <small>({{$p.Key}}, {{$p.Age}} y{{if $p.HasNRN}}, {{$p.Masked}}{{if $p.BIS}} BIS{{end}}{{else}}, foreign document, no national number{{end}})</small></label>
{{end}}</fieldset>
<fieldset><legend>Authentication level for this login</legend>
{{range .Levels}}<label><input type="radio" name="level" value="{{.Key}}"{{if eq .Key $.Selected}} checked{{end}}>
{{.Label}}{{if lt .Rank $.MinRank}} <small>(below the requested level: to test the RP's refusal)</small>{{end}}</label>
{{end}}</fieldset>
<button name="action" value="login">Log in</button>
<button name="action" value="cancel">Cancel (access_denied)</button>
</form>
</main></body></html>`))

var simpleTmpl = template.Must(template.New("simple").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Dev IdP</title>
<style>body{font-family:sans-serif;margin:0}.banner{background:#b00020;color:#fff;padding:.8em 1em;font-weight:bold}main{margin:1em 2em}</style>
</head><body><div class="banner" role="alert">{{.Banner}}</div><main><h1>{{.Heading}}</h1><p>{{.Text}}</p>
{{if .Links}}<ul>{{range .Links}}<li><a href="{{.}}">{{.}}</a></li>{{end}}</ul>{{end}}</main></body></html>`))

type simplePage struct {
	Banner, Heading, Text string
	Links                 []string
}

func renderSimple(w http.ResponseWriter, status int, heading, text string, links []string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.WriteHeader(status)
	_ = simpleTmpl.Execute(w, simplePage{Banner: Banner, Heading: heading, Text: text, Links: links})
}

func (s *Server) serveIndex(w http.ResponseWriter, _ *http.Request) {
	var links []string
	for _, p := range AllProfiles {
		if iss := s.Issuer(p); iss != "" {
			links = append(links, iss+oidc.DiscoveryEndpoint)
		}
	}
	renderSimple(w, http.StatusOK, "overstap development OpenID provider", "Discovery documents:", links)
}

func (p *profileState) serveLoggedOut(w http.ResponseWriter, _ *http.Request) {
	renderSimple(w, http.StatusOK, "Logged out", "You are logged out of the development IdP ("+p.spec.title+").", nil)
}

// liveSession returns the browser's unexpired session (caller holds p.mu).
func (p *profileState) liveSessionLocked(r *http.Request) *session {
	c, err := r.Cookie(p.cookieName())
	if err != nil {
		return nil
	}
	s, ok := p.sessions[c.Value]
	if !ok || p.now().After(s.created.Add(p.srv.sessionTTL)) {
		return nil
	}
	return s
}

// reusable reports whether an existing session satisfies the request
// without a new login: no prompt=login (op turns it into max_age=0),
// auth_time within max_age, and a level at least the requested minimum.
func (p *profileState) reusable(s *session, ar *authRequest) bool {
	if s == nil || slices.Contains(ar.prompt, oidc.PromptLogin) {
		return false
	}
	if ar.maxAge != nil && p.now().Sub(s.authTime) > time.Duration(*ar.maxAge)*time.Second {
		return false
	}
	if min, ok := p.spec.minRequested(ar.acrValues); ok && s.level.Rank < min.Rank {
		return false
	}
	return true
}

func (p *profileState) servePicker(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	switch r.Method {
	case http.MethodGet:
		p.showPicker(w, r, "")
	case http.MethodPost:
		p.choose(w, r)
	default:
		renderSimple(w, http.StatusMethodNotAllowed, "Method not allowed", "", nil)
	}
}

// lockRequest takes p.mu and returns the pending request id, holding the
// lock; for an unknown, expired or finished request it releases the lock,
// answers 400 and returns false.
func (p *profileState) lockRequest(w http.ResponseWriter, id string) (*authRequest, bool) {
	p.mu.Lock()
	ar, err := p.requestLocked(id)
	if err != nil || ar.done {
		p.mu.Unlock()
		renderSimple(w, http.StatusBadRequest, "Unknown or expired login request", "Start again from the application.", nil)
		return nil, false
	}
	return ar, true
}

func (p *profileState) showPicker(w http.ResponseWriter, r *http.Request, errMsg string) {
	id := r.FormValue(FieldRequestID)
	ar, ok := p.lockRequest(w, id)
	if !ok {
		return
	}
	sess := p.liveSessionLocked(r)
	canReuse := p.reusable(sess, ar)
	if slices.Contains(ar.prompt, oidc.PromptNone) {
		if canReuse {
			p.completeLocked(ar, sess, sess.persona, sess.level, sess.authTime)
			p.mu.Unlock()
			http.Redirect(w, r, op.AuthCallbackURL(p.provider)(r.Context(), id), http.StatusFound)
			return
		}
		snapshot := ar.clone()
		p.mu.Unlock()
		op.AuthRequestError(w, r, snapshot, oidc.ErrLoginRequired(), p.provider)
		return
	}
	browser := ""
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) == randLen {
		browser = c.Value
	} else {
		browser = rand.Text()
	}
	d := pickerData{
		Banner: Banner, Title: p.spec.title, Issuer: p.issuer, ClientID: ar.clientID, ID: ar.id, CSRF: p.srv.csrfToken(browser, ar.id),
		Scopes: ar.scopes, ACRValues: ar.acrValues, PromptLogin: slices.Contains(ar.prompt, oidc.PromptLogin),
		Levels: p.spec.levels, Selected: p.spec.defaultLevel, Error: errMsg,
	}
	if ar.maxAge != nil && !d.PromptLogin {
		d.MaxAge = strconv.FormatUint(uint64(*ar.maxAge), 10)
	}
	if min, ok := p.spec.minRequested(ar.acrValues); ok {
		d.Selected, d.MinRank = min.Key, min.Rank
	}
	if canReuse {
		per, _ := p.srv.persona(sess.persona)
		d.Continue = &pickerContinue{Name: per.Name(), Level: sess.level.Label, AuthTime: sess.authTime.UTC().Format(time.RFC3339)}
	}
	p.mu.Unlock()
	for _, per := range p.srv.personas {
		if p.spec.offers(per) {
			d.Personas = append(d.Personas, pickerPersona{Persona: per, Masked: per.NRN.Mask()})
		}
	}
	// The cookie identifies the browser; the form token is an HMAC of it
	// and the request id, so several tabs can log in at once.
	http.SetCookie(w, p.cookie(csrfCookie, browser, int(p.srv.sessionTTL/time.Second)))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// No form-action directive: browsers apply it to the redirects after
	// the submission too, and the login ends in a redirect to the RP.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	if errMsg != "" {
		w.WriteHeader(http.StatusBadRequest)
	}
	_ = pickerTmpl.Execute(w, d)
}

// choose handles the picker form: CSRF (the form token must be the HMAC of
// the browser cookie and the request id), then the persona and level, or
// the SSO continuation, or cancel.
func (p *profileState) choose(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		renderSimple(w, http.StatusBadRequest, "Bad request", "", nil)
		return
	}
	id := r.PostForm.Get(FieldRequestID)
	formCSRF := r.PostForm.Get(FieldCSRF)
	cookieCSRF := ""
	if c, err := r.Cookie(csrfCookie); err == nil {
		cookieCSRF = c.Value
	}
	ar, ok := p.lockRequest(w, id)
	if !ok {
		return
	}
	if cookieCSRF == "" || subtle.ConstantTimeCompare([]byte(formCSRF), []byte(p.srv.csrfToken(cookieCSRF, id))) != 1 {
		p.mu.Unlock()
		renderSimple(w, http.StatusForbidden, "Form expired", "The form could not be verified (CSRF). Start again from the application.", nil)
		return
	}
	switch r.PostForm.Get(FieldAction) {
	case "cancel":
		snapshot := ar.clone()
		p.deleteRequestLocked(id)
		p.mu.Unlock()
		op.AuthRequestError(w, r, snapshot, oidc.ErrAccessDenied().WithDescription("the user cancelled"), p.provider)
		return
	case "continue":
		sess := p.liveSessionLocked(r)
		if !p.reusable(sess, ar) {
			p.mu.Unlock()
			p.showPicker(w, r, "The existing session does not satisfy this request: log in again.")
			return
		}
		p.completeLocked(ar, sess, sess.persona, sess.level, sess.authTime)
		p.mu.Unlock()
	case "login", "":
		per, okP := p.srv.persona(r.PostForm.Get(FieldPersona))
		level, okL := p.spec.level(r.PostForm.Get(FieldLevel))
		if !okP || !okL || !p.spec.offers(per) {
			p.mu.Unlock()
			p.showPicker(w, r, "Choose a persona and a level.")
			return
		}
		now := p.now()
		sess := p.liveSessionLocked(r)
		var ended *session
		if sess != nil && sess.persona != per.Key {
			// Another person logs in on this browser: the old session ends
			// (its RPs get a logout token below).
			ended = sess
			delete(p.sessions, sess.id)
			sess = nil
		}
		if sess == nil {
			sess = p.newSessionLocked(per.Key, now)
		}
		sess.level, sess.authTime = level, now
		p.completeLocked(ar, sess, per.Key, level, now)
		sessCookie := sess.id
		p.mu.Unlock()
		if ended != nil {
			p.srv.sendLogouts(r.Context(), p, []*session{ended})
		}
		http.SetCookie(w, p.cookie(p.cookieName(), sessCookie, int(p.srv.sessionTTL/time.Second)))
	default:
		p.mu.Unlock()
		renderSimple(w, http.StatusBadRequest, "Bad request", "Unknown action.", nil)
		return
	}
	http.Redirect(w, r, op.AuthCallbackURL(p.provider)(r.Context(), id), http.StatusFound)
}

// newSessionLocked creates a browser session, evicting expired and, at the
// cap, the oldest sessions. Caller holds p.mu.
func (p *profileState) newSessionLocked(persona string, now time.Time) *session {
	evict(p.sessions, now, p.srv.maxSessions, func(s *session) time.Time { return s.created.Add(p.srv.sessionTTL) })
	s := &session{
		id: rand.Text(), sid: rand.Text(), persona: persona, subject: p.srv.Subject(p.spec.name, persona),
		created: now, clients: map[string]bool{},
	}
	p.sessions[s.id] = s
	return s
}

func (p *profileState) completeLocked(ar *authRequest, s *session, persona string, level Level, authTime time.Time) {
	ar.done = true
	ar.persona = persona
	ar.subject = p.srv.Subject(p.spec.name, persona)
	ar.level = level
	ar.authTime = authTime
	ar.sessionID = s.id
	ar.sid = s.sid
}
