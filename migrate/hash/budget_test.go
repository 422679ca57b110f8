package hash

import (
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/overstap/overstap/auth/nrn"
)

// TestDerivedBudget: a bcrypt value whose NRN-derived check would cost more
// than the budget (candidates x 2^(cost-12) bcrypt-12 checks) is refused
// with ErrOverBudget before any verification; within the budget, or with no
// bound, it is verified and found.
func TestDerivedBudget(t *testing.T) {
	n, err := nrn.Synthetic(time.Date(1985, 7, 30, 0, 0, 0, 0, time.UTC), true, 901)
	if err != nil {
		t.Fatal(err)
	}
	hashAt := func(cost int) string {
		b, err := bcrypt.GenerateFromPassword([]byte(n.Digits()), cost)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	cheap, dear := hashAt(4), hashAt(10) // 13 x 2^-8 fits one bcrypt-12; 13 x 2^-2 does not
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		budget float64
		stored string
		want   bool
		over   bool
	}{
		{"default budget, bcrypt-4", 0, cheap, true, false},
		{"default budget, bcrypt-10", 0, dear, false, true},
		{"budget of 4 checks, bcrypt-10", 4, dear, true, false},
		{"no bound, bcrypt-10", -1, dear, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := New(Config{DerivedBudget: tc.budget})
			if err != nil {
				t.Fatal(err)
			}
			got, err := h.IsDerived(ctx, tc.stored, Params{}, n)
			if tc.over {
				if !errors.Is(err, ErrOverBudget) || got {
					t.Fatalf("IsDerived = %v, %v; want ErrOverBudget", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("IsDerived = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	if _, err := New(Config{DerivedBudget: 2e6}); err == nil {
		t.Error("absurd budget accepted")
	}
}

// BenchmarkDerivedBudget: the cost of one NRN-column account's derived
// check on a bcrypt-10 value that is not derived (every candidate tried),
// without a bound and with the default budget (refused by its cost, no
// verification), side by side.
func BenchmarkDerivedBudget(b *testing.B) {
	n, _ := nrn.Synthetic(time.Date(1985, 7, 30, 0, 0, 0, 0, time.UTC), true, 901)
	stored, _ := bcrypt.GenerateFromPassword([]byte("geheim"), 10)
	for _, bc := range []struct {
		name   string
		budget float64
	}{{"unbounded", -1}, {"default", 0}} {
		b.Run(bc.name, func(b *testing.B) {
			h, err := New(Config{DerivedBudget: bc.budget})
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				h.IsDerived(context.Background(), string(stored), Params{}, n)
			}
		})
	}
}
