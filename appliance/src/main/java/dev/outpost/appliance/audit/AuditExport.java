package dev.outpost.appliance.audit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.sql.Connection;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.appliance.store.AuditChainRows;
import dev.outpost.appliance.store.Database;
import dev.outpost.auditchain.ChainRow;

/**
 * The chained audit records (with seq, prev and hash) and the TPM checkpoints as JSON lines, oldest first: for
 * people and for another verifier (docs/operations.md). One snapshot of the database, so a record appended, a
 * checkpoint taken or a retention run while the export is written (on a running appliance) cannot leave it with a
 * gap or a checkpoint past the records it holds.
 */
public final class AuditExport {
    private static final HexFormat HEX = HexFormat.of();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int PAGE = 1000;

    private AuditExport() {
    }

    /** Writes the export to a new 0600 file in {@code dir} and returns it; the caller deletes it. */
    public static java.nio.file.Path toFile(Database db, long since, java.nio.file.Path dir) throws IOException {
        java.nio.file.Path out = java.nio.file.Files.createTempFile(dir, "audit-export-", ".jsonl",
                java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                        java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
        try (Writer w = java.nio.file.Files.newBufferedWriter(out, java.nio.charset.StandardCharsets.UTF_8)) {
            write(db, since, w);
        } catch (IOException | RuntimeException e) {
            java.nio.file.Files.deleteIfExists(out);
            throw e;
        }
        return out;
    }

    /** Writes the export: per chain a base line and its records with seq above {@code since}, then the checkpoints. */
    public static void write(Database db, long since, Writer out) throws IOException {
        if (since < 0) {
            throw new IllegalArgumentException("since must be 0 or more, got " + since);
        }
        try {
            db.inSnapshot(c -> {
                for (boolean lasting : new boolean[] {false, true}) {
                    chain(c, lasting, since, out);
                }
                for (Checkpoint p : CheckpointStore.all(c)) {
                    line(out, checkpoint(p));
                }
                return null;
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        out.flush();
    }

    private static void chain(Connection c, boolean lasting, long since, Writer out) throws java.sql.SQLException {
        AuditChainRows.State st = AuditChainRows.state(c, lasting);
        Map<String, Object> base = new LinkedHashMap<>();
        base.put("type", "base");
        base.put("chain", lasting ? "lasting" : "routine");
        base.put("seq", st.baseSeq());
        base.put("hash", HEX.formatHex(st.baseHash()));
        line(out, base);
        long after = Math.max(since, st.baseSeq());
        while (true) {
            List<ChainRow> page = AuditChainRows.page(c, lasting, after, PAGE);
            if (page.isEmpty()) {
                return;
            }
            for (ChainRow r : page) {
                line(out, record(r));
            }
            after = page.get(page.size() - 1).link().seq();
        }
    }

    private static void line(Writer out, Map<String, Object> m) {
        try {
            out.write(JSON.writeValueAsString(m));
            out.write('\n');
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Map<String, Object> record(ChainRow r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", "record");
        m.put("chain", r.link().lasting() ? "lasting" : "routine");
        m.put("seq", r.link().seq());
        m.put("prev", hex(r.link().prev()));
        m.put("hash", hex(r.storedHash()));
        m.put("id", r.id());
        m.put("at", r.link().at().toString());
        m.put("deviceId", r.link().deviceId());
        m.put("action", r.link().action());
        m.put("decision", r.link().decision());
        m.put("reason", r.link().reason());
        m.put("detail", r.link().detail());
        return m;
    }

    static Map<String, Object> checkpoint(Checkpoint p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", "checkpoint");
        m.put("id", p.id());
        m.put("at", p.at().toString());
        m.put("routineSeq", p.routineSeq());
        m.put("routineHash", hex(p.routineHash()));
        m.put("lastingSeq", p.lastingSeq());
        m.put("lastingHash", hex(p.lastingHash()));
        m.put("nvIndex", String.format("0x%08x", p.nvIndex()));
        m.put("nvValue", hex(p.nvValue()));
        m.put("qualifying", hex(p.qualifying()));
        m.put("attest", hex(p.attest()));
        m.put("signature", hex(p.signature()));
        m.put("akPublic", hex(p.akPublic()));
        return m;
    }

    private static String hex(byte[] b) {
        return b == null ? null : HEX.formatHex(b);
    }
}
