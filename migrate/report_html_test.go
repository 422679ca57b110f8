package migrate

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestReportTexts: every language has exactly the same keys, and every
// figure, section and strength the report can show has a text.
func TestReportTexts(t *testing.T) {
	en := reportTexts["en"]
	for _, lang := range ReportLanguages {
		m, ok := reportTexts[lang]
		if !ok {
			t.Fatalf("no texts for %s", lang)
		}
		for k := range en {
			if _, ok := m[k]; !ok {
				t.Errorf("%s misses %s", lang, k)
			}
		}
		for k := range m {
			if _, ok := en[k]; !ok {
				t.Errorf("%s has %s, which en has not", lang, k)
			}
		}
	}
	s := Summary{ByStrength: map[string]int64{string(StrengthRevoked): 1}}
	for _, m := range s.metrics() {
		want := "metric." + m.Name
		if m.Section == "strength" {
			want = "strength." + m.Name
		}
		if m.Section == "scheme" {
			continue
		}
		for _, k := range []string{"section." + m.Section, want} {
			if _, ok := en[k]; !ok {
				t.Errorf("figure %s/%s: no text %s", m.Section, m.Name, k)
			}
		}
	}
	for _, st := range strengthOrder {
		if _, ok := en["strength."+string(st)]; !ok {
			t.Errorf("strength %s has no text", st)
		}
	}
}

func sampleReport() Report {
	d := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	before := Summary{Run: "scan-1", Store: "eloket", Date: d, Accounts: 12345,
		Schemes:     []SchemeCount{{"md5", "weak", 10000}, {"plaintext", "none", 2000}, {"bcrypt", "acceptable", 345}},
		ByStrength:  map[string]int64{"weak": 10000, "none": 2000, "acceptable": 345},
		NRNUsername: 9000, NRNLoginOpen: 9100, NRNColumn: 12000, Derived: 8000, Weak: 12000, Unsupported: 0, Linked: 345, NotLinked: 12000}
	after := before
	after.Run, after.Date = "scan-2", d.Add(time.Hour)
	after.Schemes = []SchemeCount{{"revoked", "revoked", 9100}, {"md5", "weak", 2900}, {"bcrypt", "acceptable", 345}}
	after.ByStrength = map[string]int64{"revoked": 9100, "weak": 2900, "acceptable": 345}
	after.NRNLoginOpen, after.NRNUsername, after.Derived, after.Revoked, after.Weak = 0, 0, 0, 9100, 2900
	ended := d.Add(30 * time.Minute)
	return Report{Generated: d.Add(2 * time.Hour), Store: "eloket", Before: before, After: &after,
		Run: &RunReport{ID: "apply-1", Policy: "revoke-nrn", Status: "done", Started: d, Ended: &ended, Accounts: 12345, Changed: 9100, Actions: map[string]int64{"revoke": 9100}}}
}

// TestReportHTMLLanguages renders the report in every language: the page
// says its language, every text is translated (no key shows), numbers are
// grouped as the language writes them, the summary says the national-number
// login is closed after the run, and revoked credentials are their own
// (fixed) category, not "none".
func TestReportHTMLLanguages(t *testing.T) {
	rep := sampleReport()
	grouped := map[string]string{"nl": "12.345", "fr": "12\u00a0345", "de": "12.345", "en": "12,345"}
	closed := map[string]string{"nl": "Op geen enkel account", "fr": "Plus aucun compte", "de": "Kein Konto", "en": "No account can be opened"}
	revoked := map[string]string{"nl": "uitgeschakeld (opgelost)", "fr": "désactivé (corrigé)", "de": "abgeschaltet (behoben)", "en": "switched off (fixed)"}
	key := regexp.MustCompile(`\b(metric|section|strength|chart|sum|advice|card|run|intro)\.[a-z_]+`)
	for _, lang := range ReportLanguages {
		t.Run(lang, func(t *testing.T) {
			var b bytes.Buffer
			if err := rep.WriteHTML(&b, lang); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if !strings.Contains(out, `<html lang="`+lang+`">`) {
				t.Error("page language not set")
			}
			text := out[strings.Index(out, "</style>"):] // CSS class names look like keys
			if k := key.FindString(text); k != "" {
				t.Errorf("untranslated key %q", k)
			}
			if !strings.Contains(out, grouped[lang]) {
				t.Errorf("12345 not written as %q", grouped[lang])
			}
			if !strings.Contains(out, closed[lang]) {
				t.Error("summary does not say the national-number login is closed")
			}
			if !strings.Contains(out, revoked[lang]) || !strings.Contains(out, `class="s-revoked"`) {
				t.Error("revoked credentials not shown as their own fixed category")
			}
			if strings.Contains(out, "%!") {
				t.Errorf("bad format verb in output: %s", out[strings.Index(out, "%!")-40:][:80])
			}
		})
	}
	if err := rep.WriteHTML(&bytes.Buffer{}, "xx"); err == nil {
		t.Error("unknown language accepted")
	}
}

// TestReportSummaryNeverClosedWithUnknowns: with unrecognised values the
// summary does not call the risk closed, even when no NRN login is open.
func TestReportSummaryNeverClosedWithUnknowns(t *testing.T) {
	rep := sampleReport()
	rep.After.Unsupported = 3
	var b bytes.Buffer
	if err := rep.WriteHTML(&b, "en"); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "No account can be opened") {
		t.Error("summary calls the risk closed while values are unrecognised")
	}
	if !strings.Contains(out, "3 stored values could not be recognised") || !strings.Contains(out, "have the unrecognised values checked") {
		t.Error("summary does not name the unknown values and what to do")
	}
}
