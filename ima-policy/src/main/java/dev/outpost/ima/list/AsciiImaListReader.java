package dev.outpost.ima.list;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

import dev.outpost.tpm.HashAlg;

/**
 * Reads {@code ascii_runtime_measurements}. The template data is rebuilt from the printed fields so the template
 * hash can be checked exactly as for the binary list. Names are single tokens: the kernel replaces spaces in
 * names with '_' before it measures them.
 */
public final class AsciiImaListReader implements ImaEntryReader {
    private final InputStream in;
    private final ByteSource src;
    private final ImaLimits limits;
    private long nextIndex;
    private long lineNo;
    private int hashHexLength = -1;
    /** "line N", formatted only for an error: a String per entry was a measurable share of the fast path. */
    private final Object lineWhere = new Object() {
        @Override
        public String toString() {
            return "line " + lineNo;
        }
    };

    public AsciiImaListReader(InputStream in, ImaLimits limits, long firstIndex) {
        this.in = in;
        this.src = new ByteSource(in);
        this.limits = limits;
        this.nextIndex = firstIndex;
    }

    public AsciiImaListReader(InputStream in) {
        this(in, ImaLimits.DEFAULT, 0);
    }

    @Override
    public ImaEntry next() throws IOException {
        while (true) {
            int len = src.lineInto(limits.maxAsciiLine(), lineNo + 1);
            if (len < 0) {
                return null;
            }
            lineNo++;
            byte[] raw = src.lineBuf();
            if (len > 0 && raw[len - 1] == '\r') {
                len--;
            }
            if (len > 0 && raw[0] >= '0' && raw[0] <= '9') {
                if (lineNo > limits.maxEntries()) {
                    throw new ImaFormatException("ASCII IMA list has more than " + limits.maxEntries() + " entries");
                }
                ImaEntry e = fastImaNg(raw, len);
                if (e != null) {
                    nextIndex++;
                    return e;
                }
            }
            String line = new String(raw, 0, len, StandardCharsets.ISO_8859_1);
            if (line.isBlank()) {
                continue;
            }
            if (lineNo > limits.maxEntries()) {
                throw new ImaFormatException("ASCII IMA list has more than " + limits.maxEntries() + " entries");
            }
            ImaEntry e = parse(line.stripLeading(), "line " + lineNo);
            nextIndex++;
            return e;
        }
    }

    private static final byte[] IMA_NG = "ima-ng".getBytes(StandardCharsets.US_ASCII);

    /**
     * The line as the kernel prints nearly every entry ({@code PCR hash ima-ng alg:digest name}), parsed from its
     * bytes without a String, a split or an encoder per field: on a 500,000-entry list these were most of the
     * parse. Null for anything else, or anything this path does not prove well-formed, which then goes through
     * {@link #parse} and fails there with its message: one set of rules and errors, two speeds.
     */
    private ImaEntry fastImaNg(byte[] b, int len) {
        int s1 = indexOf(b, ' ', 0, len);
        if (s1 < 1 || s1 > 2) {
            return null;
        }
        int s2 = indexOf(b, ' ', s1 + 1, len);
        int s3 = s2 < 0 ? -1 : indexOf(b, ' ', s2 + 1, len);
        int s4 = s3 < 0 ? -1 : indexOf(b, ' ', s3 + 1, len);
        if (s4 < 0 || s4 + 1 == len || indexOf(b, ' ', s4 + 1, len) >= 0) {
            return null;
        }
        int pcr = 0;
        for (int i = 0; i < s1; i++) {
            if (b[i] < '0' || b[i] > '9') {
                return null;
            }
            pcr = pcr * 10 + (b[i] - '0');
        }
        int hashHex = s2 - s1 - 1;
        if (pcr > 23 || !(hashHex == 40 || hashHex == 64 || hashHex == 96 || hashHex == 128)
                || (hashHexLength >= 0 && hashHexLength != hashHex)
                || !java.util.Arrays.equals(b, s2 + 1, s3, IMA_NG, 0, IMA_NG.length)) {
            return null;
        }
        byte[] hash = new byte[hashHex / 2];
        if (!Hex.decodeInto(b, s1 + 1, hashHex, hash, 0)) {
            return null;
        }
        int colon = indexOf(b, ':', s3 + 1, s4);
        if (colon <= s3 + 1) {
            return null;
        }
        HashAlg alg = DigestAlgNames.parse(b, s3 + 1, colon - s3 - 1);
        if (alg == null || s4 - colon - 1 != 2 * alg.digestSize()) {
            return null;
        }
        int algLen = colon - s3 - 1;
        int dLen = alg.digestSize();
        int pathLen = len - s4 - 1;
        int dataLen = 4 + algLen + 2 + dLen + 4 + pathLen + 1;
        if (pathLen > limits.maxPathBytes() || dataLen > limits.maxTemplateData()) {
            return null;
        }
        // Template data exactly as TemplateData.encode lays out ima-ng: d-ng ("alg:" NUL digest), n-ng (name NUL).
        byte[] data = new byte[dataLen];
        int p = putLe(data, 0, algLen + 2 + dLen);
        System.arraycopy(b, s3 + 1, data, p, algLen);
        p += algLen;
        data[p++] = ':';
        data[p++] = 0;
        int digestAt = p;
        if (!Hex.decodeInto(b, colon + 1, 2 * dLen, data, digestAt)) {
            return null;
        }
        p += dLen;
        p = putLe(data, p, pathLen + 1);
        System.arraycopy(b, s4 + 1, data, p, pathLen);
        String path = Utf8.decode(b, s4 + 1, pathLen, lineWhere);
        hashHexLength = hashHex;
        return new ImaEntry(nextIndex, pcr, hash, ImaTemplate.IMA_NG, data, alg,
                java.util.Arrays.copyOfRange(data, digestAt, digestAt + dLen), path, null, null, null, null, null);
    }

    private static int indexOf(byte[] b, char c, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] == c) {
                return i;
            }
        }
        return -1;
    }

    private static int putLe(byte[] d, int p, int v) {
        d[p] = (byte) v;
        d[p + 1] = (byte) (v >>> 8);
        d[p + 2] = (byte) (v >>> 16);
        d[p + 3] = (byte) (v >>> 24);
        return p + 4;
    }

    private ImaEntry parse(String line, String where) {
        String[] tok = line.split(" ", -1);
        if (tok.length < 5) {
            throw new ImaFormatException(where + ": expected at least 5 space-separated fields, found " + tok.length);
        }
        int pcr;
        try {
            pcr = Integer.parseInt(tok[0]);
        } catch (NumberFormatException ex) {
            throw new ImaFormatException(where + ": PCR index is not a number");
        }
        if (pcr < 0 || pcr > 23) {
            throw new ImaFormatException(where + ": PCR index " + pcr + " out of range");
        }
        byte[] hash = Hex.decodeOrNull(tok[1]);
        if (hash == null || !(hash.length == 20 || hash.length == 32 || hash.length == 48 || hash.length == 64)) {
            throw new ImaFormatException(where + ": template hash is not 40/64/96/128 hex digits");
        }
        if (hashHexLength >= 0 && hashHexLength != tok[1].length()) {
            throw new ImaFormatException(where + ": template hash length differs from earlier lines");
        }
        hashHexLength = tok[1].length();
        ImaTemplate t = ImaTemplate.fromName(tok[2]).orElseThrow(() -> new ImaFormatException(where
                + ": unsupported template \"" + printable(tok[2]) + "\""));
        int maxTokens = 5 + t.fieldsAfterName();
        if (tok.length > maxTokens) {
            throw new ImaFormatException(where + ": " + (tok.length - maxTokens) + " unexpected field(s) for " + t);
        }
        byte[] pathBytes = tok[4].getBytes(StandardCharsets.ISO_8859_1);
        if (pathBytes.length > limits.maxPathBytes()) {
            throw new ImaFormatException(where + ": name longer than " + limits.maxPathBytes() + " bytes");
        }
        String path = Utf8.decode(pathBytes, 0, pathBytes.length, where);
        TemplateData.Fields f;
        if (t == ImaTemplate.IMA) {
            byte[] d = Hex.decodeOrNull(tok[3]);
            if (d == null || d.length != 20) {
                throw new ImaFormatException(where + ": ima digest is not 40 hex digits");
            }
            if (pathBytes.length >= TemplateData.LEGACY_NAME_FIELD) {
                throw new ImaFormatException(where + ": legacy ima name longer than 255 bytes");
            }
            f = new TemplateData.Fields(HashAlg.SHA1, d, "sha1", path, null, null, null, null, null, null);
        } else {
            String[] dng = algDigest(tok[3], where, "d-ng");
            HashAlg alg = DigestAlgNames.parse(dng[0]);
            byte[] digest = Hex.decodeOrNull(dng[1]);
            if (digest == null || digest.length != alg.digestSize()) {
                throw new ImaFormatException(where + ": " + alg + " digest is not " + 2 * alg.digestSize()
                        + " hex digits");
            }
            byte[] sig = null;
            byte[] buf = null;
            HashAlg modAlg = null;
            byte[] modDigest = null;
            String modAlgName = null;
            byte[] modsig = null;
            if (t == ImaTemplate.IMA_SIG || t == ImaTemplate.IMA_MODSIG) {
                sig = hexField(tok, 5, where, "sig");
            }
            if (t == ImaTemplate.IMA_BUF) {
                buf = hexField(tok, 5, where, "buf");
                if (buf == null) {
                    buf = new byte[0];
                }
            }
            if (t == ImaTemplate.IMA_MODSIG) {
                if (tok.length > 6 && !tok[6].isEmpty()) {
                    String[] md = algDigest(tok[6], where, "d-modsig");
                    modAlgName = md[0];
                    modAlg = DigestAlgNames.parse(md[0]);
                    modDigest = Hex.decodeOrNull(md[1]);
                    if (modDigest == null || modDigest.length != modAlg.digestSize()) {
                        throw new ImaFormatException(where + ": d-modsig digest is malformed");
                    }
                }
                modsig = hexField(tok, 7, where, "modsig");
            }
            f = new TemplateData.Fields(alg, digest, dng[0], path, sig, buf, modAlg, modDigest, modAlgName, modsig);
        }
        byte[] data = TemplateData.encode(t, f);
        if (data.length > limits.maxTemplateData()) {
            throw new ImaFormatException(where + ": template data exceeds " + limits.maxTemplateData() + " bytes");
        }
        return new ImaEntry(nextIndex, pcr, hash, t, data, f.digestAlg(), f.digest(), path, f.signature(),
                f.buffer(), f.modsigAlg(), f.modsigDigest(), f.modsig());
    }

    private static String[] algDigest(String token, String where, String field) {
        int colon = token.indexOf(':');
        if (colon <= 0) {
            throw new ImaFormatException(where + ": " + field + " is not \"<algo>:<hex>\"");
        }
        String name = token.substring(0, colon);
        if (DigestAlgNames.parse(name) == null) {
            throw new ImaFormatException(where + ": invalid digest algorithm \"" + printable(name) + "\" in "
                    + field);
        }
        return new String[] {name, token.substring(colon + 1)};
    }

    private static byte[] hexField(String[] tok, int i, String where, String field) {
        if (tok.length <= i || tok[i].isEmpty()) {
            return null;
        }
        byte[] b = Hex.decodeOrNull(tok[i]);
        if (b == null) {
            throw new ImaFormatException(where + ": " + field + " is not hex");
        }
        return b;
    }

    private static String printable(String s) {
        String p = s.replaceAll("[^ -~]", "?");
        return p.length() > 32 ? p.substring(0, 32) + "..." : p;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
