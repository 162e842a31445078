-- Retention (store/Retention.java): the history tables are pruned on a timer. Audit rows come in two kinds kept
-- for different periods: routine ones (retention.audit) and lasting ones (retention.auditLasting), which explain
-- a device's standing or an operator's act. The kind is decided once, when the row is written
-- (AuditEvent.lasting), and indexed with the time so each kind's pruning reads only rows it deletes.
ALTER TABLE audit ADD COLUMN lasting BOOLEAN DEFAULT FALSE NOT NULL;

-- Rows written before this version, by the same rule as AuditEvent.lasting at the time of writing.
UPDATE audit SET lasting = TRUE
 WHERE action IN ('revoke', 'clear', 'allow', 'policy', 'backup')
    OR (action IN ('enroll', 'activate') AND decision = 'allow')
    OR (action = 'attest' AND decision = 'deny');

CREATE INDEX audit_by_retention ON audit (lasting, at);
