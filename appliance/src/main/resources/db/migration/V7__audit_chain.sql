-- Tamper-evident audit trail (issue 17; docs/operations.md "Audit trail"). Every audit row written from this
-- version on is a link of a hash chain: chain_seq is its place (1, 2, 3, ... with no holes), chain_prev the hash of
-- the link before it, chain_hash the SHA-256 of its own canonical encoding (store/AuditChain.java) which includes
-- chain_prev. There are two chains, one per retention class (audit.lasting): retention prunes each as a prefix, so
-- a routine row never waits for a five-year lasting row to expire, and a pruned prefix leaves the chain whole from
-- its base. Rows written before this version keep chain_seq NULL: they are reported as unchained, never verified.
ALTER TABLE audit ADD COLUMN chain_seq BIGINT;
ALTER TABLE audit ADD COLUMN chain_prev BINARY(32);
ALTER TABLE audit ADD COLUMN chain_hash BINARY(32);
CREATE UNIQUE INDEX audit_chain_order ON audit (lasting, chain_seq);

-- One row per chain: its head (last link written) and its base (the last link retention pruned; seq 0 and the
-- zero hash while nothing was pruned). Every writer of these rows (appends, retention) first locks outbox_state's
-- row, which every audit append takes anyway (it writes to the outbox), so the chain never forks; a row, its chain
-- fields and the moved head commit in one transaction.
CREATE TABLE audit_chain (
    lasting   BOOLEAN   NOT NULL PRIMARY KEY,
    head_seq  BIGINT    NOT NULL,
    head_hash BINARY(32) NOT NULL,
    base_seq  BIGINT    NOT NULL,
    base_hash BINARY(32) NOT NULL,
    CONSTRAINT audit_chain_base CHECK (base_seq >= 0 AND head_seq >= base_seq)
);
INSERT INTO audit_chain (lasting, head_seq, head_hash, base_seq, base_hash) VALUES
    (FALSE, 0, X'0000000000000000000000000000000000000000000000000000000000000000', 0,
            X'0000000000000000000000000000000000000000000000000000000000000000'),
    (TRUE, 0, X'0000000000000000000000000000000000000000000000000000000000000000', 0,
            X'0000000000000000000000000000000000000000000000000000000000000000');

-- Anchors of the two heads in the gateway's TPM (audit.anchor: tpm): the anchor digest extended into an NV index
-- of type TPM_NT_EXTEND, and a TPM2_NV_Certify of the index by the gateway's AK over a fresh qualifying value.
-- ak_public is the AK's TPM2B_PUBLIC, so anyone (central) can check the signature without the TPM.
CREATE TABLE audit_checkpoint (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           TIMESTAMP WITH TIME ZONE NOT NULL,
    routine_seq  BIGINT        NOT NULL,
    routine_hash BINARY(32)    NOT NULL,
    lasting_seq  BIGINT        NOT NULL,
    lasting_hash BINARY(32)    NOT NULL,
    nv_index     INTEGER       NOT NULL,
    nv_value     BINARY(32)    NOT NULL,
    -- null while pending: the row is written before the extend and completed by the certification after it,
    -- so a crash between the two leaves the TPM's value explained by the table
    qualifying   BINARY(32),
    attest       VARBINARY(2048),
    signature    VARBINARY(1024),
    ak_public    VARBINARY(1024)
);

-- Outbox payloads (a CLOB) up to 4 KiB stay in the row instead of H2's separate LOB store (default: 256 bytes). The
-- chain fields (seq, prev, hash) push a typical audit event past 256 characters, and an append whose outbox payload
-- goes to the LOB store cost three to four times as much (BENCHMARKS.md "Audit trail"). Persistent in the database.
SET MAX_LENGTH_INPLACE_LOB 4096;
