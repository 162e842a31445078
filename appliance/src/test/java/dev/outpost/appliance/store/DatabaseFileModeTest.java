package dev.outpost.appliance.store;

import static dev.outpost.appliance.store.StoreFixtures.device;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The database holds every device's keys' publics, the audit trail and the policies: nobody but the service user
 * may read any file H2 makes for it, whatever the umask of whoever started the appliance (the JVM's is 022 here,
 * as in a shell, so without the owner-only file system these come out 0644).
 */
class DatabaseFileModeTest {
    @TempDir
    Path dir;

    @Test
    void everyFileH2MakesIsOwnerOnly() throws Exception {
        Path data = dir.resolve("data");
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        Set<Path> tmpBefore = outpostFiles(tmp).keySet();
        try (Database db = Database.open(data)) {
            new DeviceStore(db).upsertEnrolled(device(1));
            try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
                // the trace file only appears once H2 has something to trace
                st.execute("SET TRACE_LEVEL_FILE 3");
                st.execute("SELECT COUNT(*) FROM devices");
                // a result larger than MAX_MEMORY_ROWS spills to a temporary file while it is open
                st.execute("SET MAX_MEMORY_ROWS 10");
                Map<Path, String> spilled;
                try (ResultSet rs = st.executeQuery("SELECT X FROM SYSTEM_RANGE(1, 20000) ORDER BY X DESC")) {
                    rs.next();
                    spilled = new HashMap<>(outpostFiles(tmp));
                    spilled.putAll(outpostFiles(data));
                }
                st.execute("SET TRACE_LEVEL_FILE 1");
                spilled.keySet().removeAll(tmpBefore);
                assertThat(spilled.keySet().stream().map(p -> p.getFileName().toString()))
                        .as("a temporary result file appeared").anyMatch(n -> n.endsWith(".temp.db"));
                assertThat(spilled).as("temporary result files").allSatisfy((p, mode) -> assertThat(mode)
                        .as(p + " holds query results").isEqualTo("rw-------"));
            }
            Map<Path, String> files = outpostFiles(data);
            assertThat(files).containsKeys(data.resolve("outpost.mv.db"), data.resolve("outpost.trace.db"));
            assertThat(files).allSatisfy((p, mode) -> assertThat(mode)
                    .as(p + " must be readable by the service user only").isEqualTo("rw-------"));
        }
    }

    @Test
    void aDatabaseFileLeftWorldReadableByAnOlderVersionIsNarrowedAtOpen() throws IOException {
        try (Database db = Database.open(dir)) {
            new DeviceStore(db).upsertEnrolled(device(1));
        }
        Path file = dir.resolve("outpost.mv.db");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        try (Database db = Database.open(dir)) {
            assertThat(new DeviceStore(db).list()).hasSize(1);
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        }
    }

    private static Map<Path, String> outpostFiles(Path d) throws IOException {
        Map<Path, String> out = new HashMap<>();
        if (!Files.isDirectory(d)) {
            return out;
        }
        Set<Path> seen = new HashSet<>();
        try (Stream<Path> s = Files.list(d)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String n = p.getFileName().toString();
                // h2tmp: H2 names the temporary results it keeps in java.io.tmpdir so, whatever the database
                if ((n.startsWith("outpost.") || n.startsWith("h2tmp")) && Files.isRegularFile(p) && seen.add(p)) {
                    try {
                        out.put(p, PosixFilePermissions.toString(Files.getPosixFilePermissions(p)));
                    } catch (IOException gone) {
                        // another test's temporary file went away meanwhile
                    }
                }
            }
        }
        return out;
    }
}
