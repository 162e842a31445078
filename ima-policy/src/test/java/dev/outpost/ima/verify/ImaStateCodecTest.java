package dev.outpost.ima.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.outpost.tpm.HashAlg;

class ImaStateCodecTest {
    private static final byte[] PCR = filled(32, 0x11);
    private static final byte[] PADDED = filled(32, 0x22);
    private static final ImaState STATE = new ImaState("boot-ü-7", HashAlg.SHA256, 1234, PCR, PADDED,
            List.of(filled(300, 0x33), new byte[0], filled(5, 0x44)), 9);

    @Test
    void aStateComesBackAsItWent() {
        ImaState back = ImaStateCodec.decode(ImaStateCodec.encode(STATE));
        assertThat(back.bootId()).isEqualTo("boot-ü-7");
        assertThat(back.bank()).isEqualTo(HashAlg.SHA256);
        assertThat(back.nextIndex()).isEqualTo(1234);
        assertThat(back.violations()).isEqualTo(9);
        assertThat(back.pcr()).isEqualTo(PCR);
        assertThat(back.paddedPcr()).isEqualTo(PADDED);
        assertThat(back.learnedKeys()).hasSize(3);
        for (int i = 0; i < 3; i++) {
            assertThat(back.learnedKeys().get(i)).isEqualTo(STATE.learnedKeys().get(i));
        }
        ImaState sha1 = ImaState.initial("b", HashAlg.SHA1);
        assertThat(ImaStateCodec.decode(ImaStateCodec.encode(sha1)).pcr()).hasSize(20);
    }

    @Test
    void everyTruncationAndATrailingByteAreRefused() {
        byte[] b = ImaStateCodec.encode(STATE);
        for (int n = 0; n < b.length; n++) {
            byte[] cut = Arrays.copyOf(b, n);
            assertThatThrownBy(() -> ImaStateCodec.decode(cut)).as("first %d of %d bytes", n, b.length)
                    .isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> ImaStateCodec.decode(Arrays.copyOf(b, b.length + 1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("after the IMA state");
    }

    @Test
    void lengthsVersionsBanksAndInconsistentStatesAreRefused() {
        byte[] good = ImaStateCodec.encode(ImaState.initial("b", HashAlg.SHA256));
        byte[] version = good.clone();
        version[0] = 3;
        assertThatThrownBy(() -> ImaStateCodec.decode(version)).hasMessageContaining("version 3");
        byte[] bank = good.clone();
        bank[4] = 0x7f; // the bank's TPM_ALG_ID follows the version, the boot id's length and "b"
        assertThatThrownBy(() -> ImaStateCodec.decode(bank)).hasMessageContaining("unknown bank");

        // one learned key that claims more bytes than the limit, and a negative length
        for (int claimed : new int[] {64 * 1024 + 1, -1}) {
            ByteBuffer b = ByteBuffer.allocate(good.length + 4);
            b.put(good, 0, good.length - 2).putShort((short) 1).putInt(claimed);
            assertThatThrownBy(() -> ImaStateCodec.decode(b.array())).as("%d", claimed)
                    .hasMessageContaining("the limit is");
        }
        // more violations than entries: the record's own check
        ByteBuffer v = ByteBuffer.wrap(good.clone());
        v.putLong(1 + 2 + 1 + 2 + 8, 5);
        assertThatThrownBy(() -> ImaStateCodec.decode(v.array())).hasMessageContaining("inconsistent");
        assertThatThrownBy(() -> ImaStateCodec.decode(new byte[0])).isInstanceOf(IllegalArgumentException.class);
        byte[] notUtf8 = good.clone();
        notUtf8[3] = (byte) 0xff;
        assertThatThrownBy(() -> ImaStateCodec.decode(notUtf8)).hasMessageContaining("UTF-8");
    }

    @Test
    void statesStoredAsJsonBeforeStillDecode() {
        String v1 = "{\"v\":1,\"bootId\":\"b\",\"bank\":\"sha1\",\"nextIndex\":7,\"pcr\":\"" + "00".repeat(20)
                + "\",\"paddedPcr\":\"" + "00".repeat(20) + "\",\"violations\":3,\"learnedKeys\":[\"AQID\"]}";
        ImaState s = ImaStateCodec.decode(v1.getBytes(StandardCharsets.UTF_8));
        assertThat(s.nextIndex()).isEqualTo(7);
        assertThat(s.violations()).isEqualTo(3);
        assertThat(s.learnedKeys().get(0)).containsExactly(1, 2, 3);
        // Written before the count existed: the device keeps its place in the list.
        ImaState old = ImaStateCodec.decode(v1.replace(",\"violations\":3", "").getBytes(StandardCharsets.UTF_8));
        assertThat(old.nextIndex()).isEqualTo(7);
        assertThat(old.violations()).isZero();
        for (String bad : List.of("-1", "8", "1.5", "\"3\"")) {
            assertThatThrownBy(() -> ImaStateCodec.decode(v1.replace("\"violations\":3", "\"violations\":" + bad)
                    .getBytes(StandardCharsets.UTF_8))).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> ImaStateCodec.decode("{\"v\":2}".getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static byte[] filled(int n, int value) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) value);
        return b;
    }
}
