package dev.outpost.agent.workload;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

import dev.outpost.testkit.ProcessRunner;

/**
 * Runs a class of the test classpath in a JVM of its own under another uid ({@code setpriv}): the kernel then tells
 * the agent that uid on the socket. The classpath is copied where that uid can read it (root's ~/.m2 is 0700).
 */
final class ChildJvm {
    record Result(int exit, String stdout, String stderr) {
    }

    private ChildJvm() {
    }

    static Result run(Path tmp, int uid, Class<?> main, String... args) throws IOException {
        ProcessRunner.Result r = ProcessRunner.run(command(tmp, uid, main, args), tmp, java.util.Map.of(), 120);
        return new Result(r.exitCode(), r.stdout(), r.stderr());
    }

    static List<String> command(Path tmp, int uid, Class<?> main, String... args) throws IOException {
        String cp = readableClasspath(tmp);
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx64m", "-cp", cp,
                main.getName()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    static synchronized String readableClasspath(Path tmp) throws IOException {
        Path dir = tmp.resolve("child-classpath");
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        List<String> out = new ArrayList<>();
        int i = 0;
        for (String e : entries()) {
            Path p = Path.of(e);
            if (!Files.exists(p)) {
                continue;
            }
            Path target = dir.resolve((i++) + "-" + p.getFileName());
            if (Files.isDirectory(p)) {
                copyTree(p, target);
            } else {
                Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING);
                Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-r--r--"));
            }
            out.add(target.toString());
        }
        return String.join(File.pathSeparator, out);
    }

    // Surefire may start the test JVM with a manifest-only jar: its Class-Path holds the real entries.
    private static List<String> entries() throws IOException {
        List<String> out = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (e.endsWith(".jar") && Path.of(e).getFileName().toString().startsWith("surefirebooter")) {
                try (JarFile j = new JarFile(e)) {
                    Manifest m = j.getManifest();
                    for (String u : m.getMainAttributes().getValue("Class-Path").split(" ")) {
                        if (!u.isBlank()) {
                            out.add(Path.of(java.net.URI.create(u)).toString());
                        }
                    }
                }
            } else {
                out.add(e);
            }
        }
        return out;
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (var walk = Files.walk(from)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                    Files.setPosixFilePermissions(t, PosixFilePermissions.fromString("rwxr-xr-x"));
                } else {
                    Files.copy(p, t, StandardCopyOption.REPLACE_EXISTING);
                    Files.setPosixFilePermissions(t, PosixFilePermissions.fromString("rw-r--r--"));
                }
            }
        }
    }
}
