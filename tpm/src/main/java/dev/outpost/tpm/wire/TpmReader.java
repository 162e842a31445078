package dev.outpost.tpm.wire;

import java.util.Arrays;

/**
 * Big-endian reader over TPM marshalled bytes. Every length is checked against what is left before
 * anything is allocated, so hostile input costs at most its own size.
 */
public final class TpmReader {
    private final byte[] buf;
    private final int end;
    private final String what;
    private int pos;

    public TpmReader(byte[] buf, String what) {
        this(buf, 0, buf.length, what);
    }

    private TpmReader(byte[] buf, int start, int end, String what) {
        this.buf = buf;
        this.pos = start;
        this.end = end;
        this.what = what;
    }

    public int position() {
        return pos;
    }

    public int remaining() {
        return end - pos;
    }

    private void need(int n, String field) throws TpmFormatException {
        if (n < 0 || n > end - pos) {
            throw error(field + ": needs " + n + " bytes, " + (end - pos) + " left");
        }
    }

    public TpmFormatException error(String reason) {
        return new TpmFormatException(what + " at offset " + pos + ": " + reason);
    }

    public int u8(String field) throws TpmFormatException {
        need(1, field);
        return buf[pos++] & 0xFF;
    }

    public int u16(String field) throws TpmFormatException {
        need(2, field);
        int v = ((buf[pos] & 0xFF) << 8) | (buf[pos + 1] & 0xFF);
        pos += 2;
        return v;
    }

    public int u32(String field) throws TpmFormatException {
        need(4, field);
        int v = ((buf[pos] & 0xFF) << 24) | ((buf[pos + 1] & 0xFF) << 16) | ((buf[pos + 2] & 0xFF) << 8) | (buf[pos + 3] & 0xFF);
        pos += 4;
        return v;
    }

    public long u64(String field) throws TpmFormatException {
        long hi = u32(field) & 0xFFFFFFFFL;
        long lo = u32(field) & 0xFFFFFFFFL;
        return (hi << 32) | lo;
    }

    public byte[] bytes(int n, String field) throws TpmFormatException {
        need(n, field);
        byte[] out = Arrays.copyOfRange(buf, pos, pos + n);
        pos += n;
        return out;
    }

    /** A TPM2B: u16 size then that many bytes, rejected when over {@code max}. */
    public byte[] sized(String field, int max) throws TpmFormatException {
        int n = u16(field + ".size");
        if (n > max) {
            pos -= 2;
            throw error(field + ": size " + n + " over the limit of " + max);
        }
        return bytes(n, field);
    }

    /** A reader over the next {@code n} bytes, which this reader skips. */
    public TpmReader sub(int n, String field) throws TpmFormatException {
        need(n, field);
        TpmReader r = new TpmReader(buf, pos, pos + n, what + "." + field);
        pos += n;
        return r;
    }

    public void expectEnd() throws TpmFormatException {
        if (pos != end) {
            throw error((end - pos) + " trailing bytes");
        }
    }
}
