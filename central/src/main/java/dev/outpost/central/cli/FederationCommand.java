package dev.outpost.central.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

import dev.outpost.central.config.CentralConfig;
import dev.outpost.central.federation.FederationAdmin;
import dev.outpost.central.store.Database;
import dev.outpost.central.store.FederationStore;
import dev.outpost.spiffe.SpiffeJwks;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "federation", mixinStandardHelpOptions = true,
        description = "Foreign trust domains whose bundles central polls and hands down to sites.",
        subcommands = {FederationCommand.Add.class, FederationCommand.ListAll.class, FederationCommand.Remove.class})
final class FederationCommand {

    static Map<String, Object> view(FederationStore.Relation r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("trustDomain", r.trustDomain());
        m.put("url", r.endpointUrl());
        m.put("profile", r.profile());
        m.put("spiffeId", r.endpointSpiffeId());
        m.put("sequence", r.sequence());
        m.put("refreshHint", r.refreshHint());
        m.put("lastPolled", r.lastPolled() == null ? null : r.lastPolled().toString());
        m.put("lastError", r.lastError());
        m.put("haveBundle", r.bundle() != null);
        return m;
    }

    abstract static class DbCommand implements Callable<Integer> {
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
                return run(new FederationAdmin(db, Clock.systemUTC(), c.trustDomain));
            }
        }

        abstract int run(FederationAdmin admin) throws Exception;
    }

    @Command(name = "add", mixinStandardHelpOptions = true, description = "Federate with a foreign trust domain.")
    static final class Add extends DbCommand {
        @Parameters(paramLabel = "TRUST_DOMAIN")
        String td;
        @Option(names = "--url", required = true, description = "Its bundle endpoint (https://...)")
        String url;
        @Option(names = "--profile", required = true, paramLabel = "https_web|https_spiffe")
        String profile;
        @Option(names = "--spiffe-id", paramLabel = "ID", description = "https_spiffe: the endpoint server's SPIFFE ID")
        String spiffeId;
        @Option(names = "--bundle-file", paramLabel = "FILE", description = "https_spiffe: its bundle (SPIFFE format), obtained out of band")
        Path bundleFile;

        @Override
        int run(FederationAdmin admin) throws Exception {
            String bundle = null;
            if (bundleFile != null) {
                if (Files.size(bundleFile) > SpiffeJwks.MAX_BYTES) {
                    throw new IllegalArgumentException(bundleFile + " is over " + SpiffeJwks.MAX_BYTES + " bytes");
                }
                bundle = Files.readString(bundleFile, StandardCharsets.UTF_8);
            }
            FederationStore.Relation r = admin.add(td, url, profile, spiffeId, bundle);
            if (json) {
                CliSupport.json(spec, view(r));
            } else {
                CliSupport.println(spec, "federating with " + td + " (" + profile + " " + url + ")");
            }
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List federated trust domains and their last poll.")
    static final class ListAll extends DbCommand {
        @Override
        int run(FederationAdmin admin) throws Exception {
            var all = admin.list();
            if (json) {
                CliSupport.json(spec, all.stream().map(FederationCommand::view).toList());
                return 0;
            }
            PrintWriter w = spec.commandLine().getOut();
            w.printf("%-30s  %-12s  %-9s  %s%n", "TRUST DOMAIN", "PROFILE", "SEQUENCE", "LAST ERROR");
            for (FederationStore.Relation r : all) {
                w.printf("%-30s  %-12s  %-9s  %s%n", r.trustDomain(), r.profile(), r.sequence() == null ? "-" : r.sequence(),
                        CliSupport.printable(r.lastError()));
            }
            w.flush();
            return 0;
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true, description = "Stop federating with a trust domain.")
    static final class Remove extends DbCommand {
        @Parameters(paramLabel = "TRUST_DOMAIN")
        String td;

        @Override
        int run(FederationAdmin admin) throws Exception {
            admin.remove(td);
            if (json) {
                CliSupport.json(spec, Map.of("trustDomain", td, "removed", true));
            } else {
                CliSupport.println(spec, "no longer federating with " + td);
            }
            return 0;
        }
    }
}
