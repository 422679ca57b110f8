package family_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/overstap/overstap/auth/devidp"
	"github.com/overstap/overstap/auth/family"
)

// TestPostgres runs the store-heavy paths against PostgreSQL (several
// gateway nodes share it): consent, concurrent approvals of one
// invitation, concurrent revocations, admin revocation of a person.
func TestPostgres(t *testing.T) {
	e := newEnv(t, envOpt{postgres: true})
	ctx := context.Background()
	if res, err := e.svc.RequestLink(ctx, "eloket", e.who[devidp.PersonaParentA], e.who[devidp.PersonaMinor]); err != nil || res.Outcome != family.Forward {
		t.Fatalf("registry: %+v %v", res, err)
	}
	code := e.invite(t, "eloket", devidp.PersonaParentA, devidp.PersonaUnrelated)
	inv, err := e.svc.Redeem(ctx, code, e.who[devidp.PersonaUnrelated], "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.svc.Decide(ctx, inv.ID, e.who[devidp.PersonaUnrelated], true); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	gs, err := e.svc.Grants(ctx, e.who[devidp.PersonaUnrelated])
	if ok != 1 || err != nil || len(gs) != 1 {
		t.Fatalf("%d approvals, %d grants (%v)", ok, len(gs), err)
	}
	ok = 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.svc.Revoke(ctx, gs[0].ID, e.who[devidp.PersonaUnrelated]); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if ok != 1 || len(e.audit(t, "family.revoked")) != 1 {
		t.Fatalf("%d revocations succeeded", ok)
	}
	if acc, _, err := e.svc.Authorize(ctx, "eloket", "GET", "/family/unrelated", devidp.PersonaParentA, e.who[devidp.PersonaParentA]); err != nil || acc != family.AccessDenied {
		t.Fatalf("after revoke: %v %v", acc, err)
	}
	if gs, err := e.svc.AdminRevokePerson(ctx, e.ref(devidp.PersonaParentA), "bob"); err != nil || len(gs) != 1 {
		t.Fatalf("admin revoke person: %d %v", len(gs), err)
	}
	// Names: the register link recorded the child's store name; a login
	// name replaces it, a store name never replaces a login name.
	minor, unrelated := e.ref(devidp.PersonaMinor), e.ref(devidp.PersonaUnrelated)
	e.svc.NoteLogin(ctx, e.who[devidp.PersonaUnrelated], "Emma Dubois")
	if err := e.store.SetName(ctx, unrelated, "X Y.", family.NameStore, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if n, err := e.store.Names(ctx, []string{minor, unrelated, "none"}); err != nil || len(n) != 2 || n[minor] != "Lotte P." || n[unrelated] != "Emma D." {
		t.Fatalf("names %v %v", n, err)
	}
	e.svc.NoteLogin(ctx, e.who[devidp.PersonaMinor], "Lotte Janssens")
	if n, _ := e.store.Names(ctx, []string{minor}); n[minor] != "Lotte J." {
		t.Fatalf("login name did not replace the store's: %v", n)
	}
	// The same name from a store first, then from the login: the login
	// becomes its source, so a later store name does not replace it.
	parentB := e.ref(devidp.PersonaParentB)
	if err := e.store.SetName(ctx, parentB, "Bart P.", family.NameStore, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	e.svc.NoteLogin(ctx, e.who[devidp.PersonaParentB], "Bart Peeters")
	if err := e.store.SetName(ctx, parentB, "Other O.", family.NameStore, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.store.Names(ctx, []string{parentB}); n[parentB] != "Bart P." {
		t.Fatalf("a store name replaced the login's: %v", n)
	}
	// Drafts: one per person and app, taken once, not after expiry.
	now := e.clock.Now()
	for _, v := range []string{"a", "b"} {
		if err := e.store.PutDraft(ctx, minor, "eloket", v, now.Add(family.DraftTTL)); err != nil {
			t.Fatal(err)
		}
	}
	if v, err := e.store.TakeDraft(ctx, minor, "eloket", now); err != nil || v != "b" {
		t.Fatalf("draft %q %v", v, err)
	}
	if _, err := e.store.TakeDraft(ctx, minor, "eloket", now); !isErr(err, family.ErrNotFound) {
		t.Fatalf("taken twice: %v", err)
	}
	_ = e.store.PutDraft(ctx, minor, "eloket", "c", now.Add(time.Minute))
	if n, err := e.store.DropDrafts(ctx, now.Add(2*time.Minute)); err != nil || n != 1 {
		t.Fatalf("dropped %d %v", n, err)
	}
}
