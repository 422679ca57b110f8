package httphook_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/overstap/overstap/adapters/store/httphook"
	"github.com/overstap/overstap/adapters/store/sqlstore"
	"github.com/overstap/overstap/internal/config"
)

// A vendor serves its accounts table through the reference hook server;
// overstap talks to it with the client. (In production: HTTPS, and the key
// from a secret store.)
func ExampleNewServer() {
	dir, _ := os.MkdirTemp("", "hook-example")
	defer os.RemoveAll(dir)
	dsn := "file:" + filepath.Join(dir, "vendor.db")
	ctx := context.Background()

	// The vendor's side: its table, the adapter over it, the hook server.
	db, err := sqlOpen(dsn)
	if err != nil {
		fmt.Println(err)
		return
	}
	db.Exec(`CREATE TABLE users (id INTEGER PRIMARY KEY, login TEXT, pw TEXT)`)
	db.Exec(`INSERT INTO users VALUES (1, 'jan', '$1$abcdefgh$0123456789abcdefghijkl')`)
	db.Close()
	backend, err := sqlstore.Open(ctx, "vendor", sqlstore.Config{Driver: "sqlite", DSN: config.NewSecret([]byte(dsn)),
		Table: "users", Columns: sqlstore.Columns{ID: "id", Username: "login", Password: "pw"}}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer backend.Close()
	key := []byte("example-key-of-at-least-32-bytes!!")
	srv, _ := httphook.NewServer(httphook.ServerConfig{Backend: backend, Key: key})
	mux := http.NewServeMux()
	mux.Handle("/overstap-hook/", http.StripPrefix("/overstap-hook", srv))
	ts := httptest.NewServer(mux)
	defer ts.Close()

	// overstap's side.
	c, err := httphook.Open(ctx, "bibliotheek", httphook.Config{URL: ts.URL + "/overstap-hook",
		Key: config.NewSecret(key), InsecureAllowHTTP: true}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	a, _ := c.LookupByUsername(ctx, "jan")
	fmt.Println(a.ID, c.Capabilities().AtomicCAS)
	// Output: 1 true
}
