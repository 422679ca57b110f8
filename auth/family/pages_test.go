package family

import (
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/overstap/overstap/auth/gateway/pages"
	"github.com/overstap/overstap/auth/gateway/pages/pagestest"
)

// familyExtra is realistic typed data for each family page: named
// people, two of them sharing a name (their masked numbers shown), one
// without a known name, a configured app label and an action label.
func familyExtra(page string) any {
	app := label{words: Words{"nl": "E-loket", "fr": "Guichet en ligne", "de": "Online-Schalter", "en": "Online counter"}, fallback: "eloket"}
	scope := []label{{key: "family.scope.view"}, {words: Words{"nl": "uw facturen betalen", "fr": "payer vos factures", "de": "Ihre Rechnungen bezahlen", "en": "pay your bills"}, fallback: "payments"}}
	switch page {
	case PageInvite:
		return invitePage{Member: "15.01.02-***.**", App: app, Expires: "2026-12-20"}
	case PageApprove:
		return approvePage{Requester: person{Name: "An P."}, App: app, Scope: scope, Until: "2027-12-06"}
	case PageResume:
		return resumeDemo
	case PageGrants:
		return grantsPage{
			AsMember: []grantItem{{ID: "g1", Who: person{Name: "An P.", Mask: "85.07.30-***.**"}, App: app, Scope: scope, Until: "2027-01-01"},
				{ID: "g2", Who: person{Name: "An P.", Mask: "86.02.11-***.**"}, App: label{fallback: "other"}, Scope: scope[:1], Until: "2027-01-01"}},
			AsRequester: []grantItem{{ID: "g3", Who: person{Name: "16.11.06-***.**"}, App: app, Scope: scope[:1], Until: "2028-01-01"}},
			Pending:     []grantItem{{ID: "i1", Who: person{Name: "90.01.01-***.**"}, App: app, Until: "2026-12-20"}},
			CancelURL:   EndpointPrefix + "/cancel", AcceptURL: EndpointPrefix + "/accept", AddURL: "/family",
		}
	}
	return nil
}

// resumeDemo is a kept family-add form: the member field, a text field,
// the app's token (hidden) and a password to retype.
var resumeDemo = resumePage{Cancel: "/family", Fields: []resumeField{
	{draftField: draftField{Name: "rijksregisternummer", Value: "85.07.30-033.28"}, ID: "family-field-0", Member: true},
	{draftField: draftField{Name: "relatie", Value: `dochter "<b>"`}, ID: "family-field-1"},
	{draftField: draftField{Name: "_csrf", Value: "app-token", Hidden: true}, ID: "family-field-2"},
	{draftField: draftField{Name: "wachtwoord", Password: true}, ID: "family-field-3"},
}}

// emptyGrants is the grants page of someone with no link and no
// invitation: each section says what to do instead.
func emptyGrants(string) any {
	return grantsPage{CancelURL: EndpointPrefix + "/cancel", AcceptURL: EndpointPrefix + "/accept", AddURL: "/family"}
}

// familyPage: the pages RenderAll checks; PageResume posts to the app,
// not to the gateway, so it carries no gateway CSRF token (its own test).
func familyPage(p string) bool {
	return (slices.Contains(PageSet().Pages, p) || p == pages.Error) && p != PageResume
}

// TestPagesAllLanguages renders every family page and every family error
// kind in every language, with the checks every gateway page gets.
func TestPagesAllLanguages(t *testing.T) {
	r, err := pages.New("Gemeente Testdorp", PageSet())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range PageSet().Kinds {
		if !r.HasKind(k) {
			t.Fatalf("kind %s not registered", k)
		}
	}
	pagestest.RenderAll(t, r, familyPage, familyExtra)
	pagestest.RenderAll(t, r, func(p string) bool { return p == PageGrants }, emptyGrants)
}

// TestPagesWordsNotCodes: the pages show names, labels in the page's
// language and empty states; the primary action looks primary and the
// refusing one never does.
func TestPagesWordsNotCodes(t *testing.T) {
	r, err := pages.New("Gemeente Testdorp", PageSet())
	if err != nil {
		t.Fatal(err)
	}
	render := func(page, lang string, extra func(string) any) string {
		w := httptest.NewRecorder()
		if err := r.Render(w, 200, page, pagestest.Data(pagestest.Case{Page: page, Lang: lang}, extra)); err != nil {
			t.Fatal(err)
		}
		return w.Body.String()
	}
	approve := render(PageApprove, "fr", familyExtra)
	for _, want := range []string{`<dd id="family-requester">An P.</dd>`, `<dd id="family-app">Guichet en ligne</dd>`,
		`<dd id="family-scope">consulter vos données, payer vos factures</dd>`,
		`<button type="submit" name="decision" value="approve" id="family-approve">`,
		`id="family-decline" class="secondary"`} {
		if !strings.Contains(approve, want) {
			t.Errorf("approve page lacks %s", want)
		}
	}
	grants := render(PageGrants, "de", familyExtra)
	for _, want := range []string{`<strong class="who">An P.</strong><br><span class="nrn muted">85.07.30-***.**</span>`,
		`<strong class="who">An P.</strong><br><span class="nrn muted">86.02.11-***.**</span>`,
		"Online-Schalter · Ihre Daten ansehen, Ihre Rechnungen bezahlen · bis 2027-01-01", "other · Ihre Daten ansehen",
		"Online-Schalter · wartet auf Antwort · bis 2026-12-20", `class="revoke secondary"`, `class="cancel secondary"`,
		`<a id="family-accept-link" class="button" href="/.overstap/family/accept">`} {
		if !strings.Contains(grants, want) {
			t.Errorf("grants page lacks %s", want)
		}
	}
	empty := render(PageGrants, "nl", emptyGrants)
	for _, want := range []string{`id="family-member-none"`, `id="family-requester-none"`, `id="family-pending-none"`,
		"Niemand heeft toegang tot uw gegevens.", `<a href="/family">Naar de gezinspagina van de toepassing</a>`} {
		if !strings.Contains(empty, want) {
			t.Errorf("empty grants page lacks %s", want)
		}
	}
	if strings.Contains(empty, `class="items"`) {
		t.Error("an empty section is a list")
	}
}

// TestPageResume: the kept form posts to the app's route with the typed
// values (escaped), the app's token hidden, a password field empty, the
// member field labelled in words, no gateway CSRF token; send is the
// primary action, not sending the secondary one.
func TestPageResume(t *testing.T) {
	r, err := pages.New("Gemeente Testdorp", PageSet())
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range pages.Languages {
		w := httptest.NewRecorder()
		d := pagestest.Data(pagestest.Case{Page: PageResume, Lang: lang}, familyExtra)
		d.Action = "/family/add?x=1"
		if err := r.Render(w, 200, PageResume, d); err != nil {
			t.Fatal(err)
		}
		body := w.Body.String()
		for _, want := range []string{`<form method="post" action="/family/add?x=1" id="family-resume">`,
			`<label for="family-field-0">` + texts[lang]["family.resume.member"] + `</label>`,
			`name="rijksregisternummer" value="85.07.30-033.28"`, `value="dochter &#34;&lt;b&gt;&#34;"`,
			`<input type="hidden" name="_csrf" value="app-token">`, `<input type="password" id="family-field-3" name="wachtwoord" autocomplete="off">`,
			`<button type="submit" id="family-resend">`, `<a class="button secondary" id="family-resume-cancel" href="/family">`} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: resume page lacks %s", lang, want)
			}
		}
		if strings.Contains(body, `name="csrf"`) || strings.Contains(body, "tok&lt;en&gt;") {
			t.Errorf("%s: the gateway's CSRF token would go to the app", lang)
		}
	}
}

func TestShortName(t *testing.T) {
	for in, want := range map[string]string{"An Peeters": "An P.", "Marie-Claire van den Broeck": "Marie-Claire V.", "Cher": "Cher",
		"  émile   zola ": "émile Z.", "": "", "12 34": "", "Łukasz Żak": "Łukasz Ż."} {
		if got := ShortName(in); got != want {
			t.Errorf("ShortName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestPagesAccessibility runs axe-core on every family page in every
// language (WCAG 2.1 A and AA), as TestAccessibility does for the
// gateway's own pages.
func TestPagesAccessibility(t *testing.T) {
	r, err := pages.New("Gemeente Testdorp", PageSet())
	if err != nil {
		t.Fatal(err)
	}
	pagestest.AxeAll(t, r, func(p string) bool { return slices.Contains(PageSet().Pages, p) }, familyExtra)
	pagestest.AxeAll(t, r, func(p string) bool { return p == PageGrants }, emptyGrants)
}
