package dev.outpost.appliance.cli;

import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.JsonNode;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code audit}: the appliance's audit trail (enrollments, verdicts, issuances, operator actions), newest first. */
@Command(name = "audit", mixinStandardHelpOptions = true, subcommands = {AuditVerifyCommand.class, AuditExportCommand.class},
        description = {"Print the audit trail, newest first: every enrollment decision, verdict, issuance and operator action.",
                "`audit verify` checks its hash chain and TPM checkpoints; `audit export` prints it with its chain fields."})
final class AuditCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Mixin
    AdminSocket admin;
    @Option(names = "--device", paramLabel = "ID", description = "Only this device's records")
    String device;
    @Option(names = "--limit", paramLabel = "N", defaultValue = "50", description = "At most N records, 1..1000 (default: ${DEFAULT-VALUE})")
    int limit;
    @Option(names = "--json", description = "Print JSON")
    boolean json;

    @Override
    public Integer call() throws Exception {
        // The appliance checks both too; checked here as well so the message names the option.
        if (limit < 1 || limit > 1000) {
            throw new IllegalArgumentException("--limit must be 1..1000, got " + limit);
        }
        String path = "/v1/audit?limit=" + limit
                + (device == null ? "" : "&device=" + URLEncoder.encode(device, StandardCharsets.UTF_8));
        String body = admin.call(admin.client().get(path));
        PrintWriter w = spec.commandLine().getOut();
        if (json) {
            w.println(AdminSocket.pretty(body));
        } else {
            w.printf("%-27s  %-64s  %-12s  %-8s  %s%n", "TIME", "DEVICE", "ACTION", "DECISION", "REASON");
            for (JsonNode e : AdminSocket.JSON.readTree(body)) {
                String id = e.path("deviceId").asText("");
                w.printf("%-27s  %-64s  %-12s  %-8s  %s%n", e.path("at").asText(),
                        e.path("deviceId").isNull() || id.isEmpty() ? "-" : CliSupport.printable(id),
                        CliSupport.printable(e.path("action").asText()),
                        e.path("decision").asText().toLowerCase(java.util.Locale.ROOT),
                        CliSupport.printable(e.path("reason").asText()));
            }
        }
        w.flush();
        return 0;
    }
}
