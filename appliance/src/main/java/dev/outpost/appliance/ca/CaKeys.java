package dev.outpost.appliance.ca;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Arrays;
import java.util.List;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.appliance.config.ApplianceConfig;
import dev.outpost.spiffe.KeyFiles;
import dev.outpost.spiffe.PemIo;
import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.keys.Pem;
import dev.outpost.tpm.seal.SealedBlob;
import dev.outpost.tpm.seal.Sealer;
import dev.outpost.tpm.seal.UnsealException;
import dev.outpost.tpm.wire.PcrSelection;
import dev.outpost.tpm.wire.TpmFormatException;
import dev.outpost.tpm.wire.TpmReader;
import dev.outpost.tpm.wire.TpmWriter;

/**
 * How the CA's private keys ({@code ca.key}, {@code next.key}) are kept at rest: {@code file} (a PKCS#8 PEM file, 0600,
 * as always) or {@code tpm}: a {@code <name>.sealed} file holding the PKCS#8 key encrypted with AES-256-GCM under a
 * random 32-byte data key, and that data key sealed to the gateway's TPM ({@link Sealer}, optionally bound to PCRs).
 * The plain key exists only in memory: it is encrypted before anything is written, so no temp file, backup or crash
 * leaves it on disk.
 *
 * <p>Sealed file: magic {@code OPSK}, version (u8, 1), sized sealed blob, 12-byte nonce, sized ciphertext (with the
 * GCM tag); the AAD is everything before the nonce, so the sealed blob cannot be swapped for another.
 */
public final class CaKeys {
    private static final Logger LOG = LoggerFactory.getLogger(CaKeys.class);
    public static final String SEALED_SUFFIX = ".sealed";
    private static final byte[] MAGIC = "OPSK".getBytes(StandardCharsets.US_ASCII);
    private static final int VERSION = 1;
    private static final int MAX_FILE_BYTES = 64 * 1024;
    private static final int DATA_KEY_BYTES = 32;
    private static final int NONCE_BYTES = 12;
    private static final int MAX_CIPHERTEXT = 4096;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final CaKeys FILE = new CaKeys(null, null);

    private final String tpmUri;
    private final PcrSelection pcrs;

    private CaKeys(String tpmUri, PcrSelection pcrs) {
        this.tpmUri = tpmUri;
        this.pcrs = pcrs;
    }

    /** Plain PKCS#8 files: today's behaviour, for a gateway without a TPM. */
    public static CaKeys file() {
        return FILE;
    }

    /** Keys sealed to the TPM at {@code tpmUri}, bound to {@code pcrs} too when not null or empty. */
    public static CaKeys tpm(String tpmUri, PcrSelection pcrs) {
        if (tpmUri == null) {
            throw new IllegalArgumentException("keyProtection tpm needs the gateway's TPM (upstream.tpm)");
        }
        return new CaKeys(tpmUri, pcrs == null || pcrs.isEmpty() ? null : pcrs);
    }

    /** What the configuration says: {@code ca.keyProtection}, {@code ca.sealPcrs} and the TPM at {@code upstream.tpm}. */
    public static CaKeys of(ApplianceConfig c) {
        if (c.ca().keyProtection() != ApplianceConfig.KeyProtection.TPM) {
            return FILE;
        }
        String p = c.ca().sealPcrs() == null ? "" : c.ca().sealPcrs().trim();
        return tpm(c.upstream() == null ? null : c.upstream().tpm(), p.isEmpty() ? null : PcrSelection.parse(p));
    }

    public boolean sealed() {
        return tpmUri != null;
    }

    /** For {@code ca show} and the start-up log: {@code tpm (sealed to URI, PCRs sha256:0,7)} or {@code file (no TPM)}. */
    public String describe() {
        if (!sealed()) {
            return "file (no TPM)";
        }
        return "tpm (sealed to " + tpmUri + ", " + (pcrs == null ? "no PCR policy" : "PCRs " + pcrs) + ")";
    }

    public String tpmUri() {
        return tpmUri;
    }

    /** The PCRs new keys are sealed to, or null. */
    public PcrSelection pcrs() {
        return pcrs;
    }

    /** The file name a key called {@code base} ({@code ca.key}, {@code next.key}) has under this protection. */
    public String fileName(String base) {
        return sealed() ? base + SEALED_SUFFIX : base;
    }

    /** Whether {@code dir} holds key {@code base} in either form (so a key is never made over one kept differently). */
    public static boolean exists(Path dir, String base) {
        return Files.exists(dir.resolve(base)) || Files.exists(dir.resolve(base + SEALED_SUFFIX));
    }

    /** Deletes key {@code base} in both forms. */
    public static void delete(Path dir, String base) throws IOException {
        Files.deleteIfExists(dir.resolve(base));
        Files.deleteIfExists(dir.resolve(base + SEALED_SUFFIX));
    }

    /** Writes {@code key} as {@code dir/base} (file) or {@code dir/base.sealed} (tpm), whole, 0600. */
    public void write(Path dir, String base, PrivateKey key) throws IOException, GeneralSecurityException {
        byte[] pkcs8 = key.getEncoded();
        try {
            if (!sealed()) {
                KeyFiles.writePrivate(dir.resolve(base), PemIo.ascii(Pem.encode("PRIVATE KEY", pkcs8)));
                return;
            }
            KeyFiles.writePrivate(dir.resolve(base + SEALED_SUFFIX), seal(pkcs8));
        } finally {
            Arrays.fill(pkcs8, (byte) 0);
        }
    }

    /**
     * Reads key {@code base} from {@code dir}. A key kept the other way is refused with what to change: a plain key
     * under {@code tpm} is for {@link #migrate}, a sealed key under {@code file} cannot be read without the TPM.
     */
    public PrivateKey read(Path dir, String base) throws IOException, GeneralSecurityException {
        Path plain = dir.resolve(base);
        Path sealedFile = dir.resolve(base + SEALED_SUFFIX);
        if (!sealed()) {
            if (!Files.exists(plain) && Files.exists(sealedFile)) {
                throw new CaException(sealedFile + " is sealed to a TPM but ca.keyProtection is file: set "
                        + "ca.keyProtection: tpm (and upstream.tpm to the gateway's TPM) to use it");
            }
            return parsePkcs8(plain, pem(plain));
        }
        if (!Files.exists(sealedFile) && Files.exists(plain)) {
            throw new CaException(plain + " is a plain key but ca.keyProtection is tpm: the appliance seals it at "
                    + "start (outpost-appliance run), or set ca.keyProtection: file");
        }
        byte[] pkcs8 = unseal(sealedFile, KeyFiles.readPrivate(sealedFile, MAX_FILE_BYTES));
        try {
            return parsePkcs8(sealedFile, pkcs8);
        } finally {
            Arrays.fill(pkcs8, (byte) 0);
        }
    }

    /**
     * Switching {@code file} → {@code tpm}: seals each plain key in {@code dir} ({@code ca.key}, {@code next.key}, the
     * JWT authority's {@code jwt.key} and {@code next-jwt.key})
     * and deletes the plain file, sealed file first (written whole and fsynced) so a crash in between leaves both,
     * never neither; the next start finishes the job. Returns the names sealed. A no-op under {@code file}.
     */
    public List<String> migrate(Path dir) throws IOException, GeneralSecurityException {
        if (!sealed()) {
            return List.of();
        }
        List<String> done = new java.util.ArrayList<>();
        for (String base : List.of(SiteCa.KEY_FILE, CaFiles.NEXT_KEY, JwtAuthority.KEY_FILE, JwtAuthority.NEXT_KEY_FILE)) {
            Path plain = dir.resolve(base);
            if (!Files.exists(plain)) {
                continue;
            }
            byte[] pkcs8 = pem(plain);
            try {
                PrivateKey key = parsePkcs8(plain, pkcs8);
                Path sealedFile = dir.resolve(base + SEALED_SUFFIX);
                boolean sealedSame = false;
                if (Files.exists(sealedFile)) {
                    // A crash after sealing and before the delete: keep the sealed file if it holds this key.
                    sealedSame = Arrays.equals(unseal(sealedFile, KeyFiles.readPrivate(sealedFile, MAX_FILE_BYTES)), pkcs8);
                }
                if (!sealedSame) {
                    write(dir, base, key);
                }
                Files.delete(plain);
                fsyncDir(dir);
                LOG.warn("sealed {} to the TPM at {} and deleted the plain file (ca.keyProtection: tpm); the deleted "
                        + "blocks may still be readable on the disk: see docs/operations.md", plain, tpmUri);
                done.add(base);
            } finally {
                Arrays.fill(pkcs8, (byte) 0);
            }
        }
        return done;
    }

    private byte[] seal(byte[] pkcs8) throws GeneralSecurityException, IOException {
        byte[] dataKey = new byte[DATA_KEY_BYTES];
        RANDOM.nextBytes(dataKey);
        try {
            SealedBlob blob;
            try (Tpm2 tpm = Tpm2.open(tpmUri)) {
                blob = Sealer.seal(tpm, dataKey, pcrs);
            } catch (RuntimeException e) {
                throw new CaException("cannot seal the CA key to the TPM at " + tpmUri + ": " + e.getMessage(), e);
            }
            byte[] head = new TpmWriter().bytes(MAGIC).u8(VERSION).sized(blob.encoded()).toBytes();
            byte[] nonce = new byte[NONCE_BYTES];
            RANDOM.nextBytes(nonce);
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(dataKey, "AES"), new GCMParameterSpec(128, nonce));
            c.updateAAD(head);
            byte[] ct = c.doFinal(pkcs8);
            return new TpmWriter().bytes(head).bytes(nonce).sized(ct).toBytes();
        } finally {
            Arrays.fill(dataKey, (byte) 0);
        }
    }

    private byte[] unseal(Path file, byte[] content) throws GeneralSecurityException, IOException {
        byte[] head;
        SealedBlob blob;
        byte[] nonce;
        byte[] ct;
        try {
            TpmReader r = new TpmReader(content, file.toString());
            if (!Arrays.equals(r.bytes(MAGIC.length, "magic"), MAGIC)) {
                throw r.error("not a sealed Outpost key (no OPSK magic)");
            }
            int v = r.u8("version");
            if (v != VERSION) {
                throw r.error("version " + v + ", this build reads " + VERSION);
            }
            blob = SealedBlob.decode(r.sized("sealed blob", MAX_FILE_BYTES));
            head = Arrays.copyOf(content, r.position());
            nonce = r.bytes(NONCE_BYTES, "nonce");
            ct = r.sized("ciphertext", MAX_CIPHERTEXT);
            r.expectEnd();
        } catch (TpmFormatException e) {
            throw new CaException(file + " is damaged: " + e.getMessage(), e);
        }
        byte[] dataKey;
        try (Tpm2 tpm = Tpm2.open(tpmUri)) {
            dataKey = Sealer.unseal(tpm, blob);
        } catch (UnsealException e) {
            throw new Unsealable(file, tpmUri, e);
        }
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, new SecretKeySpec(dataKey, "AES"), new GCMParameterSpec(128, nonce));
            c.updateAAD(head);
            return c.doFinal(ct);
        } catch (javax.crypto.AEADBadTagException e) {
            throw new CaException(file + " is damaged: the key does not decrypt under its sealed data key", e);
        } finally {
            Arrays.fill(dataKey, (byte) 0);
        }
    }

    /** The sealed key did not unseal on this gateway's TPM: start-up refuses with the reason and the way out. */
    public static final class Unsealable extends CaException {
        private static final long serialVersionUID = 1L;
        private final transient UnsealException.Reason reason;

        Unsealable(Path file, String tpmUri, UnsealException e) {
            super("refusing to start: the site CA key " + file + " does not unseal on the TPM at " + tpmUri + ": "
                    + e.getMessage() + ". " + why(e.reason()) + " The key cannot be recovered here; make a new site CA "
                    + "(nested: outpost-appliance ca csr / ca install, or from central once online; standalone: "
                    + "outpost-appliance reset, then devices enroll again) or restore this data directory on the "
                    + "gateway whose TPM sealed it (docs/operations.md \"CA key in the TPM\")", e);
            this.reason = e.reason();
        }

        public UnsealException.Reason reason() {
            return reason;
        }

        private static String why(UnsealException.Reason r) {
            switch (r) {
                case OTHER_TPM:
                    return "This data directory was copied from another gateway (or this TPM was cleared).";
                case PCRS_CHANGED:
                    return "The gateway booted something other than what it booted when the key was sealed "
                            + "(ca.sealPcrs); booting that again unseals it.";
                default:
                    return "";
            }
        }
    }

    private static byte[] pem(Path file) throws IOException {
        String text = new String(KeyFiles.readPrivate(file, MAX_FILE_BYTES), StandardCharsets.US_ASCII);
        List<byte[]> keys = PemIo.blocks(text, "PRIVATE KEY", 1);
        if (keys.isEmpty()) {
            throw new CaException(file + " holds no PKCS#8 PEM block (-----BEGIN PRIVATE KEY-----)");
        }
        return keys.get(0);
    }

    private static PrivateKey parsePkcs8(Path file, byte[] pkcs8) throws GeneralSecurityException {
        PrivateKey k = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
        if (!(k instanceof ECPrivateKey)) {
            throw new CaException(file + " is not an EC key");
        }
        return k;
    }

    private static void fsyncDir(Path dir) {
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(dir,
                java.nio.file.StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            LOG.debug("cannot fsync {}: {}", dir, e.getMessage());
        }
    }
}
