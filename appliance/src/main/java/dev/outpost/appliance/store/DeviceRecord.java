package dev.outpost.appliance.store;

import java.time.Instant;
import java.util.List;

/**
 * One row of {@code devices}. Byte arrays are TPM2B_PUBLIC / DER as received; nullable fields are null when
 * not (yet) known.
 */
public record DeviceRecord(
        String deviceId,
        DeviceState state,
        byte[] ekPublic,
        byte[] ekCertificate,
        String ekTemplate,
        byte[] akPublic,
        String spiffeId,
        Instant enrolledAt,
        Instant updatedAt,
        Instant revokedAt,
        String revokeReason,
        String svidSerial,
        Instant svidNotAfter,
        List<String> selectors) {

    public DeviceRecord {
        Sql.requireHex64(deviceId, "device id");
        selectors = selectors == null ? List.of() : List.copyOf(selectors);
        for (String s : selectors) {
            // stored one per line
            if (s.isEmpty() || s.indexOf('\n') >= 0 || s.indexOf('\r') >= 0) {
                throw new IllegalArgumentException("selector must be non-empty and on one line");
            }
        }
    }

    /** A freshly enrolled device. */
    public static DeviceRecord enrolled(String deviceId, byte[] ekPublic, byte[] ekCertificate, String ekTemplate,
                                        byte[] akPublic, String spiffeId, Instant at, List<String> selectors) {
        return new DeviceRecord(deviceId, DeviceState.ENROLLED, ekPublic, ekCertificate, ekTemplate, akPublic, spiffeId,
                at, at, null, null, null, null, selectors);
    }
}
