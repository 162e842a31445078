package dev.outpost.bench.load;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * A run's parameters.
 *
 * @param scenario      {@code enroll-storm}: all devices enroll at once, then attest; {@code steady}: enroll, then
 *                      every device attests every {@code period} for {@code duration}; {@code reconnect-storm}:
 *                      enroll and attest, restart the appliance, and every device reconnects and attests at once;
 *                      {@code reboot-storm}: enroll and attest, then every device reboots at once (a power restore)
 *                      with a new list of {@code entries} files and attests until trusted again;
 *                      {@code bundle-change}: enroll and attest, every device subscribes to the site bundle, then,
 *                      while every device attests every {@code period}, the bundle changes {@code changes} times,
 *                      {@code gap} apart (a federated trust domain's roots are replaced)
 * @param devices       simulated devices
 * @param threads       worker threads running device operations (each blocks on its request/response)
 * @param ioThreads     event loop threads carrying every device's MQTT connection
 * @param period        steady: time between a device's attestations (and the appliance's attestation interval)
 * @param duration      steady: how long the steady state is measured
 * @param entries       new IMA entries per attestation
 * @param badShare      share of devices that misbehave (unknown file, tampered list, replayed quote in turn)
 * @param poolSize      files in the policy
 * @param ek            the simulated TPMs' EK: {@code rsa} (L-1) or {@code ecc} (L-2, much cheaper to generate)
 * @param broker        {@code embedded}: devices connect to the appliance's MQTT endpoint; {@code mosquitto}: to a
 *                      Mosquitto with the shipped configuration, the appliance in external broker mode
 * @param changes       bundle-change: how many times the bundle changes
 * @param gap           bundle-change: time between changes (the first comes after half of it)
 * @param roots         bundle-change: roots of the federated trust domain in each new bundle
 * @param applianceJvm  options for the appliance's JVM
 * @param out           where the report and plots go (and the appliance's temporary directories)
 */
public record LoadOptions(String scenario, int devices, int threads, int ioThreads, Duration period, Duration duration,
        int entries, double badShare, int poolSize, SoftwareTpm.EkKind ek, String broker, int changes, Duration gap,
        int roots, List<String> applianceJvm, Path out) {

    static final List<String> SCENARIOS = List.of("steady", "enroll-storm", "reconnect-storm", "reboot-storm",
            "bundle-change");

    public static LoadOptions parse(String[] args) {
        String scenario = "steady";
        int devices = 200;
        int threads = 32;
        int io = 1;
        Duration period = Duration.ofSeconds(5);
        Duration duration = Duration.ofSeconds(30);
        int entries = 10;
        double bad = 0.1;
        int pool = 400;
        SoftwareTpm.EkKind ek = SoftwareTpm.EkKind.RSA;
        String broker = "embedded";
        int changes = 3;
        Duration gap = Duration.ofSeconds(15);
        int roots = 1;
        // The heap the shipped systemd unit gives the appliance, so resident memory means what it will on a site.
        List<String> jvm = List.of("-Xmx640m");
        Path out = Path.of("target", "load");
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--help") || a.equals("-h")) {
                throw new IllegalArgumentException(usage());
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(a + " needs a value\n" + usage());
            }
            String v = args[++i];
            try {
                switch (a) {
                    case "--scenario" -> scenario = v;
                    case "--devices" -> devices = Integer.parseInt(v);
                    case "--threads" -> threads = Integer.parseInt(v);
                    case "--io-threads" -> io = Integer.parseInt(v);
                    case "--period" -> period = Duration.ofMillis((long) (Double.parseDouble(v) * 1000));
                    case "--duration" -> duration = Duration.ofMillis((long) (Double.parseDouble(v) * 1000));
                    case "--entries" -> entries = Integer.parseInt(v);
                    case "--bad" -> bad = Double.parseDouble(v);
                    case "--pool" -> pool = Integer.parseInt(v);
                    case "--ek" -> ek = SoftwareTpm.EkKind.valueOf(v.toUpperCase(java.util.Locale.ROOT));
                    case "--broker" -> broker = v;
                    case "--changes" -> changes = Integer.parseInt(v);
                    case "--gap" -> gap = Duration.ofMillis((long) (Double.parseDouble(v) * 1000));
                    case "--roots" -> roots = Integer.parseInt(v);
                    case "--appliance-jvm" -> jvm = v.isBlank() ? List.of() : Arrays.asList(v.trim().split("\\s+"));
                    case "--out" -> out = Path.of(v);
                    default -> throw new IllegalArgumentException("unknown option " + a + "\n" + usage());
                }
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(a + " " + v + ": " + e.getMessage() + "\n" + usage(), e);
            }
        }
        if (!SCENARIOS.contains(scenario)) {
            throw new IllegalArgumentException("--scenario must be one of " + SCENARIOS + "\n" + usage());
        }
        if (scenario.equals("bundle-change") && broker.equals("mosquitto")) {
            // Through a broker the appliance publishes once and Mosquitto fans out: another measurement, not done yet.
            throw new IllegalArgumentException("--scenario bundle-change runs on the embedded endpoint only\n" + usage());
        }
        if (!broker.equals("embedded") && !broker.equals("mosquitto")) {
            throw new IllegalArgumentException("--broker must be embedded or mosquitto\n" + usage());
        }
        if (devices < 1 || threads < 1 || io < 1 || entries < 0 || bad < 0 || bad > 1 || pool < 1
                || period.isZero() || period.isNegative() || changes < 1 || roots < 1 || roots > 512
                || gap.isNegative()) {
            throw new IllegalArgumentException("out of range\n" + usage());
        }
        return new LoadOptions(scenario, devices, threads, io, period, duration, entries, bad, pool, ek, broker, changes, gap, roots, jvm,
                out);
    }

    static String usage() {
        return "LoadGenerator [--scenario steady|enroll-storm|reconnect-storm|reboot-storm|bundle-change] [--devices 200] [--threads 32]"
                + " [--io-threads 1] [--period 5 (s)] [--duration 30 (s)] [--entries 10] [--bad 0.1] [--pool 400]"
                + " [--ek rsa|ecc] [--broker embedded|mosquitto] [--changes 3] [--gap 15 (s)] [--roots 1] [--appliance-jvm '-Xmx640m'] [--out target/load]";
    }

    /** Whether device {@code i} misbehaves: exactly floor(devices × badShare) of them, spread evenly. */
    public boolean isBad(int i) {
        return (int) Math.floor((i + 1) * badShare) > (int) Math.floor(i * badShare);
    }

    /** How device {@code i} misbehaves, or null: the bad ones take the three ways in turn. */
    public SimDevice.Misbehaviour misbehaviour(int i) {
        if (!isBad(i)) {
            return null;
        }
        int k = (int) Math.floor((i + 1) * badShare) - 1;
        return SimDevice.Misbehaviour.values()[k % SimDevice.Misbehaviour.values().length];
    }
}
