package strictbody

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

var (
	errLarge = errors.New("large")
	errBad   = errors.New("malformed")
	errType  = errors.New("content type")
	errs     = Errors{TooLarge: errLarge, Malformed: errBad, ContentType: errType}
)

func TestRead(t *testing.T) {
	lenient := Rules{Max: 16, NoTypeIsForm: true, Errors: errs}
	strict := Rules{Max: 16, RefuseEncoded: true, CutIsTooLarge: true, Errors: errs}
	for _, c := range []struct {
		name    string
		ru      Rules
		ct, ce  []string
		body    string
		cut     bool
		wantMT  string
		wantErr error
	}{
		{name: "lenient no type is a form", ru: lenient, body: "a=b", wantMT: Form},
		{name: "lenient empty type is a form", ru: lenient, ct: []string{""}, body: "a=b", wantMT: Form},
		{name: "strict no type", ru: strict, body: "a=b", wantErr: errType},
		{name: "strict empty type", ru: strict, ct: []string{""}, body: "a=b", wantErr: errType},
		{name: "two types", ru: lenient, ct: []string{Form, Form}, wantErr: errType},
		{name: "json", ru: strict, ct: []string{"application/json; charset=UTF-8"}, body: "{}", wantMT: "application/json"},
		{name: "strict latin1", ru: strict, ct: []string{"application/json; charset=latin1"}, wantErr: errType},
		{name: "lenient latin1", ru: lenient, ct: []string{"application/json; charset=latin1"}, wantMT: "application/json"},
		{name: "strict gzip", ru: strict, ct: []string{Form}, ce: []string{"gzip"}, wantErr: errType},
		{name: "strict identity", ru: strict, ct: []string{Form}, ce: []string{"Identity"}, wantMT: Form},
		{name: "strict two identities", ru: strict, ct: []string{Form}, ce: []string{"identity", "identity"}, wantErr: errType},
		{name: "lenient gzip", ru: lenient, ct: []string{Form}, ce: []string{"gzip"}, wantMT: Form},
		{name: "garbage type", ru: lenient, ct: []string{"a/b; ;;="}, wantErr: errType},
		{name: "too large", ru: lenient, body: strings.Repeat("a", 17), wantErr: errLarge},
		{name: "cut strict", ru: strict, ct: []string{Form}, body: strings.Repeat("a", 9), cut: true, wantErr: errLarge},
		{name: "cut lenient", ru: lenient, body: strings.Repeat("a", 9), cut: true, wantErr: errBad},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			r := httptest.NewRequest("POST", "/", strings.NewReader(c.body))
			if c.cut {
				r.Body = http.MaxBytesReader(w, r.Body, 8)
			}
			for _, v := range c.ct {
				r.Header.Add("Content-Type", v)
			}
			for _, v := range c.ce {
				r.Header.Add("Content-Encoding", v)
			}
			body, mt, _, err := Read(r, c.ru)
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) {
					t.Fatalf("err %v, want %v", err, c.wantErr)
				}
				return
			}
			if err != nil || mt != c.wantMT || string(body) != c.body {
				t.Fatalf("%q %q %v", body, mt, err)
			}
		})
	}
}

func TestJSONObject(t *testing.T) {
	var keys []string
	stop := errors.New("stop")
	for _, c := range []struct {
		body    string
		want    []string
		wantErr error
	}{
		{`{"a":1,"A":{"x":[1]},"b":"s"}`, []string{`a=1`, `A={"x":[1]}`, `b="s"`}, nil},
		{`{}`, nil, nil},
		{`[1]`, nil, errBad},
		{`{"a":1}{"b":2}`, []string{"a=1"}, errBad},
		{`{"a":1`, []string{"a=1"}, errBad},
		{`{"a":1,"stop":2,"c":3}`, []string{"a=1", "stop=2"}, stop},
	} {
		keys = nil
		err := JSONObject([]byte(c.body), errs, func(k string, raw json.RawMessage) error {
			keys = append(keys, k+"="+string(raw))
			if k == "stop" {
				return stop
			}
			return nil
		})
		if !errors.Is(err, c.wantErr) || strings.Join(keys, ",") != strings.Join(c.want, ",") {
			t.Errorf("%s: %q %v", c.body, keys, err)
		}
	}
}

func TestMultipart(t *testing.T) {
	part := func(name, file, v string) string {
		h := `form-data; name="` + name + `"`
		if file != "" {
			h += `; filename="` + file + `"`
		}
		return "--x\r\nContent-Disposition: " + h + "\r\n\r\n" + v + "\r\n"
	}
	var got []string
	f := func(name, v string) error { got = append(got, name+"="+v); return nil }
	for _, c := range []struct {
		name, body  string
		refuseFiles bool
		want        string
		wantErr     error
	}{
		{"fields", part("a", "", "1") + part("", "", "2") + "--x--\r\n", false, "a=1,=2", nil},
		{"value cut after maxField+1", part("a", "", "123456") + "--x--\r\n", false, "a=12345", nil},
		{"file read", part("a", "f.txt", "1") + "--x--\r\n", false, "a=1", nil},
		{"file refused", part("a", "f.txt", "1") + "--x--\r\n", true, "", errType},
		{"too many parts", strings.Repeat(part("a", "", "1"), 66) + "--x--\r\n", false, strings.TrimSuffix(strings.Repeat("a=1,", 65), ","), errLarge},
		{"broken", "--x\r\nno headers", false, "", errBad},
	} {
		got = nil
		err := Multipart([]byte(c.body), "x", 4, c.refuseFiles, errs, f)
		if !errors.Is(err, c.wantErr) || strings.Join(got, ",") != c.want {
			t.Errorf("%s: %q %v", c.name, got, err)
		}
	}
	if err := Multipart([]byte("x"), "", 4, false, errs, f); !errors.Is(err, errBad) {
		t.Errorf("no boundary: %v", err)
	}
}
