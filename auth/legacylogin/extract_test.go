package legacylogin

import (
	"bytes"
	"errors"
	"mime/multipart"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/overstap/overstap/auth/nrn"
)

var fields = Fields{Username: "gebruikersnaam", Password: "wachtwoord"}

func testNRN(t testing.TB) nrn.Number {
	n, err := nrn.Synthetic(time.Date(1985, 7, 30, 0, 0, 0, 0, time.UTC), true, 11)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestExtract(t *testing.T) {
	n := testNRN(t)
	mp := func(parts ...[2]string) (string, []byte) {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		for _, p := range parts {
			fw, _ := w.CreateFormField(p[0])
			fw.Write([]byte(p[1]))
		}
		w.Close()
		return w.FormDataContentType(), b.Bytes()
	}
	mpCT, mpBody := mp([2]string{"gebruikersnaam", n.Format()}, [2]string{"wachtwoord", "x"})
	mpDupCT, mpDupBody := mp([2]string{"gebruikersnaam", "jan"}, [2]string{"gebruikersnaam", n.Digits()})
	for _, tc := range []struct {
		name, ct, query, body string
		wantUser              string
		wantErr               error
	}{
		{name: "form", ct: "application/x-www-form-urlencoded", body: "gebruikersnaam=" + n.Digits() + "&wachtwoord=pw", wantUser: n.Digits()},
		{name: "form no content type", body: "gebruikersnaam=jan&wachtwoord=pw", wantUser: "jan"},
		{name: "form charset param", ct: "application/x-www-form-urlencoded; charset=utf-8", body: "gebruikersnaam=jan", wantUser: "jan"},
		{name: "json", ct: "application/json", body: `{"gebruikersnaam":"` + n.Format() + `","wachtwoord":"pw"}`, wantUser: n.Format()},
		{name: "json number", ct: "application/json", body: `{"gebruikersnaam":` + strings.TrimLeft(n.Digits(), "0") + `}`, wantUser: strings.TrimLeft(n.Digits(), "0")},
		{name: "multipart", ct: mpCT, body: string(mpBody), wantUser: n.Format()},
		{name: "form duplicate", body: "gebruikersnaam=jan&gebruikersnaam=" + n.Digits(), wantErr: ErrDuplicate},
		{name: "form duplicate by case", body: "gebruikersnaam=jan&Gebruikersnaam=" + n.Digits(), wantErr: ErrDuplicate},
		{name: "body and query", query: "gebruikersnaam=" + n.Digits(), body: "gebruikersnaam=jan", wantErr: ErrDuplicate},
		{name: "json duplicate key", ct: "application/json", body: `{"gebruikersnaam":"jan","gebruikersnaam":"` + n.Digits() + `"}`, wantErr: ErrDuplicate},
		{name: "json duplicate by case", ct: "application/json", body: `{"gebruikersnaam":"jan","GEBRUIKERSNAAM":"x"}`, wantErr: ErrDuplicate},
		{name: "multipart duplicate", ct: mpDupCT, body: string(mpDupBody), wantErr: ErrDuplicate},
		{name: "json array", ct: "application/json", body: `[1]`, wantErr: ErrMalformed},
		{name: "json trailing", ct: "application/json", body: `{"a":"b"}{"gebruikersnaam":"x"}`, wantErr: ErrMalformed},
		{name: "json truncated", ct: "application/json", body: `{"gebruikersnaam":"x`, wantErr: ErrMalformed},
		{name: "bad escape", body: "gebruikersnaam=%zz", wantErr: ErrMalformed},
		{name: "invalid utf8", body: "gebruikersnaam=%ff%fe", wantErr: ErrMalformed},
		{name: "nul byte", body: "gebruikersnaam=a%00b", wantErr: ErrMalformed},
		{name: "oversized body", body: "gebruikersnaam=" + strings.Repeat("a", 70_000), wantErr: ErrTooLarge},
		{name: "oversized field", body: "gebruikersnaam=" + strings.Repeat("a", 2000), wantErr: ErrTooLarge},
		{name: "xml", ct: "text/xml", body: "<a/>", wantErr: ErrContentType},
		{name: "multipart without boundary", ct: "multipart/form-data", body: "x", wantErr: ErrMalformed},
		{name: "garbage content type", ct: "application/x-www-form-urlencoded; ;;=", body: "a=b", wantErr: ErrContentType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := "/login"
			if tc.query != "" {
				target += "?" + tc.query
			}
			r := httptest.NewRequest("POST", target, strings.NewReader(tc.body))
			if tc.ct != "" {
				r.Header.Set("Content-Type", tc.ct)
			}
			a, err := Extract(r, fields, 64<<10)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.Username != tc.wantUser {
				t.Fatalf("username = %q, want %q", a.Username, tc.wantUser)
			}
		})
	}
}
