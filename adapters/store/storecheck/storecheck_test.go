package storecheck

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/overstap/overstap/adapters/store"
	"github.com/overstap/overstap/adapters/store/csvstore"
	"github.com/overstap/overstap/auth/nrn"
)

func TestCheckCounts(t *testing.T) {
	n1, _ := nrn.Synthetic(time.Date(1980, 1, 2, 0, 0, 0, 0, time.UTC), true, 1)
	n2, _ := nrn.Synthetic(time.Date(1990, 3, 4, 0, 0, 0, 0, time.UTC), false, 2)
	n3, _ := nrn.Synthetic(time.Date(1970, 5, 6, 0, 0, 0, 0, time.UTC), true, 5)
	n4, _ := nrn.Synthetic(time.Date(1975, 8, 9, 0, 0, 0, 0, time.UTC), false, 6)
	bad := n2.Digits()[:10] + string('0'+(n2.Digits()[10]-'0'+1)%10)
	dir := t.TempDir()
	export := "id,login,hash,rrn\n" +
		"1," + n1.Format() + ",{SSHA}aaa,\n" + // NRN username
		"2,jan,{SSHA}bbb," + n1.Digits() + "\n" + // same person in the column: duplicate
		"3,piet,,\n" + // NULL credential, no NRN
		"4,mia,$weird$,zz\n" + // NRN problem, unknown scheme
		"5," + bad + ",md5\xff,\n" + // NRN-shaped invalid username, non-UTF-8
		"6," + n3.Format() + ",{SSHA}ccc," + n3.Digits() + "\n" + // valid NRN username and the same in the column: no warning
		"7," + n4.Digits()[:6] + "-" + n4.Digits()[6:9] + "." + n4.Digits()[9:] + ",{SSHA}ddd,\n" // mixed separators: still an NRN username
	os.WriteFile(filepath.Join(dir, "e.csv"), []byte(export), 0o600)
	s, err := csvstore.Open(context.Background(), "eloket", csvstore.Config{Path: filepath.Join(dir, "e.csv"),
		ChangesPath: filepath.Join(dir, "c.csv"), Columns: csvstore.Columns{ID: "id", Username: "login", Password: "hash", NRN: "rrn"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	classify := func(a store.Account) string {
		if strings.HasPrefix(a.Credential, "{SSHA}") {
			return "ssha"
		}
		return "unknown"
	}
	r, err := Check(context.Background(), s, Options{Sample: 100, Classify: classify})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want int
	}{
		{"read", r.Read, 7}, {"nrn column", r.NRNColumn, 2}, {"nrn username", r.NRNUsername, 2}, {"nrn none", r.NRNNone, 3},
		{"problems", r.NRNProblems["not a written form of a national number"], 1}, {"shaped invalid", r.UsernameNRNShapedInvalid, 1},
		{"duplicates", r.DuplicateNRN, 2}, {"null", r.CredentialNull, 1}, {"ssha", r.Schemes["ssha"], 4}, {"unknown", r.Schemes["unknown"], 2},
		{"non-utf8", r.NonUTF8["credential"], 1},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.name, c.got, c.want)
		}
	}
	if !r.Complete || len(r.Warnings) < 4 {
		t.Errorf("complete=%v warnings=%v", r.Complete, r.Warnings)
	}
	for _, w := range r.Warnings {
		if nrn.Contains(w) {
			t.Errorf("warning holds a national number: %s", nrn.Scrub(w))
		}
	}
	// Sample bound.
	r, err = Check(context.Background(), s, Options{Sample: 2})
	if err != nil || r.Read != 2 || r.Complete {
		t.Fatalf("sample: %d %v %v", r.Read, r.Complete, err)
	}
}
