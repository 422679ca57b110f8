package family

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/overstap/overstap/auth/gateway/hook"
	"github.com/overstap/overstap/auth/gateway/pages"
	"github.com/overstap/overstap/auth/gateway/route"
	"github.com/overstap/overstap/auth/nrn"
)

// Hooks returns the gateway hooks of the family route classes. In
// forward-auth mode the gateway never sees a body and denies these
// classes whatever the hook would say.
func (s *Service) Hooks() map[route.Class]hook.Hook {
	return map[route.Class]hook.Hook{
		route.FamilyLink: linkHook{s},
		route.FamilyData: dataHook{s},
		route.Credential: credentialHook{s},
	}
}

// fresh reports whether the session meets the family step-up.
func (s *Service) fresh(g hook.Gateway, sess *hook.Session) bool {
	return g.Fresh(sess, s.level, s.cfg.StepUp.MaxAge)
}

// stepUp sends the citizen to the gateway's step-up page (a fresh login
// with prompt=login; the citizen confirms with a button, so a login that
// is again too weak never loops by itself).
//
// The gateway asks the IdP for the level of returnTo's route: every family
// step-up returns under /.overstap/family/, so one gateway rule
// (path /.overstap/family/**, class step_up, the family level and age)
// makes the IdP ask for the right level. Without it the citizen must
// choose a strong enough means; the check repeats on return either way.
func (s *Service) stepUp(g hook.Gateway, w http.ResponseWriter, r *http.Request, _ *hook.Session, returnTo string) {
	requireLogin(g, w, r, returnTo, true)
}

// requireLogin is g.RequireLogin, except for a browser's form post: the
// gateway answers those with 401 JSON, so the step-up page is rendered
// here (its button starts a fresh login returning to returnTo; the post
// itself is never replayed: a family-add's typed fields wait in a draft,
// and the citizen checks and sends them again, drafts.go).
func requireLogin(g hook.Gateway, w http.ResponseWriter, r *http.Request, returnTo string, stepUp bool) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead && browserForm(r) {
		stepUpPage(g, w, r, returnTo, "")
		return
	}
	g.RequireLogin(w, r, returnTo, stepUp)
}

// stepUpPage is the gateway's step-up page (401) for a form post; kind
// "kept" adds that what was typed waits behind it (drafts.go).
func stepUpPage(g hook.Gateway, w http.ResponseWriter, r *http.Request, returnTo, kind string) {
	g.Page(w, r, http.StatusUnauthorized, pages.StepUp, pages.Data{Action: hook.Prefix + "stepup", ReturnTo: returnTo, Kind: kind}, true)
}

// browserForm reports whether r looks like a browser's form submission.
func browserForm(r *http.Request) bool {
	h := r.Header
	if h.Get("X-Requested-With") != "" {
		return false
	}
	if m := h.Get("Sec-Fetch-Mode"); m != "" && m != "navigate" {
		return false
	}
	return strings.Contains(h.Get("Accept"), "text/html")
}

// session answers the request itself (login, 503) unless it has a session
// with a national number.
func session(w http.ResponseWriter, r *http.Request, c *hook.Request, returnTo string) (*hook.Session, bool) {
	g := c.Gateway
	switch {
	case c.SessionErr != nil:
		g.Error(w, r, http.StatusServiceUnavailable, pages.KindSessionStore, c.SessionErr)
		return nil, false
	case c.Session == nil:
		requireLogin(g, w, r, returnTo, false)
		return nil, false
	case c.Session.NRN.IsZero():
		g.Error(w, r, http.StatusForbidden, pages.KindNoNRN, nil)
		return nil, false
	}
	return c.Session, true
}

// appOf is the family settings of c's app; for an app without them it
// answers 403 with kind and returns false.
func (s *Service) appOf(w http.ResponseWriter, r *http.Request, c *hook.Request, kind pages.Kind) (*app, bool) {
	a, ok := s.apps[c.App]
	if !ok {
		c.Gateway.Error(w, r, http.StatusForbidden, kind, nil)
	}
	return a, ok
}

// appSession is appOf and then the citizen's session (session, returning
// to the app's page after a login).
func (s *Service) appSession(w http.ResponseWriter, r *http.Request, c *hook.Request, kind pages.Kind) (*app, *hook.Session, bool) {
	a, ok := s.appOf(w, r, c, kind)
	if !ok {
		return nil, nil, false
	}
	sess, ok := session(w, r, c, a.ReturnTo)
	return a, sess, ok
}

type linkHook struct{ s *Service }

// Intercept decides a family-add request: step-up, the member's number
// read unambiguously, then a live grant, the register, or an invitation.
func (h linkHook) Intercept(w http.ResponseWriter, r *http.Request, c *hook.Request) hook.Result {
	s, g := h.s, c.Gateway
	handled := hook.Result{Handled: true}
	a, sess, ok := s.appSession(w, r, c, pages.KindFamilyLink)
	if !ok {
		return handled
	}
	if !s.fresh(g, sess) {
		if r.Method == http.MethodPost && browserForm(r) && s.keepDraft(r.Context(), s.ref(sess.NRN), a, r) {
			// What the citizen typed waits for them behind the step-up,
			// and the step-up page says so.
			stepUpPage(g, w, r, continueTo(c.App), "kept")
			return handled
		}
		s.stepUp(g, w, r, sess, continueTo(c.App))
		return handled
	}
	ex, err := ExtractMember(r, a.MemberField, a.MaxBodyBytes)
	if err != nil {
		s.record(r.Context(), "family.requested", "refused", sess.NRNRef, "", c.App, map[string]string{"reason": errReason(err)})
		switch {
		case errors.Is(err, ErrTooLarge):
			g.Error(w, r, http.StatusRequestEntityTooLarge, pages.KindTooLarge, nil)
		case errors.Is(err, ErrBadNRN), errors.Is(err, ErrMissingField):
			g.Error(w, r, http.StatusBadRequest, KindNRN, nil)
		default:
			g.Error(w, r, http.StatusBadRequest, KindRequest, nil)
		}
		return handled
	}
	s.NoteLogin(r.Context(), sess.NRN, sess.Name)
	res, err := s.RequestLink(r.Context(), c.App, sess.NRN, ex.Member)
	switch {
	case errors.Is(err, ErrTooMany):
		g.Error(w, r, http.StatusTooManyRequests, KindTooMany, nil)
		return handled
	case err != nil:
		g.Error(w, r, http.StatusServiceUnavailable, pages.KindUnavailable, err)
		return handled
	}
	switch res.Outcome {
	case Self:
		g.Error(w, r, http.StatusBadRequest, KindSelf, nil)
		return handled
	case Invited:
		kind := "not_verified"
		if res.RegistryDown {
			kind = "registry_down"
		}
		if !pages.WantsPage(r) {
			// An app's JSON front end shows the code itself.
			pages.JSON(w, http.StatusForbidden, map[string]any{
				"error": "family_link_unverified", "reason": kind, "invitation_code": res.Code,
				"invitation_expires": res.Invitation.Expires.Format(time.RFC3339), "member": ex.Member.Mask(),
				"accept_path": EndpointPrefix + "/accept",
			})
			return handled
		}
		g.Page(w, r, http.StatusForbidden, PageInvite, pages.Data{
			Kind: kind, Ref: res.Code, HomeURL: a.ReturnTo,
			Extra: invitePage{Member: ex.Member.Mask(), App: s.appLabel(c.App), Expires: res.Invitation.Expires.Format("2006-01-02")},
		}, false)
		return handled
	}
	fwd := r.Clone(r.Context())
	fwd.Body = io.NopCloser(bytes.NewReader(ex.Body))
	fwd.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(ex.Body)), nil }
	fwd.ContentLength = int64(len(ex.Body))
	fwd.Header = r.Header.Clone()
	fwd.Header.Set("Content-Type", ex.ContentType)
	fwd.Header.Set("Content-Length", strconv.Itoa(len(ex.Body)))
	fwd.Header.Del("Content-Encoding")
	fwd.TransferEncoding = nil
	return hook.Result{Forward: fwd}
}

// continueTo is the step-up return path of app's family requests.
func continueTo(app string) string {
	return EndpointPrefix + "/continue?app=" + url.QueryEscape(app)
}

func errReason(err error) string {
	for _, e := range []struct {
		err    error
		reason string
	}{{ErrTooLarge, "too_large"}, {ErrBadNRN, "bad_nrn"}, {ErrMissingField, "missing_field"}, {ErrDuplicate, "duplicate_field"},
		{ErrContentType, "content_type"}, {ErrMalformed, "malformed"}} {
		if errors.Is(err, e.err) {
			return e.reason
		}
	}
	return "other"
}

type dataHook struct{ s *Service }

// Intercept decides a family-data request: one's own data, or a live
// grant for that member in this app whose scope holds the action.
func (h dataHook) Intercept(w http.ResponseWriter, r *http.Request, c *hook.Request) hook.Result {
	s, g := h.s, c.Gateway
	handled := hook.Result{Handled: true}
	a, ok := s.appOf(w, r, c, KindGrant)
	if !ok {
		return handled
	}
	back := a.ReturnTo
	if r.Method == http.MethodGet {
		back = c.Path
	}
	if c.Session != nil && c.Session.NRN.IsZero() {
		// Someone without a national number (a foreign itsme document) has
		// no grants, but their own data stays theirs.
		if id, ok := a.member.match(c.Path); ok && id == c.Session.AccountID && id != "" && g.Fresh(c.Session, c.MinLevel, 0) {
			return hook.Result{}
		}
		g.Error(w, r, http.StatusForbidden, KindGrant, nil)
		return handled
	}
	sess, ok := session(w, r, c, back)
	if !ok {
		return handled
	}
	if !g.Fresh(sess, c.MinLevel, 0) {
		requireLogin(g, w, r, back, true)
		return handled
	}
	acc, _, err := s.Authorize(r.Context(), c.App, r.Method, c.Path, sess.AccountID, sess.NRN)
	switch {
	case err != nil:
		g.Error(w, r, http.StatusServiceUnavailable, pages.KindUnavailable, err)
		return handled
	case acc == AccessOwn || acc == AccessGranted:
		return hook.Result{}
	}
	g.Error(w, r, http.StatusForbidden, KindGrant, nil)
	return handled
}

type credentialHook struct{ s *Service }

// Intercept decides a credential request: one's own credential, after a
// step-up; never anyone else's, whatever grant exists.
func (h credentialHook) Intercept(w http.ResponseWriter, r *http.Request, c *hook.Request) hook.Result {
	s, g := h.s, c.Gateway
	handled := hook.Result{Handled: true}
	_, sess, ok := s.appSession(w, r, c, KindCredential)
	if !ok {
		return handled
	}
	switch s.Credential(r.Context(), c.App, c.Path, sess.AccountID, sess.NRN) {
	case AccessOwn, AccessNoMatch:
	default:
		g.Error(w, r, http.StatusForbidden, KindCredential, nil)
		return handled
	}
	if !s.fresh(g, sess) {
		s.stepUp(g, w, r, sess, continueTo(c.App))
		return handled
	}
	s.record(r.Context(), "family.credential_own", "success", sess.NRNRef, sess.NRNRef, c.App, nil)
	return hook.Result{}
}

// ended answers the end of a grant or an invitation: the done page of
// kind, or 404 for one that is not the citizen's, 503 when the store failed.
func ended(g hook.Gateway, w http.ResponseWriter, r *http.Request, kind string, err error) {
	switch {
	case errors.Is(err, ErrNotFound):
		g.Error(w, r, http.StatusNotFound, pages.KindNotFound, nil)
	case err != nil:
		g.Error(w, r, http.StatusServiceUnavailable, pages.KindUnavailable, err)
	default:
		g.Page(w, r, http.StatusOK, PageDone, pages.Data{Kind: kind, HomeURL: EndpointPrefix + "/"}, false)
	}
}

// EndpointPrefix is where the family pages live.
const EndpointPrefix = hook.Prefix + "family"

// Endpoint serves the member's and requester's pages under
// /.overstap/family/: the list of grants with revoke buttons, the
// invitation-code entry and the approve/decline page.
func (s *Service) Endpoint() hook.Endpoint {
	return func(g hook.Gateway, w http.ResponseWriter, r *http.Request) {
		sub := strings.TrimPrefix(r.URL.Path, EndpointPrefix)
		if sub == "/continue" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			// Where a step-up of a family-add or credential request returns
			// (so that a gateway rule on /.overstap/family/** can give the
			// IdP the family level): the form the citizen was sending, with
			// what they typed (drafts.go), else the app's family page.
			s.resume(g, w, r)
			return
		}
		here := EndpointPrefix + "/"
		if sub == "/accept" {
			here = EndpointPrefix + "/accept"
		}
		sess, err := g.SessionOf(r)
		switch {
		case errors.Is(err, hook.ErrNoSession):
			g.RequireLogin(w, r, here, false)
			return
		case err != nil:
			g.Error(w, r, http.StatusServiceUnavailable, pages.KindSessionStore, err)
			return
		case sess.NRN.IsZero():
			g.Error(w, r, http.StatusForbidden, pages.KindNoNRN, nil)
			return
		}
		if r.Method == http.MethodPost && !g.CSRFValid(r) {
			g.Error(w, r, http.StatusForbidden, pages.KindCSRF, nil)
			return
		}
		// The person's own login names them to the other side of their
		// links (names.go).
		s.NoteLogin(r.Context(), sess.NRN, sess.Name)
		switch {
		case (sub == "" || sub == "/") && (r.Method == http.MethodGet || r.Method == http.MethodHead):
			s.grantsPage(g, w, r, sess)
		case sub == "/accept" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
			if !s.fresh(g, sess) {
				s.stepUp(g, w, r, sess, here)
				return
			}
			g.Page(w, r, http.StatusOK, PageAccept, pages.Data{Action: EndpointPrefix + "/accept"}, true)
		case sub == "/accept" && r.Method == http.MethodPost:
			if !s.fresh(g, sess) {
				s.stepUp(g, w, r, sess, here)
				return
			}
			inv, err := s.Redeem(r.Context(), r.PostFormValue("code"), sess.NRN, g.ClientIP(r))
			if err != nil {
				s.codeError(g, w, r, err)
				return
			}
			g.Page(w, r, http.StatusOK, PageApprove, pages.Data{Action: EndpointPrefix + "/decide", Ref: inv.ID, Extra: approvePage{
				Requester: s.people(r.Context(), []string{inv.RequesterRef}, []string{inv.RequesterMask})[0],
				App:       s.appLabel(inv.App), Scope: s.scopeLabels(inv.App, inv.Scope),
				Until: s.ConsentGrantEnd(sess.NRN, s.now()).Format("2006-01-02"),
			}}, true)
		case sub == "/decide" && r.Method == http.MethodPost:
			if !s.fresh(g, sess) {
				s.stepUp(g, w, r, sess, EndpointPrefix+"/accept")
				return
			}
			approve := r.PostFormValue("decision") == "approve"
			if !approve && r.PostFormValue("decision") != "decline" {
				g.Error(w, r, http.StatusBadRequest, pages.KindBadRequest, nil)
				return
			}
			if _, err := s.Decide(r.Context(), r.PostFormValue("invitation"), sess.NRN, approve); err != nil {
				s.codeError(g, w, r, err)
				return
			}
			kind := "declined"
			if approve {
				kind = "approved"
			}
			g.Page(w, r, http.StatusOK, PageDone, pages.Data{Kind: kind, HomeURL: EndpointPrefix + "/"}, false)
		case sub == "/revoke" && r.Method == http.MethodPost:
			if !s.fresh(g, sess) {
				s.stepUp(g, w, r, sess, EndpointPrefix+"/")
				return
			}
			_, err := s.Revoke(r.Context(), r.PostFormValue("grant"), sess.NRN)
			ended(g, w, r, "revoked", err)
		case sub == "/cancel" && r.Method == http.MethodPost:
			ended(g, w, r, "cancelled", s.Cancel(r.Context(), r.PostFormValue("invitation"), sess.NRN))
		case sub == "" || sub == "/" || sub == "/accept" || sub == "/decide" || sub == "/revoke" || sub == "/cancel":
			g.Error(w, r, http.StatusMethodNotAllowed, pages.KindMethod, nil)
		default:
			g.Error(w, r, http.StatusNotFound, pages.KindNotFound, nil)
		}
	}
}

func (s *Service) codeError(g hook.Gateway, w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, ErrCodeInvalid), errors.Is(err, ErrCodeExpired):
		g.Error(w, r, http.StatusForbidden, KindCode, nil)
	case errors.Is(err, ErrNotForYou):
		g.Error(w, r, http.StatusForbidden, KindNotForYou, nil)
	case errors.Is(err, ErrLocked):
		g.Error(w, r, http.StatusForbidden, KindLocked, nil)
	case errors.Is(err, ErrRateLimited):
		g.Error(w, r, http.StatusTooManyRequests, KindRate, nil)
	default:
		g.Error(w, r, http.StatusServiceUnavailable, pages.KindUnavailable, err)
	}
}

// grantsPage lists the person's grants: as member (revocable) and as
// requester (revocable too: either side may end a link), and the
// invitations they made that are still open (cancellable).
func (s *Service) grantsPage(g hook.Gateway, w http.ResponseWriter, r *http.Request, sess *hook.Session) {
	gs, err := s.Grants(r.Context(), sess.NRN)
	if err != nil {
		g.Error(w, r, http.StatusServiceUnavailable, pages.KindUnavailable, err)
		return
	}
	ref, now := s.ref(sess.NRN), s.now()
	page := grantsPage{CancelURL: EndpointPrefix + "/cancel", AcceptURL: EndpointPrefix + "/accept", AddURL: s.cfg.Apps[0].ReturnTo}
	var refs, masks []string
	type slot struct {
		list *[]grantItem
		i    int
	}
	var slots []slot // where each of refs is shown
	for _, gr := range gs {
		if !gr.Live(now) {
			continue
		}
		it := grantItem{ID: gr.ID, App: s.appLabel(gr.App), Scope: s.scopeLabels(gr.App, gr.Scope), Until: gr.Expires.Format("2006-01-02")}
		if gr.RequesterRef == ref {
			page.AsRequester = append(page.AsRequester, it)
			refs, masks = append(refs, gr.MemberRef), append(masks, gr.MemberMask)
			slots = append(slots, slot{&page.AsRequester, len(page.AsRequester) - 1})
		} else {
			page.AsMember = append(page.AsMember, it)
			refs, masks = append(refs, gr.RequesterRef), append(masks, gr.RequesterMask)
			slots = append(slots, slot{&page.AsMember, len(page.AsMember) - 1})
		}
	}
	pending, err := s.Pending(r.Context(), sess.NRN)
	if err != nil {
		g.Error(w, r, http.StatusServiceUnavailable, pages.KindUnavailable, err)
		return
	}
	for _, inv := range pending {
		// Not named: the member has not answered (see names.go).
		page.Pending = append(page.Pending, grantItem{ID: inv.ID, Who: person{Name: inv.MemberMask}, App: s.appLabel(inv.App), Until: inv.Expires.Format("2006-01-02")})
	}
	for i, p := range s.people(r.Context(), refs, masks) {
		(*slots[i].list)[slots[i].i].Who = p
	}
	g.Page(w, r, http.StatusOK, PageGrants, pages.Data{Action: EndpointPrefix + "/revoke", Extra: page, HomeURL: "/"}, true)
}

// resume answers /continue: the person's kept form of app, to check and
// send again, or else a redirect to the app's family page.
func (s *Service) resume(g hook.Gateway, w http.ResponseWriter, r *http.Request) {
	to := "/"
	a, ok := s.apps[r.URL.Query().Get("app")]
	if ok {
		to = a.ReturnTo
	}
	w.Header().Set("Cache-Control", "no-store")
	// Only after the step-up: a session that is still too weak leaves the
	// draft where it is (sending it would only ask for the step-up again).
	if sess, err := g.SessionOf(r); ok && err == nil && !sess.NRN.IsZero() && r.Method == http.MethodGet && s.fresh(g, sess) {
		if d, err := s.takeDraft(r.Context(), s.ref(sess.NRN), a.Name); err == nil {
			page := resumePage{Cancel: a.ReturnTo}
			for i, f := range d.Fields {
				page.Fields = append(page.Fields, resumeField{draftField: f, ID: "family-field-" + strconv.Itoa(i),
					Member: strings.EqualFold(f.Name, a.MemberField)})
			}
			g.Page(w, r, http.StatusOK, PageResume, pages.Data{Action: d.Path, Extra: page}, false)
			return
		} else if !errors.Is(err, ErrNotFound) {
			s.log.Warn("family: draft not restored", "err", nrn.Scrub(err.Error()))
		}
	}
	http.Redirect(w, r, to, http.StatusFound)
}
