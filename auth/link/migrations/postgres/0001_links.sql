CREATE TABLE links (
	app        TEXT NOT NULL,
	nrn_ref    TEXT NOT NULL,
	account_id TEXT NOT NULL,
	issuer     TEXT NOT NULL,
	subject    TEXT NOT NULL,
	status     TEXT NOT NULL CHECK (status IN ('revoking', 'linked')),
	created_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (app, nrn_ref)
);
CREATE INDEX links_account ON links (app, account_id);
