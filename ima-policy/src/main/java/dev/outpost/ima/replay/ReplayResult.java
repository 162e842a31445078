package dev.outpost.ima.replay;

import java.util.List;

/**
 * Outcome of replaying a whole list.
 *
 * @param entries             entries read
 * @param violations          entries with an all-zero template hash
 * @param badTemplateHashes   indexes of entries whose template hash does not match their data
 * @param pcr                 replayed value (native variant)
 * @param paddedPcr           replayed value of the zero-padded SHA-1 variant (same as pcr for the log's own bank)
 */
public record ReplayResult(long entries, long violations, List<Long> badTemplateHashes, byte[] pcr,
        byte[] paddedPcr) {
}
