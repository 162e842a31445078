package dev.outpost.central.cli;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import dev.outpost.central.config.CentralConfig;
import dev.outpost.central.store.AuditStore;
import dev.outpost.central.store.Database;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "audit", mixinStandardHelpOptions = true,
        description = "The audit trail, newest first: registrations, joins, issuances, revocations, and refusals of registered sites.")
final class AuditCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Mixin
    ConfigOption config;
    @Option(names = "--site", paramLabel = "NAME")
    String site;
    @Option(names = "--limit", defaultValue = "50", paramLabel = "N", description = "1..1000 (default ${DEFAULT-VALUE})")
    int limit;
    @Option(names = "--json")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (limit < 1 || limit > 1000) {
            throw new IllegalArgumentException("--limit must be 1..1000");
        }
        CentralConfig c = config.load();
        List<AuditStore.Entry> entries;
        try (Database db = config.database(c)) {
            entries = db.inTransaction(conn -> new AuditStore().recent(conn, site, limit));
        }
        if (json) {
            CliSupport.json(spec, entries.stream().map(e -> {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("at", e.at().toString());
                m.put("site", e.site());
                m.put("action", e.action());
                m.put("decision", e.decision());
                m.put("detail", e.detail());
                return m;
            }).toList());
            return 0;
        }
        PrintWriter w = spec.commandLine().getOut();
        for (AuditStore.Entry e : entries) {
            w.printf("%s  %-20s  %-10s  %-5s  %s%n", e.at(), e.site(), e.action(), e.decision(), CliSupport.printable(e.detail()));
        }
        w.flush();
        return 0;
    }
}
