package dev.outpost.appliance.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The appliance may be killed at any moment; every transaction it reported committed must be there afterwards.
 * A child JVM commits rows as fast as it can, we SIGKILL it right after it reports a commit, reopen the file
 * and look for every reported row. Several rounds on the same file also exercise recovery of a killed store.
 * Control experiments: with H2's WRITE_DELAY alone (500 ms, 2026-11-23) the first round lost all 150 reported
 * rows; with {@code Database.inTransaction} not waiting for {@link GroupCommit} (2026-12-06) both tests fail.
 */
class DatabaseDurabilityTest {
    @TempDir
    Path dir;

    @Test
    void everyReportedCommitSurvivesKillMinus9() throws Exception {
        int[] killAfter = {150, 400, 50};
        for (int round = 0; round < killAfter.length; round++) {
            long lastReported = runAndKill(round, killAfter[round]);
            assertThat(lastReported).isGreaterThanOrEqualTo(killAfter[round]);
            try (Database db = Database.open(dir)) {
                Set<Long> found = committedRows(db, round);
                for (long n = 1; n <= lastReported; n++) {
                    assertThat(found).as("round %d: row %d was reported committed before the kill", round, n).contains(n);
                }
                // killed in the middle of an append: the row and its chain fields commit together or not at all
                assertThat(dev.outpost.appliance.audit.AuditVerifier.verify(db, false, null, null).problems())
                        .as("round %d: the audit chain after kill -9", round).isEmpty();
            }
        }
    }

    /**
     * Eight writers at once: their commits share H2's writes ({@link GroupCommit}), and a commit acknowledged on the
     * strength of another thread's write must be in the file as surely as one that wrote itself.
     */
    @Test
    void everyReportedCommitOfConcurrentWritersSurvivesKillMinus9() throws Exception {
        int[] killAfter = {2000, 500};
        for (int round = 0; round < killAfter.length; round++) {
            Process p = child(round, "concurrent");
            long[] last = new long[DurabilityChild.THREADS];
            long total = 0;
            try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = out.readLine()) != null) {
                    if (line.startsWith("committed ")) {
                        String[] f = line.split(" ");
                        int t = Integer.parseInt(f[1]);
                        last[t] = Math.max(last[t], Long.parseLong(f[2]));
                        if (++total >= killAfter[round]) {
                            p.destroyForcibly();
                            break;
                        }
                    }
                }
            } finally {
                p.destroyForcibly();
                assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
            }
            assertThat(total).as("child output; see %s", dir.resolve("child-" + round + ".err"))
                    .isGreaterThanOrEqualTo(killAfter[round]);
            int r = round;
            try (Database db = Database.open(dir)) {
                long[] found = db.inTransaction(c -> {
                    long[] max = new long[DurabilityChild.THREADS];
                    try (PreparedStatement ps = c.prepareStatement(
                            "SELECT t, COUNT(*), MAX(n) FROM durability_probe WHERE round = ? GROUP BY t")) {
                        ps.setInt(1, r);
                        try (ResultSet rs = ps.executeQuery()) {
                            while (rs.next()) {
                                // rows 1..max, none missing: the count equals the highest number
                                assertThat(rs.getLong(2)).as("thread %d: rows 1..%d all there", rs.getInt(1), rs.getLong(3))
                                        .isEqualTo(rs.getLong(3));
                                max[rs.getInt(1)] = rs.getLong(3);
                            }
                        }
                    }
                    return max;
                });
                for (int t = 0; t < last.length; t++) {
                    assertThat(found[t]).as("round %d, thread %d: row %d was reported committed before the kill", round,
                            t, last[t]).isGreaterThanOrEqualTo(last[t]);
                }
            }
        }
    }

    @Test
    void aSecondProcessCannotOpenTheDatabase() throws Exception {
        Process p = child(99);
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            do {
                line = out.readLine();
            } while (line != null && !line.startsWith("committed "));
            assertThat(line).as("child started writing").isNotNull();
            // two appliances on one file would corrupt it; H2's file lock must keep the second out
            assertThatThrownBy(() -> Database.open(dir)).isInstanceOf(StoreException.class)
                    .hasMessageContaining("cannot open or migrate the database");
        } finally {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private Process child(int round, String... mode) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new java.util.ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"),
                DurabilityChild.class.getName(), dir.toString(), Integer.toString(round)));
        cmd.addAll(List.of(mode));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.redirectError(dir.resolve("child-" + round + ".err").toFile());
        return pb.start();
    }

    private long runAndKill(int round, int killAfter) throws Exception {
        Process p = child(round);
        long last = 0;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith("committed ")) {
                    last = Long.parseLong(line.substring("committed ".length()));
                    if (last >= killAfter) {
                        p.destroyForcibly(); // SIGKILL on Linux: no shutdown hooks, no H2 close
                        break;
                    }
                }
            }
        } finally {
            p.destroyForcibly();
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(last).as("child output; see %s", dir.resolve("child-" + round + ".err")).isPositive();
        assertThat(p.exitValue()).as("killed by SIGKILL").isEqualTo(137);
        return last;
    }

    private static Set<Long> committedRows(Database db, int round) {
        return db.inTransaction(c -> {
            Set<Long> out = new HashSet<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT detail FROM audit WHERE action = 'durability' AND reason = ?")) {
                ps.setString(1, "round " + round);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(Long.parseLong(rs.getString(1)));
                    }
                }
            }
            return out;
        });
    }
}
