package dev.outpost.ima;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/** The shared third-party corpus; tests using it skip when it is absent and never stand alone. */
public final class TestData {
    private TestData() {
    }

    public static Path file(String relative) {
        String root = System.getProperty("outpost.testdata");
        assumeTrue(root != null && Files.isDirectory(Path.of(root)), "outpost.testdata not available");
        Path p = Path.of(root).resolve(relative);
        assumeTrue(Files.exists(p), relative + " missing");
        return p;
    }
}
