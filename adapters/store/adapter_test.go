package store

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/overstap/overstap/auth/nrn"
)

func TestResolveNRN(t *testing.T) {
	n, _ := nrn.Synthetic(time.Date(1990, 1, 2, 0, 0, 0, 0, time.UTC), false, 7)
	m, _ := nrn.Synthetic(time.Date(1991, 3, 4, 0, 0, 0, 0, time.UTC), true, 8)
	bad := n.Digits()[:10] + string('0'+(n.Digits()[10]-'0'+1)%10)
	cases := []struct {
		name, user, col string
		present         bool
		want            nrn.Number
		source          string
		problem         bool
	}{
		{"column", "jan", n.Format(), true, n, "column", false},
		{"column wins over username", m.Digits(), n.Digits(), true, n, "column", false},
		{"username fallback", n.Format(), "", true, n, "username", false},
		{"null column", n.Digits(), "", false, n, "username", false},
		{"invalid column", "jan", bad, true, nrn.Number{}, "", true},
		{"invalid column, username ok", m.Digits(), "abc", true, m, "username", true},
		{"nothing", "jan", "", false, nrn.Number{}, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := Account{Username: c.user}
			a.ResolveNRN(c.col, c.present)
			if !a.NRN.Equal(c.want) || a.NRNSource != c.source || (a.NRNProblem != "") != c.problem {
				t.Fatalf("got %v %q %q", a.NRN, a.NRNSource, a.NRNProblem)
			}
			if strings.Contains(a.NRNProblem, bad) {
				t.Fatal("problem contains the value")
			}
		})
	}
}

func TestErrorRedacts(t *testing.T) {
	n, _ := nrn.Synthetic(time.Date(1970, 5, 6, 0, 0, 0, 0, time.UTC), true, 1)
	x := Errorer{Adapter: "sqlstore", Store: "legacy"}
	err := x.Err("get", n.Digits(), errors.Join(ErrNotFound, errors.New("driver said "+n.Format())))
	if !errors.Is(err, ErrNotFound) {
		t.Fatal("sentinel lost")
	}
	msg := err.Error()
	if nrn.Contains(msg) || !strings.HasPrefix(msg, "sqlstore: ") || !strings.Contains(msg, n.Mask()) {
		t.Fatalf("bad message %q", nrn.Scrub(msg))
	}
	if x.Err("get", "1", nil) != nil {
		t.Fatal("nil cause must give nil")
	}
	if s := SafeID("a\xffb"); !strings.Contains(s, "\uFFFD") {
		t.Fatalf("invalid utf8 not escaped: %s", s)
	}
	if s := SafeID(strings.Repeat("x", 500)); len(s) > 80 {
		t.Fatalf("not truncated: %d", len(s))
	}
}

func TestTruthy(t *testing.T) {
	for v, want := range map[string]bool{"1": true, " TRUE ": true, "ja": true, "0": false, "": false, "no": false, "f": false} {
		if Truthy(v) != want {
			t.Errorf("Truthy(%q) != %v", v, want)
		}
	}
}

func TestSwapCheck(t *testing.T) {
	cases := []struct {
		name string
		s    Swap
		ok   bool
	}{
		{"ok", Swap{ID: "1", Old: "a", New: "b"}, true},
		{"null ok", Swap{ID: "1", OldNull: true, New: "b"}, true},
		{"no id", Swap{Old: "a", New: "b"}, false},
		{"null with old", Swap{ID: "1", OldNull: true, Old: "x", New: "b"}, false},
		{"too long", Swap{ID: "1", Old: "a", New: strings.Repeat("b", MaxValue+1)}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if (c.s.Check() == nil) != c.ok {
				t.Fatal("unexpected result")
			}
		})
	}
	if CheckLimit(0) == nil || CheckLimit(MaxLimit+1) == nil || CheckLimit(10) != nil {
		t.Fatal("CheckLimit")
	}
}
