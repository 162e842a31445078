package dev.outpost.tpm.eventlog;

/** Picks the decoder for an event type; one event's bad data never stops the log. */
final class EventDataDecoder {
    private EventDataDecoder() {
    }

    static EventData decode(int pcr, int rawType, byte[] data) {
        try {
            return decodeOrThrow(pcr, rawType, data);
        } catch (EventLogException e) {
            return new EventData.Undecodable("at data byte " + e.offset() + ": " + e.reason());
        } catch (IllegalArgumentException e) {
            return new EventData.Undecodable(String.valueOf(e.getMessage()));
        }
    }

    private static EventData decodeOrThrow(int pcr, int rawType, byte[] data) throws EventLogException {
        switch (EventType.of(rawType)) {
            case EV_NO_ACTION:
                return NoActionDecoder.decode(pcr, data);
            case EV_EFI_VARIABLE_DRIVER_CONFIG:
            case EV_EFI_VARIABLE_BOOT:
            case EV_EFI_VARIABLE_BOOT2:
            case EV_EFI_VARIABLE_AUTHORITY:
                return EfiVariableDecoder.decode(rawType, data);
            case EV_EFI_BOOT_SERVICES_APPLICATION:
            case EV_EFI_BOOT_SERVICES_DRIVER:
            case EV_EFI_RUNTIME_SERVICES_DRIVER:
                return ImageLoadDecoder.decode(data);
            case EV_SEPARATOR:
                return separator(data);
            case EV_POST_CODE:
                return postCode(data);
            case EV_S_CRTM_VERSION:
                return new EventData.Text(Texts.utf16(data, 0, data.length));
            case EV_IPL:
            case EV_EFI_ACTION:
            case EV_ACTION:
                return new EventData.Text(Texts.text(data));
            case EV_EVENT_TAG:
                return eventTag(data);
            case EV_EFI_GPT_EVENT:
            case EV_EFI_GPT_EVENT2:
                return GptDecoder.decode(data);
            case EV_EFI_PLATFORM_FIRMWARE_BLOB:
                return FirmwareDecoder.blob(data, false);
            case EV_EFI_PLATFORM_FIRMWARE_BLOB2:
                return FirmwareDecoder.blob(data, true);
            case EV_EFI_HANDOFF_TABLES:
                return FirmwareDecoder.handoffTables(data, false);
            case EV_EFI_HANDOFF_TABLES2:
                return FirmwareDecoder.handoffTables(data, true);
            default:
                return new EventData.Opaque(data.length);
        }
    }

    private static EventData separator(byte[] data) throws EventLogException {
        if (data.length != 4) {
            return new EventData.Opaque(data.length);
        }
        return new EventData.Separator(new ByteReader(data).u32("separator value"));
    }

    /** PFP allows either a string ("ACPI DATA") or a UEFI_PLATFORM_FIRMWARE_BLOB here. */
    private static EventData postCode(byte[] data) throws EventLogException {
        if (Texts.printableAscii(data)) {
            return new EventData.Text(Texts.utf8(data));
        }
        if (data.length == 16) {
            return FirmwareDecoder.blob(data, false);
        }
        return new EventData.Opaque(data.length);
    }

    private static EventData eventTag(byte[] data) throws EventLogException {
        ByteReader r = new ByteReader(data);
        long id = r.u32("taggedEventID");
        long size = r.u32("taggedEventDataSize");
        return new EventData.EventTag(id, r.bytes(size, "taggedEventData"));
    }
}
