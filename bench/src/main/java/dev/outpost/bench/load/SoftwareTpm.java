package dev.outpost.bench.load;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.MGF1ParameterSpec;
import java.util.Arrays;
import java.util.HexFormat;

import javax.crypto.Cipher;
import javax.crypto.KeyAgreement;
import javax.crypto.Mac;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;
import javax.crypto.spec.SecretKeySpec;

import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.crypto.ec.CustomNamedCurves;
import org.bouncycastle.crypto.params.ECDomainParameters;
import org.bouncycastle.crypto.params.ECPrivateKeyParameters;
import org.bouncycastle.crypto.params.ParametersWithRandom;
import org.bouncycastle.crypto.signers.ECDSASigner;

import dev.outpost.mqtt.protocol.transport.Providers;
import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.certify.Certification;
import dev.outpost.tpm.credential.CredentialBlob;
import dev.outpost.tpm.credential.MakeCredential;
import dev.outpost.tpm.keys.DeviceId;
import dev.outpost.tpm.keys.QualifiedName;
import dev.outpost.tpm.keys.Templates;
import dev.outpost.tpm.quote.QuoteEvidence;
import dev.outpost.tpm.wire.ObjectAttributes;
import dev.outpost.tpm.wire.PcrSelection;
import dev.outpost.tpm.wire.PcrValues;
import dev.outpost.tpm.wire.PublicAreas;
import dev.outpost.tpm.wire.TpmAlg;
import dev.outpost.tpm.wire.TpmFormatException;
import dev.outpost.tpm.wire.TpmPublic;
import dev.outpost.tpm.wire.TpmReader;
import dev.outpost.tpm.wire.TpmWriter;
import dev.outpost.tpm.wire.TpmsAttest;

/**
 * A device's TPM in software, producing the bytes a real TPM would (EK per TCG template L-1 or L-2, an ECC P-256 AK,
 * ActivateCredential, quotes), so the appliance verifies simulated devices exactly as it verifies real ones and
 * a load run measures the real verification path. Only the sha256 bank, PCRs 0-10, is kept: the appliance's
 * default selection.
 */
public final class SoftwareTpm {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final HexFormat HEX = HexFormat.of();
    private static final X9ECParameters P256 = CustomNamedCurves.getByName("secp256r1");
    // PolicySecret(TPM_RH_ENDORSEMENT): template L-1's authPolicy.
    private static final byte[] EK_POLICY =
            HEX.parseHex("837197674484b3f81a90cc8d46a5d724fd52d76e06520b64f2a1da1b331469aa");
    private static final int EK_ATTRIBUTES = 0x000300B2;
    private static final byte[] IDENTITY = "IDENTITY\0".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] IDENTITY_KDFE = "IDENTITY".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] STORAGE = "STORAGE".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] INTEGRITY = "INTEGRITY".getBytes(StandardCharsets.US_ASCII);
    static final int PCRS = 11;
    static final HashAlg BANK = HashAlg.SHA256;

    private final KeyPair ek;
    private final TpmPublic ekPublic;
    private final String deviceId;
    private final KeyPair ak;
    private final TpmPublic akPublic;
    private final byte[] akQualifiedName;
    private final ECDSASigner signer = new ECDSASigner();
    private final byte[][] pcrs = new byte[PCRS][];
    // The TPM's clock runs from manufacture; we start it at a random-looking point and never let it go back.
    private final long clockBase = 1_000_000L + RANDOM.nextInt(1 << 20);
    private final long started = System.nanoTime();
    private int resetCount = 1;
    private final int restartCount = 0;
    private final long firmwareVersion = 0x2019102300163636L;
    private long lastClock;

    /** The EK's kind: RSA 2048 (template L-1) or ECC P-256 (L-2), the two every TPM 2.0 offers. */
    public enum EkKind { RSA, ECC }

    public SoftwareTpm(EkKind kind) throws GeneralSecurityException {
        // Bouncy Castle for P-256: the generator shares the box with the appliance and SunEC is ~6x slower.
        KeyPairGenerator ec = KeyPairGenerator.getInstance("EC", Providers.bouncyCastle());
        ec.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        if (kind == EkKind.RSA) {
            KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
            rsa.initialize(2048, RANDOM);
            ek = rsa.generateKeyPair();
            ekPublic = parse(ekArea((RSAPublicKey) ek.getPublic()));
        } else {
            ek = ec.generateKeyPair();
            ekPublic = parse(ekArea((ECPublicKey) ek.getPublic()));
        }
        deviceId = DeviceId.of(ekPublic.publicKey());
        ak = ec.generateKeyPair();
        akPublic = parse(PublicAreas.signingKey(ak.getPublic(), Templates.AK_REQUIRED | ObjectAttributes.USER_WITH_AUTH));
        akQualifiedName = QualifiedName.ofAkUnderEk(ekPublic, akPublic);
        signer.init(true, new ParametersWithRandom(new ECPrivateKeyParameters(((ECPrivateKey) ak.getPrivate()).getS(),
                new ECDomainParameters(P256)), RANDOM));
        for (int i = 0; i < PCRS; i++) {
            pcrs[i] = new byte[BANK.digestSize()];
        }
    }

    /** TCG EK Credential Profile template L-1 with the key's modulus as unique: what CreatePrimary returns. */
    static byte[] ekArea(RSAPublicKey key) {
        return new TpmWriter().u16(TpmAlg.RSA).u16(HashAlg.SHA256.algId()).u32(EK_ATTRIBUTES).sized(EK_POLICY)
                .u16(TpmAlg.AES).u16(128).u16(TpmAlg.CFB)
                .u16(TpmAlg.NULL)
                .u16(2048).u32(0)
                .sized(PublicAreas.unsigned(key.getModulus(), 256))
                .toBytes();
    }

    /** Template L-2 with the key's point as unique. */
    static byte[] ekArea(ECPublicKey key) {
        return new TpmWriter().u16(TpmAlg.ECC).u16(HashAlg.SHA256.algId()).u32(EK_ATTRIBUTES).sized(EK_POLICY)
                .u16(TpmAlg.AES).u16(128).u16(TpmAlg.CFB)
                .u16(TpmAlg.NULL)
                .u16(TpmAlg.ECC_NIST_P256).u16(TpmAlg.NULL)
                .sized(PublicAreas.unsigned(key.getW().getAffineX(), 32))
                .sized(PublicAreas.unsigned(key.getW().getAffineY(), 32))
                .toBytes();
    }

    private static TpmPublic parse(byte[] area) {
        try {
            return TpmPublic.parse(area);
        } catch (TpmFormatException e) {
            throw new IllegalStateException("our own public area does not parse: " + e.getMessage(), e);
        }
    }

    public String deviceId() {
        return deviceId;
    }

    public TpmPublic ekPublic() {
        return ekPublic;
    }

    public PublicKey ekKey() {
        return ek.getPublic();
    }

    public TpmPublic akPublic() {
        return akPublic;
    }

    public byte[] akQualifiedName() {
        return akQualifiedName.clone();
    }

    /**
     * TPM2_ActivateCredential: recovers the secret only if the blob was made for this EK and this AK's Name. The
     * integrity HMAC is checked (in constant time) before anything is decrypted, as the TPM does.
     */
    public synchronized byte[] activate(CredentialBlob blob) throws GeneralSecurityException {
        HashAlg h = ekPublic.nameAlg();
        byte[] seed = ek.getPrivate() instanceof ECPrivateKey ? eccSeed(blob.encryptedSecret(), h) : rsaSeed(blob);
        if (seed.length != h.digestSize()) {
            throw new GeneralSecurityException("seed of " + seed.length + " bytes");
        }
        byte[] name = akPublic.name();
        byte[] hmacGot;
        byte[] encIdentity;
        try {
            hmacGot = blob.integrityHmac();
            encIdentity = blob.encIdentity();
        } catch (TpmFormatException e) {
            throw new GeneralSecurityException("credential blob: " + e.getMessage(), e);
        }
        byte[] hmacKey = MakeCredential.kdfa(h, seed, INTEGRITY, new byte[0], new byte[0], h.digestSize() * 8);
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(hmacKey, "HmacSHA256"));
        mac.update(encIdentity);
        mac.update(name);
        if (!MessageDigest.isEqual(mac.doFinal(), hmacGot)) {
            throw new GeneralSecurityException("integrity check failed: the credential is not for this EK and AK");
        }
        byte[] symKey = MakeCredential.kdfa(h, seed, STORAGE, name, new byte[0], ekPublic.symmetricBits());
        Cipher aes = Cipher.getInstance("AES/CFB/NoPadding");
        aes.init(Cipher.DECRYPT_MODE, new SecretKeySpec(symKey, "AES"), new IvParameterSpec(new byte[16]));
        byte[] plain = aes.doFinal(encIdentity);
        int size = ((plain[0] & 0xff) << 8) | (plain[1] & 0xff);
        if (size < 1 || size != plain.length - 2) {
            throw new GeneralSecurityException("encIdentity holds a TPM2B of " + size + " in " + plain.length + " bytes");
        }
        return Arrays.copyOfRange(plain, 2, plain.length);
    }

    private byte[] rsaSeed(CredentialBlob blob) throws GeneralSecurityException {
        Cipher rsa = Cipher.getInstance("RSA/ECB/OAEPPadding");
        rsa.init(Cipher.DECRYPT_MODE, ek.getPrivate(), new OAEPParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256,
                new PSource.PSpecified(IDENTITY)));
        return rsa.doFinal(blob.encryptedSecret());
    }

    // The encrypted secret is the caller's ephemeral point (TPMS_ECC_POINT); ECDH with the EK gives Z, and KDFe
    // over Z, the ephemeral x and the EK's x gives the seed.
    private byte[] eccSeed(byte[] point, HashAlg h) throws GeneralSecurityException {
        try {
            TpmReader r = new TpmReader(point, "TPMS_ECC_POINT");
            byte[] x = r.sized("x", 32);
            byte[] y = r.sized("y", 32);
            r.expectEnd();
            ECPublicKey ekPub = (ECPublicKey) ek.getPublic();
            java.security.spec.ECPoint w = new java.security.spec.ECPoint(new BigInteger(1, x), new BigInteger(1, y));
            PublicKey eph = java.security.KeyFactory.getInstance("EC", Providers.bouncyCastle())
                    .generatePublic(new java.security.spec.ECPublicKeySpec(w, ekPub.getParams()));
            KeyAgreement ka = KeyAgreement.getInstance("ECDH", Providers.bouncyCastle());
            ka.init(ek.getPrivate());
            ka.doPhase(eph, true);
            byte[] z = ka.generateSecret();
            return MakeCredential.kdfe(h, z, IDENTITY_KDFE, x, PublicAreas.unsigned(ekPub.getW().getAffineX(), 32),
                    h.digestSize() * 8);
        } catch (TpmFormatException e) {
            throw new GeneralSecurityException("encrypted secret is not an ECC point: " + e.getMessage(), e);
        }
    }

    /** A reboot: TPM2_Startup(CLEAR) resets the PCRs and counts one more reset; the clock runs on. */
    public synchronized void reboot() {
        for (int i = 0; i < PCRS; i++) {
            pcrs[i] = new byte[BANK.digestSize()];
        }
        resetCount++;
    }

    /** TPM2_PCR_Extend on the sha256 bank. */
    public synchronized void extend(int pcr, byte[] digest) {
        pcrs[pcr] = BANK.digest(pcrs[pcr], digest);
    }

    public synchronized byte[] pcr(int pcr) {
        return pcrs[pcr].clone();
    }

    /** TPM2_Quote by the AK: TPMS_ATTEST and an ECDSA TPMT_SIGNATURE, with the PCR values it covers. */
    public synchronized QuoteEvidence quote(byte[] nonce, PcrSelection selection) {
        PcrValues values = new PcrValues();
        for (HashAlg bank : selection.banks()) {
            for (int pcr : selection.pcrs(bank)) {
                if (bank != BANK || pcr >= PCRS) {
                    throw new IllegalArgumentException("this TPM keeps sha256 PCRs 0-" + (PCRS - 1) + " only, asked for "
                            + bank + " PCR " + pcr);
                }
                values.put(bank, pcr, pcrs[pcr].clone());
            }
        }
        TpmWriter w = new TpmWriter().u32(TpmsAttest.TPM_GENERATED_VALUE).u16(TpmsAttest.ST_ATTEST_QUOTE)
                .sized(akQualifiedName).sized(nonce)
                .u64(clock()).u32(resetCount).u32(restartCount).u8(1)
                .u64(firmwareVersion);
        selection.write(w);
        byte[] attest = w.sized(values.digest(selection, HashAlg.SHA256).orElseThrow()).toBytes();
        BigInteger[] rs = signer.generateSignature(HashAlg.SHA256.digest(attest));
        byte[] signature = new TpmWriter().u16(TpmAlg.ECDSA).u16(HashAlg.SHA256.algId())
                .sized(PublicAreas.unsigned(rs[0], 32)).sized(PublicAreas.unsigned(rs[1], 32)).toBytes();
        return new QuoteEvidence(attest, signature, values);
    }

    /**
     * TPM2_Certify of a node key by the AK, as a TPM would marshal it: the key's public area with the attributes of a
     * TPM-made, TPM-bound signing key (this simulated TPM "holds" the software key), so the appliance verifies simulated
     * devices' node keys as it verifies real ones.
     */
    public synchronized Certification certify(PublicKey nodeKey, byte[] nonce) {
        byte[] area = PublicAreas.signingKey(nodeKey, Templates.NODE_KEY_REQUIRED | ObjectAttributes.USER_WITH_AUTH);
        byte[] name = new TpmWriter().u16(HashAlg.SHA256.algId()).bytes(HashAlg.SHA256.digest(area)).toBytes();
        byte[] attest = new TpmWriter().u32(TpmsAttest.TPM_GENERATED_VALUE).u16(TpmsAttest.ST_ATTEST_CERTIFY)
                .sized(akQualifiedName).sized(nonce)
                .u64(clock()).u32(resetCount).u32(restartCount).u8(1)
                .u64(firmwareVersion)
                .sized(name).sized(name)
                .toBytes();
        BigInteger[] rs = signer.generateSignature(HashAlg.SHA256.digest(attest));
        byte[] signature = new TpmWriter().u16(TpmAlg.ECDSA).u16(HashAlg.SHA256.algId())
                .sized(PublicAreas.unsigned(rs[0], 32)).sized(PublicAreas.unsigned(rs[1], 32)).toBytes();
        return new Certification(new TpmWriter().sized(area).toBytes(), attest, signature);
    }

    // Milliseconds, strictly increasing: the appliance fails a clock that goes backwards without a reset.
    private long clock() {
        long now = clockBase + (System.nanoTime() - started) / 1_000_000L;
        lastClock = Math.max(now, lastClock + 1);
        return lastClock;
    }
}
