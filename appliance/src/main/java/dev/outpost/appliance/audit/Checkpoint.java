package dev.outpost.appliance.audit;

import java.time.Instant;

import dev.outpost.auditchain.CheckpointAnchor;

/**
 * One anchor of the two chain heads in the TPM. {@code attest}, {@code signature}, {@code qualifying} and
 * {@code akPublic} are null while it is pending: the row is written before the extend (so a crash between the two
 * leaves the TPM's value explainable) and completed with the certification after it.
 *
 * @param nvValue the index's value after this anchor's extend
 */
public record Checkpoint(long id, Instant at, long routineSeq, byte[] routineHash, long lastingSeq, byte[] lastingHash,
                         int nvIndex, byte[] nvValue, byte[] qualifying, byte[] attest, byte[] signature,
                         byte[] akPublic) {
    public boolean pending() {
        return attest == null;
    }

    /** What is extended into the index: SHA-256("outpost-audit-anchor-v1" || u64 routine seq || routine head hash ||
     * u64 lasting seq || lasting head hash). */
    public byte[] anchor() {
        return anchor(routineSeq, routineHash, lastingSeq, lastingHash);
    }

    public static byte[] anchor(long routineSeq, byte[] routineHash, long lastingSeq, byte[] lastingHash) {
        return CheckpointAnchor.anchor(routineSeq, routineHash, lastingSeq, lastingHash);
    }

    public long seq(boolean lasting) {
        return lasting ? lastingSeq : routineSeq;
    }

    public byte[] hash(boolean lasting) {
        return lasting ? lastingHash : routineHash;
    }
}
