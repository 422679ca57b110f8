package identity

import (
	"strings"
	"testing"
	"time"
)

func TestLevelOrderAndNames(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Level
	}{{"low", LevelLow}, {"Substantial", LevelSubstantial}, {"HIGH", LevelHigh}} {
		got, err := ParseLevel(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	if _, err := ParseLevel("medium"); err == nil {
		t.Error("ParseLevel(medium) accepted")
	}
	if !(LevelNone < LevelLow && LevelLow < LevelSubstantial && LevelSubstantial < LevelHigh) {
		t.Error("levels are not ordered")
	}
	for _, l := range []Level{LevelNone, LevelLow, LevelSubstantial, LevelHigh} {
		b, err := l.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back Level
		if err := back.UnmarshalText(b); err != nil || back != l {
			t.Errorf("round trip of %v = %v, %v", l, back, err)
		}
	}
	if _, err := Level(9).MarshalText(); err == nil {
		t.Error("level 9 marshalled")
	}
}

func TestMeets(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	id := &Identity{Level: LevelSubstantial, AuthTime: now.Add(-10 * time.Minute)}
	for _, tc := range []struct {
		min    Level
		maxAge time.Duration
		want   bool
	}{
		{LevelLow, 0, true},
		{LevelSubstantial, 0, true},
		{LevelHigh, 0, false},
		{LevelSubstantial, 15 * time.Minute, true},
		{LevelSubstantial, 5 * time.Minute, false},
	} {
		if got := id.Meets(tc.min, tc.maxAge, now); got != tc.want {
			t.Errorf("Meets(%v, %v) = %v, want %v", tc.min, tc.maxAge, got, tc.want)
		}
	}
	if (&Identity{Level: LevelHigh}).Meets(LevelLow, time.Minute, now) {
		t.Error("an identity without auth time met a max age")
	}
	var none *Identity
	if none.Meets(LevelNone, 0, now) {
		t.Error("nil identity met a level")
	}
}

func TestCleanName(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "Jan Peeters", "Jan Peeters"},
		{"NFC", "Rene\u0301e", "Ren\u00e9e"},
		{"white space folded and trimmed", "  Jan \t\n Peeters  ", "Jan Peeters"},
		{"controls and bidi overrides removed", "Jan\u202e\u0000 Peeters\u2066", "Jan Peeters"},
		{"bidi marks kept", "\u200fمحمد", "\u200fمحمد"},
		{"replacement character removed", "Jan\uFFFD", "Jan"},
		{"exactly MaxName bytes kept", strings.Repeat("a", MaxName), strings.Repeat("a", MaxName)},
		{"longer dropped, not cut", strings.Repeat("é", MaxName/2+1), ""},
		{"far too long dropped", strings.Repeat("a", 10*MaxName), ""},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := CleanName(tc.in); got != tc.want {
				t.Errorf("CleanName(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
