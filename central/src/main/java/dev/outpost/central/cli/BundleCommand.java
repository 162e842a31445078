package dev.outpost.central.cli;

import java.util.concurrent.Callable;

import dev.outpost.central.bundle.TrustDomainBundle;
import dev.outpost.central.config.CentralConfig;
import dev.outpost.central.config.Durations;
import dev.outpost.central.store.Database;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "bundle", mixinStandardHelpOptions = true, description = "The trust domain's bundle.",
        subcommands = {BundleCommand.Show.class})
final class BundleCommand {

    @Command(name = "show", mixinStandardHelpOptions = true,
            description = "Print the bundle: PEM (central's roots and the site CAs) or the SPIFFE bundle document.")
    static final class Show implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Mixin
        ConfigOption config;
        @Option(names = "--format", defaultValue = "spiffe", paramLabel = "pem|spiffe")
        String format;
        @Option(names = "--json", description = "Same as --format spiffe")
        boolean json;

        @Override
        public Integer call() throws Exception {
            if (!"pem".equals(format) && !"spiffe".equals(format)) {
                throw new IllegalArgumentException("--format must be pem or spiffe");
            }
            CentralConfig c = config.load();
            try (Database db = config.database(c)) {
                TrustDomainBundle b = new TrustDomainBundle(db, Durations.parse(c.bundleEndpoint.refreshHint).toSeconds());
                TrustDomainBundle.Snapshot s = b.snapshot();
                if ("pem".equals(format) && !json) {
                    spec.commandLine().getOut().print(TrustDomainBundle.pem(s));
                    spec.commandLine().getOut().flush();
                } else {
                    CliSupport.json(spec, b.document(s));
                }
            }
            return 0;
        }
    }
}
