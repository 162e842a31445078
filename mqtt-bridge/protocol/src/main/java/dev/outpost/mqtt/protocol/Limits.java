package dev.outpost.mqtt.protocol;

/**
 * Size limits of the protocol. Every message is checked against them before it is parsed, so a hostile payload
 * costs at most its limit.
 *
 * @param maxPayloadBytes the largest message of any kind
 * @param maxStringChars  the longest JSON string (base64 fields included)
 * @param maxDepth        the deepest JSON nesting
 */
public record Limits(int maxPayloadBytes, int maxStringChars, int maxDepth) {
    public static final Limits DEFAULT = new Limits(64 * 1024, 48 * 1024, 8);

    public Limits {
        if (maxPayloadBytes < 1024 || maxStringChars < 256 || maxDepth < 2) {
            throw new IllegalArgumentException("protocol limits too small to carry an enrollment");
        }
    }
}
