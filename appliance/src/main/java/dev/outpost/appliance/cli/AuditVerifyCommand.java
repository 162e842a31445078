package dev.outpost.appliance.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

import dev.outpost.appliance.audit.AuditVerifier;
import dev.outpost.appliance.audit.Checkpoint;
import dev.outpost.appliance.audit.CheckpointStore;
import dev.outpost.appliance.audit.TpmAnchor;
import dev.outpost.appliance.config.ApplianceConfig;
import dev.outpost.appliance.store.Database;
import dev.outpost.auditchain.ChainWalk;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code audit verify}: offline, on the stopped appliance's data directory (the database admits one process). Exit 0
 * when the chain and every checkpoint verify, 1 when anything does not (each problem named), 2 on a usage error.
 */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Recompute the audit hash chains from their bases, check every TPM checkpoint (AK signature, NV "
                + "extend sequence, anchored heads) and the TPM's index now; name the first record modified, removed, "
                + "reordered or inserted, and a tail cut back before the last checkpoint. The appliance must be stopped.",
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

    @Override
    public Integer call() throws Exception {
        ApplianceConfig c = RunCommand.load(config, dataDir, null);
        if (!Files.exists(c.dataDir().resolve(Database.FILE_NAME + ".mv.db"))) {
            throw new IllegalArgumentException("no database in " + c.dataDir());
        }
        AuditVerifier.Report report;
        try (Database db = Database.open(c.dataDir())) {
            Optional<Checkpoint> last = db.inTransaction(CheckpointStore::last);
            String uri = noTpm ? null : tpm != null ? tpm : last.isPresent() ? c.upstream().tpm() : null;
            byte[] value = null;
            if (uri != null) {
                int index = last.map(Checkpoint::nvIndex).orElse(c.audit().nvIndex());
                value = TpmAnchor.currentValue(uri, index).orElse(null);
            }
            Path akFile = c.upstreamDir().resolve("ak.pub");
            byte[] ak = Files.exists(akFile) ? Files.readAllBytes(akFile) : null;
            report = AuditVerifier.verify(db, uri != null, value, ak);
        }
        PrintWriter w = spec.commandLine().getOut();
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("ok", report.ok());
            m.put("chains", report.chains());
            m.put("unchained", report.unchained());
            m.put("checkpoints", report.checkpoints());
            m.put("problems", report.problems());
            m.put("notes", report.notes());
            w.println(AdminSocket.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(m));
        } else {
            w.println("audit chain: " + (report.ok() ? "verified" : "FAILED, " + report.problems().size() + " problem(s)"));
            for (Map<String, Object> ch : report.chains()) {
                w.printf("  %-8s base seq %s, head seq %s, %s record(s) read%n", ch.get("chain"), ch.get("baseSeq"),
                        ch.get("headSeq"), ch.get("read"));
            }
            w.println("  checkpoints: " + report.checkpoints());
            for (ChainWalk.Problem p : report.problems()) {
                w.println("PROBLEM " + p.kind() + " (" + p.chain() + "): " + CliSupport.printable(p.message()));
            }
            for (String n : report.notes()) {
                w.println("note: " + n);
            }
        }
        w.flush();
        return report.ok() ? 0 : 1;
    }
}
