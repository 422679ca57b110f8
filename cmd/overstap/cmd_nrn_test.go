package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/overstap/overstap/auth/nrn"
)

func TestNRNCheck(t *testing.T) {
	male, err := nrn.Synthetic(time.Date(1985, 7, 30, 0, 0, 0, 0, time.UTC), true, 3)
	if err != nil {
		t.Fatal(err)
	}
	female, err := nrn.Synthetic(time.Date(2004, 2, 29, 0, 0, 0, 0, time.UTC), false, 8)
	if err != nil {
		t.Fatal(err)
	}
	bis, err := nrn.SyntheticBIS(time.Date(1990, 5, 17, 0, 0, 0, 0, time.UTC), true, false, 1)
	if err != nil {
		t.Fatal(err)
	}
	d := male.Digits()
	bad := ""
	for c := 0; bad == ""; c++ { // wrong check digits
		if _, err := nrn.Parse(fmt.Sprintf("%s%02d", d[:9], c)); err != nil {
			bad = fmt.Sprintf("%s%02d", d[:9], c)
		}
	}
	tests := []struct {
		name     string
		in       string
		want     string
		exitCode int // 0: run returns nil
	}{
		{"all valid, every form", strings.Join([]string{
			d, male.Format(), " " + female.Digits() + " ", bis.Digits()[:6] + "-" + bis.Digits()[6:9] + "-" + bis.Digits()[9:],
			"00012556777",
		}, "\n") + "\n",
			d + "\tvalid\t" + d + "\tnrn\t1985-07-30\tM\n" +
				male.Format() + "\tvalid\t" + d + "\tnrn\t1985-07-30\tM\n" +
				" " + female.Digits() + " \tvalid\t" + female.Digits() + "\tnrn\t2004-02-29\tF\n" +
				bis.Digits()[:6] + "-" + bis.Digits()[6:9] + "-" + bis.Digits()[9:] + "\tvalid\t" + bis.Digits() + "\tbis\t1990-05-17\tunknown\n" +
				"00012556777\tvalid\t00012556777\tnrn\t2000-01-25\tM\n", 0},
		{"every form the legacy-login check refuses is normalised", func() string {
			var b strings.Builder
			for _, f := range looseForms(d) {
				b.WriteString(f + "\n")
			}
			return b.String()
		}(), func() string {
			var b strings.Builder
			for _, f := range looseForms(d) {
				b.WriteString(f + "\tvalid\t" + d + "\tnrn\t1985-07-30\tM\n")
			}
			return b.String()
		}(), 0},
		{"CRLF line endings", d + "\r\n", d + "\tvalid\t" + d + "\tnrn\t1985-07-30\tM\n", 0},
		{"no trailing newline", d, d + "\tvalid\t" + d + "\tnrn\t1985-07-30\tM\n", 0},
		{"empty input", "", "", 0},
		{"one invalid among valid", d + "\n" + bad + "\nhello\n\n",
			d + "\tvalid\t" + d + "\tnrn\t1985-07-30\tM\n" +
				bad + "\tinvalid\t\t\t\t\n" +
				"hello\tinvalid\t\t\t\t\n" +
				"\tinvalid\t\t\t\t\n", 1},
		{"unknown date parts", "85000090111\n", "85000090111\tvalid\t85000090111\tnrn\t1985-00-00\tM\n", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), []string{"nrn", "check"}, strings.NewReader(tc.in), &out, &errOut)
			if tc.exitCode == 0 && err != nil {
				t.Fatalf("run: %v", err)
			}
			if tc.exitCode != 0 {
				var ee exitError
				if !errors.As(err, &ee) || ee.code != tc.exitCode {
					t.Fatalf("run error = %v, want exit code %d", err, tc.exitCode)
				}
			}
			if out.String() != tc.want {
				t.Errorf("output:\n%q\nwant:\n%q", out.String(), tc.want)
			}
			if errOut.Len() != 0 {
				t.Errorf("stderr: %q", errOut.String())
			}
		})
	}
}

// looseForms writes d in forms beyond the four canonical layouts: mixed
// separators, stdnum's grouping, full-width digits, no-break spaces.
func looseForms(d string) []string {
	fw := func(s string) string {
		var b strings.Builder
		for _, r := range s {
			if r >= '0' && r <= '9' {
				r = '０' + (r - '0')
			}
			b.WriteRune(r)
		}
		return b.String()
	}
	return []string{
		d[:6] + "-" + d[6:9] + "." + d[9:],
		d[:2] + " " + d[2:4] + " " + d[4:6] + " " + d[6:9] + " " + d[9:],
		fw(d),
		d[:6] + "\u00a0" + d[6:9] + "\u00a0" + d[9:],
		d[:2] + "/" + d[2:4] + "/" + d[4:6] + " " + d[6:],
	}
}
