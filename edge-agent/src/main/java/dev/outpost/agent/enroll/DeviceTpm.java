package dev.outpost.agent.enroll;

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
import dev.outpost.tpm.quote.QuoteEvidence;
import dev.outpost.tpm.quote.Quoter;
import dev.outpost.tpm.wire.PcrSelection;
import dev.outpost.tpm.wire.TpmFormatException;

/**
 * What the agent needs of its TPM, each call opening and closing its own connection: the TPM may be shared with
 * other tools, and swtpm serves one client at a time.
 */
public final class DeviceTpm {
    private final String uri;
    private final EkTemplate ekTemplate;
    private final AkTemplate akTemplate;
    private final Path stateDir;

    /** The EK's public area, certificate and device id, read once. */
    public record Endorsed(byte[] ekPublic, byte[] ekCertificate, String deviceId) {
    }

    public DeviceTpm(String uri, EkTemplate ekTemplate, AkTemplate akTemplate, Path stateDir) {
        this.uri = uri;
        this.ekTemplate = ekTemplate;
        this.akTemplate = akTemplate;
        this.stateDir = stateDir;
    }

    public Endorsed endorsement() throws IOException {
        try (Tpm2 tpm = Tpm2.open(uri); TpmKey ek = Endorsement.load(tpm, ekTemplate)) {
            Optional<byte[]> cert = Endorsement.readCertificate(tpm, ekTemplate.certIndex());
            return new Endorsed(ek.pub().encodedSized(), cert.orElse(null), DeviceId.of(ek.pub().publicKey()));
        }
    }

    /** The AK kept in the state directory, created under the EK on first use. */
    public AttestationKey attestationKey() throws IOException {
        try (Tpm2 tpm = Tpm2.open(uri); TpmKey ek = Endorsement.load(tpm, ekTemplate)) {
            return AttestationKey.loadOrCreate(tpm, ek, akTemplate, stateDir);
        }
    }

    /** A quote by the AK over the selection, with the PCR values it covers. */
    public QuoteEvidence quote(byte[] nonce, PcrSelection selection) throws IOException {
        AttestationKey ak = attestationKey();
        try (Tpm2 tpm = Tpm2.open(uri); TpmKey ek = Endorsement.load(tpm, ekTemplate); TpmKey loaded = ak.load(tpm, ek)) {
            return Quoter.quote(tpm, loaded, nonce, selection);
        }
    }

    public byte[] activate(AttestationKey ak, CredentialBlob blob) throws IOException, TpmFormatException {
        try (Tpm2 tpm = Tpm2.open(uri); TpmKey ek = Endorsement.load(tpm, ekTemplate); TpmKey loaded = ak.load(tpm, ek)) {
            return CredentialActivator.activate(tpm, loaded, ek, blob);
        }
    }
}
