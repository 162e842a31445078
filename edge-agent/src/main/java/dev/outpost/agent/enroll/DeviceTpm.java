package dev.outpost.agent.enroll;

import java.io.IOException;
import java.nio.file.Path;
import java.security.SignatureException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import dev.outpost.agent.config.AgentConfig;
import dev.outpost.tpm.certify.Certification;
import dev.outpost.tpm.certify.KeyCertifier;
import dev.outpost.tpm.credential.CredentialActivator;
import dev.outpost.tpm.credential.CredentialBlob;
import dev.outpost.tpm.device.Tpm2;
import dev.outpost.tpm.keys.AkTemplate;
import dev.outpost.tpm.keys.AttestationKey;
import dev.outpost.tpm.keys.DeviceId;
import dev.outpost.tpm.keys.EkTemplate;
import dev.outpost.tpm.keys.Endorsement;
import dev.outpost.tpm.keys.NodeKey;
import dev.outpost.tpm.keys.NodeKeyTemplate;
import dev.outpost.tpm.keys.StorageParent;
import dev.outpost.tpm.keys.TpmKey;
import dev.outpost.tpm.quote.QuoteEvidence;
import dev.outpost.tpm.quote.Quoter;
import dev.outpost.tpm.wire.PcrSelection;
import dev.outpost.tpm.wire.TpmFormatException;
import dev.outpost.tpm.wire.TpmtSignature;

/**
 * What the agent needs of its TPM, each call opening and closing its own connection: the TPM may be shared with
 * other tools, and swtpm serves one client at a time. Calls on one TPM are serialized within the JVM (a TLS handshake
 * may want a signature while an attestation quotes), and every transient object is flushed before the call returns.
 */
public final class DeviceTpm {
    private static final Map<String, Object> LOCKS = new ConcurrentHashMap<>();

    private final String uri;
    private final Object lock;
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
        this.lock = LOCKS.computeIfAbsent(uri, u -> new Object());
    }

    /** The TPM of an agent configuration. */
    public static DeviceTpm of(AgentConfig c) {
        return new DeviceTpm(c.tpm(), EkTemplate.parse(c.ek()), AkTemplate.parse(c.ak()), c.stateDir());
    }

    public Endorsed endorsement() throws IOException {
        synchronized (lock) {
            return endorsementLocked();
        }
    }

    private Endorsed endorsementLocked() throws IOException {
        try (Tpm2 tpm = Tpm2.open(uri); TpmKey ek = Endorsement.load(tpm, ekTemplate)) {
            Optional<byte[]> cert = Endorsement.readCertificate(tpm, ekTemplate.certIndex());
            return new Endorsed(ek.pub().encodedSized(), cert.orElse(null), DeviceId.of(ek.pub().publicKey()));
        }
    }

    /** The AK kept in the state directory, created under the EK on first use. */
    public AttestationKey attestationKey() throws IOException {
        synchronized (lock) {
            return attestationKeyLocked();
        }
    }

    private AttestationKey attestationKeyLocked() throws IOException {
        try (Tpm2 tpm = Tpm2.open(uri); TpmKey ek = Endorsement.load(tpm, ekTemplate)) {
            return AttestationKey.loadOrCreate(tpm, ek, akTemplate, stateDir);
        }
    }

    /** A quote by the AK over the selection, with the PCR values it covers. */
    public QuoteEvidence quote(byte[] nonce, PcrSelection selection) throws IOException {
        synchronized (lock) {
            return quoteLocked(nonce, selection);
        }
    }

    private QuoteEvidence quoteLocked(byte[] nonce, PcrSelection selection) throws IOException {
        AttestationKey ak = attestationKeyLocked();
        try (Tpm2 tpm = Tpm2.open(uri); TpmKey ek = Endorsement.load(tpm, ekTemplate); TpmKey loaded = ak.load(tpm, ek)) {
            return Quoter.quote(tpm, loaded, nonce, selection);
        }
    }

    public byte[] activate(AttestationKey ak, CredentialBlob blob) throws IOException, TpmFormatException {
        synchronized (lock) {
            try (Tpm2 tpm = Tpm2.open(uri); TpmKey ek = Endorsement.load(tpm, ekTemplate); TpmKey loaded = ak.load(tpm, ek)) {
                return CredentialActivator.activate(tpm, loaded, ek, blob);
            }
        }
    }

    /** A new node key made in the TPM under the storage parent (sign only, never leaves the TPM). */
    public NodeKey createNodeKey(NodeKeyTemplate template) throws IOException {
        synchronized (lock) {
            try (Tpm2 tpm = Tpm2.open(uri); TpmKey srk = StorageParent.load(tpm)) {
                return NodeKey.create(tpm, srk, template);
            }
        }
    }

    /** TPM2_Certify of the node key by the AK over the appliance's nonce. */
    public Certification certify(NodeKey key, byte[] qualifyingData) throws IOException {
        synchronized (lock) {
            AttestationKey ak = attestationKeyLocked();
            try (Tpm2 tpm = Tpm2.open(uri); TpmKey ek = Endorsement.load(tpm, ekTemplate); TpmKey loadedAk = ak.load(tpm, ek);
                    TpmKey srk = StorageParent.load(tpm); TpmKey loaded = key.load(tpm, srk)) {
                return KeyCertifier.certify(tpm, loaded, loadedAk, qualifyingData);
            }
        }
    }

    /** A TPM2_Sign of a digest by the node key: the private key operation of the agent's TLS and CSRs. */
    public TpmtSignature sign(NodeKey key, byte[] digest, int sigAlg) throws SignatureException {
        synchronized (lock) {
            try (Tpm2 tpm = Tpm2.open(uri); TpmKey srk = StorageParent.load(tpm); TpmKey loaded = key.load(tpm, srk)) {
                return NodeKey.sign(tpm, loaded, digest, sigAlg);
            } catch (IOException | RuntimeException e) {
                throw new SignatureException("TPM signature failed: " + e.getMessage(), e);
            }
        }
    }
}
