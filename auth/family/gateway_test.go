package family_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/overstap/overstap/auth/devidp"
	"github.com/overstap/overstap/auth/family"
	"github.com/overstap/overstap/auth/gateway"
	"github.com/overstap/overstap/auth/gateway/pages"
	"github.com/overstap/overstap/auth/gateway/route"
	"github.com/overstap/overstap/auth/identity"
	"github.com/overstap/overstap/auth/oidc"
	"github.com/overstap/overstap/auth/session"
	"github.com/overstap/overstap/internal/config"
)

// recordingProvider is an IdP stub that records the login requests.
type recordingProvider struct {
	mu  sync.Mutex
	got []oidc.LoginOptions
}

func (*recordingProvider) Name() string { return "stub" }
func (*recordingProvider) Ready() error { return nil }
func (p *recordingProvider) AuthRequest(_ http.ResponseWriter, _ *http.Request, req oidc.LoginOptions) (string, error) {
	p.mu.Lock()
	p.got = append(p.got, req)
	p.mu.Unlock()
	return "https://idp.example/auth", nil
}
func (*recordingProvider) Callback(http.ResponseWriter, *http.Request) (*oidc.Login, error) {
	return nil, &oidc.CallbackError{Kind: oidc.KindAccessDenied, Err: errors.New("stub")}
}
func (*recordingProvider) LogoutURL(string, string, string) (string, error) {
	return "", oidc.ErrNoEndSession
}
func (*recordingProvider) ValidateLogoutToken(context.Context, string) (*oidc.LogoutClaims, error) {
	return nil, errors.New("stub")
}

// upstreamSeen is what the app behind the gateway received.
type upstreamSeen struct {
	mu   sync.Mutex
	reqs []string // "METHOD path content-type body"
}

func (u *upstreamSeen) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	u.mu.Lock()
	u.reqs = append(u.reqs, fmt.Sprintf("%s %s %s %s", r.Method, r.URL.Path, r.Header.Get("Content-Type"), b))
	u.mu.Unlock()
	fmt.Fprint(w, "app")
}

func (u *upstreamSeen) all() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.reqs...)
}

type gwFixture struct {
	*env
	srv   *httptest.Server
	store session.Store
	idp   *recordingProvider
	app   *upstreamSeen
}

// newGateway runs a real gateway with the family hooks in front of a
// recording app: "eloket" on any host, "other" on other.example, both
// with the family routes, and the family step-up rule.
func newGateway(t *testing.T) *gwFixture {
	t.Helper()
	e := newEnv(t, envOpt{})
	f := &gwFixture{env: e, idp: &recordingProvider{}, app: &upstreamSeen{}}
	up := httptest.NewServer(f.app)
	t.Cleanup(up.Close)
	var err error
	if f.store, err = session.NewMemory(session.Config{}); err != nil {
		t.Fatal(err)
	}
	rules := []route.Rule{
		{Path: "/family/add", Methods: []string{"POST"}, Class: route.FamilyLink},
		{Path: "/family/*", Class: route.FamilyData},
		{Path: "/family/*/password", Class: route.Credential},
		{Path: "/password", Class: route.Credential},
		{Path: "/.overstap/family/**", Class: route.StepUp, MinLevel: "high", MaxAuthAge: 10 * time.Minute},
	}
	cfg := gateway.Config{
		PublicURL: "http://gw.example", DevInsecureCookies: true, NRNRefKey: refKey,
		AdminToken: config.NewSecret([]byte(strings.Repeat("t", 32))),
		Apps: []gateway.AppConfig{
			{App: route.App{Name: "other", Hosts: []string{"other.example"}, Rules: rules, PathPolicy: route.PathNormalize}, Upstream: up.URL},
			{App: route.App{Name: "eloket", Rules: rules}, Upstream: up.URL},
		},
	}
	g, err := gateway.New(cfg, gateway.Deps{Pages: []pages.Set{family.PageSet()}, Sessions: f.store, Providers: []gateway.Authenticator{f.idp},
		Hooks: e.svc.Hooks(), Endpoints: map[string]gateway.Endpoint{"family": e.svc.Endpoint()}})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(g)
	t.Cleanup(f.srv.Close)
	return f
}

// login makes a session for persona at level, authenticated now.
func (f *gwFixture) login(t *testing.T, key string, level identity.Level) string {
	t.Helper()
	return f.loginNamed(t, key, "", level)
}

// loginNamed is login with the name the IdP asserted.
func (f *gwFixture) loginNamed(t *testing.T, key, name string, level identity.Level) string {
	t.Helper()
	n := f.who[key]
	id, err := f.store.Create(context.Background(), &session.Session{NRNRef: n.Ref(refKey), AccountID: key,
		Identity: identity.Identity{NRN: n, Name: name, Provider: "stub", Issuer: "https://idp.example", Subject: key, Level: level, AuthTime: time.Now()}})
	if err != nil {
		t.Fatal(err)
	}
	return "overstap_session=" + id
}

func (f *gwFixture) do(t *testing.T, method, host, path, cookie, ct, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if host != "" {
		req.Host = host
	}
	req.Header.Set("Accept", "text/html")
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// TestGatewayForwardsVerifiedBody: the app gets the body the gateway
// verified (the member canonical, the other fields kept), nothing of a
// refused one.
func TestGatewayForwardsVerifiedBody(t *testing.T) {
	f := newGateway(t)
	parent := f.login(t, devidp.PersonaParentA, identity.LevelHigh)
	minor := f.who[devidp.PersonaMinor]
	resp, _ := f.do(t, "POST", "", "/family/add", parent, "application/x-www-form-urlencoded", "relatie=dochter&rijksregisternummer="+url.QueryEscape(minor.Format()))
	want := "POST /family/add application/x-www-form-urlencoded relatie=dochter&rijksregisternummer=" + minor.Digits()
	if got := f.app.all(); resp.StatusCode != http.StatusOK || len(got) != 1 || got[0] != want {
		t.Fatalf("%d, app got %q, want %q", resp.StatusCode, got, want)
	}
	resp, _ = f.do(t, "POST", "", "/family/add", parent, "application/json", `{"rijksregisternummer":"`+minor.Format()+`","relatie":"dochter"}`)
	want = `POST /family/add application/json {"rijksregisternummer":"` + minor.Digits() + `","relatie":"dochter"}`
	if got := f.app.all(); resp.StatusCode != http.StatusOK || len(got) != 2 || got[1] != want {
		t.Fatalf("JSON: %d, app got %q", resp.StatusCode, got)
	}
	stranger := f.who[devidp.PersonaUnrelated].Digits()
	for _, c := range []struct{ ct, body string }{
		{"application/x-www-form-urlencoded", "rijksregisternummer=" + minor.Digits() + "&rijksregisternummer=" + stranger},
		{"application/json", `{"rijksregisternummer":"` + minor.Digits() + `","rijksregisternummer":"` + stranger + `"}`},
		{"application/json", "rijksregisternummer=" + minor.Digits()},
	} {
		if resp, _ := f.do(t, "POST", "", "/family/add", parent, c.ct, c.body); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("%q: %d", c.body, resp.StatusCode)
		}
	}
	if n := len(f.app.all()); n != 2 {
		t.Fatalf("the app got %d requests", n)
	}
}

// TestGatewayInvitationJSON: a JSON client gets the invitation as JSON.
func TestGatewayInvitationJSON(t *testing.T) {
	f := newGateway(t)
	req, _ := http.NewRequest("POST", f.srv.URL+"/family/add", strings.NewReader(`{"rijksregisternummer":"`+f.who[devidp.PersonaUnrelated].Digits()+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Cookie", f.login(t, devidp.PersonaParentA, identity.LevelHigh))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Error, Reason, Member string
		Code                  string `json:"invitation_code"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusForbidden || out.Error != "family_link_unverified" ||
		len(out.Code) != 14 || out.Member != f.who[devidp.PersonaUnrelated].Mask() || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("%d %+v %v", resp.StatusCode, out, err)
	}
	if _, err := f.svc.Redeem(context.Background(), out.Code, f.who[devidp.PersonaUnrelated], "127.0.0.1"); err != nil {
		t.Fatalf("the JSON code: %v", err)
	}
}

// TestGatewayStepUpAsksFamilyLevel: a weak session adding a member gets
// the step-up page; its login returns under /.overstap/family/, so the
// gateway rule there makes the IdP ask for high within 10 minutes.
func TestGatewayStepUpAsksFamilyLevel(t *testing.T) {
	f := newGateway(t)
	weak := f.login(t, devidp.PersonaParentA, identity.LevelLow)
	resp, body := f.do(t, "POST", "", "/family/add", weak, "application/x-www-form-urlencoded", "rijksregisternummer="+f.who[devidp.PersonaMinor].Digits())
	if resp.StatusCode != http.StatusUnauthorized || len(f.app.all()) != 0 {
		t.Fatalf("weak add: %d", resp.StatusCode)
	}
	tok := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	rt := regexp.MustCompile(`name="return_to" value="([^"]+)"`).FindStringSubmatch(body)
	var csrf string
	for _, c := range resp.Cookies() {
		if c.Name == "overstap_csrf" {
			csrf = c.Value
		}
	}
	if tok == nil || rt == nil || csrf == "" {
		t.Fatalf("step-up page:\n%s", body)
	}
	form := url.Values{"csrf": {tok[1]}, "return_to": {strings.ReplaceAll(rt[1], "&amp;", "&")}}
	resp, _ = f.do(t, "POST", "", "/.overstap/stepup", weak+"; overstap_csrf="+csrf, "application/x-www-form-urlencoded", form.Encode())
	if (resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther) || len(f.idp.got) != 1 {
		t.Fatalf("step-up start: %d", resp.StatusCode)
	}
	if req := f.idp.got[0]; req.MinLevel != identity.LevelHigh.String() || req.MaxAge != 10*time.Minute || req.Prompt != "login" || req.ReturnTo != "/.overstap/family/continue?app=eloket" {
		t.Fatalf("IdP asked for %+v", req)
	}
}

// TestGatewayGrantOnAnotherApp: a grant of the e-loket opens nothing in
// another app behind the same gateway.
func TestGatewayGrantOnAnotherApp(t *testing.T) {
	f := newGateway(t)
	f.approve(t, f.invite(t, "eloket", devidp.PersonaParentA, devidp.PersonaUnrelated), devidp.PersonaUnrelated)
	parent := f.login(t, devidp.PersonaParentA, identity.LevelHigh)
	if resp, body := f.do(t, "GET", "", "/family/unrelated", parent, "", ""); resp.StatusCode != http.StatusOK || body != "app" {
		t.Fatalf("e-loket: %d %q", resp.StatusCode, body)
	}
	if resp, _ := f.do(t, "GET", "other.example", "/family/unrelated", parent, "", ""); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("other app: %d", resp.StatusCode)
	}
	if n := len(f.app.all()); n != 1 {
		t.Fatalf("the apps got %d requests", n)
	}
}

// TestGatewayCredentialAndForwardAuth: another person's password never,
// one's own after the step-up; forward-auth denies the hooked classes.
func TestGatewayCredentialAndForwardAuth(t *testing.T) {
	f := newGateway(t)
	parent := f.login(t, devidp.PersonaParentA, identity.LevelHigh)
	if res, err := f.svc.RequestLink(context.Background(), "eloket", f.who[devidp.PersonaParentA], f.who[devidp.PersonaMinor]); err != nil || res.Outcome != family.Forward {
		t.Fatal("no grant")
	}
	if resp, _ := f.do(t, "POST", "", "/family/minor/password", parent, "application/x-www-form-urlencoded", "nieuw=x"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("minor's password: %d", resp.StatusCode)
	}
	if resp, _ := f.do(t, "POST", "", "/password", parent, "application/x-www-form-urlencoded", "nieuw=x"); resp.StatusCode != http.StatusOK {
		t.Fatalf("own password: %d", resp.StatusCode)
	}
	for _, uri := range []string{"/family/add", "/family/minor", "/password"} {
		req, _ := http.NewRequest("GET", f.srv.URL+"/.overstap/auth", nil)
		req.Header.Set("Cookie", parent)
		req.Header.Set("X-Original-Method", "POST")
		req.Header.Set("X-Original-URI", uri)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("forward-auth %s: %d", uri, resp.StatusCode)
		}
	}
	if got := f.app.all(); len(got) != 1 || !strings.HasPrefix(got[0], "POST /password") {
		t.Fatalf("the app got %q", got)
	}
}

// TestGatewayCredentialPathVariants: written any way a servlet container
// or IIS reads as /family/minor/password, another person's password is
// never forwarded: refused as ambiguous (path_policy refuse, app eloket)
// or judged on the canonical path the app gets (normalize, app other).
func TestGatewayCredentialPathVariants(t *testing.T) {
	f := newGateway(t)
	parent := f.login(t, devidp.PersonaParentA, identity.LevelHigh)
	variants := []string{"/family;x=1/minor/password", "/family./minor/password", "/family%20/minor/password",
		"/family..;/minor/password", "/family;jsessionid=0/minor/password", "/x/..;/family/minor/password",
		"/family/minor;x/password", "/family/minor/password;x", "/family/minor./password", "//family/minor/password",
		"/family/./minor/password", "/FAMILY/minor/password.", "/family/minor/password/"}
	for _, v := range variants {
		t.Run(v, func(t *testing.T) {
			if resp, _ := f.do(t, "POST", "", v, parent, "application/x-www-form-urlencoded", "nieuw=x"); resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusForbidden {
				t.Fatalf("eloket (refuse): %d", resp.StatusCode)
			}
			if resp, _ := f.do(t, "POST", "other.example", v, parent, "application/x-www-form-urlencoded", "nieuw=x"); resp.StatusCode != http.StatusForbidden {
				t.Fatalf("other (normalize): %d", resp.StatusCode)
			}
		})
	}
	if got := f.app.all(); len(got) != 0 {
		t.Fatalf("the app got %q", got)
	}
}

// TestGatewayGrantsPageNames: the family pages name people from their own
// login (or the app's user store for a child the register linked), show
// a masked number only under two equal names or for someone not named
// (a pending invitation), and never a national number in clear.
func TestGatewayGrantsPageNames(t *testing.T) {
	f := newGateway(t)
	ctx := context.Background()
	parent := f.loginNamed(t, devidp.PersonaParentA, "An Peeters", identity.LevelHigh)
	emma := f.loginNamed(t, devidp.PersonaUnrelated, "Emma Dubois", identity.LevelHigh)
	other := f.loginNamed(t, devidp.PersonaRoommate, "Emma Dewit", identity.LevelHigh) // the same short name
	f.approve(t, f.invite(t, "eloket", devidp.PersonaParentA, devidp.PersonaUnrelated), devidp.PersonaUnrelated)
	f.approve(t, f.invite(t, "eloket", devidp.PersonaParentA, devidp.PersonaRoommate), devidp.PersonaRoommate)
	if res, err := f.svc.RequestLink(ctx, "eloket", f.who[devidp.PersonaParentA], f.who[devidp.PersonaMinor]); err != nil || res.Outcome != family.Forward {
		t.Fatalf("register link: %+v %v", res, err)
	}
	f.invite(t, "eloket", devidp.PersonaParentA, devidp.PersonaAdult) // pending
	page := func(cookie string) string {
		t.Helper()
		resp, body := f.do(t, "GET", "", "/.overstap/family/", cookie, "", "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("grants page: %d", resp.StatusCode)
		}
		for key, n := range f.who {
			if strings.Contains(body, n.Digits()) || strings.Contains(body, n.Format()) {
				t.Fatalf("the page shows %s's national number in clear", key)
			}
		}
		return body
	}
	page(emma) // each one's own login names them
	page(other)
	body := page(parent)
	mask := func(key string) string { return f.who[key].Mask() }
	for _, want := range []string{
		`<strong class="who">Emma D.</strong><br><span class="nrn muted">` + mask(devidp.PersonaUnrelated) + `</span>`,
		`<strong class="who">Emma D.</strong><br><span class="nrn muted">` + mask(devidp.PersonaRoommate) + `</span>`,
		`<strong class="who">Lotte P.</strong></p>`,                      // from the user store, no twin
		`<strong class="who">` + mask(devidp.PersonaAdult) + `</strong>`, // invited, not answered: not named
	} {
		if !strings.Contains(body, want) {
			t.Errorf("parent's page lacks %s", want)
		}
	}
	if strings.Contains(body, mask(devidp.PersonaMinor)) || strings.Contains(body, "Jonas") {
		t.Error("a named person without twin, or an invited one, shown otherwise")
	}
	if !strings.Contains(body, `id="family-member-none"`) {
		t.Error("nobody sees the parent's data, and the page does not say what to do")
	}
	body = page(emma)
	if !strings.Contains(body, `<strong class="who">An P.</strong></p>`) || strings.Contains(body, mask(devidp.PersonaParentA)) {
		t.Errorf("Emma's page does not name the parent alone:\n%s", body)
	}
	if !strings.Contains(body, `id="family-requester-none"`) || !strings.Contains(body, `id="family-pending-none"`) {
		t.Error("empty sections without a next step")
	}
	// A store name never replaces a login name.
	if err := f.env.store.SetName(ctx, f.ref(devidp.PersonaUnrelated), "Someone E.", family.NameStore, time.Now()); err != nil {
		t.Fatal(err)
	}
	if n, _ := f.env.store.Names(ctx, []string{f.ref(devidp.PersonaUnrelated)}); n[f.ref(devidp.PersonaUnrelated)] != "Emma D." {
		t.Fatalf("name now %q", n)
	}
}

// TestGatewayDraftBounds: a kept form is resumed only within DraftTTL and
// only after the step-up; a form too large to keep, or an API call, is
// not kept (the step-up then returns to the app's page).
func TestGatewayDraftBounds(t *testing.T) {
	f := newGateway(t)
	weak := f.login(t, devidp.PersonaParentA, identity.LevelLow)
	form := "rijksregisternummer=" + f.who[devidp.PersonaMinor].Digits() + "&relatie=dochter"
	resume := func(cookie string) int {
		t.Helper()
		resp, _ := f.do(t, "GET", "", "/.overstap/family/continue?app=eloket", cookie, "", "")
		return resp.StatusCode
	}
	if resp, _ := f.do(t, "POST", "", "/family/add", weak, "application/x-www-form-urlencoded", form); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("weak add: %d", resp.StatusCode)
	}
	if resume(weak) != http.StatusFound {
		t.Fatal("resumed before the step-up")
	}
	strong := f.login(t, devidp.PersonaParentA, identity.LevelHigh)
	if resume(strong) != http.StatusOK || resume(strong) != http.StatusFound {
		t.Fatal("the kept form is not shown exactly once after the step-up")
	}
	f.do(t, "POST", "", "/family/add", weak, "application/x-www-form-urlencoded", form)
	f.clock.Advance(family.DraftTTL + time.Second)
	if resume(strong) != http.StatusFound {
		t.Fatal("resumed after DraftTTL")
	}
	big := form + strings.Repeat("&x=1", 40)
	f.do(t, "POST", "", "/family/add", weak, "application/x-www-form-urlencoded", big)
	if resume(strong) != http.StatusFound {
		t.Fatal("a form of 42 fields was kept")
	}
	req, _ := http.NewRequest("POST", f.srv.URL+"/family/add", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Cookie", weak)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("API add: %v", err)
	} else {
		resp.Body.Close()
	}
	if resume(strong) != http.StatusFound || len(f.app.all()) != 0 {
		t.Fatal("an API call's form was kept, or something reached the app")
	}
}
