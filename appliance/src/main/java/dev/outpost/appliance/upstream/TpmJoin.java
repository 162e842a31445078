package dev.outpost.appliance.upstream;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

import dev.outpost.tpm.credential.CredentialActivator;
import dev.outpost.tpm.credential.CredentialBlob;
import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.keys.AkTemplate;
import dev.outpost.tpm.keys.AttestationKey;
import dev.outpost.tpm.keys.DeviceId;
import dev.outpost.tpm.keys.EkTemplate;
import dev.outpost.tpm.keys.Endorsement;
import dev.outpost.tpm.keys.TpmKey;
import dev.outpost.tpm.wire.TpmFormatException;

/**
 * The gateway's own TPM in the join: the same steps a device takes with its site (EK and AK presented, the credential
 * central made for the AK opened by the TPM), with the tpm/ module's classes. RSA 2048 EK (every TPM has one and
 * central's MakeCredential supports it), AK kept in {@code <dataDir>/upstream/}. Each step opens and closes its own
 * TPM connection: the TPM may be shared (the resource manager, or swtpm serving one client at a time).
 */
final class TpmJoin {
    static final EkTemplate EK = EkTemplate.RSA_2048;
    static final AkTemplate AK = AkTemplate.RSA_2048;

    private final String tpmUri;
    private final Path akDir;

    TpmJoin(String tpmUri, Path akDir) {
        this.tpmUri = tpmUri;
        this.akDir = akDir;
    }

    /** What begin sends: the EK's public area and certificate (if the TPM holds one), the AK's public area. */
    record Presented(byte[] ekPublic, byte[] ekCertificate, byte[] akPublic, String ekHash) {
    }

    Presented present() throws IOException {
        try (Tpm2 tpm = Tpm2.open(tpmUri); TpmKey ek = Endorsement.load(tpm, EK)) {
            Optional<byte[]> cert = Endorsement.readCertificate(tpm, EK.certIndex());
            AttestationKey ak = AttestationKey.loadOrCreate(tpm, ek, AK, akDir);
            return new Presented(ek.pub().encodedSized(), cert.orElse(null), ak.pub().encodedSized(),
                    DeviceId.of(ek.pub().publicKey()));
        }
    }

    byte[] activate(byte[] credentialBlob, byte[] encryptedSecret) throws IOException, TpmFormatException {
        AttestationKey ak = AttestationKey.read(akDir);
        try (Tpm2 tpm = Tpm2.open(tpmUri); TpmKey ek = Endorsement.load(tpm, EK); TpmKey loaded = ak.load(tpm, ek)) {
            return CredentialActivator.activate(tpm, loaded, ek, new CredentialBlob(credentialBlob, encryptedSecret));
        }
    }
}
