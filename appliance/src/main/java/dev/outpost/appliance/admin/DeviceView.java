package dev.outpost.appliance.admin;

import java.time.Instant;
import java.util.List;

import dev.outpost.appliance.store.DeviceRecord;

/** What the admin API shows of a device: its identity and state, not its key material. */
record DeviceView(String deviceId, String state, String spiffeId, String ekTemplate, Instant enrolledAt,
        Instant updatedAt, String svidSerial, Instant svidNotAfter, Instant revokedAt, String revokeReason,
        List<String> selectors) {

    static DeviceView of(DeviceRecord d, List<String> selectors) {
        return new DeviceView(d.deviceId(), d.state().dbValue(), d.spiffeId(), d.ekTemplate(), d.enrolledAt(),
                d.updatedAt(), d.svidSerial(), d.svidNotAfter(), d.revokedAt(), d.revokeReason(), selectors);
    }
}
