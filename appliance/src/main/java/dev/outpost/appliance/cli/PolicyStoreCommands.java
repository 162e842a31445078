package dev.outpost.appliance.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.JsonNode;

import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** The policy commands that talk to the running appliance over its admin socket. */
final class PolicyStoreCommands {
    private static final long MAX_POLICY = 64L * 1024 * 1024;

    private PolicyStoreCommands() {
    }

    @Command(name = "add", mixinStandardHelpOptions = true,
            description = "Store a policy in the appliance (replacing one of the same name); it is checked first.")
    static final class Add implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        AdminSocket admin;
        @Parameters(paramLabel = "NAME")
        String name;
        @Option(names = "--kind", required = true, description = "runtime (Keylime IMA policy) or boot (measured boot)")
        String kind;
        @Option(names = "--file", required = true, description = "The policy JSON")
        Path file;
        @Option(names = "--json", description = "Print the appliance's reply as JSON")
        boolean json;

        @Override
        public Integer call() throws Exception {
            if (Files.size(file) > MAX_POLICY) {
                throw new IllegalArgumentException(file + " is over " + MAX_POLICY + " bytes");
            }
            String out = admin.call(admin.client().post("/v1/policies/" + name + "?kind=" + kind, Files.readString(file)));
            if (json) {
                CliSupport.println(spec, AdminSocket.pretty(out));
                return 0;
            }
            JsonNode n = AdminSocket.JSON.readTree(out);
            CliSupport.println(spec, "stored " + n.path("kind").asText() + " policy " + name + " sha256 "
                    + n.path("sha256").asText());
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Policies stored in the appliance.")
    static final class ListPolicies implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        AdminSocket admin;
        @Option(names = "--json", description = "Print JSON")
        boolean json;

        @Override
        public Integer call() throws Exception {
            String body = admin.call(admin.client().get("/v1/policies"));
            if (json) {
                CliSupport.println(spec, AdminSocket.pretty(body));
                return 0;
            }
            var w = spec.commandLine().getOut();
            w.printf("%-24s  %-8s  %10s  %-18s  %s%n", "NAME", "KIND", "BYTES", "SOURCE", "SHA256");
            for (JsonNode p : AdminSocket.JSON.readTree(body)) {
                // central's policies name the directive that brought them; local ones won over central's of that name
                String source = "central".equals(p.path("source").asText())
                        ? "central (" + p.path("centralVersion").asText() + ")" : "local";
                w.printf("%-24s  %-8s  %10d  %-18s  %s%n", p.path("name").asText(), p.path("kind").asText().toLowerCase(),
                        p.path("bytes").asLong(), source, p.path("sha256").asText());
            }
            w.flush();
            return 0;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Print a stored policy.")
    static final class Show implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        AdminSocket admin;
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public Integer call() throws Exception {
            CliSupport.println(spec, admin.call(admin.client().get("/v1/policies/" + name)));
            return 0;
        }
    }

    @Command(name = "assign", mixinStandardHelpOptions = true,
            description = "Assign a stored policy to a device, or to every device with a label.")
    static final class Assign implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        AdminSocket admin;
        @Parameters(paramLabel = "NAME")
        String name;
        @ArgGroup(exclusive = true, multiplicity = "1")
        Target target;
        @Option(names = "--json", description = "Print the appliance's reply as JSON")
        boolean json;

        static final class Target {
            @Option(names = "--device", description = "Device id")
            String device;
            @Option(names = "--label", description = "Label")
            String label;
        }

        @Override
        public Integer call() throws Exception {
            var body = AdminSocket.JSON.createObjectNode();
            if (target.device != null) {
                body.put("device", target.device);
            } else {
                body.put("label", target.label);
            }
            String reply = admin.call(admin.client().post("/v1/policies/" + name + "/assign", body.toString()));
            CliSupport.println(spec, json ? AdminSocket.pretty(reply) : "assigned " + name + " to "
                    + (target.device != null ? "device " + target.device : "label " + target.label));
            return 0;
        }
    }
}
