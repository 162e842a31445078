package dev.outpost.appliance.site;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.jar.JarFile;

import dev.outpost.testkit.ProcessRunner;

/**
 * A workload in a JVM of its own under another uid ({@code setpriv}), so the kernel tells the agent that uid on the
 * Workload API socket: {@code main(ADDRESS)} asks once with java-spiffe's client and prints {@code SPIFFE_ID=} or
 * {@code ERROR=}. The test classpath is copied where that uid can read it (root's ~/.m2 is 0700), once per directory.
 */
public final class WorkloadChild {
    private WorkloadChild() {
    }

    public static void main(String[] args) {
        try (var client = io.spiffe.workloadapi.DefaultWorkloadApiClient.newClient(
                io.spiffe.workloadapi.DefaultWorkloadApiClient.ClientOptions.builder().spiffeSocketPath(args[0]).build())) {
            System.out.println("SPIFFE_ID=" + client.fetchX509Context().getDefaultSvid().getSpiffeId());
        } catch (Exception e) {
            System.out.println("ERROR=" + e + (e.getCause() == null ? "" : " / " + e.getCause()));
        }
        System.out.flush();
        System.exit(0);
    }

    /** Runs {@link #main} under {@code uid}; returns its standard output. */
    static String run(Path dir, int uid, String address) throws IOException {
        List<String> cmd = List.of("setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups",
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx64m", "-cp",
                readableClasspath(dir), WorkloadChild.class.getName(), address);
        ProcessRunner.Result r = ProcessRunner.run(cmd, dir, Map.of(), 120);
        return r.stdout();
    }

    private static synchronized String readableClasspath(Path dir) throws IOException {
        Path list = dir.resolve("child-classpath.txt");
        if (Files.exists(list)) {
            return Files.readString(list);
        }
        Path cp = dir.resolve("child-classpath");
        Files.createDirectories(cp);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(cp, PosixFilePermissions.fromString("rwxr-xr-x"));
        List<String> out = new ArrayList<>();
        int i = 0;
        for (String e : entries()) {
            Path p = Path.of(e);
            if (Files.exists(p)) {
                Path target = cp.resolve((i++) + "-" + p.getFileName());
                copy(p, target);
                out.add(target.toString());
            }
        }
        String joined = String.join(File.pathSeparator, out);
        Files.writeString(list, joined);
        return joined;
    }

    // Surefire may start the test JVM with a manifest-only jar: its Class-Path holds the real entries.
    private static List<String> entries() throws IOException {
        List<String> out = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (e.endsWith(".jar") && Path.of(e).getFileName().toString().startsWith("surefirebooter")) {
                try (JarFile j = new JarFile(e)) {
                    for (String u : j.getManifest().getMainAttributes().getValue("Class-Path").split(" ")) {
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

    private static void copy(Path from, Path to) throws IOException {
        try (var walk = Files.walk(from)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                Path t = Files.isDirectory(from) ? to.resolve(from.relativize(p).toString()) : to;
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
