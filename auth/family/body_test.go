package family_test

import (
	"bytes"
	"errors"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/overstap/overstap/auth/family"
	"github.com/overstap/overstap/auth/nrn"
)

const field = "rijksregisternummer"

// member is a synthetic number (sequence 9xx).
var member = func() nrn.Number {
	n, err := nrn.Synthetic(time.Date(1985, 7, 30, 0, 0, 0, 0, time.UTC), true, 991)
	if err != nil {
		panic(err)
	}
	return n
}()

// fullWidth writes the digits as full-width digits (U+FF10...).
func fullWidth(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r - '0' + '\uff10')
	}
	return b.String()
}

// badCheck is the member's number with wrong check digits.
func badCheck() string {
	d := member.Digits()
	last := (d[10]-'0'+1)%10 + '0'
	return d[:10] + string(rune(last))
}

func req(ct, query, body string) *http.Request {
	r := httptest.NewRequest("POST", "/family/add"+query, strings.NewReader(body))
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	return r
}

func multipartBody(t testing.TB, parts [][2]string, file bool) (string, string) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, p := range parts {
		_ = w.WriteField(p[0], p[1])
	}
	if file {
		fw, _ := w.CreateFormFile(field, "nrn.txt")
		fw.Write([]byte(member.Digits()))
	}
	w.Close()
	return w.FormDataContentType(), b.String()
}

// TestExtractMemberWrittenForms: every written form names the same member,
// and the app gets the canonical 11 digits.
func TestExtractMemberWrittenForms(t *testing.T) {
	d := member.Digits()
	forms := []string{
		d, member.Format(), d[:6] + " " + d[6:9] + " " + d[9:], d[:6] + "-" + d[6:9] + "-" + d[9:],
		" " + member.Format() + " ",
		fullWidth(d),
		d[:2] + "." + d[2:4] + "." + d[4:6] + "\u2013" + d[6:9] + "." + d[9:], // en dash
		d[:6] + "\u00a0" + d[6:9] + "\u00a0" + d[9:],                          // no-break spaces
	}
	for _, f := range forms {
		t.Run(f, func(t *testing.T) {
			ex, err := family.ExtractMember(req("application/x-www-form-urlencoded", "", url.Values{field: {f}, "relatie": {"kind"}}.Encode()), field, 1<<14)
			if err != nil || !ex.Member.Equal(member) {
				t.Fatalf("%v %v", ex.Member, err)
			}
			got, _ := url.ParseQuery(string(ex.Body))
			if len(got[field]) != 1 || got[field][0] != d || got.Get("relatie") != "kind" || ex.ContentType != "application/x-www-form-urlencoded" {
				t.Fatalf("forwarded %q", ex.Body)
			}
		})
	}
}

// TestExtractMemberAttacks is the request half of the attack table: every
// ambiguous request is refused, so the app never reads a different copy.
func TestExtractMemberAttacks(t *testing.T) {
	d := member.Digits()
	o, _ := nrn.Synthetic(time.Date(1993, 5, 18, 0, 0, 0, 0, time.UTC), false, 992)
	other := o.Digits()
	mpCT, mpDup := multipartBody(t, [][2]string{{field, d}, {field, other}}, false)
	mpCT2, mpFile := multipartBody(t, [][2]string{{"x", "y"}}, true)
	cases := []struct {
		name          string
		ct, query     string
		body          string
		extraCT, gzip bool
		want          error
	}{
		{"duplicated form field", "application/x-www-form-urlencoded", "", field + "=" + d + "&" + field + "=" + other, false, false, family.ErrDuplicate},
		{"duplicated field differing in case", "application/x-www-form-urlencoded", "", field + "=" + d + "&Rijksregisternummer=" + other, false, false, family.ErrDuplicate},
		{"field in body and query", "application/x-www-form-urlencoded", "?" + field + "=" + other, field + "=" + d, false, false, family.ErrDuplicate},
		{"field in query, other case", "application/json", "?RIJKSREGISTERNUMMER=" + other, `{"` + field + `":"` + d + `"}`, false, false, family.ErrDuplicate},
		{"JSON duplicate keys", "application/json", "", `{"` + field + `":"` + d + `","` + field + `":"` + other + `"}`, false, false, family.ErrDuplicate},
		{"JSON duplicate keys differing in case", "application/json", "", `{"` + field + `":"` + d + `","RijksRegisterNummer":"` + other + `"}`, false, false, family.ErrDuplicate},
		{"JSON body sent as form", "application/x-www-form-urlencoded", "", `{"` + field + `":"` + d + `"}`, false, false, family.ErrMissingField},
		{"form body sent as JSON", "application/json", "", field + "=" + d, false, false, family.ErrMalformed},
		{"no content type", "", "", field + "=" + d, false, false, family.ErrContentType},
		{"two content types", "application/x-www-form-urlencoded", "", field + "=" + d, true, false, family.ErrContentType},
		{"text/plain", "text/plain", "", field + "=" + d, false, false, family.ErrContentType},
		{"latin-1 charset", "application/x-www-form-urlencoded; charset=iso-8859-1", "", field + "=" + d, false, false, family.ErrContentType},
		{"compressed body", "application/x-www-form-urlencoded", "", field + "=" + d, false, true, family.ErrContentType},
		{"semicolon separator", "application/x-www-form-urlencoded", "", field + "=" + d + ";" + field + "=" + other, false, false, family.ErrMalformed},
		{"JSON trailing object", "application/json", "", `{"` + field + `":"` + d + `"}{"` + field + `":"` + other + `"}`, false, false, family.ErrMalformed},
		{"JSON array", "application/json", "", `["` + d + `"]`, false, false, family.ErrMalformed},
		{"JSON member as object", "application/json", "", `{"` + field + `":{"v":"` + d + `"}}`, false, false, family.ErrMalformed},
		{"multipart duplicate", mpCT, "", mpDup, false, false, family.ErrDuplicate},
		{"multipart file part", mpCT2, "", mpFile, false, false, family.ErrContentType},
		{"missing field", "application/x-www-form-urlencoded", "", "naam=x", false, false, family.ErrMissingField},
		{"bad checksum", "application/x-www-form-urlencoded", "", field + "=" + badCheck(), false, false, family.ErrBadNRN},
		{"letters", "application/x-www-form-urlencoded", "", field + "=abc", false, false, family.ErrBadNRN},
		{"NUL byte", "application/x-www-form-urlencoded", "", field + "=" + d + "%00", false, false, family.ErrMalformed},
		{"too large", "application/x-www-form-urlencoded", "", field + "=" + d + "&x=" + strings.Repeat("a", 1<<14), false, false, family.ErrTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := req(c.ct, c.query, c.body)
			if c.extraCT {
				r.Header.Add("Content-Type", "application/json")
			}
			if c.gzip {
				r.Header.Set("Content-Encoding", "gzip")
			}
			_, err := family.ExtractMember(r, field, 1<<14)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if err != nil && strings.Contains(err.Error(), d) {
				t.Fatal("error shows the number")
			}
		})
	}
}

// TestExtractMemberJSONAndMultipart: the forwarded body keeps the media
// type and the other fields, with the member canonical.
func TestExtractMemberJSONAndMultipart(t *testing.T) {
	ex, err := family.ExtractMember(req("application/json; charset=utf-8", "", `{"relatie":{"soort":"kind"},"`+field+`":"`+member.Format()+`"}`), field, 1<<14)
	if err != nil || string(ex.Body) != `{"relatie":{"soort":"kind"},"`+field+`":"`+member.Digits()+`"}` || ex.ContentType != "application/json" {
		t.Fatalf("JSON: %s %v", ex.Body, err)
	}
	ex, err = family.ExtractMember(req("application/json", "", `{"`+field+`":`+member.Digits()+`}`), field, 1<<14)
	if err != nil || !ex.Member.Equal(member) {
		t.Fatalf("JSON number: %v", err)
	}
	ct, body := multipartBody(t, [][2]string{{field, member.Format()}, {"naam", "Lotte"}}, false)
	ex, err = family.ExtractMember(req(ct, "", body), field, 1<<14)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("POST", "/", bytes.NewReader(ex.Body))
	r.Header.Set("Content-Type", ex.ContentType)
	if err := r.ParseMultipartForm(1 << 14); err != nil || len(r.MultipartForm.Value[field]) != 1 || r.MultipartForm.Value[field][0] != member.Digits() || r.FormValue("naam") != "Lotte" {
		t.Fatalf("multipart forwarded: %v %v", r.MultipartForm, err)
	}
}

// FuzzExtractMember: the parser never panics, and whatever it accepts,
// the standard library reads back from the forwarded body as exactly one
// copy of the verified number.
func FuzzExtractMember(f *testing.F) {
	f.Add("application/x-www-form-urlencoded", "", field+"="+member.Format())
	f.Add("application/x-www-form-urlencoded", "?a=b", field+"="+member.Digits()+"&a=1")
	f.Add("application/json", "", `{"`+field+`":"`+member.Digits()+`"}`)
	f.Add("application/json", "", `{"`+field+`":"`+member.Digits()+`","`+field+`":"`+member.Digits()+`"}`)
	f.Add("multipart/form-data; boundary=x", "", "--x\r\nContent-Disposition: form-data; name=\""+field+"\"\r\n\r\n"+member.Digits()+"\r\n--x--\r\n")
	f.Fuzz(func(t *testing.T, ct, query, body string) {
		if strings.ContainsAny(query, " #\r\n") || (query != "" && query[0] != '?') {
			return
		}
		r := httptest.NewRequest("POST", "/family/add", strings.NewReader(body))
		r.URL.RawQuery = strings.TrimPrefix(query, "?")
		r.Header.Set("Content-Type", ct)
		ex, err := family.ExtractMember(r, field, 1<<14)
		if err != nil {
			return
		}
		fr := httptest.NewRequest("POST", "/family/add", bytes.NewReader(ex.Body))
		fr.URL.RawQuery = r.URL.RawQuery
		fr.Header.Set("Content-Type", ex.ContentType)
		var vals []string
		switch {
		case strings.HasPrefix(ex.ContentType, "multipart/"):
			if err := fr.ParseMultipartForm(1 << 14); err != nil {
				t.Fatalf("forwarded multipart unreadable: %v", err)
			}
			vals = fr.MultipartForm.Value[field]
			vals = append(vals, fr.URL.Query()[field]...)
		case ex.ContentType == "application/json":
			return // checked by the JSON cases; encoding/json takes the last key, and keys are unique
		default:
			if err := fr.ParseForm(); err != nil {
				t.Fatalf("forwarded form unreadable: %v", err)
			}
			vals = fr.Form[field]
		}
		if len(vals) != 1 || vals[0] != ex.Member.Digits() {
			t.Fatalf("forwarded %q reads back as %q", ex.Body, vals)
		}
	})
}
