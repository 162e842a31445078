package dev.outpost.bench.load;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The appliance's pauses as its GC log gives them (G1 and Shenandoah lines as JDK 17 writes them). */
class GcPausesTest {
    private static final String LOG = String.join("\n",
            "[2026-12-07T14:49:29.927+0000][288.447s] GC(579) Pause Young (Normal) (G1 Evacuation Pause) 554M->185M(640M) 16.312ms",
            "[2026-12-07T14:49:30.100+0000][288.620s] GC(580) Concurrent Mark Cycle 45.200ms",
            "[2026-12-07T14:49:30.500+0000][289.020s] GC(580) Pause Remark 210M->210M(640M) 34.959ms",
            "[2026-12-07T14:49:31.000+0000][289.520s] GC(581) Pause Final Mark (unload classes) 0.509ms",
            "[2026-12-07T14:49:31.200+0000][289.720s] Using 2 workers of 2 for evacuation",
            "");

    @Test
    void readsEveryPauseAndNothingElse(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("gc.log");
        Files.writeString(log, LOG);
        GcPauses gc = GcPauses.read(log);
        double from = Instant.parse("2026-12-07T14:49:00Z").toEpochMilli();
        List<GcPauses.Pause> all = gc.between(from, from + 60_000);
        assertThat(all).extracting(GcPauses.Pause::kind)
                .containsExactly("Pause Young (Normal) (G1 Evacuation Pause)", "Pause Remark", "Pause Final Mark (unload classes)");
        assertThat(all.get(0).millis()).isEqualTo(16.312, org.assertj.core.data.Offset.offset(0.001));
        // The log stamps a pause's end: the young one ran from 29.910688 to 29.927.
        double end = Instant.parse("2026-12-07T14:49:29.927Z").toEpochMilli();
        assertThat(all.get(0).endEpochMs()).isEqualTo(end);
        assertThat(gc.overlaps(end - 20, end - 10)).as("an attestation inside the pause").isTrue();
        assertThat(gc.overlaps(end - 100, end - 17)).as("one that ended just before it began").isFalse();
        assertThat(gc.overlaps(end + 1, end + 50)).as("one that began after it").isFalse();
        assertThat(gc.between(end + 1, end + 400)).isEmpty();
    }

    @Test
    void aMissingLogHasNoPausesAndALongLineIsSkipped(@TempDir Path dir) throws Exception {
        assertThat(GcPauses.read(dir.resolve("absent.log")).between(0, Double.MAX_VALUE)).isEmpty();
        assertThat(GcPauses.parse("[2026-12-07T14:49:29.927+0000][1s] GC(1) Pause Young " + "x".repeat(600) + " 1.0ms"))
                .isEmpty();
    }
}
