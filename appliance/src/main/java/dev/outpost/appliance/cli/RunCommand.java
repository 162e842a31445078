package dev.outpost.appliance.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;

import dev.outpost.appliance.app.ApplianceApp;
import dev.outpost.appliance.config.ApplianceConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run the appliance service until SIGTERM.")
final class RunCommand implements Callable<Integer> {
    @Option(names = "--config", description = "Config file (default: /etc/outpost/appliance.yaml when it exists, else built-in defaults)")
    Path config;

    @Option(names = "--data-dir", description = "Override dataDir")
    Path dataDir;

    @Option(names = "--runtime-dir", description = "Override runtimeDir (the admin socket lives there)")
    Path runtimeDir;

    @Override
    public Integer call() throws Exception {
        // The service reports enrollments, state changes and revocations at INFO; other commands stay at WARN.
        dev.outpost.appliance.logging.LogLevels.service();
        ApplianceConfig c = load(config, dataDir, runtimeDir);
        // The hook is in place before the start: a SIGTERM during start-up (systemd stopping a slow start) waits for
        // the start to end and then stops what it started, instead of finding no hook and leaving the store open.
        CompletableFuture<ApplianceApp> started = new CompletableFuture<>();
        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                started.join().stop();
            } catch (RuntimeException startFailed) {
                // nothing was left running
            } finally {
                done.countDown();
            }
        }, "outpost-appliance-shutdown"));
        try {
            started.complete(ApplianceApp.start(c));
        } catch (Exception e) {
            started.completeExceptionally(e);
            throw e;
        }
        done.await();
        return 0;
    }

    /** The configuration as `run` reads it, for the commands that work on the same directories. */
    static ApplianceConfig load(Path config, Path dataDir, Path runtimeDir) {
        Path file = config != null ? config : Path.of("/etc/outpost/appliance.yaml");
        ApplianceConfig c = config != null || Files.exists(file) ? ApplianceConfig.load(file) : ApplianceConfig.defaults();
        if (dataDir != null || runtimeDir != null) {
            c = c.withDirs(dataDir != null ? dataDir.toAbsolutePath() : c.dataDir(),
                    runtimeDir != null ? runtimeDir.toAbsolutePath() : c.runtimeDir());
        }
        return c;
    }
}
