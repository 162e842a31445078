package dev.outpost.appliance.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import dev.outpost.ima.list.ImaEntryReader;
import dev.outpost.ima.list.ImaLimits;
import dev.outpost.ima.list.ImaLists;
import dev.outpost.ima.policy.RuntimePolicy;
import dev.outpost.ima.policy.RuntimePolicyBuilder;
import dev.outpost.tpm.HashAlg;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "runtime", mixinStandardHelpOptions = true,
        description = "Create a Keylime runtime policy from an IMA list and/or by hashing a root file system.")
final class CreateRuntimePolicyCommand implements Callable<Integer> {
    private static final int BUFFER = 1 << 16;

    @Spec
    CommandSpec spec;

    @Option(names = "--ima-log", description = "IMA measurement list of a known-good boot (ASCII or binary)")
    Path imaLog;

    @Option(names = "--rootfs", description = "Root file system to hash; its files are recorded as absolute paths")
    Path rootfs;

    @Option(names = "--exclude", description = "Exclude regex (Python re.match semantics); repeatable")
    List<String> excludes = new ArrayList<>();

    @Option(names = "--algo", description = "File digest algorithm for --rootfs (default: the IMA list's, else sha256)")
    String algo;

    @Option(names = "--progress", description = "Show a progress bar even when stderr is not a terminal")
    boolean progress;

    @Option(names = "--out", required = true, description = "Runtime policy JSON to write")
    Path out;

    @Override
    public Integer call() throws Exception {
        if (imaLog == null && rootfs == null) {
            throw new IllegalArgumentException("give --ima-log and/or --rootfs");
        }
        HashAlg alg = algo == null ? null : HashAlg.fromName(algo)
                .filter(a -> a.tpmName().equals(algo.toLowerCase(Locale.ROOT)))
                .orElseThrow(() -> new IllegalArgumentException("unknown algorithm " + algo));
        RuntimePolicyBuilder b = new RuntimePolicyBuilder(excludes, alg);
        PrintWriter err = spec.commandLine().getErr();
        if (imaLog != null) {
            try (InputStream in = Files.newInputStream(imaLog); ImaEntryReader r = ImaLists.open(in, ImaLimits.DEFAULT, 0)) {
                b.addImaList(r);
            }
        }
        long skipped = 0;
        if (rootfs != null) {
            if (!Files.isDirectory(rootfs)) {
                throw new IllegalArgumentException(rootfs + " is not a directory");
            }
            HashAlg fileAlg = b.alg() == null ? HashAlg.SHA256 : b.alg();
            if (b.alg() == null) {
                b = rebuild(fileAlg);
                if (imaLog != null) {
                    try (InputStream in = Files.newInputStream(imaLog);
                            ImaEntryReader r = ImaLists.open(in, ImaLimits.DEFAULT, 0)) {
                        b.addImaList(r);
                    }
                }
            }
            skipped = hashTree(b, fileAlg, err);
        }
        RuntimePolicy p = b.build();
        PolicyFiles.write(p, out);
        PrintWriter o = spec.commandLine().getOut();
        o.printf("wrote %s: %d paths, %d keyrings, %d ima-buf names%s%n", out, p.digests().size(), p.keyrings().size(),
                p.imaBuf().size(), skipped > 0 ? ", " + skipped + " unreadable files skipped" : "");
        o.flush();
        return 0;
    }

    private RuntimePolicyBuilder rebuild(HashAlg alg) {
        return new RuntimePolicyBuilder(excludes, alg);
    }

    /** Regular files only; symlinks are not followed, so the tree cannot loop or leave the root. */
    private long hashTree(RuntimePolicyBuilder b, HashAlg alg, PrintWriter err) throws IOException {
        List<Path> files = new ArrayList<>();
        long[] skipped = {0};
        Path root = rootfs.toAbsolutePath().normalize();
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                return b.isExcluded(policyPath(root, dir) + "/") && !dir.equals(root) ? FileVisitResult.SKIP_SUBTREE
                        : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                if (attrs.isRegularFile() && !b.isExcluded(policyPath(root, file))) {
                    files.add(file);
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException exc) {
                skipped[0]++;
                return FileVisitResult.CONTINUE;
            }
        });
        boolean show = progress || System.console() != null;
        ProgressBar bar = show ? new ProgressBar(err, files.size()) : null;
        byte[] buf = new byte[BUFFER];
        long done = 0;
        for (Path f : files) {
            try (InputStream in = Files.newInputStream(f)) {
                HashAlg.Hasher h = alg.newHasher();
                for (int n; (n = in.read(buf)) > 0;) {
                    h.update(buf, 0, n);
                }
                b.addFile(policyPath(root, f), h.digest());
            } catch (IOException e) {
                skipped[0]++;
            }
            if (bar != null) {
                bar.update(++done);
            }
        }
        if (bar != null) {
            bar.finish();
        }
        return skipped[0];
    }

    private static String policyPath(Path root, Path p) {
        String rel = root.relativize(p).toString().replace('\\', '/');
        return "/" + rel;
    }
}
