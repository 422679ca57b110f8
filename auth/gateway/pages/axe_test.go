package pages_test

import (
	"testing"

	"github.com/overstap/overstap/auth/gateway/pages"
	"github.com/overstap/overstap/auth/gateway/pages/pagestest"
)

// TestAccessibility renders every page, every error kind and both
// variants of the pages that have them, in every language, in headless
// Chromium and runs axe-core on each (WCAG 2.1 A and AA): no violation is
// allowed. The same pages are checked in flow by the demo's browser tests;
// the family pages by auth/family's own test.
func TestAccessibility(t *testing.T) {
	r, err := pages.New("Gemeente Testdorp")
	if err != nil {
		t.Fatal(err)
	}
	pagestest.AxeAll(t, r, nil, nil)
}
