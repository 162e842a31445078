package dev.outpost.central.cli;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.outpost.testkit.NioBufferProbe;

/** Central's entry point caps the JDK's per-thread direct buffer cache as the appliance's does (H2 commits). */
class NioBufferCacheTest {
    @Test
    void threadsKeepNoLargeDirectBuffersOnceCentralsEntryPointIsLoaded(@TempDir Path dir) throws Exception {
        NioBufferProbe.assertEntryPointCapsTheCache(dir, CentralCli.class);
    }
}
