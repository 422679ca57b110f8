package migrate

import (
	"context"
	"time"

	"github.com/overstap/overstap/adapters/store"
	"github.com/overstap/overstap/auth/nrn"
)

// Store is what the engine needs from a user-store adapter
// (adapters/store.Store satisfies it).
type Store interface {
	// Iterate pages through accounts in key order (keyset pagination).
	Iterate(ctx context.Context, after store.Cursor, limit int) ([]store.Account, store.Cursor, error)
	// Get reads one account.
	Get(ctx context.Context, id string) (store.Account, error)
	// SwapBatch applies compare-and-swaps; results[i] is nil, ErrConflict
	// or ErrNotFound.
	SwapBatch(ctx context.Context, swaps []store.Swap) ([]error, error)
	// Name names the store in reports.
	Name() string
	// Capabilities says whether CAS is atomic.
	Capabilities() store.Capabilities
}

// CreationDates is implemented by stores that know when accounts were
// created (sqlstore with columns.created). The created-before filter
// needs it; without it, scan, plan and apply refuse that filter.
type CreationDates interface {
	// HasCreationDates reports whether the store maps a creation date.
	HasCreationDates() bool
	// CreatedAt returns the creation time of those of ids that have a
	// known one; the others are left out (unknown, never guessed).
	CreatedAt(ctx context.Context, ids []string) (map[string]time.Time, error)
}

// Counter is implemented by stores that can count their accounts cheaply
// (sqlstore: SELECT COUNT(*)): progress then shows a total up front.
type Counter interface {
	Count(ctx context.Context) (int64, error)
}

// MultiRowSwapper is implemented by stores whose SwapBatch changes many
// rows with one statement (sqlstore). Unless Config.SwapStreams is set,
// the engine then runs a batch's swaps as one transaction instead of
// splitting them over concurrent ones.
type MultiRowSwapper interface {
	MultiRowSwaps() bool
}

// Strength grades a stored credential.
type Strength string

// Strengths, weakest first.
const (
	StrengthNone       Strength = "none"       // plaintext, unsalted fast digests
	StrengthWeak       Strength = "weak"       // salted fast digests, low-cost schemes
	StrengthAcceptable Strength = "acceptable" // slow schemes below today's cost
	StrengthStrong     Strength = "strong"     // bcrypt/argon2/scrypt at target cost, wrapped
	// StrengthRevoked: no credential left to attack — an overstap
	// revocation marker. Reports show it as fixed, not as "none".
	StrengthRevoked Strength = "revoked"
)

// HashInfo is what Hasher.Identify says about a stored value.
type HashInfo struct {
	Scheme   string
	Strength Strength
	// Usable is true when the value can still verify a password.
	Usable bool
}

// Hasher is what the engine needs from migrate/hash (see HashAdapter).
// Implementations must be safe for concurrent use.
type Hasher interface {
	// Identify names the scheme and strength of a stored value; an error
	// means the value is unsupported or over the cost limits.
	Identify(stored, hint, salt string) (HashInfo, error)
	// IsDerived reports whether the stored value verifies one of the
	// passwords a vendor derives from the national number n.
	IsDerived(ctx context.Context, stored, hint, salt string, n nrn.Number) (bool, error)
	// Wrap returns the stored weak hash wrapped in bcrypt.
	Wrap(ctx context.Context, stored, hint, salt string) (string, error)
}

// Links says which accounts are already linked to a federated identity.
// The links table belongs to the gateway; a nil Links means "unknown".
type Links interface {
	// Linked returns, for the given account IDs, those that are linked.
	Linked(ctx context.Context, storeName string, accountIDs []string) (map[string]bool, error)
}

// AuditEvent is one audit record of a run: started, finished, failed.
// Attrs never hold a national number or a credential.
type AuditEvent struct {
	Time   time.Time
	Type   string // "migrate.scan.start", "migrate.apply.end", ...
	Run    string
	Store  string
	Policy string
	Attrs  map[string]int64
	Status string
}

// Auditor writes audit events (the state store's audit log).
type Auditor interface {
	Audit(ctx context.Context, e AuditEvent) error
}
