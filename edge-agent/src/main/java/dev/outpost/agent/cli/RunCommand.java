package dev.outpost.agent.cli;

import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;

import dev.outpost.agent.config.AgentConfig;
import dev.outpost.agent.run.AgentDaemon;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run the agent: enroll, keep the SVID fresh, stay connected. Stops cleanly on SIGTERM.")
final class RunCommand implements Callable<Integer> {
    @Option(names = "--config", defaultValue = "/etc/outpost/agent.yaml", description = "Config file (default: ${DEFAULT-VALUE})")
    Path config;

    @Override
    public Integer call() throws Exception {
        AgentDaemon daemon = new AgentDaemon(AgentConfig.load(config), Clock.systemUTC());
        Thread main = Thread.currentThread();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            daemon.stop();
            try {
                main.join(10_000);
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        }, "outpost-agent-shutdown"));
        daemon.run();
        return 0;
    }
}
