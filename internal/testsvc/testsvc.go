// Package testsvc gives tests their own slice of the machine's real services:
// a PostgreSQL schema, a MariaDB database, a Redis key prefix, a free
// loopback port. Everything is cleaned up when the test ends.
//
// When a service is unreachable, the test fails if CI=true and is skipped
// otherwise, with a message saying how to start the service.
package testsvc

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql" // MariaDB driver
	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver
	"github.com/redis/go-redis/v9"
)

// Default addresses of the machine's shared services; override with
// OVERSTAP_TEST_PG, OVERSTAP_TEST_MYSQL, OVERSTAP_TEST_REDIS.
const (
	DefaultPG    = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	DefaultMySQL = "root@tcp(127.0.0.1:3306)/"
	DefaultRedis = "redis://127.0.0.1:6379/0"
)

// InCI reports whether the tests run in CI, where a missing service is a
// failure rather than a skip.
func InCI() bool { return os.Getenv("CI") == "true" }

// Unavailable ends the test because a service it needs is not reachable:
// a failure in CI, a skip locally with the hint how to start it.
func Unavailable(t testing.TB, service string, err error, hint string) {
	t.Helper()
	msg := fmt.Sprintf("%s unreachable: %v; start it with: %s", service, err, hint)
	if InCI() {
		t.Fatalf("CI=true and %s", msg)
	}
	t.Skipf("skipping locally (fails with CI=true): %s", msg)
}

// Name returns a fresh lower-case identifier safe for schema, database and
// key names: prefix + "_" + 12 hex digits.
func Name(prefix string) string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return prefix + "_" + hex.EncodeToString(b[:])
}

func env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// PG is a PostgreSQL schema of one's own.
type PG struct {
	DB     *sql.DB
	DSN    string // connection string whose search_path is Schema
	Schema string
}

// Postgres creates a fresh schema for t, returns a pool bound to it, and
// drops the schema when t ends.
func Postgres(t testing.TB) PG {
	t.Helper()
	base := env("OVERSTAP_TEST_PG", DefaultPG)
	hint := "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
	admin, err := sql.Open("pgx", base)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = admin.PingContext(ctx)
		cancel()
	}
	if err != nil {
		Unavailable(t, "PostgreSQL", err, hint)
		return PG{}
	}
	schema := Name("t")
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("testsvc: create schema: %v", err)
	}
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	dsn := base + sep + "search_path=" + schema
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("testsvc: open: %v", err)
	}
	t.Cleanup(func() {
		db.Close()
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Logf("testsvc: drop schema %s: %v", schema, err)
		}
		admin.Close()
	})
	return PG{DB: db, DSN: dsn, Schema: schema}
}

// My is a MariaDB/MySQL database of one's own.
type My struct {
	DB       *sql.DB
	DSN      string // go-sql-driver DSN for Database
	Database string
}

// MariaDB creates a fresh database for t and drops it when t ends.
func MariaDB(t testing.TB) My {
	t.Helper()
	base := env("OVERSTAP_TEST_MYSQL", DefaultMySQL)
	hint := "start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd"
	admin, err := sql.Open("mysql", base)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = admin.PingContext(ctx)
		cancel()
	}
	if err != nil {
		Unavailable(t, "MariaDB", err, hint)
		return My{}
	}
	name := Name("t")
	if _, err := admin.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4"); err != nil {
		t.Fatalf("testsvc: create database: %v", err)
	}
	dsn := strings.TrimSuffix(base, "/") + "/" + name + "?parseTime=true&multiStatements=false"
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatalf("testsvc: open: %v", err)
	}
	t.Cleanup(func() {
		db.Close()
		if _, err := admin.Exec("DROP DATABASE " + name); err != nil {
			t.Logf("testsvc: drop database %s: %v", name, err)
		}
		admin.Close()
	})
	return My{DB: db, DSN: dsn, Database: name}
}

// R is a Redis client with a key prefix of one's own.
type R struct {
	Client redis.UniversalClient
	URL    string
	Prefix string // "t_<hex>:"; every key the test writes must start with it
}

// Redis returns a client to the shared Redis and a fresh key prefix; keys
// under the prefix are deleted when t ends.
func Redis(t testing.TB) R {
	t.Helper()
	url := env("OVERSTAP_TEST_REDIS", DefaultRedis)
	hint := `redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no`
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("testsvc: redis url: %v", err)
	}
	c := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	err = c.Ping(ctx).Err()
	cancel()
	if err != nil {
		c.Close()
		Unavailable(t, "Redis", err, hint)
		return R{}
	}
	prefix := Name("t") + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		for len(keys) > 0 {
			n := min(len(keys), 500)
			c.Del(ctx, keys[:n]...)
			keys = keys[n:]
		}
		c.Close()
	})
	return R{Client: c, URL: url, Prefix: prefix}
}

// handedOut holds the ports FreePort returned in this process: the kernel
// may give a just-closed port again, and two servers of one test must not
// get the same one.
var handedOut sync.Map

// FreePort returns a free TCP port on 127.0.0.1, never one it returned
// before in this process. Another process may still take it before the
// caller listens: callers that start a child process retry on
// ErrChildPortTaken.
func FreePort(t testing.TB) int {
	t.Helper()
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("testsvc: free port: %v", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if _, dup := handedOut.LoadOrStore(port, true); !dup {
			return port
		}
	}
	t.Fatal("testsvc: free port: the kernel kept returning ports already handed out")
	return 0
}

// LookPath finds a binary a test needs (slapd, nginx, chromium). When it is
// missing the test fails in CI and skips locally, saying which Debian package
// provides it (make test installs them).
func LookPath(t testing.TB, candidates []string, pkg string) string {
	t.Helper()
	for _, c := range candidates {
		if fi, err := os.Stat(c); err == nil && !fi.IsDir() {
			return c
		}
	}
	Unavailable(t, candidates[0], fmt.Errorf("not installed"), "apt-get install -y "+pkg+" (make test does this)")
	return ""
}
