package dev.outpost.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import dev.outpost.tpm.HashAlg;
import dev.outpost.tpm.eventlog.EventLog;
import dev.outpost.tpm.eventlog.EventLogException;
import dev.outpost.tpm.eventlog.EventLogWriter;
import dev.outpost.tpm.eventlog.EventType;
import dev.outpost.tpm.eventlog.PcrReplay;
import dev.outpost.tpm.eventlog.ReplayResult;

/**
 * Parse + replay of one boot log, the work the appliance does per attestation. The real log is keylime's
 * binary_bios_measurements (121 events, sha1+sha256) from -Doutpost.testdata, default ../shared/testdata;
 * without it, that benchmark falls back to the synthetic log.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class EventLogReplayBenchmark {
    private byte[] synthetic;
    private byte[] real;

    @Setup
    public void setup() throws IOException {
        synthetic = syntheticLog();
        Path p = Path.of(System.getProperty("outpost.testdata", "../shared/testdata"),
                "eventlogs/keylime/binary_bios_measurements");
        real = Files.isRegularFile(p) ? Files.readAllBytes(p) : synthetic;
    }

    /** About 100 events in sha1+sha256 with the payload sizes of a typical UEFI + grub boot (~40 KB). */
    static byte[] syntheticLog() {
        // Seeded on purpose: every run benchmarks the same bytes. Nothing here is a secret.
        Random rnd = new Random(42);
        EventLogWriter w = EventLogWriter.cryptoAgile(HashAlg.SHA1, HashAlg.SHA256);
        w.event(0, EventType.EV_S_CRTM_VERSION, "Firmware 1.0\0".getBytes(StandardCharsets.UTF_16LE));
        for (int i = 0; i < 5; i++) {
            w.event(7, EventType.EV_EFI_VARIABLE_DRIVER_CONFIG, random(rnd, i < 2 ? 60 : 1500 + rnd.nextInt(3000)));
        }
        for (int pcr = 0; pcr <= 7; pcr++) {
            w.event(pcr, EventType.EV_SEPARATOR, new byte[4]);
        }
        for (int i = 0; i < 20; i++) {
            w.event(i % 2 == 0 ? 1 : 5, EventType.EV_EFI_VARIABLE_BOOT, random(rnd, 60 + rnd.nextInt(200)));
        }
        for (int i = 0; i < 6; i++) {
            w.event(i < 3 ? 2 : 4, EventType.EV_EFI_BOOT_SERVICES_DRIVER, random(rnd, 100 + rnd.nextInt(80)));
        }
        for (int i = 0; i < 60; i++) {
            String cmd = "grub_cmd: " + "x".repeat(20 + rnd.nextInt(150));
            w.event(8, EventType.EV_IPL, (cmd + "\0").getBytes(StandardCharsets.US_ASCII));
        }
        return w.toBytes();
    }

    private static byte[] random(Random rnd, int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }

    @Benchmark
    public ReplayResult syntheticLog100Events() throws EventLogException {
        return PcrReplay.replay(EventLog.parse(synthetic));
    }

    @Benchmark
    public ReplayResult keylimeLog() throws EventLogException {
        return PcrReplay.replay(EventLog.parse(real));
    }

    @Benchmark
    public EventLog parseOnlySynthetic() throws EventLogException {
        return EventLog.parse(synthetic);
    }
}
