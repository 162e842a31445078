-- Central's registry. Runs unchanged on H2 2.x and PostgreSQL 13+: only types and constraints both accept
-- (VARCHAR, BIGINT, BOOLEAN, TIMESTAMP WITH TIME ZONE; CHECK ... IN (...)); binary values are stored as text
-- (PEM, base64, hex) so BYTEA and VARBINARY never have to agree. Central keeps no state in memory that matters
-- across requests: several instances share one PostgreSQL.

CREATE TABLE sites (
    name        VARCHAR(63)  NOT NULL PRIMARY KEY,
    state       VARCHAR(16)  NOT NULL CHECK (state IN ('pending', 'active', 'revoked')),
    joined_by   VARCHAR(8)   NOT NULL CHECK (joined_by IN ('tpm', 'token')),
    ek_hash     VARCHAR(64),
    created_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    joined_at   TIMESTAMP WITH TIME ZONE,
    revoked_at  TIMESTAMP WITH TIME ZONE,
    reason      VARCHAR(512)
);

-- One-time join tokens: only the SHA-256 of the token is kept (hex); used_at set once, in the transaction that
-- joins the site.
CREATE TABLE join_tokens (
    site        VARCHAR(63)  NOT NULL PRIMARY KEY REFERENCES sites (name),
    token_hash  VARCHAR(64)  NOT NULL,
    expires_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    used_at     TIMESTAMP WITH TIME ZONE
);

-- A credential activation in flight: consumed whatever the outcome (a replay finds consumed = TRUE).
CREATE TABLE tpm_joins (
    join_id     VARCHAR(64)  NOT NULL PRIMARY KEY,
    site        VARCHAR(63)  NOT NULL REFERENCES sites (name),
    secret_hash VARCHAR(64)  NOT NULL,
    ek_hash     VARCHAR(64)  NOT NULL,
    ak_public   VARCHAR(4096) NOT NULL,
    expires_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    consumed    BOOLEAN      NOT NULL
);

CREATE TABLE site_cas (
    serial      VARCHAR(64)  NOT NULL PRIMARY KEY,
    site        VARCHAR(63)  NOT NULL REFERENCES sites (name),
    certificate VARCHAR(16384) NOT NULL,
    not_after   TIMESTAMP WITH TIME ZONE NOT NULL,
    issued_at   TIMESTAMP WITH TIME ZONE NOT NULL,
    -- Set (with a sequence bump) once the certificate has expired: the bundle lists only unretired site CAs, so
    -- its content never changes without spiffe_sequence moving.
    retired     BOOLEAN      NOT NULL DEFAULT FALSE
);
CREATE INDEX site_cas_site ON site_cas (site);

CREATE TABLE site_credentials (
    serial      VARCHAR(64)  NOT NULL PRIMARY KEY,
    site        VARCHAR(63)  NOT NULL REFERENCES sites (name),
    not_after   TIMESTAMP WITH TIME ZONE NOT NULL,
    issued_at   TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX site_credentials_site ON site_credentials (site);

-- Central's CA certificate chain as every instance must see it (the key stays in a 0600 file): an instance
-- whose files hold another CA refuses to start instead of issuing under a second authority.
CREATE TABLE ca (
    id          INTEGER      NOT NULL PRIMARY KEY CHECK (id = 1),
    chain       VARCHAR(65536) NOT NULL,
    roots       VARCHAR(65536) NOT NULL,
    updated_at  TIMESTAMP WITH TIME ZONE NOT NULL
);

-- The trust domain bundle's spiffe_sequence: bumped in the same transaction as every change to the bundle.
CREATE TABLE bundle (
    id          INTEGER      NOT NULL PRIMARY KEY CHECK (id = 1),
    sequence    BIGINT       NOT NULL,
    updated_at  TIMESTAMP WITH TIME ZONE NOT NULL
);
INSERT INTO bundle (id, sequence, updated_at) VALUES (1, 1, CURRENT_TIMESTAMP);

CREATE TABLE federation (
    trust_domain       VARCHAR(255)  NOT NULL PRIMARY KEY,
    endpoint_url       VARCHAR(2048) NOT NULL,
    profile            VARCHAR(16)   NOT NULL CHECK (profile IN ('https_web', 'https_spiffe')),
    endpoint_spiffe_id VARCHAR(2048),
    bundle             VARCHAR(1000000),
    sequence           BIGINT,
    refresh_hint       BIGINT,
    last_polled        TIMESTAMP WITH TIME ZONE,
    last_error         VARCHAR(1024)
);
