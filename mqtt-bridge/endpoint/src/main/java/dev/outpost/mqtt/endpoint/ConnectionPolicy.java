package dev.outpost.mqtt.endpoint;

/**
 * Decides, at CONNECT, whether a device may connect at all (e.g. to keep revoked devices out before they cost
 * anything). Called on the event loop: it must answer from memory and never block.
 */
@FunctionalInterface
public interface ConnectionPolicy {
    ConnectionPolicy ALLOW_ALL = (deviceId, authenticated) -> true;

    /**
     * @param deviceId      the device id the connection will act for (already checked against the SVID, if any)
     * @param authenticated whether the client presented a node SVID
     */
    boolean mayConnect(String deviceId, boolean authenticated);
}
