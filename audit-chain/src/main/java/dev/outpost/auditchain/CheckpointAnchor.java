package dev.outpost.auditchain;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * What one checkpoint extends into the TPM's NV index: SHA-256("outpost-audit-anchor-v1" || u64 routine seq ||
 * routine head hash || u64 lasting seq || lasting head hash). The appliance computes it to anchor; verifiers
 * (the appliance's {@code audit verify}, central's {@code events audit-chain}) recompute it from a checkpoint's heads.
 */
public final class CheckpointAnchor {
    private static final byte[] TAG = "outpost-audit-anchor-v1".getBytes(StandardCharsets.US_ASCII);

    private CheckpointAnchor() {
    }

    public static byte[] anchor(long routineSeq, byte[] routineHash, long lastingSeq, byte[] lastingHash) {
        MessageDigest d = ChainLink.sha256();
        d.update(TAG);
        d.update(ByteBuffer.allocate(8).putLong(routineSeq).array());
        d.update(routineHash);
        d.update(ByteBuffer.allocate(8).putLong(lastingSeq).array());
        d.update(lastingHash);
        return d.digest();
    }
}
