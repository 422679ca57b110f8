package config

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestResolveSecret(t *testing.T) {
	env := map[string]string{"GOOD": "s3cret-env", "EMPTY": ""}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	files := map[string]string{"/s": "s3cret-file\n", "/crlf": "v\r\n", "/empty": "\n", "/big": strings.Repeat("x", maxSecretFile+1)}
	read := func(p string) ([]byte, error) {
		if v, ok := files[p]; ok {
			return []byte(v), nil
		}
		return nil, fs.ErrNotExist
	}
	tests := []struct {
		ref, want, source, err string
	}{
		{"", "", "", ""},
		{"${GOOD}", "s3cret-env", "env:GOOD", ""},
		{"${MISSING}", "", "", "environment variable MISSING is not set"},
		{"${EMPTY}", "", "", "environment variable EMPTY is not set"},
		{"${1BAD}", "", "", "not a valid environment variable name"},
		{"${A-B}", "", "", "not a valid environment variable name"},
		{"file:/s", "s3cret-file", "file:/s", ""},
		{"file:/crlf", "v", "file:/crlf", ""},
		{"file:/empty", "", "", "is empty"},
		{"file:/big", "", "", "larger than"},
		{"file:/nope", "", "", "reading /nope"},
		{"file:", "", "", "needs a path"},
		{"insecure-literal:demo", "demo", "literal", ""},
		{"plain-value", "", "", "must be a reference"},
		{"$GOOD", "", "", "must be a reference"},
	}
	for _, tc := range tests {
		t.Run(tc.ref, func(t *testing.T) {
			s, err := ResolveSecret(tc.ref, lookup, read)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("error shows the value: %v", err)
				}
				return
			}
			if err != nil || s.Value() != tc.want || s.Source() != tc.source {
				t.Errorf("= %q from %q, %v", s.Value(), s.Source(), err)
			}
		})
	}
	if _, err := ResolveSecret("plain", lookup, read); !errors.Is(err, ErrSecretLiteral) {
		t.Errorf("literal error %v is not ErrSecretLiteral", err)
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	s := NewSecret([]byte("s3cret-value"))
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "secret", s)
	if !strings.Contains(logged.String(), `"secret":"[redacted]"`) {
		t.Errorf("JSON log: %s", logged.String())
	}
	y, err := yaml.Marshal(struct{ S Secret }{s})
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%+v %#v %q", s, s, s), logged.String(), string(y), fmt.Sprintf("%v", struct{ S Secret }{s})} {
		if strings.Contains(out, "s3cret") {
			t.Errorf("secret printed: %s", out)
		}
	}
	if string(s.Bytes()) != "s3cret-value" || s.IsZero() || !(Secret{}).IsZero() {
		t.Error("Bytes/IsZero")
	}
}
