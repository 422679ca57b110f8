package migrate

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/overstap/overstap/adapters/state"
)

// SchemeCount counts accounts of one scheme and strength.
type SchemeCount struct {
	Scheme   string `json:"scheme"`
	Strength string `json:"strength"`
	Accounts int64  `json:"accounts"`
}

// Summary is the exposure a scan found: what goes into the report.
type Summary struct {
	Run   string    `json:"run"`
	Store string    `json:"store"`
	Date  time.Time `json:"date"`
	// Accounts is the number of accounts scanned.
	Accounts int64 `json:"accounts"`
	// Schemes counts accounts by scheme and strength, largest first.
	Schemes []SchemeCount `json:"schemes"`
	// ByStrength counts accounts per strength.
	ByStrength map[string]int64 `json:"by_strength"`

	NRNUsername int64 `json:"nrn_username"`
	// NRNLoginOpen counts accounts with an NRN username or an NRN-derived
	// password whose credential still works: the exposure the supervisor
	// asked to end (0 after a revoke-nrn run).
	NRNLoginOpen int64 `json:"nrn_login_open"`
	// NRNUnknownRisk counts accounts with a national number whose
	// credential could not be classified (unsupported scheme, garbage, over
	// the cost caps) or whose NRN-derived check did not run: they may be
	// open, so a report never shows "0 open" without them.
	NRNUnknownRisk   int64 `json:"nrn_unknown_risk"`
	NRNColumn        int64 `json:"nrn_column"`
	NRNInvalid       int64 `json:"nrn_invalid"`
	Derived          int64 `json:"nrn_derived_password"`
	DerivedUnchecked int64 `json:"nrn_derived_unchecked"`
	Linked           int64 `json:"linked"`
	NotLinked        int64 `json:"not_linked"`
	LinkUnknown      int64 `json:"link_unknown"`
	Disabled         int64 `json:"disabled"`
	Empty            int64 `json:"empty"`
	Revoked          int64 `json:"revoked"`
	Unsupported      int64 `json:"unsupported"`
	Weak             int64 `json:"weak"`
	// DuplicateNRNs is the number of national numbers found on more than
	// one account; DuplicateAccounts the accounts carrying them.
	DuplicateNRNs     int64 `json:"duplicate_nrns"`
	DuplicateAccounts int64 `json:"duplicate_accounts"`
}

var flagColumns = []struct {
	f   Flags
	set func(*Summary, int64)
}{
	{FlagNRNUsername, func(s *Summary, n int64) { s.NRNUsername = n }},
	{FlagNRNColumn, func(s *Summary, n int64) { s.NRNColumn = n }},
	{FlagNRNInvalid, func(s *Summary, n int64) { s.NRNInvalid = n }},
	{FlagDerived, func(s *Summary, n int64) { s.Derived = n }},
	{FlagDerivedUnchecked, func(s *Summary, n int64) { s.DerivedUnchecked = n }},
	{FlagLinked, func(s *Summary, n int64) { s.Linked = n }},
	{FlagLinkUnknown, func(s *Summary, n int64) { s.LinkUnknown = n }},
	{FlagDisabled, func(s *Summary, n int64) { s.Disabled = n }},
	{FlagEmpty, func(s *Summary, n int64) { s.Empty = n }},
	{FlagRevoked, func(s *Summary, n int64) { s.Revoked = n }},
	{FlagUnsupported, func(s *Summary, n int64) { s.Unsupported = n }},
	{FlagWeak, func(s *Summary, n int64) { s.Weak = n }},
}

// Summarize counts a scan's classification in the database (GROUP BY), so
// memory does not grow with the store.
func (m *DB) Summarize(ctx context.Context, scan string) (Summary, error) {
	run, err := m.GetRun(ctx, scan)
	if err != nil {
		return Summary{}, err
	}
	if run.Kind != KindScan {
		return Summary{}, fmt.Errorf("migrate: run %s is a %s, not a scan", scan, run.Kind)
	}
	s := Summary{Run: run.ID, Store: run.StoreName, Date: run.StartedAt, ByStrength: map[string]int64{}}
	var b strings.Builder
	b.WriteString("SELECT COUNT(*)")
	for _, fc := range flagColumns {
		fmt.Fprintf(&b, ", COALESCE(SUM(CASE WHEN (flags & %d) <> 0 THEN 1 ELSE 0 END), 0)", int64(fc.f))
	}
	// Unknown risk: an NRN account, credential not empty or revoked, and
	// either unclassifiable or (not known open) with the derived check not
	// run.
	fmt.Fprintf(&b, ", COALESCE(SUM(CASE WHEN (flags & %d) <> 0 AND (flags & %d) = 0 AND ((flags & %d) <> 0 OR ((flags & %d) <> 0 AND (flags & %d) = 0)) THEN 1 ELSE 0 END), 0)",
		int64(FlagNRNUsername|FlagNRNColumn), int64(FlagEmpty|FlagRevoked), int64(FlagUnsupported),
		int64(FlagDerivedUnchecked), int64(FlagNRNUsername|FlagDerived))
	fmt.Fprintf(&b, ", COALESCE(SUM(CASE WHEN (flags & %d) <> 0 AND (flags & %d) = 0 THEN 1 ELSE 0 END), 0)",
		int64(FlagNRNUsername|FlagDerived), int64(FlagEmpty|FlagRevoked|FlagUnsupported))
	b.WriteString(" FROM migrate_scan_accounts WHERE run_id = ?")
	vals := make([]int64, len(flagColumns)+3)
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := m.db.QueryRowContext(ctx, m.q(b.String()), scan).Scan(ptrs...); err != nil {
		return s, fmt.Errorf("%w: summarize: %w", ErrState, err)
	}
	s.Accounts = vals[0]
	for i, fc := range flagColumns {
		fc.set(&s, vals[i+1])
	}
	s.NRNUnknownRisk = vals[len(vals)-2]
	s.NRNLoginOpen = vals[len(vals)-1]
	if s.LinkUnknown == 0 {
		s.NotLinked = s.Accounts - s.Linked
	}
	schemes, err := queryAll(ctx, m, "summarize", `SELECT scheme, strength, COUNT(*) FROM migrate_scan_accounts WHERE run_id = ? GROUP BY scheme, strength`, []any{scan},
		func(r state.Scanner) (c SchemeCount, err error) {
			err = r.Scan(&c.Scheme, &c.Strength, &c.Accounts)
			return
		})
	if err != nil {
		return s, err
	}
	for _, c := range schemes {
		s.Schemes = append(s.Schemes, c)
		s.ByStrength[c.Strength] += c.Accounts
	}
	sort.Slice(s.Schemes, func(i, j int) bool {
		a, b := s.Schemes[i], s.Schemes[j]
		if a.Accounts != b.Accounts {
			return a.Accounts > b.Accounts
		}
		if a.Scheme != b.Scheme {
			return a.Scheme < b.Scheme
		}
		return a.Strength < b.Strength
	})
	err = m.db.QueryRowContext(ctx, m.q(`SELECT COUNT(*), COALESCE(SUM(c), 0) FROM (SELECT COUNT(*) AS c FROM migrate_scan_accounts WHERE run_id = ? AND nrn_ref IS NOT NULL GROUP BY nrn_ref HAVING COUNT(*) > 1) d`), scan).
		Scan(&s.DuplicateNRNs, &s.DuplicateAccounts)
	if err != nil {
		return s, fmt.Errorf("%w: summarize duplicates: %w", ErrState, err)
	}
	return s, nil
}

func (s Summary) auditAttrs() map[string]int64 {
	return map[string]int64{
		"accounts": s.Accounts, "nrn_username": s.NRNUsername, "nrn_derived": s.Derived, "nrn_login_open": s.NRNLoginOpen, "nrn_unknown_risk": s.NRNUnknownRisk,
		"weak": s.Weak, "unsupported": s.Unsupported, "duplicate_nrns": s.DuplicateNRNs,
	}
}
