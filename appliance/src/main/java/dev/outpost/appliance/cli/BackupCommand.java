package dev.outpost.appliance.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

import dev.outpost.appliance.admin.AdminClient;
import dev.outpost.appliance.store.SiteArchive;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Online backup through the running appliance: it takes H2's consistent backup while devices go on attesting, so a
 * backup needs no downtime. The archive is checked here, as restore would, before it takes its final name.
 */
@Command(name = "backup", mixinStandardHelpOptions = true,
        description = {"Back up the running site (database and CA) to a .tar.gz archive, online.",
                "The archive holds the site CA's private key (-rw------- inside it, and the file itself is written "
                        + "0600): keep it where the key itself may be."})
final class BackupCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    AdminSocket admin;

    @Option(names = "--out", required = true, description = "Archive to write (refused if it exists, unless --force)")
    Path out;

    @Option(names = "--force", description = "Replace an existing archive")
    boolean force;

    @Override
    public Integer call() throws Exception {
        Path target = out.toAbsolutePath();
        if (Files.exists(target) && !force) {
            throw new IOException(target + " exists; choose another name or add --force to replace it");
        }
        Path part = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".part",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Path check = null;
        try {
            admin.call(new AdminClient(admin.socket).download("/v1/backup", part));
            check = Files.createTempDirectory(target.getParent(), "." + target.getFileName() + ".check",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            SiteArchive.Manifest m = SiteArchive.extract(part, check);
            Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            CliSupport.println(spec, "wrote " + target + " (" + Files.size(target) + " bytes, checked): site " + m.site()
                    + " of " + m.trustDomain() + " as of " + m.createdAt() + ", database " + m.databaseBytes()
                    + " bytes, CA key and certificate");
            CliSupport.println(spec, "it holds the site CA's private key: keep it where the key itself may be");
            return 0;
        } finally {
            Files.deleteIfExists(part);
            if (check != null) {
                deleteTree(check);
            }
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> w = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) w.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
