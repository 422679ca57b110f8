package httphook_test

import "database/sql"

func sqlOpen(dsn string) (*sql.DB, error) { return sql.Open("sqlite", dsn) }
