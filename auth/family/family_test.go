package family_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/overstap/overstap/auth/devidp"
	"github.com/overstap/overstap/auth/family"
	"github.com/overstap/overstap/auth/nrn"
)

func TestRegistryMinorChild(t *testing.T) {
	e := newEnv(t, envOpt{})
	ctx := context.Background()
	res, err := e.svc.RequestLink(ctx, "eloket", e.who[devidp.PersonaParentA], e.who[devidp.PersonaMinor])
	if err != nil || res.Outcome != family.Forward || res.Grant.Basis != family.BasisChild || !res.Grant.Scope.View {
		t.Fatalf("%+v %v", res, err)
	}
	if want := e.clock.Now().Add(family.DefaultGrantTTL); !res.Grant.Expires.Equal(want) {
		t.Fatalf("expires %v, want %v (2 years, before the 18th birthday)", res.Grant.Expires, want)
	}
	// The second request finds the live grant: no second grant.
	again, err := e.svc.RequestLink(ctx, "eloket", e.who[devidp.PersonaParentA], e.who[devidp.PersonaMinor])
	if err != nil || again.Outcome != family.Forward || again.Grant.ID != res.Grant.ID {
		t.Fatalf("again: %+v %v", again, err)
	}
	// Both parents by descent.
	if res, err := e.svc.RequestLink(ctx, "eloket", e.who[devidp.PersonaParentB], e.who[devidp.PersonaMinor]); err != nil || res.Outcome != family.Forward {
		t.Fatalf("parent B: %+v %v", res, err)
	}
	if n := len(e.audit(t, "family.verified_registry")); n != 2 {
		t.Fatalf("%d verified_registry events", n)
	}
}

func TestGrantEndsAtEighteen(t *testing.T) {
	e := newEnv(t, envOpt{})
	res, err := e.svc.RequestLink(context.Background(), "eloket", e.who[devidp.PersonaParentA], e.seventeen)
	if err != nil || res.Outcome != family.Forward {
		t.Fatalf("%+v %v", res, err)
	}
	b, _ := e.seventeen.Birth()
	if !res.Grant.Expires.Equal(b.AddDate(18, 0, 0)) {
		t.Fatalf("expires %v, want the 18th birthday %v", res.Grant.Expires, b.AddDate(18, 0, 0))
	}
	e.clock.Advance(31 * 24 * time.Hour)
	acc, _, err := e.svc.Authorize(context.Background(), "eloket", "GET", "/family/seventeen", devidp.PersonaParentA, e.who[devidp.PersonaParentA])
	if err != nil || acc != family.AccessDenied {
		t.Fatalf("after the 18th birthday: %v %v", acc, err)
	}
}

func TestConsentNeeded(t *testing.T) {
	e := newEnv(t, envOpt{})
	for _, c := range []struct{ name, requester, member string }{
		{"adult child", devidp.PersonaParentA, devidp.PersonaAdult},
		{"roommate", devidp.PersonaParentA, devidp.PersonaRoommate},
		{"roommate asks for the minor", devidp.PersonaRoommate, devidp.PersonaMinor},
		{"spouse", devidp.PersonaParentA, devidp.PersonaParentB},
		{"child asks for parent", devidp.PersonaAdult, devidp.PersonaParentA},
		{"stranger", devidp.PersonaParentA, devidp.PersonaUnrelated},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := e.svc.RequestLink(context.Background(), "eloket", e.who[c.requester], e.who[c.member])
			if err != nil || res.Outcome != family.Invited || res.RegistryDown || len(res.Code) != 14 {
				t.Fatalf("%+v %v", res, err)
			}
			if _, err := e.store.LiveGrant(context.Background(), "eloket", e.ref(c.requester), e.ref(c.member), e.clock.Now()); !isErr(err, family.ErrNotFound) {
				t.Fatalf("a grant exists: %v", err)
			}
		})
	}
}

func TestSelf(t *testing.T) {
	e := newEnv(t, envOpt{})
	res, err := e.svc.RequestLink(context.Background(), "eloket", e.who[devidp.PersonaParentA], e.who[devidp.PersonaParentA])
	if err != nil || res.Outcome != family.Self {
		t.Fatalf("%+v %v", res, err)
	}
}

func TestRegistryUnavailableFailsClosed(t *testing.T) {
	e := newEnv(t, envOpt{reg: downRegistry{}})
	res, err := e.svc.RequestLink(context.Background(), "eloket", e.who[devidp.PersonaParentA], e.who[devidp.PersonaMinor])
	if err != nil || res.Outcome != family.Invited || !res.RegistryDown {
		t.Fatalf("%+v %v", res, err)
	}
	if len(e.audit(t, "family.registry_unavailable")) != 1 {
		t.Fatal("no audit of the unavailable register")
	}
	// Consent still works.
	e.approve(t, res.Code, devidp.PersonaMinor)
}

func TestConsentFlow(t *testing.T) {
	e := newEnv(t, envOpt{})
	ctx := context.Background()
	code := e.invite(t, "eloket", devidp.PersonaParentA, devidp.PersonaUnrelated)
	inv, err := e.svc.Redeem(ctx, strings.ToLower(strings.ReplaceAll(code, "-", " ")), e.who[devidp.PersonaUnrelated], "127.0.0.1")
	if err != nil || inv.RequesterMask != e.who[devidp.PersonaParentA].Mask() || inv.App != "eloket" {
		t.Fatalf("redeem (typed loosely): %+v %v", inv, err)
	}
	g, err := e.svc.Decide(ctx, inv.ID, e.who[devidp.PersonaUnrelated], true)
	if err != nil || g.Basis != family.BasisConsent || !g.Live(e.clock.Now()) || !g.Expires.Equal(e.clock.Now().Add(family.DefaultGrantTTL)) {
		t.Fatalf("%+v %v", g, err)
	}
	res, err := e.svc.RequestLink(ctx, "eloket", e.who[devidp.PersonaParentA], e.who[devidp.PersonaUnrelated])
	if err != nil || res.Outcome != family.Forward || res.Grant.ID != g.ID {
		t.Fatalf("link after consent: %+v %v", res, err)
	}
	acc, _, err := e.svc.Authorize(ctx, "eloket", "GET", "/family/unrelated", devidp.PersonaParentA, e.who[devidp.PersonaParentA])
	if err != nil || acc != family.AccessGranted {
		t.Fatalf("data: %v %v", acc, err)
	}
	// Member lists and revokes.
	gs, err := e.svc.Grants(ctx, e.who[devidp.PersonaUnrelated])
	if err != nil || len(gs) != 1 || gs[0].ID != g.ID {
		t.Fatalf("grants: %+v %v", gs, err)
	}
	if _, err := e.svc.Revoke(ctx, g.ID, e.who[devidp.PersonaRoommate]); !isErr(err, family.ErrNotFound) {
		t.Fatalf("a third person revoked: %v", err)
	}
	if _, err := e.svc.Revoke(ctx, g.ID, e.who[devidp.PersonaUnrelated]); err != nil {
		t.Fatal(err)
	}
	acc, _, _ = e.svc.Authorize(ctx, "eloket", "GET", "/family/unrelated", devidp.PersonaParentA, e.who[devidp.PersonaParentA])
	if acc != family.AccessDenied {
		t.Fatalf("after revoke: %v", acc)
	}
	for _, typ := range []string{"family.requested", "family.invited", "family.approved", "family.revoked", "family.data_access", "family.data_blocked"} {
		if len(e.audit(t, typ)) == 0 {
			t.Errorf("no %s audit event", typ)
		}
	}
}

func TestDecline(t *testing.T) {
	e := newEnv(t, envOpt{})
	code := e.invite(t, "eloket", devidp.PersonaParentA, devidp.PersonaAdult)
	inv, err := e.svc.Redeem(context.Background(), code, e.who[devidp.PersonaAdult], "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Decide(context.Background(), inv.ID, e.who[devidp.PersonaAdult], false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Decide(context.Background(), inv.ID, e.who[devidp.PersonaAdult], true); !isErr(err, family.ErrCodeExpired) {
		t.Fatalf("approve after decline: %v", err)
	}
	if gs, _ := e.svc.Grants(context.Background(), e.who[devidp.PersonaAdult]); len(gs) != 0 {
		t.Fatalf("grants after decline: %v", gs)
	}
	if len(e.audit(t, "family.declined")) != 1 {
		t.Fatal("no declined event")
	}
}

// TestAttacks is the attack table on the decision service (the request
// parsing attacks are in TestExtractMemberAttacks, the gateway-level ones
// in internal/demo).
func TestAttacks(t *testing.T) {
	ctx := context.Background()
	t.Run("code replayed", func(t *testing.T) {
		e, code := newInvited(t)
		e.approve(t, code, devidp.PersonaUnrelated)
		if _, err := e.svc.Redeem(ctx, code, e.who[devidp.PersonaUnrelated], "127.0.0.1"); !isErr(err, family.ErrCodeExpired) {
			t.Fatalf("replayed code: %v", err)
		}
		gs, _ := e.svc.Grants(ctx, e.who[devidp.PersonaUnrelated])
		if len(gs) != 1 {
			t.Fatalf("%d grants", len(gs))
		}
	})
	t.Run("decision replayed", func(t *testing.T) {
		e, code := newInvited(t)
		inv, _ := e.svc.Redeem(ctx, code, e.who[devidp.PersonaUnrelated], "127.0.0.1")
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Add(1)
			go func() { defer wg.Done(); _, errs[i] = e.svc.Decide(ctx, inv.ID, e.who[devidp.PersonaUnrelated], true) }()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else if !isErr(err, family.ErrCodeExpired) {
				t.Errorf("decide: %v", err)
			}
		}
		gs, _ := e.svc.Grants(ctx, e.who[devidp.PersonaUnrelated])
		if ok != 1 || len(gs) != 1 {
			t.Fatalf("%d approvals succeeded, %d grants; want 1 and 1", ok, len(gs))
		}
	})
	t.Run("code brute-forced", func(t *testing.T) {
		e, code := newInvited(t)
		refused := false
		for i := 0; i < 50; i++ {
			guess := strings.Repeat("A", 11) + string("ABCDEFGHJKMNPQRSTUVWXYZ23456789"[i%31])
			_, err := e.svc.Redeem(ctx, guess, e.who[devidp.PersonaUnrelated], "127.0.0.1")
			if isErr(err, family.ErrRateLimited) {
				refused = true
				break
			}
			if !isErr(err, family.ErrCodeInvalid) {
				t.Fatalf("guess %d: %v", i, err)
			}
		}
		if !refused {
			t.Fatal("50 wrong codes never rate-limited")
		}
		// Even the right code is refused while banned.
		if _, err := e.svc.Redeem(ctx, code, e.who[devidp.PersonaUnrelated], "127.0.0.1"); !isErr(err, family.ErrRateLimited) {
			t.Fatalf("right code while banned: %v", err)
		}
		if len(e.audit(t, "family.code_rejected")) < 5 {
			t.Fatal("wrong codes not audited")
		}
	})
	t.Run("code used after expiry", func(t *testing.T) {
		e, code := newInvited(t)
		e.clock.Advance(family.DefaultInvitationTTL + time.Second)
		if _, err := e.svc.Redeem(ctx, code, e.who[devidp.PersonaUnrelated], "127.0.0.1"); !isErr(err, family.ErrCodeExpired) {
			t.Fatalf("expired code: %v", err)
		}
		if len(e.audit(t, "family.expired")) != 1 {
			t.Fatal("no expired event")
		}
	})
	t.Run("code opened then approved after expiry", func(t *testing.T) {
		e, code := newInvited(t)
		inv, err := e.svc.Redeem(ctx, code, e.who[devidp.PersonaUnrelated], "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(family.DefaultInvitationTTL)
		if _, err := e.svc.Decide(ctx, inv.ID, e.who[devidp.PersonaUnrelated], true); !isErr(err, family.ErrCodeExpired) {
			t.Fatalf("approve after expiry: %v", err)
		}
	})
	t.Run("code used by a third person", func(t *testing.T) {
		e, code := newInvited(t)
		for i := 0; i < family.DefaultMaxAttempts; i++ {
			if _, err := e.svc.Redeem(ctx, code, e.who[devidp.PersonaRoommate], "127.0.0.2"); !isErr(err, family.ErrNotForYou) {
				t.Fatalf("third person: %v", err)
			}
		}
		// The invitation is now locked, also for the invited person.
		if _, err := e.svc.Redeem(ctx, code, e.who[devidp.PersonaUnrelated], "127.0.0.1"); !isErr(err, family.ErrLocked) {
			t.Fatalf("after lock: %v", err)
		}
		if len(e.audit(t, "family.invitation_locked")) != 1 {
			t.Fatal("no locked event")
		}
	})
	t.Run("third person decides by invitation id", func(t *testing.T) {
		e, code := newInvited(t)
		inv, _ := e.svc.Redeem(ctx, code, e.who[devidp.PersonaUnrelated], "127.0.0.1")
		if _, err := e.svc.Decide(ctx, inv.ID, e.who[devidp.PersonaParentA], true); !isErr(err, family.ErrCodeInvalid) {
			t.Fatalf("requester approves for the member: %v", err)
		}
		if _, err := e.svc.Decide(ctx, inv.ID, e.who[devidp.PersonaRoommate], true); !isErr(err, family.ErrCodeInvalid) {
			t.Fatalf("third person approves: %v", err)
		}
	})
	t.Run("grant used on another app", func(t *testing.T) {
		e := newEnv(t, envOpt{})
		e.approve(t, e.invite(t, "eloket", devidp.PersonaParentA, devidp.PersonaUnrelated), devidp.PersonaUnrelated)
		acc, _, err := e.svc.Authorize(ctx, "other", "GET", "/family/unrelated", devidp.PersonaParentA, e.who[devidp.PersonaParentA])
		if err != nil || acc != family.AccessDenied {
			t.Fatalf("other app: %v %v", acc, err)
		}
		if res, err := e.svc.RequestLink(ctx, "other", e.who[devidp.PersonaParentA], e.who[devidp.PersonaUnrelated]); err != nil || res.Outcome != family.Invited {
			t.Fatalf("link in the other app: %+v %v", res, err)
		}
	})
	t.Run("request racing a revocation", func(t *testing.T) {
		e := newEnv(t, envOpt{})
		g := e.approve(t, e.invite(t, "eloket", devidp.PersonaParentA, devidp.PersonaUnrelated), devidp.PersonaUnrelated)
		done := make(chan struct{})
		var mu sync.Mutex
		var afterRevoke []family.Access
		var revokedFlag bool
		enough := make(chan struct{}) // closed at the 20th decision after the revocation
		var wg sync.WaitGroup
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-done:
						return
					default:
					}
					mu.Lock()
					started := revokedFlag
					mu.Unlock()
					acc, _, err := e.svc.Authorize(ctx, "eloket", "GET", "/family/unrelated", devidp.PersonaParentA, e.who[devidp.PersonaParentA])
					if err != nil {
						t.Errorf("authorize: %v", err)
						return
					}
					if started {
						mu.Lock()
						afterRevoke = append(afterRevoke, acc)
						if len(afterRevoke) == 20 {
							close(enough)
						}
						mu.Unlock()
					}
				}
			}()
		}
		if _, err := e.svc.Revoke(ctx, g.ID, e.who[devidp.PersonaUnrelated]); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		revokedFlag = true
		mu.Unlock()
		<-enough
		close(done)
		wg.Wait()
		for i, acc := range afterRevoke {
			if acc != family.AccessDenied {
				t.Fatalf("request %d decided after the revocation committed: %v", i, acc)
			}
		}
	})
	t.Run("action outside the scope", func(t *testing.T) {
		e := newEnv(t, envOpt{})
		e.approve(t, e.invite(t, "eloket", devidp.PersonaParentA, devidp.PersonaUnrelated), devidp.PersonaUnrelated)
		for _, c := range []struct{ method, path string }{
			{"POST", "/family/unrelated/payments"}, // a named action the invitation did not ask for
			{"POST", "/family/unrelated"},          // not a named action at all
			{"DELETE", "/family/unrelated/x"},
		} {
			acc, _, err := e.svc.Authorize(ctx, "eloket", c.method, c.path, devidp.PersonaParentA, e.who[devidp.PersonaParentA])
			if err != nil || acc != family.AccessDenied {
				t.Errorf("%s %s: %v %v", c.method, c.path, acc, err)
			}
		}
	})
	t.Run("credential of a linked member", func(t *testing.T) {
		e := newEnv(t, envOpt{})
		if res, _ := e.svc.RequestLink(ctx, "eloket", e.who[devidp.PersonaParentA], e.who[devidp.PersonaMinor]); res.Outcome != family.Forward {
			t.Fatal("no grant")
		}
		for _, p := range []string{"/family/minor/password", "/family/MINOR/password", "/family/unrelated/email"} {
			if acc := e.svc.Credential(ctx, "eloket", p, devidp.PersonaParentA, e.who[devidp.PersonaParentA]); acc != family.AccessDenied {
				t.Errorf("%s: %v", p, acc)
			}
		}
		if acc := e.svc.Credential(ctx, "eloket", "/family/parent-a/password", devidp.PersonaParentA, e.who[devidp.PersonaParentA]); acc != family.AccessOwn {
			t.Errorf("own: %v", acc)
		}
		if acc := e.svc.Credential(ctx, "eloket", "/password", devidp.PersonaParentA, e.who[devidp.PersonaParentA]); acc != family.AccessNoMatch {
			t.Errorf("own route: %v", acc)
		}
		if len(e.audit(t, "family.credential_blocked")) != 3 {
			t.Error("blocked credential changes not audited")
		}
	})
	t.Run("unknown member account", func(t *testing.T) {
		e := newEnv(t, envOpt{})
		acc, _, err := e.svc.Authorize(ctx, "eloket", "GET", "/family/999", devidp.PersonaParentA, e.who[devidp.PersonaParentA])
		if err != nil || acc != family.AccessDenied {
			t.Fatalf("%v %v", acc, err)
		}
	})
	t.Run("too many pending invitations", func(t *testing.T) {
		e := newEnv(t, envOpt{cfg: func(c *family.Config) { c.MaxPending = 2 }})
		e.invite(t, "eloket", devidp.PersonaParentA, devidp.PersonaUnrelated)
		e.invite(t, "eloket", devidp.PersonaParentA, devidp.PersonaRoommate)
		// Asking again for the same person replaces the old invitation.
		e.invite(t, "eloket", devidp.PersonaParentA, devidp.PersonaRoommate)
		if _, err := e.svc.RequestLink(ctx, "eloket", e.who[devidp.PersonaParentA], e.who[devidp.PersonaAdult]); !isErr(err, family.ErrTooMany) {
			t.Fatalf("third pending: %v", err)
		}
	})
	t.Run("replaced invitation's code is dead", func(t *testing.T) {
		e := newEnv(t, envOpt{})
		old := e.invite(t, "eloket", devidp.PersonaParentA, devidp.PersonaUnrelated)
		e.invite(t, "eloket", devidp.PersonaParentA, devidp.PersonaUnrelated)
		if _, err := e.svc.Redeem(ctx, old, e.who[devidp.PersonaUnrelated], "127.0.0.1"); !isErr(err, family.ErrCodeExpired) {
			t.Fatalf("old code: %v", err)
		}
	})
}

func TestAdminRevoke(t *testing.T) {
	e := newEnv(t, envOpt{})
	ctx := context.Background()
	g := e.approve(t, e.invite(t, "eloket", devidp.PersonaParentA, devidp.PersonaUnrelated), devidp.PersonaUnrelated)
	if _, err := e.svc.AdminRevoke(ctx, g.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AdminRevoke(ctx, g.ID, "alice"); !isErr(err, family.ErrNotFound) {
		t.Fatalf("second revoke: %v", err)
	}
	e.svc.RequestLink(ctx, "eloket", e.who[devidp.PersonaParentA], e.who[devidp.PersonaMinor])
	e.svc.RequestLink(ctx, "eloket", e.who[devidp.PersonaParentB], e.who[devidp.PersonaMinor])
	gs, err := e.svc.AdminRevokePerson(ctx, e.ref(devidp.PersonaMinor), "alice")
	if err != nil || len(gs) != 2 {
		t.Fatalf("revoke person: %d %v", len(gs), err)
	}
	es := e.audit(t, "family.revoked")
	if len(es) != 3 || es[0].Actor != "admin:alice" {
		t.Fatalf("audit: %+v", es)
	}
}

// TestAuditHoldsReferencesOnly: no audit entry of a whole flow holds a
// national number in any form (the state store refuses those, so a
// refused append would be missing here).
func TestAuditHoldsReferencesOnly(t *testing.T) {
	e := newEnv(t, envOpt{})
	ctx := context.Background()
	e.svc.RequestLink(ctx, "eloket", e.who[devidp.PersonaParentA], e.who[devidp.PersonaMinor])
	code := e.invite(t, "eloket", devidp.PersonaParentA, devidp.PersonaUnrelated)
	e.svc.Redeem(ctx, code, e.who[devidp.PersonaRoommate], "127.0.0.1")
	g := e.approve(t, code, devidp.PersonaUnrelated)
	e.svc.Authorize(ctx, "eloket", "GET", "/family/unrelated", devidp.PersonaParentA, e.who[devidp.PersonaParentA])
	e.svc.Credential(ctx, "eloket", "/family/minor/password", devidp.PersonaParentA, e.who[devidp.PersonaParentA])
	e.svc.Revoke(ctx, g.ID, e.who[devidp.PersonaUnrelated])
	es := e.audit(t, "")
	if len(es) < 8 {
		t.Fatalf("only %d audit entries", len(es))
	}
	for _, en := range es {
		all := en.Actor + en.Target + en.App
		for _, v := range en.Details {
			all += " " + v
		}
		for k, n := range e.who {
			if strings.Contains(all, n.Digits()) || strings.Contains(all, n.Mask()) {
				t.Fatalf("entry %d (%s) holds %s's number", en.Seq, en.Type, k)
			}
		}
		if nrn.Contains(all) {
			t.Fatalf("entry %d holds an NRN-shaped value", en.Seq)
		}
	}
	if rep, err := e.st.Verify(ctx); err != nil || !rep.OK() {
		t.Fatalf("audit chain: %+v %v", rep, err)
	}
}

func TestSweep(t *testing.T) {
	e := newEnv(t, envOpt{})
	ctx := context.Background()
	e.invite(t, "eloket", devidp.PersonaParentA, devidp.PersonaUnrelated)
	e.approve(t, e.invite(t, "eloket", devidp.PersonaParentA, devidp.PersonaAdult), devidp.PersonaAdult)
	if n, err := e.svc.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("nothing due: %d %v", n, err)
	}
	e.clock.Advance(family.DefaultInvitationTTL)
	if n, err := e.svc.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("invitation due: %d %v", n, err)
	}
	e.clock.Advance(family.DefaultGrantTTL)
	if n, err := e.svc.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("grant due: %d %v", n, err)
	}
	gs, _ := e.svc.Grants(ctx, e.who[devidp.PersonaAdult])
	if len(gs) != 1 || gs[0].Status != family.GrantExpired {
		t.Fatalf("%+v", gs)
	}
	if len(e.audit(t, "family.expired")) != 2 {
		t.Fatal("expiries not audited")
	}
}

func TestCancelInvitation(t *testing.T) {
	e := newEnv(t, envOpt{})
	ctx := context.Background()
	code := e.invite(t, "eloket", devidp.PersonaParentA, devidp.PersonaUnrelated)
	ps, err := e.svc.Pending(ctx, e.who[devidp.PersonaParentA])
	if err != nil || len(ps) != 1 {
		t.Fatalf("pending: %v %v", ps, err)
	}
	if err := e.svc.Cancel(ctx, ps[0].ID, e.who[devidp.PersonaRoommate]); !isErr(err, family.ErrNotFound) {
		t.Fatalf("someone else cancels: %v", err)
	}
	if err := e.svc.Cancel(ctx, ps[0].ID, e.who[devidp.PersonaParentA]); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Redeem(ctx, code, e.who[devidp.PersonaUnrelated], "127.0.0.1"); !isErr(err, family.ErrCodeExpired) {
		t.Fatalf("cancelled code: %v", err)
	}
	if len(e.audit(t, "family.invitation_cancelled")) != 1 {
		t.Fatal("not audited")
	}
}

// TestOneActiveGrantPerPair: concurrent registry links and a consent on
// top of a register grant leave exactly one active grant, so one
// revocation ends the access.
func TestOneActiveGrantPerPair(t *testing.T) {
	for _, pg := range []bool{false, true} {
		name := "sqlite"
		if pg {
			name = "postgres"
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, envOpt{postgres: pg})
			ctx := context.Background()
			var wg sync.WaitGroup
			for i := 0; i < 8; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := e.svc.RequestLink(ctx, "eloket", e.who[devidp.PersonaParentA], e.who[devidp.PersonaMinor]); err != nil {
						t.Errorf("link: %v", err)
					}
				}()
			}
			wg.Wait()
			// The child also consents (an invitation made while the register
			// was asked by someone else): still one grant.
			gs, _ := e.svc.Grants(ctx, e.who[devidp.PersonaMinor])
			if len(gs) != 1 {
				t.Fatalf("%d grants after concurrent links", len(gs))
			}
			now := e.clock.Now()
			inv := family.Invitation{ID: "invitationmadewhiledown", App: "eloket", RequesterRef: e.ref(devidp.PersonaParentA), RequesterMask: "x",
				MemberRef: e.ref(devidp.PersonaMinor), MemberMask: "y", Scope: family.Scope{View: true}, Created: now, Expires: now.Add(time.Hour)}
			if err := e.store.CreateInvitation(ctx, inv, "hash-of-some-code", 10); err != nil {
				t.Fatal(err)
			}
			g, err := e.svc.Decide(ctx, inv.ID, e.who[devidp.PersonaMinor], true)
			if err != nil || g.ID != gs[0].ID {
				t.Fatalf("approval on top of the register grant: %+v %v", g, err)
			}
			if gs, _ := e.svc.Grants(ctx, e.who[devidp.PersonaMinor]); len(gs) != 1 {
				t.Fatalf("%d grants", len(gs))
			}
			if _, err := e.svc.Revoke(ctx, gs[0].ID, e.who[devidp.PersonaMinor]); err != nil {
				t.Fatal(err)
			}
			if acc, _, _ := e.svc.Authorize(ctx, "eloket", "GET", "/family/minor", devidp.PersonaParentA, e.who[devidp.PersonaParentA]); acc != family.AccessDenied {
				t.Fatalf("after the one revocation: %v", acc)
			}
		})
	}
}
