-- The names the family pages show for a person (first name and the
-- initial of the surname, never more), by national-number reference.
-- source is "login" (the person's own login) or "store" (the app's user
-- store); a login name is never replaced by a store name.
CREATE TABLE family_names (
	ref        TEXT NOT NULL PRIMARY KEY,
	name       TEXT NOT NULL,
	source     TEXT NOT NULL CHECK (source IN ('login', 'store')),
	updated_at BIGINT NOT NULL
);
