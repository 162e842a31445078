package dev.outpost.agent.workload;

import dev.outpost.mqtt.protocol.Entries;
import dev.outpost.mqtt.protocol.ErrorCode;
import dev.outpost.mqtt.protocol.WorkloadJwtIssued;
import dev.outpost.mqtt.protocol.WorkloadJwtRequest;
import dev.outpost.mqtt.protocol.WorkloadSvidIssued;
import dev.outpost.mqtt.protocol.WorkloadSvidRequest;

/**
 * What the Workload API asks of the appliance: the node's registration entries, and X509/JWT SVIDs under one of them.
 * The agent's is {@link ApplianceIssuer} (the device protocol over the agent's MQTT session); the point of the
 * interface is that the server does not care how the answer travels.
 */
public interface WorkloadIssuer {
    Entries entries(long revision) throws IssuerException;

    WorkloadSvidIssued svid(WorkloadSvidRequest request) throws IssuerException;

    WorkloadJwtIssued jwt(WorkloadJwtRequest request) throws IssuerException;

    /**
     * No answer: {@code code} is the appliance's refusal, or null when it could not be asked (not connected, no reply).
     */
    final class IssuerException extends Exception {
        private static final long serialVersionUID = 1L;
        private final transient ErrorCode code;

        public IssuerException(ErrorCode code, String message) {
            super(message);
            this.code = code;
        }

        /** The appliance's refusal code, or null when the appliance was not reached. */
        public ErrorCode code() {
            return code;
        }
    }
}
