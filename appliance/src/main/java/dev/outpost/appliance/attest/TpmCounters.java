package dev.outpost.appliance.attest;

import dev.outpost.appliance.store.AttestationRecord;
import dev.outpost.tpm.wire.TpmsAttest;

/**
 * The TPM's clock and counters in a quote against those of the device's last accepted quote. A TPM's resetCount
 * moves on every reboot (TPM2_Startup(CLEAR)), restartCount on every resume from hibernation, and its clock moves
 * forward while powered; none of them goes back on a genuine TPM, so a quote that says otherwise comes from a TPM
 * whose state was rolled back (an old state file, a replayed image) or from something that is not the device's TPM.
 * Quotes are compared only with quotes of the same AK (the AK is in the endorsement hierarchy, so the values are
 * not obfuscated).
 */
final class TpmCounters {
    /**
     * @param rebooted whether the quote is from a new boot (resetCount moved): the appliance starts over
     * @param problem  null when the counters are plausible, else the failure reason
     */
    record Check(boolean rebooted, String problem) {
    }

    private TpmCounters() {
    }

    static Check check(AttestationRecord prev, TpmsAttest.ClockInfo now) {
        long reset = Integer.toUnsignedLong(now.resetCount());
        long restart = Integer.toUnsignedLong(now.restartCount());
        if (prev.resetCount() == null) {
            return new Check(false, null);
        }
        boolean rebooted = reset != prev.resetCount();
        if (reset < prev.resetCount()) {
            return new Check(true, "tpm.counters: resetCount went backwards (" + reset + " < " + prev.resetCount() + ")");
        }
        if (!rebooted && prev.restartCount() != null && restart < prev.restartCount()) {
            return new Check(false, "tpm.counters: restartCount went backwards without a reboot (" + restart + " < "
                    + prev.restartCount() + ")");
        }
        if (!rebooted && prev.restartCount() != null && restart == prev.restartCount() && prev.tpmClock() != null
                && now.clock() < prev.tpmClock()) {
            return new Check(false, "tpm.clock: went backwards without a reboot (" + now.clock() + " < " + prev.tpmClock()
                    + ")");
        }
        return new Check(rebooted, null);
    }
}
