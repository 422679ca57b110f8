package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/overstap/overstap/adapters/store"
)

func testCASSuccess(t *testing.T, s store.Store, seed Seeder) {
	seed.Seed(t, basicRow(1), basicRow(2))
	if err := s.CompareAndSwap(ctx(t), store.Swap{ID: ID(1), Old: Hash(1), New: "!revoked"}); err != nil {
		t.Fatal(err)
	}
	if v, null := seed.Credential(t, ID(1)); v != "!revoked" || null {
		t.Fatalf("native value %q", v)
	}
	if v, _ := seed.Credential(t, ID(2)); v != Hash(2) {
		t.Fatal("other account changed")
	}
	a, err := s.Get(ctx(t), ID(1))
	if err != nil || a.Credential != "!revoked" {
		t.Fatalf("Get after CAS: %q %v", a.Credential, err)
	}
	// Swapping to the same value is a success, not a conflict.
	if err := s.CompareAndSwap(ctx(t), store.Swap{ID: ID(1), Old: "!revoked", New: "!revoked"}); err != nil {
		t.Fatalf("idempotent swap: %v", err)
	}
}

func testCASConflict(t *testing.T, s store.Store, seed Seeder) {
	seed.Seed(t, basicRow(1))
	err := s.CompareAndSwap(ctx(t), store.Swap{ID: ID(1), Old: Hash(9), New: "x"})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale old: %v, want ErrConflict", err)
	}
	if v, _ := seed.Credential(t, ID(1)); v != Hash(1) {
		t.Fatal("conflicting swap wrote")
	}
	err = s.CompareAndSwap(ctx(t), store.Swap{ID: ID(1), OldNull: true, New: "x"})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("OldNull on a set credential: %v, want ErrConflict", err)
	}
	err = s.CompareAndSwap(ctx(t), store.Swap{ID: ID(7), Old: Hash(7), New: "x"})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing account: %v, want ErrNotFound", err)
	}
	if err := s.CompareAndSwap(ctx(t), store.Swap{ID: "", Old: "a", New: "b"}); err == nil || errors.Is(err, store.ErrConflict) {
		t.Fatalf("empty id: %v", err)
	}
}

func testCASNull(t *testing.T, s store.Store, seed Seeder) {
	r := basicRow(1)
	r.Password = nil
	seed.Seed(t, r)
	if err := s.CompareAndSwap(ctx(t), store.Swap{ID: ID(1), Old: "", New: "y"}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("empty string is not NULL: %v", err)
	}
	if err := s.CompareAndSwap(ctx(t), store.Swap{ID: ID(1), OldNull: true, New: "y"}); err != nil {
		t.Fatal(err)
	}
	if v, null := seed.Credential(t, ID(1)); v != "y" || null {
		t.Fatalf("got %q null=%v", v, null)
	}
}

func testCASDirect(t *testing.T, s store.Store, seed Seeder) {
	if !s.Capabilities().AtomicCAS {
		t.Log("no AtomicCAS: direct updates behind the adapter cannot be detected; the vendor's import must check")
		return
	}
	seed.Seed(t, basicRow(1))
	a, err := s.Get(ctx(t), ID(1))
	if err != nil {
		t.Fatal(err)
	}
	seed.Append(t, ID(1), "-citizen-changed")
	err = s.CompareAndSwap(ctx(t), store.Swap{ID: ID(1), Old: a.Credential, New: "!revoked"})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("CAS over a direct update: %v, want ErrConflict", err)
	}
	if v, _ := seed.Credential(t, ID(1)); v != Hash(1)+"-citizen-changed" {
		t.Fatal("the citizen's change was clobbered")
	}
}

// testCASRace: goroutines race CAS (read, then swap to old+token) against
// native appends. Every write appends a unique token, so the final value
// must hold exactly every native token and every token of a CAS that
// reported success — a lost update or an unreported lost race shows.
func testCASRace(t *testing.T, s store.Store, seed Seeder) {
	const accounts, workers, rounds, natives = 2, 8, 10, 15
	for i := 1; i <= accounts; i++ {
		r := basicRow(i)
		r.Password = P("h")
		seed.Seed(t, r)
	}
	atomic := s.Capabilities().AtomicCAS
	var mu sync.Mutex
	won := map[string][]string{}
	conflicts, casWon, nativeWrites := 0, 0, 0
	var wg sync.WaitGroup
	errc := make(chan error, workers*rounds*accounts+accounts)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				for i := 1; i <= accounts; i++ {
					id := ID(i)
					a, err := s.Get(context.Background(), id)
					if err != nil {
						errc <- err
						return
					}
					tok := fmt.Sprintf(">c%d.%d", w, r)
					err = s.CompareAndSwap(context.Background(), store.Swap{ID: id, Old: a.Credential, New: a.Credential + tok})
					mu.Lock()
					switch {
					case err == nil:
						won[id] = append(won[id], tok)
						casWon++
					case errors.Is(err, store.ErrConflict):
						conflicts++
					default:
						errc <- err
					}
					mu.Unlock()
				}
			}
		}()
	}
	if atomic {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range natives {
				for i := 1; i <= accounts; i++ {
					tok := fmt.Sprintf(">n%d", r)
					seed.Append(t, ID(i), tok)
					mu.Lock()
					won[ID(i)] = append(won[ID(i)], tok)
					nativeWrites++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatalf("unexpected error in race: %v", err)
	}
	for i := 1; i <= accounts; i++ {
		id := ID(i)
		v, _ := seed.Credential(t, id)
		final := strings.Split(strings.TrimPrefix(v, "h"), ">")[1:]
		want := won[id]
		for k := range want {
			want[k] = strings.TrimPrefix(want[k], ">")
		}
		slices.Sort(final)
		slices.Sort(want)
		if !slices.Equal(final, want) {
			t.Errorf("account %s: tokens in store %v, reported written %v", id, final, want)
		}
	}
	t.Logf("%d CAS won, %d lost races reported as ErrConflict, %d native writes kept (atomic=%v)", casWon, conflicts, nativeWrites, atomic)
}

func testSwapBatch(t *testing.T, s store.Store, seed Seeder) {
	r4 := basicRow(4)
	r4.Password = nil
	seed.Seed(t, basicRow(1), basicRow(2), r4)
	swaps := []store.Swap{
		{ID: ID(1), Old: Hash(1), New: "!r1"},
		{ID: ID(2), Old: "stale", New: "!r2"},
		{ID: ID(3), Old: Hash(3), New: "!r3"},
		{ID: ID(4), OldNull: true, New: "!r4"},
	}
	res, err := s.SwapBatch(ctx(t), swaps)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(swaps) {
		t.Fatalf("%d results for %d swaps", len(res), len(swaps))
	}
	want := []error{nil, store.ErrConflict, store.ErrNotFound, nil}
	for i := range swaps {
		if (want[i] == nil) != (res[i] == nil) || (want[i] != nil && !errors.Is(res[i], want[i])) {
			t.Errorf("swap %d: got %v, want %v", i, res[i], want[i])
		}
	}
	for id, v := range map[string]string{ID(1): "!r1", ID(2): Hash(2), ID(4): "!r4"} {
		if got, _ := seed.Credential(t, id); got != v {
			t.Errorf("%s: %q, want %q", id, got, v)
		}
	}
	if res, err := s.SwapBatch(ctx(t), nil); err != nil || len(res) != 0 {
		t.Fatalf("empty batch: %v %v", res, err)
	}
}

func testFederated(t *testing.T, s store.Store, seed Seeder) {
	seed.Seed(t, basicRow(1))
	err := s.SetFederated(ctx(t), ID(1), true)
	if !s.Capabilities().Federated {
		if !errors.Is(err, store.ErrUnsupported) {
			t.Fatalf("unmapped flag: %v, want ErrUnsupported", err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.Get(ctx(t), ID(1))
	if err != nil || !a.Federated {
		t.Fatalf("flag not set: %v %v", a.Federated, err)
	}
	if v, _ := seed.Credential(t, ID(1)); v != Hash(1) {
		t.Fatal("SetFederated touched the credential")
	}
	if err := s.SetFederated(ctx(t), ID(1), false); err != nil {
		t.Fatal(err)
	}
	if a, _ := s.Get(ctx(t), ID(1)); a.Federated {
		t.Fatal("flag not cleared")
	}
	if err := s.SetFederated(ctx(t), ID(9), true); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing account: %v", err)
	}
}
