package dev.outpost.tpm.credential;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.MGF1ParameterSpec;
import java.util.Arrays;

import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import javax.crypto.spec.SecretKeySpec;

import org.bouncycastle.crypto.AsymmetricCipherKeyPair;
import org.bouncycastle.crypto.generators.ECKeyPairGenerator;
import org.bouncycastle.crypto.params.ECDomainParameters;
import org.bouncycastle.crypto.params.ECKeyGenerationParameters;
import org.bouncycastle.crypto.params.ECPrivateKeyParameters;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.math.ec.ECPoint;

import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.keys.NistCurves;
import dev.outpost.tpm.wire.TpmWriter;

/**
 * TPM2_MakeCredential done by the verifier in software (TPM 2.0 Part 1, "Credential Protection"): a secret
 * only the TPM holding the EK can recover, and only for a key with the given Name loaded beside that EK.
 */
public final class MakeCredential {
    private static final byte[] IDENTITY = "IDENTITY".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] STORAGE = "STORAGE".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] INTEGRITY = "INTEGRITY".getBytes(StandardCharsets.US_ASCII);

    private final SecureRandom random;

    public MakeCredential(SecureRandom random) {
        this.random = random;
    }

    public MakeCredential() {
        this(new SecureRandom());
    }

    public CredentialBlob make(EkParameters ek, byte[] objectName, byte[] credential) {
        HashAlg h = ek.nameAlg();
        if (credential.length == 0 || credential.length > h.digestSize()) {
            throw new IllegalArgumentException("credential of " + credential.length + " bytes: must be 1.."
                    + h.digestSize() + " for a " + h + " EK");
        }
        try {
            byte[] seed;
            byte[] encryptedSecret;
            if (ek.key() instanceof RSAPublicKey rsa) {
                seed = new byte[h.digestSize()];
                random.nextBytes(seed);
                encryptedSecret = rsaOaep(rsa, h, seed);
            } else if (ek.key() instanceof ECPublicKey ec) {
                byte[][] r = eccSeed(ec, h);
                seed = r[0];
                encryptedSecret = r[1];
            } else {
                throw new IllegalArgumentException("EK is neither RSA nor ECC");
            }
            byte[] symKey = kdfa(h, seed, STORAGE, objectName, new byte[0], ek.symmetricBits());
            Cipher aes = Cipher.getInstance("AES/CFB/NoPadding");
            aes.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(symKey, "AES"), new IvParameterSpec(new byte[16]));
            byte[] encIdentity = aes.doFinal(new TpmWriter().sized(credential).toBytes());
            byte[] hmacKey = kdfa(h, seed, INTEGRITY, new byte[0], new byte[0], h.digestSize() * 8);
            Mac mac = Mac.getInstance(hmacName(h));
            mac.init(new SecretKeySpec(hmacKey, mac.getAlgorithm()));
            mac.update(encIdentity);
            mac.update(objectName);
            byte[] idObject = new TpmWriter().sized(mac.doFinal()).bytes(encIdentity).toBytes();
            return new CredentialBlob(idObject, encryptedSecret);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("MakeCredential: " + e.getMessage(), e);
        }
    }

    private static byte[] rsaOaep(RSAPublicKey ek, HashAlg h, byte[] seed) throws GeneralSecurityException {
        String md = jcaDigest(h);
        Cipher c = Cipher.getInstance("RSA/ECB/OAEPPadding");
        // The label includes its terminating NUL, as the TPM computes it.
        byte[] label = Arrays.copyOf(IDENTITY, IDENTITY.length + 1);
        c.init(Cipher.ENCRYPT_MODE, ek, new OAEPParameterSpec(md, "MGF1", new MGF1ParameterSpec(md),
                new PSource.PSpecified(label)));
        return c.doFinal(seed);
    }

    // One-pass ECDH with an ephemeral key; the encrypted secret is the ephemeral public point.
    // Bouncy Castle's arithmetic on the shared curve parameters (NistCurves): JDK 17's SunEC took ~1.7 ms for the key
    // pair and ECDH; Bouncy Castle through the JCA rebuilt the generator's table at every key pair; an enrollment storm
    // pays this once per device.
    private byte[][] eccSeed(ECPublicKey ek, HashAlg h) {
        ECDomainParameters domain = NistCurves.of(ek.getParams());
        if (domain == null) {
            throw new IllegalArgumentException("ECC EK on a curve other than NIST P-256, P-384 or P-521");
        }
        ECPoint q = domain.getCurve().createPoint(ek.getW().getAffineX(), ek.getW().getAffineY());
        if (!q.isValid()) {
            throw new IllegalArgumentException("ECC EK point is not on its curve");
        }
        ECKeyPairGenerator g = new ECKeyPairGenerator();
        g.init(new ECKeyGenerationParameters(domain, random));
        AsymmetricCipherKeyPair eph = g.generateKeyPair();
        BigInteger d = ((ECPrivateKeyParameters) eph.getPrivate()).getD();
        ECPoint e = ((ECPublicKeyParameters) eph.getPublic()).getQ().normalize();
        ECPoint shared = q.multiply(d).normalize();
        if (shared.isInfinity()) {
            throw new IllegalArgumentException("ECC EK gives no shared point");
        }
        int size = (domain.getCurve().getFieldSize() + 7) / 8;
        byte[] z = fixed(shared.getAffineXCoord().toBigInteger(), size);
        byte[] ex = fixed(e.getAffineXCoord().toBigInteger(), size);
        byte[] ey = fixed(e.getAffineYCoord().toBigInteger(), size);
        byte[] kx = fixed(ek.getW().getAffineX(), size);
        byte[] seed = kdfe(h, z, IDENTITY, ex, kx, h.digestSize() * 8);
        byte[] point = new TpmWriter().sized(ex).sized(ey).toBytes();
        return new byte[][] {seed, point};
    }

    static byte[] fixed(BigInteger v, int size) {
        byte[] b = v.toByteArray();
        if (b.length == size) {
            return b;
        }
        byte[] out = new byte[size];
        if (b.length > size) {
            System.arraycopy(b, b.length - size, out, 0, size);
        } else {
            System.arraycopy(b, 0, out, size - b.length, b.length);
        }
        return out;
    }

    /** KDFa (SP 800-108 counter mode with HMAC), as the TPM specifies it. */
    public static byte[] kdfa(HashAlg h, byte[] key, byte[] label, byte[] contextU, byte[] contextV, int bits)
            throws GeneralSecurityException {
        Mac mac = Mac.getInstance(hmacName(h));
        mac.init(new SecretKeySpec(key, mac.getAlgorithm()));
        int bytes = (bits + 7) / 8;
        byte[] out = new byte[bytes];
        int done = 0;
        for (int i = 1; done < bytes; i++) {
            mac.update(new TpmWriter().u32(i).toBytes());
            mac.update(label);
            mac.update((byte) 0);
            mac.update(contextU);
            mac.update(contextV);
            mac.update(new TpmWriter().u32(bits).toBytes());
            byte[] k = mac.doFinal();
            int n = Math.min(k.length, bytes - done);
            System.arraycopy(k, 0, out, done, n);
            done += n;
        }
        return out;
    }

    /** KDFe (SP 800-56A concatenation KDF), as the TPM specifies it. */
    public static byte[] kdfe(HashAlg h, byte[] z, byte[] label, byte[] partyU, byte[] partyV, int bits) {
        int bytes = (bits + 7) / 8;
        byte[] out = new byte[bytes];
        int done = 0;
        for (int i = 1; done < bytes; i++) {
            byte[] k = h.digest(new TpmWriter().u32(i).toBytes(), z, label, new byte[] {0}, partyU, partyV);
            int n = Math.min(k.length, bytes - done);
            System.arraycopy(k, 0, out, done, n);
            done += n;
        }
        return out;
    }

    private static String hmacName(HashAlg h) {
        return "Hmac" + jcaDigest(h).replace("-", "");
    }

    private static String jcaDigest(HashAlg h) {
        switch (h) {
            case SHA1: return "SHA-1";
            case SHA256: return "SHA-256";
            case SHA384: return "SHA-384";
            case SHA512: return "SHA-512";
            default: throw new IllegalArgumentException("MakeCredential does not support " + h);
        }
    }
}
