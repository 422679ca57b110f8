-- What a citizen typed in a family form that needed a step-up first, kept
-- until they return from the step-up (one per person and app, minutes
-- long). sealed is AES-GCM under a key derived from the reference key,
-- bound to owner_ref and app: the typed national number is never stored
-- in clear. Passwords and files are never kept.
CREATE TABLE family_drafts (
	owner_ref  TEXT NOT NULL,
	app        TEXT NOT NULL,
	sealed     TEXT NOT NULL,
	expires_at BIGINT NOT NULL,
	PRIMARY KEY (owner_ref, app)
);
