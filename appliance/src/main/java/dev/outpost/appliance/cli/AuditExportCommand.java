package dev.outpost.appliance.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.Callable;

import dev.outpost.appliance.admin.AdminClient;
import dev.outpost.appliance.audit.AuditExport;
import dev.outpost.appliance.config.ApplianceConfig;
import dev.outpost.appliance.store.Database;
import dev.outpost.appliance.store.SiteDirectory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code audit export}: the chained records (with seq, prev and hash) and the checkpoints as JSON lines, for people
 * and for another verifier. On a stopped appliance's data directory; while the appliance runs (it holds the
 * database), it writes the export itself and the command fetches it through the admin socket.
 */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"Print the chained audit records (chain, seq, prev, hash and the fields) and the TPM checkpoints "
                + "(heads, NV value, certification, AK public) as JSON lines, oldest first. A running appliance is asked "
                + "through its admin socket; a stopped one's data directory is read directly."})
final class AuditExportCommand implements Callable<Integer> {
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
    @Option(names = "--socket", description = "Admin socket of the running appliance (default: admin.socket of the "
            + "configuration); asked when the appliance holds the database")
    Path socket;

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
        if (new SiteDirectory(c.dataDir(), c.caDir()).inUse()) {
            fromRunning(socket != null ? socket : c.admin().socket(), w);
        } else {
            try (Database db = Database.open(c.dataDir())) {
                AuditExport.write(db, since, w);
            }
        }
        w.flush();
        return 0;
    }

    // The export may be larger than a reply held in memory: it comes into a private file and is copied out.
    private void fromRunning(Path adminSocket, PrintWriter w) throws IOException {
        Path tmp = Files.createTempFile("outpost-audit-export-", ".jsonl",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            AdminClient.Reply r = new AdminClient(adminSocket).download("/v1/audit/export?since=" + since, tmp);
            if (!r.ok()) {
                throw new IOException("the appliance refused the export: " + r.status() + " " + r.body());
            }
            try (BufferedReader in = Files.newBufferedReader(tmp, StandardCharsets.UTF_8)) {
                in.transferTo(w);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
