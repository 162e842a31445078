package dev.outpost.appliance.cli;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.testkit.NioBufferProbe;

/**
 * The appliance's resident memory crept at 10,000 devices: every thread that wrote a large heap buffer to a file
 * (H2 commits from the worker pool) kept a direct buffer of that size for good. With the appliance's entry point
 * loaded first, the direct memory left behind stays small; without it (the JDK's default) it is the 32 MiB.
 */
class NioBufferCacheTest {
    @Test
    void threadsKeepNoLargeDirectBuffersOnceTheApplianceEntryPointIsLoaded(@TempDir Path dir) throws Exception {
        NioBufferProbe.assertEntryPointCapsTheCache(dir, ApplianceCli.class);
    }
}
