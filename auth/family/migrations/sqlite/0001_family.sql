-- Family-link invitations and grants: references (nrn.Ref) and masked
-- numbers only, never a clear national number; the invitation code only as
-- a keyed hash. Times are Unix nanoseconds (UTC).
CREATE TABLE family_invitations (
	id             TEXT NOT NULL PRIMARY KEY,
	code_hash      TEXT NOT NULL UNIQUE,
	app            TEXT NOT NULL,
	requester_ref  TEXT NOT NULL,
	requester_mask TEXT NOT NULL,
	member_ref     TEXT NOT NULL,
	member_mask    TEXT NOT NULL,
	scope          TEXT NOT NULL,
	status         TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'declined', 'expired', 'locked', 'cancelled')),
	attempts       INTEGER NOT NULL DEFAULT 0,
	created_at     BIGINT NOT NULL,
	expires_at     BIGINT NOT NULL,
	decided_at     BIGINT
);
CREATE INDEX family_invitations_requester ON family_invitations (requester_ref, status);
CREATE INDEX family_invitations_member ON family_invitations (member_ref, status);
CREATE TABLE family_grants (
	id             TEXT NOT NULL PRIMARY KEY,
	app            TEXT NOT NULL,
	requester_ref  TEXT NOT NULL,
	requester_mask TEXT NOT NULL,
	member_ref     TEXT NOT NULL,
	member_mask    TEXT NOT NULL,
	scope          TEXT NOT NULL,
	basis          TEXT NOT NULL CHECK (basis IN ('child', 'ward', 'consent')),
	status         TEXT NOT NULL CHECK (status IN ('active', 'revoked', 'expired')),
	invitation_id  TEXT,
	created_at     BIGINT NOT NULL,
	expires_at     BIGINT NOT NULL,
	revoked_at     BIGINT,
	revoked_by     TEXT
);
CREATE INDEX family_grants_pair ON family_grants (app, requester_ref, member_ref, status);
CREATE INDEX family_grants_member ON family_grants (member_ref, status);
-- At most one active grant per app, requester and member: revoking it
-- ends the access, with no twin left behind.
CREATE UNIQUE INDEX family_grants_one_active ON family_grants (app, requester_ref, member_ref) WHERE status = 'active';
