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
import dev.outpost.appliance.refusal.Refusal;
import dev.outpost.appliance.store.ActivationStore;
import dev.outpost.appliance.store.AuditEvent;
import dev.outpost.appliance.store.AuditLog;
import dev.outpost.appliance.store.DeviceRecord;
import dev.outpost.appliance.store.DeviceState;
import dev.outpost.appliance.store.DeviceStore;
import dev.outpost.appliance.store.PendingActivation;
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
    private volatile dev.outpost.appliance.metrics.EnrollmentObserver outcomes = dev.outpost.appliance.metrics.EnrollmentObserver.NONE;

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

    /**
     * @param ekPublic TPM2B_PUBLIC of the EK
     * @param ekCert   the EK certificate (DER), or null
     * @param akPublic TPM2B_PUBLIC of the AK
     */
    public CredentialOffer enroll(String deviceId, byte[] ekPublic, byte[] ekCert, byte[] akPublic) throws Refusal {
        TpmPublic ek = tpmPublic(ekPublic, "ekPublic");
        TpmPublic ak = tpmPublic(akPublic, "akPublic");
        String actualId = DeviceId.of(ek.publicKey());
        if (!actualId.equals(deviceId)) {
            throw deny(deviceId, "enroll", Refusal.Why.NOT_YOURS, "the EK presented is device " + actualId
                    + ", not the device id of the topic");
        }
        Optional<DeviceState> state = devices.find(deviceId).map(DeviceRecord::state);
        if (state.isPresent() && state.get() == DeviceState.REVOKED) {
            throw deny(deviceId, "enroll", Refusal.Why.REVOKED, "device is revoked; a revocation is final");
        }
        if (state.isPresent() && state.get() == DeviceState.FAILED) {
            throw deny(deviceId, "enroll", Refusal.Why.ATTESTATION_FAILED,
                    "device failed attestation; re-enrolling does not reset that: an operator must clear it");
        }
        EkTrust.Decision trust = ekTrust.decide(deviceId, ek, ekCert);
        if (!trust.trusted()) {
            throw deny(deviceId, "enroll", Refusal.Why.NOT_TRUSTED, trust.reason());
        }
        String akProblem = AttestationKey.attributeProblem(ak);
        if (akProblem != null) {
            throw deny(deviceId, "enroll", Refusal.Why.NOT_TRUSTED, akProblem);
        }
        byte[] secret = new byte[SECRET_BYTES];
        random.nextBytes(secret);
        CredentialBlob blob;
        try {
            blob = makeCredential.make(EkParameters.of(ek), ak.name(), secret);
        } catch (IllegalArgumentException e) {
            throw deny(deviceId, "enroll", Refusal.Why.NOT_TRUSTED, "EK unusable for credential activation: " + e.getMessage());
        }
        known.add(deviceId);
        Instant now = clock.instant();
        Instant expires = now.plus(activationTtl);
        activations.put(PendingActivation.of(deviceId, secret, ek.encodedSized(), ekCert, ak.encodedSized(),
                ek.describeKey(), now, expires));
        audit(deviceId, "enroll", AuditEvent.Decision.ALLOW, "EK trusted by " + trust.via() + "; credential issued for AK "
                + hex(ak.name()));
        return new CredentialOffer(blob.idObject(), blob.encryptedSecret(), expires);
    }

    /** The answer to the credential (the secret the TPM recovered) and a CSR for the first node key. */
    public IssuedIdentity activate(String deviceId, byte[] secret, byte[] csr) throws Refusal {
        // Single use: taken out whatever the outcome, so a wrong answer cannot be retried against the same secret.
        Optional<PendingActivation> pending = activations.take(deviceId);
        if (pending.isEmpty()) {
            throw deny(deviceId, "activate", Refusal.Why.ACTIVATION_FAILED, "no pending activation (never enrolled, "
                    + "already used, or answered wrongly before): enroll again");
        }
        PendingActivation p = pending.get();
        if (p.expired(clock.instant())) {
            throw deny(deviceId, "activate", Refusal.Why.EXPIRED, "activation expired at " + p.expiresAt());
        }
        if (!p.matches(secret)) {
            throw deny(deviceId, "activate", Refusal.Why.ACTIVATION_FAILED, "wrong activation secret");
        }
        PublicKey nodeKey = csrKey(deviceId, "activate", csr);
        Instant now = clock.instant();
        // The device may have failed or been revoked since it asked to enroll: that verdict stands.
        if (!devices.upsertEnrolled(DeviceRecord.enrolled(deviceId, p.ekPublic(), p.ekCertificate(), p.ekTemplate(),
                p.akPublic(), spiffeIdOf(deviceId), now, Selectors.of(deviceId, p.ekCertificate())))) {
            throw deny(deviceId, "activate", Refusal.Why.ATTESTATION_FAILED,
                    "device is failed or revoked; re-enrolling does not reset that: an operator must clear it");
        }
        audit(deviceId, "activate", AuditEvent.Decision.ALLOW, "credential activated; AK bound to the device");
        // Probationary: a distinct SPIFFE ID, long enough to connect and attest, never longer than the freshness
        // window. The node's identity comes with the first passing attestation.
        IssuedSvid svid = ca.issueEnrollingSvid(nodeKey, deviceId, min(svidTtl, probation));
        LOG.info("device {} enrolled: AK bound, probationary SVID until {}", deviceId, svid.notAfter());
        devices.recordSvid(deviceId, svid.serialHex(), svid.spiffeId().toString(), svid.notBefore(), svid.notAfter());
        audit(deviceId, "issue", AuditEvent.Decision.ALLOW, "probationary SVID " + svid.spiffeId() + " until "
                + svid.notAfter());
        return new IssuedIdentity(svid, TrustBundle.of(ca).pem());
    }

    /** A node SVID for a new key, on the device's present attestation state. */
    public IssuedIdentity renew(String deviceId, byte[] csr) throws Refusal {
        DeviceRecord d = devices.find(deviceId).orElse(null);
        if (d == null) {
            throw deny(deviceId, "renew", Refusal.Why.NOT_ENROLLED, "device is not enrolled");
        }
        if (d.state() == DeviceState.REVOKED) {
            throw deny(deviceId, "renew", Refusal.Why.REVOKED, "device is revoked: " + d.revokeReason());
        }
        Instant until = trustedUntil.apply(deviceId).orElseThrow(() -> deny(deviceId, "renew",
                Refusal.Why.NO_FRESH_ATTESTATION, "no passing attestation within the freshness window: attest first"));
        return issue(deviceId, csrKey(deviceId, "renew", csr), min(svidTtl, Duration.between(clock.instant(), until)),
                "renewal");
    }

    /**
     * An SVID for a device on the passing verdict just computed (not on a second look at the store, which a
     * concurrent change could make disagree with it): it lasts at most until that verdict's freshness runs out, so
     * an identity never outlives the state that earned it.
     */
    public IssuedIdentity renewOnVerdict(String deviceId, byte[] csr, Instant trustedUntil) throws Refusal {
        Duration left = Duration.between(clock.instant(), trustedUntil);
        if (left.isNegative() || left.isZero()) {
            throw deny(deviceId, "renew", Refusal.Why.NO_FRESH_ATTESTATION, "the passing verdict is no longer fresh");
        }
        return issue(deviceId, csrKey(deviceId, "renew", csr), min(svidTtl, left), "renewal after attestation");
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    public DeviceRecord status(String deviceId) throws Refusal {
        return devices.find(deviceId).orElseThrow(() -> new Refusal(Refusal.Why.NOT_ENROLLED, "device is not enrolled"));
    }

    private IssuedIdentity issue(String deviceId, PublicKey key, Duration ttl, String why) {
        IssuedSvid svid = ca.issueNodeSvid(key, deviceId, ttl);
        devices.recordSvid(deviceId, svid.serialHex(), svid.spiffeId().toString(), svid.notBefore(), svid.notAfter());
        audit(deviceId, "issue", AuditEvent.Decision.ALLOW, why + ": SVID " + svid.serialHex() + " until " + svid.notAfter());
        return new IssuedIdentity(svid, TrustBundle.of(ca).pem());
    }

    private PublicKey csrKey(String deviceId, String action, byte[] csr) throws Refusal {
        try {
            return CsrValidator.validate(csr, MAX_CSR);
        } catch (CsrException e) {
            throw deny(deviceId, action, Refusal.Why.MALFORMED, "CSR refused: " + e.getMessage());
        }
    }

    private String spiffeIdOf(String deviceId) {
        return dev.outpost.appliance.ca.SpiffeId.nodeId(ca.trustDomain(), deviceId).toString();
    }

    private static TpmPublic tpmPublic(byte[] encoded, String field) throws Refusal {
        try {
            return TpmPublic.parseSized(encoded);
        } catch (TpmFormatException e) {
            throw new Refusal(Refusal.Why.MALFORMED, field + ": " + e.getMessage());
        }
    }

    private Refusal deny(String deviceId, String action, Refusal.Why code, String reason) {
        if (audit.recordRefusal(AuditEvent.of(clock.instant(), deviceId, action, AuditEvent.Decision.DENY,
                code + ": " + reason, null))) {
            LOG.warn("{} {} denied: {} {}", action, deviceId, code, reason);
        }
        outcomes.outcome(action, code);
        return new Refusal(code, reason);
    }

    public void observe(dev.outpost.appliance.metrics.EnrollmentObserver o) { outcomes = o; }

    private void audit(String deviceId, String action, AuditEvent.Decision decision, String reason) {
        outcomes.outcome(action, null);
        audit.record(AuditEvent.of(clock.instant(), deviceId, action, decision, reason, null));
    }

    private static String hex(byte[] b) {
        return java.util.HexFormat.of().formatHex(b);
    }
}
