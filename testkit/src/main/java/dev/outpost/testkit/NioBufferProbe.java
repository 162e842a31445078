package dev.outpost.testkit;

import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * How much direct memory threads keep after large heap-buffer writes to files, in a child JVM started as a launcher
 * starts a service: eight live threads each write {@link #WRITE} bytes (as H2's committing workers do), then the
 * JDK's direct buffer pool is read while they still live. An entry point that caps the JDK's per-thread buffer
 * cache ({@code jdk.nio.maxCachedBufferSize}) leaves little; the JDK's default leaves {@link #THREADS} x WRITE.
 */
public final class NioBufferProbe {
    public static final int THREADS = 8;
    public static final int WRITE = 4 << 20;

    private NioBufferProbe() {
    }

    /**
     * Fails unless loading {@code entryPoint} first keeps the direct memory left behind under one write, while the
     * JDK's default (nothing loaded) visibly keeps every thread's: the second half shows the check can fail.
     */
    public static void assertEntryPointCapsTheCache(Path dir, Class<?> entryPoint) throws IOException, InterruptedException {
        long capped = directBytesLeft(dir, entryPoint.getName());
        if (capped >= WRITE) {
            throw new AssertionError(entryPoint.getSimpleName() + " loaded: " + capped + " direct bytes left, expected < "
                    + WRITE);
        }
        long uncapped = directBytesLeft(dir, null);
        if (uncapped < (long) THREADS * WRITE) {
            throw new AssertionError("the JDK default left " + uncapped + " direct bytes, expected >= " + THREADS * WRITE
                    + ": this JVM does not show the cache the entry point caps");
        }
    }

    /** Direct bytes in use in a child JVM after the writes, with {@code entryPoint} loaded first (null: none). */
    public static long directBytesLeft(Path dir, String entryPoint) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), NioBufferProbe.class.getName(),
                dir.toString(), entryPoint == null ? "-" : entryPoint).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("probe failed: " + out);
        }
        return Long.parseLong(out.substring(out.lastIndexOf('\n') + 1).trim());
    }

    /** Child main: args dir, entry point class (or "-"); prints the direct memory in use while the writers live. */
    public static void main(String[] args) throws Exception {
        if (!args[1].equals("-")) {
            Class.forName(args[1]);
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
