package store

// What every adapter shares beyond the interfaces: where an account's
// national number comes from, what a flag column's "yes" is, the bounds of
// a request, and errors that name the adapter and the account without a
// credential or a clear national number. Exported, so that a vendor's own
// Go adapter follows the same rules.

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/overstap/overstap/auth/nrn"
)

// ResolveNRN fills a.NRN, a.NRNSource and a.NRNProblem from the NRN column
// value (when mapped and not NULL) or else from an NRN-shaped username
// (nrn.Shaped): the one rule of where an account's national number comes
// from, for every adapter.
func (a *Account) ResolveNRN(column string, present bool) {
	if present && strings.TrimSpace(column) != "" {
		n, err := nrn.Parse(column)
		if err == nil {
			a.NRN, a.NRNSource = n, "column"
			return
		}
		a.NRNProblem = nrnProblem(err)
	}
	if n, _ := nrn.Shaped(a.Username); !n.IsZero() {
		a.NRN, a.NRNSource = n, "username"
	}
}

// nrnProblem describes why a value is not a national number, without the
// value: "invalid check digits", "wrong number of digits", ...
func nrnProblem(err error) string {
	switch {
	case errors.Is(err, nrn.ErrChecksum):
		return "invalid check digits"
	case errors.Is(err, nrn.ErrLength):
		return "wrong number of digits"
	case errors.Is(err, nrn.ErrDate):
		return "impossible birth date"
	default:
		return "not a written form of a national number"
	}
}

// Truthy reports whether a flag column's value means "yes": 1, t, true, y,
// yes, j, ja, on, disabled, locked (case-insensitive, trimmed).
func Truthy(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "t", "true", "y", "yes", "j", "ja", "on", "disabled", "locked", "-1":
		return true
	}
	return false
}

// maxIDInMessage bounds how much of an account id an error shows.
const maxIDInMessage = 64

// SafeID renders an account id for an error or log message: quoted,
// truncated, invalid UTF-8 escaped, and any national number in it masked
// (some legacy stores use the national number as primary key).
func SafeID(id string) string {
	if len(id) > maxIDInMessage {
		id = id[:maxIDInMessage] + "..."
	}
	if !utf8.ValidString(id) {
		id = strings.ToValidUTF8(id, "\uFFFD")
	}
	return fmt.Sprintf("%q", nrn.Scrub(id))
}

// Error is an adapter error: it names the adapter (package), the store,
// the operation and the account id, and wraps the cause. Its message is
// redacted: national numbers in the cause's text are masked.
type Error struct {
	Adapter string // "sqlstore", "ldapstore", ...
	Store   string // configured store name
	Op      string // "get", "compare-and-swap", ...
	ID      string // account id, "" when not about one account
	Err     error
}

// Error formats "adapter: store "name": op account "id": cause".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Adapter)
	b.WriteString(": store ")
	b.WriteString(SafeID(e.Store))
	b.WriteString(": ")
	b.WriteString(e.Op)
	if e.ID != "" {
		b.WriteString(" account ")
		b.WriteString(SafeID(e.ID))
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(nrn.Scrub(e.Err.Error()))
	}
	return b.String()
}

// Unwrap returns the cause, so errors.Is finds store.ErrConflict etc.
func (e *Error) Unwrap() error { return e.Err }

// Errorer builds Errors for one adapter instance.
type Errorer struct{ Adapter, Store string }

// Err wraps cause (nil cause gives nil).
func (x Errorer) Err(op, id string, cause error) error {
	if cause == nil {
		return nil
	}
	return &Error{Adapter: x.Adapter, Store: x.Store, Op: op, ID: id, Err: cause}
}

// Errf wraps a formatted cause; use %w to keep a sentinel.
func (x Errorer) Errf(op, id, format string, args ...any) error {
	return &Error{Adapter: x.Adapter, Store: x.Store, Op: op, ID: id, Err: fmt.Errorf(format, args...)}
}

// CheckLimit validates a page size for Iterate.
func CheckLimit(limit int) error {
	if limit <= 0 || limit > MaxLimit {
		return fmt.Errorf("limit %d out of range 1..%d", limit, MaxLimit)
	}
	return nil
}

// MaxLimit bounds one Iterate page, so a caller cannot make an adapter hold
// an unbounded number of accounts in memory.
const MaxLimit = 100_000

// Check validates a Swap's sizes, for an adapter before it touches its
// store.
func (s Swap) Check() error {
	switch {
	case s.ID == "" || len(s.ID) > MaxValue:
		return errors.New("invalid account id")
	case len(s.Old) > MaxValue || len(s.New) > MaxValue:
		return errors.New("credential value too long")
	case s.OldNull && s.Old != "":
		return errors.New("swap with OldNull must have an empty Old")
	}
	return nil
}
