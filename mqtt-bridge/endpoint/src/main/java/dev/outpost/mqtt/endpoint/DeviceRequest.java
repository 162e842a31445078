package dev.outpost.mqtt.endpoint;

import java.security.cert.X509Certificate;
import java.util.Arrays;

import dev.outpost.mqtt.protocol.Kind;

/**
 * A request that passed the endpoint's checks: the topic is the connection's own, the kind is allowed for it, the
 * payload decoded strictly.
 *
 * @param deviceId          the connection's device id (equal to the SVID's when authenticated)
 * @param message           the decoded request, of type {@code kind.requestType()}
 * @param authenticated     the connection presented a node SVID
 * @param clientCertificate the SVID leaf, or null when unauthenticated
 * @param correlationData   as the device sent it (at most 64 bytes); a copy
 */
public record DeviceRequest(String deviceId, Kind kind, Object message, boolean authenticated,
        X509Certificate clientCertificate, byte[] correlationData) {

    public DeviceRequest {
        correlationData = correlationData.clone();
    }

    @Override
    public byte[] correlationData() {
        return correlationData.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DeviceRequest r && r.deviceId.equals(deviceId) && r.kind == kind
                && r.message.equals(message) && r.authenticated == authenticated
                && Arrays.equals(r.correlationData, correlationData);
    }

    @Override
    public int hashCode() {
        return deviceId.hashCode() * 31 + Arrays.hashCode(correlationData);
    }

    @Override
    public String toString() {
        return "DeviceRequest[" + deviceId + " " + kind.wire() + (authenticated ? " svid" : " unauthenticated") + "]";
    }
}
