package migrate

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/overstap/overstap/auth/link"
)

// TestStateLinks: with the gateway's links table in the state database, a
// scan counts the accounts linked for the app (status "linked" only, not
// another app's, not a link still being made); without the table, links
// are unknown, never assumed absent.
func TestStateLinks(t *testing.T) {
	ctx := context.Background()
	db, st := openStateDB(t, sqliteState(t), link.Migrations())
	recs := link.NewSQLRecords(st)
	for i, r := range []link.Record{
		{App: "loket", NRNRef: "r1", AccountID: "u000001", Status: link.StatusLinked},
		{App: "loket", NRNRef: "r2", AccountID: "u000004", Status: link.StatusLinked},
		{App: "loket", NRNRef: "r3", AccountID: "u000005", Status: link.StatusRevoking},
		{App: "other", NRNRef: "r1", AccountID: "u000002", Status: link.StatusLinked},
	} {
		r.Issuer, r.Subject, r.Created = "https://idp.example", string(rune('a'+i)), time.Now()
		if err := recs.Insert(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	links, err := NewStateLinks(ctx, db, "loket")
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(Options{DB: db, Store: newMemStore(mixedAccounts(t, 12)), Hasher: testHasher{}, Links: links})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Scan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s := res.Summary; s.Linked != 2 || s.NotLinked != 10 || s.LinkUnknown != 0 {
		t.Fatalf("linked %d, not linked %d, unknown %d; want 2, 10, 0", s.Linked, s.NotLinked, s.LinkUnknown)
	}

	bare := newStateDB(t)
	if _, err := NewStateLinks(ctx, bare, "loket"); !errors.Is(err, ErrNoLinksTable) {
		t.Fatalf("no links table: %v", err)
	}
}
