package dev.outpost.central;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Random;

import org.junit.jupiter.api.Test;

import dev.outpost.central.api.JsonCodec;
import dev.outpost.central.api.Requests;
import dev.outpost.central.ca.CsrPolicy;
import dev.outpost.central.refusal.Refusal;
import dev.outpost.spiffe.CsrException;

/**
 * Hostile input to central's own parsers (the site API's JSON binding, the CSR policy): mutated valid inputs and
 * random bytes, fixed seeds. Every outcome is a value or the parser's own refusal, never another exception.
 */
class ParserFuzzTest {
    private static final int ROUNDS = 3000;

    @Test
    void jsonBindingRefusesOrAcceptsNeverThrowsOtherwise() throws Exception {
        Random rnd = new Random(13);
        byte[] valid = ("{\"v\":1,\"site\":\"a\",\"token\":\"t\",\"csr\":\"" + "x".repeat(40) + "\"}").getBytes(StandardCharsets.US_ASCII);
        byte[] alphabet = "{}[]\":,0123456789.-+eEtrufalsn \\\u00ff\u0000ab".getBytes(StandardCharsets.ISO_8859_1);
        int refused = 0;
        for (int i = 0; i < ROUNDS; i++) {
            byte[] in = mutate(valid, rnd, alphabet);
            try {
                JsonCodec.decode(in, Requests.TokenJoin.class);
            } catch (Refusal r) {
                assertThat(r.code()).isEqualTo(Refusal.Code.BAD_REQUEST);
                assertThat(r.getMessage()).doesNotContain("\tat ").hasSizeLessThan(400);
                refused++;
            }
        }
        assertThat(refused).isGreaterThan(ROUNDS / 2);
        // Deep nesting and huge numbers are refused by the stream limits, not by running out of stack or memory.
        String deep = "{\"v\":" + "[".repeat(5000) + "]".repeat(5000) + "}";
        assertRefused(deep.getBytes(StandardCharsets.US_ASCII));
        assertRefused(("{\"v\":" + "9".repeat(5000) + "}").getBytes(StandardCharsets.US_ASCII));
        assertRefused("{\"v\":1.0}".getBytes(StandardCharsets.US_ASCII));
        assertRefused("{\"v\":1} {}".getBytes(StandardCharsets.US_ASCII));
        assertRefused("null".getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void csrPolicyRefusesMutatedCsrsWithItsOwnException() throws Exception {
        Random rnd = new Random(29);
        String pem = Csrs.plain(Csrs.ecKey());
        String b64 = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        byte[] der = java.util.Base64.getDecoder().decode(b64);
        int accepted = 0;
        for (int i = 0; i < ROUNDS; i++) {
            byte[] m = der.clone();
            int flips = 1 + rnd.nextInt(4);
            for (int f = 0; f < flips; f++) {
                m[rnd.nextInt(m.length)] = (byte) rnd.nextInt(256);
            }
            if (rnd.nextInt(10) == 0) {
                m = java.util.Arrays.copyOf(m, rnd.nextInt(m.length));
            }
            String mutated = dev.outpost.tpm.keys.Pem.encode("CERTIFICATE REQUEST", m);
            try {
                CsrPolicy.keyOf(mutated, "spiffe://corp.outpost.test");
                accepted++;
            } catch (CsrException e) {
                assertThat(e.getMessage()).isNotBlank();
            }
        }
        // A flipped byte in the signed part breaks the proof of possession; only flips in the signature's
        // unused encodings could survive, and they are rare.
        assertThat(accepted).isLessThan(ROUNDS / 20);
    }

    private static void assertRefused(byte[] in) {
        try {
            JsonCodec.decode(in, Requests.TokenJoin.class);
            throw new AssertionError("accepted " + new String(in, StandardCharsets.ISO_8859_1).substring(0, Math.min(40, in.length)));
        } catch (Refusal r) {
            assertThat(r.code()).isEqualTo(Refusal.Code.BAD_REQUEST);
        }
    }

    private static byte[] mutate(byte[] valid, Random rnd, byte[] alphabet) {
        switch (rnd.nextInt(4)) {
            case 0: {
                byte[] b = new byte[rnd.nextInt(64)];
                rnd.nextBytes(b);
                return b;
            }
            case 1: {
                byte[] m = valid.clone();
                m[rnd.nextInt(m.length)] = alphabet[rnd.nextInt(alphabet.length)];
                return m;
            }
            case 2:
                return java.util.Arrays.copyOf(valid, rnd.nextInt(valid.length));
            default: {
                byte[] m = valid.clone();
                for (int k = 0; k < 3; k++) {
                    m[rnd.nextInt(m.length)] = alphabet[rnd.nextInt(alphabet.length)];
                }
                return m;
            }
        }
    }
}
