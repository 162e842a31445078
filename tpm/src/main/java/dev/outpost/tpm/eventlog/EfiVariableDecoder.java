package dev.outpost.tpm.eventlog;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** UEFI_VARIABLE_DATA, with the signature databases (PK, KEK, db, dbx) opened up. */
final class EfiVariableDecoder {
    private static final Set<String> SIGNATURE_DATABASES = Set.of("PK", "KEK", "db", "dbx", "dbt", "dbr");
    private static final int SIGNATURE_LIST_HEADER = 16 + 4 + 4 + 4;
    private static final Guid NO_TYPE = new Guid("00000000-0000-0000-0000-000000000000");

    private EfiVariableDecoder() {
    }

    static EventData decode(int rawType, byte[] data) throws EventLogException {
        ByteReader r = new ByteReader(data);
        Guid vendor = r.guid("VariableName");
        int at = r.offset();
        long nameChars = r.u64("UnicodeNameLength");
        long valueLength = r.u64("VariableDataLength");
        if (Long.compareUnsigned(nameChars, r.remaining() / 2) > 0) {
            throw new EventLogException(at, "UnicodeNameLength " + Long.toUnsignedString(nameChars)
                    + " exceeds the data");
        }
        byte[] nameBytes = r.bytes(nameChars * 2, "UnicodeName");
        String name = Texts.utf16(nameBytes, 0, nameBytes.length);
        byte[] value = r.bytes(valueLength, "VariableData");
        List<EventData.SignatureEntry> signatures = List.of();
        if (SIGNATURE_DATABASES.contains(name)) {
            signatures = rawType == EventType.EV_EFI_VARIABLE_AUTHORITY.value()
                    ? authorityEntry(value) : signatureLists(value);
        }
        return new EventData.EfiVariable(vendor, name, value, signatures);
    }

    /** EFI_SIGNATURE_LIST, repeated to the end of the variable. */
    static List<EventData.SignatureEntry> signatureLists(byte[] value) throws EventLogException {
        ByteReader r = new ByteReader(value);
        List<EventData.SignatureEntry> out = new ArrayList<>();
        while (r.hasRemaining()) {
            int at = r.offset();
            Guid type = r.guid("SignatureType");
            long listSize = r.u32("SignatureListSize");
            long headerSize = r.u32("SignatureHeaderSize");
            long sigSize = r.u32("SignatureSize");
            if (listSize < SIGNATURE_LIST_HEADER || listSize - SIGNATURE_LIST_HEADER > r.remaining()) {
                throw new EventLogException(at, "signature list size " + listSize + " does not fit the variable");
            }
            long body = listSize - SIGNATURE_LIST_HEADER;
            if (headerSize > body || sigSize < 16 || (body - headerSize) % sigSize != 0) {
                throw new EventLogException(at, "signature list sizes inconsistent (list " + listSize
                        + ", header " + headerSize + ", signature " + sigSize + ")");
            }
            ByteReader list = r.slice(body, "signature list");
            list.skip(headerSize, "SignatureHeader");
            while (list.hasRemaining()) {
                Guid owner = list.guid("SignatureOwner");
                out.add(new EventData.SignatureEntry(type, owner, list.bytes(sigSize - 16, "SignatureData")));
            }
        }
        return out;
    }

    /**
     * EV_EFI_VARIABLE_AUTHORITY carries the one EFI_SIGNATURE_DATA that verified an image, without its list
     * header, so the type is inferred: DER certificates start with a SEQUENCE, SHA-256 hashes are 32 bytes.
     */
    private static List<EventData.SignatureEntry> authorityEntry(byte[] value) throws EventLogException {
        ByteReader r = new ByteReader(value);
        Guid owner = r.guid("SignatureOwner");
        byte[] payload = r.bytes(r.remaining(), "SignatureData");
        Guid type = payload.length > 1 && payload[0] == 0x30 ? Guid.CERT_X509
                : payload.length == 32 ? Guid.CERT_SHA256 : NO_TYPE;
        return List.of(new EventData.SignatureEntry(type, owner, payload));
    }
}
