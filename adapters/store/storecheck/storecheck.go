package storecheck

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/overstap/overstap/adapters/store"
	"github.com/overstap/overstap/auth/nrn"
)

// Classifier names the hash scheme of an account's credential, e.g.
// "md5-crypt (weak)" or "unknown"; the command wires the hash package in.
type Classifier func(a store.Account) string

// Options bounds the check.
type Options struct {
	// Sample is how many accounts to read (default 1000, at most 100000).
	Sample int
	// Classify names hash schemes; nil counts everything as "unclassified".
	Classify Classifier
}

// Report is what the check found. It holds counts only: no credential, no
// national number, no username.
type Report struct {
	Store        string
	Capabilities store.Capabilities
	Read         int
	Complete     bool // the sample covered the whole store
	NRNColumn    int
	NRNUsername  int
	NRNNone      int
	// NRNProblems counts unusable NRN column values by problem.
	NRNProblems map[string]int
	// UsernameNRNShapedInvalid counts usernames written like a national
	// number whose check digits or date are wrong.
	UsernameNRNShapedInvalid int
	// DuplicateNRN counts accounts whose national number another account
	// in the sample also has.
	DuplicateNRN   int
	CredentialNull int
	// Schemes counts credentials by scheme kind.
	Schemes   map[string]int
	NonUTF8   map[string]int
	Disabled  int
	Federated int
	// Warnings are mapping problems worth acting on.
	Warnings []string
}

// Check reads up to opts.Sample accounts from s in key order.
func Check(ctx context.Context, s store.Store, opts Options) (*Report, error) {
	if opts.Sample <= 0 {
		opts.Sample = 1000
	}
	opts.Sample = min(opts.Sample, 100_000)
	r := &Report{Store: s.Name(), Capabilities: s.Capabilities(), NRNProblems: map[string]int{}, Schemes: map[string]int{}, NonUTF8: map[string]int{}}
	// Duplicates are found through keyed references with a throw-away key,
	// so the check never holds a list of clear national numbers.
	key := nrn.RandomRefKey()
	refs := map[string]int{}
	var cur store.Cursor
	for r.Read < opts.Sample {
		page, next, err := s.Iterate(ctx, cur, min(500, opts.Sample-r.Read))
		if err != nil {
			return r, fmt.Errorf("storecheck: after %d accounts: %w", r.Read, err)
		}
		for _, a := range page {
			r.add(a, opts.Classify, key, refs)
		}
		if next == "" {
			r.Complete = true
			break
		}
		cur = next
	}
	for _, n := range refs {
		if n > 1 {
			r.DuplicateNRN += n
		}
	}
	r.warn()
	return r, nil
}

func (r *Report) add(a store.Account, classify Classifier, key nrn.RefKey, refs map[string]int) {
	r.Read++
	switch a.NRNSource {
	case "column":
		r.NRNColumn++
	case "username":
		r.NRNUsername++
	default:
		r.NRNNone++
	}
	if a.NRNProblem != "" {
		r.NRNProblems[a.NRNProblem]++
	}
	if n, shaped := nrn.Shaped(a.Username); shaped && n.IsZero() {
		r.UsernameNRNShapedInvalid++
	}
	if !a.NRN.IsZero() {
		refs[a.NRN.Ref(key)]++
	}
	switch {
	case a.CredentialNull:
		r.CredentialNull++
	case classify != nil:
		r.Schemes[classify(a)]++
	default:
		r.Schemes["unclassified"]++
	}
	for field, v := range map[string]string{"id": a.ID, "username": a.Username, "credential": a.Credential, "salt": a.Salt} {
		if !utf8.ValidString(v) {
			r.NonUTF8[field]++
		}
	}
	if a.Disabled {
		r.Disabled++
	}
	if a.Federated {
		r.Federated++
	}
}

func (r *Report) warn() {
	w := func(f string, a ...any) { r.Warnings = append(r.Warnings, fmt.Sprintf(f, a...)) }
	if r.Read == 0 {
		w("no accounts read: check the table/base DN, the filter and the permissions")
		return
	}
	if !r.Capabilities.AtomicCAS {
		w("no atomic compare-and-swap: destructive migrations (revoke, wrap) are refused unless forced")
	}
	if n := sum(r.NRNProblems); n > 0 {
		w("%d accounts have an NRN value that is not a valid national number", n)
	}
	if r.NRNColumn+r.NRNUsername == 0 {
		w("no account has a national number: map the NRN column/attribute, or check the usernames")
	}
	if r.UsernameNRNShapedInvalid > 0 {
		w("%d usernames are written like a national number but do not validate (typos, or numbers from another system)", r.UsernameNRNShapedInvalid)
	}
	if r.DuplicateNRN > 0 {
		w("%d accounts share a national number with another account: linking will ask the citizen to choose", r.DuplicateNRN)
	}
	if n := r.Schemes["unknown"]; n > 0 {
		w("%d credentials have an unknown hash format: set scheme_hint if the store uses bare hashes", n)
	}
	unsupported := 0
	for k, n := range r.Schemes {
		if strings.HasPrefix(k, "unsupported") {
			unsupported += n
		}
	}
	if unsupported > 0 {
		w("%d credentials are of a known family that cannot be verified (malformed, or a variant not implemented): revoke rather than wrap them", unsupported)
	}
	if r.CredentialNull == r.Read {
		w("every credential is NULL: is the password column mapped correctly?")
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// Keys returns the map's keys sorted, for stable output.
func Keys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
