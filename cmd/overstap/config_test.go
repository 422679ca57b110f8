package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/overstap/overstap/internal/config"
)

const testRefKey = "insecure-literal:0123456789abcdef0123456789abcdef"

// TestConfigurationDocumented fails when a key of the configuration file is
// missing from docs/configuration.md.
func TestConfigurationDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	keys := config.Keys(fileConfig{})
	if len(keys) < 10 {
		t.Fatalf("Keys found only %v", keys)
	}
	for _, k := range keys {
		if !strings.Contains(string(doc), "`"+k+"`") {
			t.Errorf("docs/configuration.md does not document `%s`", k)
		}
	}
}

// TestConfigurationExamples decodes every YAML example of
// docs/configuration.md, so that they cannot go stale.
func TestConfigurationExamples(t *testing.T) {
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("OVERSTAP_NRN_REF_KEY", "0123456789abcdef0123456789abcdef")
	t.Setenv("OVERSTAP_STATE_PASSWORD", "pw")
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	if len(blocks) < 2 {
		t.Fatalf("found %d yaml examples", len(blocks))
	}
	for _, b := range blocks {
		var c fileConfig
		if err := config.Decode(strings.NewReader(b[1]), &c); err != nil {
			t.Errorf("example does not load: %v\n%s", err, b[1])
		}
	}
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		yaml string
		want []string // problems, in order; nil for a valid file
	}{
		{"minimal", "nrn_ref_key: " + testRefKey + "\n", nil},
		{"full", "log: {format: text, level: debug}\nnrn_ref_key: " + testRefKey + "\nstate: {driver: sqlite, path: " + dir + "/s.db, busy_timeout: 2s}\n", nil},
		{"key missing", "log: {format: text}\n", []string{
			`nrn_ref_key: required; e.g. nrn_ref_key: "${OVERSTAP_NRN_REF_KEY}" with 32 random bytes (head -c 32 /dev/urandom | base64)`}},
		{"key too short", "nrn_ref_key: insecure-literal:short\n", []string{
			"nrn_ref_key: must be at least 32 bytes (it is 5); generate one with head -c 32 /dev/urandom | base64 (line 1)"}},
		{"key from a missing env var", "nrn_ref_key: ${OVERSTAP_TEST_NOT_SET_ANYWHERE}\n", []string{
			"nrn_ref_key: secret: environment variable OVERSTAP_TEST_NOT_SET_ANYWHERE is not set (export it, or use file:/path) (line 1)"}},
		{"the gateway's old key place", "nrn_ref_key: " + testRefKey + "\ngateway:\n  nrn_ref_key: " + testRefKey + "\n", []string{
			"gateway.public_url: must be the gateway's https origin, e.g. https://eloket.gemeente.be (http only with dev_insecure_cookies) (line 2)",
			"gateway.apps: at least one app is required (line 2)",
			"gateway.nrn_ref_key: moved: set the top-level nrn_ref_key (one key for every part) and remove it here (line 3)",
			"providers: at least one OpenID provider is required with a gateway section"}},
		{"problems in every section at once", `log:
  format: xml
  levl: debug
nrn_ref_key: insecure-literal:short
state:
  driver: postgres
  path: x.db
`, []string{
			`log.format: unknown format "xml": use json or text (line 2)`,
			`log.levl: unknown key; did you mean "level"? (line 3)`,
			"nrn_ref_key: must be at least 32 bytes (it is 5); generate one with head -c 32 /dev/urandom | base64 (line 4)",
			`state.dsn: required for driver postgres, e.g. "postgres://overstap@db:5432/overstap?sslmode=verify-full" (line 5)`,
			"state.path: only for driver sqlite; use dsn for postgres (line 7)",
		}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "c"+string(rune('a'+i))+".yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := loadConfig(path)
			var got []string
			if err != nil {
				ce, ok := err.(*config.Error)
				if !ok {
					t.Fatalf("loadConfig: %v", err)
				}
				for _, p := range ce.Problems {
					got = append(got, p.Error())
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := loadConfig(""); err == nil {
		t.Error("loadConfig without a path succeeded")
	}
}
