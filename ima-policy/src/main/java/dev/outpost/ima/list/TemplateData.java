package dev.outpost.ima.list;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import dev.outpost.tpm.HashAlg;

/**
 * Encodes and decodes template data: a sequence of u32-LE length-prefixed fields, except for the legacy
 * {@code ima} template whose hashed form is a bare 20-byte digest followed by the name zero-padded to 256 bytes
 * (IMA_EVENT_NAME_LEN_MAX + 1 in the kernel's ima_calc_field_array_hash_tfm).
 */
public final class TemplateData {
    /** IMA_EVENT_NAME_LEN_MAX + 1. */
    public static final int LEGACY_NAME_FIELD = 256;
    public static final int LEGACY_DATA_LENGTH = 20 + LEGACY_NAME_FIELD;

    private TemplateData() {
    }

    /** Field values before encoding; the parser's and the writer's common currency. */
    public record Fields(HashAlg digestAlg, byte[] digest, String digestAlgName, String path, byte[] signature,
            byte[] buffer, HashAlg modsigAlg, byte[] modsigDigest, String modsigAlgName, byte[] modsig) {
    }

    public static byte[] encode(ImaTemplate t, Fields f) {
        byte[] name = f.path().getBytes(StandardCharsets.UTF_8);
        if (t == ImaTemplate.IMA) {
            if (f.digest().length != 20 || name.length >= LEGACY_NAME_FIELD) {
                throw new IllegalArgumentException("legacy ima template needs a SHA-1 digest and a name < 256 bytes");
            }
            byte[] out = new byte[LEGACY_DATA_LENGTH];
            System.arraycopy(f.digest(), 0, out, 0, 20);
            System.arraycopy(name, 0, out, 20, name.length);
            return out;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(64 + name.length);
        field(out, digestField(f.digestAlgName(), f.digest()));
        byte[] nameField = Arrays.copyOf(name, name.length + 1);
        field(out, nameField);
        switch (t) {
            case IMA_SIG -> field(out, orEmpty(f.signature()));
            case IMA_BUF -> field(out, orEmpty(f.buffer()));
            case IMA_MODSIG -> {
                field(out, orEmpty(f.signature()));
                field(out, f.modsigDigest() == null ? new byte[0] : digestField(f.modsigAlgName(), f.modsigDigest()));
                field(out, orEmpty(f.modsig()));
            }
            default -> {
            }
        }
        return out.toByteArray();
    }

    private static byte[] orEmpty(byte[] b) {
        return b == null ? new byte[0] : b;
    }

    private static byte[] digestField(String algName, byte[] digest) {
        byte[] alg = algName.getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[alg.length + 2 + digest.length];
        System.arraycopy(alg, 0, out, 0, alg.length);
        out[alg.length] = ':';
        out[alg.length + 1] = 0;
        System.arraycopy(digest, 0, out, alg.length + 2, digest.length);
        return out;
    }

    private static void field(ByteArrayOutputStream out, byte[] data) {
        int n = data.length;
        out.write(n);
        out.write(n >>> 8);
        out.write(n >>> 16);
        out.write(n >>> 24);
        out.write(data, 0, data.length);
    }

    /**
     * Decodes template data into an entry. {@code where} (its toString) prefixes every error, e.g. "entry 12 at offset 3456".
     */
    public static ImaEntry decode(long index, int pcr, byte[] templateHash, ImaTemplate t, byte[] data,
            ImaLimits limits, Object where) {
        if (t == ImaTemplate.IMA) {
            if (data.length != LEGACY_DATA_LENGTH) {
                throw new ImaFormatException(where + ": legacy ima template data must be " + LEGACY_DATA_LENGTH
                        + " bytes");
            }
            int end = 20;
            while (end < data.length && data[end] != 0) {
                end++;
            }
            for (int i = end; i < data.length; i++) {
                if (data[i] != 0) {
                    throw new ImaFormatException(where + ": legacy ima name field is not NUL padded");
                }
            }
            String path = Utf8.decode(data, 20, end - 20, where);
            return new ImaEntry(index, pcr, templateHash, t, data, HashAlg.SHA1, Arrays.copyOf(data, 20), path,
                    null, null, null, null, null);
        }
        int[] offs = new int[t.fieldCount()];
        int[] lens = new int[t.fieldCount()];
        int p = 0;
        for (int i = 0; i < t.fieldCount(); i++) {
            if (data.length - p < 4) {
                throw new ImaFormatException(where + ": template data ends inside field " + i + " of " + t);
            }
            long len = (data[p] & 0xffL) | (data[p + 1] & 0xffL) << 8 | (data[p + 2] & 0xffL) << 16
                    | (data[p + 3] & 0xffL) << 24;
            p += 4;
            if (len > data.length - p) {
                throw new ImaFormatException(where + ": field " + i + " of " + t + " claims " + len
                        + " bytes, only " + (data.length - p) + " left");
            }
            offs[i] = p;
            lens[i] = (int) len;
            p += (int) len;
        }
        if (p != data.length) {
            throw new ImaFormatException(where + ": " + (data.length - p) + " bytes after the last field of " + t);
        }
        HashAlg alg = digestAlg(data, offs[0], lens[0], where, "d-ng");
        int algLen = indexOfColon(data, offs[0], lens[0]) + 2;
        byte[] digest = Arrays.copyOfRange(data, offs[0] + algLen, offs[0] + lens[0]);
        if (digest.length != alg.digestSize()) {
            throw new ImaFormatException(where + ": " + alg + " digest has " + digest.length + " bytes");
        }
        if (lens[1] == 0 || data[offs[1] + lens[1] - 1] != 0) {
            throw new ImaFormatException(where + ": n-ng field is not NUL terminated");
        }
        if (lens[1] - 1 > limits.maxPathBytes()) {
            throw new ImaFormatException(where + ": name longer than " + limits.maxPathBytes() + " bytes");
        }
        String path = Utf8.decode(data, offs[1], lens[1] - 1, where);
        byte[] sig = null;
        byte[] buf = null;
        HashAlg modAlg = null;
        byte[] modDigest = null;
        byte[] modsig = null;
        switch (t) {
            case IMA_SIG -> sig = slice(data, offs[2], lens[2]);
            case IMA_BUF -> buf = Arrays.copyOfRange(data, offs[2], offs[2] + lens[2]);
            case IMA_MODSIG -> {
                sig = slice(data, offs[2], lens[2]);
                if (lens[3] > 0) {
                    modAlg = digestAlg(data, offs[3], lens[3], where, "d-modsig");
                    int l = indexOfColon(data, offs[3], lens[3]) + 2;
                    modDigest = Arrays.copyOfRange(data, offs[3] + l, offs[3] + lens[3]);
                    if (modDigest.length != modAlg.digestSize()) {
                        throw new ImaFormatException(where + ": d-modsig digest has " + modDigest.length + " bytes");
                    }
                }
                modsig = slice(data, offs[4], lens[4]);
            }
            default -> {
            }
        }
        return new ImaEntry(index, pcr, templateHash, t, data, alg, digest, path, sig, buf, modAlg, modDigest,
                modsig);
    }

    private static byte[] slice(byte[] d, int off, int len) {
        return len == 0 ? null : Arrays.copyOfRange(d, off, off + len);
    }

    private static int indexOfColon(byte[] d, int off, int len) {
        for (int i = 0; i < Math.min(len - 1, 32); i++) {
            if (d[off + i] == ':' && d[off + i + 1] == 0) {
                return i;
            }
        }
        return -1;
    }

    private static HashAlg digestAlg(byte[] d, int off, int len, Object where, String field) {
        int colon = indexOfColon(d, off, len);
        if (colon <= 0) {
            throw new ImaFormatException(where + ": " + field + " field has no \"<algo>:\\0\" prefix");
        }
        HashAlg alg = DigestAlgNames.parse(d, off, colon);
        if (alg == null) {
            throw new ImaFormatException(where + ": invalid digest algorithm \""
                    + new String(d, off, colon, StandardCharsets.ISO_8859_1).replaceAll("[^ -~]", "?") + "\" in "
                    + field);
        }
        return alg;
    }
}
