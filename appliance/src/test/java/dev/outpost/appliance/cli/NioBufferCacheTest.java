package dev.outpost.appliance.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The appliance's resident memory crept at 10,000 devices: every thread that wrote a large heap buffer to a file
 * (H2 commits from the worker pool) kept a direct buffer of that size for good. In a child JVM, as the launcher
 * starts it: eight live threads each write 4 MiB; with the appliance's entry point loaded first, the direct
 * memory left behind stays small; without it (the JDK's default) it is the 32 MiB.
 */
class NioBufferCacheTest {
    private static final int THREADS = 8;
    private static final int WRITE = 4 << 20;

    @Test
    void threadsKeepNoLargeDirectBuffersOnceTheApplianceEntryPointIsLoaded(@TempDir Path dir) throws Exception {
        assertThat(directBytesLeft(dir, true)).isLessThan(WRITE);
        assertThat(directBytesLeft(dir, false)).as("the JDK default, which the test must be able to see")
                .isGreaterThanOrEqualTo((long) THREADS * WRITE);
    }

    private static long directBytesLeft(Path dir, boolean loadAppliance) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), Probe.class.getName(),
                dir.toString(), String.valueOf(loadAppliance)).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return Long.parseLong(out.substring(out.lastIndexOf('\n') + 1).trim());
    }

    /** Child main: prints the direct memory in use while the writing threads are still alive. */
    public static final class Probe {
        public static void main(String[] args) throws Exception {
            if (Boolean.parseBoolean(args[1])) {
                Class.forName(ApplianceCli.class.getName());
            }
            CountDownLatch written = new CountDownLatch(THREADS);
            CountDownLatch release = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < THREADS; i++) {
                Path f = Path.of(args[0], "w" + i);
                Thread t = new Thread(() -> {
                    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                        ch.write(ByteBuffer.allocate(WRITE));
                        written.countDown();
                        release.await();
                    } catch (IOException | InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                });
                t.start();
                threads.add(t);
            }
            written.await();
            long direct = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                    .filter(b -> b.getName().equals("direct")).mapToLong(BufferPoolMXBean::getMemoryUsed).sum();
            release.countDown();
            for (Thread t : threads) {
                t.join();
            }
            System.out.println(direct);
        }
    }
}
