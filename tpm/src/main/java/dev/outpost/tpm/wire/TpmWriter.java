package dev.outpost.tpm.wire;

import java.io.ByteArrayOutputStream;

/** Big-endian writer for TPM marshalled structures. */
public final class TpmWriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream(256);

    public TpmWriter u8(int v) {
        out.write(v);
        return this;
    }

    public TpmWriter u16(int v) {
        out.write(v >>> 8);
        out.write(v);
        return this;
    }

    public TpmWriter u32(int v) {
        u16(v >>> 16);
        return u16(v);
    }

    public TpmWriter u64(long v) {
        u32((int) (v >>> 32));
        return u32((int) v);
    }

    public TpmWriter bytes(byte[] b) {
        out.write(b, 0, b.length);
        return this;
    }

    /** A TPM2B: u16 size then the bytes. */
    public TpmWriter sized(byte[] b) {
        if (b.length > 0xFFFF) {
            throw new IllegalArgumentException("TPM2B over 65535 bytes");
        }
        u16(b.length);
        return bytes(b);
    }

    public byte[] toBytes() {
        return out.toByteArray();
    }
}
