package storeconfig

import (
	"path/filepath"
	"testing"

	"github.com/overstap/overstap/internal/config"
)

// TestExampleConfigs decodes every example in testdata/stores with the
// project's strict loader, so the documented examples cannot go stale.
func TestExampleConfigs(t *testing.T) {
	t.Setenv("ELOKET_DB_DSN", "postgres://overstap@127.0.0.1/eloket")
	t.Setenv("VERGUNNINGEN_DB_DSN", "overstap@tcp(127.0.0.1:3306)/vergunningen")
	t.Setenv("LDAP_BIND_PASSWORD", "example")
	t.Setenv("BIB_HOOK_KEY", "0123456789abcdef0123456789abcdef")
	files, err := filepath.Glob("../../../testdata/stores/*.yaml")
	if err != nil || len(files) < 5 {
		t.Fatalf("examples: %v %v", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			var c Config
			if err := config.Load(f, &c); err != nil {
				t.Fatal(err)
			}
			if c.Name == "" || c.Type == "" {
				t.Fatal("empty")
			}
		})
	}
}
