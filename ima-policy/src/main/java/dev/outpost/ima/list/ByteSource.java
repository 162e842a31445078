package dev.outpost.ima.list;

import java.io.IOException;
import java.io.InputStream;

/** Buffered little-endian reads that know their offset, so every error can say where the input went wrong. */
final class ByteSource {
    private static final int MAX_BUFFER = 64 * 1024;
    private static final int MIN_BUFFER = 1024;

    private final InputStream in;
    private final byte[] buf;
    private int pos;
    private int limit;
    private long consumed;

    ByteSource(InputStream in) {
        this.in = in;
        // An attestation's new entries are a few KB in memory: a 64 KB buffer for each was a sixth of what the
        // appliance allocated under load. Reads never ask for more than 4 bytes at once, so any size works.
        int hint;
        try {
            hint = in.available();
        } catch (IOException e) {
            hint = 0;
        }
        this.buf = new byte[hint <= 0 ? MAX_BUFFER : Math.max(MIN_BUFFER, Math.min(MAX_BUFFER, hint))];
    }

    long offset() {
        return consumed + pos;
    }

    /** True when no byte is left; used only at entry boundaries, where end of input is legal. */
    boolean atEnd() throws IOException {
        return !fill(1);
    }

    private boolean fill(int want) throws IOException {
        if (limit - pos >= want) {
            return true;
        }
        if (pos > 0) {
            System.arraycopy(buf, pos, buf, 0, limit - pos);
            consumed += pos;
            limit -= pos;
            pos = 0;
        }
        while (limit < want) {
            int n = in.read(buf, limit, buf.length - limit);
            if (n < 0) {
                return false;
            }
            limit += n;
        }
        return true;
    }

    long u32(String what) throws IOException {
        if (!fill(4)) {
            throw truncated(what);
        }
        long v = (buf[pos] & 0xffL) | (buf[pos + 1] & 0xffL) << 8 | (buf[pos + 2] & 0xffL) << 16
                | (buf[pos + 3] & 0xffL) << 24;
        pos += 4;
        return v;
    }

    void read(byte[] dst, int off, int len, String what) throws IOException {
        while (len > 0) {
            if (pos == limit && !fill(1)) {
                throw truncated(what);
            }
            int n = Math.min(len, limit - pos);
            System.arraycopy(buf, pos, dst, off, n);
            pos += n;
            off += n;
            len -= n;
        }
    }

    private byte[] lineBuf = new byte[256];

    /** The buffer {@link #lineInto} fills; valid up to the length it returned, until the next call. */
    byte[] lineBuf() {
        return lineBuf;
    }

    /**
     * Like {@link #line}, into a buffer reused from line to line: a list of 500,000 lines otherwise allocates two
     * arrays per line just to hand the bytes over. Returns the line's length, or -1 at end of input. The buffer
     * grows only as far as {@code max}, so a hostile line costs at most that.
     */
    int lineInto(int max, long lineNo) throws IOException {
        if (!fill(1)) {
            return -1;
        }
        int accLen = 0;
        while (true) {
            int i = pos;
            while (i < limit && buf[i] != '\n') {
                i++;
            }
            int n = i - pos;
            if ((long) accLen + n > max) {
                throw new ImaFormatException("line " + lineNo + " at offset " + offset() + " is longer than " + max
                        + " bytes");
            }
            if (lineBuf.length < accLen + n) {
                lineBuf = java.util.Arrays.copyOf(lineBuf, (int) Math.min(max, Math.max(accLen + n, 2L * lineBuf.length)));
            }
            System.arraycopy(buf, pos, lineBuf, accLen, n);
            accLen += n;
            pos = i;
            if (i < limit) {
                pos++;
                return accLen;
            }
            if (!fill(1)) {
                return accLen;
            }
        }
    }

    /**
     * The next line without its terminator, or null at end of input. A line longer than {@code max} bytes is
     * refused before it is buffered, so a file without newlines cannot exhaust memory.
     */
    byte[] line(int max, long lineNo) throws IOException {
        if (!fill(1)) {
            return null;
        }
        byte[] acc = null;
        int accLen = 0;
        while (true) {
            int i = pos;
            while (i < limit && buf[i] != '\n') {
                i++;
            }
            int n = i - pos;
            if ((long) accLen + n > max) {
                throw new ImaFormatException("line " + lineNo + " at offset " + offset() + " is longer than " + max
                        + " bytes");
            }
            if (acc == null) {
                acc = new byte[Math.max(n, 256)];
            } else if (acc.length < accLen + n) {
                acc = java.util.Arrays.copyOf(acc, Math.max(accLen + n, acc.length * 2));
            }
            System.arraycopy(buf, pos, acc, accLen, n);
            accLen += n;
            pos = i;
            if (i < limit) {
                pos++;
                return java.util.Arrays.copyOf(acc, accLen);
            }
            if (!fill(1)) {
                return java.util.Arrays.copyOf(acc, accLen);
            }
        }
    }

    private ImaFormatException truncated(String what) {
        return new ImaFormatException("binary IMA list truncated at offset " + offset() + " while reading " + what);
    }
}
