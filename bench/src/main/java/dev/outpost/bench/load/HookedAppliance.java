package dev.outpost.bench.load;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.OptionalLong;

import dev.outpost.appliance.app.ApplianceApp;
import dev.outpost.appliance.config.ApplianceConfig;
import dev.outpost.spiffe.PemIo;

/**
 * The appliance as {@code outpost-appliance run --config FILE} starts it, in its own process, plus one command on
 * standard input for the bundle-change scenario: {@code federate <trust domain> <roots.pem> <reply file>} hands
 * devices a new federated root through {@link ApplianceApp#publishFederated} (the path a change of central's bundle
 * takes) and writes {@code <sequence> <nanoTime before> <nanoTime after>} to the reply file. System.nanoTime is
 * CLOCK_MONOTONIC on Linux, shared by the two processes, so the generator measures from the appliance's own publish.
 */
public final class HookedAppliance {
    private HookedAppliance() {
    }

    public static void main(String[] args) throws Exception {
        dev.outpost.appliance.logging.LogLevels.service();
        ApplianceApp app = ApplianceApp.start(ApplianceConfig.load(Path.of(args[0])));
        Runtime.getRuntime().addShutdownHook(new Thread(app::stop, "outpost-appliance-shutdown"));
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            String[] a = line.trim().split("\\s+");
            if (a.length != 4 || !a[0].equals("federate")) {
                System.err.println("unknown command: " + line);
                continue;
            }
            var roots = PemIo.certificates(Files.readString(Path.of(a[2])), 512);
            long t0 = System.nanoTime();
            OptionalLong seq = app.publishFederated(Map.of(a[1], roots));
            long t1 = System.nanoTime();
            Path reply = Path.of(a[3]);
            Path tmp = reply.resolveSibling(reply.getFileName() + ".tmp");
            Files.writeString(tmp, seq.orElse(-1) + " " + t0 + " " + t1 + "\n");
            Files.move(tmp, reply, StandardCopyOption.ATOMIC_MOVE);
        }
        // Standard input closed: the generator is gone or done; keep serving until SIGTERM, as `run` does.
        Thread.currentThread().join();
    }
}
