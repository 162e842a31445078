package dev.outpost.ima.boot;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.eventlog.EventLog;
import dev.outpost.tpm.eventlog.EventLogWriter;
import dev.outpost.tpm.eventlog.EventType;
import dev.outpost.tpm.eventlog.Guid;

/**
 * A Secure Boot log as shim + grub firmware writes it, with knobs for every mutation the tests need. Every field
 * starts at the "good" machine; tests change one thing.
 */
final class BootLogFixture {
    static final Guid GLOBAL = new Guid("8be4df61-93ca-11d2-aa0d-00e098032b8c");
    static final Guid IMAGE_SECURITY = new Guid("d719b2cb-3d3a-4596-a3bc-dad00e67656f");
    static final Guid OWNER = new Guid("77fa9abd-0359-4d32-bd60-28f4e78f784b");
    static final byte[] PK_CERT = cert("CN=Test Platform Key", 1);
    static final byte[] KEK_CERT = cert("CN=Test KEK", 2);
    static final byte[] DB_CERT = cert("CN=Test Signing CA 2011", 3);
    static final byte[] OTHER_CERT = cert("CN=Someone Else's CA", 4);
    static final byte[] DBX_HASH_1 = HashAlg.SHA256.digest("revoked grub 1".getBytes());
    static final byte[] DBX_HASH_2 = HashAlg.SHA256.digest("revoked grub 2".getBytes());
    static final byte[] DB_HASH = HashAlg.SHA256.digest("allowed by hash".getBytes());

    byte secureBoot = 1;
    List<byte[]> dbCerts = new ArrayList<>(List.of(DB_CERT));
    List<byte[]> dbHashes = new ArrayList<>(List.of(DB_HASH));
    List<byte[]> dbxHashes = new ArrayList<>(List.of(DBX_HASH_1, DBX_HASH_2));
    List<String> applications = new ArrayList<>(List.of("shimx64.efi", "grubx64.efi", "vmlinuz-6.1.0"));
    String cmdline = "BOOT_IMAGE=/vmlinuz-6.1.0 root=/dev/mapper/root ro quiet";
    /** When set, the logged text differs from what was hashed (a forged log). */
    String loggedCmdline;
    /** Extra POST code in PCR 0 (changes PCR 0 without touching any other check). */
    boolean extraPostCode;

    EventLog log() {
        try {
            return EventLog.parse(bytes());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    byte[] bytes() {
        EventLogWriter w = EventLogWriter.cryptoAgile(HashAlg.SHA1, HashAlg.SHA256);
        w.event(0, EventType.EV_S_CRTM_VERSION, utf16("1.0"));
        if (extraPostCode) {
            w.event(0, EventType.EV_POST_CODE, "ACPI DATA".getBytes(StandardCharsets.US_ASCII));
        }
        w.event(7, EventType.EV_EFI_VARIABLE_DRIVER_CONFIG, variable(GLOBAL, "SecureBoot", new byte[] {secureBoot}));
        w.event(7, EventType.EV_EFI_VARIABLE_DRIVER_CONFIG, variable(GLOBAL, "PK", x509List(List.of(PK_CERT))));
        w.event(7, EventType.EV_EFI_VARIABLE_DRIVER_CONFIG, variable(GLOBAL, "KEK", x509List(List.of(KEK_CERT))));
        ByteArrayOutputStream db = new ByteArrayOutputStream();
        db.writeBytes(x509List(dbCerts));
        db.writeBytes(sha256List(dbHashes));
        w.event(7, EventType.EV_EFI_VARIABLE_DRIVER_CONFIG, variable(IMAGE_SECURITY, "db", db.toByteArray()));
        w.event(7, EventType.EV_EFI_VARIABLE_DRIVER_CONFIG, variable(IMAGE_SECURITY, "dbx", sha256List(dbxHashes)));
        for (int pcr = 0; pcr <= 7; pcr++) {
            w.event(pcr, EventType.EV_SEPARATOR, new byte[4]);
        }
        w.event(4, EventType.EV_EFI_ACTION, "Calling EFI Application from Boot Option".getBytes());
        for (String app : applications) {
            w.event(4, EventType.EV_EFI_BOOT_SERVICES_APPLICATION.value(), imageLoad(app), imageDigests(app));
        }
        String logged = "kernel_cmdline: " + (loggedCmdline != null ? loggedCmdline : cmdline) + "\0";
        w.event(8, EventType.EV_IPL.value(), logged.getBytes(StandardCharsets.UTF_8),
                digests(cmdline.getBytes(StandardCharsets.UTF_8)));
        return w.toBytes();
    }

    /** What the firmware would log for an image: the Authenticode digest, which is not a hash of the event data. */
    static Map<HashAlg, byte[]> imageDigests(String name) {
        return digests(("PE image " + name).getBytes(StandardCharsets.UTF_8));
    }

    private static Map<HashAlg, byte[]> digests(byte[] data) {
        Map<HashAlg, byte[]> d = new LinkedHashMap<>();
        d.put(HashAlg.SHA1, HashAlg.SHA1.digest(data));
        d.put(HashAlg.SHA256, HashAlg.SHA256.digest(data));
        return d;
    }

    static byte[] variable(Guid vendor, String name, byte[] value) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.writeBytes(vendor.toBytes());
        u64(o, name.length());
        u64(o, value.length);
        o.writeBytes(name.getBytes(StandardCharsets.UTF_16LE));
        o.writeBytes(value);
        return o.toByteArray();
    }

    static byte[] x509List(List<byte[]> certs) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (byte[] c : certs) {
            o.writeBytes(signatureList(Guid.CERT_X509, List.of(c)));
        }
        return o.toByteArray();
    }

    static byte[] sha256List(List<byte[]> hashes) {
        return hashes.isEmpty() ? new byte[0] : signatureList(Guid.CERT_SHA256, hashes);
    }

    /** EFI_SIGNATURE_LIST: one type, one entry size, owner GUID before each entry. */
    private static byte[] signatureList(Guid type, List<byte[]> entries) {
        int size = 16 + entries.get(0).length;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.writeBytes(type.toBytes());
        u32(o, 28 + (long) size * entries.size());
        u32(o, 0);
        u32(o, size);
        for (byte[] e : entries) {
            o.writeBytes(OWNER.toBytes());
            o.writeBytes(e);
        }
        return o.toByteArray();
    }

    /** UEFI_IMAGE_LOAD_EVENT with a one-node file path device path, so the generator can name the image. */
    private static byte[] imageLoad(String file) {
        ByteArrayOutputStream path = new ByteArrayOutputStream();
        byte[] name = (file + "\0").getBytes(StandardCharsets.UTF_16LE);
        path.write(4);  // media device path
        path.write(4);  // file path
        path.write((name.length + 4) & 0xff);
        path.write((name.length + 4) >>> 8);
        path.writeBytes(name);
        path.writeBytes(new byte[] {0x7f, (byte) 0xff, 4, 0});  // end of path
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        u64(o, 0x7000_0000L);
        u64(o, 1 << 20);
        u64(o, 0);
        u64(o, path.size());
        o.writeBytes(path.toByteArray());
        return o.toByteArray();
    }

    static byte[] cert(String subject, long serial) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(256);
            KeyPair kp = g.generateKeyPair();
            X500Name n = new X500Name(subject);
            Date from = new Date(1_600_000_000_000L);
            Date to = new Date(2_600_000_000_000L);
            return new JcaX509v3CertificateBuilder(n, BigInteger.valueOf(serial), from, to, n, kp.getPublic())
                    .build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate())).getEncoded();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] utf16(String s) {
        return (s + "\0").getBytes(StandardCharsets.UTF_16LE);
    }

    private static void u64(ByteArrayOutputStream o, long v) {
        u32(o, v & 0xFFFFFFFFL);
        u32(o, v >>> 32);
    }

    private static void u32(ByteArrayOutputStream o, long v) {
        o.write((int) v);
        o.write((int) (v >>> 8));
        o.write((int) (v >>> 16));
        o.write((int) (v >>> 24));
    }
}
