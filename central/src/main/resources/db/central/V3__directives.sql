-- Directives central decided for every site (docs/upward-link.md "Downward"): one sequence of versions for all
-- kinds, so every site applies them in the same order. V2 is the upward events' migration. Portable like V1; data
-- is the directive's JSON as text.
--
-- Versions come from the counter row below, not from an identity column: incrementing it locks the row until the
-- commit, so versions are handed out in commit order. With an identity, two writers (two CLI runs, two instances)
-- could commit 6 before 5, a site could read 6, and 5 would then be behind it for ever: skipped.
CREATE TABLE directive_counter (
    id          INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    version     BIGINT  NOT NULL
);
INSERT INTO directive_counter (id, version) VALUES (1, 0);

CREATE TABLE directives (
    version     BIGINT         NOT NULL PRIMARY KEY,
    kind        VARCHAR(32)    NOT NULL CHECK (kind IN ('device.ban', 'policy.put', 'policy.assign', 'policy.delete')),
    data        VARCHAR(1000000) NOT NULL,
    created_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    created_by  VARCHAR(256)   NOT NULL
);

-- What the fleet should hold now, for `policy list` and for refusing an assignment of a policy never pushed:
-- the directives are the record, this is their current sum, written in the same transaction.
CREATE TABLE fleet_policies (
    name        VARCHAR(64)    NOT NULL PRIMARY KEY,
    kind        VARCHAR(8)     NOT NULL CHECK (kind IN ('runtime', 'boot')),
    sha256      VARCHAR(64)    NOT NULL,
    bytes       BIGINT         NOT NULL,
    version     BIGINT         NOT NULL,
    updated_at  TIMESTAMP WITH TIME ZONE NOT NULL
);

CREATE TABLE fleet_policy_labels (
    name        VARCHAR(64)    NOT NULL REFERENCES fleet_policies (name) ON DELETE CASCADE,
    label       VARCHAR(64)    NOT NULL,
    version     BIGINT         NOT NULL,
    PRIMARY KEY (name, label)
);

CREATE TABLE fleet_bans (
    ek_hash     VARCHAR(64)    NOT NULL PRIMARY KEY,
    reason      VARCHAR(512)   NOT NULL,
    version     BIGINT         NOT NULL,
    banned_at   TIMESTAMP WITH TIME ZONE NOT NULL
);
