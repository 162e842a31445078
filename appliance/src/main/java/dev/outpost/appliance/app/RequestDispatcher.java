package dev.outpost.appliance.app;

import dev.outpost.appliance.attest.AttestationService;
import dev.outpost.appliance.enroll.EnrollmentService;
import dev.outpost.mqtt.endpoint.DeviceRequest;
import dev.outpost.mqtt.endpoint.RequestHandler;
import dev.outpost.mqtt.protocol.ActivateRequest;
import dev.outpost.mqtt.protocol.CsrRequest;
import dev.outpost.mqtt.protocol.EnrollRequest;
import dev.outpost.mqtt.protocol.ErrorCode;
import dev.outpost.mqtt.protocol.EvidenceRequest;
import dev.outpost.mqtt.protocol.Verdict;
import dev.outpost.mqtt.protocol.ProtocolException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

/**
 * Routes decoded device requests to the services, on worker threads: the services do JDBC and RSA, which must
 * never run on the endpoint's event loop.
 */
final class RequestDispatcher implements RequestHandler {
    private final Vertx vertx;
    private final EnrollmentService enrollment;
    private final AttestationService attestation;

    RequestDispatcher(Vertx vertx, EnrollmentService enrollment, AttestationService attestation) {
        this.vertx = vertx;
        this.enrollment = enrollment;
        this.attestation = attestation;
    }

    @Override
    public Future<Object> handle(DeviceRequest r) {
        return vertx.executeBlocking(() -> dispatch(r), false);
    }

    // A passing verdict renews the SVID when the device sent a CSR with its evidence.
    private Object evidence(String deviceId, EvidenceRequest req) throws ProtocolException {
        Object out = attestation.evidence(deviceId, req);
        if (out instanceof Verdict v && "trusted".equals(v.state()) && req.csr() != null) {
            return new Verdict(v.v(), v.state(), v.reasons(), v.nextDueAt(),
                    enrollment.renewAfterAttestation(deviceId, req.csr()));
        }
        return out;
    }

    private Object dispatch(DeviceRequest r) throws ProtocolException {
        switch (r.kind()) {
            case ENROLL:
                return enrollment.enroll(r.deviceId(), (EnrollRequest) r.message());
            case ACTIVATE:
                return enrollment.activate(r.deviceId(), (ActivateRequest) r.message());
            case CSR:
                return enrollment.renew(r.deviceId(), (CsrRequest) r.message());
            case STATUS:
                return enrollment.status(r.deviceId());
            case CHALLENGE:
                return attestation.challenge(r.deviceId());
            case EVIDENCE:
                return evidence(r.deviceId(), (EvidenceRequest) r.message());
            default:
                throw new ProtocolException(ErrorCode.BAD_REQUEST, r.kind().wire() + " is not served by this appliance yet");
        }
    }
}
