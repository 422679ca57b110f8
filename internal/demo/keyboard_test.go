package demo

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/overstap/overstap/auth/devidp"
	"github.com/overstap/overstap/internal/browsertest"
)

// focused describes the element that has the keyboard focus and whether
// its focus is visible (the browser's focus ring, an outline or a box shadow).
type focused struct {
	Desc    string `json:"desc"`
	Visible bool   `json:"visible"`
	Body    bool   `json:"body"`
}

const focusJS = `(() => {
	const e = document.activeElement;
	if (!e || e === document.body) return {desc: "body", visible: true, body: true};
	const s = getComputedStyle(e);
	// "auto" is the browser's own focus ring (WCAG 2.4.7 asks it be visible,
	// not of a size).
	const outline = s.outlineStyle === "auto" || (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 1);
	const shadow = s.boxShadow && s.boxShadow !== "none";
	let d = e.tagName.toLowerCase();
	if (e.id) d += "#" + e.id;
	if (e.getAttribute("href")) d += "[href=" + e.getAttribute("href") + "]";
	if (e.name) d += "[name=" + e.name + "]";
	if (e.value && e.tagName !== "INPUT") d += "[value=" + e.value + "]";
	if (e.type === "radio") d += "[value=" + e.value + "]";
	return {desc: d, visible: outline || shadow, body: false};
})()`

func focusNow(t *testing.T, b *browsertest.Browser) focused {
	t.Helper()
	f, err := chromedp.Run(b.Ctx, chromedp.Evaluate[focused](focusJS))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// tabCycle presses Tab until the focus comes back to where it started
// (the page or its first element): it returns the tab order, and fails when
// an element shows no focus or the focus never comes back (a trap).
func tabCycle(t *testing.T, b *browsertest.Browser, page string) []string {
	t.Helper()
	var order []string
	for i := 0; i < 40; i++ {
		b.Do(chromedp.KeyEvent(kb.Tab))
		f := focusNow(t, b)
		if f.Body || (len(order) > 0 && f.Desc == order[0]) {
			return order
		}
		if !f.Visible {
			t.Errorf("%s: %s has the focus but shows no focus indicator", page, f.Desc)
		}
		order = append(order, f.Desc)
	}
	t.Fatalf("%s: focus never came back after 40 tabs (trapped?): %v", page, order)
	return nil
}

// TestKeyboardOnly walks the main citizen flow with the keyboard alone: the
// refusal page of the old login (skip link first, every element reachable
// with a visible focus, no trap), the federated login at the dev IdP, and the
// e-loket behind the gateway.
func TestKeyboardOnly(t *testing.T) {
	d := startDemo(t, Options{})
	p := persona(t, d, devidp.PersonaParentB)
	b := browsertest.New(t, 3*time.Minute)

	// The old login's refusal page (what a citizen sees when posting the old
	// form, and on the gateway's login pages).
	b.Do(chromedp.Navigate(d.GatewayURL+"/login?uitleg"), chromedp.WaitVisible("main form button"))
	order := tabCycle(t, b, "refusal page")
	if len(order) == 0 || !strings.Contains(order[0], `[href=#main]`) {
		t.Fatalf("refusal page: the skip link is not the first stop: %v", order)
	}
	var button string
	for _, o := range order {
		if strings.HasPrefix(o, "button") {
			button = o
		}
	}
	if button == "" {
		t.Fatalf("refusal page: no button reachable by keyboard: %v", order)
	}
	// Tab to the first provider button and press Enter.
	for i := 0; i < 40; i++ {
		b.Do(chromedp.KeyEvent(kb.Tab))
		if strings.HasPrefix(focusNow(t, b).Desc, "button") {
			break
		}
	}
	b.Do(chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(`input[name="persona"]`))

	// The dev IdP: the persona group is one tab stop; arrows choose.
	for i := 0; i < 40; i++ {
		b.Do(chromedp.KeyEvent(kb.Tab))
		if strings.Contains(focusNow(t, b).Desc, "[name=persona]") {
			break
		}
	}
	for i := 0; i < 10 && !strings.Contains(focusNow(t, b).Desc, "[value="+p.Key+"]"); i++ {
		b.Do(chromedp.KeyEvent(kb.ArrowDown))
	}
	if f := focusNow(t, b); !strings.Contains(f.Desc, "[value="+p.Key+"]") {
		t.Fatalf("dev IdP: could not choose %s with the arrow keys (focus on %s)", p.Key, f.Desc)
	}
	for i := 0; i < 40; i++ {
		b.Do(chromedp.KeyEvent(kb.Tab))
		if strings.Contains(focusNow(t, b).Desc, "[value=login]") {
			break
		}
	}
	b.Do(chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible("#welkom"))
	if got := b.Text("#welkom"); got != "Welkom, "+p.Name() {
		t.Fatalf("e-loket page after a keyboard-only login: %q", got)
	}
	order = tabCycle(t, b, "e-loket")
	if len(order) < 2 {
		t.Errorf("e-loket: tab order %v", order)
	}
	t.Logf("refusal page tab order ends with %s", button)
}
