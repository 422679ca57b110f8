package state_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing/fstest"
	"time"

	"github.com/overstap/overstap/adapters/state"
	"github.com/overstap/overstap/auth/nrn"
)

// A package keeps its own tables in the state database by passing its
// migrations to Open, and writes audit events with national-number
// references, never clear numbers.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "overstap-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	grants := "CREATE TABLE family_grants (id INTEGER PRIMARY KEY, member_ref TEXT NOT NULL);"
	family := state.Migrations{Component: "family", FS: fstest.MapFS{
		"sqlite/0001_grants.sql":   {Data: []byte(grants)},
		"postgres/0001_grants.sql": {Data: []byte(grants)},
	}}
	ctx := context.Background()
	st, err := state.Open(ctx, state.Config{Path: filepath.Join(dir, "state.db")}, nil, family)
	if err != nil {
		panic(err)
	}
	defer st.Close()

	citizen, _ := nrn.Synthetic(time.Date(1985, 7, 30, 0, 0, 0, 0, time.UTC), true, 3)
	key := nrn.MustRefKey([]byte("0123456789abcdef0123456789abcdef")) // from nrn_ref_key in real use
	e, err := st.Append(ctx, state.Event{
		Type: "grant.created", Actor: citizen.Ref(key), Target: "account:4711",
		App: "eloket", Outcome: "success",
	})
	if err != nil {
		panic(err)
	}
	_, err = st.Append(ctx, state.Event{Type: "login", Actor: citizen.Digits(), Outcome: "success"})
	fmt.Println(e.Seq, err)

	if _, err := st.DB().ExecContext(ctx, st.Dialect().Rebind("INSERT INTO family_grants (member_ref) VALUES (?)"), citizen.Ref(key)); err != nil {
		panic(err)
	}
	rep, err := st.Verify(ctx)
	fmt.Println(rep.OK(), rep.Entries, err)
	// Output:
	// 1 state: audit event holds a national number in clear; use nrn.Number.Ref (field actor)
	// true 1 <nil>
}
