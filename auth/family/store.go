package family

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/overstap/overstap/adapters/state"
)

//go:embed migrations
var migrations embed.FS

// Migrations is the versioned schema of the invitation and grant tables,
// applied by state.Open as component "family".
func Migrations() state.Migrations {
	return state.Embedded("family", migrations, "migrations")
}

// Invitation statuses.
const (
	InvPending   = "pending"
	InvApproved  = "approved"
	InvDeclined  = "declined"
	InvExpired   = "expired"
	InvLocked    = "locked"
	InvCancelled = "cancelled"
)

// Grant statuses and bases.
const (
	GrantActive  = "active"
	GrantRevoked = "revoked"
	GrantExpired = "expired" // set by Sweep; an active grant past its expiry is not live either

	BasisChild   = "child"   // the register: minor child by descent
	BasisWard    = "ward"    // the register: legal guardianship
	BasisConsent = "consent" // the member approved an invitation
)

// Scope is what a grant allows the requester to do for the member in one
// app: view the member's data (GET/HEAD of family-data routes), and act
// on the named routes of the app's configuration. Credential routes are
// never in a scope.
type Scope struct {
	View bool
	Act  []string
}

// String encodes the scope: "view", "view,act:payments", ...
func (s Scope) String() string {
	var parts []string
	if s.View {
		parts = append(parts, "view")
	}
	for _, a := range s.Act {
		parts = append(parts, "act:"+a)
	}
	return strings.Join(parts, ",")
}

// Allows reports whether the scope holds the action ("" is view).
func (s Scope) Allows(action string) bool {
	if action == "" {
		return s.View
	}
	return slices.Contains(s.Act, action)
}

// ParseScope reads String's form.
func ParseScope(v string) (Scope, error) {
	var s Scope
	for _, p := range strings.Split(v, ",") {
		switch {
		case p == "view":
			s.View = true
		case strings.HasPrefix(p, "act:") && validName(p[4:]):
			s.Act = append(s.Act, p[4:])
		case p == "":
		default:
			return Scope{}, fmt.Errorf("family: bad scope element %q", p)
		}
	}
	sort.Strings(s.Act)
	return s, nil
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Invitation is a consent invitation. The code itself is never stored.
type Invitation struct {
	ID            string
	App           string
	RequesterRef  string
	RequesterMask string
	MemberRef     string
	MemberMask    string
	Scope         Scope
	Status        string
	Attempts      int
	Created       time.Time
	Expires       time.Time
}

// Grant is a verified family link.
type Grant struct {
	ID            string
	App           string
	RequesterRef  string
	RequesterMask string
	MemberRef     string
	MemberMask    string
	Scope         Scope
	Basis         string
	Status        string
	InvitationID  string
	Created       time.Time
	Expires       time.Time
	RevokedAt     time.Time
	RevokedBy     string
}

// Live reports whether the grant is active and not expired at now.
func (g Grant) Live(now time.Time) bool { return g.Status == GrantActive && now.Before(g.Expires) }

// Errors of a Store.
var (
	ErrNotFound   = errors.New("family: not found")
	ErrNotPending = errors.New("family: invitation no longer pending")
	ErrTooMany    = errors.New("family: too many pending invitations")
)

// Store persists invitations and grants. Implementations are safe for
// concurrent use across processes; every state change is one transaction
// (nothing is half-granted).
type Store interface {
	// CreateInvitation records inv (pending) with the code's keyed hash,
	// cancelling an older pending invitation of the same app, requester
	// and member; ErrTooMany when the requester already has max pending.
	CreateInvitation(ctx context.Context, inv Invitation, codeHash string, max int) error
	// InvitationByCode finds an invitation by its code hash (any status).
	InvitationByCode(ctx context.Context, codeHash string) (Invitation, error)
	// InvitationByID finds an invitation by id.
	InvitationByID(ctx context.Context, id string) (Invitation, error)
	// FailAttempt counts a wrong person's use of a pending invitation and
	// locks it at max; it reports whether it is now locked.
	FailAttempt(ctx context.Context, id string, max int) (bool, error)
	// Expire marks a pending invitation expired.
	Expire(ctx context.Context, id string, now time.Time) error
	// Decide approves or declines a pending, unexpired invitation for its
	// member; on approval it inserts g in the same transaction (or, when
	// the pair already has a live grant, sets *g to it).
	// ErrNotPending when it was decided, expired or locked meanwhile.
	Decide(ctx context.Context, id, memberRef string, approve bool, now time.Time, g *Grant) error
	// InsertGrant inserts g unless a live grant of the same app, requester
	// and member exists, which it returns instead.
	InsertGrant(ctx context.Context, g Grant) (Grant, error)
	// LiveGrant returns the live grant of the pair in app, or ErrNotFound.
	LiveGrant(ctx context.Context, app, requesterRef, memberRef string, now time.Time) (Grant, error)
	// Grants lists the grants where ref is requester or member, newest
	// first.
	Grants(ctx context.Context, ref string) ([]Grant, error)
	// PendingFor lists the pending invitations asked by ref.
	PendingFor(ctx context.Context, requesterRef string, now time.Time) ([]Invitation, error)
	// Revoke ends an active grant. by is the revoking person's reference
	// (who must be its member or requester) or, with admin, an admin's
	// name. ErrNotFound when there is no such active grant for them.
	Revoke(ctx context.Context, id, by string, admin bool, now time.Time) (Grant, error)
	// RevokePerson ends every active grant where ref is member or
	// requester (admin).
	RevokePerson(ctx context.Context, ref, by string, now time.Time) ([]Grant, error)
	// Cancel withdraws a pending invitation of requesterRef; ErrNotFound
	// when there is none.
	Cancel(ctx context.Context, id, requesterRef string, now time.Time) (Invitation, error)
	// ExpireDue marks pending invitations and active grants past their
	// expiry as expired and returns them (at most limit of each).
	ExpireDue(ctx context.Context, now time.Time, limit int) ([]Invitation, []Grant, error)
	// SetName records the short name (ShortName) of the person with
	// reference ref, from source NameLogin or NameStore; a store name
	// never replaces a login name.
	SetName(ctx context.Context, ref, name, source string, now time.Time) error
	// Names returns the recorded names of refs (absent: no name known).
	Names(ctx context.Context, refs []string) (map[string]string, error)
	// PutDraft keeps the sealed draft of ownerRef in app until expires,
	// replacing an older one.
	PutDraft(ctx context.Context, ownerRef, app, sealed string, expires time.Time) error
	// TakeDraft removes and returns the draft of ownerRef in app;
	// ErrNotFound when there is none or it expired by now.
	TakeDraft(ctx context.Context, ownerRef, app string, now time.Time) (string, error)
	// DropDrafts removes the drafts expired by now.
	DropDrafts(ctx context.Context, now time.Time) (int64, error)
}

// SQLStore keeps invitations and grants in overstap's state database.
type SQLStore struct {
	db *sql.DB
	d  state.Dialect
}

var _ Store = (*SQLStore)(nil)

// NewSQLStore returns the store in st, which must have been opened with
// Migrations().
func NewSQLStore(st *state.Store) *SQLStore { return &SQLStore{db: st.DB(), d: st.Dialect()} }

func (s *SQLStore) q(x string) string { return s.d.Rebind(x) }

func ns(t time.Time) int64 { return t.UnixNano() }

func fromNS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.Unix(0, v.Int64).UTC()
}

func (s *SQLStore) tx(ctx context.Context, f func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("family: begin: %w", err)
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("family: commit: %w", err)
	}
	return nil
}

// CreateInvitation implements Store.
func (s *SQLStore) CreateInvitation(ctx context.Context, inv Invitation, codeHash string, max int) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		now := ns(inv.Created)
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE family_invitations SET status = 'cancelled', decided_at = ? WHERE app = ? AND requester_ref = ? AND member_ref = ? AND status = 'pending'`),
			now, inv.App, inv.RequesterRef, inv.MemberRef); err != nil {
			return fmt.Errorf("family: invitation: %w", err)
		}
		var n int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM family_invitations WHERE requester_ref = ? AND status = 'pending' AND expires_at > ?`), inv.RequesterRef, now).Scan(&n); err != nil {
			return fmt.Errorf("family: invitation: %w", err)
		}
		if n >= max {
			return ErrTooMany
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO family_invitations (id, code_hash, app, requester_ref, requester_mask, member_ref, member_mask, scope, status, attempts, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)`),
			inv.ID, codeHash, inv.App, inv.RequesterRef, inv.RequesterMask, inv.MemberRef, inv.MemberMask, inv.Scope.String(), now, ns(inv.Expires))
		if err != nil {
			return fmt.Errorf("family: invitation: %w", err)
		}
		return nil
	})
}

const invCols = `id, app, requester_ref, requester_mask, member_ref, member_mask, scope, status, attempts, created_at, expires_at`

// scanner and querier are the state database's row and query (a
// *sql.Row or *sql.Rows; a *sql.DB or *sql.Tx).
type (
	scanner = state.Scanner
	querier = state.Querier
)

// queryAll runs query on q and scans every row with scan (state.QueryAll:
// no partial list with an error); what names the query in the error.
func queryAll[T any](ctx context.Context, q querier, what string, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	out, err := state.QueryAll(ctx, q, query, args, scan)
	if err != nil {
		return nil, fmt.Errorf("family: %s: %w", what, err)
	}
	return out, nil
}

func scanInvitation(r scanner) (Invitation, error) {
	var inv Invitation
	var scope string
	var created, expires sql.NullInt64
	if err := r.Scan(&inv.ID, &inv.App, &inv.RequesterRef, &inv.RequesterMask, &inv.MemberRef, &inv.MemberMask, &scope, &inv.Status, &inv.Attempts, &created, &expires); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Invitation{}, ErrNotFound
		}
		return Invitation{}, fmt.Errorf("family: invitation: %w", err)
	}
	inv.Scope, _ = ParseScope(scope)
	inv.Created, inv.Expires = fromNS(created), fromNS(expires)
	return inv, nil
}

// InvitationByCode implements Store.
func (s *SQLStore) InvitationByCode(ctx context.Context, codeHash string) (Invitation, error) {
	return scanInvitation(s.db.QueryRowContext(ctx, s.q(`SELECT `+invCols+` FROM family_invitations WHERE code_hash = ?`), codeHash))
}

// InvitationByID implements Store.
func (s *SQLStore) InvitationByID(ctx context.Context, id string) (Invitation, error) {
	return scanInvitation(s.db.QueryRowContext(ctx, s.q(`SELECT `+invCols+` FROM family_invitations WHERE id = ?`), id))
}

// PendingFor implements Store.
func (s *SQLStore) PendingFor(ctx context.Context, requesterRef string, now time.Time) ([]Invitation, error) {
	return queryAll(ctx, s.db, "invitations", scanInvitation,
		s.q(`SELECT `+invCols+` FROM family_invitations WHERE requester_ref = ? AND status = 'pending' AND expires_at > ? ORDER BY created_at DESC LIMIT 100`), requesterRef, ns(now))
}

// FailAttempt implements Store.
func (s *SQLStore) FailAttempt(ctx context.Context, id string, max int) (bool, error) {
	locked := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var attempts int
		var status string
		err := tx.QueryRowContext(ctx, s.q(`SELECT attempts, status FROM family_invitations WHERE id = ?`+s.forUpdate()), id).Scan(&attempts, &status)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("family: invitation: %w", err)
		}
		attempts++
		if status == InvPending && attempts >= max {
			status, locked = InvLocked, true
		}
		_, err = tx.ExecContext(ctx, s.q(`UPDATE family_invitations SET attempts = ?, status = ? WHERE id = ?`), attempts, status, id)
		if err != nil {
			return fmt.Errorf("family: invitation: %w", err)
		}
		locked = locked || status == InvLocked
		return nil
	})
	return locked, err
}

func (s *SQLStore) forUpdate() string {
	if s.d == state.Postgres {
		return " FOR UPDATE"
	}
	return "" // SQLite: BEGIN IMMEDIATE already holds the write lock
}

// Expire implements Store.
func (s *SQLStore) Expire(ctx context.Context, id string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE family_invitations SET status = 'expired', decided_at = ? WHERE id = ? AND status = 'pending'`), ns(now), id)
	if err != nil {
		return fmt.Errorf("family: invitation: %w", err)
	}
	return nil
}

// Decide implements Store.
func (s *SQLStore) Decide(ctx context.Context, id, memberRef string, approve bool, now time.Time, g *Grant) error {
	status := InvDeclined
	if approve {
		status = InvApproved
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE family_invitations SET status = ?, decided_at = ? WHERE id = ? AND member_ref = ? AND status = 'pending' AND expires_at > ?`),
			status, ns(now), id, memberRef, ns(now))
		if err != nil {
			return fmt.Errorf("family: decide: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("family: decide: %w", err)
		} else if n != 1 {
			return ErrNotPending
		}
		if !approve || g == nil {
			return nil
		}
		// A live grant of the pair (from the register, or an earlier
		// consent) stays the one grant; the approval is recorded.
		out, err := s.insertGrant(ctx, tx, *g)
		if err != nil {
			return err
		}
		*g = out
		return nil
	})
}

// insertGrant inserts g unless a live grant of the pair exists, which it
// returns instead; an active grant past its expiry is marked expired
// first (the unique index allows one active grant per pair).
func (s *SQLStore) insertGrant(ctx context.Context, tx *sql.Tx, g Grant) (Grant, error) {
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE family_grants SET status = 'expired' WHERE app = ? AND requester_ref = ? AND member_ref = ? AND status = 'active' AND expires_at <= ?`),
		g.App, g.RequesterRef, g.MemberRef, ns(g.Created)); err != nil {
		return Grant{}, fmt.Errorf("family: grant: %w", err)
	}
	ex, err := scanGrant(tx.QueryRowContext(ctx, s.q(`SELECT `+grantCols+` FROM family_grants WHERE app = ? AND requester_ref = ? AND member_ref = ? AND status = 'active'`+s.forUpdate()),
		g.App, g.RequesterRef, g.MemberRef))
	switch {
	case err == nil:
		return ex, nil
	case !errors.Is(err, ErrNotFound):
		return Grant{}, err
	}
	var inv any
	if g.InvitationID != "" {
		inv = g.InvitationID
	}
	_, err = tx.ExecContext(ctx, s.q(`INSERT INTO family_grants (id, app, requester_ref, requester_mask, member_ref, member_mask, scope, basis, status, invitation_id, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?)`),
		g.ID, g.App, g.RequesterRef, g.RequesterMask, g.MemberRef, g.MemberMask, g.Scope.String(), g.Basis, inv, ns(g.Created), ns(g.Expires))
	if err != nil {
		return Grant{}, fmt.Errorf("family: grant: %w", err)
	}
	g.Status = GrantActive
	return g, nil
}

// InsertGrant implements Store. Two nodes inserting the same pair at once
// meet at the unique index: the loser reads the winner's grant.
func (s *SQLStore) InsertGrant(ctx context.Context, g Grant) (Grant, error) {
	var out Grant
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = s.insertGrant(ctx, tx, g)
		return err
	})
	if err != nil {
		if ex, lerr := s.LiveGrant(ctx, g.App, g.RequesterRef, g.MemberRef, g.Created); lerr == nil {
			return ex, nil
		}
		return Grant{}, err
	}
	return out, nil
}

const grantCols = `id, app, requester_ref, requester_mask, member_ref, member_mask, scope, basis, status, invitation_id, created_at, expires_at, revoked_at, revoked_by`

func scanGrant(r scanner) (Grant, error) {
	var g Grant
	var scope string
	var inv, by sql.NullString
	var created, expires, revoked sql.NullInt64
	if err := r.Scan(&g.ID, &g.App, &g.RequesterRef, &g.RequesterMask, &g.MemberRef, &g.MemberMask, &scope, &g.Basis, &g.Status, &inv, &created, &expires, &revoked, &by); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Grant{}, ErrNotFound
		}
		return Grant{}, fmt.Errorf("family: grant: %w", err)
	}
	g.Scope, _ = ParseScope(scope)
	g.InvitationID, g.RevokedBy = inv.String, by.String
	g.Created, g.Expires, g.RevokedAt = fromNS(created), fromNS(expires), fromNS(revoked)
	return g, nil
}

// LiveGrant implements Store.
func (s *SQLStore) LiveGrant(ctx context.Context, app, requesterRef, memberRef string, now time.Time) (Grant, error) {
	return scanGrant(s.db.QueryRowContext(ctx, s.q(`SELECT `+grantCols+` FROM family_grants WHERE app = ? AND requester_ref = ? AND member_ref = ? AND status = 'active' AND expires_at > ? ORDER BY created_at DESC LIMIT 1`),
		app, requesterRef, memberRef, ns(now)))
}

// Grants implements Store.
func (s *SQLStore) Grants(ctx context.Context, ref string) ([]Grant, error) {
	return queryAll(ctx, s.db, "grants", scanGrant,
		s.q(`SELECT `+grantCols+` FROM family_grants WHERE member_ref = ? OR requester_ref = ? ORDER BY created_at DESC LIMIT 200`), ref, ref)
}

// Revoke implements Store.
func (s *SQLStore) Revoke(ctx context.Context, id, by string, admin bool, now time.Time) (Grant, error) {
	var g Grant
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		g, err = scanGrant(tx.QueryRowContext(ctx, s.q(`SELECT `+grantCols+` FROM family_grants WHERE id = ? AND status = 'active'`+s.forUpdate()), id))
		if err != nil {
			return err
		}
		if !admin && g.MemberRef != by && g.RequesterRef != by {
			return ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE family_grants SET status = 'revoked', revoked_at = ?, revoked_by = ? WHERE id = ? AND status = 'active'`), ns(now), by, id); err != nil {
			return fmt.Errorf("family: revoke: %w", err)
		}
		g.Status, g.RevokedAt, g.RevokedBy = GrantRevoked, now, by
		return nil
	})
	return g, err
}

// RevokePerson implements Store.
func (s *SQLStore) RevokePerson(ctx context.Context, ref, by string, now time.Time) ([]Grant, error) {
	var out []Grant
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = queryAll(ctx, tx, "revoke", scanGrant,
			s.q(`SELECT `+grantCols+` FROM family_grants WHERE (member_ref = ? OR requester_ref = ?) AND status = 'active'`+s.forUpdate()), ref, ref)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE family_grants SET status = 'revoked', revoked_at = ?, revoked_by = ? WHERE (member_ref = ? OR requester_ref = ?) AND status = 'active'`), ns(now), by, ref, ref); err != nil {
			return fmt.Errorf("family: revoke: %w", err)
		}
		return nil
	})
	for i := range out {
		out[i].Status, out[i].RevokedAt, out[i].RevokedBy = GrantRevoked, now, by
	}
	return out, err
}

// ExpireDue implements Store.
func (s *SQLStore) ExpireDue(ctx context.Context, now time.Time, limit int) ([]Invitation, []Grant, error) {
	var invs []Invitation
	var gs []Grant
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		invs, err = queryAll(ctx, tx, "expire", scanInvitation,
			s.q(`SELECT `+invCols+` FROM family_invitations WHERE status = 'pending' AND expires_at <= ? ORDER BY expires_at LIMIT ?`+s.forUpdate()), ns(now), limit)
		if err != nil {
			return err
		}
		gs, err = queryAll(ctx, tx, "expire", scanGrant,
			s.q(`SELECT `+grantCols+` FROM family_grants WHERE status = 'active' AND expires_at <= ? ORDER BY expires_at LIMIT ?`+s.forUpdate()), ns(now), limit)
		if err != nil {
			return err
		}
		for _, inv := range invs {
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE family_invitations SET status = 'expired', decided_at = ? WHERE id = ? AND status = 'pending'`), ns(now), inv.ID); err != nil {
				return fmt.Errorf("family: expire: %w", err)
			}
		}
		for _, g := range gs {
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE family_grants SET status = 'expired' WHERE id = ? AND status = 'active'`), g.ID); err != nil {
				return fmt.Errorf("family: expire: %w", err)
			}
		}
		return nil
	})
	return invs, gs, err
}

// Cancel implements Store.
func (s *SQLStore) Cancel(ctx context.Context, id, requesterRef string, now time.Time) (Invitation, error) {
	var inv Invitation
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		inv, err = scanInvitation(tx.QueryRowContext(ctx, s.q(`SELECT `+invCols+` FROM family_invitations WHERE id = ? AND requester_ref = ? AND status = 'pending'`+s.forUpdate()), id, requesterRef))
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.q(`UPDATE family_invitations SET status = 'cancelled', decided_at = ? WHERE id = ? AND status = 'pending'`), ns(now), id)
		if err != nil {
			return fmt.Errorf("family: cancel: %w", err)
		}
		inv.Status = InvCancelled
		return nil
	})
	return inv, err
}

// SetName implements Store.
func (s *SQLStore) SetName(ctx context.Context, ref, name, source string, now time.Time) error {
	// The condition keeps a login name from being replaced by a store
	// name, and skips the write when nothing changes.
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO family_names (ref, name, source, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (ref) DO UPDATE SET name = excluded.name, source = excluded.source, updated_at = excluded.updated_at
		WHERE (family_names.source = 'store' OR excluded.source = 'login') AND (family_names.name <> excluded.name OR family_names.source <> excluded.source)`),
		ref, name, source, ns(now))
	if err != nil {
		return fmt.Errorf("family: name: %w", err)
	}
	return nil
}

// Names implements Store.
func (s *SQLStore) Names(ctx context.Context, refs []string) (map[string]string, error) {
	out := map[string]string{}
	if len(refs) == 0 {
		return out, nil
	}
	args := make([]any, len(refs))
	for i, r := range refs {
		args[i] = r
	}
	type row struct{ ref, name string }
	rows, err := queryAll(ctx, s.db, "names", func(r scanner) (x row, err error) {
		err = r.Scan(&x.ref, &x.name)
		return
	}, s.q(`SELECT ref, name FROM family_names WHERE ref IN (?`+strings.Repeat(", ?", len(refs)-1)+`)`), args...)
	if err != nil {
		return nil, err
	}
	for _, x := range rows {
		out[x.ref] = x.name
	}
	return out, nil
}

// PutDraft implements Store.
func (s *SQLStore) PutDraft(ctx context.Context, ownerRef, app, sealed string, expires time.Time) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO family_drafts (owner_ref, app, sealed, expires_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (owner_ref, app) DO UPDATE SET sealed = excluded.sealed, expires_at = excluded.expires_at`), ownerRef, app, sealed, ns(expires))
	if err != nil {
		return fmt.Errorf("family: draft: %w", err)
	}
	return nil
}

// TakeDraft implements Store.
func (s *SQLStore) TakeDraft(ctx context.Context, ownerRef, app string, now time.Time) (string, error) {
	var sealed string
	var expires int64
	err := s.db.QueryRowContext(ctx, s.q(`DELETE FROM family_drafts WHERE owner_ref = ? AND app = ? RETURNING sealed, expires_at`), ownerRef, app).Scan(&sealed, &expires)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", ErrNotFound
	case err != nil:
		return "", fmt.Errorf("family: draft: %w", err)
	case expires <= ns(now):
		return "", ErrNotFound
	}
	return sealed, nil
}

// DropDrafts implements Store.
func (s *SQLStore) DropDrafts(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM family_drafts WHERE expires_at <= ?`), ns(now))
	if err != nil {
		return 0, fmt.Errorf("family: draft: %w", err)
	}
	return res.RowsAffected()
}
