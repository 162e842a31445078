package dev.outpost.appliance.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import dev.outpost.ima.policy.RuntimePolicy;
import dev.outpost.ima.policy.RuntimePolicyJson;

/** Writes a policy atomically, after checking it reads back as the same policy. */
final class PolicyFiles {
    private PolicyFiles() {
    }

    static void write(RuntimePolicy p, Path out) throws IOException {
        RuntimePolicyJson json = new RuntimePolicyJson();
        byte[] bytes = json.write(p);
        if (!json.read(bytes).equals(p)) {
            throw new IllegalStateException("policy does not read back identically; not written");
        }
        Path abs = out.toAbsolutePath();
        Path tmp = Files.createTempFile(abs.getParent(), ".policy", ".tmp");
        try {
            Files.write(tmp, bytes);
            Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
