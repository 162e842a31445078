package dev.outpost.testkit;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** The shared third-party corpus (../shared/testdata), present in CI, maybe absent elsewhere. */
public final class TestData {
    private TestData() {
    }

    public static Optional<Path> root() {
        String p = System.getProperty("outpost.testdata");
        if (p == null) {
            return Optional.empty();
        }
        Path path = Path.of(p).normalize();
        return Files.isDirectory(path) ? Optional.of(path) : Optional.empty();
    }

    /** A file of the corpus; the calling test is skipped (not failed) when the corpus is absent. */
    public static Path require(String relative) {
        Path root = root().orElse(null);
        org.junit.jupiter.api.Assumptions.assumeTrue(root != null, "shared/testdata not present");
        Path p = root.resolve(relative);
        if (!Files.exists(p)) {
            throw new AssertionError("testdata file missing: " + p);
        }
        return p;
    }
}
