-- Continuous attestation: policies, their assignment to devices (directly or by label), and each device's
-- attestation state, which lets the next attestation verify only what is new.

CREATE TABLE policies (
    name     VARCHAR(64)              NOT NULL PRIMARY KEY,
    kind     VARCHAR(8)               NOT NULL,
    content  BLOB                     NOT NULL,   -- the policy as the operator gave it (runtime policies can be MBs)
    sha256   CHAR(64)                 NOT NULL,
    added_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT policies_kind CHECK (kind IN ('runtime', 'boot')),
    CONSTRAINT policies_name CHECK (REGEXP_LIKE(name, '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'))
);

-- target is 'device:<id>' or 'label:<label>'; a device's own assignment wins over its labels'.
CREATE TABLE policy_assignments (
    target      VARCHAR(80) NOT NULL,
    kind        VARCHAR(8)  NOT NULL,
    policy_name VARCHAR(64) NOT NULL,
    PRIMARY KEY (target, kind),
    CONSTRAINT assignments_kind CHECK (kind IN ('runtime', 'boot')),
    CONSTRAINT assignments_target CHECK (REGEXP_LIKE(target, '^(device:[0-9a-f]{64}|label:[A-Za-z0-9][A-Za-z0-9._-]{0,63})$')),
    CONSTRAINT assignments_policy FOREIGN KEY (policy_name) REFERENCES policies (name)
);

CREATE TABLE device_labels (
    device_id CHAR(64)    NOT NULL,
    label     VARCHAR(64) NOT NULL,
    PRIMARY KEY (device_id, label),
    CONSTRAINT labels_device FOREIGN KEY (device_id) REFERENCES devices (device_id) ON DELETE CASCADE,
    CONSTRAINT labels_label CHECK (REGEXP_LIKE(label, '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'))
);

CREATE TABLE attestations (
    device_id        CHAR(64)                 NOT NULL PRIMARY KEY,
    reset_count      BIGINT,                              -- of the last accepted quote
    restart_count    BIGINT,
    tpm_clock        BIGINT,
    ima_state        VARBINARY(1048576),                  -- ImaStateCodec: next entry, running PCRs, learned keys
    boot_verified    BOOLEAN                  NOT NULL DEFAULT FALSE,
    runtime_policy   VARCHAR(64),                         -- what ima_state was verified against
    boot_policy      VARCHAR(64),
    last_verdict     VARCHAR(16),
    last_reasons     VARCHAR(8000),
    last_attested_at TIMESTAMP WITH TIME ZONE,
    last_passed_at   TIMESTAMP WITH TIME ZONE,
    CONSTRAINT attestations_device FOREIGN KEY (device_id) REFERENCES devices (device_id) ON DELETE CASCADE
);
-- The staleness sweep looks for trusted devices whose last pass is too old.
CREATE INDEX attestations_by_last_pass ON attestations (last_passed_at);
