package storeconfig

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/overstap/overstap/adapters/store/csvstore"
	"github.com/overstap/overstap/adapters/store/sqlstore"
	"github.com/overstap/overstap/adapters/store/storetest"
	"github.com/overstap/overstap/internal/config"
)

func TestValidate(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		keys []string
	}{
		{"empty", Config{}, []string{"name:", "type:"}},
		{"missing section", Config{Name: "x", Type: "sql"}, []string{"sql: required"}},
		{"two sections", Config{Name: "x", Type: "csv", CSV: &csvstore.Config{}, SQL: &sqlstore.Config{}}, []string{"sql: only"}},
		{"bad name", Config{Name: "a b", Type: "oracle"}, []string{"name:", "type:"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { storetest.WantKeys(t, c.cfg.Validate(), c.keys...) })
	}
}

// TestLoadAndOpen decodes a YAML document with the project's strict loader
// and opens the CSV adapter it selects.
func TestLoadAndOpen(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "export.csv"), []byte("id,login,hash\n1,jan,{SSHA}x\n"), 0o600)
	doc := `name: eloket
type: csv
csv:
  path: ` + filepath.Join(dir, "export.csv") + `
  changes_path: ` + filepath.Join(dir, "changes.csv") + `
  columns: {id: id, username: login, password: hash}
`
	path := filepath.Join(dir, "store.yaml")
	os.WriteFile(path, []byte(doc), 0o600)
	var cfg Config
	if err := config.Load(path, &cfg); err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if a, err := s.Get(context.Background(), "1"); err != nil || a.Username != "jan" || s.Name() != "eloket" {
		t.Fatalf("%+v %v", a, err)
	}
	// Unknown keys in a section are errors (strict decoding).
	os.WriteFile(path, []byte(strings.Replace(doc, "changes_path", "changes_pth", 1)), 0o600)
	if err := config.Load(path, &Config{}); err == nil || !strings.Contains(err.Error(), "changes_pth") {
		t.Fatalf("unknown key accepted: %v", err)
	}
}
