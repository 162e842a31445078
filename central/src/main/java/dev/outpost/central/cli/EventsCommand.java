package dev.outpost.central.cli;

import java.io.PrintWriter;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.outpost.central.config.CentralConfig;
import dev.outpost.central.fleet.FleetView;
import dev.outpost.central.store.Database;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "events", mixinStandardHelpOptions = true, subcommands = EventsAuditChainCommand.class,
        description = "What sites reported through their outbox, oldest first (by the time at the site).")
final class EventsCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandSpec spec;
    @Mixin
    ConfigOption config;
    @Option(names = "--site", paramLabel = "NAME")
    String site;
    @Option(names = "--since", paramLabel = "TIME", description = "RFC 3339 time, e.g. 2026-12-06T10:00:00Z")
    String since;
    @Option(names = "--limit", defaultValue = "1000", paramLabel = "N", description = "1..10000 (default ${DEFAULT-VALUE})")
    int limit;
    @Option(names = "--json")
    boolean json;

    static Map<String, Object> view(FleetView.Event e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("site", e.site());
        m.put("seq", e.seq());
        m.put("at", e.at());
        m.put("kind", e.kind());
        try {
            m.put("data", JSON.readTree(e.data()));
        } catch (java.io.IOException x) {
            m.put("data", e.data());
        }
        m.put("receivedAt", e.receivedAt());
        return m;
    }

    @Override
    public Integer call() throws Exception {
        if (limit < 1 || limit > FleetView.MAX_ROWS) {
            throw new IllegalArgumentException("--limit must be 1.." + FleetView.MAX_ROWS);
        }
        Instant from;
        try {
            from = since == null ? null : java.time.OffsetDateTime.parse(since).toInstant();
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("--since must be an RFC 3339 time, got " + since);
        }
        CentralConfig c = config.load();
        List<FleetView.Event> events;
        try (Database db = config.database(c)) {
            events = new FleetView(db).events(site, from, null, limit);
        }
        if (json) {
            CliSupport.json(spec, events.stream().map(EventsCommand::view).toList());
            return 0;
        }
        PrintWriter w = spec.commandLine().getOut();
        for (FleetView.Event e : events) {
            w.printf("%s  %-20s  #%-6d  %-16s  %s%n", e.at(), e.site(), e.seq(), CliSupport.printable(e.kind()),
                    CliSupport.printable(e.data()));
        }
        w.flush();
        return 0;
    }
}
