-- overstap migrate: runs, journal, checkpoints, scan classification, batches.
-- Never holds a clear national number or a clear credential: national
-- numbers only as keyed references (random key per scan), old credentials
-- only sealed to the admin's X25519 key, new hashes only as SHA-256 digests.
CREATE TABLE IF NOT EXISTS migrate_runs (
  id          TEXT PRIMARY KEY,
  kind        TEXT NOT NULL,
  policy      TEXT NOT NULL DEFAULT '',
  store_name  TEXT NOT NULL,
  params      TEXT NOT NULL DEFAULT '{}',
  started_at  BIGINT NOT NULL,
  ended_at    BIGINT,
  total       BIGINT NOT NULL DEFAULT 0,
  changed     BIGINT NOT NULL DEFAULT 0,
  conflicts   BIGINT NOT NULL DEFAULT 0,
  skipped     BIGINT NOT NULL DEFAULT 0,
  status      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS migrate_journal (
  run_id      TEXT NOT NULL,
  account_id  TEXT NOT NULL,
  action      TEXT NOT NULL,
  old_sealed  TEXT NOT NULL,
  new_value   TEXT NOT NULL,
  state       TEXT NOT NULL,
  updated_at  BIGINT NOT NULL,
  PRIMARY KEY (run_id, account_id)
);
CREATE TABLE IF NOT EXISTS migrate_checkpoints (
  run_id      TEXT PRIMARY KEY,
  cursor      TEXT NOT NULL,
  batches     BIGINT NOT NULL DEFAULT 0,
  seen        BIGINT NOT NULL DEFAULT 0,
  updated_at  BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS migrate_scan_accounts (
  run_id      TEXT NOT NULL,
  account_id  TEXT NOT NULL,
  flags       BIGINT NOT NULL,
  scheme      TEXT NOT NULL,
  strength    TEXT NOT NULL,
  nrn_ref     TEXT,
  PRIMARY KEY (run_id, account_id)
);
CREATE INDEX IF NOT EXISTS migrate_scan_accounts_ref ON migrate_scan_accounts (run_id, nrn_ref);
CREATE TABLE IF NOT EXISTS migrate_batches (
  run_id      TEXT NOT NULL,
  seq         BIGINT NOT NULL,
  after_id    TEXT NOT NULL,
  ids         TEXT NOT NULL,
  state       TEXT NOT NULL,
  worker      TEXT NOT NULL DEFAULT '',
  updated_at  BIGINT NOT NULL,
  PRIMARY KEY (run_id, seq)
);
