package dev.outpost.tpm.eventlog;

import java.util.ArrayList;
import java.util.List;

/**
 * UEFI_GPT_DATA: EFI_PARTITION_TABLE_HEADER, NumberOfPartitions, then the partition entries. Firmware copies
 * the 92-byte header struct, whatever the on-disk HeaderSize says, so HeaderSize is not used to skip.
 */
final class GptDecoder {
    private static final long EFI_PART = 0x5452415020494645L;
    private static final int MIN_ENTRY_SIZE = 128;

    private GptDecoder() {
    }

    static EventData decode(byte[] data) throws EventLogException {
        ByteReader r = new ByteReader(data);
        if (r.u64("GPT signature") != EFI_PART) {
            throw new EventLogException(0, "GPT header signature is not \"EFI PART\"");
        }
        r.u32("Revision");
        r.u32("HeaderSize");
        r.u32("HeaderCRC32");
        r.u32("Reserved");
        r.u64("MyLBA");
        r.u64("AlternateLBA");
        r.u64("FirstUsableLBA");
        r.u64("LastUsableLBA");
        Guid disk = r.guid("DiskGUID");
        r.u64("PartitionEntryLBA");
        r.u32("NumberOfPartitionEntries");
        int at = r.offset();
        long entrySize = r.u32("SizeOfPartitionEntry");
        r.u32("PartitionEntryArrayCRC32");
        long count = r.u64("NumberOfPartitions");
        if (entrySize < MIN_ENTRY_SIZE) {
            throw new EventLogException(at, "SizeOfPartitionEntry " + entrySize + " below " + MIN_ENTRY_SIZE);
        }
        if (Long.compareUnsigned(count, r.remaining() / entrySize) > 0) {
            throw new EventLogException(r.offset(), Long.toUnsignedString(count) + " partitions do not fit the data");
        }
        List<EventData.GptPartition> parts = new ArrayList<>();
        for (long i = 0; i < count; i++) {
            ByteReader e = r.slice(entrySize, "partition entry");
            Guid type = e.guid("PartitionTypeGUID");
            Guid unique = e.guid("UniquePartitionGUID");
            long first = e.u64("StartingLBA");
            long last = e.u64("EndingLBA");
            e.u64("Attributes");
            byte[] name = e.bytes(72, "PartitionName");
            parts.add(new EventData.GptPartition(type, unique, first, last, Texts.utf16(name, 0, name.length)));
        }
        return new EventData.Gpt(disk, count, parts);
    }
}
