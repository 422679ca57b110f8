package family

import (
	"slices"
	"testing"

	"github.com/overstap/overstap/auth/gateway/pages"
	"github.com/overstap/overstap/auth/gateway/pages/pagestest"
)

// familyExtra is realistic typed data for each family page.
func familyExtra(page string) any {
	item := []grantItem{{ID: "g1", Label: "85.07.30-***.** · eloket · view · 2027-01-01"}}
	switch page {
	case PageInvite:
		return invitePage{Member: "15.01.02-***.**", Expires: "2026-12-20"}
	case PageApprove:
		return approvePage{Requester: "85.07.30-***.**", App: "eloket", Scope: "view", Until: "2027-12-06"}
	case PageGrants:
		return grantsPage{AsMember: item, AsRequester: item, Pending: item, CancelURL: EndpointPrefix + "/cancel"}
	}
	return nil
}

func familyPage(p string) bool { return slices.Contains(PageSet().Pages, p) || p == pages.Error }

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
}
