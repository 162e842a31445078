package dev.outpost.tpm.keys;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.List;

import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemReader;
import org.bouncycastle.util.io.pem.PemWriter;

import dev.outpost.tpm.wire.TpmFormatException;
import dev.outpost.tpm.wire.TpmPublic;

/**
 * PEM in and out (Bouncy Castle's reader and writer), and the key files a person hands the CLI (PEM key, PEM
 * certificate or TPM2B_PUBLIC). Every read is bounded: by the caller's text, and by how many blocks it takes.
 */
public final class Pem {
    private static final int MAX_FILE = 64 * 1024;

    private Pem() {
    }

    public static String encode(String type, byte[] der) {
        StringWriter out = new StringWriter();
        try (PemWriter w = new PemWriter(out)) {
            w.writeObject(new PemObject(type, der));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString();
    }

    public static String publicKey(PublicKey key) {
        return encode("PUBLIC KEY", key.getEncoded());
    }

    public static String certificate(X509Certificate cert) {
        try {
            return encode("CERTIFICATE", cert.getEncoded());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The first PEM block of the given type, decoded; null when there is none. */
    public static byte[] decode(String text, String type) {
        List<byte[]> found = blocks(text, type, Integer.MAX_VALUE, 1);
        return found.isEmpty() ? null : found.get(0);
    }

    /**
     * Every PEM block of {@code type}, in order; other types are skipped.
     *
     * @throws IllegalArgumentException when there are more than {@code max} of them, or a block is malformed
     */
    public static List<byte[]> blocks(String text, String type, int max) {
        return blocks(text, type, max, Integer.MAX_VALUE);
    }

    private static List<byte[]> blocks(String text, String type, int max, int stopAfter) {
        List<byte[]> out = new ArrayList<>();
        try (PemReader r = new PemReader(new StringReader(text))) {
            for (PemObject o = next(r); o != null && out.size() < stopAfter; o = next(r)) {
                if (o.getType().equals(type)) {
                    if (out.size() == max) {
                        throw new IllegalArgumentException("more than " + max + " " + type + " blocks");
                    }
                    out.add(o.getContent());
                }
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("malformed PEM: " + e.getMessage(), e);
        }
        return out;
    }

    // Bouncy Castle reports bad base64 inside a block as a runtime exception: make it a malformed-PEM one.
    private static PemObject next(PemReader r) throws IOException {
        try {
            return r.readPemObject();
        } catch (RuntimeException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /** Every certificate in the text, in order, at most {@code max}. */
    public static List<X509Certificate> certificates(String text, int max) throws GeneralSecurityException {
        List<X509Certificate> certs = new ArrayList<>();
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        for (byte[] der : blocks(text, "CERTIFICATE", max)) {
            certs.add((X509Certificate) cf.generateCertificate(new ByteArrayInputStream(der)));
        }
        return certs;
    }

    /**
     * A public key from a file a person gave us: PEM public key, PEM certificate, or binary TPM2B_PUBLIC. The
     * TPM form comes back as {@link TpmPublic} so callers can use its name and scheme.
     */
    public static Object readKeyFile(byte[] content, String what) throws IOException {
        if (content.length > MAX_FILE) {
            throw new IOException(what + ": " + content.length + " bytes, over the " + MAX_FILE + " limit for a key file");
        }
        String text = new String(content, StandardCharsets.US_ASCII);
        if (text.contains("-----BEGIN")) {
            try {
                byte[] der = decode(text, "PUBLIC KEY");
                if (der != null) {
                    return publicKey(der);
                }
                der = decode(text, "CERTIFICATE");
                if (der != null) {
                    return ((X509Certificate) CertificateFactory.getInstance("X.509")
                            .generateCertificate(new ByteArrayInputStream(der))).getPublicKey();
                }
            } catch (GeneralSecurityException | IllegalArgumentException e) {
                throw new IOException(what + ": not a usable PEM key or certificate: " + e.getMessage(), e);
            }
            throw new IOException(what + ": PEM file holds neither a PUBLIC KEY nor a CERTIFICATE");
        }
        try {
            return TpmPublic.parseSized(content);
        } catch (TpmFormatException e) {
            throw new IOException(what + ": neither PEM nor a TPM2B_PUBLIC (" + e.getMessage() + ")", e);
        }
    }

    /** A SubjectPublicKeyInfo (DER) as a JCA key, EC or RSA by its algorithm OID. */
    public static PublicKey publicKey(byte[] spki) throws GeneralSecurityException {
        SubjectPublicKeyInfo info;
        try {
            info = SubjectPublicKeyInfo.getInstance(spki);
        } catch (RuntimeException e) {
            throw new GeneralSecurityException("not a SubjectPublicKeyInfo: " + e.getMessage(), e);
        }
        String alg = X9ObjectIdentifiers.id_ecPublicKey.equals(info.getAlgorithm().getAlgorithm()) ? "EC" : "RSA";
        return KeyFactory.getInstance(alg).generatePublic(new X509EncodedKeySpec(spki));
    }

    /** A bare public key from any of the forms {@link #readKeyFile} takes. */
    public static PublicKey toPublicKey(Object key) {
        return key instanceof TpmPublic t ? t.publicKey() : (PublicKey) key;
    }
}
