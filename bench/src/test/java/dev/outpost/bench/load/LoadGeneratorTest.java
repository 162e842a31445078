package dev.outpost.bench.load;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Small sites under the generator, with a real appliance process (and a real Mosquitto): every verdict must match
 * what each device did, the three kinds of misbehaviour included. Speed is measured by the generator's own runs
 * (BENCHMARKS.md), never asserted here.
 */
class LoadGeneratorTest {
    @TempDir
    Path dir;

    private LoadGenerator.Result run(String... args) throws Exception {
        String[] all = new String[args.length + 2];
        System.arraycopy(args, 0, all, 0, args.length);
        all[args.length] = "--out";
        all[args.length + 1] = dir.toString();
        LoadGenerator.Result r = new LoadGenerator(LoadOptions.parse(all)).run();
        System.out.println(r.report());
        return r;
    }

    @Test
    void steadyStateCatchesExactlyTheMisbehavingDevices() throws Exception {
        LoadGenerator.Result r = run("--scenario", "steady", "--devices", "30", "--threads", "8", "--period", "1",
                "--duration", "4", "--entries", "5", "--bad", "0.1", "--pool", "200", "--ek", "ecc");

        assertThat(r.enrolled()).as(r.report()).isEqualTo(30);
        assertThat(r.mismatches()).as(r.report()).isEmpty();
        assertThat(r.errors()).as(r.report()).isZero();
        assertThat(r.attestations()).as(r.report()).isGreaterThan(30);
        assertThat(r.report()).contains("3 misbehaving");
        // Each well-behaved device exchanged its probationary SVID for a node SVID through a passing attestation.
        assertThat(r.svidRenewals()).as(r.report()).isGreaterThanOrEqualTo(27);
        assertThat(dir.resolve("load.png")).isNotEmptyFile();
        assertThat(dir.resolve("report.txt")).isNotEmptyFile();
        // Latency also from the device's tick (the wait for a generator thread counted), in stages, and by 100 ms.
        assertThat(r.report()).contains("device's tick to verdict", "tick to challenge request", "challenge round trip",
                "evidence round trip", "second half");
        java.util.List<String> windows = java.nio.file.Files.readAllLines(dir.resolve("attestations-100ms.csv"));
        assertThat(windows.get(0)).isEqualTo("window_start_epoch_ms,count,p50_us,p99_us,max_us");
        assertThat(windows.subList(1, windows.size()).stream()
                .mapToLong(l -> Long.parseLong(l.split(",")[1])).sum()).as("every measured attestation in a window")
                .isEqualTo(r.attestations());
        // The appliance logs its collections for the report's pauses-against-latency lines.
        Path gcLog;
        try (java.util.stream.Stream<Path> sites = java.nio.file.Files.list(dir)) {
            gcLog = sites.filter(p -> p.getFileName().toString().startsWith("site-"))
                    .map(p -> p.resolve("appliance-gc.log")).findFirst().orElseThrow();
        }
        assertThat(GcPauses.read(gcLog).between(0, Double.MAX_VALUE)).as("pauses in " + gcLog).isNotEmpty();
    }

    @Test
    void devicesComeBackAfterTheApplianceRestartsBehindMosquitto() throws Exception {
        LoadGenerator.Result r = run("--scenario", "reconnect-storm", "--broker", "mosquitto", "--devices", "20",
                "--threads", "8", "--entries", "5", "--bad", "0.15", "--pool", "200", "--ek", "rsa");

        assertThat(r.enrolled()).as(r.report()).isEqualTo(20);
        assertThat(r.mismatches()).as(r.report()).isEmpty();
        assertThat(r.errors()).as(r.report()).isZero();
        // Every device attested again after the restart: the well-behaved ones passed, the bad ones were caught.
        assertThat(r.attestations()).as(r.report()).isEqualTo(20);
        assertThat(r.report()).contains("3 misbehaving", "appliance up again to the device's verdict");
    }

    @Test
    void afterAPowerRestoreEveryDeviceIsTrustedAgainOrCaught() throws Exception {
        LoadGenerator.Result r = run("--scenario", "reboot-storm", "--devices", "12", "--threads", "6", "--entries", "300",
                "--bad", "0.1", "--pool", "400", "--ek", "ecc");

        assertThat(r.enrolled()).as(r.report()).isEqualTo(12);
        assertThat(r.mismatches()).as(r.report()).isEmpty();
        assertThat(r.errors()).as(r.report()).isZero();
        // Each of the 11 well-behaved devices attested at least twice after the restore: pending (tpm.reboot, the
        // appliance asks for the whole new list, made from the compact log) and trusted.
        assertThat(r.attestations()).as(r.report()).isGreaterThanOrEqualTo(22);
        assertThat(r.report()).contains("reboot-storm", "power restore to the device trusted again (both attestations)"
                + ": p50", "(n=11)", "attestations refused with a retry-after");
    }

    @Test
    void everyDeviceTakesEveryBundleChangeWhileAttesting() throws Exception {
        LoadGenerator.Result r = run("--scenario", "bundle-change", "--devices", "10", "--threads", "6", "--period", "1",
                "--changes", "2", "--gap", "2", "--entries", "5", "--bad", "0.1", "--pool", "200", "--ek", "ecc");

        assertThat(r.enrolled()).as(r.report()).isEqualTo(10);
        assertThat(r.mismatches()).as(r.report()).isEmpty();
        assertThat(r.errors()).as(r.report()).isZero();
        assertThat(r.bundleChanges()).as(r.report()).hasSize(2);
        long previous = -1;
        for (LoadGenerator.BundleChangeResult c : r.bundleChanges()) {
            // Each change moved the sequence forward and every device took that sequence: none missing.
            assertThat(c.sequence()).as(r.report()).isGreaterThan(previous);
            previous = c.sequence();
            assertThat(c.missing()).as(r.report()).isZero();
            // The misbehaving device is failed, revoked and disconnected by then; the 9 others must each take it.
            assertThat(c.latencyMicros()).as(r.report()).hasSize(9);
            // The bundle now carries the partner's root: bigger than the site's root alone, and every device got it.
            assertThat(c.payloadBytes()).as(r.report()).isGreaterThan(500);
            // (The misbehaving device may still be connected at the first change and take it too.)
            assertThat(c.bytes()).as(r.report()).isBetween(9 * c.payloadBytes(), 10 * c.payloadBytes());
        }
        // Attestations went on meanwhile (the background load is part of the scenario).
        assertThat(r.attestations()).as(r.report()).isGreaterThan(10);
        assertThat(r.report()).contains("bundle-change", "sequence " + previous + ": 9 of 9 well-behaved devices took it");
    }
}
