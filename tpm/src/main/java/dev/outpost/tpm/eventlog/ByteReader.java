package dev.outpost.tpm.eventlog;

/**
 * Little-endian reads over a byte array window. Every length is checked against what is left before
 * anything is allocated, so a lying length field costs an exception, not memory.
 */
final class ByteReader {
    private final byte[] buf;
    private final int end;
    private int pos;

    ByteReader(byte[] buf) {
        this(buf, 0, buf.length);
    }

    ByteReader(byte[] buf, int off, int len) {
        this.buf = buf;
        this.pos = off;
        this.end = off + len;
    }

    int offset() {
        return pos;
    }

    int remaining() {
        return end - pos;
    }

    boolean hasRemaining() {
        return pos < end;
    }

    private void need(long n, String what) throws EventLogException {
        if (n < 0 || n > remaining()) {
            throw new EventLogException(pos, what + " needs " + Long.toUnsignedString(n) + " bytes but only "
                    + remaining() + " remain");
        }
    }

    int u8(String what) throws EventLogException {
        need(1, what);
        return buf[pos++] & 0xFF;
    }

    int u16(String what) throws EventLogException {
        need(2, what);
        int v = (buf[pos] & 0xFF) | (buf[pos + 1] & 0xFF) << 8;
        pos += 2;
        return v;
    }

    long u32(String what) throws EventLogException {
        need(4, what);
        long v = (buf[pos] & 0xFFL) | (buf[pos + 1] & 0xFFL) << 8 | (buf[pos + 2] & 0xFFL) << 16
                | (buf[pos + 3] & 0xFFL) << 24;
        pos += 4;
        return v;
    }

    /** Unsigned 64-bit values come back as a long that may be negative; callers compare with Long.compareUnsigned. */
    long u64(String what) throws EventLogException {
        long lo = u32(what);
        long hi = u32(what);
        return lo | hi << 32;
    }

    byte[] bytes(long n, String what) throws EventLogException {
        need(n, what);
        byte[] out = new byte[(int) n];
        System.arraycopy(buf, pos, out, 0, (int) n);
        pos += (int) n;
        return out;
    }

    void skip(long n, String what) throws EventLogException {
        need(n, what);
        pos += (int) n;
    }

    /** A reader over the next {@code n} bytes, which this reader then skips. */
    ByteReader slice(long n, String what) throws EventLogException {
        need(n, what);
        ByteReader s = new ByteReader(buf, pos, (int) n);
        pos += (int) n;
        return s;
    }

    Guid guid(String what) throws EventLogException {
        return Guid.of(bytes(16, what));
    }
}
