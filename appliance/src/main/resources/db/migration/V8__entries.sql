-- Registration entries (docs/workload-api.md): which workloads on which nodes get which SPIFFE ID.
-- Lists are stored one item per line; the appliance validates every field before it writes, the CHECKs here
-- refuse what no valid entry can hold.
CREATE TABLE entries (
    id              CHAR(36)                 NOT NULL PRIMARY KEY,   -- a random UUID
    spiffe_id       VARCHAR(2048)            NOT NULL,
    parents         VARCHAR(8192)            NOT NULL,               -- node selectors, all must hold
    selectors       VARCHAR(8192)            NOT NULL,               -- workload selectors, all must hold
    x509_ttl_s      BIGINT                   NOT NULL,
    jwt_ttl_s       BIGINT                   NOT NULL,
    federates_with  VARCHAR(8192),
    dns_names       VARCHAR(4096),
    created_at      TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT entries_id_uuid CHECK (REGEXP_LIKE(id, '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')),
    CONSTRAINT entries_ttls CHECK (x509_ttl_s > 0 AND jwt_ttl_s > 0),
    CONSTRAINT entries_spiffe_id CHECK (spiffe_id LIKE 'spiffe://%')
);
CREATE INDEX entries_by_spiffe_id ON entries (spiffe_id);

-- The entry set's revision: moved in the same transaction as every create and delete. Verdicts carry it, so an
-- agent holding another revision asks for its entries again.
CREATE TABLE entries_revision (
    id        INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    revision  BIGINT  NOT NULL CHECK (revision >= 0)
);
INSERT INTO entries_revision (id, revision) VALUES (1, 0);
