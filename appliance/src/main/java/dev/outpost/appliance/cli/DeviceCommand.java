package dev.outpost.appliance.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.JsonNode;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "device", mixinStandardHelpOptions = true, description = "Devices of this site.",
        subcommands = {DeviceCommand.ListDevices.class, DeviceCommand.Show.class, DeviceCommand.Allow.class,
            DeviceCommand.Revoke.class, DeviceCommand.Clear.class, DeviceCommand.Label.class})
final class DeviceCommand {

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List enrolled devices.")
    static final class ListDevices implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        AdminSocket admin;
        @Option(names = "--json", description = "Print JSON")
        boolean json;

        @Override
        public Integer call() throws Exception {
            String body = admin.call(admin.client().get("/v1/devices"));
            PrintWriter w = spec.commandLine().getOut();
            if (json) {
                w.println(AdminSocket.pretty(body));
            } else {
                w.printf("%-64s  %-9s  %s%n", "DEVICE", "STATE", "SVID EXPIRES");
                for (JsonNode d : AdminSocket.JSON.readTree(body)) {
                    w.printf("%-64s  %-9s  %s%n", d.path("deviceId").asText(), d.path("state").asText(),
                            d.path("svidNotAfter").asText("-"));
                }
            }
            w.flush();
            return 0;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true,
            description = "Show one device, and why it is in its state: the last attestation's reasons, the revocation's.")
    static final class Show implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        AdminSocket admin;
        @Parameters(paramLabel = "ID", description = "Device id")
        String id;
        @Option(names = "--json", description = "Print JSON")
        boolean json;

        @Override
        public Integer call() throws Exception {
            String body = admin.call(admin.client().get("/v1/devices/" + id));
            if (json) {
                CliSupport.println(spec, AdminSocket.pretty(body));
                return 0;
            }
            JsonNode d = AdminSocket.JSON.readTree(body);
            PrintWriter w = spec.commandLine().getOut();
            for (String f : new String[] {"deviceId", "state", "spiffeId", "ekTemplate", "enrolledAt", "updatedAt",
                    "svidSerial", "svidNotAfter", "lastVerdict", "lastAttestedAt", "lastPassedAt"}) {
                w.printf("%-15s %s%n", f + ":", CliSupport.printable(d.path(f).asText("-")));
            }
            String state = d.path("state").asText();
            if (state.equals("revoked")) {
                w.printf("%-15s %s%n", "revokedAt:", d.path("revokedAt").asText("-"));
                w.printf("%-15s %s%n", "revokeReason:", CliSupport.printable(d.path("revokeReason").asText("-")));
            }
            if (d.path("lastReasons").size() > 0) {
                w.println(state.equals("failed") ? "failed because:" : "last attestation said:");
                d.path("lastReasons").forEach(r -> w.println("  " + CliSupport.printable(r.asText())));
            } else if (state.equals("stale")) {
                w.println("stale because: no passing attestation since " + d.path("lastPassedAt").asText("enrollment"));
            }
            w.println("selectors:");
            d.path("selectors").forEach(x -> w.println("  " + CliSupport.printable(x.asText())));
            w.flush();
            return 0;
        }
    }

    @Command(name = "allow", mixinStandardHelpOptions = true,
            description = "Allow a device by its EK hash (the device id: SHA-256 of the EK's DER public key).")
    static final class Allow implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        AdminSocket admin;
        @Parameters(paramLabel = "EK-HASH", description = "64 hex characters")
        String hash;
        @Option(names = "--note", description = "Why, for the audit trail")
        String note;

        @Option(names = "--json", description = "Print the appliance's reply as JSON")
        boolean json;

        @Override
        public Integer call() throws Exception {
            var body = AdminSocket.JSON.createObjectNode().put("ekHash", hash.toLowerCase(java.util.Locale.ROOT));
            if (note != null) {
                body.put("note", note);
            }
            String reply = admin.call(admin.client().post("/v1/allow", body.toString()));
            CliSupport.println(spec, json ? AdminSocket.pretty(reply) : "allowed " + hash);
            return 0;
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true,
            description = "Revoke a device: no more SVIDs, disconnected now.")
    static final class Revoke implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        AdminSocket admin;
        @Parameters(paramLabel = "ID", description = "Device id")
        String id;
        @Option(names = "--reason", defaultValue = "revoked by operator", description = "Recorded with the revocation")
        String reason;

        @Option(names = "--json", description = "Print the appliance's reply as JSON")
        boolean json;

        @Override
        public Integer call() throws Exception {
            String reply = admin.call(admin.client().post("/v1/devices/" + id + "/revoke",
                    AdminSocket.JSON.createObjectNode().put("reason", reason).toString()));
            CliSupport.println(spec, json ? AdminSocket.pretty(reply) : "revoked " + id);
            return 0;
        }
    }

    @Command(name = "clear", mixinStandardHelpOptions = true,
            description = "After review: forget a failed or stale device's verdict and ask for a full re-attestation.")
    static final class Clear implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        AdminSocket admin;
        @Parameters(paramLabel = "ID", description = "Device id")
        String id;

        @Option(names = "--json", description = "Print the appliance's reply as JSON")
        boolean json;

        @Override
        public Integer call() throws Exception {
            String reply = admin.call(admin.client().post("/v1/devices/" + id + "/clear", "{}"));
            CliSupport.println(spec, json ? AdminSocket.pretty(reply) : "cleared " + id + ": it must attest again from the start");
            return 0;
        }
    }

    @Command(name = "label", mixinStandardHelpOptions = true, description = "Label a device (policies can be assigned by label).")
    static final class Label implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        AdminSocket admin;
        @Parameters(index = "0", paramLabel = "ID", description = "Device id")
        String id;
        @Parameters(index = "1", paramLabel = "LABEL")
        String label;

        @Option(names = "--json", description = "Print the appliance's reply as JSON")
        boolean json;

        @Override
        public Integer call() throws Exception {
            String reply = admin.call(admin.client().post("/v1/devices/" + id + "/labels",
                    AdminSocket.JSON.createObjectNode().put("label", label).toString()));
            CliSupport.println(spec, json ? AdminSocket.pretty(reply) : "labelled " + id + " " + label);
            return 0;
        }
    }
}
