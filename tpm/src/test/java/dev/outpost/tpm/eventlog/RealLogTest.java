package dev.outpost.tpm.eventlog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.outpost.tpm.HashAlg;

/** Replay of the third-party logs against the README's tables and the real tpm2_eventlog. */
class RealLogTest {
    /** tpm2-tools upstream tests these with --eventlog-version=2 (README, "Notes for test writers"). */
    private static final Set<String> EVENTLOG_V2 = Set.of("tpm2-tools/event-arch-linux.bin",
            "tpm2-tools/event-gce-ubuntu-2104-log.bin", "tpm2-tools/event-sd-boot-fedora37.bin",
            "tpm2-tools/event-moklisttrusted.bin");
    /** tpm2_eventlog refuses it (PCR index 0xFFFFFFFF); the README's table, from go-attestation, is the reference. */
    private static final String OPTION_ROM = "go-attestation/option_rom_eventlog";
    private static final String KEYLIME_LOCALITY = "keylime/binary_bios_measurements";

    /** Skips the whole class without the corpus, before any argument source is asked for files. */
    @BeforeAll
    static void corpusPresent() {
        TestData.dir();
    }

    static Stream<String> measuredLogs() {
        return TestData.measuredLogs();
    }

    @Test
    void corpusHasTwentyMeasuredLogs() {
        TestData.dir();
        assertThat(measuredLogs()).hasSize(20);
    }

    @ParameterizedTest
    @MethodSource("measuredLogs")
    void replayMatchesReadmeTable(String name) throws Exception {
        ReplayResult r = PcrReplay.replay(EventLog.parse(TestData.log(name)));
        assertThat(TestData.asHex(r)).isEqualTo(TestData.readmeTable(name));
    }

    @ParameterizedTest
    @MethodSource("measuredLogs")
    void replayMatchesTpm2Eventlog(String name, @TempDir Path tmp) throws Exception {
        assumeTrue(!name.equals(OPTION_ROM), "tpm2_eventlog refuses the 0xFFFFFFFF record");
        int version = Tpm2EventlogTool.version();
        assumeTrue(version > 0, "tpm2_eventlog not installed");
        byte[] log = TestData.log(name);
        Path file = tmp.resolve("log.bin");
        Files.write(file, log);
        Map<String, Map<Integer, String>> tool = Tpm2EventlogTool.pcrs(file, EVENTLOG_V2.contains(name));
        Map<String, Map<Integer, String>> ours = TestData.asHex(PcrReplay.replay(EventLog.parse(log)));
        if (name.equals(KEYLIME_LOCALITY) && version < 506) {
            // Before 5.6 the tool ignored StartupLocality and extended the NO_ACTION zero digest into PCR 0.
            assertThat(tool.get("sha1").remove(0)).isEqualTo("ab3e9fd3b9b9911a2496db14911214f7fd0a115c");
            assertThat(tool.get("sha256").remove(0))
                    .isEqualTo("1877eacbf0290c67521de489ae1ca5d04de12150e522f472f3fb3daeb35e8e43");
            ours.get("sha1").remove(0);
            ours.get("sha256").remove(0);
        }
        assertThat(ours).isEqualTo(tool);
    }

    @ParameterizedTest
    @MethodSource("measuredLogs")
    void everyEventDecodesAndDescribes(String name) throws Exception {
        EventLog log = EventLog.parse(TestData.log(name));
        for (Event e : log.events()) {
            assertThat(e.decoded()).as("%s event %d %s", name, e.index(), e.typeName())
                    .isNotInstanceOf(EventData.Undecodable.class);
            assertThat(e.decoded().describe()).isNotNull();
        }
    }

    @Test
    void keylimeLogHonoursStartupLocality3() throws Exception {
        ReplayResult r = PcrReplay.replay(EventLog.parse(TestData.log(KEYLIME_LOCALITY)));
        assertThat(r.startupLocality()).isEqualTo(3);
        assertThat(HexFormat.of().formatHex(r.pcrs(HashAlg.SHA1).get(0)))
                .isEqualTo("78f3e576d5da8873860e557535d181f4a37e2963")
                .isNotEqualTo("223fd80a6ca8a02ae3b7bed05b506903700bc252");
    }

    @Test
    void shortNoActionLogParsesWithoutMeasurements() throws Exception {
        EventLog log = EventLog.parse(TestData.log("go-attestation/short_no_action_eventlog"));
        assertThat(log.format()).isEqualTo(EventLog.Format.LEGACY_SHA1);
        assertThat(log.events()).singleElement()
                .satisfies(e -> assertThat(e.decoded()).isEqualTo(new EventData.StartupLocality(3)));
        ReplayResult r = PcrReplay.replay(log);
        assertThat(r.banks()).isEmpty();
        assertThat(r.startupLocality()).isEqualTo(3);
    }

    @Test
    void negativeKeylimeFilesAreCleanErrors() throws Exception {
        assertThatThrownBy(() -> EventLog.parse(TestData.log("keylime/binary_bios_measurements-empty")))
                .isInstanceOf(EventLogException.class).hasMessageContaining("offset 0").hasMessageContaining("empty");
        // Read as binary (not mistaken for base64), so the first "PCR index" is the text "bogu", as tpm2_eventlog says.
        assertThatThrownBy(() -> EventLog.parse(TestData.log("keylime/binary_bios_measurements-bogus")))
                .isInstanceOf(EventLogException.class).hasMessageContaining("offset 0")
                .hasMessageContaining("PCR index 1969712994");
    }

    @Test
    void optionRomTrailerIsKeptButNotExtended() throws Exception {
        EventLog log = EventLog.parse(TestData.log(OPTION_ROM));
        Event last = log.events().get(log.events().size() - 1);
        assertThat(last.pcrText()).isEqualTo("4294967295");
        assertThat(last.type()).isEqualTo(EventType.EV_NO_ACTION);
        Limits strict = new Limits(16 << 20, 100_000, 1 << 20, 16, 23, false);
        assertThatThrownBy(() -> EventLog.parse(TestData.log(OPTION_ROM), strict))
                .isInstanceOf(EventLogException.class).hasMessageContaining("PCR index 4294967295");
    }

    @Test
    void secureBootDatabasesOpenUp() throws Exception {
        EventLog log = EventLog.parse(TestData.log("go-attestation/sb_cert_eventlog"));
        List<EventData.EfiVariable> vars = log.events().stream().map(Event::decoded)
                .filter(EventData.EfiVariable.class::isInstance).map(EventData.EfiVariable.class::cast).toList();
        assertThat(vars).anySatisfy(v -> {
            assertThat(v.name()).isEqualTo("db");
            assertThat(v.signatures()).anySatisfy(s -> assertThat(s.certificate()).isNotNull());
        });
        assertThat(vars).anySatisfy(v -> {
            assertThat(v.name()).isEqualTo("dbx");
            assertThat(v.signatures()).anySatisfy(s -> assertThat(s.isSha256()).isTrue());
        });
        assertThat(vars).anySatisfy(v -> {
            assertThat(v.name()).isEqualTo("SecureBoot");
            assertThat(v.value()).containsExactly(1);
        });
    }

    @Test
    void base64LogIsDetected() throws Exception {
        byte[] raw = Files.readAllBytes(TestData.dir().resolve("eventlogs/keylime/mb_log.b64"));
        byte[] decoded = EventLogInput.fromFile(raw, false, Limits.DEFAULT);
        assertThat(decoded).hasSize(18995);
        assertThat(EventLogInput.fromFile(decoded, false, Limits.DEFAULT)).isSameAs(decoded);
    }
}
