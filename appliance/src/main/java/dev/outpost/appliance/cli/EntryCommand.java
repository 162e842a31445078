package dev.outpost.appliance.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code outpost-appliance entry}: registration entries for workload identities (docs/workload-api.md). */
@Command(name = "entry", mixinStandardHelpOptions = true,
        description = "Registration entries: which workloads on which nodes get which SPIFFE ID.",
        subcommands = {EntryCommand.Create.class, EntryCommand.ListEntries.class, EntryCommand.Show.class,
            EntryCommand.Delete.class})
final class EntryCommand {

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Create an entry.")
    static final class Create implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        AdminSocket admin;
        @Option(names = "--spiffe-id", required = true, description = "The workload's SPIFFE ID, in this site's trust domain")
        String spiffeId;
        @Option(names = "--parent", required = true, description = "A node selector the node must hold (repeat; see device show)")
        List<String> parents;
        @Option(names = "--selector", required = true, description = "A workload selector the caller must hold (repeat)")
        List<String> selectors;
        @Option(names = "--ttl", description = "Longest X509-SVID life, e.g. 30m, 1h (default 1h)")
        String ttl;
        @Option(names = "--jwt-ttl", description = "Longest JWT-SVID life, e.g. 5m (default 5m)")
        String jwtTtl;
        @Option(names = "--federates-with", description = "A trust domain whose bundle the workload also gets (repeat)")
        List<String> federatesWith;
        @Option(names = "--dns", description = "A DNS SAN for the X509-SVID (repeat)")
        List<String> dns;
        @Option(names = "--json", description = "Print the appliance's reply as JSON")
        boolean json;

        @Override
        public Integer call() throws Exception {
            ObjectNode b = AdminSocket.JSON.createObjectNode().put("spiffeId", spiffeId);
            array(b, "parents", parents);
            array(b, "selectors", selectors);
            array(b, "federatesWith", federatesWith);
            array(b, "dnsNames", dns);
            if (ttl != null) {
                b.put("ttlSeconds", duration(spec, "--ttl", ttl).toSeconds());
            }
            if (jwtTtl != null) {
                b.put("jwtTtlSeconds", duration(spec, "--jwt-ttl", jwtTtl).toSeconds());
            }
            String reply = admin.call(admin.client().post("/v1/entries", b.toString()));
            if (json) {
                CliSupport.println(spec, AdminSocket.pretty(reply));
            } else {
                JsonNode e = AdminSocket.JSON.readTree(reply);
                CliSupport.println(spec, "created entry " + e.path("id").asText() + " for " + e.path("spiffeId").asText());
            }
            return 0;
        }

        private static void array(ObjectNode b, String field, List<String> values) {
            if (values != null) {
                values.forEach(b.putArray(field)::add);
            }
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the entries.")
    static final class ListEntries implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        AdminSocket admin;
        @Option(names = "--json", description = "Print JSON")
        boolean json;

        @Override
        public Integer call() throws Exception {
            String body = admin.call(admin.client().get("/v1/entries"));
            if (json) {
                CliSupport.println(spec, AdminSocket.pretty(body));
                return 0;
            }
            JsonNode r = AdminSocket.JSON.readTree(body);
            PrintWriter w = spec.commandLine().getOut();
            w.printf("revision %d%n%-36s  %s%n", r.path("revision").asLong(), "ID", "SPIFFE ID");
            for (JsonNode e : r.path("entries")) {
                w.printf("%-36s  %s%n", e.path("id").asText(), CliSupport.printable(e.path("spiffeId").asText()));
            }
            w.flush();
            return 0;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show one entry.")
    static final class Show implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        AdminSocket admin;
        @Parameters(paramLabel = "ID", description = "Entry id")
        String id;
        @Option(names = "--json", description = "Print JSON")
        boolean json;

        @Override
        public Integer call() throws Exception {
            String body = admin.call(admin.client().get("/v1/entries/" + id));
            if (json) {
                CliSupport.println(spec, AdminSocket.pretty(body));
                return 0;
            }
            JsonNode e = AdminSocket.JSON.readTree(body);
            PrintWriter w = spec.commandLine().getOut();
            for (String f : new String[] {"id", "spiffeId", "ttlSeconds", "jwtTtlSeconds", "createdAt"}) {
                w.printf("%-15s %s%n", f + ":", CliSupport.printable(e.path(f).asText("-")));
            }
            for (String f : new String[] {"parents", "selectors", "federatesWith", "dnsNames"}) {
                w.println(f + ":");
                e.path(f).forEach(x -> w.println("  " + CliSupport.printable(x.asText())));
            }
            w.flush();
            return 0;
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete an entry.")
    static final class Delete implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        AdminSocket admin;
        @Parameters(paramLabel = "ID", description = "Entry id")
        String id;
        @Option(names = "--json", description = "Print the appliance's reply as JSON")
        boolean json;

        @Override
        public Integer call() throws Exception {
            String reply = admin.call(admin.client().delete("/v1/entries/" + id));
            CliSupport.println(spec, json ? AdminSocket.pretty(reply) : "deleted entry " + id);
            return 0;
        }
    }

    /** {@code 90s}, {@code 5m}, {@code 1h}, {@code 1d}, or ISO-8601 ({@code PT1H}). */
    static Duration duration(CommandSpec spec, String option, String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        try {
            if (t.matches("[0-9]{1,7}[smhd]")) {
                long n = Long.parseLong(t.substring(0, t.length() - 1));
                return switch (t.charAt(t.length() - 1)) {
                    case 's' -> Duration.ofSeconds(n);
                    case 'm' -> Duration.ofMinutes(n);
                    case 'h' -> Duration.ofHours(n);
                    default -> Duration.ofDays(n);
                };
            }
            return Duration.parse(text.trim().toUpperCase(Locale.ROOT));
        } catch (DateTimeParseException | ArithmeticException e) {
            throw new ParameterException(spec.commandLine(), option + ": '" + text + "' is not a duration (90s, 5m, 1h, "
                    + "1d or ISO-8601 like PT1H)");
        }
    }
}
