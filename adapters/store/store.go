package store

import (
	"context"
	"errors"

	"github.com/overstap/overstap/auth/nrn"
)

// Account is one legacy user account as a store adapter reads it. Values are
// copied out of the vendor's store; changing them changes nothing there.
type Account struct {
	// ID is the store's primary key, as text. Adapters iterate in ID order
	// (byte-wise for text keys, numeric order for integer keys).
	ID string
	// Username is the login name the legacy app uses.
	Username string
	// NRN is the national number from the mapped NRN column, or else parsed
	// from an NRN-shaped username; zero when neither gives a valid number.
	NRN nrn.Number
	// NRNSource says where NRN came from: "column", "username" or "".
	NRNSource string
	// NRNProblem describes an NRN column value that is present but invalid
	// (never the value itself): "" when fine or absent.
	NRNProblem string
	// Credential is the stored password value exactly as read (hash,
	// plaintext, marker). Compare-and-swap compares against this value.
	Credential string
	// CredentialNull is true when the credential column is NULL.
	CredentialNull bool
	// Salt is the separate salt column's value, when mapped.
	Salt string
	// SchemeHint is the store's configured hash scheme for values that do not
	// describe themselves (e.g. "md5(salt+password)", "plaintext"); empty
	// means "identify from the value".
	SchemeHint string
	// Name is a display name, when mapped.
	Name string
	// Disabled is true when the store marks the account disabled/locked.
	Disabled bool
	// Federated is the mapped "federated" flag, when the store has one.
	Federated bool
}

// Cursor is an opaque position in key order: the ID of the last account
// returned. The zero Cursor is the start.
type Cursor string

// Capabilities says what an adapter can do, so the gateway and the bulk
// engine can refuse work it cannot do safely.
type Capabilities struct {
	// AtomicCAS is true when CompareAndSwap is atomic in the store itself
	// (a conditional UPDATE, an LDAP modify with delete-old-value). Adapters
	// without it (CSV) write change requests for the vendor to import.
	AtomicCAS bool
	// Federated is true when a federated flag is mapped.
	Federated bool
	// Transactions is true when SwapBatch runs as one transaction.
	Transactions bool
}

// MaxValue bounds the length of any value an adapter accepts from a caller
// (username, id, credential): 64 KiB. A caller checks it up front (the
// migration lists longer values instead of sending them).
const MaxValue = 64 << 10

// Swap is one compare-and-swap request: set the credential of account ID to
// New only if it still equals Old (and is NULL iff OldNull).
type Swap struct {
	ID      string
	Old     string
	OldNull bool
	New     string
}

// Errors adapters return; callers branch with errors.Is. Adapter errors name
// the adapter and the account ID and never contain a credential or a clear
// national number.
var (
	// ErrNotFound: no account matches.
	ErrNotFound = errors.New("store: account not found")
	// ErrConflict: the stored credential no longer equals the expected old
	// value — someone else changed it; nothing was written.
	ErrConflict = errors.New("store: credential changed concurrently")
	// ErrAmbiguous: more than one account matches a lookup that must be
	// unique (two accounts for one national number).
	ErrAmbiguous = errors.New("store: more than one account matches")
	// ErrUnsupported: the adapter cannot do this (see Capabilities).
	ErrUnsupported = errors.New("store: operation not supported by this adapter")
)

// Reader reads accounts.
type Reader interface {
	// Iterate returns up to limit accounts with ID after cursor, in key
	// order, and the cursor to continue from ("" when there are no more).
	Iterate(ctx context.Context, after Cursor, limit int) ([]Account, Cursor, error)
	// LookupByNRN returns every account of that national number (from the
	// NRN column, or an NRN-shaped username in any written form). No match is
	// an empty slice, not an error; the caller decides what two matches mean.
	LookupByNRN(ctx context.Context, n nrn.Number) ([]Account, error)
	// LookupByUsername returns the account with that username, ErrNotFound,
	// or ErrAmbiguous.
	LookupByUsername(ctx context.Context, username string) (Account, error)
	// Get returns the account with that ID or ErrNotFound.
	Get(ctx context.Context, id string) (Account, error)
}

// Writer changes credentials, never anything else but the federated flag.
type Writer interface {
	// CompareAndSwap sets the credential when it still equals s.Old; it
	// returns ErrConflict when it does not, ErrNotFound when the account is
	// gone.
	CompareAndSwap(ctx context.Context, s Swap) error
	// SwapBatch applies many swaps, in one transaction where the adapter
	// supports it; results[i] is nil, ErrConflict or ErrNotFound for swaps[i].
	// The returned error is for the batch as a whole (connection lost):
	// then nothing of the batch may be assumed written (transactional
	// adapters roll back).
	SwapBatch(ctx context.Context, swaps []Swap) (results []error, err error)
	// SetFederated sets the federated flag; ErrUnsupported when unmapped.
	SetFederated(ctx context.Context, id string, federated bool) error
}

// Store is a complete user-store adapter.
type Store interface {
	Reader
	Writer
	// Name is the configured name of the store, for messages and reports.
	Name() string
	// Capabilities says what the adapter can do.
	Capabilities() Capabilities
	// Close releases connections.
	Close() error
}
