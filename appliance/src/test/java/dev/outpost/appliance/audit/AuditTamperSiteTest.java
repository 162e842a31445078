package dev.outpost.appliance.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.appliance.cli.ApplianceCli;
import dev.outpost.appliance.store.AuditEvent;
import dev.outpost.appliance.store.AuditEvent.Decision;
import dev.outpost.appliance.store.AuditLog;
import dev.outpost.appliance.store.Database;
import dev.outpost.appliance.store.SqlWork;
import dev.outpost.auditchain.ChainLink;
import dev.outpost.testkit.CliRun;
import dev.outpost.testkit.Swtpm;
import dev.outpost.testkit.SwtpmExtension;
import dev.outpost.tpm.nvanchor.ExtendIndex;

/**
 * The audit trail of a site whose gateway TPM is a real swtpm: records appended, two checkpoints anchored in the TPM,
 * more records after them, the database closed (appliance stopped). Then each kind of tampering is done to a copy of
 * the H2 file with plain SQL, and {@code outpost-appliance audit verify} must fail and name the record.
 */
@ExtendWith(SwtpmExtension.class)
class AuditTamperSiteTest {
    private static final Instant T0 = Instant.parse("2026-11-01T08:00:00Z");
    @TempDir
    Path tmp;

    /** 60 routine records (every 10th lasting instead), anchored after 25 and 50 records; 10 more unanchored. */
    private Path site(Swtpm swtpm) {
        Path data = tmp.resolve("site");
        try (Database db = Database.open(data)) {
            AuditLog audit = new AuditLog(db);
            TpmAnchor anchor = new TpmAnchor(db, swtpm.uri(), data.resolve("upstream"), ExtendIndex.DEFAULT_INDEX,
                    Clock.fixed(T0, ZoneOffset.UTC));
            for (int i = 1; i <= 70; i++) {
                boolean lasting = i % 10 == 0;
                audit.record(AuditEvent.of(T0.plusSeconds(i), null, lasting ? "revoke" : "issue",
                        lasting ? Decision.DENY : Decision.ALLOW, "record " + i, "detail " + i));
                if (i == 25 || i == 50) {
                    assertThat(anchor.anchor()).isPresent();
                }
            }
            assertThat(anchor.anchor()).as("heads moved: a third checkpoint").isPresent();
            assertThat(anchor.anchor()).as("heads did not move: no checkpoint").isEmpty();
            // the tail after the third checkpoint stays unanchored
            for (int i = 71; i <= 75; i++) {
                audit.record(AuditEvent.of(T0.plusSeconds(i), null, "issue", Decision.ALLOW, "record " + i, null));
            }
        }
        return data;
    }

    private CliRun verify(Path data, Swtpm swtpm) {
        return CliRun.run(ApplianceCli::commandLine, "audit", "verify", "--data-dir", data.toString(), "--tpm",
                swtpm.uri());
    }

    private Path tampered(Path site, String name, SqlWork<Object> sql) {
        Path copy = tmp.resolve(name);
        copyTree(site, copy);
        try (Database db = Database.open(copy)) {
            db.inTransaction(sql);
        }
        return copy;
    }

    private static int update(java.sql.Connection c, String sql) throws java.sql.SQLException {
        try (var st = c.createStatement()) {
            return st.executeUpdate(sql);
        }
    }

    private static long idAt(java.sql.Connection c, long seq) throws java.sql.SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT id FROM audit WHERE lasting = FALSE AND chain_seq = ?")) {
            ps.setLong(1, seq);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    @Test
    void everyKindOfTamperingWithTheStoppedSitesDatabaseIsDetectedAndNamed(Swtpm swtpm) throws Exception {
        Path site = site(swtpm);
        CliRun clean = verify(site, swtpm);
        assertThat(clean.exitCode()).as(clean.out() + clean.err()).isZero();
        assertThat(clean.out()).contains("audit chain: verified").contains("checkpoints: 3")
                .contains("5 record(s) after the last checkpoint");

        long[] id = new long[1];
        Path modified = tampered(site, "modified", c -> {
            id[0] = idAt(c, 10);
            return update(c, "UPDATE audit SET reason = 'nothing happened' WHERE lasting = FALSE AND chain_seq = 10");
        });
        CliRun r = verify(modified, swtpm);
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.out()).contains("PROBLEM MODIFIED (routine): record seq 10 (audit id " + id[0] + ") modified");

        Path removed = tampered(site, "removed", c -> update(c, "DELETE FROM audit WHERE lasting = FALSE AND chain_seq = 12"));
        r = verify(removed, swtpm);
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.out()).contains("PROBLEM REMOVED (routine): 1 record(s) removed: seq 12 missing");

        Path reordered = tampered(site, "reordered", c -> {
            id[0] = idAt(c, 15);
            update(c, "UPDATE audit SET chain_seq = -1 WHERE lasting = FALSE AND chain_seq = 14");
            update(c, "UPDATE audit SET chain_seq = 14 WHERE lasting = FALSE AND chain_seq = 15");
            return update(c, "UPDATE audit SET chain_seq = 15 WHERE lasting = FALSE AND chain_seq = -1");
        });
        r = verify(reordered, swtpm);
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.out()).contains("PROBLEM REORDERED (routine): record seq 14 (audit id " + id[0] + ") comes after "
                + "seq 15");

        // a forger who knows the encoding: the inserted row hashes right and links to the one before it
        Path inserted = tampered(site, "inserted", c -> {
            update(c, "UPDATE audit SET chain_seq = chain_seq + 1000000 WHERE lasting = FALSE AND chain_seq >= 20");
            update(c, "UPDATE audit SET chain_seq = chain_seq - 999999 WHERE lasting = FALSE AND chain_seq >= 1000000");
            byte[] prev;
            try (var st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT chain_hash FROM audit WHERE lasting = FALSE AND chain_seq = 19")) {
                rs.next();
                prev = rs.getBytes(1);
            }
            Instant at = T0.plusSeconds(21).plusMillis(500);
            ChainLink forged = new ChainLink(false, 20, prev, at, null, "issue", "allow", "forged", null);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO audit (at, action, decision, reason, lasting, "
                    + "chain_seq, chain_prev, chain_hash) VALUES (?, 'issue', 'allow', 'forged', FALSE, 20, ?, ?)")) {
                ps.setObject(1, java.time.OffsetDateTime.ofInstant(at, ZoneOffset.UTC));
                ps.setBytes(2, prev);
                ps.setBytes(3, forged.hash());
                ps.executeUpdate();
            }
            return null;
        });
        r = verify(inserted, swtpm);
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.out()).contains("PROBLEM INSERTED (routine): record seq 20 (audit id").contains(") inserted");

        // the end cut back before the last checkpoint, the rows' own head moved back to match: only the checkpoints
        // (left in place) and the TPM still say how far the chain went
        Path cutWithCheckpoints = tampered(site, "cut", c -> cutTo(c, 30));
        r = verify(cutWithCheckpoints, swtpm);
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.out()).contains("PROBLEM TAIL_CUT (routine): checkpoint").contains("but the chain ends at seq 30");

        Path cutClean = tampered(site, "cut-clean", c -> {
            cutTo(c, 30);
            return update(c, "DELETE FROM audit_checkpoint WHERE id > (SELECT MIN(id) FROM audit_checkpoint)");
        });
        r = verify(cutClean, swtpm);
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.out()).contains("PROBLEM TAIL_CUT (tpm): the TPM's audit index holds");
        CliRun noTpm = CliRun.run(ApplianceCli::commandLine, "audit", "verify", "--data-dir", cutClean.toString(), "--no-tpm");
        assertThat(noTpm.exitCode()).as("without the TPM the cut is invisible, and verify says so").isZero();
        assertThat(noTpm.out()).contains("TPM not checked");

        CliRun json = CliRun.run(ApplianceCli::commandLine, "audit", "verify", "--json", "--data-dir",
                modified.toString(), "--tpm", swtpm.uri());
        assertThat(json.exitCode()).isEqualTo(1);
        assertThat(json.out()).contains("\"ok\" : false").contains("\"kind\" : \"MODIFIED\"").contains("\"seq\" : 10");
    }

    /** Deletes the routine records after {@code seq} and moves the routine head back to it. */
    private static Object cutTo(java.sql.Connection c, long seq) throws java.sql.SQLException {
        update(c, "DELETE FROM audit WHERE lasting = FALSE AND chain_seq > " + seq);
        return update(c, "UPDATE audit_chain SET head_seq = " + seq + ", head_hash = (SELECT chain_hash FROM audit WHERE "
                + "lasting = FALSE AND chain_seq = " + seq + ") WHERE lasting = FALSE");
    }

    @Test
    void exportPrintsTheChainAndTheCheckpointsAsJsonLines(Swtpm swtpm) {
        Path site = site(swtpm);
        CliRun r = CliRun.run(ApplianceCli::commandLine, "audit", "export", "--data-dir", site.toString(), "--since", "60",
                "--format", "jsonl");
        assertThat(r.exitCode()).as(r.err()).isZero();
        String[] lines = r.out().split("\n");
        assertThat(lines).filteredOn(l -> l.contains("\"type\":\"record\"")).hasSize(68 - 60);
        assertThat(lines).filteredOn(l -> l.contains("\"type\":\"checkpoint\"")).hasSize(3)
                .allMatch(l -> l.contains("\"akPublic\":\"") && l.contains("\"attest\":\""));
    }

    private static void copyTree(Path from, Path to) {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else if (!p.getFileName().toString().endsWith(".lock.db")) {
                    Files.copy(p, t);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
