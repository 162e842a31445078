package dev.outpost.tpm.eventlog;

import java.util.ArrayList;
import java.util.List;

/** Firmware blob and handoff table events, whose "2" forms add a short description in front. */
final class FirmwareDecoder {
    private static final int CONFIG_TABLE_SIZE = 16 + 8;

    private FirmwareDecoder() {
    }

    static EventData blob(byte[] data, boolean withDescription) throws EventLogException {
        ByteReader r = new ByteReader(data);
        String description = withDescription ? description(r) : "";
        long base = r.u64("BlobBase");
        long length = r.u64("BlobLength");
        return new EventData.FirmwareBlob(description, base, length);
    }

    static EventData handoffTables(byte[] data, boolean withDescription) throws EventLogException {
        ByteReader r = new ByteReader(data);
        String description = withDescription ? description(r) : "";
        int at = r.offset();
        long count = r.u64("NumberOfTables");
        if (Long.compareUnsigned(count, r.remaining() / CONFIG_TABLE_SIZE) > 0) {
            throw new EventLogException(at, Long.toUnsignedString(count) + " tables do not fit the data");
        }
        List<EventData.ConfigTable> tables = new ArrayList<>();
        for (long i = 0; i < count; i++) {
            tables.add(new EventData.ConfigTable(r.guid("VendorGuid"), r.u64("VendorTable")));
        }
        return new EventData.HandoffTables(description, tables);
    }

    private static String description(ByteReader r) throws EventLogException {
        int size = r.u8("description size");
        return Texts.utf8(r.bytes(size, "description"));
    }
}
