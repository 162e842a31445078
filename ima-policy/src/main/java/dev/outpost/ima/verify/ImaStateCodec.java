package dev.outpost.ima.verify;

import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.ima.list.Hex;
import dev.outpost.tpm.HashAlg;

/**
 * The form of {@link ImaState} in the appliance's store. A state that does not decode is not used (the caller
 * verifies from entry 0 again).
 *
 * <p>Written as version 2, a fixed binary layout: the state is read at every challenge and every evidence and
 * written at every verdict, and the JSON of version 1 cost ~3 % of the appliance's CPU per attestation at a site's
 * steady rate (parsed into a tree twice, built and written once). Version 1 (JSON, first byte {@code '{'}) is
 * still read: states stored before keep their place in the list.
 *
 * <pre>
 * u8  2                     version
 * u16 n, n bytes UTF-8      bootId (n at most 1024)
 * u16                       bank (TPM_ALG_ID)
 * i64 nextIndex, i64 violations
 * pcr, paddedPcr            the bank's digest size each
 * u16 k                     learned keys (at most 1024), each: i32 length (at most 64 KiB), bytes
 * </pre>
 */
public final class ImaStateCodec {
    private static final byte VERSION = 2;
    private static final int MAX_BOOT_ID_BYTES = 1024;
    private static final int MAX_KEYS = 1024;
    private static final int MAX_KEY_BYTES = 64 * 1024;
    private static final ObjectMapper MAPPER = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(8)
                    .maxDocumentLength(4L << 20).build())
            .build());

    private ImaStateCodec() {
    }

    public static byte[] encode(ImaState s) {
        byte[] bootId = s.bootId().getBytes(StandardCharsets.UTF_8);
        List<byte[]> keys = s.learnedKeys();
        if (bootId.length > MAX_BOOT_ID_BYTES || keys.size() > MAX_KEYS) {
            throw new IllegalArgumentException("IMA state over the codec's limits (boot id " + bootId.length
                    + " bytes, " + keys.size() + " learned keys)");
        }
        int size = 1 + 2 + bootId.length + 2 + 8 + 8 + 2 * s.bank().digestSize() + 2;
        for (byte[] k : keys) {
            if (k.length > MAX_KEY_BYTES) {
                throw new IllegalArgumentException("learned key of " + k.length + " bytes, the limit is " + MAX_KEY_BYTES);
            }
            size += 4 + k.length;
        }
        ByteBuffer b = ByteBuffer.allocate(size);
        b.put(VERSION).putShort((short) bootId.length).put(bootId).putShort((short) s.bank().algId())
                .putLong(s.nextIndex()).putLong(s.violations()).put(s.pcr()).put(s.paddedPcr())
                .putShort((short) keys.size());
        for (byte[] k : keys) {
            b.putInt(k.length).put(k);
        }
        return b.array();
    }

    /** @throws IllegalArgumentException when the bytes are not a state this version writes or wrote */
    public static ImaState decode(byte[] stored) {
        if (stored == null || stored.length == 0) {
            throw new IllegalArgumentException("empty IMA state");
        }
        if (stored[0] == '{') {
            return decodeJson(stored);
        }
        if (stored[0] != VERSION) {
            throw new IllegalArgumentException("unknown IMA state version " + stored[0]);
        }
        try {
            ByteBuffer b = ByteBuffer.wrap(stored, 1, stored.length - 1);
            String bootId = utf8(bytes(b, Short.toUnsignedInt(b.getShort()), MAX_BOOT_ID_BYTES, "boot id"));
            int algId = Short.toUnsignedInt(b.getShort());
            HashAlg bank = HashAlg.fromAlgId(algId).orElseThrow(
                    () -> new IllegalArgumentException("unknown bank 0x" + Integer.toHexString(algId)));
            long nextIndex = b.getLong();
            long violations = b.getLong();
            byte[] pcr = bytes(b, bank.digestSize(), bank.digestSize(), "pcr");
            byte[] padded = bytes(b, bank.digestSize(), bank.digestSize(), "paddedPcr");
            int count = Short.toUnsignedInt(b.getShort());
            if (count > MAX_KEYS) {
                throw new IllegalArgumentException(count + " learned keys, the limit is " + MAX_KEYS);
            }
            List<byte[]> keys = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                keys.add(bytes(b, b.getInt(), MAX_KEY_BYTES, "learned key"));
            }
            if (b.hasRemaining()) {
                throw new IllegalArgumentException(b.remaining() + " bytes after the IMA state");
            }
            // The record's constructor refuses a state that does not add up (negative index, more violations
            // than entries, PCRs of the wrong size).
            return new ImaState(bootId, bank, nextIndex, pcr, padded, keys, violations);
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("IMA state truncated", e);
        }
    }

    private static byte[] bytes(ByteBuffer b, int length, int max, String what) {
        if (length < 0 || length > max) {
            throw new IllegalArgumentException(what + " of " + length + " bytes, the limit is " + max);
        }
        byte[] out = new byte[length];
        b.get(out);
        return out;
    }

    private static String utf8(byte[] b) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("boot id is not UTF-8", e);
        }
    }

    /** Version 1, written before 2026-12-07. */
    private static ImaState decodeJson(byte[] json) {
        try {
            JsonNode o = MAPPER.readTree(json);
            if (o == null || o.path("v").asInt() != 1) {
                throw new IllegalArgumentException("unknown IMA state version");
            }
            HashAlg bank = HashAlg.fromName(o.path("bank").asText()).orElseThrow(
                    () -> new IllegalArgumentException("unknown bank"));
            List<byte[]> keys = new ArrayList<>();
            for (JsonNode k : o.path("learnedKeys")) {
                keys.add(Base64.getDecoder().decode(k.asText()));
            }
            byte[] pcr = Hex.decodeOrNull(o.path("pcr").asText());
            byte[] padded = Hex.decodeOrNull(o.path("paddedPcr").asText());
            if (pcr == null || padded == null || !o.path("bootId").isTextual()) {
                throw new IllegalArgumentException("malformed PCR or boot id");
            }
            // States stored before the count existed have none: their count starts from 0 at the next pass. It is
            // a figure for operators, never a reason to pass or fail, so this costs no safety.
            JsonNode v = o.path("violations");
            if (!v.isMissingNode() && !v.canConvertToExactIntegral()) {
                throw new IllegalArgumentException("violations is not an integer");
            }
            return new ImaState(o.get("bootId").asText(), bank, o.path("nextIndex").asLong(-1), pcr, padded, keys,
                    v.isMissingNode() ? 0 : v.asLong(-1));
        } catch (IOException e) {
            throw new IllegalArgumentException("IMA state is not valid JSON", e);
        }
    }
}
