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
import dev.outpost.tpm.certify.Certification;
import dev.outpost.tpm.certify.CertifyResult;
import dev.outpost.tpm.certify.CertifyVerifier;
import dev.outpost.tpm.credential.CredentialBlob;
import dev.outpost.tpm.credential.EkParameters;
import dev.outpost.tpm.credential.MakeCredential;
import dev.outpost.tpm.keys.AttestationKey;
import dev.outpost.tpm.keys.DeviceId;
import dev.outpost.tpm.keys.QualifiedName;
import dev.outpost.tpm.quote.QuoteExpectation;
import dev.outpost.tpm.quote.QuoteResult;
import dev.outpost.tpm.quote.QuoteVerifier;
import dev.outpost.tpm.wire.PcrFile;
import dev.outpost.tpm.wire.PcrSelection;
import dev.outpost.tpm.wire.TpmFormatException;
import dev.outpost.tpm.wire.TpmPublic;
import dev.outpost.tpm.trust.EkTrust;
import dev.outpost.spiffe.SpiffeId;
import dev.outpost.spiffe.CsrValidator;
import dev.outpost.spiffe.CsrException;

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
    private final Function<String, Optional<Instant>> freshPass;
    private final KnownDeviceIds known;
    private final ResumeNonces resumeNonces = new ResumeNonces();
    private final QuoteVerifier quoteVerifier = new QuoteVerifier();
    private final CertifyVerifier certifyVerifier = new CertifyVerifier();
    // enrollment.nodeKeys: tpm (true) refuses a CSR whose key the AK has not certified.
    private volatile boolean requireTpmNodeKeys = true;
    // What a resume quote covers does not matter (the AK's signature over the nonce is the proof); one PCR keeps it
    // small and any TPM has it.
    private static final PcrSelection RESUME_PCRS = PcrSelection.parse("sha256:10");
    // Central's fleet-wide bans (directives): an EK banned there is refused here, known device or not.
    private volatile Function<String, Optional<String>> banned = id -> Optional.empty();
    private volatile dev.outpost.appliance.metrics.EnrollmentObserver outcomes = dev.outpost.appliance.metrics.EnrollmentObserver.NONE;

    public EnrollmentService(EkTrust ekTrust, SiteCa ca, DeviceStore devices, ActivationStore activations,
            AuditLog audit, SecureRandom random, Clock clock, Duration activationTtl, Duration svidTtl,
            Duration probation, Function<String, Optional<Instant>> freshPass, KnownDeviceIds known) {
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
        this.freshPass = freshPass;
        this.known = known;
    }

    /** @param banned the reason central banned a device id (= EK hash), empty when it did not; blocking is fine */
    public void refuseBanned(Function<String, Optional<String>> banned) {
        this.banned = banned;
    }

    private void checkBan(String deviceId, String action) throws Refusal {
        Optional<String> why = banned.apply(deviceId);
        if (why.isPresent()) {
            throw deny(deviceId, action, Refusal.Why.REVOKED, "EK banned fleet-wide by central: " + why.get());
        }
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
        checkBan(deviceId, "enroll");
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

    /** enrollment.nodeKeys: true for {@code tpm}, false for {@code software-allowed}. */
    public void requireTpmNodeKeys(boolean required) {
        this.requireTpmNodeKeys = required;
    }

    /**
     * What the appliance knows of a node key: TPM-held (certified by the AK; its Name) or software.
     *
     * @param name the TPM Name of the certified key, null for a software key
     */
    record NodeKeyBinding(String selector, byte[] name) {
        static final NodeKeyBinding SOFTWARE = new NodeKeyBinding(DeviceStore.NODE_KEY_SELECTOR_PREFIX + "software", null);

        static NodeKeyBinding tpm(byte[] name) {
            return new NodeKeyBinding(DeviceStore.NODE_KEY_SELECTOR_PREFIX + "tpm", name);
        }

        String describe() {
            return name == null ? "software node key" : "TPM node key " + hex(name) + " certified by the AK";
        }
    }

    /**
     * The answer to the credential (the secret the TPM recovered) and a CSR for the first node key, with the AK's
     * certification of that key over SHA-256 of the secret (null for a software key).
     */
    public IssuedIdentity activate(String deviceId, byte[] secret, byte[] csr, Certification certification)
            throws Refusal {
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
        // A ban that arrived between enroll and activate.
        checkBan(deviceId, "activate");
        PublicKey nodeKey = csrKey(deviceId, "activate", csr);
        NodeKeyBinding binding = nodeKeyBinding(deviceId, "activate", nodeKey, certification, sha256(secret),
                p.akPublic(), p.ekPublic());
        Instant now = clock.instant();
        java.util.List<String> selectors = new java.util.ArrayList<>(Selectors.of(deviceId, p.ekCertificate()));
        selectors.add(binding.selector());
        // Probationary: a distinct SPIFFE ID, long enough to connect and attest, never longer than the freshness
        // window. The node's identity comes with the first passing attestation. Signed before the write so that
        // the device, its SVID and their audit rows are one transaction; an SVID the write refuses is never sent.
        IssuedSvid svid = ca.issueEnrollingSvid(nodeKey, deviceId, min(svidTtl, probation));
        AuditEvent activated = event(deviceId, "activate", AuditEvent.Decision.ALLOW, "credential activated; AK bound "
                + "to the device; " + binding.describe());
        AuditEvent issued = event(deviceId, "issue", AuditEvent.Decision.ALLOW, "probationary SVID " + svid.spiffeId()
                + " until " + svid.notAfter());
        // The device may have failed or been revoked since it asked to enroll: that verdict stands.
        if (!devices.enroll(DeviceRecord.enrolled(deviceId, p.ekPublic(), p.ekCertificate(), p.ekTemplate(),
                p.akPublic(), spiffeIdOf(deviceId), now, selectors),
                DeviceStore.SvidIssue.of(deviceId, svid, binding.selector(), binding.name()), audit,
                java.util.List.of(activated, issued))) {
            throw deny(deviceId, "activate", Refusal.Why.ATTESTATION_FAILED,
                    "device is failed or revoked; re-enrolling does not reset that: an operator must clear it");
        }
        counted(activated);
        counted(issued);
        LOG.info("device {} enrolled: AK bound, {}, probationary SVID until {}", deviceId, binding.describe(),
                svid.notAfter());
        return new IssuedIdentity(svid, TrustBundle.of(ca).pem());
    }

    /**
     * A node SVID for a new key, on the device's present attestation state. This path has no appliance nonce: the
     * certification's qualifyingData is SHA-256 of the CSR, which binds it to this request (a TPM key cannot be
     * copied, so a replayed certification only ever names a key that is still in that TPM).
     */
    public IssuedIdentity renew(String deviceId, byte[] csr, Certification certification) throws Refusal {
        DeviceRecord d = devices.find(deviceId).orElse(null);
        if (d == null) {
            throw deny(deviceId, "renew", Refusal.Why.NOT_ENROLLED, "device is not enrolled");
        }
        if (d.state() == DeviceState.REVOKED) {
            throw deny(deviceId, "renew", Refusal.Why.REVOKED, "device is revoked: " + d.revokeReason());
        }
        Instant passed = freshPass.apply(deviceId).orElseThrow(() -> deny(deviceId, "renew",
                Refusal.Why.NO_FRESH_ATTESTATION, "no passing attestation within the freshness window: attest first"));
        return issueAfterPass(deviceId, csr, certification, sha256(csr), passed, "renewal");
    }

    /**
     * An SVID for a device on the passing verdict just computed (not on a second look at the store, which a
     * concurrent change could make disagree with it).
     */
    public IssuedIdentity renewOnVerdict(String deviceId, byte[] csr, Certification certification, byte[] nonce,
            Instant passedAt) throws Refusal {
        return issueAfterPass(deviceId, csr, certification, nonce, passedAt, "renewal after attestation");
    }

    // ca.svidTtl is how long an identity may outlive the pass that earned it: the window in which a device that
    // was compromised and cut off still holds a valid SVID. Staleness and failure are announced on the revocation
    // topic well before that (attestation.freshness), for relying parties that listen.
    private IssuedIdentity issueAfterPass(String deviceId, byte[] csr, Certification certification, byte[] nonce,
            Instant passedAt, String why) throws Refusal {
        Duration left = Duration.between(clock.instant(), passedAt.plus(svidTtl));
        if (left.isNegative() || left.isZero()) {
            throw deny(deviceId, "renew", Refusal.Why.NO_FRESH_ATTESTATION, "the passing attestation is older than ca.svidTtl");
        }
        PublicKey key = csrKey(deviceId, "renew", csr);
        DeviceRecord d = devices.find(deviceId).orElseThrow(() -> deny(deviceId, "renew", Refusal.Why.NOT_ENROLLED,
                "device is not enrolled"));
        NodeKeyBinding binding = nodeKeyBinding(deviceId, "renew", key, certification, nonce, d.akPublic(), d.ekPublic());
        return issue(deviceId, key, binding, left, why);
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    /**
     * An enrolled device whose SVID expired asks to prove itself with its enrolled AK instead of enrolling again:
     * a fresh nonce to quote over. Only for a device that is enrolled and neither failed nor revoked.
     */
    public ResumeOffer resumeChallenge(String deviceId) throws Refusal {
        DeviceRecord d = resumable(deviceId);
        byte[] nonce = new byte[SECRET_BYTES];
        random.nextBytes(nonce);
        Instant now = clock.instant();
        Instant expires = now.plus(activationTtl);
        resumeNonces.put(d.deviceId(), nonce, expires, now);
        return new ResumeOffer(nonce, RESUME_PCRS, expires);
    }

    /**
     * The device's answer: a quote by its enrolled AK (under its enrolled EK) over the resume nonce, and a CSR. A
     * quote that does not verify is refused, not judged: the request comes without an SVID, so anyone may send it,
     * and it must not be able to fail a device. The EK is checked against today's trust (allow-list, EK CAs) again.
     * Answered with a probationary SVID, as an activation is: the node SVID comes with the next passing attestation.
     */
    public IssuedIdentity resume(String deviceId, byte[] nonce, byte[] attest, byte[] signature, byte[] pcrs, byte[] csr,
            Certification certification) throws Refusal {
        DeviceRecord d = resumable(deviceId);
        switch (resumeNonces.take(deviceId, nonce, clock.instant())) {
            case UNKNOWN:
                throw deny(deviceId, "resume", Refusal.Why.NOT_YOURS, "the nonce is not the one issued to this device "
                        + "(replayed, or never asked for): ask for a resume challenge");
            case EXPIRED:
                throw deny(deviceId, "resume", Refusal.Why.EXPIRED, "the resume challenge expired");
            default:
                break;
        }
        TpmPublic ek = tpmPublic(d.ekPublic(), "enrolled EK");
        TpmPublic ak = tpmPublic(d.akPublic(), "enrolled AK");
        EkTrust.Decision trust = ekTrust.decide(deviceId, ek, d.ekCertificate());
        if (!trust.trusted()) {
            throw deny(deviceId, "resume", Refusal.Why.NOT_TRUSTED, "the enrolled EK is no longer trusted: " + trust.reason());
        }
        QuoteResult q;
        try {
            q = quoteVerifier.verify(QuoteExpectation.of(ak, QualifiedName.ofAkUnderEk(ek, ak), nonce, RESUME_PCRS),
                    attest, signature, PcrFile.read(pcrs));
        } catch (TpmFormatException e) {
            throw deny(deviceId, "resume", Refusal.Why.MALFORMED, "quote: " + e.getMessage());
        }
        if (!q.isValid()) {
            throw deny(deviceId, "resume", Refusal.Why.NOT_YOURS, "the quote does not verify under the enrolled AK: "
                    + q.describe());
        }
        PublicKey nodeKey = csrKey(deviceId, "resume", csr);
        NodeKeyBinding binding = nodeKeyBinding(deviceId, "resume", nodeKey, certification, nonce, d.akPublic(),
                d.ekPublic());
        IssuedSvid svid = ca.issueEnrollingSvid(nodeKey, deviceId, min(svidTtl, probation));
        AuditEvent resumed = event(deviceId, "resume", AuditEvent.Decision.ALLOW, "TPM proved by a quote of the "
                + "enrolled AK; probationary SVID " + svid.spiffeId() + " until " + svid.notAfter() + " (no re-enrollment)");
        devices.recordSvid(DeviceStore.SvidIssue.of(deviceId, svid, binding.selector(), binding.name()), audit, resumed);
        counted(resumed);
        return new IssuedIdentity(svid, TrustBundle.of(ca).pem());
    }

    private DeviceRecord resumable(String deviceId) throws Refusal {
        DeviceRecord d = devices.find(deviceId).orElse(null);
        if (d == null) {
            throw new Refusal(Refusal.Why.NOT_ENROLLED, "device is not enrolled: enroll");
        }
        if (d.state() == DeviceState.REVOKED) {
            throw deny(deviceId, "resume", Refusal.Why.REVOKED, "device is revoked: " + d.revokeReason());
        }
        if (d.state() == DeviceState.FAILED) {
            throw deny(deviceId, "resume", Refusal.Why.ATTESTATION_FAILED,
                    "device failed attestation; it is refused until an operator clears it");
        }
        return d;
    }

    public DeviceRecord status(String deviceId) throws Refusal {
        return devices.find(deviceId).orElseThrow(() -> new Refusal(Refusal.Why.NOT_ENROLLED, "device is not enrolled"));
    }

    private IssuedIdentity issue(String deviceId, PublicKey key, NodeKeyBinding binding, Duration ttl, String why) {
        IssuedSvid svid = ca.issueNodeSvid(key, deviceId, ttl);
        AuditEvent issued = event(deviceId, "issue", AuditEvent.Decision.ALLOW, why + ": SVID " + svid.serialHex()
                + " until " + svid.notAfter() + " for a " + binding.describe());
        devices.recordSvid(DeviceStore.SvidIssue.of(deviceId, svid, binding.selector(), binding.name()), audit, issued);
        counted(issued);
        return new IssuedIdentity(svid, TrustBundle.of(ca).pem());
    }

    private PublicKey csrKey(String deviceId, String action, byte[] csr) throws Refusal {
        try {
            return CsrValidator.validate(csr, MAX_CSR);
        } catch (CsrException e) {
            throw deny(deviceId, action, Refusal.Why.MALFORMED, "CSR refused: " + e.getMessage());
        }
    }

    /**
     * Whether the CSR's key may be certified: with a certification, it must verify (the device's AK, under its EK,
     * over the nonce this request is bound to; the certified Name is the key presented, the key is TPM-made,
     * TPM-bound, sign-only, and it is the CSR's key), in either mode; without one, only software-allowed accepts it.
     */
    private NodeKeyBinding nodeKeyBinding(String deviceId, String action, PublicKey csrKey, Certification certification,
            byte[] nonce, byte[] akPublic, byte[] ekPublic) throws Refusal {
        if (certification == null) {
            if (requireTpmNodeKeys) {
                throw deny(deviceId, action, Refusal.Why.NOT_TRUSTED, "CSR refused: its key is not certified by the "
                        + "device's AK (enrollment.nodeKeys is tpm; the node key must be made in the TPM and sent with "
                        + "nodeKeyPublic, certifyInfo and certifySignature)");
            }
            return NodeKeyBinding.SOFTWARE;
        }
        TpmPublic ak = tpmPublic(akPublic, "enrolled AK");
        TpmPublic ek = tpmPublic(ekPublic, "enrolled EK");
        CertifyResult r = certifyVerifier.verify(new CertifyVerifier.Expectation(ak, QualifiedName.ofAkUnderEk(ek, ak),
                nonce, csrKey), certification);
        if (!r.isValid()) {
            throw deny(deviceId, action, Refusal.Why.NOT_TRUSTED, "CSR refused: the node key certification is not "
                    + "valid: " + r.describe());
        }
        return NodeKeyBinding.tpm(r.key().name());
    }

    private static byte[] sha256(byte[] b) {
        return dev.outpost.tpm.HashAlg.SHA256.digest(b);
    }

    private String spiffeIdOf(String deviceId) {
        return dev.outpost.spiffe.SpiffeId.nodeId(ca.trustDomain(), deviceId).toString();
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
        audit.record(counted(event(deviceId, action, decision, reason)));
    }

    private AuditEvent event(String deviceId, String action, AuditEvent.Decision decision, String reason) {
        return AuditEvent.of(clock.instant(), deviceId, action, decision, reason, null);
    }

    // An allowed outcome, for the metrics, once its write succeeded.
    private AuditEvent counted(AuditEvent e) {
        outcomes.outcome(e.action(), null);
        return e;
    }

    private static String hex(byte[] b) {
        return java.util.HexFormat.of().formatHex(b);
    }
}
