package dev.outpost.ima.verify;

import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.util.Arrays;

import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;

import dev.outpost.tpm.HashAlg;

/**
 * IMA signature v2 key ids: the last 4 bytes of the key's SubjectKeyIdentifier. The kernel takes the SKI from the
 * certificate's extension and otherwise, like RFC 5280 method 1, SHA-1 of the subjectPublicKey bit string (the
 * PKCS#1 RSAPublicKey or the X9.62 EC point), which is also what Keylime computes for bare keys.
 */
public final class KeyIds {
    private KeyIds() {
    }

    public static int keyIdV2(PublicKey key) {
        byte[] bits = SubjectPublicKeyInfo.getInstance(key.getEncoded()).getPublicKeyData().getBytes();
        return last4(HashAlg.SHA1.digest(bits));
    }

    public static int keyIdV2(X509Certificate cert) {
        byte[] ext = cert.getExtensionValue("2.5.29.14");
        if (ext == null) {
            return keyIdV2(cert.getPublicKey());
        }
        byte[] ski = ASN1OctetString.getInstance(ASN1OctetString.getInstance(ext).getOctets()).getOctets();
        return last4(ski);
    }

    private static int last4(byte[] b) {
        byte[] t = Arrays.copyOfRange(b, b.length - 4, b.length);
        return (t[0] & 0xff) << 24 | (t[1] & 0xff) << 16 | (t[2] & 0xff) << 8 | (t[3] & 0xff);
    }
}
