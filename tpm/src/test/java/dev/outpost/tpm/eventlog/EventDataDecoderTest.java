package dev.outpost.tpm.eventlog;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.Date;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;

/** Decoding of each common event data layout, from bytes built here. */
class EventDataDecoderTest {
    private static final Guid EFI_GLOBAL = new Guid("8be4df61-93ca-11d2-aa0d-00e098032b8c");
    private static final Guid IMAGE_SECURITY_DB = new Guid("d719b2cb-3d3a-4596-a3bc-dad00e67656f");
    private static final Guid OWNER = new Guid("77fa9abd-0359-4d32-bd60-28f4e78f784b");

    private static EventData decode(EventType type, byte[] data) {
        return EventDataDecoder.decode(0, type.value(), data);
    }

    private static byte[] variable(Guid vendor, String name, byte[] value) {
        return new Bytes().raw(vendor.toBytes()).u64(name.length()).u64(value.length).utf16(name).raw(value)
                .bytes();
    }

    private static byte[] selfSignedCert() throws Exception {
        KeyPair kp = KeyPairGenerator.getInstance("EC").generateKeyPair();
        X500Name dn = new X500Name("CN=Test DB Key");
        return new JcaX509v3CertificateBuilder(dn, BigInteger.ONE, new Date(0), new Date(4_000_000_000_000L), dn,
                kp.getPublic()).build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate()))
                .getEncoded();
    }

    @Test
    void guidUsesMixedEndianLayout() {
        byte[] b = EFI_GLOBAL.toBytes();
        assertThat(b[0]).isEqualTo((byte) 0x61);
        assertThat(Guid.of(b)).isEqualTo(EFI_GLOBAL);
    }

    @Test
    void secureBootVariable() {
        EventData d = decode(EventType.EV_EFI_VARIABLE_DRIVER_CONFIG, variable(EFI_GLOBAL, "SecureBoot",
                new byte[] {1}));
        assertThat(d).isInstanceOfSatisfying(EventData.EfiVariable.class, v -> {
            assertThat(v.vendor()).isEqualTo(EFI_GLOBAL);
            assertThat(v.name()).isEqualTo("SecureBoot");
            assertThat(v.value()).containsExactly(1);
            assertThat(v.signatures()).isEmpty();
            assertThat(v.describe()).contains("SecureBoot").contains("= 01");
        });
    }

    @Test
    void dbSignatureListsWithCertificateAndHash() throws Exception {
        byte[] cert = selfSignedCert();
        byte[] hash = new byte[32];
        hash[0] = 0x42;
        byte[] lists = new Bytes()
                .raw(Guid.CERT_X509.toBytes()).u32(28 + 16 + cert.length).u32(0).u32(16 + cert.length)
                .raw(OWNER.toBytes()).raw(cert)
                .raw(Guid.CERT_SHA256.toBytes()).u32(28 + 2 * 48).u32(0).u32(48)
                .raw(OWNER.toBytes()).raw(hash).raw(OWNER.toBytes()).raw(new byte[32])
                .bytes();
        EventData d = decode(EventType.EV_EFI_VARIABLE_DRIVER_CONFIG, variable(IMAGE_SECURITY_DB, "db", lists));
        assertThat(d).isInstanceOfSatisfying(EventData.EfiVariable.class, v -> {
            assertThat(v.signatures()).hasSize(3);
            EventData.SignatureEntry first = v.signatures().get(0);
            assertThat(first.isX509()).isTrue();
            assertThat(first.owner()).isEqualTo(OWNER);
            assertThat(first.certificate().getSubjectX500Principal().getName()).isEqualTo("CN=Test DB Key");
            assertThat(v.signatures().get(1).isSha256()).isTrue();
            assertThat(v.signatures().get(1).data()).isEqualTo(hash);
            assertThat(v.describe()).contains("x509 CN=Test DB Key").contains("sha256 42");
        });
    }

    @Test
    void authorityEventCarriesOneSignatureData() throws Exception {
        byte[] cert = selfSignedCert();
        byte[] value = new Bytes().raw(OWNER.toBytes()).raw(cert).bytes();
        EventData d = decode(EventType.EV_EFI_VARIABLE_AUTHORITY, variable(IMAGE_SECURITY_DB, "db", value));
        assertThat(d).isInstanceOfSatisfying(EventData.EfiVariable.class,
                v -> assertThat(v.signatures()).singleElement().satisfies(s -> assertThat(s.certificate()).isNotNull()));
    }

    @Test
    void brokenSignatureListMarksOnlyThisEventUndecodable() {
        byte[] lists = new Bytes().raw(Guid.CERT_X509.toBytes()).u32(0xFFFFFFF0L).u32(0).u32(16).bytes();
        EventData d = decode(EventType.EV_EFI_VARIABLE_DRIVER_CONFIG, variable(IMAGE_SECURITY_DB, "dbx", lists));
        assertThat(d).isInstanceOf(EventData.Undecodable.class);
        assertThat(d.describe()).startsWith("undecodable: at data byte 0").contains("signature list size");
    }

    @Test
    void hugeUnicodeNameLengthIsUndecodableNotAnAllocation() {
        byte[] data = new Bytes().raw(EFI_GLOBAL.toBytes()).u64(Long.MAX_VALUE).u64(0).bytes();
        assertThat(decode(EventType.EV_EFI_VARIABLE_BOOT, data)).isInstanceOfSatisfying(EventData.Undecodable.class,
                u -> assertThat(u.reason()).contains("UnicodeNameLength"));
    }

    @Test
    void imageLoadWithFilePath() {
        byte[] path = new Bytes()
                .u8(4).u8(1).u16(42).zeros(38)                                   // hard drive node
                .u8(4).u8(4).u16(4 + 2 * 21).utf16("\\EFI\\BOOT\\BOOTX64.EFI")
                .u8(4).u8(4).u16(4 + 2 * 4).utf16("x\0\0\0").u8(0x7F).u8(0xFF).u16(4).bytes();
        byte[] data = new Bytes().u64(0x1000).u64(0x2000).u64(0).u64(path.length).raw(path).bytes();
        EventData d = decode(EventType.EV_EFI_BOOT_SERVICES_APPLICATION, data);
        assertThat(d).isInstanceOfSatisfying(EventData.ImageLoad.class, i -> {
            assertThat(i.location()).isEqualTo(0x1000);
            assertThat(i.length()).isEqualTo(0x2000);
            assertThat(i.devicePath()).isEqualTo(path);
            assertThat(i.path()).isEqualTo("\\EFI\\BOOT\\BOOTX64.EFI\\x");
        });
    }

    @Test
    void malformedDevicePathStillGivesTheImage() {
        byte[] path = new Bytes().u8(4).u8(4).u16(2).bytes();
        byte[] data = new Bytes().u64(1).u64(2).u64(0).u64(path.length).raw(path).bytes();
        assertThat(decode(EventType.EV_EFI_BOOT_SERVICES_DRIVER, data))
                .isInstanceOfSatisfying(EventData.ImageLoad.class, i -> assertThat(i.path()).isEmpty());
    }

    @Test
    void strings() {
        assertThat(decode(EventType.EV_IPL, "grub_cmd: linux /vmlinuz\0".getBytes()))
                .isEqualTo(new EventData.Text("grub_cmd: linux /vmlinuz"));
        assertThat(decode(EventType.EV_IPL, new Bytes().utf16("initrd=\\initrd\0").bytes()))
                .isEqualTo(new EventData.Text("initrd=\\initrd"));
        assertThat(decode(EventType.EV_S_CRTM_VERSION, new Bytes().utf16("GCE Virtual Firmware v1\0").bytes()))
                .isEqualTo(new EventData.Text("GCE Virtual Firmware v1"));
        assertThat(decode(EventType.EV_POST_CODE, "ACPI DATA".getBytes()))
                .isEqualTo(new EventData.Text("ACPI DATA"));
        assertThat(decode(EventType.EV_POST_CODE, new Bytes().u64(0xFFC00000L).u64(0x100000).bytes()))
                .isEqualTo(new EventData.FirmwareBlob("", 0xFFC00000L, 0x100000));
    }

    @Test
    void separatorValues() {
        assertThat(decode(EventType.EV_SEPARATOR, new Bytes().u32(0xFFFFFFFFL).bytes()).describe())
                .isEqualTo("separator (error)");
        assertThat(decode(EventType.EV_SEPARATOR, "WBCL".getBytes()).describe())
                .isEqualTo("separator (value 0x4c434257)");
    }

    @Test
    void bootOptionsAreSummarised() {
        byte[] path = new Bytes().u8(4).u8(4).u16(4 + 2 * 8).utf16("\\a.efi\0").u8(0x7F).u8(0xFF).u16(4).bytes();
        byte[] option = new Bytes().u32(1).u16(path.length).utf16("Linux\0").raw(path).bytes();
        assertThat(decode(EventType.EV_EFI_VARIABLE_BOOT, variable(EFI_GLOBAL, "Boot0001", option)).describe())
                .endsWith("Boot0001 (" + option.length + " bytes): \"Linux\" file \\a.efi");
        assertThat(decode(EventType.EV_EFI_VARIABLE_BOOT, variable(EFI_GLOBAL, "BootOrder",
                new Bytes().u16(1).u16(0x10).bytes())).describe()).endsWith(": Boot0001,Boot0010");
        byte[] unterminated = new Bytes().u32(1).u16(0).utf16("Lin").bytes();
        assertThat(decode(EventType.EV_EFI_VARIABLE_BOOT, variable(EFI_GLOBAL, "Boot0002", unterminated))
                .describe()).endsWith("Boot0002 (12 bytes)");
    }

    @Test
    void firmwareBlob2AndHandoffTables2() {
        assertThat(decode(EventType.EV_EFI_PLATFORM_FIRMWARE_BLOB2,
                new Bytes().u8(4).ascii("PEIA").u64(0x820000).u64(0xE0000).bytes()))
                .isEqualTo(new EventData.FirmwareBlob("PEIA", 0x820000, 0xE0000));
        EventData h = decode(EventType.EV_EFI_HANDOFF_TABLES2, new Bytes().u8(3).ascii("SMB").u64(1)
                .raw(OWNER.toBytes()).u64(0x7F000000L).bytes());
        assertThat(h).isEqualTo(new EventData.HandoffTables("SMB",
                java.util.List.of(new EventData.ConfigTable(OWNER, 0x7F000000L))));
        assertThat(decode(EventType.EV_EFI_HANDOFF_TABLES, new Bytes().u64(-1).bytes()))
                .isInstanceOf(EventData.Undecodable.class);
    }

    @Test
    void gptEvent() {
        Bytes b = new Bytes().ascii("EFI PART").u32(0x10000).u32(92).u32(0).u32(0).u64(1).u64(999).u64(34)
                .u64(966).raw(OWNER.toBytes()).u64(2).u32(128).u32(128).u32(0).u64(1);
        b.raw(EFI_GLOBAL.toBytes()).raw(OWNER.toBytes()).u64(2048).u64(4095).u64(0).utf16("EFI System")
                .zeros(72 - 20);
        EventData d = decode(EventType.EV_EFI_GPT_EVENT, b.bytes());
        assertThat(d).isInstanceOfSatisfying(EventData.Gpt.class, g -> {
            assertThat(g.diskGuid()).isEqualTo(OWNER);
            assertThat(g.partitionCount()).isEqualTo(1);
            assertThat(g.partitions()).singleElement().satisfies(p -> {
                assertThat(p.firstLba()).isEqualTo(2048);
                assertThat(p.name()).isEqualTo("EFI System");
            });
        });
        assertThat(decode(EventType.EV_EFI_GPT_EVENT, new byte[8])).isInstanceOf(EventData.Undecodable.class);
    }

    @Test
    void eventTagAndNoAction() {
        assertThat(decode(EventType.EV_EVENT_TAG, new Bytes().u32(0x1234).u32(2).u16(0xBEEF).bytes()).describe())
                .isEqualTo("tagged event 0x00001234, 2 bytes");
        assertThat(decode(EventType.EV_NO_ACTION, new Bytes().ascii("SP800-155 Event\0").zeros(8).bytes()))
                .isEqualTo(new EventData.NoAction("SP800-155 Event"));
        assertThat(decode(EventType.EV_NO_ACTION, new Bytes().u8(4).u8(0).bytes()).describe()).isEqualTo("no action");
        assertThat(decode(EventType.EV_NO_ACTION, new Bytes().ascii("StartupLocality\0").u8(3).bytes()))
                .isEqualTo(new EventData.StartupLocality(3));
    }

    @Test
    void unknownTypeIsOpaque() {
        assertThat(EventDataDecoder.decode(0, 0x7777, new byte[5])).isEqualTo(new EventData.Opaque(5));
    }
}
