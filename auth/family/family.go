package family

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/overstap/overstap/adapters/registry"
	"github.com/overstap/overstap/adapters/state"
	"github.com/overstap/overstap/adapters/store"
	"github.com/overstap/overstap/auth/identity"
	"github.com/overstap/overstap/auth/nrn"
	"github.com/overstap/overstap/auth/ratelimit"
)

// Accounts is the slice of an app's user store the family-data decision
// needs: the national number of the member whose legacy account id is in
// the path.
type Accounts interface {
	Get(ctx context.Context, id string) (store.Account, error)
}

// Auditor records audit events (state.Store).
type Auditor interface {
	Append(ctx context.Context, e state.Event) (state.Entry, error)
}

// Deps are the Service's collaborators.
type Deps struct {
	Store    Store
	Registry registry.Source // nil: registry.None
	// Accounts per app name.
	Accounts map[string]Accounts
	// Limiter counts wrong invitation codes per client IP and per person
	// (nil: an in-memory limiter, 5 wrong codes per 15 minutes).
	Limiter ratelimit.Limiter
	Audit   Auditor
	// RefKey keys national-number references (nrn.Number.Ref); the
	// invitation-code hash key is derived from it.
	RefKey nrn.RefKey
	Logger *slog.Logger
	Now    func() time.Time
	Rand   io.Reader
}

// Service decides family links. Safe for concurrent use.
type Service struct {
	cfg     Config
	level   identity.Level
	apps    map[string]*app
	store   Store
	reg     registry.Source
	limiter ratelimit.Limiter
	audit   Auditor
	refKey  nrn.RefKey
	codeKey []byte
	drafts  cipher.AEAD // seals kept drafts (AES-256-GCM under a key of its own)
	log     *slog.Logger
	now     func() time.Time
	rand    io.Reader
}

type app struct {
	AppConfig
	member   memberPath
	actions  []compiledAction
	scope    Scope
	accounts Accounts
}

type compiledAction struct {
	Action
	path memberPath
}

// New builds the Service; it validates cfg first.
func New(cfg Config, d Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("family: invalid config: %w", err)
	}
	cfg.setDefaults()
	if d.Store == nil {
		return nil, errors.New("family: a store is required")
	}
	if d.RefKey.IsZero() {
		return nil, errors.New("family: a reference key (nrn.RefKey) is required")
	}
	s := &Service{cfg: cfg, apps: map[string]*app{}, store: d.Store, reg: d.Registry, limiter: d.Limiter, audit: d.Audit,
		refKey: d.RefKey, log: d.Logger, now: d.Now, rand: d.Rand}
	s.level, _ = identity.ParseLevel(cfg.StepUp.Level)
	s.codeKey = s.subKey("overstap/family-code-key/v1")
	block, err := aes.NewCipher(s.subKey("overstap/family-draft-key/v1"))
	if err != nil {
		return nil, fmt.Errorf("family: draft key: %w", err)
	}
	if s.drafts, err = cipher.NewGCM(block); err != nil {
		return nil, fmt.Errorf("family: draft key: %w", err)
	}
	if s.reg == nil {
		s.reg = registry.None{}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.limiter == nil {
		lim, err := ratelimit.NewMemory(ratelimit.Config{
			IP:   ratelimit.Rule{Limit: 20, Window: 15 * time.Minute, Ban: 15 * time.Minute},
			User: ratelimit.Rule{Limit: 5, Window: 15 * time.Minute, Ban: 15 * time.Minute}, MaxConsecutive: 20, Now: s.now,
		}, d.RefKey.Bytes())
		if err != nil {
			return nil, fmt.Errorf("family: limiter: %w", err)
		}
		s.limiter = lim
	}
	for _, ac := range cfg.Apps {
		a := &app{AppConfig: ac, accounts: d.Accounts[ac.Name]}
		a.member, _ = compileMemberPath(ac.MemberPath)
		for _, act := range ac.Actions {
			p, _ := compileMemberPath(act.Path)
			a.actions = append(a.actions, compiledAction{Action: act, path: p})
		}
		a.scope, _ = ParseScope("view")
		a.scope.Act = append(a.scope.Act, ac.InviteActions...)
		s.apps[ac.Name] = a
	}
	return s, nil
}

// Config returns the configuration with defaults applied.
func (s *Service) Config() Config { return s.cfg }

func (s *Service) ref(n nrn.Number) string { return n.Ref(s.refKey) }

// subKey derives the key named label from the reference key.
func (s *Service) subKey(label string) []byte {
	m := hmac.New(sha256.New, s.refKey.Bytes())
	m.Write([]byte(label))
	return m.Sum(nil)
}

// record writes an audit event with references only; a failure is logged
// (the decision stands: it is already committed or refused).
func (s *Service) record(ctx context.Context, typ, outcome, actor, target, appName string, details map[string]string) {
	if s.audit == nil {
		return
	}
	if _, err := s.audit.Append(context.WithoutCancel(ctx), state.Event{Type: typ, Outcome: outcome, Actor: actor, Target: target, App: appName, Details: details}); err != nil {
		s.log.Error("family: audit failed", "type", typ, "err", nrn.Scrub(err.Error()))
	}
}

// id is a random identifier of letters only (24 of 26: 112 bits), so it
// never holds a digit run the audit log would take for a national number.
func (s *Service) id() string {
	var b [1]byte
	out := make([]byte, 0, 24)
	for len(out) < 24 {
		if _, err := io.ReadFull(s.rand, b[:]); err != nil {
			panic("family: no randomness: " + err.Error())
		}
		if int(b[0]) >= 256/26*26 {
			continue
		}
		out = append(out, 'a'+b[0]%26)
	}
	return string(out)
}

// safeAccount is a legacy account id for the audit log: an id shaped
// like a national number (apps keyed by it) is not written.
func safeAccount(id string) string {
	if nrn.Holds(id) || len(id) > 128 {
		return "nrn-shaped"
	}
	return id
}

// codeAlphabet has no 0/O or 1/I/L look-alikes: 32 symbols, 5 bits each.
const codeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

// codeLen symbols of 5 bits: 60 bits, far beyond what the attempt limits
// let anyone try.
const codeLen = 12

func (s *Service) newCode() string {
	var b [codeLen]byte
	out := make([]byte, 0, codeLen+2)
	for i := 0; i < codeLen; {
		if _, err := io.ReadFull(s.rand, b[:1]); err != nil {
			panic("family: no randomness: " + err.Error())
		}
		// Rejection sampling keeps the symbols uniform.
		if int(b[0]) >= 256/len(codeAlphabet)*len(codeAlphabet) {
			continue
		}
		if i > 0 && i%4 == 0 {
			out = append(out, '-')
		}
		out = append(out, codeAlphabet[int(b[0])%len(codeAlphabet)])
		i++
	}
	return string(out)
}

// normalizeCode upper-cases a typed code and drops spaces and dashes.
func normalizeCode(c string) (string, bool) {
	var b strings.Builder
	for _, r := range strings.ToUpper(c) {
		switch {
		case r == ' ' || r == '-' || r == '\t':
		case strings.ContainsRune(codeAlphabet, r):
			b.WriteRune(r)
		default:
			return "", false
		}
		if b.Len() > codeLen {
			return "", false
		}
	}
	return b.String(), b.Len() == codeLen
}

func (s *Service) codeHash(normalized string) string {
	m := hmac.New(sha256.New, s.codeKey)
	m.Write([]byte(normalized))
	return hex.EncodeToString(m.Sum(nil))
}

// Outcome of a link request.
type Outcome int

const (
	// Forward: a live grant exists (or the register just made one); the
	// family-add request goes to the app.
	Forward Outcome = iota + 1
	// Invited: not verified; an invitation was made (Code) for the member
	// to approve.
	Invited
	// Self: the requester named themself.
	Self
)

// LinkResult is the decision on a family-add request.
type LinkResult struct {
	Outcome Outcome
	Grant   Grant
	// Code is the one-time invitation code (shown once to the requester),
	// Invitation its record.
	Code       string
	Invitation Invitation
	// RegistryDown is set when the register could not be asked: nothing
	// was linked on its word, consent is still possible.
	RegistryDown bool
}

// RequestLink decides a family-add request of requester for member in app
// (step-up already checked by the caller). An error means the state store
// failed: nothing was linked.
func (s *Service) RequestLink(ctx context.Context, appName string, requester, member nrn.Number) (LinkResult, error) {
	a, ok := s.apps[appName]
	if !ok {
		return LinkResult{}, fmt.Errorf("family: app %q has no family configuration", appName)
	}
	now := s.now()
	rref, mref := s.ref(requester), s.ref(member)
	if requester.Equal(member) {
		s.record(ctx, "family.requested", "refused", rref, mref, appName, map[string]string{"reason": "self"})
		return LinkResult{Outcome: Self}, nil
	}
	if g, err := s.store.LiveGrant(ctx, appName, rref, mref, now); err == nil {
		s.record(ctx, "family.link_forwarded", "success", rref, mref, appName, map[string]string{"grant": g.ID, "basis": g.Basis})
		return LinkResult{Outcome: Forward, Grant: g}, nil
	} else if !errors.Is(err, ErrNotFound) {
		return LinkResult{}, err
	}
	s.record(ctx, "family.requested", "pending", rref, mref, appName, nil)
	rel, ok, err := registry.MinorChildOrWard(ctx, s.reg, requester, member, now)
	down := false
	switch {
	case err == nil:
	case errors.Is(err, registry.ErrNotFound), errors.Is(err, registry.ErrNotConfigured):
		ok = false
	default:
		// Fail closed: no link on the register's word; consent stays possible.
		down, ok = true, false
		s.log.Warn("family: registry unavailable", "registry", s.reg.Name(), "err", nrn.Scrub(err.Error()))
		s.record(ctx, "family.registry_unavailable", "error", rref, mref, appName, map[string]string{"registry": s.reg.Name()})
	}
	if ok {
		g := Grant{ID: s.id(), App: appName, RequesterRef: rref, RequesterMask: requester.Mask(), MemberRef: mref, MemberMask: member.Mask(),
			Scope: a.scope, Basis: string(rel), Status: GrantActive, Created: now, Expires: now.Add(s.cfg.GrantTTL)}
		if rel == registry.Child {
			if p, err := s.reg.Person(ctx, member); err == nil && !p.Birth.IsZero() {
				g.Expires = earliest(g.Expires, registry.Adulthood(p.Birth))
			} else if b, ok := member.Birth(); ok {
				g.Expires = earliest(g.Expires, registry.Adulthood(b))
			}
		}
		g, err := s.store.InsertGrant(ctx, g)
		if err != nil {
			return LinkResult{}, err
		}
		s.noteStoreName(ctx, a, member)
		s.record(ctx, "family.verified_registry", "success", rref, mref, appName, map[string]string{"grant": g.ID, "basis": g.Basis, "registry": s.reg.Name(), "expires": g.Expires.Format(time.RFC3339)})
		return LinkResult{Outcome: Forward, Grant: g}, nil
	}
	code := s.newCode()
	norm, _ := normalizeCode(code)
	inv := Invitation{ID: s.id(), App: appName, RequesterRef: rref, RequesterMask: requester.Mask(), MemberRef: mref, MemberMask: member.Mask(),
		Scope: a.scope, Status: InvPending, Created: now, Expires: now.Add(s.cfg.InvitationTTL)}
	if err := s.store.CreateInvitation(ctx, inv, s.codeHash(norm), s.cfg.MaxPending); err != nil {
		if errors.Is(err, ErrTooMany) {
			s.record(ctx, "family.invited", "refused", rref, mref, appName, map[string]string{"reason": "too_many_pending"})
		}
		return LinkResult{RegistryDown: down}, err
	}
	s.record(ctx, "family.invited", "success", rref, mref, appName, map[string]string{"invitation": inv.ID, "expires": inv.Expires.Format(time.RFC3339), "registry_down": fmt.Sprint(down)})
	return LinkResult{Outcome: Invited, Code: code, Invitation: inv, RegistryDown: down}, nil
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// Errors of Redeem and Decide, each with its own page.
var (
	ErrCodeInvalid = errors.New("family: invitation code unknown")
	ErrCodeExpired = errors.New("family: invitation expired or already used")
	ErrNotForYou   = errors.New("family: this invitation is for someone else")
	ErrLocked      = errors.New("family: invitation locked after wrong attempts")
	ErrRateLimited = errors.New("family: too many wrong codes; try again later")
)

// Redeem opens an invitation by its code for the logged-in member: the
// number the IdP asserted must be the invited one. Wrong codes count
// against the client IP and the person; a right code in the wrong hands
// counts against the invitation, which locks.
func (s *Service) Redeem(ctx context.Context, code string, member nrn.Number, ip string) (Invitation, error) {
	mref := s.ref(member)
	key := "family-code:" + mref
	if d, err := s.limiter.Check(ctx, ip, key); err != nil {
		return Invitation{}, fmt.Errorf("family: limiter: %w", err)
	} else if !d.Allowed {
		s.record(ctx, "family.code_rejected", "refused", mref, "", "", map[string]string{"reason": "rate_limited"})
		return Invitation{}, ErrRateLimited
	}
	fail := func(reason string, inv Invitation, err error) (Invitation, error) {
		_ = s.limiter.Fail(ctx, ip, key)
		s.record(ctx, "family.code_rejected", "refused", mref, inv.MemberRef, inv.App, map[string]string{"reason": reason, "invitation": inv.ID})
		return Invitation{}, err
	}
	norm, ok := normalizeCode(code)
	if !ok {
		return fail("malformed", Invitation{}, ErrCodeInvalid)
	}
	inv, err := s.store.InvitationByCode(ctx, s.codeHash(norm))
	if errors.Is(err, ErrNotFound) {
		return fail("unknown", Invitation{}, ErrCodeInvalid)
	}
	if err != nil {
		return Invitation{}, err
	}
	now := s.now()
	if inv.MemberRef != mref {
		locked, err := s.store.FailAttempt(ctx, inv.ID, s.cfg.MaxAttempts)
		if err != nil {
			return Invitation{}, err
		}
		if locked {
			s.record(ctx, "family.invitation_locked", "refused", inv.RequesterRef, inv.MemberRef, inv.App, map[string]string{"invitation": inv.ID})
		}
		return fail("wrong_person", inv, ErrNotForYou)
	}
	switch inv.Status {
	case InvPending:
	case InvLocked:
		return fail("locked", inv, ErrLocked)
	default:
		return fail("used_"+inv.Status, inv, ErrCodeExpired)
	}
	if !now.Before(inv.Expires) {
		if err := s.store.Expire(ctx, inv.ID, now); err != nil {
			return Invitation{}, err
		}
		s.record(ctx, "family.expired", "refused", inv.RequesterRef, inv.MemberRef, inv.App, map[string]string{"invitation": inv.ID})
		return fail("expired", inv, ErrCodeExpired)
	}
	return inv, nil
}

// Decide approves or declines invitation id for the logged-in member. On
// approval the grant is created in the same transaction; a second decision
// (a replayed form) finds it no longer pending.
func (s *Service) Decide(ctx context.Context, id string, member nrn.Number, approve bool) (Grant, error) {
	mref := s.ref(member)
	inv, err := s.store.InvitationByID(ctx, id)
	if errors.Is(err, ErrNotFound) || (err == nil && inv.MemberRef != mref) {
		s.record(ctx, "family.decision_rejected", "refused", mref, "", "", map[string]string{"reason": "unknown_or_not_for_you"})
		return Grant{}, ErrCodeInvalid
	}
	if err != nil {
		return Grant{}, err
	}
	now := s.now()
	var g *Grant
	if approve {
		g = &Grant{ID: s.id(), App: inv.App, RequesterRef: inv.RequesterRef, RequesterMask: inv.RequesterMask, MemberRef: inv.MemberRef, MemberMask: inv.MemberMask,
			Scope: inv.Scope, Basis: BasisConsent, Status: GrantActive, InvitationID: inv.ID, Created: now, Expires: s.ConsentGrantEnd(member, now)}
	}
	if err := s.store.Decide(ctx, inv.ID, mref, approve, now, g); err != nil {
		if errors.Is(err, ErrNotPending) {
			s.record(ctx, "family.decision_rejected", "refused", mref, inv.RequesterRef, inv.App, map[string]string{"reason": "not_pending", "invitation": inv.ID})
			return Grant{}, ErrCodeExpired
		}
		return Grant{}, err
	}
	if !approve {
		s.record(ctx, "family.declined", "success", mref, inv.RequesterRef, inv.App, map[string]string{"invitation": inv.ID})
		return Grant{}, nil
	}
	s.record(ctx, "family.approved", "success", mref, inv.RequesterRef, inv.App, map[string]string{"invitation": inv.ID, "grant": g.ID, "scope": g.Scope.String(), "expires": g.Expires.Format(time.RFC3339)})
	return *g, nil
}

// Cancel withdraws a pending invitation the requester made.
func (s *Service) Cancel(ctx context.Context, id string, requester nrn.Number) error {
	ref := s.ref(requester)
	inv, err := s.store.Cancel(ctx, id, ref, s.now())
	if err != nil {
		return err
	}
	s.record(ctx, "family.invitation_cancelled", "success", ref, inv.MemberRef, inv.App, map[string]string{"invitation": inv.ID})
	return nil
}

// Pending lists the open invitations the requester made.
func (s *Service) Pending(ctx context.Context, requester nrn.Number) ([]Invitation, error) {
	return s.store.PendingFor(ctx, s.ref(requester), s.now())
}

// ConsentGrantEnd is when a grant the member approves at now ends: after
// grant_ttl, and for a minor at their 18th birthday at the latest.
func (s *Service) ConsentGrantEnd(member nrn.Number, now time.Time) time.Time {
	end := now.Add(s.cfg.GrantTTL)
	if b, ok := member.Birth(); ok && registry.Age(b, now) < 18 {
		end = earliest(end, registry.Adulthood(b))
	}
	return end
}

// Revoke ends grant id on behalf of by (its member or its requester).
func (s *Service) Revoke(ctx context.Context, id string, by nrn.Number) (Grant, error) {
	ref := s.ref(by)
	g, err := s.store.Revoke(ctx, id, ref, false, s.now())
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			s.record(ctx, "family.revoke_rejected", "refused", ref, "", "", map[string]string{"grant": id})
		}
		return Grant{}, err
	}
	s.record(ctx, "family.revoked", "success", ref, other(g, ref), g.App, map[string]string{"grant": g.ID, "by": role(g, ref)})
	return g, nil
}

func other(g Grant, ref string) string {
	if g.MemberRef == ref {
		return g.RequesterRef
	}
	return g.MemberRef
}

func role(g Grant, ref string) string {
	if g.MemberRef == ref {
		return "member"
	}
	return "requester"
}

// AdminRevoke ends grant id for an admin (named for the audit log).
func (s *Service) AdminRevoke(ctx context.Context, id, admin string) (Grant, error) {
	g, err := s.store.Revoke(ctx, id, "admin:"+admin, true, s.now())
	if err != nil {
		return Grant{}, err
	}
	s.record(ctx, "family.revoked", "success", "admin:"+admin, g.MemberRef, g.App, map[string]string{"grant": g.ID, "by": "admin", "requester": g.RequesterRef})
	return g, nil
}

// AdminRevokePerson ends every grant of a person (as member or requester),
// given by national-number reference.
func (s *Service) AdminRevokePerson(ctx context.Context, ref, admin string) ([]Grant, error) {
	gs, err := s.store.RevokePerson(ctx, ref, "admin:"+admin, s.now())
	if err != nil {
		return nil, err
	}
	for _, g := range gs {
		s.record(ctx, "family.revoked", "success", "admin:"+admin, g.MemberRef, g.App, map[string]string{"grant": g.ID, "by": "admin", "requester": g.RequesterRef})
	}
	return gs, nil
}

// Grants lists the grants of a person (as member or requester).
func (s *Service) Grants(ctx context.Context, n nrn.Number) ([]Grant, error) {
	return s.store.Grants(ctx, s.ref(n))
}

// Ref is the person's reference as grants hold it.
func (s *Service) Ref(n nrn.Number) string { return s.ref(n) }

// Access is the decision on a family-data or credential request.
type Access int

// Access decisions.
const (
	AccessOwn     Access = iota + 1 // the path names the requester's own account
	AccessGranted                   // a live grant in scope
	AccessDenied                    // no live grant, or not in its scope
	AccessNoMatch                   // the path names no member (own route)
)

// Authorize decides a family-data request: method and clean path in app,
// by the session's account and national number.
func (s *Service) Authorize(ctx context.Context, appName, method, path, ownAccount string, requester nrn.Number) (Access, Grant, error) {
	a, ok := s.apps[appName]
	if !ok {
		return AccessDenied, Grant{}, nil
	}
	memberID, ok := a.member.match(path)
	if !ok {
		return AccessNoMatch, Grant{}, nil
	}
	if memberID == ownAccount && ownAccount != "" {
		return AccessOwn, Grant{}, nil
	}
	action := ""
	if method != http.MethodGet && method != http.MethodHead {
		action = "-" // nothing but a named action may act
		for _, act := range a.actions {
			if _, ok := act.path.match(path); ok && (len(act.Methods) == 0 || contains(act.Methods, method)) {
				action = act.Name
				break
			}
		}
	}
	rref := s.ref(requester)
	details := map[string]string{"member_account": safeAccount(memberID), "action": orView(action)}
	if a.accounts == nil {
		s.record(ctx, "family.data_blocked", "denied", rref, "", appName, withReason(details, "no_accounts_configured"))
		return AccessDenied, Grant{}, nil
	}
	acc, err := a.accounts.Get(ctx, memberID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && acc.NRN.IsZero()) {
		s.record(ctx, "family.data_blocked", "denied", rref, "", appName, withReason(details, "unknown_member"))
		return AccessDenied, Grant{}, nil
	}
	if err != nil {
		return AccessDenied, Grant{}, fmt.Errorf("family: member account: %w", err)
	}
	mref := s.ref(acc.NRN)
	if mref == rref {
		return AccessOwn, Grant{}, nil
	}
	g, err := s.store.LiveGrant(ctx, appName, rref, mref, s.now())
	if errors.Is(err, ErrNotFound) {
		s.record(ctx, "family.data_blocked", "denied", rref, mref, appName, withReason(details, "no_grant"))
		return AccessDenied, Grant{}, nil
	}
	if err != nil {
		return AccessDenied, Grant{}, err
	}
	if action == "-" || !g.Scope.Allows(action) {
		s.record(ctx, "family.data_blocked", "denied", rref, mref, appName, withReason(details, "out_of_scope"))
		return AccessDenied, g, nil
	}
	details["grant"] = g.ID
	s.record(ctx, "family.data_access", "success", rref, mref, appName, details)
	return AccessGranted, g, nil
}

// Credential decides a credential request: only one's own credential.
// A path naming another member's account is always blocked, grant or not.
func (s *Service) Credential(ctx context.Context, appName, path, ownAccount string, requester nrn.Number) Access {
	a, ok := s.apps[appName]
	if !ok {
		return AccessDenied
	}
	memberID, ok := a.member.match(path)
	if !ok && a.member.claims(path) {
		// Under the member tree but not on the member pattern: the hook
		// cannot tell whose credential this is, so it is nobody's.
		s.record(ctx, "family.credential_blocked", "denied", s.ref(requester), "", appName, map[string]string{"reason": "unplaced_path"})
		return AccessDenied
	}
	if !ok {
		return AccessNoMatch
	}
	if memberID == ownAccount && ownAccount != "" {
		return AccessOwn
	}
	s.record(ctx, "family.credential_blocked", "denied", s.ref(requester), "", appName, map[string]string{"member_account": safeAccount(memberID)})
	return AccessDenied
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func orView(a string) string {
	switch a {
	case "":
		return "view"
	case "-":
		return "unnamed"
	}
	return a
}

func withReason(d map[string]string, r string) map[string]string {
	d["reason"] = r
	return d
}

// Sweep expires the invitations and grants whose time is up and records
// each in the audit log (family.expired). Expiry itself needs no sweep
// (an expired grant is never live); the sweep makes it visible.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	total := 0
	for {
		invs, gs, err := s.store.ExpireDue(ctx, s.now(), 500)
		if err != nil {
			return total, err
		}
		for _, inv := range invs {
			s.record(ctx, "family.expired", "success", inv.RequesterRef, inv.MemberRef, inv.App, map[string]string{"invitation": inv.ID})
		}
		for _, g := range gs {
			s.record(ctx, "family.expired", "success", g.RequesterRef, g.MemberRef, g.App, map[string]string{"grant": g.ID, "basis": g.Basis})
		}
		total += len(invs) + len(gs)
		if len(invs) < 500 && len(gs) < 500 {
			// Kept forms past DraftTTL go too (drafts.go); not counted.
			if _, err := s.store.DropDrafts(ctx, s.now()); err != nil {
				return total, err
			}
			return total, nil
		}
	}
}

// Run sweeps every interval until ctx ends (start it once per gateway
// node; concurrent sweeps are safe).
func (s *Service) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("family: sweep failed", "err", nrn.Scrub(err.Error()))
			}
		}
	}
}
