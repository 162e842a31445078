package dev.outpost.mqtt.protocol;

import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Client ids on a site broker (external broker mode). Mosquitto keeps one client id namespace across its
 * listeners and closes the older of two connections with the same id, so an id a client may choose freely
 * must never be able to equal an id that stands for an authenticated identity. The shipped configuration
 * ({@code packaging/mosquitto}) makes the broker enforce it: every client id sent must start with
 * {@link #PREFIX} ({@code clientid_prefixes}), and on the mTLS listener the broker then replaces it with the
 * certificate's CN (a device id, 64 hex, or {@code outpost-appliance}), which never starts with the prefix.
 */
public final class BrokerClientIds {
    /** Not a prefix of any CN the site CA issues: device ids are lowercase hex, and 'o' is not hex. */
    public static final String PREFIX = "outpost-client-";

    private static final SecureRandom RANDOM = new SecureRandom();

    private BrokerClientIds() {
    }

    /**
     * A new id: the prefix and 128 bits from {@code SecureRandom}. On the enrollment listener this id is all
     * that keeps others from the client's replies (the broker's ACL gives each client id its own enrollment
     * topics), so it must be unguessable and never reused; it contains no '/', so it fills one topic level.
     */
    public static String fresh() {
        byte[] b = new byte[16];
        RANDOM.nextBytes(b);
        return PREFIX + HexFormat.of().formatHex(b);
    }
}
