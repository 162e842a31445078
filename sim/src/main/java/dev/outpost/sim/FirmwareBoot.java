package dev.outpost.sim;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.eventlog.EventLogWriter;
import dev.outpost.tpm.eventlog.EventType;
import dev.outpost.tpm.eventlog.Guid;

/**
 * The measurements a UEFI Secure Boot machine makes before Linux runs, in the order firmware, shim and grub make
 * them: PCR 0 (S-CRTM, POST code, firmware volume), PCR 7 (Secure Boot policy), separators 0-7, PCR 4 (boot
 * applications), PCR 9 (files grub read), PCR 8 (grub's command line), PCR 5 (ExitBootServices). Pure: the same
 * profile always gives the same events.
 */
final class FirmwareBoot {
    /** The two banks swtpm allocates by default; the log declares them in this order. */
    static final List<HashAlg> BANKS = List.of(HashAlg.SHA1, HashAlg.SHA256);
    // Microsoft's SignatureOwner GUID for its keys; any GUID works, a familiar one keeps logs readable.
    private static final Guid OWNER = new Guid("77fa9abd-0359-4d32-bd60-28f4e78f784b");
    private static final long FIRMWARE_BASE = 0xFFC0_0000L;

    private FirmwareBoot() {
    }

    static List<Measurement> measurements(BootProfile p) {
        List<Measurement> m = new ArrayList<>();
        m.add(hashed(0, EventType.EV_S_CRTM_VERSION, UefiEvents.utf16z(p.firmwareVersion())));
        m.add(hashed(0, EventType.EV_POST_CODE, ascii("ACPI DATA")));
        m.add(new Measurement(0, EventType.EV_EFI_PLATFORM_FIRMWARE_BLOB,
                UefiEvents.firmwareBlob(FIRMWARE_BASE, p.firmwareImage().length), digests(p.firmwareImage())));

        m.add(variable(UefiEvents.EFI_GLOBAL_VARIABLE, "SecureBoot", new byte[] {(byte) (p.secureBoot() ? 1 : 0)}));
        m.add(variable(UefiEvents.EFI_GLOBAL_VARIABLE, "PK", UefiEvents.x509Lists(List.of(p.pkCert()), OWNER)));
        m.add(variable(UefiEvents.EFI_GLOBAL_VARIABLE, "KEK", UefiEvents.x509Lists(List.of(p.kekCert()), OWNER)));
        m.add(variable(UefiEvents.IMAGE_SECURITY_DATABASE, "db", UefiEvents.x509Lists(p.dbCerts(), OWNER)));
        m.add(variable(UefiEvents.IMAGE_SECURITY_DATABASE, "dbx", UefiEvents.sha256List(p.dbxHashes(), OWNER)));

        // Firmware caps PCRs 0-7 at ReadyToBoot, before the first boot option runs.
        for (int pcr = 0; pcr <= 7; pcr++) {
            m.add(hashed(pcr, EventType.EV_SEPARATOR, new byte[4]));
        }
        m.add(hashed(4, EventType.EV_EFI_ACTION, ascii("Calling EFI Application from Boot Option")));
        m.add(application("\\EFI\\BOOT\\BOOTX64.EFI", p.shimImage()));
        m.add(application("\\EFI\\debian\\grubx64.efi", p.grubImage()));

        // grub measures every file it reads into PCR 9 and its command lines into PCR 8.
        m.add(new Measurement(9, EventType.EV_IPL, cstring(p.kernelPath()), digests(p.kernelImage())));
        m.add(new Measurement(9, EventType.EV_IPL, cstring(p.initrdPath()), digests(p.initrdImage())));
        m.add(new Measurement(8, EventType.EV_IPL, cstring("kernel_cmdline: " + p.cmdline()),
                digests(p.cmdline().getBytes(StandardCharsets.UTF_8))));
        // shim verifies the kernel and has firmware load it: another boot application in PCR 4.
        m.add(application(p.kernelPath(), p.kernelImage()));

        m.add(hashed(5, EventType.EV_EFI_ACTION, ascii("Exit Boot Services Invocation")));
        m.add(hashed(5, EventType.EV_EFI_ACTION, ascii("Exit Boot Services Returned with Success")));
        return m;
    }

    static byte[] log(List<Measurement> events) {
        EventLogWriter w = EventLogWriter.cryptoAgile(BANKS.toArray(HashAlg[]::new));
        for (Measurement e : events) {
            w.event(e.pcr(), e.type().value(), e.data(), e.digests());
        }
        return w.toBytes();
    }

    private static Measurement application(String path, byte[] image) {
        return new Measurement(4, EventType.EV_EFI_BOOT_SERVICES_APPLICATION,
                UefiEvents.imageLoad(path, image.length), digests(image));
    }

    /** Variables are measured as the whole UEFI_VARIABLE_DATA, which is also the event data. */
    private static Measurement variable(Guid vendor, String name, byte[] value) {
        return hashed(7, EventType.EV_EFI_VARIABLE_DRIVER_CONFIG, UefiEvents.variable(vendor, name, value));
    }

    private static Measurement hashed(int pcr, EventType type, byte[] data) {
        return new Measurement(pcr, type, data, digests(data));
    }

    static Map<HashAlg, byte[]> digests(byte[] data) {
        Map<HashAlg, byte[]> d = new LinkedHashMap<>();
        for (HashAlg b : BANKS) {
            d.put(b, b.digest(data));
        }
        return d;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** grub logs its strings with the terminating NUL. */
    private static byte[] cstring(String s) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.writeBytes(s.getBytes(StandardCharsets.UTF_8));
        o.write(0);
        return o.toByteArray();
    }
}
