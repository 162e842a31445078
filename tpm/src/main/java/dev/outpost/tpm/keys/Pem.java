package dev.outpost.tpm.keys;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.outpost.tpm.wire.TpmFormatException;
import dev.outpost.tpm.wire.TpmPublic;

/** PEM in and out, and the key files a person hands the CLI (PEM key, PEM certificate or TPM2B_PUBLIC). */
public final class Pem {
    private static final int MAX_FILE = 64 * 1024;
    private static final Pattern BLOCK = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----\\s*([A-Za-z0-9+/=\\s]+?)\\s*-----END \\1-----");

    private Pem() {
    }

    public static String encode(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
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
        Matcher m = BLOCK.matcher(text);
        while (m.find()) {
            if (m.group(1).equals(type)) {
                return Base64.getMimeDecoder().decode(m.group(2));
            }
        }
        return null;
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
        try {
            byte[] der = decode(text, "PUBLIC KEY");
            if (der != null) {
                String alg = guessAlgorithm(der);
                return KeyFactory.getInstance(alg).generatePublic(new X509EncodedKeySpec(der));
            }
            der = decode(text, "CERTIFICATE");
            if (der != null) {
                return ((X509Certificate) CertificateFactory.getInstance("X.509")
                        .generateCertificate(new ByteArrayInputStream(der))).getPublicKey();
            }
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IOException(what + ": not a usable PEM key or certificate: " + e.getMessage(), e);
        }
        if (text.contains("-----BEGIN")) {
            throw new IOException(what + ": PEM file holds neither a PUBLIC KEY nor a CERTIFICATE");
        }
        try {
            return TpmPublic.parseSized(content);
        } catch (TpmFormatException e) {
            throw new IOException(what + ": neither PEM nor a TPM2B_PUBLIC (" + e.getMessage() + ")", e);
        }
    }

    /** A bare public key from any of the forms {@link #readKeyFile} takes. */
    public static PublicKey toPublicKey(Object key) {
        return key instanceof TpmPublic t ? t.publicKey() : (PublicKey) key;
    }

    // SubjectPublicKeyInfo names its algorithm by OID; only RSA and EC keys matter here.
    private static String guessAlgorithm(byte[] spki) {
        byte[] ecOid = {0x06, 0x07, 0x2A, (byte) 0x86, 0x48, (byte) 0xCE, 0x3D, 0x02, 0x01};
        for (int i = 0; i + ecOid.length <= Math.min(spki.length, 40); i++) {
            if (java.util.Arrays.equals(spki, i, i + ecOid.length, ecOid, 0, ecOid.length)) {
                return "EC";
            }
        }
        return "RSA";
    }
}
