-- Node keys held by the device TPM (issue 17). The Name (nameAlg || digest of TPMT_PUBLIC) of the TPM key the
-- device's current SVID certifies, as its AK certified it with TPM2_Certify; null for a software node key, which only
-- enrollment.nodeKeys: software-allowed accepts. The same per issued SVID, so the audit trail names the key.
-- (Renumber freely at merge if another V4 lands first: nothing refers to the version.)
ALTER TABLE devices ADD COLUMN node_key_name VARBINARY(66);
ALTER TABLE svids ADD COLUMN node_key_name VARBINARY(66);
