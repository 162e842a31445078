package dev.outpost.central.cli;

import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

import dev.outpost.central.app.CentralApp;
import dev.outpost.central.app.Services;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "run", mixinStandardHelpOptions = true, description = "Run the central service until SIGTERM.")
final class RunCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config;

    @Override
    public Integer call() throws Exception {
        Services s = config.services();
        CentralApp app;
        try {
            app = CentralApp.start(s);
        } catch (Exception e) {
            s.close();
            throw e;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            app.close();
            stopped.countDown();
        }, "outpost-central-shutdown"));
        stopped.await();
        return 0;
    }
}
