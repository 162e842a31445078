package dev.outpost.sim;

import java.io.IOException;
import java.security.PublicKey;
import java.util.List;
import java.util.Map;

import dev.outpost.ima.boot.BootPolicy;
import dev.outpost.ima.boot.BootPolicyGenerator;
import dev.outpost.ima.boot.BootPolicyJson;
import dev.outpost.ima.boot.GeneratedPolicy;
import dev.outpost.ima.policy.RuntimePolicy;
import dev.outpost.ima.policy.RuntimePolicyBuilder;
import dev.outpost.ima.policy.RuntimePolicyJson;
import dev.outpost.ima.policy.VerificationKeys;
import dev.outpost.tpm.eventlog.EventLog;
import dev.outpost.tpm.eventlog.EventLogException;

/**
 * Policies that a {@link SimulatedKernel}'s known-good state passes, made with the product's own generators (so a
 * test exercises them too) and offered as the JSON the appliance loads.
 */
public final class GoodPolicies {
    private GoodPolicies() {
    }

    /** boot_aggregate of every boot and every file {@code measure}d so far (not the tampering methods' files). */
    public static RuntimePolicy runtimePolicy(SimulatedKernel kernel) {
        RuntimePolicyBuilder b = new RuntimePolicyBuilder(List.of(), SimulatedKernel.IMA_HASH);
        kernel.knownGood().forEach((path, digests) -> digests.forEach(d -> b.addFile(path, d)));
        return b.build();
    }

    /** boot_aggregate of the kernel's boots plus exactly these files (path → content), whatever was measured. */
    public static RuntimePolicy runtimePolicy(SimulatedKernel kernel, Map<String, byte[]> files) {
        RuntimePolicyBuilder b = new RuntimePolicyBuilder(List.of(), SimulatedKernel.IMA_HASH);
        List<byte[]> aggregates = kernel.knownGood().getOrDefault(SimulatedKernel.BOOT_AGGREGATE, List.of());
        aggregates.forEach(d -> b.addFile(SimulatedKernel.BOOT_AGGREGATE, d));
        files.forEach((path, content) -> b.addFile(path, SimulatedKernel.IMA_HASH.digest(content)));
        return b.build();
    }

    /** The same policy, also trusting these keys for ima-sig signatures (Keylime's verification-keys, ".ima"). */
    public static RuntimePolicy trusting(RuntimePolicy p, List<PublicKey> keys) {
        return new RuntimePolicy(p.version(), p.generator(), p.timestamp(), p.release(), p.digests(), p.excludes(),
                p.keyrings(), p.ima(), p.imaBuf(), VerificationKeys.serialize(Map.of(".ima", keys)));
    }

    public static byte[] runtimePolicyJson(SimulatedKernel kernel) {
        return new RuntimePolicyJson().write(runtimePolicy(kernel));
    }

    public static byte[] runtimePolicyJson(SimulatedKernel kernel, Map<String, byte[]> files) {
        return new RuntimePolicyJson().write(runtimePolicy(kernel, files));
    }

    /**
     * BootPolicyGenerator over the current boot log (Secure Boot, PK/KEK/db subset, dbx superset, the three boot
     * applications, the exact command line; PCR values not pinned).
     */
    public static BootPolicy bootPolicy(SimulatedKernel kernel) throws IOException {
        GeneratedPolicy g = BootPolicyGenerator.generate(parse(kernel.bootLogBytes()), false);
        if (!g.warnings().isEmpty()) {
            // Our own log is complete; a warning means the generator left a check out, which tests must notice.
            throw new IllegalStateException("boot policy generated with warnings: " + g.warnings());
        }
        return g.policy();
    }

    public static byte[] bootPolicyJson(SimulatedKernel kernel) throws IOException {
        return new BootPolicyJson().write(bootPolicy(kernel));
    }

    private static EventLog parse(byte[] log) throws IOException {
        try {
            return EventLog.parse(log);
        } catch (EventLogException e) {
            throw new IOException("the simulated boot log does not parse: " + e.getMessage(), e);
        }
    }
}
