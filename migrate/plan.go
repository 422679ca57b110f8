package migrate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Policy turns a classification into an action.
type Policy string

// Policies.
const (
	// PolicyRevokeNRN revokes every password of an account with a national
	// number as username, or with an NRN-derived password.
	PolicyRevokeNRN Policy = "revoke-nrn"
	// PolicyRevokeDerived revokes only NRN-derived passwords.
	PolicyRevokeDerived Policy = "revoke-derived"
	// PolicyWrapWeak wraps weak hashes in bcrypt (passwords keep working).
	PolicyWrapWeak Policy = "wrap-weak"
	// PolicyRevokeAll revokes every password: federated login only.
	PolicyRevokeAll Policy = "revoke-all"
)

// Policies lists the valid policies.
var Policies = []Policy{PolicyRevokeNRN, PolicyRevokeDerived, PolicyWrapWeak, PolicyRevokeAll}

// ParsePolicy validates a policy name.
func ParsePolicy(s string) (Policy, error) {
	p := Policy(s)
	if slices.Contains(Policies, p) {
		return p, nil
	}
	return "", fmt.Errorf("migrate: unknown policy %q (want revoke-nrn, revoke-derived, wrap-weak or revoke-all)", s)
}

// NeedsDerivedCheck reports whether the policy needs the NRN-derived
// password check.
func (p Policy) NeedsDerivedCheck() bool {
	return p == PolicyRevokeNRN || p == PolicyRevokeDerived
}

// Filter narrows a plan or run.
type Filter struct {
	// IDs, when not empty, limits the run to these account IDs.
	IDs []string `json:"ids,omitempty"`
	// HasNRN limits the run to accounts with a national number (username
	// or column).
	HasNRN bool `json:"has_nrn,omitempty"`
	// CreatedBefore, when set, limits the run to accounts the store says
	// were created before this time. Accounts without a known creation
	// date do not match. Needs a store with creation dates
	// (CreationDates); plan needs a scan that recorded them.
	CreatedBefore time.Time `json:"created_before,omitzero"`
}

// ErrNoCreationDates: the created-before filter on a store (or scan)
// without creation dates.
var ErrNoCreationDates = errors.New("migrate: the created-before filter needs creation dates, and the store maps none (sqlstore: columns.created)")

// MaxFilterIDs bounds the ID filter.
const MaxFilterIDs = 1_000_000

type filterSet struct {
	ids    map[string]struct{}
	hasNRN bool
	// createdBefore is the cutoff in Unix milliseconds; 0 = no cutoff.
	createdBefore int64
}

func (f Filter) compile() (filterSet, error) {
	if len(f.IDs) > MaxFilterIDs {
		return filterSet{}, fmt.Errorf("migrate: filter: %d ids, at most %d", len(f.IDs), MaxFilterIDs)
	}
	fs := filterSet{hasNRN: f.HasNRN}
	if !f.CreatedBefore.IsZero() {
		fs.createdBefore = f.CreatedBefore.UnixMilli()
		if fs.createdBefore <= 0 {
			return filterSet{}, errors.New("migrate: filter: created-before must be after 1970")
		}
	}
	if len(f.IDs) > 0 {
		fs.ids = make(map[string]struct{}, len(f.IDs))
		for _, id := range f.IDs {
			fs.ids[id] = struct{}{}
		}
	}
	return fs, nil
}

func (fs filterSet) match(c Class) bool {
	if fs.ids != nil {
		if _, ok := fs.ids[c.ID]; !ok {
			return false
		}
	}
	if fs.hasNRN && c.Flags&(FlagNRNUsername|FlagNRNColumn) == 0 {
		return false
	}
	if fs.createdBefore != 0 && (c.Created == 0 || c.Created >= fs.createdBefore) {
		return false // unknown creation dates never match
	}
	return true
}

// Action returns what the policy does to an account: ActionRevoke,
// ActionWrap, or "" for nothing.
func (p Policy) Action(c Class) string {
	if c.Flags&(FlagEmpty|FlagRevoked) != 0 {
		return "" // nothing left to take away
	}
	switch p {
	case PolicyRevokeNRN:
		if c.Flags&(FlagNRNUsername|FlagDerived) != 0 {
			return ActionRevoke
		}
	case PolicyRevokeDerived:
		if c.Has(FlagDerived) {
			return ActionRevoke
		}
	case PolicyWrapWeak:
		// A wrapped value is as strong as its bcrypt cost; wrapping it
		// again would only stack costs (hash.Wrap refuses it).
		if c.Has(FlagWeak) && !c.Has(FlagUnsupported) && !strings.HasPrefix(c.Scheme, "wrapped(") {
			return ActionWrap
		}
	case PolicyRevokeAll:
		return ActionRevoke
	}
	return ""
}

// PlanResult is the dry run of a policy over a scan.
type PlanResult struct {
	Policy   Policy              `json:"policy"`
	Scan     string              `json:"scan"`
	Store    string              `json:"store"`
	Accounts int64               `json:"accounts"`
	Matched  int64               `json:"matched"` // accounts passing the filter
	Actions  map[string]int64    `json:"actions"` // action -> count
	Examples map[string][]string `json:"examples"`
	// Unchecked counts accounts whose derived check did not run: a
	// revoke-derived plan may miss them.
	Unchecked int64 `json:"derived_unchecked"`
}

// Plan runs a policy over the classification of a scan without changing
// anything. examples bounds the account IDs listed per action.
func (m *DB) Plan(ctx context.Context, scan string, p Policy, f Filter, examples int) (PlanResult, error) {
	run, err := m.GetRun(ctx, scan)
	if err != nil {
		return PlanResult{}, err
	}
	if run.Kind != KindScan {
		return PlanResult{}, fmt.Errorf("migrate: run %s is a %s, not a scan", scan, run.Kind)
	}
	fs, err := f.compile()
	if err != nil {
		return PlanResult{}, err
	}
	if fs.createdBefore != 0 && !run.Params.CreatedDates {
		return PlanResult{}, fmt.Errorf("%w (scan %s recorded none)", ErrNoCreationDates, scan)
	}
	res := PlanResult{Policy: p, Scan: scan, Store: run.StoreName, Actions: map[string]int64{}, Examples: map[string][]string{}}
	after := ""
	for {
		cls, err := m.classesAfter(ctx, scan, after, 5000)
		if err != nil {
			return res, err
		}
		if len(cls) == 0 {
			return res, nil
		}
		for _, c := range cls {
			res.Accounts++
			if !fs.match(c) {
				continue
			}
			res.Matched++
			if p.NeedsDerivedCheck() && c.Has(FlagDerivedUnchecked) && c.Flags&(FlagEmpty|FlagRevoked|FlagUnsupported) == 0 {
				res.Unchecked++
			}
			a := p.Action(c)
			if a == "" {
				continue
			}
			res.Actions[a]++
			if len(res.Examples[a]) < examples {
				res.Examples[a] = append(res.Examples[a], c.ID)
			}
		}
		after = cls[len(cls)-1].ID
	}
}
