-- The store's creation date of a scanned account (Unix milliseconds; NULL
-- when the store has none), for the created-before filter of plan.
ALTER TABLE migrate_scan_accounts ADD COLUMN created_at BIGINT;
