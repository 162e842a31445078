package dev.outpost.agent.attest;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The entries of a binary IMA list from a given index on: the appliance has verified the ones before. Only
 * entry boundaries are read here (the appliance parses and judges the entries); lengths are bounded so a
 * corrupt list fails instead of allocating.
 */
final class ImaSlice {
    private static final int HASH = 20;
    private static final int MAX_NAME = 15;
    private static final int MAX_DATA = 1 << 20;

    private ImaSlice() {
    }

    static byte[] from(byte[] list, long firstIndex) {
        ByteBuffer b = ByteBuffer.wrap(list).order(ByteOrder.LITTLE_ENDIAN);
        long index = 0;
        while (index < firstIndex) {
            if (!b.hasRemaining()) {
                // Fewer entries than the appliance has verified: the device rebooted since. Send nothing; the
                // quote's resetCount tells the appliance, which then asks for the whole list.
                return new byte[0];
            }
            skipEntry(b);
            index++;
        }
        return Arrays.copyOfRange(list, b.position(), list.length);
    }

    private static void skipEntry(ByteBuffer b) {
        need(b, 4 + HASH + 4);
        b.position(b.position() + 4 + HASH);
        int nameLen = b.getInt();
        if (nameLen < 1 || nameLen > MAX_NAME) {
            throw new IllegalStateException("IMA list at offset " + b.position() + ": template name length " + nameLen);
        }
        need(b, nameLen);
        byte[] name = new byte[nameLen];
        b.get(name);
        if ("ima".equals(new String(name, StandardCharsets.US_ASCII))) {
            // The legacy template: a SHA-1 digest and a length-prefixed file name, no template-data length.
            need(b, HASH + 4);
            b.position(b.position() + HASH);
            skipSized(b);
        } else {
            skipSized(b);
        }
    }

    private static void skipSized(ByteBuffer b) {
        need(b, 4);
        int len = b.getInt();
        if (len < 0 || len > MAX_DATA) {
            throw new IllegalStateException("IMA list at offset " + b.position() + ": length " + len);
        }
        need(b, len);
        b.position(b.position() + len);
    }

    private static void need(ByteBuffer b, int n) {
        if (b.remaining() < n) {
            throw new IllegalStateException("IMA list truncated at offset " + b.position());
        }
    }
}
