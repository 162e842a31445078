package dev.outpost.appliance.cli;

import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.Callable;

import dev.outpost.appliance.config.ApplianceConfig;
import dev.outpost.appliance.store.SiteDirectory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The explicit way to start a new site in a data directory that holds remains of an old one (which {@code run}
 * refuses). A command of its own rather than a {@code run} flag: a flag left in a unit file would silently replace
 * the CA again on the next loss.
 */
@Command(name = "reset", mixinStandardHelpOptions = true,
        description = {"Start a new site: move the database and the CA in the data directory aside (into "
                + "discarded-<time>/, nothing is deleted) so the next `run` creates new ones. Every device must enroll "
                + "again. The appliance must be stopped."})
final class ResetCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--config", description = "Config file (default: /etc/outpost/appliance.yaml when it exists, else built-in defaults)")
    Path config;

    @Option(names = "--data-dir", description = "Override dataDir")
    Path dataDir;

    @Option(names = "--force", description = "Also when the site is whole (database and CA both present)")
    boolean force;

    @Override
    public Integer call() throws Exception {
        ApplianceConfig c = RunCommand.load(config, dataDir, null);
        SiteDirectory site = new SiteDirectory(c.dataDir(), c.caDir());
        if (site.isNew()) {
            CliSupport.println(spec, "nothing to reset: " + c.dataDir() + " holds no site; `run` creates one");
            return 0;
        }
        if (site.missing().isEmpty() && !force) {
            throw new IllegalStateException("the site in " + c.dataDir() + " is whole (database and CA present); "
                    + "resetting it cuts off every device. Add --force if that is what you want");
        }
        Path aside = site.discard(Instant.now());
        CliSupport.println(spec, "moved the old site's files to " + aside + "; the next `outpost-appliance run` "
                + "creates a new database and CA, and every device must enroll again");
        return 0;
    }
}
