package dev.outpost.tpm.eventlog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.outpost.tpm.HashAlg;

/** Logs written by EventLogWriter or by hand, with expected PCRs computed here with plain JCA digests. */
class SyntheticLogTest {
    private static final byte[] SEPARATOR = new byte[4];

    private static byte[] sha(String alg, byte[]... parts) throws Exception {
        MessageDigest md = MessageDigest.getInstance(alg);
        for (byte[] p : parts) {
            md.update(p);
        }
        return md.digest();
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void writerRoundTrips() throws Exception {
        byte[] bytes = EventLogWriter.cryptoAgile(HashAlg.SHA1, HashAlg.SHA256)
                .event(0, EventType.EV_S_CRTM_VERSION, "1.0\0".getBytes(StandardCharsets.UTF_16LE))
                .event(4, EventType.EV_EFI_ACTION, ascii("Calling EFI Application from Boot Option"))
                .event(7, EventType.EV_SEPARATOR, SEPARATOR)
                .event(9, 0x1234, ascii("custom"), Map.of(HashAlg.SHA256, new byte[32]))
                .toBytes();
        EventLog log = EventLog.parse(bytes);
        assertThat(log.format()).isEqualTo(EventLog.Format.CRYPTO_AGILE);
        assertThat(log.specId()).get().satisfies(s -> assertThat(s.algorithms()).containsExactly(
                new SpecId.AlgorithmSize(0x0004, 20), new SpecId.AlgorithmSize(0x000B, 32)));
        assertThat(log.events()).hasSize(5);
        Event crtm = log.events().get(1);
        assertThat(crtm.type()).isEqualTo(EventType.EV_S_CRTM_VERSION);
        assertThat(crtm.decoded()).isEqualTo(new EventData.Text("1.0"));
        assertThat(crtm.digest(HashAlg.SHA1)).get().isEqualTo(sha("SHA-1", crtm.data()));
        assertThat(log.events().get(2).decoded())
                .isEqualTo(new EventData.Text("Calling EFI Application from Boot Option"));
        assertThat(log.events().get(3).decoded()).isEqualTo(new EventData.Separator(0));
        Event custom = log.events().get(4);
        assertThat(custom.type()).isEqualTo(EventType.UNKNOWN);
        assertThat(custom.typeName()).isEqualTo("0x00001234");
        assertThat(custom.digests()).hasSize(1);
        assertThat(custom.offset()).isEqualTo(bytes.length - (4 + 4 + 4 + 2 + 32 + 4 + 6));
    }

    @Test
    void replayEqualsIndependentComputation() throws Exception {
        byte[] a = ascii("first");
        byte[] b = ascii("second");
        byte[] bytes = EventLogWriter.cryptoAgile(HashAlg.SHA256, HashAlg.SHA384)
                .event(4, EventType.EV_EFI_ACTION, a)
                .event(4, EventType.EV_EFI_ACTION, b)
                .event(5, EventType.EV_NO_ACTION, ascii("ignored\0"))
                .event(7, EventType.EV_SEPARATOR, SEPARATOR)
                .toBytes();
        ReplayResult r = PcrReplay.replay(EventLog.parse(bytes));
        byte[] pcr4 = sha("SHA-256", sha("SHA-256", new byte[32], sha("SHA-256", a)), sha("SHA-256", b));
        byte[] pcr7 = sha("SHA-384", new byte[48], sha("SHA-384", SEPARATOR));
        assertThat(r.banks()).containsExactly(HashAlg.SHA256, HashAlg.SHA384);
        assertThat(r.pcrs(HashAlg.SHA256)).containsOnlyKeys(4, 7);
        assertThat(r.pcrs(HashAlg.SHA256).get(4)).isEqualTo(pcr4);
        assertThat(r.pcrs(HashAlg.SHA384).get(7)).isEqualTo(pcr7);
        assertThat(r.touched(HashAlg.SHA384)).containsExactly(4, 7);
        assertThat(r.pcrs(HashAlg.SHA1)).isEmpty();
    }

    @Test
    void startupLocalitySeedsPcr0() throws Exception {
        byte[] crtm = ascii("crtm");
        byte[] bytes = EventLogWriter.cryptoAgile(HashAlg.SHA256).startupLocality(4)
                .event(0, EventType.EV_S_CRTM_CONTENTS, crtm).toBytes();
        ReplayResult r = PcrReplay.replay(EventLog.parse(bytes));
        byte[] init = new byte[32];
        init[31] = 4;
        assertThat(r.startupLocality()).isEqualTo(4);
        assertThat(r.pcrs(HashAlg.SHA256).get(0)).isEqualTo(sha("SHA-256", init, sha("SHA-256", crtm)));
    }

    @Test
    void startupLocalityAfterPcr0WasExtendedIsIgnored() throws Exception {
        byte[] crtm = ascii("crtm");
        byte[] bytes = EventLogWriter.cryptoAgile(HashAlg.SHA256)
                .event(0, EventType.EV_S_CRTM_CONTENTS, crtm).startupLocality(3).toBytes();
        ReplayResult r = PcrReplay.replay(EventLog.parse(bytes));
        assertThat(r.startupLocality()).isZero();
        assertThat(r.pcrs(HashAlg.SHA256).get(0)).isEqualTo(sha("SHA-256", new byte[32], sha("SHA-256", crtm)));
    }

    @Test
    void legacySha1LogWrittenByHand() throws Exception {
        byte[] d1 = ascii("POST CODE");
        byte[] digest1 = sha("SHA-1", d1);
        byte[] bytes = new Bytes()
                .u32(0).u32(0x1).raw(digest1).u32(d1.length).raw(d1)
                .u32(7).u32(0x4).raw(sha("SHA-1", SEPARATOR)).u32(4).raw(SEPARATOR)
                .bytes();
        EventLog log = EventLog.parse(bytes);
        assertThat(log.format()).isEqualTo(EventLog.Format.LEGACY_SHA1);
        assertThat(log.specId()).isEmpty();
        assertThat(log.events()).extracting(Event::type).containsExactly(EventType.EV_POST_CODE,
                EventType.EV_SEPARATOR);
        assertThat(log.events().get(0).decoded()).isEqualTo(new EventData.Text("POST CODE"));
        ReplayResult r = PcrReplay.replay(log);
        assertThat(r.banks()).containsExactly(HashAlg.SHA1);
        assertThat(r.pcrs(HashAlg.SHA1).get(0)).isEqualTo(sha("SHA-1", new byte[20], digest1));
        assertThat(r.pcrs(HashAlg.SHA1).get(7)).isEqualTo(sha("SHA-1", new byte[20], sha("SHA-1", SEPARATOR)));
    }

    /** A log declaring SHA-256 and an algorithm we cannot hash (0x00FF, 24-byte digests). */
    private static byte[] logWithUnknownAlgorithm(byte[] data, int digestCount) throws Exception {
        byte[] spec = new Bytes().ascii("Spec ID Event03\0").u32(0).u8(0).u8(2).u8(0).u8(2)
                .u32(2).u16(0x000B).u16(32).u16(0x00FF).u16(24).u8(0).bytes();
        Bytes b = new Bytes().u32(0).u32(3).zeros(20).u32(spec.length).raw(spec)
                .u32(4).u32(0x80000007L).u32(digestCount).u16(0x00FF).raw(new byte[24]);
        if (digestCount > 1) {
            b.u16(0x000B).raw(sha("SHA-256", data));
        }
        return b.u32(data.length).raw(data).bytes();
    }

    @Test
    void unknownAlgorithmIsSkippedByItsDeclaredSize() throws Exception {
        byte[] data = ascii("action");
        EventLog log = EventLog.parse(logWithUnknownAlgorithm(data, 2));
        assertThat(log.unknownAlgorithms()).containsExactly(0x00FF);
        Event e = log.events().get(1);
        assertThat(e.digests()).extracting(EventDigest::algName).containsExactly("0x00ff", "sha256");
        ReplayResult r = PcrReplay.replay(log);
        assertThat(r.skippedAlgorithms()).containsExactly(0x00FF);
        assertThat(r.banks()).containsExactly(HashAlg.SHA256);
        assertThat(r.pcrs(HashAlg.SHA256).get(4)).isEqualTo(sha("SHA-256", new byte[32], sha("SHA-256", data)));
    }

    @Test
    void digestOfUndeclaredAlgorithmIsAnError() throws Exception {
        byte[] bytes = EventLogWriter.cryptoAgile(HashAlg.SHA256)
                .event(4, 0x80000007, ascii("x"), Map.of(HashAlg.SHA1, new byte[20])).toBytes();
        assertThatThrownBy(() -> EventLog.parse(bytes)).isInstanceOf(EventLogException.class)
                .hasMessageContaining("0x0004 not declared");
    }

    @Test
    void knownAlgorithmWithWrongDeclaredSizeIsAnError() {
        byte[] spec = new Bytes().ascii("Spec ID Event03\0").u32(0).u8(0).u8(2).u8(0).u8(2)
                .u32(1).u16(0x000B).u16(20).u8(0).bytes();
        byte[] bytes = new Bytes().u32(0).u32(3).zeros(20).u32(spec.length).raw(spec).bytes();
        assertThatThrownBy(() -> EventLog.parse(bytes)).isInstanceOf(EventLogException.class)
                .hasMessageContaining("offset 60").hasMessageContaining("expected 32");
    }

    @Test
    void pcrOutOfRangeIsAnError() {
        byte[] bytes = EventLogWriter.cryptoAgile(HashAlg.SHA256).event(24, EventType.EV_IPL, ascii("x"))
                .toBytes();
        assertThatThrownBy(() -> EventLog.parse(bytes)).isInstanceOf(EventLogException.class)
                .hasMessageContaining("PCR index 24");
    }

    @Test
    void limitsAreEnforced() {
        byte[] bytes = EventLogWriter.cryptoAgile(HashAlg.SHA256).event(8, EventType.EV_IPL, new byte[100])
                .event(8, EventType.EV_IPL, new byte[10]).toBytes();
        assertThatThrownBy(() -> EventLog.parse(bytes, new Limits(1 << 20, 2, 1 << 20, 16, 23, true)))
                .isInstanceOf(EventLogException.class).hasMessageContaining("more than 2 events");
        assertThatThrownBy(() -> EventLog.parse(bytes, new Limits(1 << 20, 100, 50, 16, 23, true)))
                .isInstanceOf(EventLogException.class).hasMessageContaining("event data size 100");
        assertThatThrownBy(() -> EventLog.parse(bytes, new Limits(100, 100, 50, 16, 23, true)))
                .isInstanceOf(EventLogException.class).hasMessageContaining("over the limit of 100");
    }

    @Test
    void base64IsDetectedOnlyWhenItLooksLikeBase64() throws Exception {
        byte[] log = EventLogWriter.cryptoAgile(HashAlg.SHA256).event(4, EventType.EV_EFI_ACTION, ascii("a"))
                .toBytes();
        byte[] mime = java.util.Base64.getMimeEncoder().encode(log);
        assertThat(EventLogInput.fromFile(mime, false, Limits.DEFAULT)).isEqualTo(log);
        assertThat(EventLogInput.fromFile(log, false, Limits.DEFAULT)).isSameAs(log);
        assertThat(EventLogInput.looksLikeBase64(ascii("bogus\ninvalid\nevent\nlog\nfile\nhere\n"))).isFalse();
        assertThat(EventLogInput.looksLikeBase64(ascii("QUJD\nRA==\n"))).isTrue();
        assertThatThrownBy(() -> EventLogInput.fromFile(ascii("not base64!"), true, Limits.DEFAULT))
                .isInstanceOf(EventLogException.class).hasMessageContaining("not valid base64");
    }
}
