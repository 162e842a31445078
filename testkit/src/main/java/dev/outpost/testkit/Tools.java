package dev.outpost.testkit;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the external programs the tests drive; a missing one fails loudly, never skips silently. */
public final class Tools {
    private Tools() {
    }

    public static Path require(String program) {
        String path = System.getenv("PATH");
        for (String dir : (path == null ? "/usr/bin:/usr/sbin:/bin" : path + ":/usr/sbin").split(File.pathSeparator)) {
            Path p = Path.of(dir, program);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        throw new IllegalStateException(program + " is not installed: run scripts/install-deps");
    }
}
