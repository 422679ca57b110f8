package hash

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"

	"golang.org/x/crypto/bcrypt"

	"github.com/overstap/overstap/auth/nrn"
)

// Candidates returns the passwords a vendor would have derived from a
// national number, most common first, without duplicates:
//
//  1. the 11 digits "85073003328";
//  2. the eID-card print "85.07.30-033.28";
//  3. "850730-033-28", "850730 033 28" and "850730-03328";
//  4. the first 9 digits without the check digits "850730033";
//  5. when the birth date is fully known: "30071985" (DDMMYYYY),
//     "30/07/1985", "30-07-1985", "30.07.1985", "1985-07-30" (ISO),
//     "300785" (DDMMYY) and "850730" (YYMMDD).
//
// The list stays short on purpose: IsDerived verifies every candidate against
// a possibly slow hash. It returns nil for the zero Number.
func Candidates(n nrn.Number) []string {
	if n.IsZero() {
		return nil
	}
	d := n.Digits()
	out := []string{
		d,
		n.Format(),
		d[0:6] + "-" + d[6:9] + "-" + d[9:11],
		d[0:6] + " " + d[6:9] + " " + d[9:11],
		d[0:6] + "-" + d[6:11],
		d[0:9],
	}
	if b, ok := n.Birth(); ok {
		dd, mm, yyyy := digits(b.Day(), 2), digits(int(b.Month()), 2), digits(b.Year(), 4)
		yy := yyyy[2:]
		out = append(out,
			dd+mm+yyyy, dd+"/"+mm+"/"+yyyy, dd+"-"+mm+"-"+yyyy, dd+"."+mm+"."+yyyy,
			yyyy+"-"+mm+"-"+dd, dd+mm+yy, yy+mm+dd,
		)
	}
	return dedupe(out)
}

// ContextWords returns the context-specific words a new password must not
// contain or equal (NIST SP 800-63B §5.1.1.2): the username and its parts,
// the national-number candidates, and the parts of the name, lower-cased,
// parts shorter than 3 characters left out. Empty arguments contribute
// nothing.
func ContextWords(username string, n nrn.Number, name string) []string {
	var out []string
	add := func(s string) {
		s = strings.ToLower(strings.TrimSpace(s))
		if len([]rune(s)) >= 3 {
			out = append(out, s)
		}
	}
	split := func(s string) []string {
		return strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	}
	add(username)
	for _, p := range split(username) {
		add(p)
	}
	for _, c := range Candidates(n) {
		add(c)
	}
	add(name)
	for _, p := range split(name) {
		add(p)
	}
	return dedupe(out)
}

// dedupe keeps the first of equal strings, in order. Candidates are a
// dozen short strings, for which a linear search is cheaper than a map
// (IsDerived builds one list per account a migration checks); longer
// lists (ContextWords of a store's display name, which can be anything)
// use a map, so the cost stays linear in the input.
func dedupe(in []string) []string {
	out := in[:0]
	if len(in) <= 16 {
		for _, s := range in {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
		return out
	}
	seen := make(map[string]bool, len(in))
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// digits formats a non-negative v with exactly w digits, zero-padded
// (leading digits beyond w are dropped; a birth date never has them).
func digits(v, w int) string {
	b := make([]byte, w)
	for i := w - 1; i >= 0; i-- {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return string(b)
}

// IsDerived reports whether the password behind stored is one of
// Candidates(n). The value is parsed and bounded once; candidates are then
// verified in the order of Candidates (most likely first) and the search
// stops at the first match, so the cost is at most len(Candidates(n))
// verifications of one hash. Expensive schemes take a limiter slot per
// candidate and ctx is checked before each. Locked and empty values report
// false; unsupported values return the Identify error.
func (h *Hasher) IsDerived(ctx context.Context, stored string, p Params, n nrn.Number) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("hash: is-derived: %w", err)
	}
	d, err := h.parse(stored, p)
	if err != nil {
		return false, err
	}
	if !d.usable {
		return false, nil
	}
	cands := Candidates(n)
	budget := h.cfg.DerivedBudget
	if budget > 0 && d.s.name == "bcrypt" && float64(len(cands))*math.Exp2(float64(d.rounds-12)) > budget {
		return false, fmt.Errorf("%w: %d bcrypt-%d checks", ErrOverBudget, len(cands), d.rounds)
	}
	for i, c := range cands {
		ok, took, err := h.checkLimited(ctx, d, []byte(c))
		if err != nil {
			return false, err
		}
		if ok {
			return true, nil
		}
		if i == 0 && budget > 0 && d.s.expensive && d.s.name != "bcrypt" {
			// Judged by the first candidate: the others cost the same.
			unit, err := h.bcrypt12(ctx)
			if err != nil {
				return false, err
			}
			if est := took * time.Duration(len(cands)); float64(est) > budget*float64(unit) {
				return false, fmt.Errorf("%w: %s, about %v for %d candidates", ErrOverBudget, d.name, est.Round(time.Millisecond), len(cands))
			}
		}
	}
	return false, nil
}

// ErrOverBudget is returned by IsDerived when checking a value would cost
// more than Config.DerivedBudget: the value was not (fully) verified.
var ErrOverBudget = errors.New("hash: NRN-derived check over the per-account budget")

// bcrypt12 returns the time one bcrypt-12 verification takes here,
// measured the first time it is needed, under a hashing slot like the
// checks it is compared with (so neither includes waiting for a slot).
func (h *Hasher) bcrypt12(ctx context.Context) (time.Duration, error) {
	h.unitMu.Lock()
	defer h.unitMu.Unlock()
	if h.unit > 0 {
		return h.unit, nil
	}
	release, err := h.acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer release()
	hashed, err := bcrypt.GenerateFromPassword([]byte("overstap-calibration"), 12)
	start := time.Now()
	if err == nil {
		err = bcrypt.CompareHashAndPassword(hashed, []byte("overstap-calibration"))
	}
	h.unit = time.Since(start)
	if err != nil || h.unit <= 0 {
		h.unit = 250 * time.Millisecond
	}
	return h.unit, nil
}

// checkLimited verifies pw against d, under a hashing slot for an
// expensive scheme; took is the verification's own time, without the wait
// for the slot.
func (h *Hasher) checkLimited(ctx context.Context, d *decoded, pw []byte) (ok bool, took time.Duration, err error) {
	if d.s.expensive {
		release, err := h.acquire(ctx)
		if err != nil {
			return false, 0, err
		}
		defer release()
	} else if err := ctx.Err(); err != nil {
		return false, 0, fmt.Errorf("hash: %w", err)
	}
	start := time.Now()
	ok, err = h.check(d, pw)
	return ok, time.Since(start), err
}
