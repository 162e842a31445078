package dev.outpost.tpm.eventlog;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.outpost.tpm.HashAlg;

/**
 * Builds crypto-agile logs the way firmware writes them, for simulated kernels, tests and demos. Digests are
 * the hash of the data unless given, so a test can extend a real TPM with the same values.
 */
public final class EventLogWriter {
    private final List<HashAlg> banks;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    private EventLogWriter(List<HashAlg> banks) {
        if (banks.isEmpty()) {
            throw new IllegalArgumentException("at least one bank");
        }
        this.banks = List.copyOf(banks);
        writeSpecId();
    }

    /** A log whose Spec ID event declares these banks, in this order. */
    public static EventLogWriter cryptoAgile(HashAlg... banks) {
        return new EventLogWriter(List.of(banks));
    }

    /** The EV_NO_ACTION record that tells a verifier PCR 0 was reset at this locality; add it first. */
    public EventLogWriter startupLocality(int locality) {
        byte[] data = new byte[NoActionDecoder.STARTUP_LOCALITY.length + 1];
        System.arraycopy(NoActionDecoder.STARTUP_LOCALITY, 0, data, 0, NoActionDecoder.STARTUP_LOCALITY.length);
        data[data.length - 1] = (byte) locality;
        return event(0, EventType.EV_NO_ACTION, data);
    }

    /** An event whose digest in every bank is the hash of {@code data} (zeros for EV_NO_ACTION, as the spec says). */
    public EventLogWriter event(int pcr, EventType type, byte[] data) {
        Map<HashAlg, byte[]> digests = new LinkedHashMap<>();
        for (HashAlg alg : banks) {
            digests.put(alg, type == EventType.EV_NO_ACTION ? new byte[alg.digestSize()] : alg.digest(data));
        }
        return event(pcr, type.value(), data, digests);
    }

    /** An event with explicit digests, e.g. of an image whose bytes are not the event data. */
    public EventLogWriter event(int pcr, int rawType, byte[] data, Map<HashAlg, byte[]> digests) {
        u32(pcr);
        u32(rawType);
        u32(digests.size());
        for (Map.Entry<HashAlg, byte[]> d : digests.entrySet()) {
            if (d.getValue().length != d.getKey().digestSize()) {
                throw new IllegalArgumentException(d.getKey() + " digest must be " + d.getKey().digestSize()
                        + " bytes");
            }
            u16(d.getKey().algId());
            out.writeBytes(d.getValue());
        }
        u32(data.length);
        out.writeBytes(data);
        return this;
    }

    /** The log so far. */
    public byte[] toBytes() {
        return out.toByteArray();
    }

    /** The header is a legacy SHA-1 record, so readers that only know the old layout can still skip it. */
    private void writeSpecId() {
        ByteArrayOutputStream spec = new ByteArrayOutputStream();
        spec.writeBytes(NoActionDecoder.SPEC_ID_03);
        writeU32(spec, 0);      // platformClass: client
        spec.write(0);          // specVersionMinor
        spec.write(2);          // specVersionMajor
        spec.write(0);          // specErrata
        spec.write(2);          // uintnSize: UINT64
        writeU32(spec, banks.size());
        for (HashAlg alg : banks) {
            writeU16(spec, alg.algId());
            writeU16(spec, alg.digestSize());
        }
        spec.write(0);          // vendorInfoSize
        byte[] data = spec.toByteArray();
        u32(0);
        u32(EventType.EV_NO_ACTION.value());
        out.writeBytes(new byte[20]);
        u32(data.length);
        out.writeBytes(data);
    }

    private void u32(long v) {
        writeU32(out, v);
    }

    private void u16(int v) {
        writeU16(out, v);
    }

    static void writeU32(ByteArrayOutputStream o, long v) {
        o.write((int) v);
        o.write((int) (v >>> 8));
        o.write((int) (v >>> 16));
        o.write((int) (v >>> 24));
    }

    static void writeU16(ByteArrayOutputStream o, int v) {
        o.write(v);
        o.write(v >>> 8);
    }
}
