package dev.outpost.sim;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The site demo's kernels: boots a simulated kernel on each given TPM, measures the same small set of files on
 * each, writes the known-good runtime and measured-boot policies, then keeps running; creating a file named
 * {@code tamper} in a kernel's directory makes that kernel run a file no policy knows.
 *
 * <pre>java -jar sim/target/outpost-sim.jar POLICY-DIR TPM-URI SECURITYFS-DIR [TPM-URI SECURITYFS-DIR ...]</pre>
 */
public final class SimDaemon {
    private static final String[][] FILES = {
        {"/usr/bin/outpost-agent", "outpost agent"},
        {"/usr/lib/x86_64-linux-gnu/libc.so.6", "libc"},
        {"/usr/bin/sensor-reader", "sensor reader v1.4"},
    };

    private SimDaemon() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3 || args.length % 2 == 0) {
            System.err.println("usage: outpost-sim POLICY-DIR TPM-URI SECURITYFS-DIR [TPM-URI SECURITYFS-DIR ...]");
            System.exit(2);
        }
        Path policies = Path.of(args[0]);
        List<SimulatedKernel> kernels = new ArrayList<>();
        for (int i = 1; i < args.length; i += 2) {
            SimulatedKernel k = new SimulatedKernel(args[i], Path.of(args[i + 1]));
            k.boot(BootProfile.defaults());
            for (String[] f : FILES) {
                k.measure(f[0], f[1].getBytes(StandardCharsets.UTF_8));
            }
            kernels.add(k);
        }
        Files.createDirectories(policies);
        Files.write(policies.resolve("boot.json"), GoodPolicies.bootPolicyJson(kernels.get(0)));
        // Written last: the demo waits for this file to know the kernels are up.
        Files.write(policies.resolve("runtime.json"), GoodPolicies.runtimePolicyJson(kernels.get(0)));
        System.out.println("simulated kernels booted: " + kernels.size());
        while (true) {
            for (SimulatedKernel k : kernels) {
                Path trigger = k.securityfs().resolve("tamper");
                if (Files.deleteIfExists(trigger)) {
                    k.measureUnlisted("/tmp/.x/cryptominer", "not in any policy".getBytes(StandardCharsets.UTF_8));
                    System.out.println("kernel " + k.securityfs() + " ran /tmp/.x/cryptominer");
                }
            }
            Thread.sleep(200);
        }
    }
}
