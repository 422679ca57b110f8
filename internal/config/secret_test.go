package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestResolveSecret(t *testing.T) {
	env := map[string]string{"GOOD": "s3cret-env", "EMPTY": ""}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	files := map[string]string{"/s": "s3cret-file\n", "/crlf": "v\r\n", "/empty": "\n", "/big": strings.Repeat("x", MaxSecretFile+1)}
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

// TestReadSecretFileBounds reads real files: a secret file over the bound
// is refused, and /dev/zero, a FIFO with no writer and a directory are
// refused without reading (before the fix /dev/zero was read until memory
// ran out and the FIFO blocked for ever).
func TestReadSecretFileBounds(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, size int) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, bytes.Repeat([]byte("k"), size), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	atLimit := write("at-limit", MaxSecretFile)
	over := write("over", MaxSecretFile+1)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(atLimit, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, err string
	}{
		{"at the limit", atLimit, ""},
		{"symlink to a regular file", link, ""},
		{"one byte over", over, "larger than 65536 bytes"},
		{"/dev/zero", "/dev/zero", "not a regular file (a device)"},
		{"FIFO without a writer", fifo, "not a regular file (a named pipe)"},
		{"directory", dir, "not a regular file (a directory)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := ReadSecretFile(tc.path)
			if tc.err == "" {
				if err != nil || len(b) != MaxSecretFile {
					t.Fatalf("= %d bytes, %v", len(b), err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
			// The YAML path reads through the same function.
			var c struct {
				Key Secret `yaml:"key"`
			}
			derr := Decode(strings.NewReader("key: file:"+tc.path+"\n"), &c)
			if (derr == nil) != (tc.err == "") {
				t.Fatalf("Decode err = %v", derr)
			}
			if tc.err != "" && !strings.Contains(derr.Error(), tc.err) {
				t.Fatalf("Decode err = %v, want %q", derr, tc.err)
			}
		})
	}
	// A config file that is a FIFO must not block Load either.
	if err := Load(fifo, &struct{}{}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("Load(fifo) = %v", err)
	}
	// ResolveSecret with a nil reader uses the bounded one.
	if _, err := ResolveSecret("file:/dev/zero", nil, nil); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("ResolveSecret(nil read) = %v", err)
	}
}
