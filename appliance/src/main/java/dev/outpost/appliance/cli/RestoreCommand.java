package dev.outpost.appliance.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

import dev.outpost.appliance.ca.SiteCa;
import dev.outpost.appliance.store.Database;
import dev.outpost.appliance.store.DeviceStore;
import dev.outpost.appliance.store.SiteArchive;
import dev.outpost.appliance.store.SiteDirectory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Puts a site back from a {@code backup} archive. Everything is checked in a staging directory first (the archive's
 * checksums, that the database opens, that the CA key signs for the certificate); only then is the data directory
 * touched, so a damaged archive never costs what is there.
 */
@Command(name = "restore", mixinStandardHelpOptions = true,
        description = {"Restore a site (database and CA) from a backup archive into a data directory; the appliance "
                + "must be stopped. Devices keep their enrollment and identities.",
                "A non-empty data directory is refused unless --force, which moves its database and CA into "
                        + "discarded-<time>/ (nothing is deleted)."})
final class RestoreCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--from", required = true, description = "Archive written by `outpost-appliance backup`")
    Path from;

    @Option(names = "--data-dir", required = true, description = "The appliance's data directory (dataDir)")
    Path dataDir;

    @Option(names = "--force", description = "Replace the site in a non-empty data directory")
    boolean force;

    @Override
    public Integer call() throws Exception {
        Path dir = dataDir.toAbsolutePath().normalize();
        SiteDirectory site = new SiteDirectory(dir, dir.resolve(SiteDirectory.CA_DIR));
        if (!force && !isEmpty(dir)) {
            throw new IOException(dir + " is not empty: restoring would replace what it holds. Add --force to move "
                    + "its database and CA aside (into discarded-<time>/) and restore over it");
        }
        if (site.inUse()) {
            throw new IOException("the database in " + dir + " is in use: stop the appliance first");
        }
        Path parent = dir.getParent();
        Files.createDirectories(parent);
        Path staging = Files.createTempDirectory(parent, "." + dir.getFileName() + ".restore-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        try {
            SiteArchive.Manifest m = SiteArchive.extract(from, staging);
            Path stagedCa = staging.resolve(SiteDirectory.CA_DIR);
            boolean sealed = Files.exists(stagedCa.resolve(SiteCa.KEY_FILE + dev.outpost.appliance.ca.CaKeys.SEALED_SUFFIX));
            // A key sealed to a TPM is checked where it can be: at start, on the gateway whose TPM sealed it.
            java.time.Instant caNotAfter = sealed
                    ? dev.outpost.spiffe.PemIo.certificates(Files.readString(stagedCa.resolve(SiteCa.CERT_FILE),
                            java.nio.charset.StandardCharsets.US_ASCII), 8).get(0).getNotAfter().toInstant()
                    : SiteCa.loadOrCreate(stagedCa, m.trustDomain(), m.site(), java.time.Duration.ofDays(1),
                            Clock.systemUTC()).notAfter();
            int devices;
            try (Database db = Database.open(staging)) {
                devices = new DeviceStore(db).list().size();
                // Central may hold events written after this backup under the seqs the site will now reuse.
                dev.outpost.appliance.store.OutboxStore.markRestored(db);
            }
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            if (!isEmpty(dir)) {
                CliSupport.println(spec, "moved the site that was in " + dir + " to " + site.discard(Instant.now()));
            }
            try (Stream<Path> files = Files.list(staging)) {
                for (Path p : (Iterable<Path>) files::iterator) {
                    Files.move(p, dir.resolve(p.getFileName()));
                }
            }
            CliSupport.println(spec, "restored site " + m.site() + " of " + m.trustDomain() + " as of " + m.createdAt()
                    + " into " + dir + ": " + devices + " device(s), CA valid until " + caNotAfter);
            if (sealed) {
                CliSupport.println(spec, "the CA key is sealed to a TPM (ca.keyProtection: tpm): it unseals only on the "
                        + "gateway whose TPM sealed it, with upstream.tpm pointing at that TPM");
            }
            CliSupport.println(spec, "start the appliance; devices reconnect with the identities they hold");
            return 0;
        } finally {
            BackupCommand.deleteTree(staging);
        }
    }

    private static boolean isEmpty(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return true;
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        }
    }
}
