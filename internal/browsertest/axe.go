package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/overstap/overstap/internal/testsvc"
)

// AxeVersion is the axe-core release the accessibility checks run.
// scripts/services.sh installs exactly this version from the npm registry
// into AxeDir (make test does this).
const AxeVersion = "4.14.1"

// AxeTags are the rule sets every citizen page must pass: WCAG 2.0 and 2.1,
// levels A and AA — what the European Web Accessibility Directive
// (EN 301 549) asks of a municipality's web pages.
var AxeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa"}

// AxeDir is where scripts/services.sh installs axe-core: the
// OVERSTAP_AXE_DIR environment variable, else <user cache dir>/overstap/axe-core-<version>.
func AxeDir() string {
	if d := os.Getenv("OVERSTAP_AXE_DIR"); d != "" {
		return d
	}
	c, err := os.UserCacheDir()
	if err != nil {
		c = os.TempDir()
	}
	return filepath.Join(c, "overstap", "axe-core-"+AxeVersion)
}

var axeSource = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile(filepath.Join(AxeDir(), "node_modules", "axe-core", "axe.min.js"))
	return string(b), err
})

// AxeNode is one element that breaks a rule.
type AxeNode struct {
	Target         []any  `json:"target"`
	HTML           string `json:"html"`
	FailureSummary string `json:"failureSummary"`
}

// AxeViolation is one rule that the page breaks, with the elements that break it.
type AxeViolation struct {
	ID          string    `json:"id"`
	Impact      string    `json:"impact"`
	Help        string    `json:"help"`
	HelpURL     string    `json:"helpUrl"`
	Description string    `json:"description"`
	Nodes       []AxeNode `json:"nodes"`
}

func (v AxeViolation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s", v.ID, v.Impact, v.Help)
	for i, n := range v.Nodes {
		if i == 3 {
			fmt.Fprintf(&b, "\n    ... %d more", len(v.Nodes)-3)
			break
		}
		fmt.Fprintf(&b, "\n    %v %s\n      %s", n.Target, n.HTML, strings.ReplaceAll(n.FailureSummary, "\n", " "))
	}
	return b.String()
}

// AxeResult is what one axe-core run found on the current page.
type AxeResult struct {
	Violations []AxeViolation `json:"violations"`
	Passes     int            `json:"passes"`
	Incomplete int            `json:"incomplete"`
	URL        string         `json:"url"`
}

// Axe runs axe-core (AxeVersion, rule sets AxeTags) on the page that is
// loaded now and returns what it found. The script is injected through the
// DevTools protocol, so the page's Content-Security-Policy does not have to
// allow it. Without axe-core installed the test fails in CI and skips
// locally with the command that installs it.
func (b *Browser) Axe() AxeResult {
	b.t.Helper()
	src, err := axeSource()
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			testsvc.Unavailable(b.t, "axe-core "+AxeVersion, err, "make services (npm install axe-core@"+AxeVersion+" into "+AxeDir()+")")
		}
		b.t.Fatalf("browsertest: axe-core: %v", err)
	}
	ctx, cancel := context.WithTimeout(b.Ctx, 60*time.Second)
	defer cancel()
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === "object"`))
	if err != nil {
		b.t.Fatalf("browsertest: axe-core: %v", err)
	}
	if !loaded {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](src)); err != nil {
			b.t.Fatalf("browsertest: injecting axe-core: %v", err)
		}
	}
	tags := `["` + strings.Join(AxeTags, `","`) + `"]`
	script := `axe.run(document, {runOnly: {type: "tag", values: ` + tags + `}, resultTypes: ["violations"]})
		.then(r => ({violations: r.violations, passes: r.passes.length, incomplete: r.incomplete.length, url: r.url}))`
	res, err := chromedp.Run(ctx, chromedp.Evaluate[AxeResult](script, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("browsertest: running axe-core: %v", err)
	}
	return res
}

// AxeAll opens base+path for every path in one browser and fails the test
// for every axe-core violation, naming the path, the rule and the
// elements. It returns the number of pages checked and the number of rule
// passes summed over them, for the test's log.
func AxeAll(t testing.TB, base string, paths []string) (pages, passes int) {
	t.Helper()
	b := New(t, time.Duration(len(paths)+10)*10*time.Second)
	for _, p := range paths {
		b.Do(chromedp.Navigate(base + p))
		res := b.Axe()
		for _, v := range res.Violations {
			t.Errorf("axe-core: %s: %s", p, v)
		}
		pages++
		passes += res.Passes
	}
	return pages, passes
}

// AxeClean runs axe-core on the page loaded now and fails the test (without
// stopping it) for every violation, naming state: a flow test calls it at
// each page a citizen sees.
func (b *Browser) AxeClean(state string) {
	b.t.Helper()
	for _, v := range b.Axe().Violations {
		b.t.Errorf("axe-core: %s: %s", state, v)
	}
}
