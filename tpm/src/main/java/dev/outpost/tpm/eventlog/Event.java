package dev.outpost.tpm.eventlog;

import java.util.List;
import java.util.Optional;

import dev.outpost.tpm.HashAlg;

/**
 * One record of the log.
 *
 * @param index position in the log, the Spec ID header being 0
 * @param pcr PCR index; 0xFFFFFFFF (-1 here) only on the EV_NO_ACTION trailer Windows writes
 * @param rawType the 32-bit event type as logged
 * @param digests digests in log order (one SHA-1 digest for a legacy log)
 * @param data the event data as logged
 * @param decoded best-effort decoding of {@code data}, {@link EventData.Undecodable} when it failed
 * @param offset byte offset of the record in the log
 */
public record Event(int index, int pcr, int rawType, List<EventDigest> digests, byte[] data, EventData decoded,
                    long offset) {
    public Event {
        digests = List.copyOf(digests);
        data = data.clone();
    }

    /** The named type, or UNKNOWN (see {@link #rawType()}). */
    public EventType type() {
        return EventType.of(rawType);
    }

    /** Spec name of the type, or its hex value. */
    public String typeName() {
        return EventType.nameOf(rawType);
    }

    /** The digest for one bank, if the event carries it. */
    public Optional<byte[]> digest(HashAlg alg) {
        for (EventDigest d : digests) {
            if (d.algId() == alg.algId()) {
                return Optional.of(d.value());
            }
        }
        return Optional.empty();
    }

    @Override
    public byte[] data() {
        return data.clone();
    }

    /** PCR index as an unsigned number, so the Windows trailer prints as 4294967295. */
    public String pcrText() {
        return Integer.toUnsignedString(pcr);
    }
}
