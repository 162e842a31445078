package dev.outpost.ima.boot;

/**
 * Bounds on a policy document. A real one is tens of KiB (dbx with a few hundred hashes is the bulk), so the
 * defaults leave two orders of magnitude of room and still cap what a hostile file can cost.
 *
 * @param maxBytes whole document
 * @param maxDepth JSON nesting (the format needs 4)
 * @param maxListEntries entries of any one list or map
 * @param maxStringLength any one string (regexes included)
 */
public record BootPolicyLimits(int maxBytes, int maxDepth, int maxListEntries, int maxStringLength) {
    public static final BootPolicyLimits DEFAULT = new BootPolicyLimits(8 << 20, 8, 20_000, 16_384);
}
