package dev.outpost.central.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.testkit.NioBufferProbe;

/** Central's entry point caps the JDK's per-thread direct buffer cache as the appliance's does (H2 commits). */
class NioBufferCacheTest {
    @Test
    void threadsKeepNoLargeDirectBuffersOnceCentralsEntryPointIsLoaded(@TempDir Path dir) throws Exception {
        assertThat(NioBufferProbe.directBytesLeft(dir, CentralCli.class.getName())).isLessThan(NioBufferProbe.WRITE);
        assertThat(NioBufferProbe.directBytesLeft(dir, null)).as("the JDK default, which the test must be able to see")
                .isGreaterThanOrEqualTo((long) NioBufferProbe.THREADS * NioBufferProbe.WRITE);
    }
}
