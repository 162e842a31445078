package dev.outpost.central.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

import dev.outpost.central.config.CentralConfig;
import dev.outpost.central.directives.DirectiveAdmin;
import dev.outpost.central.directives.DirectiveStore;
import dev.outpost.central.store.Database;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * Fleet-wide decisions that sites fetch as directives: {@code device revoke} and {@code policy push|assign|delete|
 * list}. Each prints the directive's version, the number a site's {@code directives} status reaches once applied.
 */
final class DirectiveCommands {
    private DirectiveCommands() {
    }

    abstract static class AdminCommand implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        ConfigOption config;
        @Option(names = "--json", description = "Print JSON")
        boolean json;

        @Override
        public Integer call() throws Exception {
            CentralConfig c = config.load();
            try (Database db = config.database(c)) {
                return run(new DirectiveAdmin(db, Clock.systemUTC()));
            }
        }

        abstract int run(DirectiveAdmin admin) throws Exception;

        // Who decided, for the directive's created_by and the audit trail: the login that ran the command.
        static String who() {
            String u = System.getProperty("user.name");
            return u == null || u.isBlank() ? "operator" : "cli:" + u;
        }

        int made(DirectiveAdmin.Made m, String text) throws Exception {
            if (json) {
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("version", m.version());
                out.put("kind", m.kind());
                Map<String, Object> data = new LinkedHashMap<>(m.data());
                data.remove("content");
                out.put("data", data);
                CliSupport.json(spec, out);
            } else {
                CliSupport.println(spec, text + " (directive " + m.version() + ")");
            }
            return 0;
        }
    }


    @Command(name = "revoke", mixinStandardHelpOptions = true,
            description = "Ban an EK fleet-wide: every site revokes the device if it knows it and refuses its enrollment.")
    static final class Revoke extends AdminCommand {
        @Parameters(paramLabel = "EK-HASH", description = "SHA-256 of the EK's public key (the device id), 64 hex")
        String ekHash;
        @Option(names = "--reason", required = true, description = "Why; sites record it with the revocation")
        String reason;

        @Override
        int run(DirectiveAdmin admin) throws Exception {
            return made(admin.ban(ekHash, reason, who()), "EK " + ekHash + " banned on every site");
        }
    }

    @Command(name = "policy", mixinStandardHelpOptions = true,
            description = "Attestation policies for every site, assigned by device label.",
            subcommands = {Push.class, Assign.class, Delete.class, ListAll.class})
    static final class PolicyCommand {
    }

    @Command(name = "push", mixinStandardHelpOptions = true, description = "Store (or replace) a policy on every site.")
    static final class Push extends AdminCommand {
        @Parameters(paramLabel = "NAME")
        String name;
        @Option(names = "--kind", required = true, paramLabel = "runtime|boot",
                description = "runtime: a Keylime runtime (IMA) policy; boot: a measured-boot policy")
        String kind;
        @Option(names = "--file", required = true, paramLabel = "FILE", description = "The policy JSON")
        Path file;

        @Override
        int run(DirectiveAdmin admin) throws Exception {
            long size = Files.size(file);
            if (size > DirectiveAdmin.MAX_POLICY_BYTES) {
                throw new IllegalArgumentException(file + " is " + size + " bytes, over the " + DirectiveAdmin.MAX_POLICY_BYTES
                        + " a directive carries");
            }
            DirectiveAdmin.Made m = admin.push(name, kind, Files.readAllBytes(file), who());
            return made(m, kind + " policy " + name + " pushed (sha256 " + m.data().get("sha256") + ")");
        }
    }

    @Command(name = "assign", mixinStandardHelpOptions = true,
            description = "Assign a pushed policy to the devices of a label on every site.")
    static final class Assign extends AdminCommand {
        @Parameters(paramLabel = "NAME")
        String name;
        @Option(names = "--label", required = true, paramLabel = "LABEL")
        String label;

        @Override
        int run(DirectiveAdmin admin) throws Exception {
            return made(admin.assign(name, label, who()), "policy " + name + " assigned to label " + label);
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true,
            description = "Remove a policy central pushed from every site (a site's own policy of that name stays).")
    static final class Delete extends AdminCommand {
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        int run(DirectiveAdmin admin) throws Exception {
            return made(admin.delete(name, who()), "policy " + name + " deleted");
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "The policies central has pushed.")
    static final class ListAll extends AdminCommand {
        @Override
        int run(DirectiveAdmin admin) throws Exception {
            var all = admin.policies();
            if (json) {
                CliSupport.json(spec, all.stream().map(ListAll::view).toList());
                return 0;
            }
            PrintWriter w = spec.commandLine().getOut();
            w.printf("%-24s  %-7s  %-8s  %-9s  %s%n", "NAME", "KIND", "VERSION", "BYTES", "LABELS");
            for (DirectiveStore.FleetPolicy p : all) {
                w.printf("%-24s  %-7s  %-8d  %-9d  %s%n", p.name(), p.kind(), p.version(), p.bytes(),
                        p.labels().isEmpty() ? "-" : String.join(",", p.labels()));
            }
            w.flush();
            return 0;
        }

        static Map<String, Object> view(DirectiveStore.FleetPolicy p) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", p.name());
            m.put("kind", p.kind());
            m.put("sha256", p.sha256());
            m.put("bytes", p.bytes());
            m.put("version", p.version());
            m.put("updatedAt", p.updatedAt().toString());
            m.put("labels", p.labels());
            return m;
        }
    }
}
