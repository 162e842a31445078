package dev.outpost.appliance.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import dev.outpost.appliance.audit.Checkpoint;
import dev.outpost.appliance.audit.CheckpointStore;
import dev.outpost.appliance.config.ApplianceConfig;
import dev.outpost.appliance.store.AuditChainRows;
import dev.outpost.appliance.store.Database;
import dev.outpost.auditchain.ChainRow;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code audit export}: the chained records (with seq, prev and hash) and the checkpoints as JSON lines, for people
 * and for another verifier. Offline, on the stopped appliance's data directory.
 */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"Print the chained audit records (chain, seq, prev, hash and the fields) and the TPM checkpoints "
                + "(heads, NV value, certification, AK public) as JSON lines, oldest first. The appliance must be stopped."})
final class AuditExportCommand implements Callable<Integer> {
    private static final HexFormat HEX = HexFormat.of();

    @Spec
    CommandSpec spec;
    @Option(names = "--config", description = "Config file (default: /etc/outpost/appliance.yaml when it exists)")
    Path config;
    @Option(names = "--data-dir", description = "Override dataDir")
    Path dataDir;
    @Option(names = "--since", paramLabel = "SEQ", defaultValue = "0", description = "Only records with seq above SEQ "
            + "(in each chain)")
    long since;
    @Option(names = "--format", defaultValue = "jsonl", description = "jsonl (the only format)")
    String format;

    @Override
    public Integer call() throws Exception {
        if (!"jsonl".equals(format)) {
            throw new IllegalArgumentException("--format must be jsonl, got " + format);
        }
        if (since < 0) {
            throw new IllegalArgumentException("--since must be 0 or more, got " + since);
        }
        ApplianceConfig c = RunCommand.load(config, dataDir, null);
        if (!Files.exists(c.dataDir().resolve(Database.FILE_NAME + ".mv.db"))) {
            throw new IllegalArgumentException("no database in " + c.dataDir());
        }
        PrintWriter w = spec.commandLine().getOut();
        try (Database db = Database.open(c.dataDir())) {
            for (boolean lasting : new boolean[] {false, true}) {
                AuditChainRows.State st = db.inTransaction(x -> AuditChainRows.state(x, lasting));
                Map<String, Object> base = new LinkedHashMap<>();
                base.put("type", "base");
                base.put("chain", lasting ? "lasting" : "routine");
                base.put("seq", st.baseSeq());
                base.put("hash", HEX.formatHex(st.baseHash()));
                w.println(AdminSocket.JSON.writeValueAsString(base));
                long after = Math.max(since, st.baseSeq());
                while (true) {
                    long from = after;
                    List<ChainRow> page = db.inTransaction(x -> AuditChainRows.page(x, lasting, from, 1000));
                    if (page.isEmpty()) {
                        break;
                    }
                    for (ChainRow r : page) {
                        w.println(AdminSocket.JSON.writeValueAsString(record(r)));
                    }
                    after = page.get(page.size() - 1).link().seq();
                }
            }
            for (Checkpoint p : db.inTransaction(CheckpointStore::all)) {
                w.println(AdminSocket.JSON.writeValueAsString(checkpoint(p)));
            }
        }
        w.flush();
        return 0;
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
