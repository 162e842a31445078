package dev.outpost.ima.policy;

/**
 * Bounds on policy input. A 100,000-path policy is about 10 MB; the defaults leave an order of magnitude of room.
 *
 * @param maxBytes        whole document
 * @param maxDepth        JSON nesting (a policy needs 4)
 * @param maxStringLength one JSON string (verification-keys holds whole keyrings)
 * @param maxEntries      paths plus digests plus excludes
 */
public record PolicyLimits(long maxBytes, int maxDepth, int maxStringLength, int maxEntries) {
    public static final PolicyLimits DEFAULT = new PolicyLimits(256L << 20, 16, 4 << 20, 5_000_000);
}
