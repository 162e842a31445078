-- Outpost appliance schema, version 1. The appliance is its site's system of record while offline, so the
-- database itself refuses malformed rows (CHECKs) rather than trusting every caller to.
-- Times are TIMESTAMP WITH TIME ZONE, always written in UTC. Byte columns are VARBINARY with bounds (TPM
-- publics are < 1 KiB, EK certificates a few KiB): kept inline, no LOB handling, and a hostile peer cannot
-- make us store megabytes.

CREATE TABLE devices (
    device_id      CHAR(64)                 NOT NULL PRIMARY KEY,
    state          VARCHAR(16)              NOT NULL,
    ek_public      VARBINARY(4096)          NOT NULL,   -- TPM2B_PUBLIC as the device sent it
    ek_certificate VARBINARY(16384),
    ek_template    VARCHAR(32)              NOT NULL,
    ak_public      VARBINARY(4096)          NOT NULL,   -- TPM2B_PUBLIC
    spiffe_id      VARCHAR(2048)            NOT NULL,
    enrolled_at    TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at     TIMESTAMP WITH TIME ZONE NOT NULL,
    revoked_at     TIMESTAMP WITH TIME ZONE,
    revoke_reason  VARCHAR(1024),
    svid_serial    VARCHAR(40),                          -- lowercase hex, current SVID
    svid_not_after TIMESTAMP WITH TIME ZONE,
    selectors      VARCHAR(8192),                        -- one selector per line
    CONSTRAINT devices_id_hex CHECK (REGEXP_LIKE(device_id, '^[0-9a-f]{64}$')),
    CONSTRAINT devices_state CHECK (state IN ('pending', 'enrolled', 'trusted', 'failed', 'stale', 'revoked')),
    CONSTRAINT devices_revoked_has_time CHECK (state <> 'revoked' OR revoked_at IS NOT NULL),
    CONSTRAINT devices_spiffe_id_unique UNIQUE (spiffe_id)
);
-- The attestation scheduler and the admin API list devices by state.
CREATE INDEX devices_by_state ON devices (state);
-- Renewal looks for SVIDs about to expire.
CREATE INDEX devices_by_svid_not_after ON devices (svid_not_after);

-- EK hashes allowed to enroll. 'cli' entries are managed by hand, 'dir' entries mirror the allow-list directory.
CREATE TABLE allow_list (
    ek_hash  CHAR(64)                 NOT NULL PRIMARY KEY,
    source   VARCHAR(8)               NOT NULL,
    note     VARCHAR(1024),
    added_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT allow_list_hash_hex CHECK (REGEXP_LIKE(ek_hash, '^[0-9a-f]{64}$')),
    CONSTRAINT allow_list_source CHECK (source IN ('cli', 'dir'))
);
CREATE INDEX allow_list_by_source ON allow_list (source);

-- Credential activations in flight: at most one per device, single use, expiring. Only the SHA-256 of the
-- secret is kept, so a copy of the database does not let anyone finish someone else's enrollment.
CREATE TABLE activations (
    device_id      CHAR(64)                 NOT NULL PRIMARY KEY,
    secret_hash    BINARY(32)               NOT NULL,
    ek_public      VARBINARY(4096)          NOT NULL,
    ek_certificate VARBINARY(16384),
    ak_public      VARBINARY(4096)          NOT NULL,
    ek_template    VARCHAR(32)              NOT NULL,
    created_at     TIMESTAMP WITH TIME ZONE NOT NULL,
    expires_at     TIMESTAMP WITH TIME ZONE NOT NULL,
    attempts       INT                      NOT NULL DEFAULT 0,
    CONSTRAINT activations_id_hex CHECK (REGEXP_LIKE(device_id, '^[0-9a-f]{64}$')),
    CONSTRAINT activations_expiry CHECK (expires_at > created_at),
    CONSTRAINT activations_attempts CHECK (attempts >= 0)
);
CREATE INDEX activations_by_expiry ON activations (expires_at);

-- Every SVID issued, for audit and for revocation lists later.
CREATE TABLE svids (
    serial     VARCHAR(40)              NOT NULL PRIMARY KEY,
    device_id  CHAR(64)                 NOT NULL,
    spiffe_id  VARCHAR(2048)            NOT NULL,
    not_before TIMESTAMP WITH TIME ZONE NOT NULL,
    not_after  TIMESTAMP WITH TIME ZONE NOT NULL,
    issued_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT svids_serial_hex CHECK (REGEXP_LIKE(serial, '^[0-9a-f]{1,40}$')),
    CONSTRAINT svids_validity CHECK (not_after > not_before),
    -- devices are revoked, never deleted, so this never blocks
    CONSTRAINT svids_device FOREIGN KEY (device_id) REFERENCES devices (device_id)
);
CREATE INDEX svids_by_device ON svids (device_id, issued_at);
CREATE INDEX svids_by_not_after ON svids (not_after);

-- Append-only record of every decision and issuance.
CREATE TABLE audit (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        TIMESTAMP WITH TIME ZONE NOT NULL,
    device_id CHAR(64),                                 -- null for site-wide events; no FK: denied devices have no row
    action    VARCHAR(64)              NOT NULL,
    decision  VARCHAR(8)               NOT NULL,
    reason    VARCHAR(1024)            NOT NULL,
    detail    VARCHAR(8192),
    CONSTRAINT audit_decision CHECK (decision IN ('allow', 'deny', 'info'))
);
CREATE INDEX audit_by_device ON audit (device_id, id);
CREATE INDEX audit_by_time ON audit (at);

-- The SPIFFE bundle's spiffe_sequence: one row, bumped on every change of the trust bundle.
CREATE TABLE bundle (
    id         INT                      NOT NULL PRIMARY KEY,
    sequence   BIGINT                   NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT bundle_single_row CHECK (id = 1),
    CONSTRAINT bundle_sequence CHECK (sequence >= 0)
);
INSERT INTO bundle (id, sequence, updated_at) VALUES (1, 0, CURRENT_TIMESTAMP);

-- What must go upward once the link to the central trust domain is back (store and forward).
CREATE TABLE outbox (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    kind       VARCHAR(64)              NOT NULL,
    payload    CLOB                     NOT NULL,
    sent_at    TIMESTAMP WITH TIME ZONE
);
-- The sender reads unsent rows in order.
CREATE INDEX outbox_unsent ON outbox (sent_at, id);
