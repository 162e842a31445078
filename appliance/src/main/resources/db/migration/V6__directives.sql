-- Directives from central (docs/upward-link.md "Downward"). V5 is the outbox's migration (the upward half).
-- The highest version applied, written in the same transaction as each directive's effect: exactly once.
CREATE TABLE directives_applied (
    id          INTEGER                  NOT NULL PRIMARY KEY CHECK (id = 1),
    version     BIGINT                   NOT NULL,
    applied_at  TIMESTAMP WITH TIME ZONE NOT NULL
);
INSERT INTO directives_applied (id, version, applied_at) VALUES (1, 0, CURRENT_TIMESTAMP);

-- Who made each policy: the site operator (local) or central (with the directive's version). A local policy wins
-- over central's of the same name. Policies stored before this version were the operator's.
CREATE TABLE policy_sources (
    name            VARCHAR(64) NOT NULL PRIMARY KEY,
    source          VARCHAR(8)  NOT NULL,
    central_version BIGINT,
    CONSTRAINT policy_sources_source CHECK (source IN ('central', 'local')),
    CONSTRAINT policy_sources_policy FOREIGN KEY (name) REFERENCES policies (name) ON DELETE CASCADE
);
INSERT INTO policy_sources (name, source, central_version) SELECT name, 'local', NULL FROM policies;

-- EKs central banned fleet-wide: enrollment refuses them, whether or not the device was ever seen here.
CREATE TABLE central_bans (
    ek_hash    CHAR(64)                 NOT NULL PRIMARY KEY,
    reason     VARCHAR(1024)            NOT NULL,
    version    BIGINT                   NOT NULL,
    banned_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT central_bans_hash CHECK (REGEXP_LIKE(ek_hash, '^[0-9a-f]{64}$'))
);
