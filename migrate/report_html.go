package migrate

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"slices"
	"sort"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// ReportLanguages are the languages of the HTML report, the first the
// default: the four languages of the gateway's pages.
var ReportLanguages = []string{"nl", "fr", "de", "en"}

// CheckReportLanguage returns an error naming the choices when lang is not
// one of ReportLanguages.
func CheckReportLanguage(lang string) error {
	if slices.Contains(ReportLanguages, lang) {
		return nil
	}
	return fmt.Errorf("migrate: report language %q is not one of %v", lang, ReportLanguages)
}

//go:embed report.html.tmpl
var reportHTML string

var reportTmpl = template.Must(template.New("report").Parse(reportHTML))

// bar is one bar of an inline SVG chart.
type bar struct {
	Label  string
	Value  string // formatted for the language
	Width  float64
	Class  string
	Y      int
	ValueX float64 // where the value is written, after the bar
}

type chart struct {
	Title  string
	Bars   []bar
	Height int
}

// Chart geometry (SVG user units = CSS px: the SVG is drawn at its natural
// width, so a label's 14 units stay 14 px, above the 12 px minimum). Each
// row has its label on a line of its own above the bar, so a long label in
// any language never runs into the bar.
const (
	chartBarW = 480 // longest bar; its value is written after it
	chartRow  = 46
)

type rawBar struct {
	key   string
	value int64
	class string
}

func (p reportPrinter) chart(titleKey string, raw []rawBar) chart {
	var maxV int64
	for _, b := range raw {
		maxV = max(maxV, b.value)
	}
	c := chart{Title: p.t(titleKey), Height: len(raw)*chartRow + 6}
	for i, b := range raw {
		w := 0.0
		if maxV > 0 {
			w = float64(b.value) * chartBarW / float64(maxV)
		}
		label := b.key
		if _, ok := reportTexts["en"][b.key]; ok {
			label = p.t(b.key)
		}
		c.Bars = append(c.Bars, bar{Label: label, Value: p.Sprintf("%d", b.value), Width: w, Class: b.class, Y: i * chartRow, ValueX: w + 8})
	}
	return c
}

// strengthOrder is the order of the strength bars and of the by_strength
// rows: worst first, fixed last.
var strengthOrder = []Strength{StrengthNone, StrengthWeak, StrengthAcceptable, StrengthStrong, StrengthRevoked}

func (p reportPrinter) charts(s Summary) []chart {
	var strength []rawBar
	for _, st := range strengthOrder {
		if st == StrengthRevoked && s.ByStrength[string(st)] == 0 {
			continue
		}
		strength = append(strength, rawBar{"strength." + string(st), s.ByStrength[string(st)], "s-" + string(st)})
	}
	var schemes []rawBar
	sc := append([]SchemeCount(nil), s.Schemes...)
	sort.SliceStable(sc, func(i, j int) bool { return sc[i].Accounts > sc[j].Accounts })
	for i, c := range sc {
		if i == 12 {
			break
		}
		schemes = append(schemes, rawBar{c.Scheme + " (" + p.t("strength."+c.Strength) + ")", c.Accounts, "s-" + c.Strength})
	}
	nrn := []rawBar{
		{"metric.nrn_login_open", s.NRNLoginOpen, "s-none"},
		{"metric.nrn_username", s.NRNUsername, "s-none"},
		{"metric.nrn_derived_password", s.Derived, "s-none"},
		{"metric.nrn_column", s.NRNColumn, "s-weak"},
		{"metric.duplicate_accounts", s.DuplicateAccounts, "s-weak"},
		{"metric.nrn_invalid", s.NRNInvalid, "s-acceptable"},
	}
	links := []rawBar{{"metric.linked", s.Linked, "s-strong"}, {"metric.not_linked", s.NotLinked, "s-weak"}}
	if s.LinkUnknown > 0 {
		links = append(links, rawBar{"metric.link_unknown", s.LinkUnknown, "s-acceptable"})
	}
	return []chart{
		p.chart("chart.strength", strength),
		p.chart("chart.scheme", schemes),
		p.chart("chart.nrn", nrn),
		p.chart("chart.link", links),
	}
}

// reportPrinter formats numbers and texts in one report language.
type reportPrinter struct {
	*message.Printer
	lang string
}

func newReportPrinter(lang string) reportPrinter {
	return reportPrinter{Printer: message.NewPrinter(language.Make(lang)), lang: lang}
}

// t returns the text of key in the report's language, formatted with args
// (numbers grouped as the language writes them).
func (p reportPrinter) t(key string, args ...any) string {
	s, ok := reportTexts[p.lang][key]
	if !ok {
		// Every key exists in every language (TestReportTexts); a missing
		// one shows as itself rather than breaking the report.
		s = key
	}
	if len(args) == 0 {
		return s
	}
	return p.Sprintf(s, args...)
}

func (p reportPrinter) pct(n, total int64) string {
	if total == 0 {
		return p.Sprintf("%.1f%%", 0.0)
	}
	return p.Sprintf("%.1f%%", float64(n)*100/float64(total))
}

func reportDate(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// card is one key figure at the top of the report.
type card struct {
	Label, Value, Note string
	Bad                bool
}

// row is one line of the figures table, translated.
type row struct {
	Section, Name, Before, After string
}

// pageData is what report.html.tmpl shows: every text already translated.
type pageData struct {
	Lang, Title, Intro string
	Summary            []string
	Advice             string
	Closed             bool
	Cards              []card
	RunTitle, RunText  string
	RunActions         []row
	T                  map[string]string
	BeforeCharts       []chart
	AfterCharts        []chart
	Rows               []row
	HasAfter           bool
}

// WriteHTML writes a self-contained page in lang (one of ReportLanguages):
// inline CSS and SVG, no script, no external asset. It opens with a summary
// in plain words for the municipality's council, then the key figures, the
// charts and every figure.
func (r Report) WriteHTML(w io.Writer, lang string) error {
	if err := CheckReportLanguage(lang); err != nil {
		return err
	}
	p := newReportPrinter(lang)
	last := r.Before
	if r.After != nil {
		last = *r.After
	}
	d := pageData{
		Lang:  lang,
		Title: p.t("title", r.Store),
		T:     reportTexts[lang],
		Intro: p.t("intro.scan", r.Before.Run, reportDate(r.Before.Date)),
	}
	if r.After != nil {
		d.Intro += " " + p.t("intro.after", r.After.Run, reportDate(r.After.Date))
	}
	d.Intro += " " + p.t("intro.generated", reportDate(r.Generated))

	// The summary speaks of the latest state (after the run when there is
	// one) and says what changed.
	if last.NRNLoginOpen > 0 {
		d.Summary = append(d.Summary, p.t("sum.open", last.NRNLoginOpen, last.Accounts, p.pct(last.NRNLoginOpen, last.Accounts)))
	} else {
		d.Summary = append(d.Summary, p.t("sum.open_none", last.Accounts))
	}
	if r.After != nil {
		d.Summary = append(d.Summary, p.t("sum.was", r.Before.NRNLoginOpen))
	}
	if last.Revoked > 0 {
		d.Summary = append(d.Summary, p.t("sum.revoked", last.Revoked))
	}
	if last.Weak > 0 {
		d.Summary = append(d.Summary, p.t("sum.weak", last.Weak))
	}
	if last.Unsupported > 0 {
		d.Summary = append(d.Summary, p.t("sum.unknown", last.Unsupported))
	}
	if last.LinkUnknown == 0 {
		d.Summary = append(d.Summary, p.t("sum.linked", last.Linked, last.Accounts))
	}
	d.Closed = last.NRNLoginOpen == 0 && last.Unsupported == 0 && last.NRNUnknownRisk == 0
	switch {
	case d.Closed:
		d.Advice = p.t("advice.closed")
	case last.NRNLoginOpen > 0:
		d.Advice = p.t("advice.revoke")
	default:
		d.Advice = p.t("advice.unknown")
	}

	b := r.Before
	openCard := card{Label: p.t("metric.nrn_login_open"), Value: p.Sprintf("%d", b.NRNLoginOpen), Note: p.pct(b.NRNLoginOpen, b.Accounts), Bad: b.NRNLoginOpen > 0}
	if b.NRNUnknownRisk > 0 {
		// Never a bare "0 open" while NRN accounts hold values of unknown
		// risk.
		openCard.Value += p.Sprintf(" (+%d ?)", b.NRNUnknownRisk)
		openCard.Bad = true
	}
	if r.After != nil {
		openCard.Note = p.t("card.after", r.After.NRNLoginOpen)
		if r.After.NRNUnknownRisk > 0 {
			openCard.Note += p.Sprintf(" (+%d ?)", r.After.NRNUnknownRisk)
		}
	}
	d.Cards = []card{
		{Label: p.t("metric.total"), Value: p.Sprintf("%d", b.Accounts)},
		openCard,
		{Label: p.t("metric.nrn_username"), Value: p.Sprintf("%d", b.NRNUsername), Note: p.pct(b.NRNUsername, b.Accounts)},
		{Label: p.t("metric.nrn_derived_password"), Value: p.Sprintf("%d", b.Derived), Note: p.pct(b.Derived, b.Accounts)},
		{Label: p.t("metric.weak"), Value: p.Sprintf("%d", b.Weak), Note: p.pct(b.Weak, b.Accounts)},
		{Label: p.t("metric.duplicate_nrns"), Value: p.Sprintf("%d", b.DuplicateNRNs), Note: p.t("card.on_accounts", b.DuplicateAccounts)},
		{Label: p.t("metric.unsupported"), Value: p.Sprintf("%d", b.Unsupported), Note: p.t("card.never_guessed")},
	}
	if ru := r.Run; ru != nil {
		d.RunTitle = p.t("run.title", ru.ID)
		ended := ""
		if ru.Ended != nil {
			ended = p.t("run.ended", reportDate(*ru.Ended))
		}
		d.RunText = p.t("run.text", ru.Policy, ru.Status, reportDate(ru.Started), ended, ru.Accounts, ru.Changed, ru.Conflicts)
		actions := make([]string, 0, len(ru.Actions))
		for a := range ru.Actions {
			actions = append(actions, a)
		}
		sort.Strings(actions)
		for _, a := range actions {
			d.RunActions = append(d.RunActions, row{Name: a, Before: p.Sprintf("%d", ru.Actions[a])})
		}
	}
	d.BeforeCharts = p.charts(r.Before)
	if r.After != nil {
		d.AfterCharts = p.charts(*r.After)
		d.HasAfter = true
	}
	for _, m := range r.rows() {
		rw := row{Section: p.t("section." + m.Section), Name: m.Name, Before: p.Sprintf("%d", m.Before)}
		switch m.Section {
		case "strength":
			rw.Name = p.t("strength." + m.Name)
		case "scheme":
		default:
			rw.Name = p.t("metric." + m.Name)
		}
		if m.After != nil {
			rw.After = p.Sprintf("%d", *m.After)
		}
		d.Rows = append(d.Rows, rw)
	}
	return reportTmpl.Execute(w, d)
}
