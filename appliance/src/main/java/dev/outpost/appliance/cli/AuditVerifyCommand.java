package dev.outpost.appliance.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.JsonNode;

import dev.outpost.appliance.audit.AuditVerifier;
import dev.outpost.appliance.audit.Checkpoint;
import dev.outpost.appliance.audit.CheckpointStore;
import dev.outpost.appliance.audit.TpmAnchor;
import dev.outpost.appliance.config.ApplianceConfig;
import dev.outpost.appliance.store.Database;
import dev.outpost.appliance.store.SiteDirectory;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code audit verify}: offline on a stopped appliance's data directory; while the appliance runs (it holds the
 * database, which admits one process) the appliance verifies and answers through its admin socket. Exit 0 when the
 * chain and every checkpoint verify, 1 when anything does not (each problem named), 2 on a usage error.
 */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Recompute the audit hash chains from their bases, check every TPM checkpoint (AK signature, NV "
                + "extend sequence, anchored heads) and the TPM's index now; name the first record modified, removed, "
                + "reordered or inserted, and a tail cut back before the last checkpoint. A running appliance is asked through its "
                + "admin socket (it checks its own TPM).",
                "Exit code 0: verified; 1: a problem was found."})
final class AuditVerifyCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Option(names = "--config", description = "Config file (default: /etc/outpost/appliance.yaml when it exists)")
    Path config;
    @Option(names = "--data-dir", description = "Override dataDir")
    Path dataDir;
    @Option(names = "--tpm", paramLabel = "URI", description = "The gateway's TPM to compare the last checkpoint with "
            + "(default: upstream.tpm when checkpoints exist)")
    String tpm;
    @Option(names = "--no-tpm", description = "Do not read the TPM (a cut of the end with its checkpoints then goes unseen)")
    boolean noTpm;
    @Option(names = "--json", description = "Print JSON")
    boolean json;

    @Option(names = "--socket", description = "Admin socket of the running appliance (default: admin.socket of the "
            + "configuration); asked when the appliance holds the database")
    Path socket;

    @Override
    public Integer call() throws Exception {
        ApplianceConfig c = RunCommand.load(config, dataDir, null);
        if (!Files.exists(c.dataDir().resolve(Database.FILE_NAME + ".mv.db"))) {
            throw new IllegalArgumentException("no database in " + c.dataDir());
        }
        JsonNode report;
        if (new SiteDirectory(c.dataDir(), c.caDir()).inUse()) {
            // The database admits one process: the running appliance verifies, with its own TPM.
            if (tpm != null || noTpm) {
                throw new IllegalArgumentException("the appliance is running and verifies with its own TPM; --tpm and "
                        + "--no-tpm are for a stopped appliance");
            }
            AdminSocket admin = new AdminSocket();
            admin.socket = socket != null ? socket : c.admin().socket();
            report = AdminSocket.JSON.readTree(admin.call(admin.client().get("/v1/audit/verify")));
        } else {
            report = AdminSocket.JSON.valueToTree(offline(c).toMap());
        }
        PrintWriter w = spec.commandLine().getOut();
        if (json) {
            w.println(AdminSocket.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(report));
        } else {
            print(w, report);
        }
        w.flush();
        return report.path("ok").asBoolean(false) ? 0 : 1;
    }

    private AuditVerifier.Report offline(ApplianceConfig c) throws Exception {
        try (Database db = Database.open(c.dataDir())) {
            Optional<Checkpoint> last = db.inTransaction(CheckpointStore::last);
            String uri = noTpm ? null : tpm != null ? tpm : last.isPresent() ? c.upstream().tpm() : null;
            byte[] value = null;
            if (uri != null) {
                int index = last.map(Checkpoint::nvIndex).orElse(c.audit().nvIndex());
                value = TpmAnchor.currentValue(uri, index).orElse(null);
            }
            return AuditVerifier.verify(db, uri != null, value, AuditVerifier.gatewayAk(c.upstreamDir()));
        }
    }

    private static void print(PrintWriter w, JsonNode report) {
        boolean ok = report.path("ok").asBoolean(false);
        w.println("audit chain: " + (ok ? "verified" : "FAILED, " + report.path("problems").size() + " problem(s)"));
        for (JsonNode ch : report.path("chains")) {
            w.printf("  %-8s base seq %s, head seq %s, %s record(s) read%n", ch.path("chain").asText(),
                    ch.path("baseSeq").asText(), ch.path("headSeq").asText(), ch.path("read").asText());
        }
        w.println("  checkpoints: " + report.path("checkpoints").asText());
        for (JsonNode p : report.path("problems")) {
            w.println("PROBLEM " + p.path("kind").asText() + " (" + p.path("chain").asText() + "): "
                    + CliSupport.printable(p.path("message").asText()));
        }
        for (JsonNode n : report.path("notes")) {
            w.println("note: " + n.asText());
        }
    }
}
