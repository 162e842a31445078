package dev.outpost.ima.boot;

import java.security.MessageDigest;
import java.util.Optional;
import java.util.Set;

import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.eventlog.Event;

/**
 * The replay proves an event's digests, never its data. A check that reads the data (a variable's value, a command
 * line) must first see that the data hashes to the proven digest, or a device could keep the digests and rewrite
 * the text.
 */
final class EventBinding {
    private EventBinding() {
    }

    /**
     * True when, in every trusted bank the event has (at least one), the digest is the hash of one of the
     * candidate byte strings (the exact bytes the measuring code hashed).
     */
    static boolean bound(Event e, Set<HashAlg> banks, byte[]... candidates) {
        boolean any = false;
        for (HashAlg bank : banks) {
            Optional<byte[]> d = e.digest(bank);
            if (d.isEmpty()) {
                continue;
            }
            boolean ok = false;
            for (byte[] c : candidates) {
                if (c != null && MessageDigest.isEqual(d.get(), bank.digest(c))) {
                    ok = true;
                    break;
                }
            }
            if (!ok) {
                return false;
            }
            any = true;
        }
        return any;
    }
}
