-- Store and forward, upward (docs/upward-link.md "Store and forward", issue 14). Same dialect rules as V1: runs
-- unchanged on H2 2.x and PostgreSQL 13+.

-- Per site: the highest sequence central holds (the acknowledgement), when the site last delivered anything, and
-- the last periodic summary it sent (JSON, as sent). Updated in the ingest's transaction.
ALTER TABLE sites ADD COLUMN acked_through BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sites ADD COLUMN last_contact TIMESTAMP WITH TIME ZONE;
ALTER TABLE sites ADD COLUMN last_summary VARCHAR(65536);
ALTER TABLE sites ADD COLUMN summary_at TIMESTAMP WITH TIME ZONE;

-- Every event a site sent, once: the primary key (site, seq) is what makes a retried batch land exactly once.
CREATE TABLE site_events (
    site        VARCHAR(63)   NOT NULL REFERENCES sites (name),
    seq         BIGINT        NOT NULL,
    at          TIMESTAMP WITH TIME ZONE NOT NULL,
    kind        VARCHAR(64)   NOT NULL,
    data        VARCHAR(65536) NOT NULL,
    received_at TIMESTAMP WITH TIME ZONE NOT NULL,
    -- data.deviceId of device events (and audit rows about a device), so `device show` finds a device's history
    device_id   VARCHAR(64),
    PRIMARY KEY (site, seq)
);
CREATE INDEX site_events_at ON site_events (at);
CREATE INDEX site_events_device ON site_events (site, device_id);

-- The fleet view: each device's latest known standing, projected from its site's events in the same transaction
-- that stores them (so it never disagrees with site_events).
CREATE TABLE fleet_devices (
    site        VARCHAR(63)   NOT NULL REFERENCES sites (name),
    device_id   VARCHAR(64)   NOT NULL,
    state       VARCHAR(16)   NOT NULL,
    spiffe_id   VARCHAR(2048),
    ek_hash     VARCHAR(64),
    reasons     VARCHAR(8192),
    revoke_reason VARCHAR(1024),
    updated_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    last_seq    BIGINT        NOT NULL,
    PRIMARY KEY (site, device_id)
);
CREATE INDEX fleet_devices_state ON fleet_devices (state);
