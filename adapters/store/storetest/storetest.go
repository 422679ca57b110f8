package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/overstap/overstap/adapters/store"
	"github.com/overstap/overstap/auth/nrn"
)

// Row is one fixture account as the suite seeds it.
type Row struct {
	ID        string
	Username  string
	Password  *string // nil: NULL / attribute absent
	Salt      string
	NRN       *string // raw NRN column value; nil: NULL / absent
	Name      string
	Disabled  bool
	Federated bool
}

// Seeder writes and reads fixture rows natively, behind the adapter's back.
type Seeder interface {
	// Seed inserts rows so that the store returned with this Seeder sees
	// them.
	Seed(t testing.TB, rows ...Row)
	// Append atomically appends suffix to the stored credential of id, the
	// way a legacy application changing a password would. The suite calls
	// it only for stores with Capabilities().AtomicCAS.
	Append(t testing.TB, id, suffix string)
	// Credential reads the stored credential of id natively (for stores
	// without AtomicCAS: the value the vendor would have after importing
	// the pending changes).
	Credential(t testing.TB, id string) (value string, null bool)
}

// Factory returns a fresh, empty store and its Seeder; it is called once per
// sub-test and must clean up through t.Cleanup.
type Factory func(t *testing.T) (store.Store, Seeder)

// P returns a pointer to s, for Row fields.
func P(s string) *string { return &s }

// Person returns the synthetic national number number i (deterministic).
func Person(i int) nrn.Number {
	birth := time.Date(1950+i%60, time.Month(1+i%12), 1+i%28, 0, 0, 0, 0, time.UTC)
	n, err := nrn.Synthetic(birth, i%2 == 0, i)
	if err != nil {
		panic(err)
	}
	return n
}

// Hash returns a fixture credential for account i that looks like a legacy
// hash, so leak checks can grep for it.
func Hash(i int) string { return fmt.Sprintf("{SSHA}fixtureHash%04dQmFzZTY0PT0=", i) }

// ID returns the fixture id of account i: 4 digits, so numeric and byte-wise
// key order agree and the suite runs unchanged on integer and text keys.
func ID(i int) string { return fmt.Sprintf("%04d", 1000+i) }

func basicRow(i int) Row {
	return Row{
		ID: ID(i), Username: fmt.Sprintf("user%04d", i), Password: P(Hash(i)),
		Salt: fmt.Sprintf("s%d", i), NRN: P(Person(i).Digits()), Name: fmt.Sprintf("Persoon %d", i),
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// Run runs the contract suite against the stores newStore returns.
func Run(t *testing.T, newStore Factory) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store, Seeder)
	}{
		{"Iterate/AllInKeyOrder", testIterateAll},
		{"Iterate/ResumeFromCursor", testIterateResume},
		{"Iterate/Empty", testIterateEmpty},
		{"Iterate/BadLimit", testIterateBadLimit},
		{"Get/Fields", testGetFields},
		{"Get/NotFound", testGetNotFound},
		{"LookupByUsername", testLookupByUsername},
		{"LookupByNRN/Column", testNRNColumn},
		{"LookupByNRN/UsernameForms", testNRNUsernameForms},
		{"LookupByNRN/Duplicates", testNRNDuplicates},
		{"LookupByNRN/NoMatch", testNRNNoMatch},
		{"BadInput/NullsAndInvalidNRN", testNullsInvalid},
		{"BadInput/UnknownHashFormat", testUnknownHash},
		{"CAS/Success", testCASSuccess},
		{"CAS/ConflictAndNotFound", testCASConflict},
		{"CAS/Null", testCASNull},
		{"CAS/DirectUpdateWins", testCASDirect},
		{"CAS/Race", testCASRace},
		{"SwapBatch", testSwapBatch},
		{"SetFederated", testFederated},
		{"Errors/NoLeak", testNoLeak},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, seed := newStore(t)
			tc.fn(t, s, seed)
		})
	}
}

// iterateAll reads the whole store with page size limit.
func iterateAll(t *testing.T, s store.Store, limit int) []store.Account {
	t.Helper()
	var all []store.Account
	var cur store.Cursor
	for pages := 0; ; pages++ {
		if pages > 10_000 {
			t.Fatal("iteration does not end")
		}
		page, next, err := s.Iterate(ctx(t), cur, limit)
		if err != nil {
			t.Fatalf("Iterate(%q): %v", cur, err)
		}
		if len(page) > limit {
			t.Fatalf("page of %d > limit %d", len(page), limit)
		}
		all = append(all, page...)
		if next == "" {
			return all
		}
		if len(page) == 0 {
			t.Fatal("empty page with a continuation cursor")
		}
		if string(next) != page[len(page)-1].ID {
			t.Fatalf("cursor %q is not the last id %q", next, page[len(page)-1].ID)
		}
		cur = next
	}
}

func ids(as []store.Account) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.ID
	}
	return out
}

func testIterateAll(t *testing.T, s store.Store, seed Seeder) {
	var rows []Row
	var want []string
	// Insert in scrambled order: iteration must still come out sorted.
	for _, i := range []int{17, 3, 22, 9, 1, 14, 5, 20, 11, 8, 2, 19, 6, 13, 21, 4, 16, 10, 7, 12, 18, 15, 23} {
		rows = append(rows, basicRow(i))
		want = append(want, ID(i))
	}
	seed.Seed(t, rows...)
	slices.Sort(want)
	for _, limit := range []int{1, 5, 23, 100} {
		t.Run(fmt.Sprintf("limit=%d", limit), func(t *testing.T) {
			got := ids(iterateAll(t, s, limit))
			if !slices.Equal(got, want) {
				t.Fatalf("ids\n got %v\nwant %v", got, want)
			}
		})
	}
}

func testIterateResume(t *testing.T, s store.Store, seed Seeder) {
	for i := 1; i <= 12; i++ {
		seed.Seed(t, basicRow(i))
	}
	page, next, err := s.Iterate(ctx(t), "", 4)
	if err != nil || len(page) != 4 || next != store.Cursor(ID(4)) {
		t.Fatalf("first page: %v %v %v", ids(page), next, err)
	}
	// A row inserted before the cursor is not revisited; one after it is seen.
	seed.Seed(t, basicRow(0), basicRow(13))
	var rest []string
	for cur := next; cur != ""; {
		p, n, err := s.Iterate(ctx(t), cur, 3)
		if err != nil {
			t.Fatal(err)
		}
		rest = append(rest, ids(p)...)
		cur = n
	}
	want := []string{ID(5), ID(6), ID(7), ID(8), ID(9), ID(10), ID(11), ID(12), ID(13)}
	if !slices.Equal(rest, want) {
		t.Fatalf("resumed\n got %v\nwant %v", rest, want)
	}
	// A cursor between keys (not an existing id) also works.
	p, _, err := s.Iterate(ctx(t), store.Cursor(ID(7)+"5"), 2)
	if err != nil { // "10075" is a valid key for integer and text keys alike
		t.Fatal(err)
	}
	if len(p) != 0 && p[0].ID <= ID(7) {
		t.Fatalf("cursor between keys went backwards: %v", ids(p))
	}
}

func testIterateEmpty(t *testing.T, s store.Store, _ Seeder) {
	page, next, err := s.Iterate(ctx(t), "", 10)
	if err != nil || len(page) != 0 || next != "" {
		t.Fatalf("empty store: %v %q %v", page, next, err)
	}
}

func testIterateBadLimit(t *testing.T, s store.Store, _ Seeder) {
	for _, l := range []int{0, -1} {
		if _, _, err := s.Iterate(ctx(t), "", l); err == nil {
			t.Fatalf("limit %d accepted", l)
		}
	}
}

func testGetFields(t *testing.T, s store.Store, seed Seeder) {
	r := basicRow(1)
	r.Disabled, r.Federated = true, true
	r2 := basicRow(2)
	seed.Seed(t, r, r2)
	caps := s.Capabilities()
	a, err := s.Get(ctx(t), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, got, want any) {
		t.Helper()
		if got != want {
			t.Errorf("%s: got %v, want %v", what, got, want)
		}
	}
	check("ID", a.ID, r.ID)
	check("Username", a.Username, r.Username)
	check("Credential", a.Credential, *r.Password)
	check("CredentialNull", a.CredentialNull, false)
	check("Salt", a.Salt, r.Salt)
	check("Name", a.Name, r.Name)
	check("Disabled", a.Disabled, true)
	if caps.Federated {
		check("Federated", a.Federated, true)
	}
	check("NRN", a.NRN.Digits(), Person(1).Digits())
	check("NRNSource", a.NRNSource, "column")
	check("NRNProblem", a.NRNProblem, "")
	b, err := s.Get(ctx(t), r2.ID)
	if err != nil {
		t.Fatal(err)
	}
	check("Disabled(2)", b.Disabled, false)
	check("Federated(2)", b.Federated, false)
}

func testGetNotFound(t *testing.T, s store.Store, seed Seeder) {
	seed.Seed(t, basicRow(1))
	for _, id := range []string{ID(2), "", "x'; DROP TABLE accounts; --", strings.Repeat("9", 300)} {
		_, err := s.Get(ctx(t), id)
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get(%.20q): %v, want ErrNotFound", id, err)
		}
	}
}

func testLookupByUsername(t *testing.T, s store.Store, seed Seeder) {
	seed.Seed(t, basicRow(1), basicRow(2))
	a, err := s.LookupByUsername(ctx(t), "user0002")
	if err != nil || a.ID != ID(2) {
		t.Fatalf("got %q, %v", a.ID, err)
	}
	for _, u := range []string{"user0003", "", "user000%", "user*", "USER0002x"} {
		if _, err := s.LookupByUsername(ctx(t), u); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("LookupByUsername(%q): %v, want ErrNotFound", u, err)
		}
	}
}

func testNRNColumn(t *testing.T, s store.Store, seed Seeder) {
	r := basicRow(1)
	r.NRN = P(Person(1).Format()) // dotted in the column
	seed.Seed(t, r, basicRow(2))
	got, err := s.LookupByNRN(ctx(t), Person(1))
	if err != nil || len(got) != 1 || got[0].ID != ID(1) || got[0].NRNSource != "column" {
		t.Fatalf("got %v, %v", ids(got), err)
	}
}

func testNRNUsernameForms(t *testing.T, s store.Store, seed Seeder) {
	forms := func(n nrn.Number) []string {
		d := n.Digits()
		return []string{d, n.Format(), d[:6] + " " + d[6:9] + " " + d[9:], d[:6] + "-" + d[6:9] + "-" + d[9:]}
	}
	for k := range 4 {
		i := 10 + k
		r := basicRow(i)
		r.NRN = nil
		r.Username = forms(Person(i))[k]
		seed.Seed(t, r)
	}
	for k := range 4 {
		i := 10 + k
		t.Run(fmt.Sprint("form", k), func(t *testing.T) {
			got, err := s.LookupByNRN(ctx(t), Person(i))
			if err != nil || len(got) != 1 || got[0].ID != ID(i) {
				t.Fatalf("got %v, %v", ids(got), err)
			}
			if got[0].NRNSource != "username" || !got[0].NRN.Equal(Person(i)) {
				t.Fatalf("NRN not resolved from username: %q", got[0].NRNSource)
			}
		})
	}
}

func testNRNDuplicates(t *testing.T, s store.Store, seed Seeder) {
	a, b, c := basicRow(1), basicRow(2), basicRow(3)
	b.NRN = P(Person(1).Digits())               // same person in the column
	c.NRN, c.Username = nil, Person(1).Format() // and as a username
	seed.Seed(t, a, b, c)
	got, err := s.LookupByNRN(ctx(t), Person(1))
	if err != nil {
		t.Fatal(err)
	}
	g := ids(got)
	slices.Sort(g)
	if !slices.Equal(g, []string{ID(1), ID(2), ID(3)}) {
		t.Fatalf("duplicates: got %v", g)
	}
}

func testNRNNoMatch(t *testing.T, s store.Store, seed Seeder) {
	seed.Seed(t, basicRow(1))
	got, err := s.LookupByNRN(ctx(t), Person(40))
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("want empty non-nil slice, got %v, %v", got, err)
	}
	if _, err := s.LookupByNRN(ctx(t), nrn.Number{}); err == nil {
		t.Fatal("zero number accepted")
	}
}

func testNullsInvalid(t *testing.T, s store.Store, seed Seeder) {
	n := Person(5).Digits()
	badNRN := n[:10] + string('0'+(n[10]-'0'+1)%10)
	rows := []Row{
		{ID: ID(1), Username: "nulls", Password: nil, NRN: nil, Name: "Null Persoon"},
		{ID: ID(2), Username: "badnrn", Password: P(Hash(2)), NRN: P(badNRN), Name: "Bad"},
		{ID: ID(3), Username: "garbage", Password: P(Hash(3)), NRN: P("not-a-number"), Name: "Garbage"},
	}
	seed.Seed(t, rows...)
	all := iterateAll(t, s, 2)
	if len(all) != 3 {
		t.Fatalf("lost rows: %v", ids(all))
	}
	if !all[0].CredentialNull || all[0].Credential != "" || !all[0].NRN.IsZero() || all[0].NRNProblem != "" {
		t.Errorf("NULL row: %+v", all[0])
	}
	for _, a := range all[1:] {
		if a.NRNProblem == "" || !a.NRN.IsZero() {
			t.Errorf("%s: invalid NRN not reported: %q", a.ID, a.NRNProblem)
		}
		if strings.Contains(a.NRNProblem, badNRN) || strings.Contains(a.NRNProblem, "not-a-number") {
			t.Errorf("%s: NRNProblem contains the value", a.ID)
		}
	}
}

func testUnknownHash(t *testing.T, s store.Store, seed Seeder) {
	weird := []string{"$zz$9$weird", "   spaced  ", "{UNKNOWN}abc=", "p@ss'\"\\%_*()"}
	for i, w := range weird {
		r := basicRow(i + 1)
		r.Password = P(w)
		seed.Seed(t, r)
	}
	for i, w := range weird {
		a, err := s.Get(ctx(t), ID(i+1))
		if err != nil || a.Credential != w {
			t.Errorf("credential %d not read exactly: %q, %v", i, a.Credential, err)
		}
	}
}

// testNoLeak provokes errors whose inputs hold hashes and national numbers
// and checks no message contains them, and that each names the adapter.
func testNoLeak(t *testing.T, s store.Store, seed Seeder) {
	r := basicRow(1)
	r.ID = ID(1)
	seed.Seed(t, r)
	p := Person(2).Digits()
	var errs []error
	_, err := s.Get(ctx(t), p)
	errs = append(errs, err)
	_, err = s.LookupByUsername(ctx(t), Person(3).Format())
	errs = append(errs, err)
	errs = append(errs, s.CompareAndSwap(ctx(t), store.Swap{ID: ID(1), Old: Hash(7), New: Hash(8)}))
	errs = append(errs, s.CompareAndSwap(ctx(t), store.Swap{ID: p, Old: Hash(1), New: Hash(8)}))
	res, err := s.SwapBatch(ctx(t), []store.Swap{{ID: ID(1), Old: Hash(9), New: Hash(8)}, {ID: Person(4).Format(), Old: Hash(1), New: Hash(8)}})
	if err != nil {
		t.Fatal(err)
	}
	errs = append(errs, res...)
	errs = append(errs, s.SetFederated(ctx(t), p, true))
	for i, err := range errs {
		if err == nil {
			t.Errorf("error %d: expected an error", i)
			continue
		}
		msg := err.Error()
		if nrn.Contains(msg) {
			t.Errorf("error %d contains a national number: %s", i, nrn.Scrub(msg))
		}
		for h := range 10 {
			if strings.Contains(msg, Hash(h)) || strings.Contains(msg, "fixtureHash") {
				t.Errorf("error %d contains a hash", i)
			}
		}
		if !strings.Contains(msg, "store") || !strings.Contains(msg, s.Name()) {
			t.Errorf("error %d does not name the adapter and store: %s", i, msg)
		}
	}
	// Errors about one account name it (masked when NRN-shaped).
	if e := errs[2].Error(); !strings.Contains(e, ID(1)) {
		t.Errorf("conflict error does not name the account: %s", e)
	}
	if e := errs[0].Error(); !strings.Contains(e, Person(2).Mask()) {
		t.Errorf("not-found error does not name the (masked) account: %s", e)
	}
}

// WantKeys fails t unless err names every one of keys: a configuration
// error lists each key it refuses ("columns.id: required ...").
func WantKeys(t testing.TB, err error, keys ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("accepted; want an error naming %q", keys)
		return
	}
	for _, k := range keys {
		if !strings.Contains(err.Error(), k) {
			t.Errorf("%v does not name %q", err, k)
		}
	}
}
