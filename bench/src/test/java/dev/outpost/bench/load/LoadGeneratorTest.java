package dev.outpost.bench.load;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A small site under the generator: every verdict must match what each device did. Speed is measured by the
 * generator's own runs (BENCHMARKS.md), never asserted here.
 */
class LoadGeneratorTest {
    @TempDir
    Path dir;

    @Test
    void exactlyTheMisbehavingDevicesFail() throws Exception {
        LoadOptions o = LoadOptions.parse(new String[] {"--scenario", "steady", "--devices", "30", "--threads", "8",
            "--period", "1", "--duration", "4", "--entries", "5", "--bad", "0.1", "--pool", "200",
            "--out", dir.toString()});
        LoadGenerator.Result r = new LoadGenerator(o).run();
        System.out.println(r.report());

        assertThat(r.enrolled()).as(r.report()).isEqualTo(30);
        assertThat(r.mismatches()).as(r.report()).isEmpty();
        assertThat(r.errors()).as(r.report()).isZero();
        assertThat(r.attestations()).as(r.report()).isPositive();
        assertThat(dir.resolve("load.png")).isNotEmptyFile();
    }
}
