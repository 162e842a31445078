package dev.outpost.tpm.keys;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.wire.ObjectAttributes;
import dev.outpost.tpm.wire.TpmFormatException;
import dev.outpost.tpm.wire.TpmPublic;
import dev.outpost.tpm.wire.TpmReader;
import dev.outpost.tpm.wire.TpmWriter;
import tss.tpm.CreateResponse;
import tss.tpm.TPM2B_PRIVATE;
import tss.tpm.TPMS_PCR_SELECTION;
import tss.tpm.TPMS_SENSITIVE_CREATE;
import tss.tpm.TPMT_PUBLIC;
import tss.tpm.TPM_HANDLE;

/**
 * The attestation key: a restricted signing key created under the EK, so quotes name it by a qualified name
 * that binds it to that EK. Its public and (TPM-wrapped) private blobs live in the agent's state directory;
 * the private blob is useless outside this TPM.
 */
public final class AttestationKey {
    static final String PUB_FILE = "ak.pub";
    static final String PRIV_FILE = "ak.priv";

    private final TpmPublic pub;
    private final byte[] priv;

    private AttestationKey(TpmPublic pub, byte[] priv) {
        this.pub = pub;
        this.priv = priv;
    }

    /** Creates a new AK under the EK. */
    public static AttestationKey create(Tpm2 tpm, TpmKey ek, AkTemplate template) {
        CreateResponse r;
        try (EkAuth auth = EkAuth.start(tpm, ek)) {
            r = tpm.tss()._withSession(auth.session()).Create(ek.handle(), new TPMS_SENSITIVE_CREATE(),
                    TPMT_PUBLIC.fromBytes(template.template()), new byte[0], new TPMS_PCR_SELECTION[0]);
        }
        try {
            return new AttestationKey(TpmPublic.parse(r.outPublic.toBytes()), r.outPrivate.buffer);
        } catch (TpmFormatException e) {
            throw new IllegalStateException("TPM returned an AK we cannot parse: " + e.getMessage(), e);
        }
    }

    /** The AK saved in {@code dir}, or a new one created and saved there. */
    public static AttestationKey loadOrCreate(Tpm2 tpm, TpmKey ek, AkTemplate template, Path dir) throws IOException {
        if (Files.exists(dir.resolve(PUB_FILE)) && Files.exists(dir.resolve(PRIV_FILE))) {
            return read(dir);
        }
        AttestationKey ak = create(tpm, ek, template);
        ak.save(dir);
        return ak;
    }

    public static AttestationKey read(Path dir) throws IOException {
        try {
            TpmPublic pub = TpmPublic.parseSized(Files.readAllBytes(dir.resolve(PUB_FILE)));
            TpmReader r = new TpmReader(Files.readAllBytes(dir.resolve(PRIV_FILE)), PRIV_FILE);
            byte[] priv = r.sized("buffer", 4096);
            r.expectEnd();
            return new AttestationKey(pub, priv);
        } catch (TpmFormatException e) {
            throw new IOException("attestation key in " + dir + " is damaged: " + e.getMessage(), e);
        }
    }

    /** Writes ak.pub (TPM2B_PUBLIC) and ak.priv (TPM2B_PRIVATE), the layout tpm2-tools uses, atomically. */
    public void save(Path dir) throws IOException {
        Files.createDirectories(dir);
        write(dir.resolve(PUB_FILE), pub.encodedSized());
        write(dir.resolve(PRIV_FILE), new TpmWriter().sized(priv).toBytes());
    }

    private static void write(Path target, byte[] data) throws IOException {
        Path tmp = Files.createTempFile(target.getParent(), target.getFileName().toString(), ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.write(tmp, data);
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Loads the AK into the TPM under the EK; close the key to flush it. */
    public TpmKey load(Tpm2 tpm, TpmKey ek) {
        TPM_HANDLE h;
        try (EkAuth auth = EkAuth.start(tpm, ek)) {
            h = tpm.tss()._withSession(auth.session()).Load(ek.handle(), new TPM2B_PRIVATE(priv),
                    TPMT_PUBLIC.fromBytes(pub.encoded()));
        }
        return new TpmKey(tpm, h, pub, true);
    }

    public TpmPublic pub() {
        return pub;
    }

    /** Why a key is not acceptable as an AK, or null when it is. */
    public static String attributeProblem(TpmPublic ak) {
        String missing = ObjectAttributes.missing(ak.attributes(), Templates.AK_REQUIRED);
        if (!missing.isEmpty()) {
            return "AK lacks " + missing;
        }
        if ((ak.attributes() & Templates.AK_FORBIDDEN) != 0) {
            return "AK is a decryption key";
        }
        return null;
    }
}
