-- Store and forward, upward (docs/upward-link.md "Store and forward", issue 14). The outbox of V1 never had a
-- producer: it is replaced by one that carries the site's sequence, a coalescing key and each row's size.
DROP TABLE outbox;

-- One row per event for central, written in the same transaction as the change it reports. seq is the site's own
-- sequence (1, 2, 3, ...; never reused, holes only where coalescing removed a superseded row).
CREATE TABLE outbox (
    seq          BIGINT                   NOT NULL PRIMARY KEY,
    created_at   TIMESTAMP WITH TIME ZONE NOT NULL,
    kind         VARCHAR(64)              NOT NULL,
    -- device.state rows: the device id (the latest state of a device supersedes earlier unsent ones at the bound)
    coalesce_key VARCHAR(128),
    payload      CLOB                     NOT NULL,
    size         INTEGER                  NOT NULL,
    sent_at      TIMESTAMP WITH TIME ZONE
);
-- The sender reads unsent rows in order; pruning finds old sent ones.
CREATE INDEX outbox_unsent ON outbox (sent_at, seq);
CREATE INDEX outbox_coalesce ON outbox (coalesce_key, seq);

-- The single row every append locks (UPDATE) to take the next seq: writers are serialised from that point to
-- their commit, so rows commit in seq order and the sender never sees seq N+1 committed while N is still in
-- flight (which it would then skip for good once central acknowledged N+1). It also carries the backlog counters
-- the bound is checked against (kept in step under the same lock, so no COUNT(*) per append) and the highest
-- sequence central acknowledged.
CREATE TABLE outbox_state (
    id            INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    last_seq      BIGINT  NOT NULL,
    acked_through BIGINT  NOT NULL,
    unsent_rows   BIGINT  NOT NULL,
    unsent_bytes  BIGINT  NOT NULL,
    coalesced     BIGINT  NOT NULL
);
INSERT INTO outbox_state (id, last_seq, acked_through, unsent_rows, unsent_bytes, coalesced) VALUES (1, 0, 0, 0, 0, 0);
