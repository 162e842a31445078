package dev.outpost.tpm.eventlog;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import dev.outpost.tpm.HashAlg;

/** Reads records one by one; the first record decides between the legacy and the crypto-agile layout. */
final class EventLogParser {
    private static final int PCR_ALL_ONES = 0xFFFFFFFF;
    private static final int SHA1_SIZE = 20;

    private final byte[] log;
    private final Limits limits;
    private final ByteReader r;
    private final List<Event> events = new ArrayList<>();

    EventLogParser(byte[] log, Limits limits) {
        this.log = log;
        this.limits = limits;
        this.r = new ByteReader(log);
    }

    EventLog parse() throws EventLogException {
        if (log.length > limits.maxLogBytes()) {
            throw new EventLogException(0, "log is " + log.length + " bytes, over the limit of "
                    + limits.maxLogBytes());
        }
        if (log.length == 0) {
            throw new EventLogException(0, "log is empty");
        }
        Event first = readLegacy();
        if (first.pcr() == 0 && first.rawType() == EventType.EV_NO_ACTION.value()
                && NoActionDecoder.startsWith(first.data(), NoActionDecoder.SPEC_ID_03)) {
            // The header defines how every later record is laid out, so errors in it are fatal.
            ByteReader header = new ByteReader(log, (int) first.offset() + 32, first.data().length);
            SpecId spec = NoActionDecoder.specId(header, limits);
            events.add(new Event(0, 0, first.rawType(), first.digests(), first.data(), spec, first.offset()));
            while (r.hasRemaining()) {
                readAgile(spec);
            }
            return new EventLog(EventLog.Format.CRYPTO_AGILE, Optional.of(spec), events);
        }
        events.add(first);
        while (r.hasRemaining()) {
            events.add(readLegacy());
        }
        return new EventLog(EventLog.Format.LEGACY_SHA1, Optional.empty(), events);
    }

    private Event readLegacy() throws EventLogException {
        int start = startRecord();
        int pcr = pcrIndex();
        int type = (int) r.u32("eventType");
        checkPcr(pcr, type, start);
        byte[] digest = r.bytes(SHA1_SIZE, "SHA-1 digest");
        byte[] data = eventData();
        return event(pcr, type, List.of(new EventDigest(HashAlg.SHA1.algId(), digest)), data, start);
    }

    private void readAgile(SpecId spec) throws EventLogException {
        int start = startRecord();
        int pcr = pcrIndex();
        int type = (int) r.u32("eventType");
        checkPcr(pcr, type, start);
        int at = r.offset();
        long count = r.u32("digest count");
        if (count > spec.algorithms().size()) {
            throw new EventLogException(at, "event carries " + count + " digests but the Spec ID event declares "
                    + spec.algorithms().size() + " algorithms");
        }
        List<EventDigest> digests = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            at = r.offset();
            int algId = r.u16("digest algorithm");
            int size = spec.digestSize(algId);
            if (size < 0) {
                throw new EventLogException(at, String.format("digest algorithm 0x%04x not declared in the Spec ID"
                        + " event", algId));
            }
            for (EventDigest d : digests) {
                if (d.algId() == algId) {
                    throw new EventLogException(at, String.format("digest algorithm 0x%04x repeated", algId));
                }
            }
            digests.add(new EventDigest(algId, r.bytes(size, "digest")));
        }
        events.add(event(pcr, type, digests, eventData(), start));
    }

    private int startRecord() throws EventLogException {
        if (events.size() >= limits.maxEvents()) {
            throw new EventLogException(r.offset(), "more than " + limits.maxEvents() + " events");
        }
        return r.offset();
    }

    private int pcrIndex() throws EventLogException {
        return (int) r.u32("PCR index");
    }

    private void checkPcr(int pcr, int type, int start) throws EventLogException {
        boolean inRange = pcr >= 0 && pcr <= limits.maxPcrIndex();
        boolean trailer = pcr == PCR_ALL_ONES && type == EventType.EV_NO_ACTION.value()
                && limits.allowNoActionPcrAllOnes();
        if (!inRange && !trailer) {
            throw new EventLogException(start, "PCR index " + Integer.toUnsignedString(pcr) + " out of range 0.."
                    + limits.maxPcrIndex());
        }
    }

    private byte[] eventData() throws EventLogException {
        int at = r.offset();
        long size = r.u32("event data size");
        if (size > limits.maxEventDataBytes()) {
            throw new EventLogException(at, "event data size " + size + " over the limit of "
                    + limits.maxEventDataBytes());
        }
        return r.bytes(size, "event data");
    }

    private Event event(int pcr, int type, List<EventDigest> digests, byte[] data, int start) {
        EventData decoded = EventDataDecoder.decode(pcr, type, data);
        return new Event(events.size(), pcr, type, digests, data, decoded, start);
    }
}
