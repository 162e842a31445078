package dev.outpost.central.cli;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import dev.outpost.central.audittrail.ChainCheck;
import dev.outpost.central.audittrail.ReceivedAudit;
import dev.outpost.central.config.CentralConfig;
import dev.outpost.central.store.Database;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code events audit-chain --site S}: recompute a site's audit chains from the events central received. */
@Command(name = "audit-chain", mixinStandardHelpOptions = true,
        description = "Verify a site's audit hash chains and TPM checkpoints from the audit events central received. "
                + "Exit 0 when verified, 1 when a break or a bad checkpoint is found.")
final class EventsAuditChainCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Mixin
    ConfigOption config;
    @Option(names = "--site", required = true, paramLabel = "NAME")
    String site;
    @Option(names = "--json")
    boolean json;

    @Override
    public Integer call() throws Exception {
        CentralConfig c = config.load();
        ChainCheck.Report report;
        try (Database db = config.database(c)) {
            List<byte[]> joinAks = new java.util.ArrayList<>();
            ReceivedAudit.Received received = db.inTransaction(x -> {
                if (!siteExists(x, site)) {
                    throw new IllegalArgumentException("no site " + site);
                }
                new dev.outpost.central.store.SiteStore().joinAk(x, site).ifPresent(joinAks::add);
                return ReceivedAudit.read(x, site);
            });
            report = ChainCheck.check(site, received, joinAks);
        }
        print(spec, report, json);
        return report.ok() ? 0 : 1;
    }

    private static boolean siteExists(java.sql.Connection x, String site) throws java.sql.SQLException {
        try (java.sql.PreparedStatement ps = x.prepareStatement("SELECT 1 FROM sites WHERE name = ?")) {
            ps.setString(1, site);
            try (java.sql.ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    static void print(CommandSpec spec, ChainCheck.Report report, boolean json) throws Exception {
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("site", report.site());
            m.put("ok", report.ok());
            m.put("chains", report.chains());
            m.put("checkpoints", report.checkpoints());
            m.put("akCompared", report.akCompared());
            m.put("problems", report.problems().stream().map(f -> {
                Map<String, Object> p = new LinkedHashMap<>();
                p.put("chain", f.problem().chain());
                p.put("kind", f.problem().kind().name());
                p.put("seq", f.problem().seq());
                p.put("auditId", f.problem().auditId());
                p.put("event", f.eventSeq());
                p.put("message", f.problem().message());
                return p;
            }).toList());
            m.put("notes", report.notes());
            CliSupport.json(spec, m);
            return;
        }
        PrintWriter w = spec.commandLine().getOut();
        w.println("site " + CliSupport.printable(report.site()) + " audit chain: "
                + (report.ok() ? "verified" : "FAILED, " + report.problems().size() + " problem(s)"));
        for (Map<String, Object> ch : report.chains()) {
            if (((Number) ch.get("records")).longValue() == 0) {
                w.printf("  %-8s no record received%n", ch.get("chain"));
            } else {
                w.printf("  %-8s seq %s..%s, %s record(s), %s gap record(s), %s%n", ch.get("chain"), ch.get("fromSeq"),
                        ch.get("toSeq"), ch.get("records"), ch.get("gaps"),
                        Boolean.TRUE.equals(ch.get("verified")) ? "verified" : "BROKEN");
            }
        }
        w.println("  checkpoints: " + report.checkpoints() + (report.akCompared() ? ", AK compared" : ", AK not compared"));
        for (ChainCheck.Finding f : report.problems()) {
            w.println("PROBLEM " + f.problem().kind() + " (" + f.problem().chain() + ")"
                    + (f.eventSeq() > 0 ? " event #" + f.eventSeq() : "") + ": " + CliSupport.printable(f.problem().message()));
        }
        for (String n : report.notes()) {
            w.println("note: " + CliSupport.printable(n));
        }
        w.flush();
    }
}
