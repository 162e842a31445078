package dev.outpost.appliance.attest;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.outpost.appliance.store.PolicyStore;
import dev.outpost.ima.boot.BootPolicy;
import dev.outpost.ima.boot.BootPolicyJson;
import dev.outpost.ima.policy.PolicyLoader;
import dev.outpost.ima.verify.CompiledPolicy;

/**
 * Parsed and compiled policies, keyed by name and content hash: a 100,000-path runtime policy takes a fraction
 * of a second to compile, which must not be paid on every attestation; a replaced policy has a new hash.
 */
final class PolicyCache {
    private final Map<String, CompiledPolicy> runtime = new ConcurrentHashMap<>();
    private final Map<String, BootPolicy> boot = new ConcurrentHashMap<>();

    CompiledPolicy runtime(PolicyStore.Policy p) {
        return runtime.computeIfAbsent(p.name() + "@" + p.sha256(),
                k -> CompiledPolicy.load(PolicyLoader.unsigned(), p.content()));
    }

    BootPolicy boot(PolicyStore.Policy p) {
        return boot.computeIfAbsent(p.name() + "@" + p.sha256(), k -> new BootPolicyJson().read(p.content()));
    }
}
