package dev.outpost.mqtt.protocol;

import java.util.Optional;

/**
 * What a device asks of the appliance; the last level of the request topic. The enrollment kinds (enroll, activate,
 * and resume-challenge, resume for an enrolled device whose SVID expired) are the only ones a device may use without
 * a node SVID: each proves the TPM at the application layer (credential activation, or a quote by the enrolled AK
 * over a fresh nonce). {@code csr} renews an SVID and needs one, as do the workload kinds (entries, workload-svid,
 * workload-jwt: see docs/workload-api.md).
 */
public enum Kind {
    ENROLL("enroll", EnrollRequest.class, true),
    ACTIVATE("activate", ActivateRequest.class, true),
    RESUME_CHALLENGE("resume-challenge", ResumeChallengeRequest.class, true),
    RESUME("resume", ResumeRequest.class, true),
    CSR("csr", CsrRequest.class, false),
    CHALLENGE("challenge", ChallengeRequest.class, false),
    EVIDENCE("evidence", EvidenceRequest.class, false),
    STATUS("status", StatusRequest.class, false),
    ENTRIES("entries", EntriesRequest.class, false),
    WORKLOAD_SVID("workload-svid", WorkloadSvidRequest.class, false),
    WORKLOAD_JWT("workload-jwt", WorkloadJwtRequest.class, false);

    private final String wire;
    private final Class<?> requestType;
    private final boolean enrollment;

    Kind(String wire, Class<?> requestType, boolean enrollment) {
        this.wire = wire;
        this.requestType = requestType;
        this.enrollment = enrollment;
    }

    public String wire() {
        return wire;
    }

    public Class<?> requestType() {
        return requestType;
    }

    /** Allowed without a node SVID (the client proves itself at the application layer instead). */
    public boolean enrollment() {
        return enrollment;
    }

    public static Optional<Kind> fromWire(String s) {
        for (Kind k : values()) {
            if (k.wire.equals(s)) {
                return Optional.of(k);
            }
        }
        return Optional.empty();
    }
}
