-- The audit log: append-only, hash-chained. Times are Unix nanoseconds (UTC).
CREATE TABLE audit_log (
    seq       BIGINT PRIMARY KEY,
    at        BIGINT  NOT NULL,
    type      TEXT    NOT NULL,
    actor     TEXT    NOT NULL,
    target    TEXT    NOT NULL,
    app       TEXT    NOT NULL,
    outcome   TEXT    NOT NULL,
    details   TEXT    NOT NULL,
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL
);
CREATE INDEX audit_log_hash ON audit_log (hash);
CREATE INDEX audit_log_at ON audit_log (at);

-- One row: the last entry's sequence number and hash. Appends lock it.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT  NOT NULL,
    hash TEXT    NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');
