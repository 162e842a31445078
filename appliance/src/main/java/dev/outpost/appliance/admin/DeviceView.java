package dev.outpost.appliance.admin;

import java.time.Instant;
import java.util.List;

import dev.outpost.appliance.store.AttestationRecord;
import dev.outpost.appliance.store.DeviceRecord;

/**
 * What the admin API shows of a device: its identity and state, and why it is in that state (the last
 * attestation's verdict and reasons, the revocation's reason), not its key material.
 */
record DeviceView(String deviceId, String state, String spiffeId, String ekTemplate, Instant enrolledAt,
        Instant updatedAt, String svidSerial, Instant svidNotAfter, Instant revokedAt, String revokeReason,
        String lastVerdict, List<String> lastReasons, Instant lastAttestedAt, Instant lastPassedAt,
        List<String> selectors) {

    static DeviceView of(DeviceRecord d, AttestationRecord a, List<String> selectors) {
        List<String> reasons = a == null || a.lastReasons() == null || a.lastReasons().isEmpty() ? List.of()
                : List.of(a.lastReasons().split("\n"));
        return new DeviceView(d.deviceId(), d.state().dbValue(), d.spiffeId(), d.ekTemplate(), d.enrolledAt(),
                d.updatedAt(), d.svidSerial(), d.svidNotAfter(), d.revokedAt(), d.revokeReason(),
                a == null ? null : a.lastVerdict(), reasons, a == null ? null : a.lastAttestedAt(),
                a == null ? null : a.lastPassedAt(), selectors);
    }
}
