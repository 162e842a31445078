package dev.outpost.bench.load;

import java.nio.file.Path;
import java.time.Duration;

/**
 * A run's parameters.
 *
 * @param scenario  {@code enroll-storm}: all devices enroll at once, then attest twice; {@code steady}: enroll,
 *                  then every device attests every {@code period} for {@code duration}
 * @param devices   simulated devices
 * @param threads   worker threads running device operations (each blocks on its request/response)
 * @param period    steady: time between a device's attestations
 * @param duration  steady: how long the steady state is measured
 * @param entries   new IMA entries per attestation
 * @param badShare  share of devices that run a file the policy does not know
 * @param poolSize  files in the policy
 * @param out       where the report and plot go (and the appliance's temporary directories)
 */
public record LoadOptions(String scenario, int devices, int threads, Duration period, Duration duration, int entries,
        double badShare, int poolSize, Path out) {

    public static LoadOptions parse(String[] args) {
        String scenario = "steady";
        int devices = 200;
        int threads = 32;
        Duration period = Duration.ofSeconds(5);
        Duration duration = Duration.ofSeconds(30);
        int entries = 10;
        double bad = 0.1;
        int pool = 400;
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
            switch (a) {
                case "--scenario" -> scenario = v;
                case "--devices" -> devices = Integer.parseInt(v);
                case "--threads" -> threads = Integer.parseInt(v);
                case "--period" -> period = Duration.ofMillis((long) (Double.parseDouble(v) * 1000));
                case "--duration" -> duration = Duration.ofMillis((long) (Double.parseDouble(v) * 1000));
                case "--entries" -> entries = Integer.parseInt(v);
                case "--bad" -> bad = Double.parseDouble(v);
                case "--pool" -> pool = Integer.parseInt(v);
                case "--out" -> out = Path.of(v);
                default -> throw new IllegalArgumentException("unknown option " + a + "\n" + usage());
            }
        }
        if (!scenario.equals("steady") && !scenario.equals("enroll-storm")) {
            throw new IllegalArgumentException("--scenario must be steady or enroll-storm\n" + usage());
        }
        if (devices < 1 || threads < 1 || entries < 0 || bad < 0 || bad > 1 || pool < 1) {
            throw new IllegalArgumentException("out of range\n" + usage());
        }
        return new LoadOptions(scenario, devices, threads, period, duration, entries, bad, pool, out);
    }

    static String usage() {
        return "LoadGenerator [--scenario steady|enroll-storm] [--devices 200] [--threads 32] [--period 5 (s)]"
                + " [--duration 30 (s)] [--entries 10] [--bad 0.1] [--pool 400] [--out target/load]";
    }

    /** Whether device {@code i} misbehaves: exactly floor(devices × badShare) of them, spread evenly. */
    public boolean isBad(int i) {
        return (int) Math.floor((i + 1) * badShare) > (int) Math.floor(i * badShare);
    }
}
