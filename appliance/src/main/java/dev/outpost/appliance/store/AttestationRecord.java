package dev.outpost.appliance.store;

import java.time.Instant;

/**
 * What the appliance remembers of a device's attestations: the counters of the last accepted quote, the
 * incremental IMA state, whether the boot log was verified since the last reboot, and the last verdict.
 */
public record AttestationRecord(String deviceId, Long resetCount, Long restartCount, Long tpmClock, byte[] imaState,
        boolean bootVerified, String runtimePolicy, String bootPolicy, String lastVerdict, String lastReasons,
        Instant lastAttestedAt, Instant lastPassedAt) {

    /** A device never attested: everything is asked for from the start. */
    public static AttestationRecord fresh(String deviceId) {
        return new AttestationRecord(deviceId, null, null, null, null, false, null, null, null, null, null, null);
    }
}
