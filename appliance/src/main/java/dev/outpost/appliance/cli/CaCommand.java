package dev.outpost.appliance.cli;

import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.JsonNode;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "ca", mixinStandardHelpOptions = true, description = "The site CA.",
        subcommands = {CaCommand.Show.class})
final class CaCommand {
    @Command(name = "show", mixinStandardHelpOptions = true, description = "Trust domain, subject, expiry, mode.")
    static final class Show implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        AdminSocket admin;
        @Option(names = "--json", description = "Print JSON (the PEM bundle in field pem)")
        boolean json;

        @Override
        public Integer call() throws Exception {
            String body = admin.call(admin.client().get("/v1/ca"));
            if (json) {
                CliSupport.println(spec, AdminSocket.pretty(body));
                return 0;
            }
            JsonNode ca = AdminSocket.JSON.readTree(body);
            var w = spec.commandLine().getOut();
            for (String f : new String[] {"trustDomain", "subject", "notAfter", "mode"}) {
                w.println(f + ": " + ca.path(f).asText());
            }
            w.print(ca.path("pem").asText());
            w.flush();
            return 0;
        }
    }
}
