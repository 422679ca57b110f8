// Package browsertest drives the system's headless Chromium (Debian package
// "chromium", installed by make test) from Go tests through chromedp, with
// the flags this machine needs (no sandbox as root, no background
// networking), a fresh profile per test, and a screenshot saved as a test
// artefact when the test fails.
package browsertest

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/overstap/overstap/internal/testsvc"
)

// ArtifactDir is where screenshots of failed tests go (relative to the
// package directory a test runs in: testdata/artifacts is git-ignored).
const ArtifactDir = "testdata/artifacts"

// Browser is one headless Chromium for one test.
type Browser struct {
	Ctx context.Context
	t   testing.TB

	mu       sync.Mutex
	problems []string // console errors and uncaught exceptions
}

// New starts Chromium for t (fails in CI, skips locally when it is not
// installed) and closes it when t ends. Console errors and uncaught
// exceptions are collected and reported by ConsoleErrors.
func New(t testing.TB, timeout time.Duration) *Browser {
	t.Helper()
	exe := testsvc.LookPath(t, []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"}, "chromium")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1100, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, timeout)
	b := &Browser{Ctx: ctx, t: t}
	if err := chromedp.Do(ctx); err != nil {
		cancelT()
		cancelB()
		cancelA()
		t.Fatalf("browsertest: starting chromium: %v", err)
	}
	if err := chromedp.Listen(ctx, b.collect); err != nil {
		t.Fatalf("browsertest: listening for console errors: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			b.Screenshot("failure")
		}
		cancelT()
		cancelB()
		cancelA()
	})
	return b
}

func (b *Browser) collect(ev any) {
	var msg string
	switch e := ev.(type) {
	case *cdpruntime.EventExceptionThrown:
		msg = "exception: " + e.ExceptionDetails.Text
	case *cdpruntime.EventConsoleAPICalled:
		if e.Type == cdpruntime.ConsoleAPICalledTypeError || e.Type == cdpruntime.ConsoleAPICalledTypeAssert {
			msg = "console." + string(e.Type)
			for _, a := range e.Args {
				msg += " " + string(a.Value)
			}
		}
	case *cdplog.EventEntryAdded:
		if e.Entry.Level == cdplog.EntryLevelError {
			msg = "log: " + e.Entry.Text + " " + e.Entry.URL
		}
	}
	if msg != "" {
		b.mu.Lock()
		b.problems = append(b.problems, msg)
		b.mu.Unlock()
	}
}

// ConsoleErrors returns the console errors, failed loads (CSP violations
// among them) and uncaught exceptions seen so far.
func (b *Browser) ConsoleErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.problems...)
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// Screenshot saves a full-page PNG (quality 100: PNG, not JPEG) of the current page as
// testdata/artifacts/<test>-<name>.png and returns its path.
func (b *Browser) Screenshot(name string) string {
	ctx, cancel := context.WithTimeout(b.Ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("browsertest: screenshot %s: %v", name, err)
		return ""
	}
	if err := os.MkdirAll(ArtifactDir, 0o755); err != nil {
		b.t.Logf("browsertest: %v", err)
		return ""
	}
	p := filepath.Join(ArtifactDir, unsafeName.ReplaceAllString(b.t.Name()+"-"+name, "_")+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Logf("browsertest: %v", err)
		return ""
	}
	b.t.Logf("browsertest: screenshot saved to %s", p)
	return p
}

// Do runs chromedp actions and fails the test on error.
func (b *Browser) Do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.Ctx, actions...); err != nil {
		b.t.Fatalf("browsertest: %v", err)
	}
}

// Text returns the text of the first element matching sel.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.Ctx, chromedp.Text(sel))
	if err != nil {
		b.t.Fatalf("browsertest: text of %s: %v", sel, err)
	}
	return s
}

// Location returns the current URL.
func (b *Browser) Location() string {
	b.t.Helper()
	s, err := chromedp.Run(b.Ctx, chromedp.Location())
	if err != nil {
		b.t.Fatalf("browsertest: location: %v", err)
	}
	return s
}
