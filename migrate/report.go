package migrate

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"
)

// Report is the exposure of a store before (and optionally after) a run:
// what a municipality pastes into its ICT risk analysis.
type Report struct {
	Generated time.Time `json:"generated"`
	Store     string    `json:"store"`
	Before    Summary   `json:"before"`
	// After is a scan made after the run, when there is one.
	After *Summary `json:"after,omitempty"`
	// Run is the apply run between the two scans, when given.
	Run *RunReport `json:"run,omitempty"`
}

// RunReport describes an apply run in a report.
type RunReport struct {
	ID        string           `json:"id"`
	Policy    string           `json:"policy"`
	Status    string           `json:"status"`
	Started   time.Time        `json:"started"`
	Ended     *time.Time       `json:"ended,omitempty"`
	Accounts  int64            `json:"accounts"`
	Changed   int64            `json:"changed"`
	Conflicts int64            `json:"conflicts"`
	Actions   map[string]int64 `json:"actions"`
}

// BuildReport assembles a report from a scan, optionally an apply run and
// a later scan. now stamps it.
func (m *DB) BuildReport(ctx context.Context, before, run, after string, now time.Time) (Report, error) {
	b, err := m.Summarize(ctx, before)
	if err != nil {
		return Report{}, err
	}
	r := Report{Generated: now.UTC(), Store: b.Store, Before: b}
	if after != "" {
		a, err := m.Summarize(ctx, after)
		if err != nil {
			return r, err
		}
		if a.Store != b.Store {
			return r, fmt.Errorf("migrate: report: scans of different stores (%q, %q)", b.Store, a.Store)
		}
		r.After = &a
	}
	if run != "" {
		ru, err := m.GetRun(ctx, run)
		if err != nil {
			return r, err
		}
		if ru.Kind != KindApply {
			return r, fmt.Errorf("migrate: report: run %s is a %s, not an apply run", ru.ID, ru.Kind)
		}
		counts, err := m.JournalCounts(ctx, run)
		if err != nil {
			return r, err
		}
		rr := &RunReport{ID: ru.ID, Policy: ru.Policy, Status: ru.Status, Started: ru.StartedAt, Accounts: ru.Total, Changed: ru.Changed, Conflicts: ru.Conflicts, Actions: map[string]int64{}}
		if !ru.EndedAt.IsZero() {
			e := ru.EndedAt
			rr.Ended = &e
		}
		for a, bys := range counts {
			rr.Actions[a] = bys[StateApplied] + bys[StateRolledBack]
		}
		r.Run = rr
	}
	return r, nil
}

// WriteJSON writes the report as indented JSON.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// metric is one comparable figure of a report.
type metric struct {
	Section, Name string
	Before        int64
	After         *int64
}

func (s Summary) metrics() []metric {
	m := []metric{
		{"accounts", "total", s.Accounts, nil},
		{"nrn", "nrn_login_open", s.NRNLoginOpen, nil},
		{"nrn", "nrn_unknown_risk", s.NRNUnknownRisk, nil},
		{"nrn", "nrn_username", s.NRNUsername, nil},
		{"nrn", "nrn_column", s.NRNColumn, nil},
		{"nrn", "nrn_invalid", s.NRNInvalid, nil},
		{"nrn", "nrn_derived_password", s.Derived, nil},
		{"nrn", "nrn_derived_unchecked", s.DerivedUnchecked, nil},
		{"nrn", "duplicate_nrns", s.DuplicateNRNs, nil},
		{"nrn", "duplicate_accounts", s.DuplicateAccounts, nil},
		{"links", "linked", s.Linked, nil},
		{"links", "not_linked", s.NotLinked, nil},
		{"links", "link_unknown", s.LinkUnknown, nil},
		{"credentials", "weak", s.Weak, nil},
		{"credentials", "unsupported", s.Unsupported, nil},
		{"credentials", "empty", s.Empty, nil},
		{"credentials", "revoked", s.Revoked, nil},
		{"credentials", "disabled", s.Disabled, nil},
	}
	for _, st := range strengthOrder {
		m = append(m, metric{"strength", string(st), s.ByStrength[string(st)], nil})
	}
	for _, c := range s.Schemes {
		m = append(m, metric{"scheme", c.Scheme + "/" + c.Strength, c.Accounts, nil})
	}
	return m
}

// rows pairs the before and after figures.
func (r Report) rows() []metric {
	rows := r.Before.metrics()
	if r.After == nil {
		return rows
	}
	idx := map[string]int{}
	for i, m := range rows {
		idx[m.Section+"\x00"+m.Name] = i
	}
	for _, m := range r.After.metrics() {
		v := m.Before
		if i, ok := idx[m.Section+"\x00"+m.Name]; ok {
			rows[i].After = &v
			continue
		}
		zero := int64(0)
		rows = append(rows, metric{m.Section, m.Name, zero, &v})
	}
	for i := range rows {
		if rows[i].After == nil {
			zero := int64(0)
			rows[i].After = &zero
		}
	}
	return rows
}

// WriteCSV writes one line per figure: section, metric, before, after.
func (r Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"store", "date", "section", "metric", "before", "after"})
	for _, m := range r.rows() {
		after := ""
		if m.After != nil {
			after = strconv.FormatInt(*m.After, 10)
		}
		cw.Write([]string{r.Store, r.Before.Date.UTC().Format(time.RFC3339), m.Section, m.Name, strconv.FormatInt(m.Before, 10), after})
	}
	cw.Flush()
	return cw.Error()
}
