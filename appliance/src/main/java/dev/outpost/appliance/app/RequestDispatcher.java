package dev.outpost.appliance.app;

import java.util.Optional;

import dev.outpost.appliance.attest.AttestationService;
import dev.outpost.appliance.attest.EvidenceOutcome;
import dev.outpost.appliance.attest.EvidencePart;
import dev.outpost.appliance.attest.IssuedChallenge;
import dev.outpost.appliance.enroll.CredentialOffer;
import dev.outpost.appliance.enroll.EnrollmentService;
import dev.outpost.appliance.enroll.IssuedIdentity;
import dev.outpost.appliance.enroll.ResumeOffer;
import dev.outpost.appliance.refusal.Refusal;
import dev.outpost.appliance.store.DeviceRecord;
import dev.outpost.appliance.workload.WorkloadReplies;
import dev.outpost.appliance.workload.WorkloadService;
import dev.outpost.mqtt.endpoint.DeviceRequest;
import dev.outpost.mqtt.endpoint.RequestHandler;
import dev.outpost.mqtt.endpoint.RetryHints;
import dev.outpost.mqtt.protocol.ActivateRequest;
import dev.outpost.mqtt.protocol.Challenge;
import dev.outpost.mqtt.protocol.Codec;
import dev.outpost.mqtt.protocol.CsrRequest;
import dev.outpost.mqtt.protocol.DeviceStatus;
import dev.outpost.mqtt.protocol.EnrollChallenge;
import dev.outpost.mqtt.protocol.EnrollRequest;
import dev.outpost.mqtt.protocol.ErrorCode;
import dev.outpost.mqtt.protocol.EvidenceAccepted;
import dev.outpost.mqtt.protocol.EvidenceRequest;
import dev.outpost.mqtt.protocol.Messages;
import dev.outpost.mqtt.protocol.Kind;
import dev.outpost.mqtt.protocol.ProtocolException;
import dev.outpost.mqtt.protocol.ResumeChallenge;
import dev.outpost.mqtt.protocol.ResumeRequest;
import dev.outpost.mqtt.protocol.SvidIssued;
import dev.outpost.mqtt.protocol.Verdict;
import dev.outpost.tpm.certify.Certification;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

/**
 * The device protocol's side of the appliance: decodes the fields of a request (base64, with a limit each), calls
 * the service on a worker thread (they do JDBC and RSA, which must never run on the endpoint's event loop), and maps
 * what the service returns or refuses to protocol messages and error codes. The services know nothing of the wire.
 */
final class RequestDispatcher implements RequestHandler {
    private static final int MAX_TPM2B = 2048;
    private static final int MAX_CERT = 8192;
    private static final int MAX_CSR = 8192;
    private static final int MAX_SECRET = 64;
    private static final int MAX_NONCE = 64;
    private static final int MAX_ATTEST = 4096;
    private static final int MAX_SIGNATURE = 1024;
    private static final int MAX_PCR_FILE = 8192;

    private final Vertx vertx;
    private final EnrollmentService enrollment;
    private final AttestationService attestation;
    private final int maxChunkBytes;

    private final WorkloadService workloads;

    RequestDispatcher(Vertx vertx, EnrollmentService enrollment, AttestationService attestation, int maxChunkBytes) {
        this(vertx, enrollment, attestation, null, maxChunkBytes);
    }

    /** @param workloads null: the workload kinds are answered as not served */
    RequestDispatcher(Vertx vertx, EnrollmentService enrollment, AttestationService attestation,
            WorkloadService workloads, int maxChunkBytes) {
        this.vertx = vertx;
        this.enrollment = enrollment;
        this.attestation = attestation;
        this.workloads = workloads;
        this.maxChunkBytes = maxChunkBytes;
    }

    @Override
    public Future<Object> handle(DeviceRequest r) {
        if (r.kind() == Kind.CHALLENGE) {
            // Most challenges need nothing the database does not already have in memory: answered here on the event
            // loop, a challenge saves the two thread hand-offs (to a worker and back) that were a tenth of its cost.
            Optional<IssuedChallenge> c = attestation.challengeFromMemory(r.deviceId());
            if (c.isPresent()) {
                return Future.succeededFuture(challenge(c.get()));
            }
        }
        return vertx.executeBlocking(() -> {
            try {
                return dispatch(r);
            } catch (Refusal e) {
                throw new ProtocolException(code(e.why()), e.getMessage(),
                        e.why() == Refusal.Why.BUSY ? RetryHints.busy() : 0);
            } catch (dev.outpost.appliance.ca.CaException e) {
                // The site CA cannot sign (expired): the device's state is untouched and the request may be repeated
                // once an operator installed a new CA; say so instead of a bare internal error.
                throw new ProtocolException(ErrorCode.INTERNAL, e.getMessage(), RetryHints.busy());
            }
        }, false);
    }

    private Object dispatch(DeviceRequest r) throws Refusal, ProtocolException {
        String id = r.deviceId();
        switch (r.kind()) {
            case ENROLL: {
                EnrollRequest q = (EnrollRequest) r.message();
                CredentialOffer o = enrollment.enroll(id, Codec.base64(q.ekPublic(), "ekPublic", MAX_TPM2B),
                        q.ekCertificate() == null ? null : Codec.base64(q.ekCertificate(), "ekCertificate", MAX_CERT),
                        Codec.base64(q.akPublic(), "akPublic", MAX_TPM2B));
                return new EnrollChallenge(Messages.VERSION, Codec.base64(o.idObject()), Codec.base64(o.encryptedSecret()),
                        o.expiresAt().toEpochMilli());
            }
            case ACTIVATE: {
                ActivateRequest q = (ActivateRequest) r.message();
                return svid(enrollment.activate(id, Codec.base64(q.secret(), "secret", MAX_SECRET),
                        Codec.base64(q.csr(), "csr", MAX_CSR),
                        certification(q.nodeKeyPublic(), q.certifyInfo(), q.certifySignature())));
            }
            case RESUME_CHALLENGE: {
                ResumeOffer o = enrollment.resumeChallenge(id);
                return new ResumeChallenge(Messages.VERSION, Codec.base64(o.nonce()), o.pcrs().toString(),
                        o.expiresAt().toEpochMilli());
            }
            case RESUME: {
                ResumeRequest q = (ResumeRequest) r.message();
                return svid(enrollment.resume(id, Codec.base64(q.nonce(), "nonce", MAX_NONCE),
                        Codec.base64(q.attest(), "attest", MAX_ATTEST), Codec.base64(q.signature(), "signature", MAX_SIGNATURE),
                        Codec.base64(q.pcrs(), "pcrs", MAX_PCR_FILE), Codec.base64(q.csr(), "csr", MAX_CSR),
                        certification(q.nodeKeyPublic(), q.certifyInfo(), q.certifySignature())));
            }
            case CSR: {
                CsrRequest q = (CsrRequest) r.message();
                return svid(enrollment.renew(id, Codec.base64(q.csr(), "csr", MAX_CSR),
                        certification(q.nodeKeyPublic(), q.certifyInfo(), q.certifySignature())));
            }
            case STATUS: {
                DeviceRecord d = enrollment.status(id);
                return new DeviceStatus(Messages.VERSION, id, d.state().dbValue(), d.spiffeId(),
                        d.svidNotAfter() == null ? 0 : d.svidNotAfter().toEpochMilli());
            }
            case CHALLENGE:
                return challenge(attestation.challenge(id));
            case EVIDENCE:
                return evidence(id, (EvidenceRequest) r.message());
            case ENTRIES:
            case WORKLOAD_SVID:
            case WORKLOAD_JWT:
                if (workloads == null) {
                    throw new ProtocolException(ErrorCode.BAD_REQUEST, r.kind().wire() + " is not served by this appliance");
                }
                return WorkloadReplies.handle(workloads, id, r.kind(), r.message());
            default:
                throw new ProtocolException(ErrorCode.BAD_REQUEST, r.kind().wire() + " is not served by this appliance yet");
        }
    }

    private static Challenge challenge(IssuedChallenge c) {
        return new Challenge(Messages.VERSION, Codec.base64(c.nonce()), c.pcrs().toString(), c.imaOffset(),
                c.wantBootLog(), c.maxChunkBytes(), c.expiresAt().toEpochMilli());
    }

    // A passing verdict renews the SVID when the device sent a CSR with its evidence: on that verdict, not on a
    // second reading of the store.
    private Object evidence(String id, EvidenceRequest q) throws Refusal, ProtocolException {
        byte[] csr = q.more() || q.csr() == null ? null : Codec.base64(q.csr(), "csr", MAX_CSR);
        Certification certification = csr == null ? null
                : certification(q.nodeKeyPublic(), q.certifyInfo(), q.certifySignature());
        EvidencePart part = new EvidencePart(Codec.base64(q.nonce(), "nonce", MAX_NONCE), q.part(), q.more(),
                optional(q.imaEntries(), "imaEntries", maxChunkBytes), optional(q.bootLog(), "bootLog", maxChunkBytes),
                q.more() ? null : Codec.base64(q.attest(), "attest", MAX_ATTEST),
                q.more() ? null : Codec.base64(q.signature(), "signature", MAX_SIGNATURE),
                q.more() ? null : Codec.base64(q.pcrs(), "pcrs", MAX_PCR_FILE));
        EvidenceOutcome out = attestation.evidence(id, part);
        if (out instanceof EvidenceOutcome.PartAccepted a) {
            return new EvidenceAccepted(Messages.VERSION, a.part());
        }
        EvidenceOutcome.Verdict v = (EvidenceOutcome.Verdict) out;
        SvidIssued renewed = null;
        Optional<java.time.Instant> passed = v.passedAt();
        if (csr != null && passed.isPresent()) {
            // The challenge nonce the verdict was given for is the certification's qualifyingData.
            renewed = svid(enrollment.renewOnVerdict(id, csr, certification, part.nonce(), passed.get()));
        }
        // Every verdict carries the entry revision, so agents learn of entry changes within one attestation interval.
        return new Verdict(Messages.VERSION, v.state().dbValue(), v.reasons(), v.nextDueAt().toEpochMilli(), renewed,
                workloads == null ? null : workloads.revision());
    }

    // The node key's TPM2_Certify: all three fields or none (a software key); some of them is a malformed proof, which
    // the verifier refuses by name.
    private static Certification certification(String pub, String info, String sig) throws ProtocolException {
        if (pub == null && info == null && sig == null) {
            return null;
        }
        return new Certification(pub == null ? null : Codec.base64(pub, "nodeKeyPublic", MAX_TPM2B),
                info == null ? null : Codec.base64(info, "certifyInfo", MAX_ATTEST),
                sig == null ? null : Codec.base64(sig, "certifySignature", MAX_SIGNATURE));
    }

    private static byte[] optional(String b64, String field, int max) throws ProtocolException {
        return b64 == null ? new byte[0] : Codec.base64(b64, field, max);
    }

    private static SvidIssued svid(IssuedIdentity i) {
        return new SvidIssued(Messages.VERSION, i.svid().spiffeId().toString(), i.svid().chainPem(), i.bundlePem(),
                i.svid().notAfter().toEpochMilli());
    }

    static ErrorCode code(Refusal.Why why) {
        return switch (why) {
            case MALFORMED -> ErrorCode.BAD_REQUEST;
            case TOO_LARGE -> ErrorCode.TOO_LARGE;
            case NOT_YOURS -> ErrorCode.FORBIDDEN;
            case NOT_TRUSTED, NO_FRESH_ATTESTATION -> ErrorCode.NOT_TRUSTED;
            case ACTIVATION_FAILED -> ErrorCode.ACTIVATION_FAILED;
            case EXPIRED -> ErrorCode.EXPIRED;
            case BUSY -> ErrorCode.RATE_LIMITED;
            case NOT_ENROLLED -> ErrorCode.NOT_ENROLLED;
            case ATTESTATION_FAILED -> ErrorCode.ATTESTATION_FAILED;
            case REVOKED -> ErrorCode.REVOKED;
        };
    }
}
