package dev.outpost.ima.list;

/**
 * Bounds that keep a hostile list from costing unbounded memory. Defaults are far above what real kernels
 * produce (PATH_MAX is 4096, key and certificate buffers are a few KiB, template names at most 15 bytes).
 *
 * @param maxPathBytes     longest file name or buffer name accepted
 * @param maxTemplateData  longest template data accepted (ima-buf certificates, modsig PKCS#7 blobs)
 * @param maxEntries       most entries one reader returns
 */
public record ImaLimits(int maxPathBytes, int maxTemplateData, long maxEntries) {
    public static final int MAX_TEMPLATE_NAME = 15;

    public static final ImaLimits DEFAULT = new ImaLimits(8192, 1 << 20, 50_000_000L);

    public ImaLimits {
        if (maxPathBytes <= 0 || maxTemplateData <= 0 || maxEntries <= 0) {
            throw new IllegalArgumentException("limits must be positive");
        }
    }

    /** Longest ASCII line: every binary byte can become two hex digits, plus separators. */
    public int maxAsciiLine() {
        return 2 * maxTemplateData + maxPathBytes + 512;
    }
}
