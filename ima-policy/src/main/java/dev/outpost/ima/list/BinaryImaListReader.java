package dev.outpost.ima.list;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

import dev.outpost.tpm.HashAlg;

/**
 * Reads {@code binary_runtime_measurements} (or {@code binary_runtime_measurements_<alg>} when given that bank's
 * template hash size). Assumes little-endian fields, as on x86/arm and on any kernel booted with
 * ima_canonical_fmt.
 */
public final class BinaryImaListReader implements ImaEntryReader {
    private final ByteSource src;
    private final InputStream in;
    private final ImaLimits limits;
    private final int templateHashSize;
    private long nextIndex;
    private long read;

    public BinaryImaListReader(InputStream in, ImaLimits limits, HashAlg templateHashAlg, long firstIndex) {
        this.in = in;
        this.src = new ByteSource(in);
        this.limits = limits;
        this.templateHashSize = templateHashAlg.digestSize();
        this.nextIndex = firstIndex;
    }

    public BinaryImaListReader(InputStream in) {
        this(in, ImaLimits.DEFAULT, HashAlg.SHA1, 0);
    }

    @Override
    public ImaEntry next() throws IOException {
        if (src.atEnd()) {
            return null;
        }
        if (++read > limits.maxEntries()) {
            throw new ImaFormatException("binary IMA list has more than " + limits.maxEntries() + " entries");
        }
        long start = src.offset();
        Where where = new Where(nextIndex, start);
        long pcr = src.u32("PCR index");
        if (pcr > 23) {
            throw new ImaFormatException(where + ": PCR index " + pcr + " out of range (not an IMA list?)");
        }
        byte[] hash = new byte[templateHashSize];
        src.read(hash, 0, hash.length, "template hash");
        long nameLen = src.u32("template name length");
        if (nameLen == 0 || nameLen > ImaLimits.MAX_TEMPLATE_NAME) {
            throw new ImaFormatException(where + ": template name length " + nameLen + " is not 1.."
                    + ImaLimits.MAX_TEMPLATE_NAME);
        }
        byte[] nameBytes = new byte[(int) nameLen];
        src.read(nameBytes, 0, nameBytes.length, "template name");
        String name = new String(nameBytes, StandardCharsets.ISO_8859_1);
        ImaTemplate t = ImaTemplate.fromName(name).orElseThrow(() -> new ImaFormatException(where
                + ": unsupported template \"" + name.replaceAll("[^ -~]", "?") + "\""));
        ImaEntry e;
        if (t == ImaTemplate.IMA) {
            e = readLegacy(where, (int) pcr, hash);
        } else {
            long len = src.u32("template data length");
            if (len > limits.maxTemplateData()) {
                throw new ImaFormatException(where + ": template data length " + len + " exceeds the limit of "
                        + limits.maxTemplateData());
            }
            byte[] data = new byte[(int) len];
            src.read(data, 0, data.length, "template data");
            e = TemplateData.decode(nextIndex, (int) pcr, hash, t, data, limits, where);
        }
        nextIndex++;
        return e;
    }

    /**
     * The kernel writes the legacy template without a template-data length: a bare 20-byte digest, then the name
     * with a u32 length and no NUL (ima_measurements_show, IMA_SHOW_BINARY_NO_FIELD_LEN / OLD_STRING_FMT).
     */
    private ImaEntry readLegacy(Where where, int pcr, byte[] hash) throws IOException {
        byte[] data = new byte[TemplateData.LEGACY_DATA_LENGTH];
        src.read(data, 0, 20, "ima digest");
        long len = src.u32("ima name length");
        if (len >= TemplateData.LEGACY_NAME_FIELD) {
            throw new ImaFormatException(where + ": legacy ima name length " + len + " exceeds 255");
        }
        src.read(data, 20, (int) len, "ima name");
        return TemplateData.decode(nextIndex, pcr, hash, ImaTemplate.IMA, data, limits, where);
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
