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
