package dev.outpost.tpm.eventlog;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** EV_NO_ACTION records: the Spec ID header, StartupLocality, and others named by their signature. */
final class NoActionDecoder {
    static final byte[] SPEC_ID_03 = "Spec ID Event03\0".getBytes(StandardCharsets.US_ASCII);
    static final byte[] STARTUP_LOCALITY = "StartupLocality\0".getBytes(StandardCharsets.US_ASCII);

    private NoActionDecoder() {
    }

    static boolean startsWith(byte[] data, byte[] prefix) {
        return data.length >= prefix.length && Arrays.equals(data, 0, prefix.length, prefix, 0, prefix.length);
    }

    static EventData decode(int pcr, byte[] data) throws EventLogException {
        if (startsWith(data, SPEC_ID_03)) {
            return specId(new ByteReader(data), Limits.DEFAULT);
        }
        if (startsWith(data, STARTUP_LOCALITY) && data.length == STARTUP_LOCALITY.length + 1) {
            return new EventData.StartupLocality(data[STARTUP_LOCALITY.length] & 0xFF);
        }
        int n = 0;
        while (n < data.length && n < 64 && data[n] != 0) {
            n++;
        }
        byte[] signature = Arrays.copyOf(data, n);
        return new EventData.NoAction(Texts.printableAscii(signature) ? Texts.utf8(signature) : "");
    }

    /** Reads TCG_EfiSpecIdEvent from {@code r}, which must be positioned at the signature. */
    static SpecId specId(ByteReader r, Limits limits) throws EventLogException {
        r.skip(SPEC_ID_03.length, "Spec ID signature");
        long platformClass = r.u32("platformClass");
        int minor = r.u8("specVersionMinor");
        int major = r.u8("specVersionMajor");
        int errata = r.u8("specErrata");
        int uintnSize = r.u8("uintnSize");
        int at = r.offset();
        long count = r.u32("numberOfAlgorithms");
        if (count == 0 || count > limits.maxAlgorithms()) {
            throw new EventLogException(at, "Spec ID declares " + count + " algorithms (1.."
                    + limits.maxAlgorithms() + " allowed)");
        }
        List<SpecId.AlgorithmSize> algs = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            at = r.offset();
            int algId = r.u16("algorithmId");
            int size = r.u16("digestSize");
            if (size == 0) {
                throw new EventLogException(at, String.format("algorithm 0x%04x has digest size 0", algId));
            }
            int known = new EventDigest(algId, new byte[0]).alg().map(a -> a.digestSize()).orElse(size);
            if (known != size) {
                throw new EventLogException(at, String.format("algorithm 0x%04x declared with digest size %d, "
                        + "expected %d", algId, size, known));
            }
            for (SpecId.AlgorithmSize a : algs) {
                if (a.algId() == algId) {
                    throw new EventLogException(at, String.format("algorithm 0x%04x declared twice", algId));
                }
            }
            algs.add(new SpecId.AlgorithmSize(algId, size));
        }
        int vendorSize = r.u8("vendorInfoSize");
        byte[] vendor = r.bytes(vendorSize, "vendorInfo");
        return new SpecId(platformClass, major, minor, errata, uintnSize, algs, vendor);
    }
}
