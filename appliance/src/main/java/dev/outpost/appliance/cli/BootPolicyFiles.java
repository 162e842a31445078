package dev.outpost.appliance.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import dev.outpost.ima.boot.BootPolicy;
import dev.outpost.ima.boot.BootPolicyJson;

/** Writes a measured-boot policy atomically, after checking it reads back as the same policy. */
final class BootPolicyFiles {
    private BootPolicyFiles() {
    }

    static void write(BootPolicy p, Path out) throws IOException {
        BootPolicyJson json = new BootPolicyJson();
        byte[] bytes = json.write(p);
        if (!json.read(bytes).equals(p)) {
            throw new IllegalStateException("policy does not read back identically; not written");
        }
        Path abs = out.toAbsolutePath();
        Path tmp = Files.createTempFile(abs.getParent(), ".boot-policy", ".tmp");
        try {
            Files.write(tmp, bytes);
            Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
