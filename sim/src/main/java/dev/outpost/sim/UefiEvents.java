package dev.outpost.sim;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import dev.outpost.tpm.eventlog.Guid;

/** Byte layouts of the UEFI structures firmware puts into event data (UEFI 2.x and TCG PFP). */
final class UefiEvents {
    static final Guid EFI_GLOBAL_VARIABLE = new Guid("8be4df61-93ca-11d2-aa0d-00e098032b8c");
    static final Guid IMAGE_SECURITY_DATABASE = new Guid("d719b2cb-3d3a-4596-a3bc-dad00e67656f");

    private UefiEvents() {
    }

    /** UEFI_VARIABLE_DATA: the whole structure is what firmware hashes for EV_EFI_VARIABLE_DRIVER_CONFIG. */
    static byte[] variable(Guid vendor, String name, byte[] value) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.writeBytes(vendor.toBytes());
        u64(o, name.length());
        u64(o, value.length);
        o.writeBytes(name.getBytes(StandardCharsets.UTF_16LE));
        o.writeBytes(value);
        return o.toByteArray();
    }

    /** One EFI_SIGNATURE_LIST per certificate: X.509 entries differ in size, and a list has one entry size. */
    static byte[] x509Lists(List<byte[]> certs, Guid owner) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (byte[] c : certs) {
            o.writeBytes(signatureList(Guid.CERT_X509, List.of(c), owner));
        }
        return o.toByteArray();
    }

    static byte[] sha256List(List<byte[]> hashes, Guid owner) {
        return hashes.isEmpty() ? new byte[0] : signatureList(Guid.CERT_SHA256, hashes, owner);
    }

    private static byte[] signatureList(Guid type, List<byte[]> entries, Guid owner) {
        int size = 16 + entries.get(0).length;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.writeBytes(type.toBytes());
        u32(o, 28 + (long) size * entries.size());
        u32(o, 0);  // SignatureHeaderSize
        u32(o, size);
        for (byte[] e : entries) {
            if (16 + e.length != size) {
                throw new IllegalArgumentException("entries of one signature list must have one size");
            }
            o.writeBytes(owner.toBytes());
            o.writeBytes(e);
        }
        return o.toByteArray();
    }

    /**
     * UEFI_IMAGE_LOAD_EVENT with a one-node media file-path device path, so tools can show which image it was.
     * The load address is fixed: it is not hashed, and a stable log is easier to diff.
     */
    static byte[] imageLoad(String file, long imageLength) {
        ByteArrayOutputStream path = new ByteArrayOutputStream();
        byte[] name = (file + "\0").getBytes(StandardCharsets.UTF_16LE);
        path.write(4);  // MEDIA_DEVICE_PATH
        path.write(4);  // MEDIA_FILEPATH_DP
        path.write((name.length + 4) & 0xff);
        path.write((name.length + 4) >>> 8);
        path.writeBytes(name);
        path.writeBytes(new byte[] {0x7f, (byte) 0xff, 4, 0});  // END_ENTIRE_DEVICE_PATH
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        u64(o, 0x7000_0000L);
        u64(o, imageLength);
        u64(o, 0);
        u64(o, path.size());
        o.writeBytes(path.toByteArray());
        return o.toByteArray();
    }

    /** UEFI_PLATFORM_FIRMWARE_BLOB: base and length only; the digest is of the firmware volume itself. */
    static byte[] firmwareBlob(long base, long length) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        u64(o, base);
        u64(o, length);
        return o.toByteArray();
    }

    static byte[] utf16z(String s) {
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
