package dev.outpost.tpm.eventlog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;

import dev.outpost.tpm.HashAlg;

/**
 * Fuzz-style checks: whatever the bytes, parsing ends in a log or an EventLogException, quickly and without
 * large allocations. The timeouts only guard against hangs.
 */
class HostileLogTest {
    private static final Duration HANG_GUARD = Duration.ofSeconds(30);

    /** Parses, replays and describes; an EventLogException is a fine outcome, anything else fails the test. */
    private static boolean survives(byte[] bytes) {
        EventLog log;
        try {
            log = EventLog.parse(bytes);
        } catch (EventLogException e) {
            assertThat(e.getMessage()).contains("byte offset");
            assertThat(e.offset()).isBetween(0L, (long) bytes.length);
            return false;
        }
        PcrReplay.replay(log);
        for (Event e : log.events()) {
            assertThat(e.decoded().describe()).isNotNull();
        }
        return true;
    }

    /** A log that exercises the decoders, so mutations reach into event data too. */
    static byte[] richLog() {
        byte[] var = new Bytes().raw(new Guid("d719b2cb-3d3a-4596-a3bc-dad00e67656f").toBytes()).u64(2).u64(28 + 48)
                .utf16("db").raw(Guid.CERT_SHA256.toBytes()).u32(28 + 48).u32(0).u32(48).zeros(48).bytes();
        byte[] path = new Bytes().u8(4).u8(4).u16(4 + 8).utf16("\\a.e").u8(0x7F).u8(0xFF).u16(4).bytes();
        byte[] image = new Bytes().u64(0x1000).u64(0x2000).u64(0).u64(path.length).raw(path).bytes();
        byte[] handoff = new Bytes().u64(1).zeros(24).bytes();
        return EventLogWriter.cryptoAgile(HashAlg.SHA1, HashAlg.SHA256).startupLocality(3)
                .event(0, EventType.EV_S_CRTM_VERSION, "v\0".getBytes(StandardCharsets.UTF_16LE))
                .event(1, EventType.EV_EFI_HANDOFF_TABLES, handoff)
                .event(7, EventType.EV_EFI_VARIABLE_DRIVER_CONFIG, var)
                .event(4, EventType.EV_EFI_BOOT_SERVICES_APPLICATION, image)
                .event(8, EventType.EV_IPL, "grub_cmd: boot\0".getBytes(StandardCharsets.US_ASCII))
                .event(7, EventType.EV_SEPARATOR, new byte[4])
                .toBytes();
    }

    @Test
    void randomBytes() {
        assertTimeoutPreemptively(HANG_GUARD, () -> {
            Random rnd = new Random(20261123L);
            byte[] header = Arrays.copyOf(richLog(), 32 + 41);
            for (int i = 0; i < 20_000; i++) {
                byte[] noise = new byte[rnd.nextInt(600)];
                rnd.nextBytes(noise);
                survives(noise);
                // Behind a valid Spec ID header, the noise is read as crypto-agile records.
                byte[] agile = Arrays.copyOf(header, header.length + noise.length);
                System.arraycopy(noise, 0, agile, header.length, noise.length);
                survives(agile);
            }
        });
    }

    @Test
    void everyTruncationOfSyntheticLog() throws Exception {
        truncations(richLog());
    }

    @Test
    void everyTruncationOfRealLogs() throws Exception {
        truncations(TestData.log("tpm2-tools/event-sd-boot-fedora37.bin"));
        truncations(TestData.log("tpm2-tools/event-uefi-sha1-log.bin"));
    }

    /** Succeeds exactly at record boundaries; anywhere else it is a clean error. */
    private static void truncations(byte[] full) throws Exception {
        Set<Long> boundaries = new HashSet<>();
        for (Event e : EventLog.parse(full).events()) {
            boundaries.add(e.offset());
        }
        boundaries.remove(0L);
        boundaries.add((long) full.length);
        assertTimeoutPreemptively(HANG_GUARD, () -> {
            for (int len = 0; len <= full.length; len++) {
                assertThat(survives(Arrays.copyOf(full, len))).as("truncated to %d", len)
                        .isEqualTo(boundaries.contains((long) len));
            }
        });
    }

    @Test
    void singleByteAndBitMutations() throws Exception {
        byte[] rich = richLog();
        byte[] real = TestData.present() ? TestData.log("tpm2-tools/event-uefiservices.bin") : rich;
        assertTimeoutPreemptively(HANG_GUARD, () -> {
            for (byte[] base : new byte[][] {rich, real}) {
                for (int pos = 0; pos < base.length; pos++) {
                    for (int bit = 0; bit < 8; bit++) {
                        byte[] m = base.clone();
                        m[pos] ^= (byte) (1 << bit);
                        survives(m);
                    }
                    for (int v : new int[] {0x00, 0x7F, 0x80, 0xFF}) {
                        byte[] m = base.clone();
                        m[pos] = (byte) v;
                        survives(m);
                    }
                }
            }
        });
    }

    private static byte[] specIdRecord(long algorithms) {
        byte[] spec = new Bytes().ascii("Spec ID Event03\0").u32(0).u8(0).u8(2).u8(0).u8(2).u32(algorithms)
                .u16(0x000B).u16(32).u8(0).bytes();
        return new Bytes().u32(0).u32(3).zeros(20).u32(spec.length).raw(spec).bytes();
    }

    @Test
    void absurdLengths() {
        byte[] legacyHugeData = new Bytes().u32(0).u32(1).zeros(20).u32(0xFFFFFFFFL).zeros(8).bytes();
        assertThatThrownBy(() -> EventLog.parse(legacyHugeData)).isInstanceOf(EventLogException.class)
                .hasMessageContaining("offset 28").hasMessageContaining("event data size 4294967295");

        byte[] hugeDigestCount = new Bytes().raw(specIdRecord(1)).u32(4).u32(0x80000007L).u32(0xFFFFFFFFL).bytes();
        assertThatThrownBy(() -> EventLog.parse(hugeDigestCount)).isInstanceOf(EventLogException.class)
                .hasMessageContaining("4294967295 digests");

        byte[] hugeAlgorithmCount = specIdRecord(0xFFFFFFFFL);
        assertThatThrownBy(() -> EventLog.parse(hugeAlgorithmCount)).isInstanceOf(EventLogException.class)
                .hasMessageContaining("4294967295 algorithms");

        byte[] agileHugeData = new Bytes().raw(specIdRecord(1)).u32(4).u32(0x80000007L).u32(1).u16(0x000B)
                .zeros(32).u32(0xFFFFFFFFL).bytes();
        assertThatThrownBy(() -> EventLog.parse(agileHugeData)).isInstanceOf(EventLogException.class)
                .hasMessageContaining("event data size 4294967295");

        // Within the per-event limit but past the end of the log: checked before allocating.
        byte[] lyingSize = new Bytes().u32(0).u32(1).zeros(20).u32(1 << 20).zeros(8).bytes();
        assertThatThrownBy(() -> EventLog.parse(lyingSize)).isInstanceOf(EventLogException.class)
                .hasMessageContaining("offset 32").hasMessageContaining("needs 1048576 bytes but only 8 remain");
    }

    @Test
    void defaultEventCountLimitStopsAFloodOfTinyEvents() {
        EventLogWriter w = EventLogWriter.cryptoAgile(HashAlg.SHA256);
        java.util.Map<HashAlg, byte[]> zero = java.util.Map.of(HashAlg.SHA256, new byte[32]);
        for (int i = 0; i < Limits.DEFAULT.maxEvents(); i++) {
            w.event(1, EventType.EV_POST_CODE.value(), new byte[0], zero);
        }
        byte[] bytes = w.toBytes();
        assertTimeoutPreemptively(HANG_GUARD, () -> assertThatThrownBy(() -> EventLog.parse(bytes))
                .isInstanceOf(EventLogException.class).hasMessageContaining("more than 100000 events"));
    }
}
