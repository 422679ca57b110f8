package sqlstore

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// dialect holds what differs between the SQL databases.
type dialect struct {
	name   string // postgres | mysql | sqlite
	driver string // database/sql driver name
}

func dialectFor(driver string) (dialect, bool) {
	switch strings.ToLower(driver) {
	case "postgres", "postgresql", "pgx":
		return dialect{name: "postgres", driver: "pgx"}, true
	case "mysql", "mariadb":
		return dialect{name: "mysql", driver: "mysql"}, true
	case "sqlite", "sqlite3":
		return dialect{name: "sqlite", driver: "sqlite"}, true
	}
	return dialect{}, false
}

// identRE is what an identifier part may look like; anything else (quotes,
// spaces, dots inside a part) is refused rather than escaped.
var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// validIdent reports whether s is a valid (optionally schema-qualified)
// identifier.
func validIdent(s string, qualified bool) bool {
	parts := []string{s}
	if qualified {
		parts = strings.Split(s, ".")
		if len(parts) > 2 {
			return false
		}
	}
	for _, p := range parts {
		if !identRE.MatchString(p) {
			return false
		}
	}
	return true
}

// quote quotes a validated identifier (each part of a qualified name).
func (d dialect) quote(ident string) string {
	parts := strings.Split(ident, ".")
	for i, p := range parts {
		if d.name == "mysql" {
			parts[i] = "`" + p + "`"
		} else {
			parts[i] = `"` + p + `"`
		}
	}
	return strings.Join(parts, ".")
}

// ph returns the n-th (1-based) placeholder.
func (d dialect) ph(n int) string {
	if d.name == "postgres" {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}

// textKey wraps a quoted text column so it compares and sorts byte-wise.
func (d dialect) textKey(col string) string {
	switch d.name {
	case "postgres":
		return col + ` COLLATE "C"`
	case "mysql":
		return "CAST(" + col + " AS BINARY)"
	default:
		return col + " COLLATE BINARY"
	}
}

// exactEq compares a quoted credential column byte-exactly with a
// placeholder (MySQL collations are case-insensitive and pad spaces).
func (d dialect) exactEq(col, ph string) string {
	if d.name == "mysql" {
		return "CAST(" + col + " AS BINARY) = CAST(" + ph + " AS BINARY)"
	}
	return col + " = " + ph
}

// prepareDSN adds the options the adapter relies on.
func (d dialect) prepareDSN(dsn string) (string, error) {
	switch d.name {
	case "mysql":
		c, err := mysql.ParseDSN(dsn)
		if err != nil {
			return "", fmt.Errorf("dsn: %w", err)
		}
		// RowsAffected must count matched rows, so a swap to the same
		// value is not mistaken for a conflict.
		c.ClientFoundRows = true
		c.MultiStatements = false
		return c.FormatDSN(), nil
	case "sqlite":
		base, q, _ := strings.Cut(dsn, "?")
		v, err := url.ParseQuery(q)
		if err != nil {
			return "", fmt.Errorf("dsn: %w", err)
		}
		hasBusy := false
		for _, p := range v["_pragma"] {
			if strings.HasPrefix(strings.ToLower(p), "busy_timeout") {
				hasBusy = true
			}
		}
		if !hasBusy {
			v.Add("_pragma", "busy_timeout(10000)")
		}
		if v.Get("_txlock") == "" {
			// Swaps read then write: take the write lock at BEGIN so two
			// transactions never deadlock on lock upgrade.
			v.Set("_txlock", "immediate")
		}
		return base + "?" + v.Encode(), nil
	}
	return dsn, nil
}

// isIntType reports whether a driver's column type name is an integer type.
func isIntType(t string) bool {
	t = strings.ToUpper(strings.TrimSpace(t))
	t = strings.TrimPrefix(t, "UNSIGNED ")
	switch t {
	case "INT", "INT2", "INT4", "INT8", "INTEGER", "BIGINT", "SMALLINT", "MEDIUMINT", "TINYINT", "SERIAL", "BIGSERIAL":
		return true
	}
	return false
}

// isBoolType reports whether a column type name is a boolean type.
func isBoolType(t string) bool {
	t = strings.ToUpper(t)
	return t == "BOOL" || t == "BOOLEAN"
}

// placeholders counts the parameters a custom query takes: the highest $n
// (PostgreSQL) or ?n (SQLite), else the number of "?". Question marks
// inside string literals are skipped.
func placeholders(d dialect, q string) int {
	count, highest := 0, 0
	inStr := false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			inStr = !inStr
		case inStr:
		case c == '$' || c == '?':
			j := i + 1
			for j < len(q) && q[j] >= '0' && q[j] <= '9' {
				j++
			}
			if j > i+1 {
				n, _ := strconv.Atoi(q[i+1 : j])
				highest = max(highest, n)
			} else if c == '?' {
				count++
			}
			i = j - 1
		}
	}
	if d.name == "postgres" || highest > 0 {
		return highest
	}
	return count
}
