package dev.outpost.appliance.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.JsonNode;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code outpost-appliance status}: the running appliance's site, CA expiry and what is queued for central. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "The running appliance's state: site CA expiry, the outbox toward central (backlog, its oldest "
                + "age, coalesced rows, acknowledgement) and the revocation webhook's deliveries.")
final class StatusCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;
    @Mixin
    AdminSocket admin;
    @Option(names = "--json", description = "Print JSON")
    boolean json;

    @Override
    public Integer call() throws Exception {
        String body = admin.call(admin.client().get("/v1/status"));
        if (json) {
            CliSupport.print(spec, AdminSocket.pretty(body));
            return 0;
        }
        JsonNode n = AdminSocket.JSON.readTree(body);
        PrintWriter w = spec.commandLine().getOut();
        w.printf("site:          %s (%s)%n", n.path("site").asText(), n.path("trustDomain").asText());
        w.printf("CA not after:  %s%n", n.path("caNotAfter").asText());
        JsonNode o = n.path("outbox");
        if (o.isObject()) {
            w.printf("outbox:        %s rows, %s bytes unsent (bound %s rows, %s bytes); %s%n", o.path("backlogRows").asText(),
                    o.path("backlogBytes").asText(), o.path("maxRows").asText(), o.path("maxBytes").asText(),
                    o.path("linked").asBoolean() ? "sending to central" : "no upstream link: kept for a later join");
            w.printf("oldest unsent: %s (%s s)%n", o.path("oldestAt").isNull() ? "-" : o.path("oldestAt").asText(),
                    o.path("oldestAgeSeconds").asText());
            w.printf("coalesced:     %s%n", o.path("coalesced").asText());
            w.printf("acked through: %s of %s%n", o.path("ackedThrough").asText(), o.path("lastSeq").asText());
            JsonNode u = o.path("upstream");
            if (u.isObject()) {
                w.printf("central:       %s (%d of %d configured; %s failovers)%n", u.path("address").asText(),
                        indexOf(u), u.path("addresses").size(), u.path("failovers").asText());
            }
            if (o.hasNonNull("lastError")) {
                w.printf("last error:    %s%n", CliSupport.printable(o.path("lastError").asText()));
            }
        }
        JsonNode h = n.path("webhook");
        if (h.isObject()) {
            w.printf("webhook:       %s: %s waiting, %s delivered, %s dropped%n", CliSupport.printable(h.path("url").asText()),
                    h.path("waiting").asText(), h.path("delivered").asText(), h.path("dropped").asText());
            if (h.path("failedInARow").asInt() > 0) {
                w.printf("webhook error: %s (%s tries in a row; next at %s)%n",
                        CliSupport.printable(h.path("lastError").asText()), h.path("failedInARow").asText(),
                        h.path("nextTryAt").asText());
            }
        }
        w.flush();
        return 0;
    }

    private static int indexOf(JsonNode upstream) {
        JsonNode all = upstream.path("addresses");
        for (int i = 0; i < all.size(); i++) {
            if (all.get(i).asText().equals(upstream.path("address").asText())) {
                return i + 1;
            }
        }
        return 0;
    }
}
