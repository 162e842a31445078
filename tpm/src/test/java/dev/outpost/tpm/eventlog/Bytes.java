package dev.outpost.tpm.eventlog;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Little-endian building blocks for hand-written logs, independent of the code under test. */
final class Bytes {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    Bytes u8(int v) {
        out.write(v);
        return this;
    }

    Bytes u16(int v) {
        return u8(v).u8(v >>> 8);
    }

    Bytes u32(long v) {
        return u16((int) v & 0xFFFF).u16((int) (v >>> 16) & 0xFFFF);
    }

    Bytes u64(long v) {
        return u32(v & 0xFFFFFFFFL).u32(v >>> 32);
    }

    Bytes raw(byte[] b) {
        out.writeBytes(b);
        return this;
    }

    Bytes ascii(String s) {
        return raw(s.getBytes(StandardCharsets.US_ASCII));
    }

    Bytes utf16(String s) {
        return raw(s.getBytes(StandardCharsets.UTF_16LE));
    }

    Bytes zeros(int n) {
        return raw(new byte[n]);
    }

    byte[] bytes() {
        return out.toByteArray();
    }
}
