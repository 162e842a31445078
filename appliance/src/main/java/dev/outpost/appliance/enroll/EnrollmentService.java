package dev.outpost.appliance.enroll;

import java.security.PublicKey;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.function.Function;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.outpost.appliance.ca.CsrException;
import dev.outpost.appliance.ca.CsrValidator;
import dev.outpost.appliance.ca.IssuedSvid;
import dev.outpost.appliance.ca.SiteCa;
import dev.outpost.appliance.ca.TrustBundle;
import dev.outpost.appliance.store.ActivationStore;
import dev.outpost.appliance.store.AuditEvent;
import dev.outpost.appliance.store.AuditLog;
import dev.outpost.appliance.store.DeviceRecord;
import dev.outpost.appliance.store.DeviceState;
import dev.outpost.appliance.store.DeviceStore;
import dev.outpost.appliance.store.PendingActivation;
import dev.outpost.mqtt.protocol.ActivateRequest;
import dev.outpost.mqtt.protocol.Codec;
import dev.outpost.mqtt.protocol.CsrRequest;
import dev.outpost.mqtt.protocol.DeviceStatus;
import dev.outpost.mqtt.protocol.EnrollChallenge;
import dev.outpost.mqtt.protocol.EnrollRequest;
import dev.outpost.mqtt.protocol.ErrorCode;
import dev.outpost.mqtt.protocol.Messages;
import dev.outpost.mqtt.protocol.ProtocolException;
import dev.outpost.mqtt.protocol.SvidIssued;
import dev.outpost.tpm.credential.CredentialBlob;
import dev.outpost.tpm.credential.EkParameters;
import dev.outpost.tpm.credential.MakeCredential;
import dev.outpost.tpm.keys.AttestationKey;
import dev.outpost.tpm.keys.DeviceId;
import dev.outpost.tpm.wire.TpmFormatException;
import dev.outpost.tpm.wire.TpmPublic;

/**
 * Enrollment: EK trust, AK fitness, credential activation, the first SVID; then renewals. Every decision is
 * audited with its reason. Blocking (JDBC, RSA): callers run it on a worker, never an event loop.
 */
public final class EnrollmentService {
    private static final Logger LOG = LoggerFactory.getLogger(EnrollmentService.class);
    private static final int MAX_TPM2B = 2048;
    private static final int MAX_CERT = 8192;
    private static final int MAX_CSR = 8192;
    private static final int SECRET_BYTES = 32;

    private final EkTrust ekTrust;
    private final SiteCa ca;
    private final DeviceStore devices;
    private final ActivationStore activations;
    private final AuditLog audit;
    private final MakeCredential makeCredential;
    private final SecureRandom random;
    private final Clock clock;
    private final Duration activationTtl;
    private final Duration svidTtl;
    private final Duration probation;
    private final Function<String, Optional<Instant>> trustedUntil;
    private final KnownDeviceIds known;

    public EnrollmentService(EkTrust ekTrust, SiteCa ca, DeviceStore devices, ActivationStore activations,
            AuditLog audit, SecureRandom random, Clock clock, Duration activationTtl, Duration svidTtl,
            Duration probation, Function<String, Optional<Instant>> trustedUntil, KnownDeviceIds known) {
        this.ekTrust = ekTrust;
        this.ca = ca;
        this.devices = devices;
        this.activations = activations;
        this.audit = audit;
        this.random = random;
        this.makeCredential = new MakeCredential(random);
        this.clock = clock;
        this.activationTtl = activationTtl;
        this.svidTtl = svidTtl;
        this.probation = probation;
        this.trustedUntil = trustedUntil;
        this.known = known;
    }

    public EnrollChallenge enroll(String deviceId, EnrollRequest req) throws ProtocolException {
        TpmPublic ek = tpmPublic(req.ekPublic(), "ekPublic");
        TpmPublic ak = tpmPublic(req.akPublic(), "akPublic");
        byte[] ekCert = req.ekCertificate() == null ? null : Codec.base64(req.ekCertificate(), "ekCertificate", MAX_CERT);
        String actualId = DeviceId.of(ek.publicKey());
        if (!actualId.equals(deviceId)) {
            throw deny(deviceId, "enroll", ErrorCode.FORBIDDEN, "the EK presented is device " + actualId
                    + ", not the device id of the topic");
        }
        Optional<DeviceState> state = devices.find(deviceId).map(DeviceRecord::state);
        if (state.isPresent() && state.get() == DeviceState.REVOKED) {
            throw deny(deviceId, "enroll", ErrorCode.REVOKED, "device is revoked; a revocation is final");
        }
        if (state.isPresent() && state.get() == DeviceState.FAILED) {
            throw deny(deviceId, "enroll", ErrorCode.ATTESTATION_FAILED,
                    "device failed attestation; re-enrolling does not reset that: an operator must clear it");
        }
        EkTrust.Decision trust = ekTrust.decide(deviceId, ek, ekCert);
        if (!trust.trusted()) {
            throw deny(deviceId, "enroll", ErrorCode.NOT_TRUSTED, trust.reason());
        }
        String akProblem = AttestationKey.attributeProblem(ak);
        if (akProblem != null) {
            throw deny(deviceId, "enroll", ErrorCode.NOT_TRUSTED, akProblem);
        }
        byte[] secret = new byte[SECRET_BYTES];
        random.nextBytes(secret);
        CredentialBlob blob;
        try {
            blob = makeCredential.make(EkParameters.of(ek), ak.name(), secret);
        } catch (IllegalArgumentException e) {
            throw deny(deviceId, "enroll", ErrorCode.NOT_TRUSTED, "EK unusable for credential activation: " + e.getMessage());
        }
        known.add(deviceId);
        Instant now = clock.instant();
        Instant expires = now.plus(activationTtl);
        activations.put(PendingActivation.of(deviceId, secret, ek.encodedSized(), ekCert, ak.encodedSized(),
                ek.describeKey(), now, expires));
        audit(deviceId, "enroll", AuditEvent.Decision.ALLOW, "EK trusted by " + trust.via() + "; credential issued for AK "
                + hex(ak.name()));
        return new EnrollChallenge(Messages.VERSION, Codec.base64(blob.idObject()), Codec.base64(blob.encryptedSecret()),
                expires.toEpochMilli());
    }

    public SvidIssued activate(String deviceId, ActivateRequest req) throws ProtocolException {
        byte[] secret = Codec.base64(req.secret(), "secret", 64);
        byte[] csr = Codec.base64(req.csr(), "csr", MAX_CSR);
        // Single use: taken out whatever the outcome, so a wrong answer cannot be retried against the same secret.
        Optional<PendingActivation> pending = activations.take(deviceId);
        if (pending.isEmpty()) {
            throw deny(deviceId, "activate", ErrorCode.ACTIVATION_FAILED, "no pending activation (never enrolled, "
                    + "already used, or answered wrongly before): enroll again");
        }
        PendingActivation p = pending.get();
        if (p.expired(clock.instant())) {
            throw deny(deviceId, "activate", ErrorCode.EXPIRED, "activation expired at " + p.expiresAt());
        }
        if (!p.matches(secret)) {
            throw deny(deviceId, "activate", ErrorCode.ACTIVATION_FAILED, "wrong activation secret");
        }
        PublicKey nodeKey = csrKey(deviceId, "activate", csr);
        Instant now = clock.instant();
        // The device may have failed or been revoked since it asked to enroll: that verdict stands.
        if (!devices.upsertEnrolled(DeviceRecord.enrolled(deviceId, p.ekPublic(), p.ekCertificate(), p.ekTemplate(),
                p.akPublic(), spiffeIdOf(deviceId), now, Selectors.of(deviceId, p.ekCertificate())))) {
            throw deny(deviceId, "activate", ErrorCode.ATTESTATION_FAILED,
                    "device is failed or revoked; re-enrolling does not reset that: an operator must clear it");
        }
        audit(deviceId, "activate", AuditEvent.Decision.ALLOW, "credential activated; AK bound to the device");
        // Probationary: a distinct SPIFFE ID, long enough to connect and attest, never longer than the freshness
        // window. The node's identity comes with the first passing attestation.
        IssuedSvid svid = ca.issueEnrollingSvid(nodeKey, deviceId, min(svidTtl, probation));
        devices.recordSvid(deviceId, svid.serialHex(), svid.spiffeId().toString(), svid.notBefore(), svid.notAfter());
        audit(deviceId, "issue", AuditEvent.Decision.ALLOW, "probationary SVID " + svid.spiffeId() + " until "
                + svid.notAfter());
        return new SvidIssued(Messages.VERSION, svid.spiffeId().toString(), svid.chainPem(), TrustBundle.of(ca).pem(),
                svid.notAfter().toEpochMilli());
    }

    public SvidIssued renew(String deviceId, CsrRequest req) throws ProtocolException {
        byte[] csr = Codec.base64(req.csr(), "csr", MAX_CSR);
        DeviceRecord d = devices.find(deviceId).orElse(null);
        if (d == null) {
            throw deny(deviceId, "renew", ErrorCode.NOT_ENROLLED, "device is not enrolled");
        }
        if (d.state() == DeviceState.REVOKED) {
            throw deny(deviceId, "renew", ErrorCode.REVOKED, "device is revoked: " + d.revokeReason());
        }
        Instant until = trustedUntil.apply(deviceId).orElseThrow(() -> deny(deviceId, "renew", ErrorCode.NOT_TRUSTED,
                "no passing attestation within the freshness window: attest first"));
        return issue(deviceId, csrKey(deviceId, "renew", csr), min(svidTtl, Duration.between(clock.instant(), until)),
                "renewal");
    }

    /**
     * An SVID for a device that just passed attestation: it lasts at most until its freshness runs out, so an
     * identity never outlives the state that earned it.
     */
    public SvidIssued renewAfterAttestation(String deviceId, String csrB64) throws ProtocolException {
        byte[] csr = Codec.base64(csrB64, "csr", MAX_CSR);
        Instant until = trustedUntil.apply(deviceId).orElseThrow(() -> deny(deviceId, "renew", ErrorCode.NOT_TRUSTED,
                "no passing attestation within the freshness window"));
        return issue(deviceId, csrKey(deviceId, "renew", csr), min(svidTtl, Duration.between(clock.instant(), until)),
                "renewal after attestation");
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    public DeviceStatus status(String deviceId) throws ProtocolException {
        DeviceRecord d = devices.find(deviceId).orElseThrow(
                () -> new ProtocolException(ErrorCode.NOT_ENROLLED, "device is not enrolled"));
        return new DeviceStatus(Messages.VERSION, deviceId, d.state().dbValue(), d.spiffeId(),
                d.svidNotAfter() == null ? 0 : d.svidNotAfter().toEpochMilli());
    }

    private SvidIssued issue(String deviceId, PublicKey key, Duration ttl, String why) {
        IssuedSvid svid = ca.issueNodeSvid(key, deviceId, ttl);
        devices.recordSvid(deviceId, svid.serialHex(), svid.spiffeId().toString(), svid.notBefore(), svid.notAfter());
        audit(deviceId, "issue", AuditEvent.Decision.ALLOW, why + ": SVID " + svid.serialHex() + " until " + svid.notAfter());
        return new SvidIssued(Messages.VERSION, svid.spiffeId().toString(), svid.chainPem(), TrustBundle.of(ca).pem(),
                svid.notAfter().toEpochMilli());
    }

    private PublicKey csrKey(String deviceId, String action, byte[] csr) throws ProtocolException {
        try {
            return CsrValidator.validate(csr, MAX_CSR);
        } catch (CsrException e) {
            throw deny(deviceId, action, ErrorCode.BAD_REQUEST, "CSR refused: " + e.getMessage());
        }
    }

    private String spiffeIdOf(String deviceId) {
        return dev.outpost.appliance.ca.SpiffeId.nodeId(ca.trustDomain(), deviceId).toString();
    }

    private static TpmPublic tpmPublic(String b64, String field) throws ProtocolException {
        try {
            return TpmPublic.parseSized(Codec.base64(b64, field, MAX_TPM2B));
        } catch (TpmFormatException e) {
            throw new ProtocolException(ErrorCode.BAD_REQUEST, field + ": " + e.getMessage());
        }
    }

    private ProtocolException deny(String deviceId, String action, ErrorCode code, String reason) {
        if (audit.recordRefusal(AuditEvent.of(clock.instant(), deviceId, action, AuditEvent.Decision.DENY,
                code + ": " + reason, null))) {
            LOG.warn("{} {} denied: {} {}", action, deviceId, code, reason);
        }
        return new ProtocolException(code, reason);
    }

    private void audit(String deviceId, String action, AuditEvent.Decision decision, String reason) {
        audit.record(AuditEvent.of(clock.instant(), deviceId, action, decision, reason, null));
    }

    private static String hex(byte[] b) {
        return java.util.HexFormat.of().formatHex(b);
    }
}
