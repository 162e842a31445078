package dev.outpost.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * Gives each {@link Swtpm} parameter of a test method its own freshly manufactured swtpm, killed after the
 * test; a failed test gets the TPM logs printed to its output. Annotate a parameter with {@link UnixSocket}
 * for the Unix socket channel.
 */
public final class SwtpmExtension implements ParameterResolver, AfterEachCallback, TestWatcher {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(SwtpmExtension.class);

    @Override
    public boolean supportsParameter(ParameterContext pc, ExtensionContext ec) {
        return pc.getParameter().getType() == Swtpm.class;
    }

    @Override
    public Object resolveParameter(ParameterContext pc, ExtensionContext ec) {
        try {
            Path dir = Files.createTempDirectory("outpost-swtpm-");
            Swtpm.Channel channel = pc.isAnnotated(UnixSocket.class) ? Swtpm.Channel.UNIX : Swtpm.Channel.TCP;
            Swtpm tpm = Swtpm.start(dir, channel);
            started(ec).add(tpm);
            return tpm;
        } catch (IOException e) {
            throw new ParameterResolutionException("cannot make a swtpm directory", e);
        }
    }

    @SuppressWarnings("unchecked")
    private static List<Swtpm> started(ExtensionContext ec) {
        return ec.getStore(NS).getOrComputeIfAbsent("tpms", k -> new ArrayList<Swtpm>(), List.class);
    }

    @Override
    public void testFailed(ExtensionContext ec, Throwable cause) {
        for (Swtpm tpm : started(ec)) {
            System.err.println("---- swtpm " + tpm.dir() + " ----\n" + tpm.log());
        }
    }

    @Override
    public void afterEach(ExtensionContext ec) {
        List<Swtpm> tpms = started(ec);
        for (Swtpm tpm : tpms) {
            tpm.close();
        }
        // Keep the directories of a failed test for a person to look at; remove the rest.
        if (ec.getExecutionException().isEmpty()) {
            tpms.forEach(t -> deleteTree(t.dir()));
        }
    }

    @Override
    public void testSuccessful(ExtensionContext ec) {
    }

    @Override
    public void testDisabled(ExtensionContext ec, Optional<String> reason) {
    }

    @Override
    public void testAborted(ExtensionContext ec, Throwable cause) {
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a leftover temp dir is harmless
        }
    }
}
