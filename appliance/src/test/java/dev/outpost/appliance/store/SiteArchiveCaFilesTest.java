package dev.outpost.appliance.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A nested site's backup carries its upstream roots (and a rotated site's previous CA): restored without them, the
 * site CA's SVIDs would verify against nothing devices hold. A site without them still writes format 1.
 */
class SiteArchiveCaFilesTest {
    @TempDir
    Path dir;

    @Test
    void upstreamRootsAndPreviousCaGoIntoTheBackupAndComeBack() throws Exception {
        Path ca = Files.createDirectories(dir.resolve("ca"));
        Files.writeString(ca.resolve("ca.key"), "key");
        Files.writeString(ca.resolve("ca.crt"), "crt");
        Files.writeString(ca.resolve("upstream-roots.pem"), "roots");
        Files.writeString(ca.resolve("previous.crt"), "previous");
        Files.writeString(ca.resolve("next.key"), "not backed up: a pending key is made again by ca csr");
        Path archive = write(ca, "a.tar.gz");
        Path staging = Files.createDirectories(dir.resolve("staging"));
        SiteArchive.extract(archive, staging);
        assertThat(Files.readString(staging.resolve("ca/upstream-roots.pem"))).isEqualTo("roots");
        assertThat(Files.readString(staging.resolve("ca/previous.crt"))).isEqualTo("previous");
        assertThat(staging.resolve("ca/next.key")).doesNotExist();

        Files.delete(ca.resolve("upstream-roots.pem"));
        Files.delete(ca.resolve("previous.crt"));
        Path plain = write(ca, "b.tar.gz");
        Path staging2 = Files.createDirectories(dir.resolve("staging2"));
        SiteArchive.extract(plain, staging2);
        assertThat(staging2.resolve("ca/ca.crt")).exists();
    }

    private Path write(Path ca, String name) throws Exception {
        Path archive = dir.resolve(name);
        byte[] db = "database".getBytes();
        try (OutputStream out = Files.newOutputStream(archive)) {
            SiteArchive.write(out, new ByteArrayInputStream(db), db.length, ca, Instant.now(), "corp.example", "plant");
        }
        return archive;
    }
}
