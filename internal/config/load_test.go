package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var errTooHigh = errors.New("too high")

type testConfig struct {
	Log       logSection     `yaml:"log"`
	Key       Secret         `yaml:"key"`
	Providers []provider     `yaml:"providers"`
	Apps      map[string]app `yaml:"apps"`
	Limits    *limits        `yaml:"limits"`
	Timeout   time.Duration  `yaml:"timeout"`
	Port      int            `yaml:"port"`
	Common    `yaml:",inline"`
	Ignored   string `yaml:"-"`
	hidden    string //nolint:unused // unexported fields are not keys
}

// Common is inlined: its keys sit at the top level.
type Common struct {
	Name string `yaml:"name"`
}

func (c testConfig) Validate() error {
	if c.Key.IsZero() {
		return errors.New("key: required; set it to \"${ENV_VAR}\" or \"file:/path\"")
	}
	return nil
}

type logSection struct {
	Format string `yaml:"format"`
	Level  string `yaml:"level"`
}

// Value receiver.
func (l logSection) Validate() error {
	var errs []error
	if l.Format != "" && l.Format != "text" && l.Format != "json" {
		errs = append(errs, errors.New("format: must be text or json"))
	}
	if l.Level == "loud" {
		errs = append(errs, errors.New("level: must be debug, info, warn or error"))
	}
	return errors.Join(errs...)
}

type provider struct {
	Name   string   `yaml:"name"`
	Issuer string   `yaml:"issuer"`
	Scopes []string `yaml:"scopes"`
}

// Pointer receiver.
func (p *provider) Validate() error {
	var errs []error
	if p.Issuer == "" {
		errs = append(errs, errors.New("issuer: required"))
	} else if !strings.HasPrefix(p.Issuer, "https://") {
		errs = append(errs, errors.New("issuer: must be an absolute https URL"))
	}
	if len(p.Scopes) == 0 {
		errs = append(errs, errors.New("at least one scope is required"))
	}
	return errors.Join(errs...)
}

type app struct {
	Upstream string `yaml:"upstream"`
}

// Pointer receiver, on map elements (not addressable).
func (a *app) Validate() error {
	if a.Upstream == "" {
		return errors.New("upstream: required")
	}
	return nil
}

type limits struct {
	Max int `yaml:"max"`
}

func (l *limits) Validate() error {
	if l.Max > 10 {
		return errors.Join(errors.New("max: must be at most 10"), errTooHigh)
	}
	if l.Max < 0 {
		panic("negative")
	}
	return nil
}

func decodeString(t *testing.T, doc string) (testConfig, *Error) {
	t.Helper()
	var c testConfig
	err := Decode(strings.NewReader(doc), &c)
	if err == nil {
		return c, nil
	}
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("Decode error %T %v is not *config.Error", err, err)
	}
	return c, ce
}

// summary lists "path: msg (line N)" for each problem, for comparison.
func summary(e *Error) []string {
	if e == nil {
		return nil
	}
	var out []string
	for _, p := range e.Problems {
		out = append(out, p.Error())
	}
	return out
}

func TestDecodeValid(t *testing.T) {
	t.Setenv("OVERSTAP_TEST_KEY", "from-env-0123456789")
	secretFile := filepath.Join(t.TempDir(), "s")
	if err := os.WriteFile(secretFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := `
log: {format: json, level: debug}
key: ${OVERSTAP_TEST_KEY}
name: gemeente
timeout: 1m30s
port: 8080
providers:
  - name: fas
    issuer: https://idp.example/fas
    scopes: [openid, egovnrn]
apps:
  eloket: {upstream: "http://127.0.0.1:9000"}
limits:
  max: 3
`
	c, perr := decodeString(t, doc)
	if perr != nil {
		t.Fatalf("Decode: %v", perr)
	}
	if c.Key.Value() != "from-env-0123456789" || c.Key.Source() != "env:OVERSTAP_TEST_KEY" {
		t.Errorf("key = %q from %q", c.Key.Value(), c.Key.Source())
	}
	if c.Log.Format != "json" || c.Timeout != 90*time.Second || c.Port != 8080 || c.Name != "gemeente" ||
		len(c.Providers) != 1 || c.Providers[0].Scopes[1] != "egovnrn" || c.Apps["eloket"].Upstream == "" || c.Limits.Max != 3 {
		t.Errorf("decoded %+v", c)
	}

	c, perr = decodeString(t, "key: file:"+secretFile+"\n")
	if perr != nil {
		t.Fatalf("Decode: %v", perr)
	}
	if c.Key.Value() != "from-file" {
		t.Errorf("secret from file = %q", c.Key.Value())
	}
}

func TestDecodeProblems(t *testing.T) {
	t.Setenv("OVERSTAP_TEST_KEY", "from-env-0123456789")
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"unknown top-level key with suggestion", "key: ${OVERSTAP_TEST_KEY}\nlgo: {}\n",
			[]string{`lgo: unknown key; did you mean "log"? (line 2)`}},
		{"unknown nested key in a list", `key: ${OVERSTAP_TEST_KEY}
providers:
  - issuer: https://a.example
    scopes: [openid]
  - issuer: https://b.example
    scops: [openid]
`, []string{
			"providers[1]: at least one scope is required (line 5)",
			`providers[1].scops: unknown key; did you mean "scopes"? (line 6)`,
		}},
		{"unknown key far from any", "key: ${OVERSTAP_TEST_KEY}\nlog:\n  colour: red\n",
			[]string{`log.colour: unknown key; known keys here: format, level (line 3)`}},
		{"wrong type", "key: ${OVERSTAP_TEST_KEY}\nport: eighty\n",
			[]string{"port: wrong type: cannot decode !!str `eighty` into int (line 2)"}},
		{"wrong type list for map", "key: ${OVERSTAP_TEST_KEY}\napps: [a, b]\n",
			[]string{"apps: wrong type: cannot decode !!seq into map[string]config.app (line 2)"}},
		{"bad duration", "key: ${OVERSTAP_TEST_KEY}\ntimeout: soon\n",
			[]string{"timeout: wrong type: cannot decode !!str `soon` into time.Duration (line 2)"}},
		{"missing env var names the key and the variable", "key: ${OVERSTAP_TEST_UNSET_VAR}\n",
			[]string{"key: secret: environment variable OVERSTAP_TEST_UNSET_VAR is not set (export it, or use file:/path) (line 1)"}},
		{"secret file missing", "key: file:/nonexistent/overstap/secret\n",
			[]string{"key: secret: reading /nonexistent/overstap/secret: stat /nonexistent/overstap/secret: no such file or directory (line 1)"}},
		{"secret must be a string", "key: [a]\n",
			[]string{`key: secret: must be a string: "${ENV_VAR}" or "file:/path" (line 1)`}},
		{"required key missing", "log: {format: text}\n",
			[]string{`key: required; set it to "${ENV_VAR}" or "file:/path"`}},
		{"empty document", "",
			[]string{`key: required; set it to "${ENV_VAR}" or "file:/path"`}},
		{"validation in value, pointer, map element and pointer section", `key: ${OVERSTAP_TEST_KEY}
log:
  format: xml
  level: loud
providers:
  - issuer: http://plain.example
apps:
  zeta: {}
  alpha:
    upstream: ""
limits: {max: 11}
`, []string{
			"log.format: must be text or json (line 3)",
			"log.level: must be debug, info, warn or error (line 4)",
			"providers[0].issuer: must be an absolute https URL (line 6)",
			"providers[0]: at least one scope is required (line 6)",
			"apps.zeta.upstream: required (line 8)",
			"apps.alpha.upstream: required (line 10)",
			"limits.max: must be at most 10 (line 11)",
			"limits: too high (line 11)",
		}},
		{"every kind of problem together", `key: ${OVERSTAP_TEST_NOT_SET}
port: x
log: {format: xml}
providers:
  - {issuer: "https://a.example", scopes: [openid], extra: 1}
  - {}
`, []string{
			"key: secret: environment variable OVERSTAP_TEST_NOT_SET is not set (export it, or use file:/path) (line 1)",
			"port: wrong type: cannot decode !!str `x` into int (line 2)",
			"log.format: must be text or json (line 3)",
			`providers[0].extra: unknown key; known keys here: issuer, name, scopes (line 5)`,
			"providers[1].issuer: required (line 6)",
			"providers[1]: at least one scope is required (line 6)",
		}},
		{"panicking Validate is a problem", "key: ${OVERSTAP_TEST_KEY}\nlimits: {max: -1}\n",
			[]string{"limits: validation failed: negative (line 2)"}},
		{"syntax error", "key: [unclosed\n",
			[]string{"invalid YAML: line 1: did not find expected ',' or ']'"}},
		{"two documents", "key: ${OVERSTAP_TEST_KEY}\n---\nport: 1\n",
			[]string{"more than one YAML document; put everything in one"}},
		{"duplicate key", "key: ${OVERSTAP_TEST_KEY}\nport: 1\nport: 2\n",
			[]string{`port: mapping key "port" already defined at line 2 (line 3)`}},
		{"duplicate key in a section skips only that section", "key: ${OVERSTAP_TEST_KEY}\nlog:\n  format: xml\n  format: json\nport: x\n",
			[]string{
				`log.format: mapping key "format" already defined at line 3 (line 4)`,
				"port: wrong type: cannot decode !!str `x` into int (line 5)",
			}},
		{"unknown key in a map element", "key: ${OVERSTAP_TEST_KEY}\napps:\n  eloket:\n    upstrem: http://127.0.0.1:9000\n",
			[]string{
				"apps.eloket.upstream: required (line 3)",
				`apps.eloket.upstrem: unknown key; did you mean "upstream"? (line 4)`,
			}},
		{"wrong type of a list item", "key: ${OVERSTAP_TEST_KEY}\nproviders:\n  - issuer: https://a.example\n    scopes:\n      - openid\n      - {a: b}\n",
			[]string{"providers[0].scopes[1]: wrong type: cannot decode !!map into string (line 6)"}},
		{"long scalar shortened", "key: ${OVERSTAP_TEST_KEY}\nport: eighty-thousand\n",
			[]string{"port: wrong type: cannot decode !!str `eighty-...` into int (line 2)"}},
		{"alias into a section is checked where it is used", "key: ${OVERSTAP_TEST_KEY}\nlog: &l {format: json, colour: red}\nlimits: *l\n",
			[]string{
				`log.colour: unknown key; known keys here: format, level (line 2)`,
				`limits.format: unknown key; known keys here: max (line 2)`,
				`limits.colour: unknown key; known keys here: max (line 2)`,
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, perr := decodeString(t, tc.doc)
			if diff := cmp.Diff(tc.want, summary(perr)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeErrorsIsAndFormat(t *testing.T) {
	_, perr := decodeString(t, "key: insecure-literal:x\nlimits: {max: 12}\nport: x\n")
	if perr == nil {
		t.Fatal("no error")
	}
	if !errors.Is(perr, errTooHigh) {
		t.Error("errors.Is does not reach a sentinel returned by Validate")
	}
	msg := perr.Error()
	if !strings.HasPrefix(msg, "config: 3 problems:\n  ") || strings.Count(msg, "\n") != 3 {
		t.Errorf("message:\n%s", msg)
	}
}

func TestSecretLiteralRefused(t *testing.T) {
	_, perr := decodeString(t, "key: hunter2-the-password\n")
	if perr == nil || len(perr.Problems) != 1 || perr.Problems[0].Path != "key" {
		t.Fatalf("problems: %v", summary(perr))
	}
	if !errors.Is(perr, ErrSecretLiteral) {
		t.Errorf("errors.Is(%v, ErrSecretLiteral) = false", perr)
	}
	if strings.Contains(perr.Error(), "hunter2") {
		t.Errorf("error shows the secret: %v", perr)
	}
}

func TestDecodeBounds(t *testing.T) {
	big := "key: ${X}\n# " + strings.Repeat("x", MaxSize) + "\n"
	_, perr := decodeString(t, big)
	if perr == nil || !strings.Contains(perr.Error(), "larger than") {
		t.Errorf("oversized document: %v", perr)
	}
	// Alias expansion ("billion laughs") is refused by yaml, not expanded.
	bomb := "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n" +
		"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n" +
		"g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
	var anyDst map[string]any
	if err := Decode(strings.NewReader(bomb), &anyDst); err == nil {
		t.Error("alias bomb decoded without error")
	}
	if err := Decode(strings.NewReader("a: 1"), testConfig{}); err == nil {
		t.Error("Decode into a non-pointer succeeded")
	}
	if err := Decode(strings.NewReader("a: 1"), (*testConfig)(nil)); err == nil {
		t.Error("Decode into a nil pointer succeeded")
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte("key: insecure-literal:abc\nport: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var c testConfig
	if err := Load(good, &c); err != nil || c.Port != 1 {
		t.Fatalf("Load: %v, port %d", err, c.Port)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("port: 1\nnope: 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := Load(bad, &testConfig{})
	var ce *Error
	if !errors.As(err, &ce) || ce.Source != bad || !strings.HasPrefix(err.Error(), "config: "+bad+": 2 problems:") {
		t.Errorf("Load(bad) = %v", err)
	}
	if err := Load(filepath.Join(dir, "missing.yaml"), &testConfig{}); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) = %v", err)
	}
	if err := Load(dir, &testConfig{}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Load(dir) = %v", err)
	}
}

func TestValidateInCode(t *testing.T) {
	c := testConfig{Key: NewSecret([]byte("k")), Providers: []provider{{Issuer: "https://x", Scopes: []string{"openid"}}}}
	if err := Validate(&c); err != nil {
		t.Errorf("Validate(valid) = %v", err)
	}
	c.Providers = append(c.Providers, provider{Scopes: []string{"openid"}})
	err := Validate(c) // by value: pointer-receiver elements still validated
	if err == nil || err.Error() != "config: providers[1].issuer: required" {
		t.Errorf("Validate = %v", err)
	}
	if err := Validate(nil); err != nil {
		t.Errorf("Validate(nil) = %v", err)
	}
}

func TestKeys(t *testing.T) {
	want := []string{
		"log", "log.format", "log.level",
		"key",
		"providers", "providers[].name", "providers[].issuer", "providers[].scopes",
		"apps", "apps.<name>.upstream",
		"limits", "limits.max",
		"timeout", "port", "name",
	}
	if diff := cmp.Diff(want, Keys(testConfig{})); diff != "" {
		t.Errorf("Keys (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, Keys(&testConfig{})); diff != "" {
		t.Errorf("Keys(pointer) (-want +got):\n%s", diff)
	}
	if Keys(nil) != nil {
		t.Error("Keys(nil) not nil")
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"issuer", "isuer", 1}, {"scopes", "scops", 1}, {"log", "lgo", 2}, {"abc", "xyz", 3}} {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{"", "key: insecure-literal:x\n", "log: {format: json}\nproviders: [{issuer: x}]\n",
		"apps: {a: {upstream: b}}\n", "key: [a]\n", "a: &a [*a]\n", "port: 1\nport: 2\n", "---\n---\n", "limits: {max: -1}\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var c testConfig
		err := Decode(strings.NewReader(s), &c)
		var ce *Error
		if err != nil && !errors.As(err, &ce) {
			t.Fatalf("Decode error %T is not *Error: %v", err, err)
		}
		if ce != nil && len(ce.Problems) == 0 {
			t.Fatal("Error without problems")
		}
	})
}

type alwaysBad struct {
	X int `yaml:"x"`
}

func (alwaysBad) Validate() error { return errors.New("x: child checked") }

type pickOne struct {
	Use string    `yaml:"use"`
	A   alwaysBad `yaml:"a"`
}

func (p pickOne) Validate() error {
	if p.Use == "a" {
		return fmt.Errorf("a.%w", p.A.Validate())
	}
	return nil
}

func (pickOne) ValidatesSubtree() {}

type plainParent struct {
	A alwaysBad `yaml:"a"`
}

func (plainParent) Validate() error { return nil }

// TestSubtreeValidator: the loader does not descend into a
// SubtreeValidator, which reports its children's problems itself.
func TestSubtreeValidator(t *testing.T) {
	var doc struct {
		P pickOne     `yaml:"p"`
		Q plainParent `yaml:"q"`
	}
	err := Decode(strings.NewReader("p:\n  use: b\n"), &doc)
	var ce *Error
	if !errors.As(err, &ce) || len(ce.Problems) != 1 || ce.Problems[0].Path != "q.a.x" {
		t.Fatalf("unselected child: %v (want only q.a.x from the plain parent)", err)
	}
	err = Decode(strings.NewReader("p:\n  use: a\n"), &doc)
	if !errors.As(err, &ce) || len(ce.Problems) != 2 || ce.Problems[0].Path+"|"+ce.Problems[1].Path != "p.a.x|q.a.x" && ce.Problems[0].Path+"|"+ce.Problems[1].Path != "q.a.x|p.a.x" {
		t.Fatalf("selected child: %v (want p.a.x once and q.a.x)", err)
	}
}
