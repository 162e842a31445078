package dev.outpost.central.cli;

import java.nio.file.Path;
import java.time.Clock;

import dev.outpost.central.app.Services;
import dev.outpost.central.config.CentralConfig;
import dev.outpost.central.config.ConfigLoader;
import dev.outpost.central.store.Database;
import picocli.CommandLine.Option;

/**
 * {@code --config}: the commands open the database named there directly. Central is stateless over it, so this
 * is safe next to running instances (PostgreSQL: another client; H2: AUTO_SERVER lets the CLI in).
 */
final class ConfigOption {
    @Option(names = "--config", paramLabel = "FILE", defaultValue = "/etc/outpost/central.yaml",
            description = "central.yaml (default: ${DEFAULT-VALUE})")
    Path config;

    CentralConfig load() {
        return ConfigLoader.load(config);
    }

    Services services() {
        return Services.open(load(), Clock.systemUTC());
    }

    Database database(CentralConfig c) {
        return Database.open(c.database, c.dataPath());
    }
}
