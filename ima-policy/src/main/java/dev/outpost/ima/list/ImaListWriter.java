package dev.outpost.ima.list;

import java.io.IOException;
import java.io.OutputStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;

import dev.outpost.tpm.HashAlg;

/**
 * Builds entries with correct template data and template hashes, and writes them in the kernel's binary and
 * ASCII formats. Used by tests and by the demo's simulated kernel, so it follows the kernel byte for byte.
 */
public final class ImaListWriter {
    private static final byte[] ZERO20 = new byte[20];

    private ImaListWriter() {
    }

    public static ImaEntry imaNg(long index, HashAlg alg, byte[] digest, String path) {
        return build(index, ImaTemplate.IMA_NG, fields(alg, digest, path, null, null));
    }

    public static ImaEntry imaSig(long index, HashAlg alg, byte[] digest, String path, byte[] signature) {
        return build(index, ImaTemplate.IMA_SIG, fields(alg, digest, path, signature, null));
    }

    public static ImaEntry imaBuf(long index, HashAlg alg, String name, byte[] buffer) {
        return build(index, ImaTemplate.IMA_BUF, fields(alg, alg.digest(buffer), name, null, buffer));
    }

    public static ImaEntry imaModsig(long index, HashAlg alg, byte[] digest, String path, byte[] sig,
            byte[] modsigDigest, byte[] modsig) {
        String n = DigestAlgNames.kernelName(alg);
        return build(index, ImaTemplate.IMA_MODSIG, new TemplateData.Fields(alg, digest, n, path, sig, null,
                modsigDigest == null ? null : alg, modsigDigest, modsigDigest == null ? null : n, modsig));
    }

    public static ImaEntry legacyIma(long index, byte[] sha1Digest, String path) {
        return build(index, ImaTemplate.IMA, fields(HashAlg.SHA1, sha1Digest, path, null, null));
    }

    /** A ToMToU / open-writers violation: zero digest, zero template hash. */
    public static ImaEntry violation(long index, HashAlg alg, String path) {
        return imaNg(index, alg, new byte[alg.digestSize()], path).withTemplateHash(ZERO20.clone());
    }

    private static TemplateData.Fields fields(HashAlg alg, byte[] digest, String path, byte[] sig, byte[] buf) {
        return new TemplateData.Fields(alg, digest, DigestAlgNames.kernelName(alg), path, sig, buf, null, null,
                null, null);
    }

    private static ImaEntry build(long index, ImaTemplate t, TemplateData.Fields f) {
        byte[] data = TemplateData.encode(t, f);
        byte[] hash = HashAlg.SHA1.digest(data);
        return new ImaEntry(index, 10, hash, t, data, f.digestAlg(), f.digest(), f.path(), f.signature(),
                f.buffer(), f.modsigAlg(), f.modsigDigest(), f.modsig());
    }

    /** binary_runtime_measurements layout; the legacy template gets its special unprefixed form. */
    public static void writeBinary(OutputStream out, ImaEntry e) throws IOException {
        u32(out, e.pcr());
        out.write(e.templateHash());
        byte[] name = e.template().templateName().getBytes(StandardCharsets.US_ASCII);
        u32(out, name.length);
        out.write(name);
        if (e.template() == ImaTemplate.IMA) {
            byte[] path = e.path().getBytes(StandardCharsets.UTF_8);
            out.write(e.templateData(), 0, 20);
            u32(out, path.length);
            out.write(path);
        } else {
            u32(out, e.templateData().length);
            out.write(e.templateData());
        }
    }

    /** ascii_runtime_measurements layout: every field preceded by one space, empty fields print nothing. */
    public static void writeAscii(Writer out, ImaEntry e) throws IOException {
        StringBuilder sb = new StringBuilder(160);
        sb.append(e.pcr() < 10 ? " " : "").append(e.pcr()).append(' ').append(Hex.encode(e.templateHash()))
                .append(' ').append(e.template().templateName()).append(' ');
        if (e.template() == ImaTemplate.IMA) {
            sb.append(Hex.encode(e.digest()));
        } else {
            sb.append(algName(e.templateData())).append(':').append(Hex.encode(e.digest()));
        }
        sb.append(' ').append(e.path());
        switch (e.template()) {
            case IMA_SIG -> sb.append(' ').append(hex(e.signature()));
            case IMA_BUF -> sb.append(' ').append(hex(e.buffer()));
            case IMA_MODSIG -> {
                sb.append(' ').append(hex(e.signature())).append(' ');
                if (e.modsigDigest() != null) {
                    sb.append(DigestAlgNames.kernelName(e.modsigAlg())).append(':').append(hex(e.modsigDigest()));
                }
                sb.append(' ').append(hex(e.modsig()));
            }
            default -> {
            }
        }
        sb.append('\n');
        out.write(sb.toString());
    }

    /** The algorithm name exactly as it appears in the d-ng field, so parsed entries round-trip. */
    private static String algName(byte[] data) {
        int i = 4;
        while (data[i] != ':') {
            i++;
        }
        return new String(data, 4, i - 4, StandardCharsets.US_ASCII);
    }

    private static String hex(byte[] b) {
        return b == null ? "" : Hex.encode(b);
    }

    private static void u32(OutputStream out, int v) throws IOException {
        out.write(v);
        out.write(v >>> 8);
        out.write(v >>> 16);
        out.write(v >>> 24);
    }
}
